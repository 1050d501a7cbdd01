using System;
using BenchmarkDotNet.Attributes;

namespace StaticRnn.Benchmarks;

/// <summary>
/// One step of a 2-layer character LSTM (65 tokens, embedding 32, hidden 128, 65 logits).
/// StaticRnn: <c>Step(ref state, token, logits)</c>, the state carried from call to call as a generator would.
/// ONNX Runtime: one call of the whole model exported with T = 1 and zero initial states (its twin, with the
/// same weights). That is a zero-state step; a stateful ONNX step would also bind h/c in and out, which only
/// adds to ORT's side. The work is the same either way: both layers' products and the head, for one token.
/// </summary>
[BenchmarkCategory("char_lstm")]
public class CharLstmStepBenchmarks : IAgreementReport
{
    public const int Batch = 64;
    private const int Token = 17;

    private CharLstm.State _state;
    private readonly float[] _logits = new float[CharLstm.StepOutputSize];
    private readonly float[] _output = new float[CharLstm.OutputSize];
    private readonly float[] _ortOutput = new float[CharLstm.OutputSize];
    private int[] _tokens = [];
    private float[] _outputs = [];
    private float[] _ortOutputs = [];
    private OrtModel? _ort1;
    private OrtModel? _ort64;

    /// <summary>One step: both LSTM layers (4 gates, 32 + 128 and 128 + 128 inputs) and Dense(128 -> 65).</summary>
    public static long FlopsPerOperation => Flops.Recurrent(4, 32, 128, steps: 1, layers: 2) + Flops.Dense(128, 65);

    public string Model => "char_lstm";
    public float MaxAbsDiff { get; private set; }

    [GlobalSetup]
    public void Setup()
    {
        _tokens = BenchInputs.Tokens(Batch, CharLstm.VocabularySize, seed: 0x5EED0003u);
        _tokens[0] = Token;
        _outputs = new float[Batch * CharLstm.OutputSize];
        _ortOutputs = new float[Batch * CharLstm.OutputSize];
        _ort1 = OrtModel.ForTokens("char_lstm", [Token], 1, 1, _ortOutput);
        _ort64 = OrtModel.ForTokens("char_lstm", BenchInputs.ToInt64(_tokens), Batch, 1, _ortOutputs);

        _state = default;
        StaticRnn_Step();       // from the zero state: what the ONNX model computes
        Ort_Step();
        StaticRnn_Predict();
        StaticRnn_Batch64();
        Ort_Batch64();
        MaxAbsDiff = MathF.Max(
            Agreement.Check("char_lstm, Step from the zero state", _logits, _ortOutput),
            Agreement.Check("char_lstm, 64 one-token sequences", _outputs, _ortOutputs));
        Agreement.Check("char_lstm, Predict (T = 1)", _output, _ortOutput);
        _state = default;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _ort1?.Dispose();
        _ort64?.Dispose();
    }

    [Benchmark(Description = "StaticRnn Step")]
    [BenchmarkCategory("one step")]
    public void StaticRnn_Step() => CharLstm.Step(ref _state, Token, _logits);

    [Benchmark(Description = "StaticRnn Predict (T = 1)")]
    [BenchmarkCategory("one step")]
    public void StaticRnn_Predict() => CharLstm.Predict(_tokens.AsSpan(0, 1), _output);

    [Benchmark(Baseline = true, Description = "ONNX Runtime (T = 1)")]
    [BenchmarkCategory("one step")]
    public void Ort_Step() => _ort1!.Run();

    [Benchmark(Description = "StaticRnn PredictBatch (T = 1)", OperationsPerInvoke = Batch)]
    [BenchmarkCategory("batch 64")]
    public void StaticRnn_Batch64() => CharLstm.PredictBatch(_tokens, _outputs);

    [Benchmark(Baseline = true, Description = "ONNX Runtime (T = 1)", OperationsPerInvoke = Batch)]
    [BenchmarkCategory("batch 64")]
    public void Ort_Batch64() => _ort64!.Run();
}

/// <summary>
/// LSTM 1 -> 1, one step, no head: what a call costs when there is almost nothing to compute.
/// Issue 3's target: a one-step call of a tiny model under 100 ns.
/// </summary>
[BenchmarkCategory("tiny_lstm")]
public class TinyLstmBenchmarks : IAgreementReport
{
    private TinyLstm.State _state;
    private readonly float[] _x = [0.5f];
    private readonly float[] _y = new float[TinyLstm.StepOutputSize];
    private readonly float[] _output = new float[TinyLstm.OutputSize];
    private readonly float[] _ortOutput = new float[TinyLstm.OutputSize];
    private OrtModel? _ort;

    public static long FlopsPerOperation => Flops.Recurrent(4, 1, 1, steps: 1);

    public string Model => "tiny_lstm";
    public float MaxAbsDiff { get; private set; }

    [GlobalSetup]
    public void Setup()
    {
        _ort = OrtModel.ForFloats("tiny_lstm", _x, 1, 1, 1, _ortOutput);
        _state = default;
        StaticRnn_Step();
        StaticRnn_Predict();
        Ort_Predict();
        MaxAbsDiff = MathF.Max(
            Agreement.Check("tiny_lstm, Step from the zero state", _y, _ortOutput),
            Agreement.Check("tiny_lstm, Predict", _output, _ortOutput));
        _state = default;
    }

    [GlobalCleanup]
    public void Cleanup() => _ort?.Dispose();

    [Benchmark(Description = "StaticRnn Step")]
    [BenchmarkCategory("one step")]
    public void StaticRnn_Step() => TinyLstm.Step(ref _state, _x, _y);

    [Benchmark(Description = "StaticRnn Predict (T = 1)")]
    [BenchmarkCategory("one step")]
    public void StaticRnn_Predict() => TinyLstm.Predict(_x, _output);

    [Benchmark(Baseline = true, Description = "ONNX Runtime (T = 1)")]
    [BenchmarkCategory("one step")]
    public void Ort_Predict() => _ort!.Run();
}
