using System.Collections.Generic;
using System.Linq;
using StaticRnn.Generators.Parsing;

namespace StaticRnn.Generators.Model;

/// <summary>
/// A validated encoder–decoder, ready to emit: the encoder's network (compiled as its own class; the decoder calls it),
/// and the decoder's layers bound to their weights. <see cref="Network"/> holds every decoder layer, so that the weights
/// and the layers' shape structs are written by the same code as any model's.
/// </summary>
internal sealed class Decoder(
    DecoderSpec spec, Network encoder, RecurrentLayer encoderTop, Network network, EmbeddingLayer embedding, AttentionLayer attention,
    RecurrentLayer recurrent, IReadOnlyList<DenseLayer> head, DenseLayer? bridge, DenseLayer? bridgeCell)
{
    public DecoderSpec Spec { get; } = spec;
    public Network Encoder { get; } = encoder;
    /// <summary>The encoder's last layer: its per-step outputs are the keys, its final state the decoder's start.</summary>
    public RecurrentLayer EncoderTop { get; } = encoderTop;
    public Network Network { get; } = network;
    public EmbeddingLayer Embedding { get; } = embedding;
    public AttentionLayer Attention { get; } = attention;
    public RecurrentLayer Recurrent { get; } = recurrent;
    /// <summary>The dense layers after the recurrent one; the last gives the logits.</summary>
    public IReadOnlyList<DenseLayer> Head { get; } = head;
    /// <summary>The initial h from the encoder's final h's; null when the decoder starts from the encoder's state as it is.</summary>
    public DenseLayer? Bridge { get; } = bridge;
    /// <summary>An LSTM decoder's initial c from the encoder's final c's.</summary>
    public DenseLayer? BridgeCell { get; } = bridgeCell;

    public int SourceLength => Encoder.SequenceLength;
    public int KeyWidth => EncoderTop.Output.Width;
    public int VocabularySize => Head[Head.Count - 1].Output.Width;
    public int MaxLength => Spec.MaxLength!.Value;

    /// <summary>The encoder class as generated code names it: <c>global::Namespace.Outer.Encoder</c>.</summary>
    public string EncoderType => "global::" + string.Join(".",
        new[] { Encoder.Spec.Namespace }.Concat(Encoder.Spec.ContainingTypes.Select(t => t.Name)).Append(Encoder.Spec.ClassName).Where(p => p is not null));
}
