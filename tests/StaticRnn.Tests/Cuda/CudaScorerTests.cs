using System;
using System.Linq;
using StaticRnn.Cuda;
using Xunit;

namespace StaticRnn.Tests.Cuda;

/// <summary>The CUDA scorer's argument checks, chunking and behaviour without CUDA; none of it needs a device.</summary>
public class CudaScorerTests
{
    private static CudaKernelDefinition Definition(int sequenceLength = 5, int inputSize = 3, int vocabularySize = 0,
        int sequencesPerBlock = 4, int threadsPerBlock = 8, int sharedMemoryBytes = 0, int scratchFloatsPerSequence = 0) =>
        new("k", "extern \"C\" __global__ void k() {}", sequenceLength, inputSize, vocabularySize, 2,
            sequencesPerBlock, threadsPerBlock, sharedMemoryBytes, scratchFloatsPerSequence);

    [Fact]
    public void Options_default_and_reject_out_of_range_values()
    {
        var options = new CudaScorerOptions();
        Assert.Equal(0, options.DeviceOrdinal);
        Assert.Null(options.CacheDirectory);
        Assert.Equal(0, options.SequencesPerChunk);   // automatic
        Assert.Equal(512L * 1024 * 1024, options.ScratchBytesLimit);
        Assert.Null(options.StagedWeightBytesLimit);   // automatic: as much as keeps the blocks per multiprocessor

        Assert.Throws<ArgumentOutOfRangeException>(() => options.DeviceOrdinal = -1);
        Assert.Throws<ArgumentOutOfRangeException>(() => options.StagedWeightBytesLimit = -1);
        options.StagedWeightBytesLimit = 0;
        options.StagedWeightBytesLimit = null;
        Assert.Null(options.StagedWeightBytesLimit);
        Assert.Throws<ArgumentOutOfRangeException>(() => options.SequencesPerChunk = -1);
        Assert.Throws<ArgumentOutOfRangeException>(() => options.ScratchBytesLimit = 0);
        options.DeviceOrdinal = 2;
        options.SequencesPerChunk = 1;
        options.ScratchBytesLimit = 1;
        options.CacheDirectory = "";
        Assert.Equal((2, 1, 1L, ""), (options.DeviceOrdinal, options.SequencesPerChunk, options.ScratchBytesLimit, options.CacheDirectory));
    }

    /// <summary>An H100's shared memory: 227 KiB per block, 228 KiB per multiprocessor, 1 KiB reserved per block.</summary>
    private static readonly CudaScorer.SharedMemoryLimits H100 = new(232448, 233472, 1024);

    /// <summary>The occupancy calculator's shared-memory rule: as many blocks as whole allocations (static, dynamic and
    /// the driver's reserve, rounded up to <paramref name="granularity"/>) fit a multiprocessor, and no more than
    /// <paramref name="otherLimit"/> (what registers and threads allow).</summary>
    private static Func<int, int> Occupancy(int otherLimit, int staticBytes = 0, int granularity = 128) => dynamicBytes =>
    {
        var perBlock = (staticBytes + dynamicBytes + H100.ReservedPerBlock + granularity - 1) / granularity * granularity;
        return Math.Min(otherLimit, H100.PerMultiprocessor / perBlock);
    };

    private static int NotAsked(int dynamicBytes) =>
        throw new InvalidOperationException("a set limit does not consult the occupancy calculator");

    [Theory]
    [InlineData(65536, 39322, 0, 232448, int.MaxValue, 48281)]    // LSTM 128 beside the kernel's 38.4 KiB: 188.6 of its 256 KiB
    [InlineData(65536, 39322, 4096, 232448, int.MaxValue, 47257)] // the same less 4 KiB of static shared memory
    [InlineData(16384, 40960, 0, 232448, int.MaxValue, 16384)]    // LSTM 64: all 64 KiB
    [InlineData(16384, 40960, 0, 101376, int.MaxValue, 15104)]    // a 99 KiB device: what is left beside the kernel's 40 KiB
    [InlineData(16384, 40960, 0, 232448, 10001, 2500)]            // the caller's limit, in whole floats
    [InlineData(16384, 40960, 0, 232448, 0, 0)]                   // staging off
    [InlineData(16384, 40960, 0, 32768, int.MaxValue, 0)]         // no room at all
    [InlineData(0, 4096, 0, 232448, int.MaxValue, 0)]             // no recurrent layer
    public void A_set_limit_stages_what_the_block_limit_leaves(
        int recurrentWeightFloats, int sharedMemoryBytes, int staticBytes, int optInBytes, int limitBytes, int expected)
    {
        var kernel = new CudaKernelDefinition("k", "src", 10, 4, 0, 2, 32, 256, sharedMemoryBytes, 0, recurrentWeightFloats);
        var device = H100 with { PerBlockOptIn = optInBytes };
        Assert.Equal(expected, CudaScorer.StagedFloats(kernel, device, staticBytes, limitBytes, NotAsked));
    }

