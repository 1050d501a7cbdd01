using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using StaticRnn.Tests.Fixtures;
using StaticRnn.Tests.Shared;
using Xunit;

namespace StaticRnn.Tests.Cuda;

/// <summary>
/// Every fixture model's CUDA kernel, compiled as C++ with clang and run on the CPU (tools/cuda-emulation: each
/// block's threads are real threads, <c>__syncthreads</c> a barrier, shared memory and scratch start as NaN).
/// The outputs must match PyTorch's (or Keras's) on the fixture's sequences and the CPU path's on random ones, across
/// two blocks (the second one partly filled), with none, some and all of the recurrent weights staged in shared memory;
/// full-length sequences, sequences of their own lengths (PyTorch's packed sequences) and Keras's masked tokens.
/// This checks the kernel's arithmetic, indexing and barriers without a
/// GPU; the GPU itself is checked by tools/gpu_check.sh.
/// </summary>
public class CudaEmulationTests
{
    private const double Tolerance = 1e-5;

    /// <summary>Every fixture, and models compiled from ONNX graphs: a log-softmax head on a stacked bidirectional GRU, an
    /// embedding before a bidirectional GRU, dense layers after a stacked LSTM, a Relu RNN, an ONNX peephole LSTM.</summary>
    public static IEnumerable<object[]> Models => FixtureCatalog.All.Select(m => m.Name)
        .Concat(["gru_bi_2l_seq_logsoftmax_op14", "emb_gru_bi_op12", "lstm_2l_dense_op15", "rnn_relu_2l_seq_op12", "node_test_lstm_with_peepholes"])
        .Select(name => new object[] { name });

    /// <summary>PyTorch's packed-sequence fixtures (tests/StaticRnn.Tests/Fixtures/Lengths) and the ONNX graph whose
    /// LSTM reads sequence_lens (Fixtures/OnnxLengths).</summary>
    public static IEnumerable<object[]> PackedModels => LengthFixtureTests.Packed.Append(["lstm_bi_seqlens"]);

    [ClangTheory]
    [MemberData(nameof(Models))]
    public void Kernel_matches_PyTorch_and_the_CPU_path(string name)
    {
        var kernel = FixtureBatch.Kernel(name);
        // The fixture's sequences, then random ones up to one block and a bit: two blocks, the second partly filled.
        var batch = FixtureBatch.Make(name, kernel.SequencesPerBlock + 1);
        AssertKernel(name, batch.Inputs, batch.Tokens, lengths: null, batch.Reference.Expected, "PyTorch", batch.Expected);
    }

    /// <summary>The same batch with a random length for each sequence (1 and the full length among them), the padding
    /// after each NaN or an invalid token: the kernel must never read it.</summary>
    [ClangTheory]
    [MemberData(nameof(Models))]
    public void Kernel_with_lengths_matches_the_CPU_path(string name)
    {
        var kernel = FixtureBatch.Kernel(name);
        var batch = FixtureBatch.Make(name, kernel.SequencesPerBlock + 1);
        var lengths = RandomLengths(name, batch.Sequences, kernel.SequenceLength);
        var (inputs, tokens) = Padded(batch.Inputs, batch.Tokens, lengths, kernel.SequenceLength);
        AssertKernel(name, inputs, tokens, lengths, [], "", PredictOnCpu(name, inputs, tokens, lengths, batch.Model.OutputSize));
    }

    /// <summary>PyTorch's pack_padded_sequence fixtures with their lengths, then random sequences of random lengths.</summary>
    [ClangTheory]
    [MemberData(nameof(PackedModels))]
    public void Kernel_with_lengths_matches_PyTorch_packed_sequences(string name)
    {
        var (reference, fixtureLengths) = LoadPacked(name);
        var kernel = FixtureBatch.Kernel(name);
        int steps = kernel.SequenceLength, random = kernel.SequencesPerBlock + 1, sequences = reference.Count + random;
        var lengths = fixtureLengths.Concat(RandomLengths(name, random, steps)).ToArray();
        var generator = new Random(name.GetHashCode(StringComparison.Ordinal));
        float[]? inputs = null;
        int[]? tokens = null;
        if (kernel.TakesTokens)
            tokens = reference.Tokens!.SelectMany(x => x).Concat(Enumerable.Range(0, random * steps).Select(_ => generator.Next(kernel.VocabularySize))).ToArray();
        else
            inputs = reference.Inputs!.SelectMany(x => x).Concat(Enumerable.Range(0, random * steps * kernel.InputSize).Select(_ => (float)(generator.NextDouble() * 4 - 2))).ToArray();
        (inputs, tokens) = Padded(inputs, tokens, lengths, steps);
        AssertKernel(name, inputs, tokens, lengths, reference.Expected, "PyTorch", PredictOnCpu(name, inputs, tokens, lengths, kernel.OutputSize));
        Assert.Equal(sequences, lengths.Length);
    }

