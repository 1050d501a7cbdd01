using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading.Tasks;
using StaticRnn;
using StaticRnn.Cuda;

namespace StaticRnn.CudaBench;

// The benchmark networks (checked and timed): one layer, no head, many-to-one (the hidden state after the last step),
// T = 100, PyTorch's default initialisation. Weights and PyTorch references: Models/, made by
// tools/make_gpu_benchmark_models.py.

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

// Check-only networks (`check` runs them, `bench` does not time them): small models for the kernels' other paths.
// Their declarations are the ones in tools/make_gpu_benchmark_models.py (CHECK_MODELS), which computes PyTorch's outputs.

// Token input (int32 inputs to the kernel) through an Embedding; two stacked bidirectional GRU layers (the concatenation
// between them, Sum on top), every step through scratch memory; a Dense head with a softmax per step.
[RnnModel("Models/emb_gru_bi2_sum_seq.safetensors", SequenceLength = 12)]
[Embedding(40, 8, Weights = "emb")]
[Gru(24, Weights = "rnn", Layers = 2, Bidirectional = true, ReturnSequences = true, MergeMode = MergeMode.Sum)]
[Dense(5, Weights = "fc", Activation = Activation.Softmax)]
public static partial class CheckEmbGruBi2SumSeq { }

// The same network masking token 0 (Keras's mask_zero semantics on PyTorch's weights): checked against its CPU path
// with emb_gru_bi2_sum_seq (no framework reference; the emulation tests check masking against Keras).
[RnnModel("Models/emb_gru_bi2_sum_seq.safetensors", SequenceLength = 12)]
[Embedding(40, 8, Weights = "emb", MaskZero = true)]
[Gru(24, Weights = "rnn", Layers = 2, Bidirectional = true, ReturnSequences = true, MergeMode = MergeMode.Sum)]
[Dense(5, Weights = "fc", Activation = Activation.Softmax)]
public static partial class CheckEmbGruBi2SumSeqMasked { }

// Two stacked bidirectional LSTM layers, many-to-one Concat (forward after the last step, backward after the first),
// a Dense head with a sigmoid.
[RnnModel("Models/lstm_bi2_sigmoid.safetensors", SequenceLength = 15, InputSize = 6)]
[Lstm(20, Weights = "rnn", Layers = 2, Bidirectional = true)]
[Dense(3, Weights = "fc", Activation = Activation.Sigmoid)]
public static partial class CheckLstmBi2Sigmoid { }

// A ReLU SimpleRnn of 300 units: more units than threads, so a thread owns two.
[RnnModel("Models/rnn_relu_300.safetensors", SequenceLength = 10, InputSize = 4)]
[SimpleRnn(300, Weights = "rnn", Activation = Activation.Relu)]
[Dense(2, Weights = "fc")]
public static partial class CheckRnnRelu300 { }

// A bidirectional GRU, every step merged by Average, no head: the merge writes the outputs.
[RnnModel("Models/gru_bi_avg_seq.safetensors", SequenceLength = 9, InputSize = 5)]
[Gru(33, Weights = "rnn", Bidirectional = true, ReturnSequences = true, MergeMode = MergeMode.Average)]
public static partial class CheckGruBiAvgSeq { }

// A reset-before GRU (PyTorch has none: its reference is explicit float64 torch ops), bidirectional many-to-one merged
// by Multiply, a Dense head with a tanh.
[RnnModel("Models/gru_rb_bi_mul.safetensors", SequenceLength = 11, InputSize = 7)]
[Gru(40, Weights = "rnn", Bidirectional = true, MergeMode = MergeMode.Multiply, ResetAfter = false)]
[Dense(3, Weights = "fc", Activation = Activation.Tanh)]
public static partial class CheckGruRbBiMul { }

/// <summary>A model's CPU batch path (the generated <c>PredictBatch</c>).</summary>
public delegate void BatchFunction(ReadOnlySpan<float> inputs, Span<float> outputs);

/// <summary>A model's CPU batch path for sequences of their own lengths (<c>PredictBatch(inputs, lengths, outputs)</c>).</summary>
public delegate void LengthsBatchFunction(ReadOnlySpan<float> inputs, ReadOnlySpan<int> lengths, Span<float> outputs);

/// <summary>A model that masks token 0, checked beside the one it shares its weights with: its CPU path (with lengths)
/// and its CUDA scorer.</summary>
public sealed record MaskedModel(string Name, LengthsBatchFunction PredictBatch, Func<CudaScorerOptions?, CudaScorer> CreateCudaScorer);

