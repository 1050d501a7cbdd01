using System;

namespace StaticRnn;

/// <summary>How tensors in the weight file are named and laid out.</summary>
public enum WeightConvention
{
    /// <summary>PyTorch <c>state_dict</c> names and layouts (<c>weight_ih_l0</c>, gate blocks i, f, g, o).</summary>
    PyTorch,
    /// <summary>Keras weight paths and layouts (<c>lstm/lstm_cell/kernel</c>, transposed kernels).</summary>
    Keras,
    /// <summary>ONNX initializer names and layouts (<c>W</c>, <c>R</c>, <c>B</c>; gate order i, o, f, c).</summary>
    Onnx,
}

/// <summary>How a bidirectional layer combines its forward and backward outputs.</summary>
public enum MergeMode
{
    /// <summary>Forward values followed by backward values (width doubles).</summary>
    Concat,
    /// <summary>Element-wise sum.</summary>
    Sum,
    /// <summary>Element-wise product.</summary>
    Multiply,
    /// <summary>Element-wise mean.</summary>
    Average,
}

/// <summary>An element-wise (or, for <see cref="Softmax"/>, per-vector) activation.</summary>
public enum Activation
{
    /// <summary>Identity.</summary>
    None,
    /// <summary>Logistic sigmoid, 1 / (1 + e^-x).</summary>
    Sigmoid,
    /// <summary>Hyperbolic tangent.</summary>
    Tanh,
    /// <summary>max(0, x).</summary>
    Relu,
    /// <summary>Softmax over the layer's units (per time step for per-step output).</summary>
    Softmax,
    /// <summary>The log of the softmax, x - max - log(sum(exp(x - max))): PyTorch's <c>log_softmax</c>, ONNX's
    /// <c>LogSoftmax</c>, the head of classifiers trained with <c>NLLLoss</c>.</summary>
    LogSoftmax,
}

/// <summary>
/// Marks a <c>static partial class</c> as a compiled recurrent network. The layer attributes that follow it
/// on the same declaration describe the network, first layer first; the generator reads the weights from
/// <paramref name="weightsPath"/> at build time and emits <c>Predict</c>, <c>PredictBatch</c> and, for
/// unidirectional models, <c>State</c> and <c>Step</c>.
/// </summary>
/// <param name="weightsPath">The weight file, relative to the project file. It must be among the project's <c>AdditionalFiles</c>.</param>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class RnnModelAttribute(string weightsPath) : Attribute
{
    /// <summary>The weight file, relative to the project file.</summary>
    public string WeightsPath { get; } = weightsPath;

    /// <summary>Number of time steps in one sequence (required, at least 1).</summary>
    public int SequenceLength { get; set; }

    /// <summary>Features per time step (required unless the first layer is <see cref="EmbeddingAttribute"/>).</summary>
    public int InputSize { get; set; }

    /// <summary>How tensors in the weight file are named and laid out.</summary>
    public WeightConvention Convention { get; set; } = WeightConvention.PyTorch;
}

/// <summary>Maps each input token to a learned vector. Must be the first layer; the model then takes <c>int</c> tokens.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class EmbeddingAttribute(int vocabularySize, int embeddingSize) : Attribute
{
    /// <summary>Number of distinct tokens; valid tokens are 0 .. VocabularySize - 1.</summary>
    public int VocabularySize { get; } = vocabularySize;
    /// <summary>Length of each token's vector.</summary>
    public int EmbeddingSize { get; } = embeddingSize;
    /// <summary>Name prefix of this layer's tensors in the weight file; omitted, the generator picks the one group that fits.</summary>
    public string? Weights { get; set; }
    /// <summary>Token 0 is padding wherever it stands (Keras <c>Embedding(mask_zero=True)</c>): a masked step leaves every
    /// recurrent state unchanged, so pre-padded, post-padded and gapped sequences give Keras's results. See the README.</summary>
    public bool MaskZero { get; set; }
}

/// <summary>Options shared by the recurrent layers.</summary>
public abstract class RecurrentLayerAttribute(int hiddenSize) : Attribute
{
    /// <summary>Size of the hidden state of each direction.</summary>
    public int HiddenSize { get; } = hiddenSize;
    /// <summary>Name prefix of this layer's tensors in the weight file; omitted, the generator picks the one group that fits.</summary>
    public string? Weights { get; set; }
    /// <summary>Number of stacked layers (PyTorch <c>num_layers</c>; tensors <c>_l0</c> .. <c>_l{k-1}</c>).</summary>
    public int Layers { get; set; } = 1;
    /// <summary>Run a second copy of the layer over the reversed sequence (tensors with the <c>_reverse</c> suffix).</summary>
    public bool Bidirectional { get; set; }
    /// <summary><c>true</c>: hand on every time step (many-to-many); <c>false</c>: only the final state (many-to-one).</summary>
    public bool ReturnSequences { get; set; }
    /// <summary>How a bidirectional layer combines its two directions.</summary>
    public MergeMode MergeMode { get; set; } = MergeMode.Concat;
}

/// <summary>A long short-term memory layer (PyTorch <c>nn.LSTM</c>).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class LstmAttribute(int hiddenSize) : RecurrentLayerAttribute(hiddenSize)
{
    /// <summary>Gates also read the cell state through diagonal weights (Gers &amp; Schmidhuber).</summary>
    public bool Peephole { get; set; }
    /// <summary>The forget gate is <c>1 - i</c> (coupled input-forget gate).</summary>
    public bool CoupledInputForget { get; set; }
}

/// <summary>A gated recurrent unit layer (PyTorch <c>nn.GRU</c>).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class GruAttribute(int hiddenSize) : RecurrentLayerAttribute(hiddenSize)
{
    /// <summary><c>true</c> (PyTorch, cuDNN, Keras default): the reset gate scales the recurrent product;
    /// <c>false</c> (Cho et al. 2014): it scales the state before the product.</summary>
    public bool ResetAfter { get; set; } = true;
}

