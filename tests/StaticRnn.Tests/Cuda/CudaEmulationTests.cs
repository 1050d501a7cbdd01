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
/// The outputs must match PyTorch's on the fixture's sequences and the CPU path's on random ones, across two
/// blocks (the second one partly filled), with none, some and all of the recurrent weights staged in shared memory.
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

    [ClangTheory]
    [MemberData(nameof(Models))]
    public void Kernel_matches_PyTorch_and_the_CPU_path(string name)
    {
        var kernel = FixtureBatch.Kernel(name);
        // The fixture's sequences, then random ones up to one block and a bit: two blocks, the second partly filled.
        var batch = FixtureBatch.Make(name, kernel.SequencesPerBlock + 1);
        var (model, reference, expected) = (batch.Model, batch.Reference, batch.Expected);
        var inputBytes = batch.Tokens is { } tokens ? Bytes(tokens) : Bytes(batch.Inputs!);

        // Recurrent weights read from global memory only, half of the largest layer's rows staged in shared memory
        // (smaller layers may fit whole), and all of them: the same sums in the same order, so the same bits.
        float[]? unstaged = null;
        foreach (var staged in new[] { 0, kernel.RecurrentWeightFloats / 2, kernel.RecurrentWeightFloats }.Distinct())
        {
            var actual = CudaEmulator.Run(kernel, FixtureBatch.Weights(name), batch.Sequences, inputBytes, batch.Sequences * model.OutputSize, model.TakesTokens, staged);
            var run = $"{name} (staged {staged} of {kernel.RecurrentWeightFloats} floats)";

            for (var i = 0; i < actual.Length; i++)
                Assert.False(float.IsNaN(actual[i]), $"{run}: output {i} (sequence {i / model.OutputSize}) is NaN: never written, or computed from memory nothing wrote");
            for (var s = 0; s < reference.Count; s++)
            {
                for (var k = 0; k < model.OutputSize; k++)
                {
                    var error = Math.Abs(actual[s * model.OutputSize + k] - reference.Expected[s][k]);
                    Assert.True(error <= Tolerance, $"{run}, sequence {s}, output {k}: kernel {actual[s * model.OutputSize + k]}, PyTorch {reference.Expected[s][k]} (|error| {error:E2})");
                }
            }
            for (var i = 0; i < actual.Length; i++)
            {
                var error = Math.Abs(actual[i] - expected[i]);
                Assert.True(error <= Tolerance, $"{run}, sequence {i / model.OutputSize}, output {i % model.OutputSize}: kernel {actual[i]}, CPU path {expected[i]} (|error| {error:E2})");
            }
            unstaged ??= actual;
            for (var i = 0; i < actual.Length; i++)
                Assert.True(actual[i].Equals(unstaged[i]), $"{run}, output {i}: {actual[i]:R} staged, {unstaged[i]:R} from global memory");
        }
    }

    private static byte[] Bytes<T>(T[] values) where T : unmanaged =>
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
}