/// <summary>What the checks and timings need to know about one generated model.</summary>
/// <remarks>A token model's inputs travel through this program as float arrays holding the token ids' bit patterns
/// (as <see cref="CudaScorer"/> carries them itself): <see cref="PredictBatch"/>, <see cref="Score"/>,
/// <see cref="ScoreAsync"/> and <see cref="Upload"/> hand them on as ints.</remarks>
public sealed record BenchModel(
    string Name, Type Class, string Cell, int Gates, int SequenceLength, int InputSize, int Hidden, int OutputSize,
    BatchFunction PredictBatch
    , Func<CudaScorerOptions?, CudaScorer> CreateCudaScorer
    )
{
    /// <summary>Valid token ids are 0 .. VocabularySize - 1; 0 for a model that takes floats.</summary>
    public int VocabularySize { get; init; }

    /// <summary>Whether the model takes int tokens (an Embedding first).</summary>
    public bool TakesTokens => VocabularySize > 0;

    /// <summary>The CPU path for sequences of their own lengths.</summary>
    public required LengthsBatchFunction PredictBatchLengths { get; init; }

    /// <summary>The same network masking token 0, checked with this one; null for most models.</summary>
    public MaskedModel? Masked { get; init; }

    /// <summary>Checked by <c>check</c> but not timed by <c>bench</c>.</summary>
    public bool CheckOnly { get; init; }

    /// <summary>The layers, for the check's output.</summary>
    public string? Layers { get; init; }

    public string Description => Layers ?? $"{Cell.ToUpperInvariant()} {InputSize} -> {Hidden}";

    /// <summary>Values per input sequence: floats, or tokens (one per step).</summary>
    public int InputsPerSequence => SequenceLength * InputSize;

    /// <summary>Multiply-adds counted as 2: the gate products of every step, 2·G·H·(in + H)·T (one-layer benchmark models).</summary>
    public long FlopsPerSequence => 2L * Gates * Hidden * (InputSize + Hidden) * SequenceLength;

    /// <summary>Name of the embedded PyTorch reference (Models/&lt;name&gt;.reference.safetensors).</summary>
    public string ReferenceResource => $"CudaBench/{Name}.reference.safetensors";

    /// <summary><see cref="CudaScorer.Score(ReadOnlySpan{float}, Span{float})"/>, or its token overload.</summary>
    public void Score(CudaScorer scorer, ReadOnlySpan<float> inputs, Span<float> outputs)
    {
        if (TakesTokens) scorer.Score(MemoryMarshal.Cast<float, int>(inputs), outputs);
        else scorer.Score(inputs, outputs);
    }

    /// <summary><see cref="CudaScorer.ScoreAsync(ReadOnlyMemory{float}, Memory{float}, System.Threading.CancellationToken)"/>,
    /// or its token overload (on a copy of the tokens as an int array).</summary>
    public Task ScoreAsync(CudaScorer scorer, ReadOnlyMemory<float> inputs, Memory<float> outputs) =>
        TakesTokens
            ? scorer.ScoreAsync(MemoryMarshal.Cast<float, int>(inputs.Span).ToArray(), outputs)
            : scorer.ScoreAsync(inputs, outputs);

    /// <summary><see cref="CudaBatch.Upload(ReadOnlySpan{float})"/>, or its token overload.</summary>
    public void Upload(CudaBatch batch, ReadOnlySpan<float> inputs)
    {
        if (TakesTokens) batch.Upload(MemoryMarshal.Cast<float, int>(inputs));
        else batch.Upload(inputs);
    }

    /// <summary><see cref="CudaScorer.Score(ReadOnlySpan{float}, ReadOnlySpan{int}, Span{float})"/>, or its token overload.</summary>
    public void Score(CudaScorer scorer, ReadOnlySpan<float> inputs, ReadOnlySpan<int> lengths, Span<float> outputs)
    {
        if (TakesTokens) scorer.Score(MemoryMarshal.Cast<float, int>(inputs), lengths, outputs);
        else scorer.Score(inputs, lengths, outputs);
    }

    /// <summary>The ScoreAsync overload with lengths, for floats or tokens (on a copy of the tokens as an int array).</summary>
    public Task ScoreAsync(CudaScorer scorer, ReadOnlyMemory<float> inputs, ReadOnlyMemory<int> lengths, Memory<float> outputs) =>
        TakesTokens
            ? scorer.ScoreAsync(MemoryMarshal.Cast<float, int>(inputs.Span).ToArray(), lengths, outputs)
            : scorer.ScoreAsync(inputs, lengths, outputs);

    /// <summary><see cref="CudaBatch.Upload(ReadOnlySpan{float}, ReadOnlySpan{int})"/>, or its token overload.</summary>
    public void Upload(CudaBatch batch, ReadOnlySpan<float> inputs, ReadOnlySpan<int> lengths)
    {
        if (TakesTokens) batch.Upload(MemoryMarshal.Cast<float, int>(inputs), lengths);
        else batch.Upload(inputs, lengths);
    }

    /// <summary>The four benchmark models: checked and timed.</summary>
    public static IReadOnlyList<BenchModel> Benchmarks { get; } = new[]
    {
        new BenchModel("lstm_16_64", typeof(Lstm16x64), "lstm", 4, Lstm16x64.SequenceLength, Lstm16x64.InputSize, 64,
            Lstm16x64.OutputSize, Lstm16x64.PredictBatch
            , Lstm16x64.CreateCudaScorer
            ) { PredictBatchLengths = Lstm16x64.PredictBatch },
        new BenchModel("lstm_16_128", typeof(Lstm16x128), "lstm", 4, Lstm16x128.SequenceLength, Lstm16x128.InputSize, 128,
            Lstm16x128.OutputSize, Lstm16x128.PredictBatch
            , Lstm16x128.CreateCudaScorer
            ) { PredictBatchLengths = Lstm16x128.PredictBatch },
        new BenchModel("gru_16_64", typeof(Gru16x64), "gru", 3, Gru16x64.SequenceLength, Gru16x64.InputSize, 64,
            Gru16x64.OutputSize, Gru16x64.PredictBatch
            , Gru16x64.CreateCudaScorer
            ) { PredictBatchLengths = Gru16x64.PredictBatch },
        new BenchModel("gru_16_128", typeof(Gru16x128), "gru", 3, Gru16x128.SequenceLength, Gru16x128.InputSize, 128,
            Gru16x128.OutputSize, Gru16x128.PredictBatch
            , Gru16x128.CreateCudaScorer
            ) { PredictBatchLengths = Gru16x128.PredictBatch },
    };

    /// <summary>The check-only models.</summary>
    public static IReadOnlyList<BenchModel> CheckOnlyModels { get; } = new[]
    {
        new BenchModel("emb_gru_bi2_sum_seq", typeof(CheckEmbGruBi2SumSeq), "gru", 3, CheckEmbGruBi2SumSeq.SequenceLength,
            CheckEmbGruBi2SumSeq.InputSize, 24, CheckEmbGruBi2SumSeq.OutputSize,
            (inputs, outputs) => CheckEmbGruBi2SumSeq.PredictBatch(MemoryMarshal.Cast<float, int>(inputs), outputs),
            CheckEmbGruBi2SumSeq.CreateCudaScorer)
        {
            PredictBatchLengths = (inputs, lengths, outputs) => CheckEmbGruBi2SumSeq.PredictBatch(MemoryMarshal.Cast<float, int>(inputs), lengths, outputs),
            Masked = new MaskedModel("emb_gru_bi2_sum_seq, MaskZero",
                (inputs, lengths, outputs) => CheckEmbGruBi2SumSeqMasked.PredictBatch(MemoryMarshal.Cast<float, int>(inputs), lengths, outputs),
                CheckEmbGruBi2SumSeqMasked.CreateCudaScorer),
            VocabularySize = CheckEmbGruBi2SumSeq.VocabularySize, CheckOnly = true,
            Layers = "tokens -> Embedding(40, 8) -> GRU 24, 2 layers, bidirectional, Sum, every step -> Dense(5, softmax)",
        },
        new BenchModel("lstm_bi2_sigmoid", typeof(CheckLstmBi2Sigmoid), "lstm", 4, CheckLstmBi2Sigmoid.SequenceLength,
            CheckLstmBi2Sigmoid.InputSize, 20, CheckLstmBi2Sigmoid.OutputSize, CheckLstmBi2Sigmoid.PredictBatch,
            CheckLstmBi2Sigmoid.CreateCudaScorer)
        {
            PredictBatchLengths = CheckLstmBi2Sigmoid.PredictBatch, CheckOnly = true, Layers = "LSTM 6 -> 20, 2 layers, bidirectional, Concat, many-to-one -> Dense(3, sigmoid)",
        },
        new BenchModel("rnn_relu_300", typeof(CheckRnnRelu300), "rnn", 1, CheckRnnRelu300.SequenceLength,
            CheckRnnRelu300.InputSize, 300, CheckRnnRelu300.OutputSize, CheckRnnRelu300.PredictBatch,
            CheckRnnRelu300.CreateCudaScorer)
        {
            PredictBatchLengths = CheckRnnRelu300.PredictBatch, CheckOnly = true, Layers = "SimpleRnn 4 -> 300, ReLU, many-to-one -> Dense(2)",
        },
        new BenchModel("gru_bi_avg_seq", typeof(CheckGruBiAvgSeq), "gru", 3, CheckGruBiAvgSeq.SequenceLength,
            CheckGruBiAvgSeq.InputSize, 33, CheckGruBiAvgSeq.OutputSize, CheckGruBiAvgSeq.PredictBatch,
            CheckGruBiAvgSeq.CreateCudaScorer)
        {
            PredictBatchLengths = CheckGruBiAvgSeq.PredictBatch, CheckOnly = true, Layers = "GRU 5 -> 33, bidirectional, Average, every step, no head",
        },
        new BenchModel("gru_rb_bi_mul", typeof(CheckGruRbBiMul), "gru", 3, CheckGruRbBiMul.SequenceLength,
            CheckGruRbBiMul.InputSize, 40, CheckGruRbBiMul.OutputSize, CheckGruRbBiMul.PredictBatch,
            CheckGruRbBiMul.CreateCudaScorer)
        {
            PredictBatchLengths = CheckGruRbBiMul.PredictBatch, CheckOnly = true, Layers = "GRU 7 -> 40, reset-before, bidirectional, Multiply, many-to-one -> Dense(3, tanh)",
        },
    };

    /// <summary>Every model: what <c>check</c> runs.</summary>
    public static IReadOnlyList<BenchModel> All { get; } = Benchmarks.Concat(CheckOnlyModels).ToArray();
}
