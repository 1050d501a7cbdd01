using System.Collections.Generic;
using System.Linq;
using StaticRnn.Generators.Parsing;

namespace StaticRnn.Generators.Model;

/// <summary>What flows between two layers: a sequence of <see cref="Width"/>-wide steps, or one vector.</summary>
internal readonly record struct Flow(bool IsSequence, int Width);

/// <summary>Where a tensor's values sit in the weight file, for tensors whose values are the file's, converted to
/// float32 and at most rearranged (weight matrices and tables; not the summed biases).</summary>
/// <param name="Conversion">The call that turns the file's array into the canonical layout, a format string around
/// it (<c>{0}</c>); null when the file's layout is canonical.</param>
internal sealed record FileSlice(long Offset, int Count, string DType, string? Conversion = null);

/// <summary>A weight array in canonical (PyTorch) layout. <see cref="Source"/> says where it came from.</summary>
internal sealed class Tensor(string name, string source, float[] values, FileSlice? slice = null)
{
    /// <summary>The values' place in the weight file, when they are the file's own.</summary>
    public FileSlice? Slice { get; } = slice;

    /// <summary>The C# member name in the generated weights class.</summary>
    public string Name { get; } = name;
    /// <summary>Human-readable provenance, e.g. "rnn.weight_ih_l0 [32, 1]". May hold any characters.</summary>
    public string Source { get; } = source;
    public float[] Values { get; } = values;
}

/// <summary>A validated network with its weights, ready to emit. Built by <see cref="NetworkBuilder"/>;
/// never part of a cached pipeline model (it holds arrays), only of the step that emits source.</summary>
internal sealed class Network(ModelSpec spec, int inputSize, int vocabularySize, IReadOnlyList<NetworkLayer> layers)
{
    public ModelSpec Spec { get; } = spec;
    public int SequenceLength => Spec.SequenceLength!.Value;
    /// <summary>Values per time step of the input: features, or 1 token.</summary>
    public int InputSize { get; } = inputSize;
    /// <summary>Token models only; 0 otherwise.</summary>
    public int VocabularySize { get; } = vocabularySize;
    public bool TakesTokens => VocabularySize > 0;
    public IReadOnlyList<NetworkLayer> Layers { get; } = layers;
    public Flow Output => Layers[Layers.Count - 1].Output;
    /// <summary>Floats one sequence produces.</summary>
    public int OutputSize => Output.IsSequence ? SequenceLength * Output.Width : Output.Width;
    /// <summary>Only unidirectional models can run one step at a time.</summary>
    public bool HasStep
    {
        get
        {
            foreach (var layer in Layers)
            {
                if (layer is RecurrentLayer { Bidirectional: true })
                    return false;
            }
            return true;
        }
    }
    /// <summary>Floats one <c>Step</c> produces.</summary>
    public int StepOutputSize => Output.Width;

    /// <summary>Token 0 masks its step (<c>[Embedding(MaskZero = true)]</c>, Keras <c>mask_zero</c>): only recurrent layers
    /// see a mask, so a model without one runs as usual.</summary>
    public bool MaskZero => TakesTokens && Spec.Layers.Count > 0 && Spec.Layers[0].MaskZero && Layers.Any(l => l is RecurrentLayer);

    /// <summary>Under <see cref="MaskZero"/>, a masked step of a per-step output repeats the last real step's output (a
    /// unidirectional top recurrent layer) rather than being the zero state's (a Bidirectional one, as Keras zeroes it).</summary>
    public bool MaskCarriesOutput => Layers.OfType<RecurrentLayer>().LastOrDefault() is { Bidirectional: false };
}

internal abstract class NetworkLayer(int number, string title, Flow input, Flow output)
{
    /// <summary>1-based position among the attributes, as users count them in messages.</summary>
    public int Number { get; } = number;
    /// <summary>The declaration in short, e.g. "Lstm(8, ReturnSequences = true)".</summary>
    public string Title { get; } = title;
    public Flow Input { get; } = input;
    public Flow Output { get; } = output;
    /// <summary>The stem of the layer's generated names (weights, shape struct): "Layer2", or a part's own name such as
    /// "AttentionQuery".</summary>
    public string Stem { get; set; } = $"Layer{number}";
}

internal sealed class EmbeddingLayer(int number, string title, Flow output, int vocabularySize, Tensor table)
    : NetworkLayer(number, title, new Flow(true, 1), output)
{
    public int VocabularySize { get; } = vocabularySize;
    /// <summary>[vocabulary, embedding] row-major.</summary>
    public Tensor Table { get; } = table;
}

internal sealed class DenseLayer(int number, string title, Flow input, Flow output, Activation activation, Tensor weight, Tensor? bias)
    : NetworkLayer(number, title, input, output)
{
    public Activation Activation { get; } = activation;
    /// <summary>[units, input] row-major (PyTorch <c>nn.Linear.weight</c>).</summary>
    public Tensor Weight { get; } = weight;
    public Tensor? Bias { get; } = bias;
}

