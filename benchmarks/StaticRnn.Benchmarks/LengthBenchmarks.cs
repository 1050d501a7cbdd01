using System;
using System.Linq;
using BenchmarkDotNet.Attributes;

namespace StaticRnn.Benchmarks;

// What a batch of sequences of mixed lengths costs (PredictBatch with lengths, issue 17): 64 sequences of LSTM 16->64
// and of LSTM 64->128, each case ns per sequence:
//   full:          PredictBatch, every sequence 100 steps                       (baseline)
//   lengths, full: PredictBatch with lengths, every length 100                  (what the lengths path itself costs)
//   lengths, mixed: PredictBatch with lengths 1..100 spread evenly, 50.5 on average: 50.5% of the steps
// The mixed case should cost about its share of the steps.

[BenchmarkCategory("lstm_16_64 lengths")] public class Lstm16x64LengthBenchmarks : LengthBenchmarks<Lstm16x64Lengths> { }
[BenchmarkCategory("lstm_64_128 lengths")] public class Lstm64x128LengthBenchmarks : LengthBenchmarks<Lstm64x128Lengths> { }

public interface ILengthModel
{
    static abstract int SequenceLength { get; }
    static abstract int InputSize { get; }
    static abstract int OutputSize { get; }
    static abstract void PredictBatch(ReadOnlySpan<float> inputs, Span<float> outputs);
    static abstract void PredictBatch(ReadOnlySpan<float> inputs, ReadOnlySpan<int> lengths, Span<float> outputs);
}

public readonly struct Lstm16x64Lengths : ILengthModel
{
    public static int SequenceLength => Lstm16x64.SequenceLength;
    public static int InputSize => Lstm16x64.InputSize;
    public static int OutputSize => Lstm16x64.OutputSize;
    public static void PredictBatch(ReadOnlySpan<float> inputs, Span<float> outputs) => Lstm16x64.PredictBatch(inputs, outputs);
    public static void PredictBatch(ReadOnlySpan<float> inputs, ReadOnlySpan<int> lengths, Span<float> outputs) => Lstm16x64.PredictBatch(inputs, lengths, outputs);
}

public readonly struct Lstm64x128Lengths : ILengthModel
{
    public static int SequenceLength => Lstm64x128.SequenceLength;
    public static int InputSize => Lstm64x128.InputSize;
    public static int OutputSize => Lstm64x128.OutputSize;
    public static void PredictBatch(ReadOnlySpan<float> inputs, Span<float> outputs) => Lstm64x128.PredictBatch(inputs, outputs);
    public static void PredictBatch(ReadOnlySpan<float> inputs, ReadOnlySpan<int> lengths, Span<float> outputs) => Lstm64x128.PredictBatch(inputs, lengths, outputs);
}

public abstract class LengthBenchmarks<TModel> where TModel : struct, ILengthModel
{
    public const int Batch = 64;

    private float[] _inputs = [];
    private float[] _outputs = [];
    private int[] _full = [];
    private int[] _mixed = [];

    [GlobalSetup]
    public void Setup()
    {
        _inputs = BenchInputs.Floats(Batch * TModel.SequenceLength * TModel.InputSize, seed: 0x5EED0003u);
        _outputs = new float[Batch * TModel.OutputSize];
        _full = Enumerable.Repeat(TModel.SequenceLength, Batch).ToArray();
        // Lengths 1 .. T spread evenly, in shuffled order (the path sorts them).
        _mixed = Enumerable.Range(0, Batch).Select(i => 1 + i * (TModel.SequenceLength - 1) / (Batch - 1)).OrderBy(i => (i * 7919) % Batch).ToArray();
        Full();
        LengthsFull();
        LengthsMixed();
    }

    [Benchmark(Baseline = true, Description = "PredictBatch, all 100 steps", OperationsPerInvoke = Batch)]
    public void Full() => TModel.PredictBatch(_inputs, _outputs);

    [Benchmark(Description = "PredictBatch with lengths, all 100", OperationsPerInvoke = Batch)]
    public void LengthsFull() => TModel.PredictBatch(_inputs, _full, _outputs);

    [Benchmark(Description = "PredictBatch with lengths 1..100 (50.5% of the steps)", OperationsPerInvoke = Batch)]
    public void LengthsMixed() => TModel.PredictBatch(_inputs, _mixed, _outputs);
}