    [Theory]
    [InlineData(65536, 39424, 0, 2, 128, 19072)]    // LSTM 128 held to 2 blocks by registers: half the SM each, less 39.5 KiB
    [InlineData(65536, 39424, 4096, 2, 128, 18048)] // ...less 4 KiB of static shared memory too
    [InlineData(65536, 39424, 0, 2, 8192, 18560)]   // a coarse allocation granularity: 1 KiB steps down until 2 fit
    [InlineData(65536, 39424, 0, 1, 128, 48256)]    // one block per SM anyway: all the block limit leaves
    [InlineData(65536, 39424, 0, 8, 128, 1305)]     // five blocks by shared memory alone: what keeps five
    [InlineData(16384, 40960, 0, 2, 128, 16384)]    // LSTM 64 at 2 blocks per SM: all of it fits
    [InlineData(16384, 232448, 0, 2, 128, 0)]       // no room at all
    public void Automatic_staging_keeps_the_blocks_per_multiprocessor(
        int recurrentWeightFloats, int sharedMemoryBytes, int staticBytes, int otherLimit, int granularity, int expected)
    {
        var kernel = new CudaKernelDefinition("k", "src", 10, 4, 0, 2, 32, 256, sharedMemoryBytes, 0, recurrentWeightFloats);
        var occupancy = Occupancy(otherLimit, staticBytes, granularity);
        var staged = CudaScorer.StagedFloats(kernel, H100, staticBytes, null, occupancy);
        Assert.Equal(expected, staged);
        Assert.Equal(occupancy(sharedMemoryBytes), occupancy(sharedMemoryBytes + staged * sizeof(float)));
        // 1 KiB more would cost a block per multiprocessor (or there was no more to stage).
        Assert.True(staged == recurrentWeightFloats || staged * sizeof(float) + 1024 > H100.PerBlockOptIn - staticBytes - sharedMemoryBytes
            || occupancy(sharedMemoryBytes + staged * sizeof(float) + 1024) < occupancy(sharedMemoryBytes));
    }

    [Fact]
    public void Automatic_staging_asks_the_occupancy_calculator_twice_when_its_first_guess_fits()
    {
        var kernel = new CudaKernelDefinition("k", "src", 10, 4, 0, 2, 32, 256, 39424, 0, 65536);
        var occupancy = Occupancy(otherLimit: 2);
        var asked = new System.Collections.Generic.List<int>();
        var staged = CudaScorer.StagedFloats(kernel, H100, 0, null, bytes => { asked.Add(bytes); return occupancy(bytes); });
        // Unstaged, then the guess (half the SM, less the reserve and the kernel's own), which holds: no 1 KiB steps.
        Assert.Equal([39424, 39424 + 76288], asked);
        Assert.Equal(76288 / sizeof(float), staged);
    }

    [Fact]
    public void Automatic_staging_stages_nothing_when_the_kernel_fits_no_block()
    {
        var kernel = new CudaKernelDefinition("k", "src", 10, 4, 0, 2, 32, 256, 4096, 0, 16384);
        Assert.Equal(0, CudaScorer.StagedFloats(kernel, H100, 0, null, _ => 0));
    }

    [Theory]
    [InlineData(132, 32, 16896)]    // H100, hidden 128: 4 blocks per SM
    [InlineData(132, 128, 67584)]   // H100, small hidden sizes
    [InlineData(20, 32, 16384)]     // a small GPU: the 16,384 floor
    public void The_automatic_chunk_fills_the_device(int multiprocessors, int sequencesPerBlock, int expected)
    {
        var kernel = new CudaKernelDefinition("k", "src", 10, 4, 0, 2, sequencesPerBlock, 256, 1024, 0);
        Assert.Equal(expected, CudaScorer.AutomaticChunkSequences(kernel, multiprocessors, CudaScorerOptions.DefaultScratchBytesLimit));
    }