    /// <summary>Keras's mask_zero fixtures (pre-, post- and middle padding, a sequence all but one masked), then random
    /// sequences with zeros anywhere, some all zeros; once without lengths, and once with random lengths for the
    /// random sequences (the fixture's run whole, so Keras's outputs still hold), padded with zeros.</summary>
    [ClangTheory]
    [MemberData(nameof(LengthFixtureTests.Masked), MemberType = typeof(LengthFixtureTests))]
    public void Masked_kernel_matches_Keras_and_the_CPU_path(string name)
    {
        var reference = LengthReference.Load(name).Data;
        var kernel = FixtureBatch.Kernel(name);
        int steps = kernel.SequenceLength, random = kernel.SequencesPerBlock + 1, sequences = reference.Count + random;
        var generator = new Random(name.GetHashCode(StringComparison.Ordinal));
        var tokens = reference.Tokens!.SelectMany(x => x).Concat(Enumerable.Range(0, random * steps).Select(i =>
            i / steps % 7 == 3 || generator.Next(3) == 0 ? 0 : 1 + generator.Next(kernel.VocabularySize - 1))).ToArray();
        var full = Enumerable.Repeat(steps, sequences).ToArray();
        AssertKernel(name, null, tokens, lengths: null, reference.Expected, "Keras", PredictOnCpu(name, null, tokens, full, kernel.OutputSize));

        var lengths = full.Take(reference.Count).Concat(RandomLengths(name, random, steps)).ToArray();
        for (var s = 0; s < sequences; s++)
            Array.Clear(tokens, s * steps + lengths[s], steps - lengths[s]);
        AssertKernel(name, null, tokens, lengths, reference.Expected, "Keras", PredictOnCpu(name, null, tokens, lengths, kernel.OutputSize));
    }

    /// <summary>
    /// Runs the kernel on the batch (<paramref name="inputs"/> or <paramref name="tokens"/>, of
    /// <paramref name="lengths"/> or full length) with none, half and all of the recurrent weights staged, and checks
    /// that no output is NaN, that the first sequences' outputs are the framework's (<paramref name="framework"/>, one
    /// row per sequence), that every output is the CPU path's (<paramref name="cpu"/>), and that staging changes no bit.
    /// </summary>
    private static void AssertKernel(string name, float[]? inputs, int[]? tokens, int[]? lengths, IReadOnlyList<double[]> framework,
        string frameworkName, float[] cpu)
    {
        var kernel = FixtureBatch.Kernel(name);
        var sequences = tokens?.Length / kernel.InputsPerSequence ?? inputs!.Length / kernel.InputsPerSequence;
        var outputSize = kernel.OutputSize;
        var inputBytes = tokens is not null ? Bytes(tokens) : Bytes(inputs!);
        string Sequence(int s) => lengths is null ? $"sequence {s}" : $"sequence {s} (length {lengths[s]} of {kernel.SequenceLength})";

        // Recurrent weights read from global memory only, half of the largest layer's rows staged in shared memory
        // (smaller layers may fit whole), and all of them: the same sums in the same order, so the same bits.
        float[]? unstaged = null;
        foreach (var staged in new[] { 0, kernel.RecurrentWeightFloats / 2, kernel.RecurrentWeightFloats }.Distinct())
        {
            var actual = CudaEmulator.Run(kernel, FixtureBatch.Weights(name), sequences, inputBytes, sequences * outputSize, kernel.TakesTokens, staged, lengths);
            var run = $"{name} (staged {staged} of {kernel.RecurrentWeightFloats} floats{(lengths is null ? "" : ", with lengths")})";

            for (var i = 0; i < actual.Length; i++)
                Assert.False(float.IsNaN(actual[i]), $"{run}: output {i} ({Sequence(i / outputSize)}) is NaN: never written, or computed from memory nothing wrote");
            for (var s = 0; s < framework.Count; s++)
            {
                for (var k = 0; k < outputSize; k++)
                {
                    var error = Math.Abs(actual[s * outputSize + k] - framework[s][k]);
                    Assert.True(error <= Tolerance, $"{run}, {Sequence(s)}, output {k}: kernel {actual[s * outputSize + k]}, {frameworkName} {framework[s][k]} (|error| {error:E2})");
                }
            }
            for (var i = 0; i < actual.Length; i++)
            {
                var error = Math.Abs(actual[i] - cpu[i]);
                Assert.True(error <= Tolerance, $"{run}, {Sequence(i / outputSize)}, output {i % outputSize}: kernel {actual[i]}, CPU path {cpu[i]} (|error| {error:E2})");
            }
            unstaged ??= actual;
            for (var i = 0; i < actual.Length; i++)
                Assert.True(actual[i].Equals(unstaged[i]), $"{run}, output {i}: {actual[i]:R} staged, {unstaged[i]:R} from global memory");
        }
    }

