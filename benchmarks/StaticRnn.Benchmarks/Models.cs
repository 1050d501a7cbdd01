using System;
using StaticRnn;

namespace StaticRnn.Benchmarks;

// The benchmarked networks. Weights: Models/<name>.safetensors, made by tools/make_benchmark_models.py
// together with Models/<name>.onnx (the same torch module, exported for ONNX Runtime).
// The sentiment model is declared in SentimentModel.cs (it can be left out of the build).

/// <summary>The seeds' sine experiment as a tanh RNN: 1 -> 8, T = 100, Dense(100).</summary>
[RnnModel("Models/sine_rnn.safetensors", SequenceLength = 100, InputSize = 1)]
[SimpleRnn(8, Weights = "rnn")]
[Dense(100, Weights = "fc")]
public static partial class SineRnn { }

/// <summary>The seeds' sine experiment as an LSTM: 1 -> 8, T = 100, Dense(100).</summary>
[RnnModel("Models/sine_lstm.safetensors", SequenceLength = 100, InputSize = 1)]
[Lstm(8, Weights = "rnn")]
[Dense(100, Weights = "fc")]
public static partial class SineLstm { }

/// <summary>The seeds' sine experiment as a GRU: 1 -> 8, T = 100, Dense(100).</summary>
[RnnModel("Models/sine_gru.safetensors", SequenceLength = 100, InputSize = 1)]
[Gru(8, Weights = "rnn")]
[Dense(100, Weights = "fc")]
public static partial class SineGru { }

[RnnModel("Models/lstm_16_64.safetensors", SequenceLength = 100, InputSize = 16)]
[Lstm(64, Weights = "rnn")]
[Dense(1, Weights = "fc")]
public static partial class Lstm16x64 { }

[RnnModel("Models/gru_16_64.safetensors", SequenceLength = 100, InputSize = 16)]
[Gru(64, Weights = "rnn")]
[Dense(1, Weights = "fc")]
public static partial class Gru16x64 { }

[RnnModel("Models/lstm_64_128.safetensors", SequenceLength = 100, InputSize = 64)]
[Lstm(128, Weights = "rnn")]
[Dense(1, Weights = "fc")]
public static partial class Lstm64x128 { }

[RnnModel("Models/gru_64_128.safetensors", SequenceLength = 100, InputSize = 64)]
[Gru(128, Weights = "rnn")]
[Dense(1, Weights = "fc")]
public static partial class Gru64x128 { }

/// <summary>A 2-layer character LSTM (vocabulary 65, embedding 32, hidden 128, Dense(65) logits), used one
/// <c>Step</c> at a time. SequenceLength = 1: its ONNX twin is one call of the whole model on one token.</summary>
[RnnModel("Models/char_lstm.safetensors", SequenceLength = 1)]
[Embedding(65, 32, Weights = "embedding")]
[Lstm(128, Layers = 2, Weights = "rnn")]
[Dense(65, Weights = "fc")]
public static partial class CharLstm { }

/// <summary>LSTM 1 -> 1, one step, no head: the per-call floor.</summary>
[RnnModel("Models/tiny_lstm.safetensors", SequenceLength = 1, InputSize = 1)]
[Lstm(1, Weights = "rnn")]
public static partial class TinyLstm { }

// ---------------------------------------------------------------------------------------------------
// Adapters: one struct per model, so the generic benchmark classes call the generated static methods
// directly (static abstract members on a struct type argument: specialised and inlinable, no virtual
// or delegate call between the benchmark and the model).
// ---------------------------------------------------------------------------------------------------

/// <summary>What the benchmarks need to know about a model.</summary>
public interface IBenchModel
{
    /// <summary>File name (without extension) of the .safetensors/.onnx pair in Models/.</summary>
    static abstract string FileName { get; }
    static abstract int SequenceLength { get; }
    /// <summary>Floats per time step (1 for token models).</summary>
    static abstract int InputSize { get; }
    static abstract int OutputSize { get; }
    /// <summary>Multiply-adds counted as 2 flops; see <see cref="Flops"/>.</summary>
    static abstract long FlopsPerSequence { get; }
}

public interface IFloatModel : IBenchModel
{
    static abstract void Predict(ReadOnlySpan<float> input, Span<float> output);
    static abstract void PredictBatch(ReadOnlySpan<float> inputs, Span<float> outputs);
}

public interface ITokenModel : IBenchModel
{
    static abstract int VocabularySize { get; }
    static abstract void Predict(ReadOnlySpan<int> tokens, Span<float> output);
    static abstract void PredictBatch(ReadOnlySpan<int> tokens, Span<float> outputs);
}

/// <summary>Flop counts: a multiply-add is 2 flops; activations, biases and the element-wise gate arithmetic
/// are not counted (they are O(G·H) per step against O(G·H·(in + H)) for the products).</summary>
public static class Flops
{
    /// <summary>A recurrent layer (G gates: LSTM 4, GRU 3, RNN 1) per sequence: 2·G·H·(in + H) per step and
    /// stacked layer (the layers above the first read H inputs).</summary>
    public static long Recurrent(int gates, int input, int hidden, int steps, int layers = 1)
    {
        long total = 0;
        for (var l = 0; l < layers; l++)
            total += 2L * gates * hidden * ((l == 0 ? input : hidden) + hidden) * steps;
        return total;
    }

