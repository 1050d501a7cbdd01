using System;
using BenchmarkDotNet.Attributes;

namespace StaticRnn.Benchmarks;

/// <summary>
/// Do denormal floats slow a call down? x86 handles some operations on denormals in microcode, and .NET does not
/// flush them to zero. Each pair runs the same model on the same shapes: ordinary inputs against inputs that are
/// all ±1e-40 (a float32 denormal), and one <c>Step</c> from an ordinary state against one from a state whose h
/// and c are all denormal (restored from saved floats before every step, in both cases). Issue 6 asks for at most
/// 2× slower; the ratio column says how much.
/// </summary>
[BenchmarkCategory("denormals")]
public class DenormalBenchmarks
{
    private const float Denormal = 1e-40f;

    private float[] _input = [];
    private float[] _denormalInput = [];
    private readonly float[] _output = new float[Lstm16x64.OutputSize];
    private readonly float[] _gruOutput = new float[Gru16x64.OutputSize];
    private readonly float[] _stepOutput = new float[Lstm16x64.StepOutputSize];
    private readonly float[] _ordinaryState = new float[Lstm16x64.State.Size];
    private readonly float[] _denormalState = new float[Lstm16x64.State.Size];
    private Lstm16x64.State _state;

    [GlobalSetup]
    public void Setup()
    {
        _input = BenchInputs.Floats(Lstm16x64.SequenceLength * Lstm16x64.InputSize, seed: 0x5EED0010u);
        _denormalInput = new float[_input.Length];
        for (var i = 0; i < _input.Length; i++)
            _denormalInput[i] = i % 2 == 0 ? Denormal : -Denormal;
        if (!float.IsSubnormal(_denormalInput[0]))
            throw new InvalidOperationException("1e-40f is not subnormal here");

        // An ordinary state: where the LSTM is after half the input. A denormal one: every float ±1e-40.
        var state = default(Lstm16x64.State);
        for (var t = 0; t < Lstm16x64.SequenceLength / 2; t++)
            Lstm16x64.Step(ref state, _input.AsSpan(t * Lstm16x64.InputSize, Lstm16x64.InputSize), _stepOutput);
        state.CopyTo(_ordinaryState);
        for (var i = 0; i < _denormalState.Length; i++)
            _denormalState[i] = i % 2 == 0 ? Denormal : -Denormal;
    }

    [Benchmark(Baseline = true, Description = "LSTM 16-64 Predict, ordinary input")]
    [BenchmarkCategory("lstm Predict")]
    public void Lstm_Ordinary() => Lstm16x64.Predict(_input, _output);

    [Benchmark(Description = "LSTM 16-64 Predict, denormal input")]
    [BenchmarkCategory("lstm Predict")]
    public void Lstm_Denormal() => Lstm16x64.Predict(_denormalInput, _output);

    [Benchmark(Baseline = true, Description = "GRU 16-64 Predict, ordinary input")]
    [BenchmarkCategory("gru Predict")]
    public void Gru_Ordinary() => Gru16x64.Predict(_input, _gruOutput);

    [Benchmark(Description = "GRU 16-64 Predict, denormal input")]
    [BenchmarkCategory("gru Predict")]
    public void Gru_Denormal() => Gru16x64.Predict(_denormalInput, _gruOutput);

    [Benchmark(Baseline = true, Description = "LSTM 16-64 Step, ordinary state")]
    [BenchmarkCategory("lstm Step")]
    public void Step_Ordinary()
    {
        _state = Lstm16x64.State.From(_ordinaryState);
        Lstm16x64.Step(ref _state, _input.AsSpan(0, Lstm16x64.InputSize), _stepOutput);
    }

    [Benchmark(Description = "LSTM 16-64 Step, denormal state and input")]
    [BenchmarkCategory("lstm Step")]
    public void Step_Denormal()
    {
        _state = Lstm16x64.State.From(_denormalState);
        Lstm16x64.Step(ref _state, _denormalInput.AsSpan(0, Lstm16x64.InputSize), _stepOutput);
    }
}
