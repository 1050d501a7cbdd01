using System;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using StaticRnn.Cuda;
using Xunit;

namespace StaticRnn.Tests.Cuda;

/// <summary>The scorer on a real GPU with hand-written kernels of the generator's ABI; skipped without one.</summary>
public sealed class CudaGpuTests : IDisposable
{
    private readonly string _cache = Path.Combine(Path.GetTempPath(), "staticrnn-cuda-tests-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_cache))
            Directory.Delete(_cache, recursive: true);
    }

    private CudaScorerOptions Options(int sequencesPerChunk = 16384, long scratchBytesLimit = CudaScorerOptions.DefaultScratchBytesLimit) =>
        new() { CacheDirectory = _cache, SequencesPerChunk = sequencesPerChunk, ScratchBytesLimit = scratchBytesLimit };

    [CudaFact]
    public void Features_match_the_cpu_across_many_chunks_and_calls()
    {
        var kernel = CudaTestKernels.Create(scratchFloatsPerSequence: 3);
        var weights = CudaTestKernels.Weights(0);
        // 10 per chunk rounds down to 8 (two blocks of 4): 1001 sequences take 126 chunks through both slots.
        using var scorer = CudaScorer.Create(kernel, weights, Options(sequencesPerChunk: 10));
        Assert.Matches(@"^\d+\.\d+$", scorer.ComputeCapability);
        Assert.False(string.IsNullOrEmpty(scorer.DeviceName));
        Assert.Equal((15, 2, false), (scorer.InputsPerSequence, scorer.OutputSize, scorer.TakesTokens));

        foreach (var count in new[] { 1001, 3, 8, 9, 1 })
        {
            var inputs = CudaTestKernels.RandomFeatures(count * kernel.InputsPerSequence, seed: count);
            var outputs = new float[count * 2];
            scorer.Score(inputs, outputs);
            CudaTestKernels.AssertClose(CudaTestKernels.Reference(kernel, weights, inputs, default), outputs);
        }
        scorer.Score(ReadOnlySpan<float>.Empty, Span<float>.Empty);
        Assert.Throws<InvalidOperationException>(() => scorer.Score(new int[15], new float[2]));
    }

    /// <summary>Each chunk's lengths reach its launch (chunks of 8 through both slots), and a resident batch's reach
    /// each of its launches (8 sequences each): the test kernel sums only the first lengths[s] steps.</summary>
    [CudaFact]
    public void Lengths_reach_every_chunk_and_every_resident_launch()
    {
        var kernel = CudaTestKernels.Create(scratchFloatsPerSequence: 3);
        var weights = CudaTestKernels.Weights(0);
        const int Count = 1001;
        var inputs = CudaTestKernels.RandomFeatures(Count * kernel.InputsPerSequence, seed: 8);
        var random = new Random(8);
        var lengths = Enumerable.Range(0, Count).Select(_ => random.Next(1, kernel.SequenceLength + 1)).ToArray();
        var expected = CudaTestKernels.Reference(kernel, weights, inputs, default, lengths);

        using var scorer = CudaScorer.Create(kernel, weights, Options(sequencesPerChunk: 10, scratchBytesLimit: 100));
        var outputs = new float[Count * 2];
        scorer.Score(inputs, lengths, outputs);
        CudaTestKernels.AssertClose(expected, outputs);
        Array.Clear(outputs);
        scorer.ScoreAsync(inputs, lengths, outputs).GetAwaiter().GetResult();
        CudaTestKernels.AssertClose(expected, outputs);
        // Without lengths again: the null pointer, every step.
        scorer.Score(inputs, outputs);
        CudaTestKernels.AssertClose(CudaTestKernels.Reference(kernel, weights, inputs, default), outputs);

        using var batch = scorer.AllocateBatch(Count);
        batch.Upload(inputs, lengths);
        scorer.ScoreResident(batch);
        batch.Download(outputs);
        CudaTestKernels.AssertClose(expected, outputs);
        batch.Upload(inputs);   // full length again
        scorer.ScoreResident(batch);
        batch.Download(outputs);
        CudaTestKernels.AssertClose(CudaTestKernels.Reference(kernel, weights, inputs, default), outputs);

        lengths[500] = kernel.SequenceLength + 1;
        Assert.Throws<ArgumentOutOfRangeException>(() => scorer.Score(inputs, lengths, outputs));
        Assert.Throws<ArgumentOutOfRangeException>(() => batch.Upload(inputs, lengths));
    }

