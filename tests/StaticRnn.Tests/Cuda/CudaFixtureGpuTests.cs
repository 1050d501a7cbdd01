using System;
using System.Collections.Generic;
using System.Linq;
using StaticRnn.Cuda;
using StaticRnn.Tests.Fixtures;
using Xunit;

namespace StaticRnn.Tests.Cuda;

/// <summary>
/// Every fixture model's generated <c>CreateCudaScorer</c> on a real GPU: outputs within 1e-5 of PyTorch's on the
/// fixture's sequences and of the CPU path's on random ones, over several blocks and pipelined chunks. Skipped
/// with the reason "no CUDA device" where there is none; tools/gpu_check.sh runs it on a GPU machine.
/// </summary>
public class CudaFixtureGpuTests
{
    private const double Tolerance = 1e-5;

    [CudaFact]
    public void Every_fixture_model_matches_PyTorch_and_the_CPU_path_on_the_GPU()
    {
        var options = new CudaScorerOptions { SequencesPerChunk = 512 };   // several chunks, so both streams take turns
        var failures = new List<string>();
        foreach (var model in FixtureCatalog.All)
        {
            using var scorer = FixtureBatch.CreateScorer(model.Name, options);
            var batch = FixtureBatch.Make(model.Name, 1500);
            var (reference, expected) = (batch.Reference, batch.Expected);
            var actual = new float[expected.Length];
            actual.AsSpan().Fill(float.NaN);
            if (batch.Tokens is { } tokens)
                scorer.Score(tokens, actual);
            else
                scorer.Score(batch.Inputs!, actual);

            var worstPyTorch = 0.0;
            for (var s = 0; s < reference.Count; s++)
                for (var k = 0; k < model.OutputSize; k++)
                    worstPyTorch = Math.Max(worstPyTorch, Error(actual[s * model.OutputSize + k], reference.Expected[s][k]));
            var worstCpu = 0.0;
            for (var i = 0; i < actual.Length; i++)
                worstCpu = Math.Max(worstCpu, Error(actual[i], expected[i]));
            if (!(worstPyTorch <= Tolerance && worstCpu <= Tolerance))
                failures.Add($"{model.Name}: max |GPU - PyTorch| {worstPyTorch:E2}, max |GPU - CPU| {worstCpu:E2}");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    /// <summary>
    /// Sequences of their own lengths and masked tokens on a real GPU: PyTorch's packed-sequence fixtures (and the ONNX
    /// sequence_lens graph), every fixture model with random lengths, and Keras's mask_zero fixtures without and with
    /// lengths (the batches of CudaEmulationTests, with 1500 random sequences), through Score; ScoreAsync and a
    /// resident batch (Upload with lengths, ScoreResident, Download) must give the same bits.
    /// </summary>
    [CudaFact]
    public void Lengths_and_masks_match_the_frameworks_and_the_CPU_path_on_the_GPU()
    {
        const int Random = 1500;
        var options = new CudaScorerOptions { SequencesPerChunk = 512 };
        var batches = CudaEmulationTests.PackedModels.Select(m => LengthBatch.Packed((string)m[0], Random))
            .Concat(FixtureCatalog.All.Select(m => LengthBatch.RandomLengths(m.Name, Random)))
            .Concat(LengthFixtureTests.Masked.SelectMany(m => new[] { false, true }.Select(lengths => LengthBatch.Masked((string)m[0], Random, lengths))));
        var failures = new List<string>();
        foreach (var batch in batches)
        {
            using var scorer = FixtureBatch.CreateScorer(batch.Name, options);
            var (n, size) = (batch.Sequences, scorer.OutputSize);
            var lengths = batch.Lengths;
            float[] Outputs() => Enumerable.Repeat(float.NaN, n * size).ToArray();

            var actual = Outputs();
            var asynchronous = Outputs();
            var resident = Outputs();
            using var device = scorer.AllocateBatch(n);
            if (batch.Tokens is { } tokens)
            {
                if (lengths is null)
                {
                    scorer.Score(tokens, actual);
                    scorer.ScoreAsync(tokens, asynchronous).GetAwaiter().GetResult();
                    device.Upload(tokens);
                }
                else
                {
                    scorer.Score(tokens, lengths, actual);
                    scorer.ScoreAsync(tokens, lengths, asynchronous).GetAwaiter().GetResult();
                    device.Upload(tokens, lengths);
                }
            }
            else
            {
                scorer.Score(batch.Inputs!, lengths!, actual);
                scorer.ScoreAsync(batch.Inputs!, lengths!, asynchronous).GetAwaiter().GetResult();
                device.Upload(batch.Inputs!, lengths!);
            }
            scorer.ScoreResident(device);
            device.Download(resident);

            var worstFramework = 0.0;
            for (var s = 0; s < batch.Framework.Count; s++)
                for (var k = 0; k < size; k++)
                    worstFramework = Math.Max(worstFramework, Error(actual[s * size + k], batch.Framework[s][k]));
            var worstCpu = 0.0;
            for (var i = 0; i < actual.Length; i++)
                worstCpu = Math.Max(worstCpu, Error(actual[i], batch.Cpu[i]));
            var what = $"{batch.Name}{(lengths is null ? "" : " with lengths")}";
            if (!(worstFramework <= Tolerance && worstCpu <= Tolerance))
                failures.Add($"{what}: max |GPU - {batch.FrameworkName}| {worstFramework:E2}, max |GPU - CPU| {worstCpu:E2}");
            if (!asynchronous.AsSpan().SequenceEqual(actual) || !resident.AsSpan().SequenceEqual(actual))
                failures.Add($"{what}: ScoreAsync or the resident batch differs from Score");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    /// <summary>|a - b|, infinite when the GPU left NaN where the reference has a number.</summary>
    private static double Error(float actual, double expected) =>
        float.IsNaN(actual) && !double.IsNaN(expected) ? double.PositiveInfinity : Math.Abs(actual - expected);
}
