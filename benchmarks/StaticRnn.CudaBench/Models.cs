using System;
using System.Collections.Generic;
using StaticRnn;

namespace StaticRnn.CudaBench;

// The checked and timed networks: one layer, no head, many-to-one (the hidden state after the last step), T = 100,
// PyTorch's default initialisation. Weights and PyTorch references: Models/, made by tools/make_gpu_benchmark_models.py.

[RnnModel("Models/lstm_16_64.safetensors", SequenceLength = 100, InputSize = 16)]
[Lstm(64, Weights = "rnn")]
public static partial class Lstm16x64 { }

[RnnModel("Models/lstm_16_128.safetensors", SequenceLength = 100, InputSize = 16)]
[Lstm(128, Weights = "rnn")]
public static partial class Lstm16x128 { }

[RnnModel("Models/gru_16_64.safetensors", SequenceLength = 100, InputSize = 16)]
[Gru(64, Weights = "rnn")]
public static partial class Gru16x64 { }

[RnnModel("Models/gru_16_128.safetensors", SequenceLength = 100, InputSize = 16)]
[Gru(128, Weights = "rnn")]
public static partial class Gru16x128 { }

/// <summary>A model's CPU batch path (the generated <c>PredictBatch</c>).</summary>
public delegate void BatchFunction(ReadOnlySpan<float> inputs, Span<float> outputs);

/// <summary>What the checks and timings need to know about one generated model.</summary>
public sealed record BenchModel(
    string Name, Type Class, string Cell, int Gates, int SequenceLength, int InputSize, int Hidden, int OutputSize,
    BatchFunction PredictBatch
    , Func<StaticRnn.Cuda.CudaScorerOptions?, StaticRnn.Cuda.CudaScorer> CreateCudaScorer
    )
{
    /// <summary>Floats per input sequence.</summary>
    public int InputsPerSequence => SequenceLength * InputSize;

    /// <summary>Multiply-adds counted as 2: the gate products of every step, 2·G·H·(in + H)·T.</summary>
    public long FlopsPerSequence => 2L * Gates * Hidden * (InputSize + Hidden) * SequenceLength;

    /// <summary>Name of the embedded PyTorch reference (Models/&lt;name&gt;.reference.safetensors).</summary>
    public string ReferenceResource => $"CudaBench/{Name}.reference.safetensors";

    public static IReadOnlyList<BenchModel> All { get; } = new[]
    {
        new BenchModel("lstm_16_64", typeof(Lstm16x64), "lstm", 4, Lstm16x64.SequenceLength, Lstm16x64.InputSize, 64,
            Lstm16x64.OutputSize, Lstm16x64.PredictBatch
            , Lstm16x64.CreateCudaScorer
            ),
        new BenchModel("lstm_16_128", typeof(Lstm16x128), "lstm", 4, Lstm16x128.SequenceLength, Lstm16x128.InputSize, 128,
            Lstm16x128.OutputSize, Lstm16x128.PredictBatch
            , Lstm16x128.CreateCudaScorer
            ),
        new BenchModel("gru_16_64", typeof(Gru16x64), "gru", 3, Gru16x64.SequenceLength, Gru16x64.InputSize, 64,
            Gru16x64.OutputSize, Gru16x64.PredictBatch
            , Gru16x64.CreateCudaScorer
            ),
        new BenchModel("gru_16_128", typeof(Gru16x128), "gru", 3, Gru16x128.SequenceLength, Gru16x128.InputSize, 128,
            Gru16x128.OutputSize, Gru16x128.PredictBatch
            , Gru16x128.CreateCudaScorer
            ),
    };
}