    [CudaFact]
    public void A_scorer_works_from_a_thread_that_has_never_used_cuda()
    {
        var kernel = CudaTestKernels.Create();
        var weights = CudaTestKernels.Weights(0);
        using var scorer = CudaScorer.Create(kernel, weights, Options());
        var inputs = CudaTestKernels.RandomFeatures(40 * kernel.InputsPerSequence, seed: 6);
        var outputs = new float[80];
        Exception? failure = null;
        // A new thread has no current CUDA context until the scorer makes its own current.
        var thread = new Thread(() =>
        {
            try
            {
                scorer.Score(inputs, outputs);
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join();
        Assert.Null(failure);
        CudaTestKernels.AssertClose(CudaTestKernels.Reference(kernel, weights, inputs, default), outputs);
    }

    [CudaFact]
    public void Tokens_match_the_cpu()
    {
        var kernel = CudaTestKernels.Create(sequenceLength: 7, inputSize: 1, vocabularySize: 11, sequencesPerBlock: 32, threadsPerBlock: 32);
        var weights = CudaTestKernels.Weights(11);
        using var scorer = CudaScorer.Create(kernel, weights, Options(sequencesPerChunk: 64));
        Assert.True(scorer.TakesTokens);
        var tokens = CudaTestKernels.RandomTokens(500 * 7, 11, seed: 1);
        var outputs = new float[500 * 2];
        scorer.Score(tokens, outputs);
        CudaTestKernels.AssertClose(CudaTestKernels.Reference(kernel, weights, default, tokens), outputs);

        tokens[3] = 11;
        Assert.Throws<ArgumentOutOfRangeException>(() => scorer.Score(tokens, outputs));
    }

    [CudaFact]
    public async Task ScoreAsync_matches_Score_and_stops_when_cancelled()
    {
        var kernel = CudaTestKernels.Create();
        var weights = CudaTestKernels.Weights(0);
        using var scorer = CudaScorer.Create(kernel, weights, Options(sequencesPerChunk: 256));
        var inputs = CudaTestKernels.RandomFeatures(5000 * kernel.InputsPerSequence, seed: 2);
        var outputs = new float[5000 * 2];
        await scorer.ScoreAsync(inputs, outputs);
        CudaTestKernels.AssertClose(CudaTestKernels.Reference(kernel, weights, inputs, default), outputs);

        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => scorer.ScoreAsync(inputs, outputs, cancelled.Token));
        // The scorer is still usable after a cancellation.
        Array.Clear(outputs);
        await scorer.ScoreAsync(inputs, outputs);
        CudaTestKernels.AssertClose(CudaTestKernels.Reference(kernel, weights, inputs, default), outputs);
        // Arguments are checked before the task starts.
        Assert.Throws<ArgumentException>(() => { _ = scorer.ScoreAsync(inputs, new float[3]); });
    }

    [CudaFact]
    public void Resident_batches_score_in_place_over_several_launches_and_are_timed()
    {
        var kernel = CudaTestKernels.Create(scratchFloatsPerSequence: 3);
        var weights = CudaTestKernels.Weights(0);
        // A block's scratch is 4 × 3 × 4 = 48 bytes: a 100-byte limit allows 2 blocks, 8 sequences, per launch.
        using var scorer = CudaScorer.Create(kernel, weights, Options(scratchBytesLimit: 100));
        using var batch = scorer.AllocateBatch(50);
        Assert.Equal(50, batch.Sequences);
        var inputs = CudaTestKernels.RandomFeatures(50 * kernel.InputsPerSequence, seed: 3);
        batch.Upload(inputs);
        scorer.ScoreResident(batch);
        var outputs = new float[100];
        batch.Download(outputs);
        var expected = CudaTestKernels.Reference(kernel, weights, inputs, default);
        CudaTestKernels.AssertClose(expected, outputs);

        Array.Clear(outputs);
        batch.Download(outputs); // still there
        var elapsed = scorer.MeasureResident(batch);
        Assert.True(elapsed > TimeSpan.Zero && elapsed < TimeSpan.FromSeconds(10), elapsed.ToString());
        batch.Download(outputs);
        CudaTestKernels.AssertClose(expected, outputs);

        Assert.Throws<ArgumentException>(() => batch.Upload(new float[10]));
        Assert.Throws<ArgumentException>(() => batch.Download(new float[10]));
        Assert.Throws<InvalidOperationException>(() => batch.Upload(new int[750]));
        batch.Dispose();
        batch.Dispose();
        Assert.Throws<ObjectDisposedException>(() => scorer.ScoreResident(batch));
    }

    [CudaFact]
    public void Kernels_needing_more_than_48_KiB_of_shared_memory_opt_in()
    {
        var kernel = CudaTestKernels.Create(sharedMemoryBytes: 64 * 1024);
        var weights = CudaTestKernels.Weights(0);
        using var scorer = CudaScorer.Create(kernel, weights, Options());
        var inputs = CudaTestKernels.RandomFeatures(100 * kernel.InputsPerSequence, seed: 4);
        var outputs = new float[200];
        scorer.Score(inputs, outputs);
        CudaTestKernels.AssertClose(CudaTestKernels.Reference(kernel, weights, inputs, default), outputs);

        var tooMuch = CudaTestKernels.Create(sharedMemoryBytes: 1 << 30);
        var e = Assert.Throws<CudaUnavailableException>(() => CudaScorer.Create(tooMuch, weights, Options()));
        Assert.Contains("shared memory", e.Message);
    }

    [CudaFact]
    public void The_disk_cache_is_written_and_a_corrupt_entry_is_replaced()
    {
        var kernel = CudaTestKernels.Create(entryPoint: "cached_kernel");
        var weights = CudaTestKernels.Weights(0);
        using (CudaScorer.Create(kernel, weights, Options()))
        {
        }
        var file = Assert.Single(Directory.GetFiles(_cache));
        Assert.True(file.EndsWith(".cubin", StringComparison.Ordinal) || file.EndsWith(".ptx", StringComparison.Ordinal), file);
        var image = File.ReadAllBytes(file);

        File.WriteAllBytes(file, [1, 2, 3, 4, 0]);
        using var scorer = CudaScorer.Create(kernel, weights, Options());
        Assert.Equal(image.Length, new FileInfo(file).Length);
        var inputs = CudaTestKernels.RandomFeatures(10 * kernel.InputsPerSequence, seed: 5);
        var outputs = new float[20];
        scorer.Score(inputs, outputs);
        CudaTestKernels.AssertClose(CudaTestKernels.Reference(kernel, weights, inputs, default), outputs);
        Assert.Single(Directory.GetFiles(_cache)); // no temporary files left behind
    }

    [CudaFact]
    public void Failures_say_what_went_wrong()
    {
        var weights = CudaTestKernels.Weights(0);
        var ordinal = Assert.Throws<CudaUnavailableException>(() =>
            CudaScorer.Create(CudaTestKernels.Create(), weights, new CudaScorerOptions { DeviceOrdinal = 99, CacheDirectory = "" }));
        Assert.Contains("CUDA device 99 requested", ordinal.Message);

        var broken = CudaTestKernels.Create(entryPoint: "broken_kernel", body: "undefined_identifier = 1;");
        var compile = Assert.Throws<NvrtcCompileException>(() => CudaScorer.Create(broken, weights, Options()));
        Assert.Contains("undefined_identifier", compile.Log);
        Assert.StartsWith("--gpu-architecture=", compile.Architecture);

        var wrongName = new CudaKernelDefinition("not_in_source", CudaTestKernels.Create().Source, 5, 3, 0, 2, 4, 8, 0, 0);
        var missing = Assert.Throws<CudaException>(() => CudaScorer.Create(wrongName, weights, Options()));
        Assert.Equal("cuModuleGetFunction", missing.Function);
        Assert.Equal("CUDA_ERROR_NOT_FOUND", missing.ErrorName);
    }

    [CudaFact]
    public void Dispose_is_idempotent_and_frees_the_batches()
    {
        var kernel = CudaTestKernels.Create();
        var scorer = CudaScorer.Create(kernel, CudaTestKernels.Weights(0), Options());
        var batch = scorer.AllocateBatch(10);
        scorer.Dispose();
        scorer.Dispose();
        batch.Dispose();
        Assert.Throws<ObjectDisposedException>(() => scorer.Score(new float[15], new float[2]));
        Assert.Throws<ObjectDisposedException>(() => scorer.AllocateBatch(1));
        Assert.Throws<ObjectDisposedException>(() => batch.Download(new float[20]));

        // Scorers on one device share its primary context; disposing one leaves the other working.
        using var first = CudaScorer.Create(kernel, CudaTestKernels.Weights(0), Options());
        var second = CudaScorer.Create(kernel, CudaTestKernels.Weights(0), Options());
        second.Dispose();
        var outputs = new float[2];
        first.Score(Enumerable.Repeat(1f, 15).ToArray(), outputs);
        Assert.Equal(1.5f * 15 - 0.25f, outputs[0], 4);
    }
}
