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

    /// <summary>|a - b|, infinite when the GPU left NaN where the reference has a number.</summary>
    private static double Error(float actual, double expected) =>
        float.IsNaN(actual) && !double.IsNaN(expected) ? double.PositiveInfinity : Math.Abs(actual - expected);
}