/// <summary>An Elman recurrent layer (PyTorch <c>nn.RNN</c>).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class SimpleRnnAttribute(int hiddenSize) : RecurrentLayerAttribute(hiddenSize)
{
    /// <summary>The state activation: <see cref="Activation.Tanh"/>, <see cref="Activation.Relu"/> or <see cref="Activation.Sigmoid"/>.</summary>
    public Activation Activation { get; set; } = Activation.Tanh;
}

/// <summary>A fully connected layer (PyTorch <c>nn.Linear</c>); after a per-step layer it is applied at every step.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class DenseAttribute(int units) : Attribute
{
    /// <summary>Number of outputs.</summary>
    public int Units { get; } = units;
    /// <summary>Name prefix of this layer's tensors in the weight file; omitted, the generator picks the one group that fits.</summary>
    public string? Weights { get; set; }
    /// <summary>Activation applied to the outputs.</summary>
    public Activation Activation { get; set; } = Activation.None;
}

/// <summary>Dropout: the identity at inference, accepted so that models read the same as their training code.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class DropoutAttribute(float rate) : Attribute
{
    /// <summary>The training-time drop rate (ignored at inference).</summary>
    public float Rate { get; } = rate;
}

/// <summary>
/// Marks a <c>static partial class</c> as the decoder of an encoder–decoder with Bahdanau attention, compiled like
/// PyTorch's translation tutorial (<c>AttnDecoderRNN</c>): at each step the query is the decoder's previous h, the
/// attention weights are a softmax over every source position, the recurrent layer reads [embedded previous token;
/// context], and dense layers give the logits. The layers on the class: <see cref="EmbeddingAttribute"/>,
/// <see cref="AttentionAttribute"/>, one <see cref="GruAttribute"/> or <see cref="LstmAttribute"/>, then
/// <see cref="DenseAttribute"/>s; optionally a <see cref="BridgeAttribute"/>. The generator emits <c>Translate</c>
/// (greedy and beam search), <c>State</c>, <c>Encode</c> and <c>DecodeStep</c>.
/// </summary>
/// <param name="weightsPath">The decoder's weight file, relative to the project file (often the encoder's file too).</param>
/// <param name="encoder">The encoder: a class marked <see cref="RnnModelAttribute"/> whose last layer is recurrent with
/// <c>ReturnSequences = true</c>. Its per-step outputs are the keys the decoder attends over.</param>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class RnnDecoderAttribute(string weightsPath, Type encoder) : Attribute
{
    /// <summary>The weight file, relative to the project file.</summary>
    public string WeightsPath { get; } = weightsPath;
    /// <summary>The encoder class.</summary>
    public Type Encoder { get; } = encoder;
    /// <summary>The most tokens one translation writes (required, at least 1).</summary>
    public int MaxLength { get; set; }
    /// <summary>The token the decoder reads first (the tutorial's SOS).</summary>
    public int StartToken { get; set; }
    /// <summary>The token that ends a translation (the tutorial's EOS); it is written, then decoding stops.</summary>
    public int EndToken { get; set; } = 1;
}

/// <summary>
/// Bahdanau (additive) attention over the encoder's outputs: <c>scores = Va(tanh(Wa(query) + Ua(keys)))</c>,
/// <c>weights = softmax(scores)</c>, <c>context = Σ weights · keys</c>. Tensors <c>{Weights}.Wa</c> [units, decoder
/// hidden], <c>{Weights}.Ua</c> [units, encoder output width] and <c>{Weights}.Va</c> [1, units], each
/// <c>.weight</c> and optionally <c>.bias</c> (PyTorch <c>nn.Linear</c>, as the tutorial's <c>BahdanauAttention</c>).
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class AttentionAttribute(int units) : Attribute
{
    /// <summary>The size of the space queries and keys are projected into.</summary>
    public int Units { get; } = units;
    /// <summary>Name prefix of the attention's tensors; omitted, the generator picks the one group with Wa, Ua and Va.</summary>
    public string? Weights { get; set; }
}

/// <summary>
/// The decoder's initial state computed from the encoder's final states, as in Bahdanau et al. (<c>s0 = tanh(W h)</c>):
/// needed when the encoder is bidirectional or its size or cell differs from the decoder's. The input is the encoder's
/// top layer's final h of each direction, forward then backward (PyTorch's <c>cat(h_n[-2], h_n[-1])</c>); an LSTM
/// decoder's initial c is computed the same way from the final c's. Tensors: <c>{Weights}.weight</c> [decoder hidden,
/// directions × encoder hidden] and <c>{Weights}.bias</c>; for an LSTM decoder also <c>{CellWeights}.weight</c> and
/// <c>.bias</c>. Without a bridge the decoder starts from the encoder's final state as it is (the tutorial): the top
/// level's h (and c, for an LSTM decoder after an LSTM encoder; a GRU or RNN decoder after an LSTM encoder takes h
/// only), which must then be one direction of the decoder's size.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class BridgeAttribute : Attribute
{
    /// <summary>Name prefix of the bridge to the initial h (an <c>nn.Linear</c>).</summary>
    public string? Weights { get; set; }
    /// <summary>Name prefix of the bridge to an LSTM decoder's initial c; omitted, <c>{Weights}_cell</c>.</summary>
    public string? CellWeights { get; set; }
    /// <summary>Applied to the bridge's outputs: <see cref="Activation.Tanh"/> (Bahdanau et al.) or <see cref="Activation.None"/>.</summary>
    public Activation Activation { get; set; } = Activation.Tanh;
}