    /// <summary>A dense head: 2·in·out.</summary>
    public static long Dense(int input, int output) => 2L * input * output;
}

public readonly struct SineRnnModel : IFloatModel
{
    public static string FileName => "sine_rnn";
    public static int SequenceLength => SineRnn.SequenceLength;
    public static int InputSize => SineRnn.InputSize;
    public static int OutputSize => SineRnn.OutputSize;
    public static long FlopsPerSequence => Flops.Recurrent(1, 1, 8, 100) + Flops.Dense(8, 100);
    public static void Predict(ReadOnlySpan<float> input, Span<float> output) => SineRnn.Predict(input, output);
    public static void PredictBatch(ReadOnlySpan<float> inputs, Span<float> outputs) => SineRnn.PredictBatch(inputs, outputs);
}

public readonly struct SineLstmModel : IFloatModel
{
    public static string FileName => "sine_lstm";
    public static int SequenceLength => SineLstm.SequenceLength;
    public static int InputSize => SineLstm.InputSize;
    public static int OutputSize => SineLstm.OutputSize;
    public static long FlopsPerSequence => Flops.Recurrent(4, 1, 8, 100) + Flops.Dense(8, 100);
    public static void Predict(ReadOnlySpan<float> input, Span<float> output) => SineLstm.Predict(input, output);
    public static void PredictBatch(ReadOnlySpan<float> inputs, Span<float> outputs) => SineLstm.PredictBatch(inputs, outputs);
}

public readonly struct SineGruModel : IFloatModel
{
    public static string FileName => "sine_gru";
    public static int SequenceLength => SineGru.SequenceLength;
    public static int InputSize => SineGru.InputSize;
    public static int OutputSize => SineGru.OutputSize;
    public static long FlopsPerSequence => Flops.Recurrent(3, 1, 8, 100) + Flops.Dense(8, 100);
    public static void Predict(ReadOnlySpan<float> input, Span<float> output) => SineGru.Predict(input, output);
    public static void PredictBatch(ReadOnlySpan<float> inputs, Span<float> outputs) => SineGru.PredictBatch(inputs, outputs);
}

public readonly struct Lstm16x64Model : IFloatModel
{
    public static string FileName => "lstm_16_64";
    public static int SequenceLength => Lstm16x64.SequenceLength;
    public static int InputSize => Lstm16x64.InputSize;
    public static int OutputSize => Lstm16x64.OutputSize;
    public static long FlopsPerSequence => Flops.Recurrent(4, 16, 64, 100) + Flops.Dense(64, 1);
    public static void Predict(ReadOnlySpan<float> input, Span<float> output) => Lstm16x64.Predict(input, output);
    public static void PredictBatch(ReadOnlySpan<float> inputs, Span<float> outputs) => Lstm16x64.PredictBatch(inputs, outputs);
}

public readonly struct Gru16x64Model : IFloatModel
{
    public static string FileName => "gru_16_64";
    public static int SequenceLength => Gru16x64.SequenceLength;
    public static int InputSize => Gru16x64.InputSize;
    public static int OutputSize => Gru16x64.OutputSize;
    public static long FlopsPerSequence => Flops.Recurrent(3, 16, 64, 100) + Flops.Dense(64, 1);
    public static void Predict(ReadOnlySpan<float> input, Span<float> output) => Gru16x64.Predict(input, output);
    public static void PredictBatch(ReadOnlySpan<float> inputs, Span<float> outputs) => Gru16x64.PredictBatch(inputs, outputs);
}

public readonly struct Lstm64x128Model : IFloatModel
{
    public static string FileName => "lstm_64_128";
    public static int SequenceLength => Lstm64x128.SequenceLength;
    public static int InputSize => Lstm64x128.InputSize;
    public static int OutputSize => Lstm64x128.OutputSize;
    public static long FlopsPerSequence => Flops.Recurrent(4, 64, 128, 100) + Flops.Dense(128, 1);
    public static void Predict(ReadOnlySpan<float> input, Span<float> output) => Lstm64x128.Predict(input, output);
    public static void PredictBatch(ReadOnlySpan<float> inputs, Span<float> outputs) => Lstm64x128.PredictBatch(inputs, outputs);
}

public readonly struct Gru64x128Model : IFloatModel
{
    public static string FileName => "gru_64_128";
    public static int SequenceLength => Gru64x128.SequenceLength;
    public static int InputSize => Gru64x128.InputSize;
    public static int OutputSize => Gru64x128.OutputSize;
    public static long FlopsPerSequence => Flops.Recurrent(3, 64, 128, 100) + Flops.Dense(128, 1);
    public static void Predict(ReadOnlySpan<float> input, Span<float> output) => Gru64x128.Predict(input, output);
    public static void PredictBatch(ReadOnlySpan<float> inputs, Span<float> outputs) => Gru64x128.PredictBatch(inputs, outputs);
}