    [Fact]
    public void Kernel_definition_rejects_bad_arguments_by_name()
    {
        const string source = "extern \"C\" __global__ void k() {}";
        CudaKernelDefinition Make(string entry = "k", string src = source, int steps = 5, int inputs = 3, int vocabulary = 0,
            int outputs = 2, int perBlock = 4, int threads = 8, int shared = 0, int scratch = 0) =>
            new(entry, src, steps, inputs, vocabulary, outputs, perBlock, threads, shared, scratch);

        var ok = Make();
        Assert.Equal((15, false), (ok.InputsPerSequence, ok.TakesTokens));
        var tokens = Make(inputs: 1, vocabulary: 40);
        Assert.Equal((5, true), (tokens.InputsPerSequence, tokens.TakesTokens));

        Assert.Equal("entryPoint", Assert.Throws<ArgumentException>(() => Make(entry: "2k")).ParamName);
        Assert.Equal("entryPoint", Assert.Throws<ArgumentException>(() => Make(entry: "k(")).ParamName);
        Assert.Equal("source", Assert.Throws<ArgumentException>(() => Make(src: " ")).ParamName);
        Assert.Equal("sequenceLength", Assert.Throws<ArgumentOutOfRangeException>(() => Make(steps: 0)).ParamName);
        Assert.Equal("inputSize", Assert.Throws<ArgumentOutOfRangeException>(() => Make(inputs: 0)).ParamName);
        Assert.Equal("vocabularySize", Assert.Throws<ArgumentOutOfRangeException>(() => Make(vocabulary: -1)).ParamName);
        Assert.Equal("inputSize", Assert.Throws<ArgumentException>(() => Make(inputs: 2, vocabulary: 40)).ParamName);
        Assert.Equal("outputSize", Assert.Throws<ArgumentOutOfRangeException>(() => Make(outputs: 0)).ParamName);
        Assert.Equal("sequencesPerBlock", Assert.Throws<ArgumentOutOfRangeException>(() => Make(perBlock: 0)).ParamName);
        Assert.Equal("threadsPerBlock", Assert.Throws<ArgumentOutOfRangeException>(() => Make(threads: 0)).ParamName);
        Assert.Equal("threadsPerBlock", Assert.Throws<ArgumentOutOfRangeException>(() => Make(threads: 1025)).ParamName);
        Assert.Equal("sharedMemoryBytes", Assert.Throws<ArgumentOutOfRangeException>(() => Make(shared: -1)).ParamName);
        Assert.Equal("scratchFloatsPerSequence", Assert.Throws<ArgumentOutOfRangeException>(() => Make(scratch: -1)).ParamName);
        Assert.Equal("recurrentWeightFloats", Assert.Throws<ArgumentOutOfRangeException>(
            () => new CudaKernelDefinition("k", source, 5, 3, 0, 2, 4, 8, 0, 0, recurrentWeightFloats: -1)).ParamName);
        Assert.Equal("sequenceLength", Assert.Throws<ArgumentException>(() => Make(steps: 1 << 20, inputs: 1 << 12)).ParamName);
    }

    [Fact]
    public void Feature_batches_are_checked_before_any_device_work()
    {
        var kernel = Definition();
        Assert.Equal(3, CudaScorer.ValidateFeatures(kernel, 45, 6));
        Assert.Equal(0, CudaScorer.ValidateFeatures(kernel, 0, 0));

        var ragged = Assert.Throws<ArgumentException>(() => CudaScorer.ValidateFeatures(kernel, 44, 6));
        Assert.Equal("inputs", ragged.ParamName);
        Assert.Contains("sequences of 15 values each; it holds 44", ragged.Message);
        var shortOutput = Assert.Throws<ArgumentException>(() => CudaScorer.ValidateFeatures(kernel, 45, 5));
        Assert.Equal("outputs", shortOutput.ParamName);
        Assert.Contains("3 × 2 = 6 floats", shortOutput.Message);
        Assert.Contains("it holds 5", shortOutput.Message);

        var wrong = Assert.Throws<InvalidOperationException>(() => CudaScorer.ValidateTokens(kernel, new int[15], 2));
        Assert.Contains("takes float features (3 per step)", wrong.Message);
    }

