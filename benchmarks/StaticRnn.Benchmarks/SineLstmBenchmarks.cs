using System;
using BenchmarkDotNet.Attributes;
using StaticRnn;

namespace StaticRnn.Benchmarks;

/// <summary>The seeds' sine model (LSTM 1 -> 8, T = 100, Dense 100) on the trained weights of the SineWave sample.</summary>
[RnnModel("../../samples/SineWave/models/sine_lstm.safetensors", SequenceLength = 100, InputSize = 1)]
[Lstm(8, Weights = "rnn")]
[Dense(100, Weights = "fc")]
public static partial class SineLstm { }

[MemoryDiagnoser]
public class SineLstmBenchmarks
{
    private const int Batch = 64;
    private readonly float[] _input = new float[SineLstm.SequenceLength * SineLstm.InputSize];
    private readonly float[] _output = new float[SineLstm.OutputSize];
    private readonly float[] _inputs = new float[Batch * SineLstm.SequenceLength * SineLstm.InputSize];
    private readonly float[] _outputs = new float[Batch * SineLstm.OutputSize];

    [GlobalSetup]
    public void Setup()
    {
        for (var i = 0; i < _inputs.Length; i++)
            _inputs[i] = MathF.Sin(0.1f * i);
        _inputs.AsSpan(0, _input.Length).CopyTo(_input);
    }

    [Benchmark(Description = "Predict, batch 1")]
    public void Predict() => SineLstm.Predict(_input, _output);

    [Benchmark(Description = "PredictBatch, batch 64", OperationsPerInvoke = Batch)]
    public void PredictBatch() => SineLstm.PredictBatch(_inputs, _outputs);
}
