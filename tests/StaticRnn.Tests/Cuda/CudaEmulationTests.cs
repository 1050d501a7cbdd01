using System;
using System.Collections.Generic;
using System.Linq;
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
    public void Kernel_with_lengths_matches_the_CPU_path(string name) =>
        AssertKernel(LengthBatch.RandomLengths(name, FixtureBatch.Kernel(name).SequencesPerBlock + 1));

    /// <summary>PyTorch's pack_padded_sequence fixtures with their lengths, then random sequences of random lengths.</summary>
    [ClangTheory]
    [MemberData(nameof(PackedModels))]
    public void Kernel_with_lengths_matches_PyTorch_packed_sequences(string name) =>
        AssertKernel(LengthBatch.Packed(name, FixtureBatch.Kernel(name).SequencesPerBlock + 1));

    /// <summary>Keras's mask_zero fixtures (pre-, post- and middle padding, a sequence all but one masked), then random
    /// sequences with zeros anywhere, some all zeros; once without lengths, and once with random lengths for the
    /// random sequences.</summary>
    [ClangTheory]
    [MemberData(nameof(LengthFixtureTests.Masked), MemberType = typeof(LengthFixtureTests))]
    public void Masked_kernel_matches_Keras_and_the_CPU_path(string name)
    {
        AssertKernel(LengthBatch.Masked(name, FixtureBatch.Kernel(name).SequencesPerBlock + 1, withLengths: false));
        AssertKernel(LengthBatch.Masked(name, FixtureBatch.Kernel(name).SequencesPerBlock + 1, withLengths: true));
    }

    private static void AssertKernel(LengthBatch batch) =>
        AssertKernel(batch.Name, batch.Inputs, batch.Tokens, batch.Lengths, batch.Framework, batch.FrameworkName, batch.Cpu);

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

    private static byte[] Bytes<T>(T[] values) where T : unmanaged =>
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
}