    [Fact]
    public void Token_batches_are_checked_token_by_token()
    {
        var kernel = Definition(inputSize: 1, vocabularySize: 10);
        int[] tokens = [0, 1, 2, 3, 9, 5, 6, 7, 8, 9];
        Assert.Equal(2, CudaScorer.ValidateTokens(kernel, tokens, 4));

        tokens[7] = 10;
        var outOfRange = Assert.Throws<ArgumentOutOfRangeException>(() => CudaScorer.ValidateTokens(kernel, tokens, 4));
        Assert.Equal("tokens", outOfRange.ParamName);
        Assert.Contains("Token 10 at position 7", outOfRange.Message);
        Assert.Contains("expected 0 to 9", outOfRange.Message);
        tokens[7] = -1;
        Assert.Throws<ArgumentOutOfRangeException>(() => CudaScorer.ValidateTokens(kernel, tokens, 4));

        Assert.Equal("tokens", Assert.Throws<ArgumentException>(() => CudaScorer.ValidateTokens(kernel, new int[9], 4)).ParamName);
        Assert.Equal("outputs", Assert.Throws<ArgumentException>(() => CudaScorer.ValidateTokens(kernel, new int[10], 6)).ParamName);

        var wrong = Assert.Throws<InvalidOperationException>(() => CudaScorer.ValidateFeatures(kernel, 10, 4));
        Assert.Contains("takes token ids (vocabulary of 10)", wrong.Message);
    }

    /// <summary>As the CPU's PredictBatch(inputs, lengths, outputs): one length per sequence, each 1 to SequenceLength,
    /// the message naming the index, the value and the range.</summary>
    [Fact]
    public void Lengths_are_checked_as_on_the_CPU()
    {
        var kernel = Definition();   // 5 steps of 3 features
        Assert.Equal(3, CudaScorer.ValidateFeatures(kernel, 45, [1, 5, 3], 6));
        Assert.Equal(0, CudaScorer.ValidateFeatures(kernel, 0, [], 0));

        var tooLong = Assert.Throws<ArgumentOutOfRangeException>(() => CudaScorer.ValidateFeatures(kernel, 45, [1, 6, 3], 6));
        Assert.Equal("lengths", tooLong.ParamName);
        Assert.Contains("lengths[1] is 6; expected 1 to 5", tooLong.Message);
        var zero = Assert.Throws<ArgumentOutOfRangeException>(() => CudaScorer.ValidateFeatures(kernel, 45, [1, 2, 0], 6));
        Assert.Contains("lengths[2] is 0", zero.Message);
        var count = Assert.Throws<ArgumentException>(() => CudaScorer.ValidateFeatures(kernel, 45, [1, 2], 6));
        Assert.Equal("lengths", count.ParamName);
        Assert.Contains("one length per sequence, 3; it holds 2", count.Message);
        // The batch itself is checked first, as without lengths.
        Assert.Equal("inputs", Assert.Throws<ArgumentException>(() => CudaScorer.ValidateFeatures(kernel, 44, [1, 2, 3], 6)).ParamName);
        Assert.Throws<InvalidOperationException>(() => CudaScorer.ValidateTokens(kernel, new int[15], [1, 2, 3], 6));
    }

    /// <summary>Only the tokens within each length are checked: the padding after them need not be in the vocabulary.</summary>
    [Fact]
    public void Token_batches_with_lengths_check_the_tokens_within_each_length()
    {
        var kernel = Definition(inputSize: 1, vocabularySize: 10);
        int[] tokens = [0, 1, -1, 99, 10, 5, 6, 7, 8, 9];
        Assert.Equal(2, CudaScorer.ValidateTokens(kernel, tokens, [2, 5], 4));

        var outOfRange = Assert.Throws<ArgumentOutOfRangeException>(() => CudaScorer.ValidateTokens(kernel, tokens, [3, 5], 4));
        Assert.Equal("tokens", outOfRange.ParamName);
        Assert.Contains("Token -1 at position 2", outOfRange.Message);
        Assert.Equal("lengths", Assert.Throws<ArgumentOutOfRangeException>(() => CudaScorer.ValidateTokens(kernel, tokens, [2, 6], 4)).ParamName);
        Assert.Throws<InvalidOperationException>(() => CudaScorer.ValidateFeatures(kernel, 10, [2, 5], 4));
    }

