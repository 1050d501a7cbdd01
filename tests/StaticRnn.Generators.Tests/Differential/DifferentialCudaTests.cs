using System;
using System.IO;
using System.Linq;
using System.Reflection;
using StaticRnn.Cuda;
using StaticRnn.Generators.Tests.Infrastructure;
using StaticRnn.Tests.Shared;
using Xunit;

namespace StaticRnn.Generators.Tests.Differential;

/// <summary>
/// The CUDA kernels of architectures the fixtures do not reach, run on the CPU (tools/cuda-emulation) against
/// <see cref="ReferenceNetwork"/> and the CPU path: the benchmark shapes (hidden 128, where a thread's sequences
/// load 16 bytes at a time), hidden sizes above the block's 256 threads (a thread owns two or three units), a
/// reset-before GRU of that size, and layers of different widths in one kernel. Two blocks each, the second
/// partly filled; then again with a random length per sequence (the padding unreadable: NaN or an invalid token)
/// against the CPU path's PredictBatch(inputs, lengths, outputs).
/// </summary>
public class DifferentialCudaTests
{
    private const double Tolerance = 1e-5;

    private static readonly Architecture[] s_architectures =
    [
        new(4, 16, 0, 0, [new RecurrentSpec(Cell.Lstm, 128, 1, false, "Concat", false)], null),
        new(4, 16, 0, 0, [new RecurrentSpec(Cell.Gru, 128, 1, false, "Concat", false)], null),
        new(3, 5, 0, 0, [new RecurrentSpec(Cell.Gru, 300, 1, true, "Average", true, ResetAfter: false)], new DenseSpec(7, "Softmax")),
        new(3, 3, 0, 0, [new RecurrentSpec(Cell.Lstm, 260, 2, false, "Concat", false, Peephole: true, Coupled: true)], new DenseSpec(2, "Tanh")),
        new(3, 1, 50, 12, [new RecurrentSpec(Cell.Rnn, 520, 1, false, "Concat", false, Activation: "Relu")], new DenseSpec(3, "Sigmoid")),
        new(5, 4, 0, 0, [new RecurrentSpec(Cell.Lstm, 64, 2, true, "Concat", true), new RecurrentSpec(Cell.Gru, 33, 1, false, "Concat", true)], null),
    ];

    [ClangFact]
    public void Large_and_mixed_architectures_match_the_reference_on_the_emulated_kernel()
    {
        var random = new Random(7);
        var models = s_architectures.Select((a, i) => DifferentialTests.Build(random, $"Cuda{i}", a)).ToList();
        var run = GeneratorHarness.Run(
            ["namespace Differential;\n" + string.Join("\n", models.Select(m => m.Source))],
            models.Select(m => new ProjectFile(m.FileName, m.File)).ToArray());
        Assert.True(!run.Errors.Any(), string.Join("\n", run.Errors));
        using var stream = new MemoryStream();
        var emitted = run.OutputCompilation.Emit(stream);
        Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics));
        var assembly = Assembly.Load(stream.ToArray());

        foreach (var model in models)
        {
            var a = model.Architecture;
            var type = assembly.GetType("Differential." + model.Name)!;
            var kernel = (CudaKernelDefinition)type.GetProperty("CudaKernel")!.GetValue(null)!;
            var weights = (float[])type.GetMethod("CudaWeights", BindingFlags.NonPublic | BindingFlags.Static)!.Invoke(null, null)!;
            var sequences = kernel.SequencesPerBlock + 3;
            var perSequence = a.SequenceLength * (a.TakesTokens ? 1 : a.InputSize);
            var inputs = Enumerable.Range(0, sequences * perSequence)
                .Select(_ => a.TakesTokens ? random.Next(a.Vocabulary) : Math.Round(random.NextDouble() * 4 - 2, 3)).ToArray();
            byte[] bytes = a.TakesTokens
                ? System.Runtime.InteropServices.MemoryMarshal.AsBytes(inputs.Select(v => (int)v).ToArray().AsSpan()).ToArray()
                : System.Runtime.InteropServices.MemoryMarshal.AsBytes(inputs.Select(v => (float)v).ToArray().AsSpan()).ToArray();

            // A third of the largest recurrent matrix staged in shared memory: the split between rows read there and
            // rows read from global memory falls inside the large layers (the fixture tests try none and all).
            var staged = kernel.RecurrentWeightFloats / 3;
            var actual = CudaEmulator.Run(kernel, weights, sequences, bytes, sequences * a.OutputSize, a.TakesTokens, staged);

            for (var s = 0; s < sequences; s++)
            {
                var expected = ReferenceNetwork.Run(a, model.Weights, inputs.Skip(s * perSequence).Take(perSequence).ToArray());
                for (var k = 0; k < a.OutputSize; k++)
                {
                    var value = actual[s * a.OutputSize + k];
                    Assert.True(Math.Abs(value - expected[k]) <= Tolerance * Math.Max(1, Math.Abs(expected[k])),
                        $"{model.Name} ({a}), {kernel.SequencesPerBlock} sequences per block, {staged} floats staged: sequence {s}, output {k}: kernel {value:R}, reference {expected[k]:R}");
                }
            }

            // Sequences of their own lengths: several units per thread hold their state and zero their outputs too.
            var lengths = Enumerable.Range(0, sequences).Select(s => s == 0 ? a.SequenceLength : random.Next(1, a.SequenceLength + 1)).ToArray();
            var perStep = perSequence / a.SequenceLength;
            var padded = inputs.Select((v, i) => i % perSequence < lengths[i / perSequence] * perStep ? v : a.TakesTokens ? -1 : double.NaN).ToArray();
            var cpu = new float[sequences * a.OutputSize];
            byte[] paddedBytes;
            if (a.TakesTokens)
            {
                var tokens = padded.Select(v => (int)v).ToArray();
                PredictWithLengths<int>(type, tokens, lengths, cpu);
                paddedBytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(tokens.AsSpan()).ToArray();
            }
            else
            {
                var floats = padded.Select(v => (float)v).ToArray();
                PredictWithLengths<float>(type, floats, lengths, cpu);
                paddedBytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(floats.AsSpan()).ToArray();
            }
            var withLengths = CudaEmulator.Run(kernel, weights, sequences, paddedBytes, sequences * a.OutputSize, a.TakesTokens, staged, lengths);
            for (var i = 0; i < cpu.Length; i++)
            {
                Assert.True(Math.Abs(withLengths[i] - cpu[i]) <= Tolerance * Math.Max(1, Math.Abs(cpu[i])),
                    $"{model.Name} ({a}) with lengths, {staged} floats staged: sequence {i / a.OutputSize} (length {lengths[i / a.OutputSize]}), output {i % a.OutputSize}: kernel {withLengths[i]:R}, CPU path {cpu[i]:R}");
            }
        }
    }

    private delegate void LengthsMember<T>(ReadOnlySpan<T> inputs, ReadOnlySpan<int> lengths, Span<float> outputs);

    /// <summary>The compiled model's PredictBatch(inputs or tokens, lengths, outputs).</summary>
    private static void PredictWithLengths<T>(Type type, T[] inputs, int[] lengths, float[] outputs) =>
        type.GetMethod("PredictBatch", [typeof(ReadOnlySpan<T>), typeof(ReadOnlySpan<int>), typeof(Span<float>)])!
            .CreateDelegate<LengthsMember<T>>()(inputs, lengths, outputs);
}
