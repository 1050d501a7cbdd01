using System;
using BenchmarkDotNet.Attributes;

namespace StaticRnn.Benchmarks;

// One class per model; each runs four cases on the same weights and the same inputs:
//   batch 1:  StaticRnn Predict            vs  ONNX Runtime, input [1, T, in]     (baseline)
//   batch 64: StaticRnn PredictBatch of 64 vs  ONNX Runtime, input [64, T, in]    (baseline)
// Batch-64 cases count 64 operations per call (OperationsPerInvoke), so every Mean is ns per sequence.
// GlobalSetup runs all four once and throws unless StaticRnn and ONNX Runtime agree within 1e-4.
// The class category (the model's name) makes each (model, batch) pair its own group in the joined summary,
// so every StaticRnn row's Ratio is against the ONNX Runtime row of the same model and batch.

[BenchmarkCategory("sine_rnn")] public class SineRnnBenchmarks : FloatModelBenchmarks<SineRnnModel> { }
[BenchmarkCategory("sine_lstm")] public class SineLstmBenchmarks : FloatModelBenchmarks<SineLstmModel> { }
[BenchmarkCategory("sine_gru")] public class SineGruBenchmarks : FloatModelBenchmarks<SineGruModel> { }
[BenchmarkCategory("lstm_16_64")] public class Lstm16x64Benchmarks : FloatModelBenchmarks<Lstm16x64Model> { }
[BenchmarkCategory("gru_16_64")] public class Gru16x64Benchmarks : FloatModelBenchmarks<Gru16x64Model> { }
[BenchmarkCategory("lstm_64_128")] public class Lstm64x128Benchmarks : FloatModelBenchmarks<Lstm64x128Model> { }
[BenchmarkCategory("gru_64_128")] public class Gru64x128Benchmarks : FloatModelBenchmarks<Gru64x128Model> { }

/// <summary>The four cases of a model with float input.</summary>
public abstract class FloatModelBenchmarks<TModel> : IAgreementReport where TModel : struct, IFloatModel
{
    public const int Batch = 64;

    private float[] _input = [];
    private float[] _output = [];
    private float[] _inputs = [];
    private float[] _outputs = [];
    private float[] _ortOutput = [];
    private float[] _ortOutputs = [];
    private OrtModel? _ort1;
    private OrtModel? _ort64;

    /// <summary>Flops of one operation (one sequence), for the GFLOP/s column.</summary>
    public static long FlopsPerOperation => TModel.FlopsPerSequence;

    public string Model => TModel.FileName;
    public float MaxAbsDiff { get; private set; }

    [GlobalSetup]
    public void Setup()
    {
        int perSequence = TModel.SequenceLength * TModel.InputSize;
        _inputs = BenchInputs.Floats(Batch * perSequence, seed: 0x5EED0001u);
        _input = _inputs.AsSpan(0, perSequence).ToArray();
        _output = new float[TModel.OutputSize];
        _outputs = new float[Batch * TModel.OutputSize];
        _ortOutput = new float[TModel.OutputSize];
        _ortOutputs = new float[Batch * TModel.OutputSize];
        _ort1 = OrtModel.ForFloats(TModel.FileName, _input, 1, TModel.SequenceLength, TModel.InputSize, _ortOutput);
        _ort64 = OrtModel.ForFloats(TModel.FileName, _inputs, Batch, TModel.SequenceLength, TModel.InputSize, _ortOutputs);

        StaticRnn_Batch1();
        Ort_Batch1();
        StaticRnn_Batch64();
        Ort_Batch64();
        var name = TModel.FileName;
        MaxAbsDiff = MathF.Max(
            Agreement.Check(name + ", batch 1", _output, _ortOutput),
            Agreement.Check(name + ", batch 64", _outputs, _ortOutputs));
        Agreement.Check(name + ", batch 64 vs batch 1 (sequence 0)", _outputs.AsSpan(0, TModel.OutputSize), _output);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _ort1?.Dispose();
        _ort64?.Dispose();
    }