    /// <summary>A chunk of sequences with lengths is staged longest first, equal lengths in their order, and its
    /// outputs go back to each sequence's place.</summary>
    [Fact]
    public void Sequences_with_lengths_are_staged_longest_first_and_put_back()
    {
        int[] lengths = [2, 5, 1, 5, 3, 2];
        var order = new int[lengths.Length];
        CudaScorer.OrderByLength(lengths, new int[6], order);
        Assert.Equal([1, 3, 4, 0, 5, 2], order);

        // Rows of two values: sequence i's row is { 10 i, 10 i + 1 }.
        var rows = Enumerable.Range(0, 12).Select(i => (float)(i / 2 * 10 + i % 2)).ToArray();
        var staged = new float[12];
        CudaScorer.Gather<float>(rows, 2, order, staged);
        Assert.Equal([10f, 11f, 30f, 31f, 40f, 41f, 0f, 1f, 50f, 51f, 20f, 21f], staged);
        var back = new float[12];
        CudaScorer.Scatter<float>(staged, 2, order, back);
        Assert.Equal(rows, back);

        // Random chunks: a permutation, lengths never increasing along it.
        var random = new Random(5);
        var counts = new int[101];
        for (var trial = 0; trial < 20; trial++)
        {
            var chunk = Enumerable.Range(0, random.Next(1, 3000)).Select(_ => random.Next(1, 101)).ToArray();
            var permutation = new int[chunk.Length];
            CudaScorer.OrderByLength(chunk, counts, permutation);
            Assert.Equal(Enumerable.Range(0, chunk.Length), permutation.Order());
            for (var j = 1; j < permutation.Length; j++)
                Assert.True(chunk[permutation[j - 1]] > chunk[permutation[j]] || (chunk[permutation[j - 1]] == chunk[permutation[j]] && permutation[j - 1] < permutation[j]));
        }
    }

    [Fact]
    public void Chunks_are_whole_blocks_within_the_scratch_limit()
    {
        const long limit = CudaScorerOptions.DefaultScratchBytesLimit;
        Assert.Equal(16384, CudaScorer.ChunkSequences(Definition(sequencesPerBlock: 32), 16384, limit));
        Assert.Equal(16368, CudaScorer.ChunkSequences(Definition(sequencesPerBlock: 24), 16384, limit)); // 682 blocks
        Assert.Equal(24, CudaScorer.ChunkSequences(Definition(sequencesPerBlock: 24), 5, limit)); // at least one block

        // 32 sequences × 1000 floats × 4 bytes = 128,000 bytes of scratch per block: 8 blocks fit in a MiB.
        var scratchy = Definition(sequencesPerBlock: 32, scratchFloatsPerSequence: 1000);
        Assert.Equal(256, CudaScorer.ChunkSequences(scratchy, 16384, 1 << 20));
        Assert.Equal(256, CudaScorer.LaunchSequences(scratchy, 1 << 20));
        Assert.Equal(64, CudaScorer.ChunkSequences(scratchy, 64, 1 << 20));
        var tooSmall = Assert.Throws<ArgumentException>(() => CudaScorer.LaunchSequences(scratchy, 127_999));
        Assert.Contains("needs 128000 bytes of scratch", tooSmall.Message);
        Assert.Contains("ScratchBytesLimit is 127999", tooSmall.Message);

        // Without scratch a launch may cover as many whole blocks as an int counts.
        Assert.Equal(int.MaxValue / 24 * 24, CudaScorer.LaunchSequences(Definition(sequencesPerBlock: 24), 1));
    }

    [Fact]
    public void IsAvailable_never_throws_and_says_what_is_missing()
    {
        var available = CudaDevice.IsAvailable(out var reason);
        Assert.False(string.IsNullOrWhiteSpace(reason));
        if (!CudaTestKernels.DriverLoads() && Environment.GetEnvironmentVariable("STATICRNN_CUDA_DRIVER") is null)
        {
            Assert.False(available);
            Assert.Contains(OperatingSystem.IsWindows() ? "nvcuda.dll" : "libcuda.so.1", reason);
            Assert.Contains("Install the NVIDIA driver", reason);
        }
        // Asking again gives the same answer (the probe's result is kept, not the failure of a half-done first try).
        Assert.Equal(available, CudaDevice.IsAvailable(out var again));
        Assert.Equal(reason, again);
    }

    [Fact]
    public void Create_without_cuda_throws_CudaUnavailableException()
    {
        if (CudaDevice.IsAvailable(out _))
            return; // CudaGpuTests covers this machine
        var kernel = Definition();
        var e = Assert.Throws<CudaUnavailableException>(() => CudaScorer.Create(kernel, [1f, 2f], new CudaScorerOptions { CacheDirectory = "" }));
        Assert.False(string.IsNullOrWhiteSpace(e.Message));
        // The argument checks come first, so they are reported even without CUDA.
        Assert.Throws<ArgumentNullException>(() => CudaScorer.Create(null!, [1f]));
        Assert.Throws<ArgumentException>(() => CudaScorer.Create(Definition(scratchFloatsPerSequence: 100), [1f],
            new CudaScorerOptions { ScratchBytesLimit = 100 }));
    }
}