    /// <summary>A length for each sequence: the first two 1 and <paramref name="steps"/>, the others shorter than
    /// <paramref name="steps"/>, so that the last block's sequences all end early (a block runs only its longest one's steps).</summary>
    private static int[] RandomLengths(string name, int count, int steps)
    {
        var random = new Random(name.GetHashCode(StringComparison.Ordinal) ^ 17);
        return Enumerable.Range(0, count).Select(i => i == 0 ? 1 : i == 1 ? steps : random.Next(1, Math.Max(2, steps))).ToArray();
    }

    /// <summary>Copies with every step past a sequence's length made unreadable: NaN features, or tokens outside any vocabulary.</summary>
    private static (float[]? Inputs, int[]? Tokens) Padded(float[]? inputs, int[]? tokens, int[] lengths, int steps)
    {
        var perStep = inputs is null ? 1 : inputs.Length / (lengths.Length * steps);
        var poisonedInputs = inputs?.ToArray();
        var poisonedTokens = tokens?.ToArray();
        for (var s = 0; s < lengths.Length; s++)
        {
            for (var i = (s * steps + lengths[s]) * perStep; i < (s + 1) * steps * perStep; i++)
            {
                if (poisonedInputs is not null)
                    poisonedInputs[i] = float.NaN;
                if (poisonedTokens is not null)
                    poisonedTokens[i] = -1;
            }
        }
        return (poisonedInputs, poisonedTokens);
    }

    /// <summary>The CPU path's <c>PredictBatch(inputs or tokens, lengths, outputs)</c> of the fixture's model.</summary>
    private static float[] PredictOnCpu(string name, float[]? inputs, int[]? tokens, int[] lengths, int outputSize)
    {
        var type = FixtureBatch.ModelType(name);
        var outputs = new float[lengths.Length * outputSize];
        MethodInfo Overload(Type input) => type.GetMethod("PredictBatch", [input, typeof(ReadOnlySpan<int>), typeof(Span<float>)])!;
        if (tokens is not null)
            Overload(typeof(ReadOnlySpan<int>)).CreateDelegate<TokenLengthsPredict>()(tokens, lengths, outputs);
        else
            Overload(typeof(ReadOnlySpan<float>)).CreateDelegate<FloatLengthsPredict>()(inputs, lengths, outputs);
        return outputs;
    }

    /// <summary>A packed fixture's sequences (padded to the maximum) and lengths.</summary>
    private static (Reference Reference, int[] Lengths) LoadPacked(string name)
    {
        if (name == "lstm_bi_seqlens")
            return OnnxLengthsTests.Load();
        var fixture = LengthReference.Load(name);
        return (fixture.Data, fixture.Lengths!);
    }

    private static byte[] Bytes<T>(T[] values) where T : unmanaged =>
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
}