    [Benchmark(Description = "StaticRnn Predict")]
    [BenchmarkCategory("batch 1")]
    public void StaticRnn_Batch1() => TModel.Predict(_input, _output);

    [Benchmark(Baseline = true, Description = "ONNX Runtime")]
    [BenchmarkCategory("batch 1")]
    public void Ort_Batch1() => _ort1!.Run();

    [Benchmark(Description = "StaticRnn PredictBatch", OperationsPerInvoke = Batch)]
    [BenchmarkCategory("batch 64")]
    public void StaticRnn_Batch64() => TModel.PredictBatch(_inputs, _outputs);

    [Benchmark(Baseline = true, Description = "ONNX Runtime", OperationsPerInvoke = Batch)]
    [BenchmarkCategory("batch 64")]
    public void Ort_Batch64() => _ort64!.Run();
}

/// <summary>The four cases of a model with token input (int tokens for StaticRnn, int64 for ONNX).</summary>
public abstract class TokenModelBenchmarks<TModel> : IAgreementReport where TModel : struct, ITokenModel
{
    public const int Batch = 64;

    private int[] _tokens = [];
    private int[] _tokensBatch = [];
    private float[] _output = [];
    private float[] _outputs = [];
    private float[] _ortOutput = [];
    private float[] _ortOutputs = [];
    private OrtModel? _ort1;
    private OrtModel? _ort64;

    public static long FlopsPerOperation => TModel.FlopsPerSequence;

    public string Model => TModel.FileName;
    public float MaxAbsDiff { get; private set; }

    [GlobalSetup]
    public void Setup()
    {
        _tokensBatch = BenchInputs.Tokens(Batch * TModel.SequenceLength, TModel.VocabularySize, seed: 0x5EED0002u);
        _tokens = _tokensBatch.AsSpan(0, TModel.SequenceLength).ToArray();
        _output = new float[TModel.OutputSize];
        _outputs = new float[Batch * TModel.OutputSize];
        _ortOutput = new float[TModel.OutputSize];
        _ortOutputs = new float[Batch * TModel.OutputSize];
        _ort1 = OrtModel.ForTokens(TModel.FileName, BenchInputs.ToInt64(_tokens), 1, TModel.SequenceLength, _ortOutput);
        _ort64 = OrtModel.ForTokens(TModel.FileName, BenchInputs.ToInt64(_tokensBatch), Batch, TModel.SequenceLength, _ortOutputs);

        StaticRnn_Batch1();
        Ort_Batch1();
        StaticRnn_Batch64();
        Ort_Batch64();
        var name = TModel.FileName;
        MaxAbsDiff = MathF.Max(
            Agreement.Check(name + ", batch 1", _output, _ortOutput),
            Agreement.Check(name + ", batch 64", _outputs, _ortOutputs));
        Agreement.Check(name + ", batch 64 vs batch 1 (sequence 0)", _outputs.AsSpan(0, TModel.OutputSize), _output);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _ort1?.Dispose();
        _ort64?.Dispose();
    }

    [Benchmark(Description = "StaticRnn Predict")]
    [BenchmarkCategory("batch 1")]
    public void StaticRnn_Batch1() => TModel.Predict(_tokens, _output);

    [Benchmark(Baseline = true, Description = "ONNX Runtime")]
    [BenchmarkCategory("batch 1")]
    public void Ort_Batch1() => _ort1!.Run();

    [Benchmark(Description = "StaticRnn PredictBatch", OperationsPerInvoke = Batch)]
    [BenchmarkCategory("batch 64")]
    public void StaticRnn_Batch64() => TModel.PredictBatch(_tokensBatch, _outputs);

    [Benchmark(Baseline = true, Description = "ONNX Runtime", OperationsPerInvoke = Batch)]
    [BenchmarkCategory("batch 64")]
    public void Ort_Batch64() => _ort64!.Run();
}

/// <summary>What the smoke mode prints beside the timings.</summary>
public interface IAgreementReport
{
    string Model { get; }
    float MaxAbsDiff { get; }
}