/// <summary>A decoder's Bahdanau attention: the query projection Wa (of the decoder's h), the key projection Ua (of each
/// encoder output), and the score vector Va (<c>[1, units]</c>, its bias dropped: a softmax ignores a shift).</summary>
internal sealed class AttentionLayer(int number, string title, Flow input, Flow output, DenseLayer query, DenseLayer keys, Tensor score)
    : NetworkLayer(number, title, input, output)
{
    public DenseLayer Query { get; } = query;
    public DenseLayer Keys { get; } = keys;
    public Tensor Score { get; } = score;
    public int Units => Query.Output.Width;
}

internal sealed class DropoutLayer(int number, string title, Flow flow) : NetworkLayer(number, title, flow, flow);

/// <summary>One direction of one stacked layer: the weights of a single recurrent cell.</summary>
internal sealed class RecurrentCell(
    string name, int stackIndex, bool backward, int inputWidth, Tensor inputWeights, Tensor recurrentWeights, Tensor bias,
    Tensor? hiddenBias, Tensor? peepholes)
{
    /// <summary>Identifier stem, e.g. "Layer2_L1_Backward".</summary>
    public string Name { get; } = name;
    /// <summary>Which of the stacked layers (PyTorch's <c>_l{k}</c>).</summary>
    public int StackIndex { get; } = stackIndex;
    /// <summary>Runs from the last step to the first (PyTorch's <c>_reverse</c>).</summary>
    public bool Backward { get; } = backward;
    public int InputWidth { get; } = inputWidth;
    /// <summary>[gates * hidden, input] row-major, gate blocks in PyTorch order (LSTM i, f, g, o; GRU r, z, n).</summary>
    public Tensor InputWeights { get; } = inputWeights;
    /// <summary>[gates * hidden, hidden] row-major.</summary>
    public Tensor RecurrentWeights { get; } = recurrentWeights;
    /// <summary>[gates * hidden]: input and recurrent biases summed at build time (reset-after GRU: the candidate
    /// block holds b_in only).</summary>
    public Tensor Bias { get; } = bias;
    /// <summary>Reset-after GRU only: b_hn, which the reset gate scales together with W_hn h.</summary>
    public Tensor? HiddenBias { get; } = hiddenBias;
    /// <summary>Peephole LSTM only: [3 * hidden], the diagonal weights p_i, p_f, p_o in that order.</summary>
    public Tensor? Peepholes { get; } = peepholes;
}

/// <summary>Which form of its cell a recurrent layer computes.</summary>
/// <param name="ResetAfter">GRU: the reset gate scales W_hn h + b_hn (PyTorch, cuDNN, Keras reset_after=True);
/// otherwise it scales h before the product (Cho et al. 2014).</param>
/// <param name="Peephole">LSTM: i and f read c_{t-1}, o reads c_t.</param>
/// <param name="CoupledInputForget">LSTM: f = 1 - i.</param>
internal readonly record struct CellForm(bool ResetAfter, bool Peephole, bool CoupledInputForget);

internal sealed class RecurrentLayer(
    int number, string title, Flow input, Flow output, LayerKind cell, CellForm form, int hiddenSize, Activation activation,
    bool bidirectional, bool returnSequences, MergeMode mergeMode, IReadOnlyList<IReadOnlyList<RecurrentCell>> stack)
    : NetworkLayer(number, title, input, output)
{
    public LayerKind Cell { get; } = cell;
    public CellForm Form { get; } = form;
    public int HiddenSize { get; } = hiddenSize;
    /// <summary>SimpleRnn's state activation.</summary>
    public Activation Activation { get; } = activation;
    public bool Bidirectional { get; } = bidirectional;
    public bool ReturnSequences { get; } = returnSequences;
    public MergeMode MergeMode { get; } = mergeMode;
    /// <summary>Stack[layer][direction]: direction 0 forward, 1 backward.</summary>
    public IReadOnlyList<IReadOnlyList<RecurrentCell>> Stack { get; } = stack;
    public int Gates => GateCount(Cell);
    /// <summary>LSTM cells carry c beside h.</summary>
    public bool HasCellState => Cell == LayerKind.Lstm;

    /// <summary>The runtime's name for this layer's cell (<c>StaticRnn.Runtime.RecurrentCell</c>).</summary>
    public string KernelCell => Cell switch
    {
        LayerKind.Lstm => (Form.Peephole ? "Peephole" : "") + (Form.CoupledInputForget ? "Coupled" : "") + "Lstm",
        LayerKind.Gru => Form.ResetAfter ? "Gru" : "GruResetBefore",
        _ => "Rnn",
    };

    public static int GateCount(LayerKind cell) => cell switch { LayerKind.Lstm => 4, LayerKind.Gru => 3, _ => 1 };
}
