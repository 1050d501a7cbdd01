using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using StaticRnn.Runtime;
using static StaticRnn.Cuda.CudaDriver;

namespace StaticRnn.Cuda;

/// <summary>
/// Scores batches of sequences with a generated model's CUDA kernel on an NVIDIA GPU, through the installed driver
/// (no native code ships with StaticRnn). Get one from the model's <c>CreateCudaScorer()</c>.
/// </summary>
/// <remarks>
/// <para>Batches from host memory go through a two-slot pipeline: while one chunk's kernel runs, the next chunk is
/// copied in and the previous one's outputs copied out. <see cref="AllocateBatch"/> and <see cref="ScoreResident"/>
/// keep a batch on the device, to time the kernel alone.</para>
/// <para>Calls may come from any thread but are serialized: one scorer runs one batch at a time. Dispose the scorer
/// to free its device memory; it has no finalizer.</para>
/// </remarks>
public sealed class CudaScorer : IDisposable
{
    private readonly CudaKernelDefinition _kernel;
    private int _chunkSequences;
    private readonly int _launchSequences;
    private readonly int[] _lengthCounts;    // OrderByLength's counts, one per length 0 .. SequenceLength
    private readonly object _gate = new();
    private readonly Slot[] _slots;
    private readonly List<CudaBatch> _batches = [];
    private int _device;
    private nint _context;
    private nint _module;
    private nint _function;
    private int _stagedFloats;       // recurrent weights kept in shared memory (staticrnn.cuh, recurrent_layer)
    private ulong _weights;
    private nint _startEvent;
    private nint _stopEvent;
    private bool _disposed;

    private CudaScorer(CudaKernelDefinition kernel, int chunkSequences, int launchSequences)
    {
        _kernel = kernel;
        _chunkSequences = chunkSequences;
        _launchSequences = launchSequences;
        _slots = [new Slot(kernel), new Slot(kernel)];
        _lengthCounts = new int[kernel.SequenceLength + 1];
    }

    /// <summary>The GPU's name, e.g. "NVIDIA H100 80GB HBM3".</summary>
    public string DeviceName { get; private set; } = "";

    /// <summary>The GPU's compute capability, e.g. "9.0".</summary>
    public string ComputeCapability { get; private set; } = "";

    /// <summary>Shared memory per block given to recurrent weights, in bytes (see
    /// <see cref="CudaScorerOptions.StagedWeightBytesLimit"/>): at most the largest recurrent matrix. Each layer
    /// uses the whole rows of its recurrent weights that fit in it.</summary>
    public int StagedWeightBytes => _stagedFloats * sizeof(float);

    /// <summary>Dynamic shared memory per block at launch: the kernel's own and the staged weights.</summary>
    private int LaunchSharedBytes => _kernel.SharedMemoryBytes + StagedWeightBytes;

    /// <summary>Values per sequence in the input: floats (steps × features) or tokens (one per step).</summary>
    public int InputsPerSequence => _kernel.InputsPerSequence;

    /// <summary>Floats each sequence produces.</summary>
    public int OutputSize => _kernel.OutputSize;

    /// <summary>Whether the model takes int tokens (score it with the <see cref="ReadOnlySpan{T}"/> of int overloads).</summary>
    public bool TakesTokens => _kernel.TakesTokens;

    /// <summary>
    /// Sets up the model on a GPU: finds the driver and NVRTC, compiles the kernel (or takes it from the disk cache)
    /// and uploads the weights. Called by generated code.
    /// </summary>
    /// <exception cref="CudaUnavailableException">No NVIDIA driver, no such device, no NVRTC, or a device that
    /// cannot run this kernel; the message says which.</exception>
    /// <exception cref="NvrtcCompileException">The kernel did not compile.</exception>
    /// <exception cref="CudaException">A driver call failed, e.g. for lack of device memory.</exception>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static CudaScorer Create(CudaKernelDefinition kernel, ReadOnlySpan<float> weights, CudaScorerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        options ??= new CudaScorerOptions();
        var launchSequences = LaunchSequences(kernel, options.ScratchBytesLimit);
        // An automatic chunk size waits for the device's multiprocessor count (Initialize).
        var chunkSequences = ChunkSequences(kernel, Math.Max(options.SequencesPerChunk, CudaScorerOptions.MinimumAutomaticChunk), options.ScratchBytesLimit);

        var scorer = new CudaScorer(kernel, chunkSequences, launchSequences);
        try
        {
            scorer.Initialize(weights, options.DeviceOrdinal, CudaKernelCache.DefaultCacheDirectory(options.CacheDirectory),
                options.StagedWeightBytesLimit);
            if (options.SequencesPerChunk == 0)
            {
                var multiprocessors = Attribute(CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, scorer._device);
                scorer._chunkSequences = AutomaticChunkSequences(kernel, multiprocessors, options.ScratchBytesLimit);
            }
            return scorer;
        }
        catch (EntryPointNotFoundException e)
        {
            scorer.Dispose();
            throw CudaUnavailableException.MissingEntryPoint(e);
        }
        catch
        {
            // Dispose releases exactly what was acquired before the failure.
            scorer.Dispose();
            throw;
        }
    }

    private unsafe void Initialize(ReadOnlySpan<float> weights, int ordinal, string? cacheDirectory, int? stagedWeightBytesLimit)
    {
        var count = CudaDriver.Initialize();
        if (ordinal >= count)
            throw CudaUnavailableException.NoDevice(ordinal, count);
        // Handles are stored only once acquired, so Dispose releases exactly what exists.
        Check(cuDeviceGet(out var device, ordinal), "cuDeviceGet");
        _device = device;
        DeviceName = CudaDriver.DeviceName(_device);
        var major = Attribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, _device);
        var minor = Attribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, _device);
        ComputeCapability = $"{major}.{minor}";
        CheckDeviceLimits();

        Check(cuDevicePrimaryCtxRetain(out var context, _device), "cuDevicePrimaryCtxRetain");
        _context = context;
        MakeCurrent();
        _module = CudaKernelCache.LoadModule(_kernel, major, minor, cacheDirectory);
        Check(cuModuleGetFunction(out var function, _module, _kernel.EntryPoint), "cuModuleGetFunction",
            $"The kernel source must define extern \"C\" __global__ void {_kernel.EntryPoint}(...).");
        _function = function;
        ChooseStagedWeights(stagedWeightBytesLimit);

        if (weights.Length > 0)
        {
            var bytes = (nuint)weights.Length * sizeof(float);
            Check(cuMemAlloc_v2(out var weightsPointer, bytes), "cuMemAlloc_v2");
            _weights = weightsPointer;
            // Copied on the stream the kernels use: a plain cuMemcpyHtoD goes to the legacy stream, which the
            // non-blocking streams do not wait for.
            var stream = _slots[0].Stream();
            fixed (float* source = weights)
            {
                Check(cuMemcpyHtoDAsync_v2(_weights, source, bytes, stream), "cuMemcpyHtoDAsync_v2");
                Check(cuStreamSynchronize(stream), "cuStreamSynchronize");
            }
        }
    }

    private void CheckDeviceLimits()
    {
        var maxThreads = Attribute(CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK, _device);
        if (_kernel.ThreadsPerBlock > maxThreads)
        {
            throw CudaUnavailableException.Unsupported(
                $"The kernel runs {_kernel.ThreadsPerBlock} threads per block; {DeviceName} allows at most {maxThreads}.");
        }
        // Shared memory is checked once the function is loaded (ChooseStagedWeights), when its static part is known.
    }

    /// <summary>Sets <see cref="_stagedFloats"/> for this device and lets the function use that much shared memory.</summary>
    private void ChooseStagedWeights(int? stagedWeightBytesLimit)
    {
        var limits = new SharedMemoryLimits(
            Attribute(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN, _device),
            Attribute(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR, _device),
            Attribute(CU_DEVICE_ATTRIBUTE_RESERVED_SHARED_MEMORY_PER_BLOCK, _device));
        Check(cuFuncGetAttribute(out var staticBytes, CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES, _function), "cuFuncGetAttribute");
        if (staticBytes + _kernel.SharedMemoryBytes > limits.PerBlockOptIn)
        {
            throw CudaUnavailableException.Unsupported(
                $"The kernel needs {staticBytes + _kernel.SharedMemoryBytes} bytes of shared memory per block " +
                $"({staticBytes} static); {DeviceName} (compute capability {ComputeCapability}) allows at most {limits.PerBlockOptIn}.");
        }
        // Without opting in, a function may use 48 KiB less its static shared memory, and the occupancy calculator
        // counts 0 blocks for more: allow all the block limit leaves, before the calculator is asked and for the
        // launch (the attribute is only a ceiling; the launch asks for LaunchSharedBytes).
        if (limits.PerBlockOptIn > DefaultSharedMemoryLimit)
        {
            Check(cuFuncSetAttribute(_function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, limits.PerBlockOptIn - staticBytes),
                "cuFuncSetAttribute");
        }

        _stagedFloats = StagedFloats(_kernel, limits, staticBytes, stagedWeightBytesLimit, BlocksPerMultiprocessor);
    }

    /// <summary>Blocks of this kernel one multiprocessor runs at once with that much dynamic shared memory per block.</summary>
    private int BlocksPerMultiprocessor(int dynamicSharedBytes)
    {
        Check(cuOccupancyMaxActiveBlocksPerMultiprocessor(out var blocks, _function, _kernel.ThreadsPerBlock, (nuint)dynamicSharedBytes),
            "cuOccupancyMaxActiveBlocksPerMultiprocessor");
        return blocks;
    }

    /// <summary>A device's shared memory: the most one block may opt in to, the most per multiprocessor, and what
    /// the driver reserves for each block on top of what the kernel asks for.</summary>
    internal readonly record struct SharedMemoryLimits(int PerBlockOptIn, int PerMultiprocessor, int ReservedPerBlock);

    /// <summary>Floats of recurrent weights to keep in shared memory: no more than the largest recurrent matrix, nor
    /// than the device's per-block limit leaves beside the kernel's static and dynamic shared memory. With a limit
    /// (<see cref="CudaScorerOptions.StagedWeightBytesLimit"/>), at most that many bytes. Without one (automatic),
    /// no more than keeps the number of blocks per multiprocessor that the kernel gets unstaged, as
    /// <paramref name="blocksPerMultiprocessor"/> (the driver's occupancy calculator, given dynamic shared bytes)
    /// counts them.</summary>
    internal static int StagedFloats(CudaKernelDefinition kernel, SharedMemoryLimits device, int staticBytes, int? limitBytes,
        Func<int, int> blocksPerMultiprocessor)
    {
        var room = Math.Max(0, device.PerBlockOptIn - staticBytes - kernel.SharedMemoryBytes);
        var floats = Math.Min(kernel.RecurrentWeightFloats, Math.Min(room, limitBytes ?? int.MaxValue) / sizeof(float));
        if (limitBytes is not null || floats == 0)
            return floats;

        var unstaged = blocksPerMultiprocessor(kernel.SharedMemoryBytes);
        if (unstaged <= 0)
            return 0;
        // Each of the unstaged blocks' share of the multiprocessor, less what the block uses anyway...
        var share = device.PerMultiprocessor / unstaged - device.ReservedPerBlock - staticBytes - kernel.SharedMemoryBytes;
        floats = Math.Min(floats, Math.Max(0, share) / sizeof(float));
        // ...and, as the driver rounds allocations up to its granularity, 1 KiB less until its count agrees.
        const int step = 1024 / sizeof(float);
        while (floats > 0 && blocksPerMultiprocessor(kernel.SharedMemoryBytes + floats * sizeof(float)) < unstaged)
            floats = Math.Max(0, floats - step);
        return floats;
    }

    /// <summary>The most sequences one launch may cover: whole blocks whose scratch fits the limit
    /// (<see cref="int.MaxValue"/> blocks' worth when the kernel uses no scratch).</summary>
    internal static int LaunchSequences(CudaKernelDefinition kernel, long scratchBytesLimit)
    {
        var blockScratchBytes = (long)kernel.SequencesPerBlock * kernel.ScratchFloatsPerSequence * sizeof(float);
        if (blockScratchBytes == 0)
            return int.MaxValue / kernel.SequencesPerBlock * kernel.SequencesPerBlock;
        if (blockScratchBytes > scratchBytesLimit)
        {
            throw new ArgumentException(
                $"One block of {kernel.SequencesPerBlock} sequences needs {blockScratchBytes} bytes of scratch; " +
                $"CudaScorerOptions.ScratchBytesLimit is {scratchBytesLimit}.", "options");
        }
        var blocks = Math.Min(scratchBytesLimit / blockScratchBytes, int.MaxValue / kernel.SequencesPerBlock);
        return (int)blocks * kernel.SequencesPerBlock;
    }

    /// <summary>Sequences per pipeline chunk: <paramref name="sequencesPerChunk"/> rounded down to whole blocks (at
    /// least one), no more than one launch may cover.</summary>
    internal static int ChunkSequences(CudaKernelDefinition kernel, int sequencesPerChunk, long scratchBytesLimit)
    {
        var perBlock = kernel.SequencesPerBlock;
        var chunk = Math.Max(1, sequencesPerChunk / perBlock) * (long)perBlock;
        return (int)Math.Min(chunk, LaunchSequences(kernel, scratchBytesLimit));
    }

    /// <summary>The automatic chunk: <see cref="CudaScorerOptions.AutomaticBlocksPerMultiprocessor"/> blocks per
    /// multiprocessor, at least <see cref="CudaScorerOptions.MinimumAutomaticChunk"/> sequences.</summary>
    internal static int AutomaticChunkSequences(CudaKernelDefinition kernel, int multiprocessors, long scratchBytesLimit)
    {
        var filling = (long)multiprocessors * CudaScorerOptions.AutomaticBlocksPerMultiprocessor * kernel.SequencesPerBlock;
        var sequences = (int)Math.Min(int.MaxValue, Math.Max(filling, CudaScorerOptions.MinimumAutomaticChunk));
        return ChunkSequences(kernel, sequences, scratchBytesLimit);
    }

    // ---- Validation (no device needed) ----

    /// <summary>Checks a float-feature batch against the kernel; returns the number of sequences.</summary>
    internal static int ValidateFeatures(CudaKernelDefinition kernel, int inputLength, int outputLength)
    {
        CheckOverload(kernel, tokens: false);
        return Guard.Batch(inputLength, kernel.InputsPerSequence, "inputs", outputLength, kernel.OutputSize, "outputs");
    }

    /// <summary>Checks a token batch against the kernel, every token included; returns the number of sequences.</summary>
    internal static int ValidateTokens(CudaKernelDefinition kernel, ReadOnlySpan<int> tokens, int outputLength)
    {
        CheckOverload(kernel, tokens: true);
        var count = Guard.Batch(tokens.Length, kernel.InputsPerSequence, "tokens", outputLength, kernel.OutputSize, "outputs");
        Guard.Tokens(tokens, kernel.VocabularySize, "tokens");
        return count;
    }

    /// <summary>Checks a float-feature batch of sequences of their own lengths, as the CPU's
    /// <c>PredictBatch(inputs, lengths, outputs)</c> does; returns the number of sequences.</summary>
    internal static int ValidateFeatures(CudaKernelDefinition kernel, int inputLength, ReadOnlySpan<int> lengths, int outputLength)
    {
        var count = ValidateFeatures(kernel, inputLength, outputLength);
        Guard.Lengths(lengths, count, kernel.SequenceLength, "lengths");
        return count;
    }

    /// <summary>Checks a token batch of sequences of their own lengths: the tokens within each length (the padding
    /// after it is not read); returns the number of sequences.</summary>
    internal static int ValidateTokens(CudaKernelDefinition kernel, ReadOnlySpan<int> tokens, ReadOnlySpan<int> lengths, int outputLength)
    {
        CheckOverload(kernel, tokens: true);
        var count = Guard.Batch(tokens.Length, kernel.InputsPerSequence, "tokens", outputLength, kernel.OutputSize, "outputs");
        Guard.Lengths(lengths, count, kernel.SequenceLength, "lengths");
        Guard.Tokens(tokens, lengths, kernel.SequenceLength, kernel.VocabularySize, "tokens");
        return count;
    }

    /// <summary>Throws <see cref="InvalidOperationException"/> when the overload called (tokens or features) is not
    /// the kind of input the model takes.</summary>
    internal static void CheckOverload(CudaKernelDefinition kernel, bool tokens)
    {
        if (kernel.TakesTokens && !tokens)
        {
            throw new InvalidOperationException(
                $"This model takes token ids (vocabulary of {kernel.VocabularySize}), not float features: pass a ReadOnlySpan<int> of tokens.");
        }
        if (!kernel.TakesTokens && tokens)
        {
            throw new InvalidOperationException(
                $"This model takes float features ({kernel.InputSize} per step), not token ids: pass a ReadOnlySpan<float> of inputs.");
        }
    }

    // ---- Scoring from host memory ----

    /// <summary>Scores every sequence in <paramref name="inputs"/> (any number, each <see cref="InputsPerSequence"/>
    /// floats) into <paramref name="outputs"/> (<see cref="OutputSize"/> floats per sequence).</summary>
    public void Score(ReadOnlySpan<float> inputs, Span<float> outputs)
    {
        ThrowIfDisposed();
        var count = ValidateFeatures(_kernel, inputs.Length, outputs.Length);
        if (count > 0)
            RunLocked(inputs, default, outputs, count, CancellationToken.None);
    }

    /// <summary>Scores sequences of their own lengths, each padded to the model's <c>SequenceLength</c>, as the CPU's
    /// <c>PredictBatch(inputs, lengths, outputs)</c> does (PyTorch's packed sequences): sequence i runs its first
    /// <c>lengths[i]</c> steps; the padding is never read.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A length is less than 1 or more than <c>SequenceLength</c>.</exception>
    public void Score(ReadOnlySpan<float> inputs, ReadOnlySpan<int> lengths, Span<float> outputs)
    {
        ThrowIfDisposed();
        var count = ValidateFeatures(_kernel, inputs.Length, lengths, outputs.Length);
        if (count > 0)
            RunLocked(inputs, lengths, outputs, count, CancellationToken.None);
    }

    /// <summary>Scores every sequence of token ids in <paramref name="tokens"/> (each <see cref="InputsPerSequence"/>
    /// tokens) into <paramref name="outputs"/> (<see cref="OutputSize"/> floats per sequence).</summary>
    public void Score(ReadOnlySpan<int> tokens, Span<float> outputs)
    {
        ThrowIfDisposed();
        var count = ValidateTokens(_kernel, tokens, outputs.Length);
        if (count > 0)
            RunLocked(MemoryMarshal.Cast<int, float>(tokens), default, outputs, count, CancellationToken.None);
    }

    /// <summary>Scores token sequences of their own lengths, each padded to the model's <c>SequenceLength</c>; see
    /// <see cref="Score(ReadOnlySpan{float}, ReadOnlySpan{int}, Span{float})"/>. Tokens past a length need not be in
    /// the vocabulary. A <c>MaskZero</c> model also masks token 0 within each length.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A length is less than 1 or more than <c>SequenceLength</c>, or a
    /// token within a length is not in the vocabulary.</exception>
    public void Score(ReadOnlySpan<int> tokens, ReadOnlySpan<int> lengths, Span<float> outputs)
    {
        ThrowIfDisposed();
        var count = ValidateTokens(_kernel, tokens, lengths, outputs.Length);
        if (count > 0)
            RunLocked(MemoryMarshal.Cast<int, float>(tokens), lengths, outputs, count, CancellationToken.None);
    }

    /// <summary>
    /// <see cref="Score(ReadOnlySpan{float}, Span{float})"/> on a thread-pool thread. The arguments are checked
    /// before this returns; <paramref name="cancellationToken"/> is checked between chunks, and on cancellation
    /// <paramref name="outputs"/> is partly written. Neither buffer may change until the task completes.
    /// </summary>
    public Task ScoreAsync(ReadOnlyMemory<float> inputs, Memory<float> outputs, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        var count = ValidateFeatures(_kernel, inputs.Length, outputs.Length);
        if (count == 0)
            return Finished(cancellationToken);
        return Task.Run(() => RunLocked(inputs.Span, default, outputs.Span, count, cancellationToken), cancellationToken);
    }

    /// <summary><see cref="Score(ReadOnlySpan{float}, ReadOnlySpan{int}, Span{float})"/> on a thread-pool thread; see
    /// <see cref="ScoreAsync(ReadOnlyMemory{float}, Memory{float}, CancellationToken)"/>. No buffer may change until the
    /// task completes.</summary>
    public Task ScoreAsync(ReadOnlyMemory<float> inputs, ReadOnlyMemory<int> lengths, Memory<float> outputs, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        var count = ValidateFeatures(_kernel, inputs.Length, lengths.Span, outputs.Length);
        if (count == 0)
            return Finished(cancellationToken);
        return Task.Run(() => RunLocked(inputs.Span, lengths.Span, outputs.Span, count, cancellationToken), cancellationToken);
    }

    /// <summary><see cref="Score(ReadOnlySpan{int}, Span{float})"/> on a thread-pool thread; see
    /// <see cref="ScoreAsync(ReadOnlyMemory{float}, Memory{float}, CancellationToken)"/>.</summary>
    public Task ScoreAsync(ReadOnlyMemory<int> tokens, Memory<float> outputs, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        var count = ValidateTokens(_kernel, tokens.Span, outputs.Length);
        if (count == 0)
            return Finished(cancellationToken);
        return Task.Run(() => RunLocked(MemoryMarshal.Cast<int, float>(tokens.Span), default, outputs.Span, count, cancellationToken),
            cancellationToken);
    }

    /// <summary><see cref="Score(ReadOnlySpan{int}, ReadOnlySpan{int}, Span{float})"/> on a thread-pool thread; see
    /// <see cref="ScoreAsync(ReadOnlyMemory{float}, Memory{float}, CancellationToken)"/>. No buffer may change until the
    /// task completes.</summary>
    public Task ScoreAsync(ReadOnlyMemory<int> tokens, ReadOnlyMemory<int> lengths, Memory<float> outputs, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        var count = ValidateTokens(_kernel, tokens.Span, lengths.Span, outputs.Length);
        if (count == 0)
            return Finished(cancellationToken);
        return Task.Run(() => RunLocked(MemoryMarshal.Cast<int, float>(tokens.Span), lengths.Span, outputs.Span, count, cancellationToken),
            cancellationToken);
    }

    /// <summary>The task of an empty batch.</summary>
    private static Task Finished(CancellationToken cancellationToken) =>
        cancellationToken.IsCancellationRequested ? Task.FromCanceled(cancellationToken) : Task.CompletedTask;

    // Token ids travel as their bit patterns in a float span: the host only copies them, the kernel reads ints.
    // Empty lengths: every sequence runs all its steps (the kernel gets a null pointer).
    private void RunLocked(ReadOnlySpan<float> inputs, ReadOnlySpan<int> lengths, Span<float> outputs, int count, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            MakeCurrent();
            RunPipeline(inputs, lengths, outputs, count, cancellationToken);
        }
    }

    /// <summary>
    /// Chunks alternate between two slots, each with its own stream, pinned staging buffers and device buffers.
    /// For each chunk: wait for the slot's previous chunk and hand its outputs over, stage the inputs in pinned
    /// memory (and the chunk's lengths, when given), then queue copy-in, kernel and copy-out on the slot's stream. The
    /// other slot's work runs meanwhile, so copies overlap kernels. With lengths, a chunk's sequences are staged longest
    /// first and their outputs put back in place: a block runs as many steps as its longest sequence, so sequences of
    /// similar lengths together waste fewer steps (as the CPU's PredictBatch groups them).
    /// </summary>
    private unsafe void RunPipeline(ReadOnlySpan<float> inputs, ReadOnlySpan<int> lengths, Span<float> outputs, int count,
        CancellationToken cancellationToken)
    {
        var perInput = _kernel.InputsPerSequence;
        var chunk = Math.Min(_chunkSequences, count);
        try
        {
            // Advancing by n, never past count, keeps start from overflowing on batches near int.MaxValue.
            for (int start = 0, n, index = 0; start < count; start += n, index++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var slot = _slots[index & 1];
                Collect(slot, outputs);
                n = Math.Min(chunk, count - start);
                slot.EnsureStaging(chunk);
                var hostInputs = new Span<float>((void*)slot.HostInputs, n * perInput);
                ulong chunkLengths = 0;
                slot.PendingOrdered = !lengths.IsEmpty;
                if (lengths.IsEmpty)
                {
                    inputs.Slice(start * perInput, n * perInput).CopyTo(hostInputs);
                }
                else
                {
                    var order = slot.Order.AsSpan(0, n);
                    var chunkLengthsIn = lengths.Slice(start, n);
                    OrderByLength(chunkLengthsIn, _lengthCounts, order);
                    Gather(inputs.Slice(start * perInput, n * perInput), perInput, order, hostInputs);
                    Gather(chunkLengthsIn, 1, order, new Span<int>((void*)slot.HostLengths, n));
                    Check(cuMemcpyHtoDAsync_v2(slot.DeviceLengths, (void*)slot.HostLengths, (nuint)n * sizeof(int), slot.Stream()),
                        "cuMemcpyHtoDAsync_v2");
                    chunkLengths = slot.DeviceLengths;
                }
                Check(cuMemcpyHtoDAsync_v2(slot.DeviceInputs, (void*)slot.HostInputs, (nuint)n * (nuint)perInput * sizeof(float),
                    slot.Stream()), "cuMemcpyHtoDAsync_v2");
                Launch(slot.DeviceInputs, slot.DeviceOutputs, slot.Scratch, chunkLengths, n, slot.Stream());
                Check(cuMemcpyDtoHAsync_v2((void*)slot.HostOutputs, slot.DeviceOutputs, (nuint)n * (nuint)OutputSize * sizeof(float),
                    slot.Stream()), "cuMemcpyDtoHAsync_v2");
                slot.PendingStart = start;
                slot.PendingCount = n;
            }
            Collect(_slots[0], outputs);
            Collect(_slots[1], outputs);
        }
        catch
        {
            // Nothing may still be copying into the staging buffers when the next call reuses them. The error
            // being thrown is the one to report; a sticky fault would only repeat itself here.
            foreach (var slot in _slots)
                slot.Abandon();
            throw;
        }
    }

    private unsafe void Collect(Slot slot, Span<float> outputs)
    {
        if (slot.PendingCount == 0)
            return;
        Check(cuStreamSynchronize(slot.Stream()), "cuStreamSynchronize");
        var length = slot.PendingCount * OutputSize;
        var staged = new ReadOnlySpan<float>((void*)slot.HostOutputs, length);
        var destination = outputs.Slice(slot.PendingStart * OutputSize, length);
        if (slot.PendingOrdered)
            Scatter(staged, OutputSize, slot.Order.AsSpan(0, slot.PendingCount), destination);
        else
            staged.CopyTo(destination);
        slot.PendingCount = 0;
    }

    /// <summary>Sets <paramref name="order"/>[j] to the index of the sequence to stage j-th: longest first, equal
    /// lengths in their order (a counting sort over the lengths 0 .. counts.Length - 1, O(n + SequenceLength)).</summary>
    internal static void OrderByLength(ReadOnlySpan<int> lengths, Span<int> counts, Span<int> order)
    {
        counts.Clear();
        foreach (var length in lengths)
            counts[length]++;
        // counts[length] becomes where that length's run starts, the longest run first.
        for (int length = counts.Length - 1, next = 0; length >= 0; length--)
            (counts[length], next) = (next, next + counts[length]);
        for (var i = 0; i < lengths.Length; i++)
            order[counts[lengths[i]]++] = i;
    }

    /// <summary>Row j of <paramref name="destination"/> = row order[j] of <paramref name="source"/> (rows of
    /// <paramref name="width"/> values).</summary>
    internal static void Gather<T>(ReadOnlySpan<T> source, int width, ReadOnlySpan<int> order, Span<T> destination)
    {
        for (var j = 0; j < order.Length; j++)
            source.Slice(order[j] * width, width).CopyTo(destination.Slice(j * width, width));
    }

    /// <summary>Row order[j] of <paramref name="destination"/> = row j of <paramref name="source"/>: undoes
    /// <see cref="Gather{T}"/>.</summary>
    internal static void Scatter<T>(ReadOnlySpan<T> source, int width, ReadOnlySpan<int> order, Span<T> destination)
    {
        for (var j = 0; j < order.Length; j++)
            source.Slice(j * width, width).CopyTo(destination.Slice(order[j] * width, width));
    }

    /// <summary>Launches the kernel over <paramref name="sequences"/> sequences (at most one launch's worth), of the
    /// lengths at <paramref name="lengths"/> (0, a null pointer: all full length).</summary>
    private unsafe void Launch(ulong inputs, ulong outputs, ulong scratch, ulong lengths, int sequences, nint stream)
    {
        var weights = _weights;
        var count = sequences;
        var staged = _stagedFloats;
        // kernelParams: one pointer to each argument's value, in the kernel's parameter order. The driver reads as
        // many as the kernel declares, so a kernel without the last (lengths) still launches.
        var arguments = stackalloc void*[] { &weights, &inputs, &outputs, &scratch, &count, &staged, &lengths };
        var blocks = (uint)(((long)sequences + _kernel.SequencesPerBlock - 1) / _kernel.SequencesPerBlock);
        Check(cuLaunchKernel(_function, blocks, 1, 1, (uint)_kernel.ThreadsPerBlock, 1, 1, (uint)LaunchSharedBytes,
            stream, arguments, null), "cuLaunchKernel");
    }

    // ---- Device-resident batches ----

    /// <summary>Allocates device memory for <paramref name="sequences"/> sequences' inputs and outputs, for
    /// <see cref="ScoreResident"/> and <see cref="MeasureResident"/>. Disposing the scorer frees its batches.</summary>
    public CudaBatch AllocateBatch(int sequences)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sequences);
        if ((long)sequences * Math.Max(InputsPerSequence, OutputSize) > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(sequences), sequences,
                "A batch's inputs and outputs must each fit in a span (int.MaxValue values).");
        }
        lock (_gate)
        {
            ThrowIfDisposed();
            MakeCurrent();
            Check(cuMemAlloc_v2(out var inputs, (nuint)sequences * (nuint)InputsPerSequence * sizeof(float)), "cuMemAlloc_v2");
            var result = cuMemAlloc_v2(out var outputs, (nuint)sequences * (nuint)OutputSize * sizeof(float));
            if (result != CUDA_SUCCESS)
            {
                _ = cuMemFree_v2(inputs); // the allocation failure is the error to report
                Check(result, "cuMemAlloc_v2");
            }
            var batch = new CudaBatch(this, sequences, inputs, outputs);
            _batches.Add(batch);
            return batch;
        }
    }

    /// <summary>Scores every sequence of <paramref name="batch"/> in place (several launches if the scratch limit
    /// requires) and waits for the GPU to finish.</summary>
    public void ScoreResident(CudaBatch batch)
    {
        lock (_gate)
        {
            var stream = BeginResident(batch);
            LaunchResident(batch, stream);
            Check(cuStreamSynchronize(stream), "cuStreamSynchronize");
        }
    }

    /// <summary><see cref="ScoreResident"/> timed by CUDA events around the launches: the GPU's time for the kernel
    /// alone, without copies or host overhead.</summary>
    public TimeSpan MeasureResident(CudaBatch batch)
    {
        lock (_gate)
        {
            var stream = BeginResident(batch);
            _startEvent = _startEvent != 0 ? _startEvent : CreateEvent();
            _stopEvent = _stopEvent != 0 ? _stopEvent : CreateEvent();
            Check(cuEventRecord(_startEvent, stream), "cuEventRecord");
            LaunchResident(batch, stream);
            Check(cuEventRecord(_stopEvent, stream), "cuEventRecord");
            Check(cuEventSynchronize(_stopEvent), "cuEventSynchronize");
            var milliseconds = ElapsedMilliseconds(_startEvent, _stopEvent);
            return TimeSpan.FromTicks((long)Math.Round(milliseconds * TimeSpan.TicksPerMillisecond));
        }
    }

    private static nint CreateEvent()
    {
        Check(cuEventCreate(out var evt, CU_EVENT_DEFAULT), "cuEventCreate");
        return evt;
    }

    private nint BeginResident(CudaBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ThrowIfDisposed();
        CheckBatch(batch);
        MakeCurrent();
        // Scratch is (re)allocated here, before MeasureResident's start event, so no allocation is timed.
        _slots[0].EnsureScratch(Math.Min(batch.Sequences, _launchSequences));
        return _slots[0].Stream();
    }

    private void LaunchResident(CudaBatch batch, nint stream)
    {
        var slot = _slots[0];
        var piece = Math.Min(batch.Sequences, _launchSequences);
        for (int start = 0, n; start < batch.Sequences; start += n)
        {
            n = Math.Min(piece, batch.Sequences - start);
            Launch(batch.DeviceInputs + (ulong)start * (ulong)InputsPerSequence * sizeof(float),
                batch.DeviceOutputs + (ulong)start * (ulong)OutputSize * sizeof(float), slot.Scratch,
                batch.HasLengths ? batch.DeviceLengths + (ulong)start * sizeof(int) : 0, n, stream);
        }
    }

    internal CudaKernelDefinition Kernel => _kernel;

    // Token ids arrive as their bit patterns in a float span, as in RunLocked. Empty lengths (checked by the caller):
    // the batch's sequences run all their steps from now on; else their lengths go with them.
    internal unsafe void Upload(CudaBatch batch, ReadOnlySpan<float> values, ReadOnlySpan<int> lengths, string name)
    {
        Guard.Length(values.Length, batch.Sequences * InputsPerSequence, $"{batch.Sequences} sequences × {InputsPerSequence}", name);
        lock (_gate)
        {
            ThrowIfDisposed();
            CheckBatch(batch);
            MakeCurrent();
            var stream = _slots[0].Stream();
            if (!lengths.IsEmpty && batch.DeviceLengths == 0)
            {
                Check(cuMemAlloc_v2(out var deviceLengths, (nuint)batch.Sequences * sizeof(int)), "cuMemAlloc_v2");
                batch.DeviceLengths = deviceLengths;
            }
            batch.HasLengths = false;   // until the copies below succeed
            fixed (float* source = values)
            fixed (int* sourceLengths = lengths)
            {
                Check(cuMemcpyHtoDAsync_v2(batch.DeviceInputs, source, (nuint)values.Length * sizeof(float), stream), "cuMemcpyHtoDAsync_v2");
                if (!lengths.IsEmpty)
                    Check(cuMemcpyHtoDAsync_v2(batch.DeviceLengths, sourceLengths, (nuint)lengths.Length * sizeof(int), stream), "cuMemcpyHtoDAsync_v2");
                Check(cuStreamSynchronize(stream), "cuStreamSynchronize");
            }
            batch.HasLengths = !lengths.IsEmpty;
        }
    }

    internal unsafe void Download(CudaBatch batch, Span<float> outputs)
    {
        Guard.Length(outputs.Length, batch.Sequences * OutputSize, $"{batch.Sequences} sequences × {OutputSize}", nameof(outputs));
        lock (_gate)
        {
            ThrowIfDisposed();
            CheckBatch(batch);
            MakeCurrent();
            var stream = _slots[0].Stream();
            fixed (float* destination = outputs)
            {
                Check(cuMemcpyDtoHAsync_v2(destination, batch.DeviceOutputs, (nuint)outputs.Length * sizeof(float), stream), "cuMemcpyDtoHAsync_v2");
                Check(cuStreamSynchronize(stream), "cuStreamSynchronize");
            }
        }
    }

    internal void Release(CudaBatch batch)
    {
        lock (_gate)
        {
            if (batch.IsDisposed)
                return;
            if (!_disposed && _batches.Remove(batch))
            {
                // A failed switch leaves nothing to free memory with; the batch is marked freed either way.
                if (cuCtxSetCurrent(_context) == CUDA_SUCCESS)
                    FreeBatch(batch);
            }
            batch.IsDisposed = true;
        }
    }

    private void CheckBatch(CudaBatch batch)
    {
        if (batch.Owner != this)
            throw new ArgumentException("The batch was allocated by another scorer.", nameof(batch));
        ObjectDisposedException.ThrowIf(batch.IsDisposed, batch);
    }

    private static void FreeBatch(CudaBatch batch)
    {
        _ = cuMemFree_v2(batch.DeviceInputs);
        _ = cuMemFree_v2(batch.DeviceOutputs);
        if (batch.DeviceLengths != 0)
            _ = cuMemFree_v2(batch.DeviceLengths);
    }

    // ---- Context and lifetime ----

    // A CUDA context is current per thread, and callers may use any thread (ScoreAsync always does).
    private void MakeCurrent() => Check(cuCtxSetCurrent(_context), "cuCtxSetCurrent");

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    /// <summary>Frees the device and pinned memory, streams, events and kernel, and releases the device's primary
    /// context. Waits for a call in progress on another thread to finish first. Safe to call more than once.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
                return;
            _disposed = true;
            if (_context == 0)
                return; // nothing on the device was acquired

            // Teardown results are deliberately not thrown: after a sticky kernel fault every call returns that
            // fault, and the rest must still be released (the primary context's release frees whatever remains).
            _ = cuCtxSetCurrent(_context);
            foreach (var slot in _slots)
                slot.Free();
            foreach (var batch in _batches)
            {
                FreeBatch(batch);
                batch.IsDisposed = true;
            }
            _batches.Clear();
            if (_startEvent != 0)
                _ = cuEventDestroy_v2(_startEvent);
            if (_stopEvent != 0)
                _ = cuEventDestroy_v2(_stopEvent);
            if (_weights != 0)
                _ = cuMemFree_v2(_weights);
            if (_module != 0)
                _ = cuModuleUnload(_module);
            _ = cuDevicePrimaryCtxRelease_v2(_device);
            _startEvent = _stopEvent = _module = _function = _context = 0;
            _weights = 0;
        }
    }

    /// <summary>One pipeline slot: a non-blocking stream, pinned host staging and device buffers for a chunk, and the
    /// kernel's scratch. Buffers are allocated at first use and grow, never shrink, across calls.</summary>
    private sealed class Slot(CudaKernelDefinition kernel)
    {
        private nint _stream;
        private int _stagingCapacity;
        private int _scratchBlocks;

        public nint HostInputs;
        public nint HostOutputs;
        public nint HostLengths;
        public ulong DeviceInputs;
        public ulong DeviceOutputs;
        public ulong DeviceLengths;
        public ulong Scratch; // 0 (a null pointer) when the kernel uses none
        public int PendingStart;
        public int PendingCount;
        public bool PendingOrdered;   // the pending chunk was staged in Order (sequences of their own lengths)
        public int[] Order = [];      // which sequence of the chunk each staged position holds

        public nint Stream()
        {
            if (_stream == 0)
            {
                Check(cuStreamCreate(out var stream, CU_STREAM_NON_BLOCKING), "cuStreamCreate");
                _stream = stream;
            }
            return _stream;
        }

        public void EnsureStaging(int sequences)
        {
            EnsureScratch(sequences);
            if (_stagingCapacity >= sequences)
                return;
            // The stream is idle here: every chunk queued on it was collected or abandoned.
            FreeStaging();
            var inputBytes = (nuint)sequences * (nuint)kernel.InputsPerSequence * sizeof(float);
            var outputBytes = (nuint)sequences * (nuint)kernel.OutputSize * sizeof(float);
            // Lengths take 4 bytes a sequence, next to inputs of at least as many: staged always, used when given.
            var lengthBytes = (nuint)sequences * sizeof(int);
            // Each pointer is stored as soon as it exists, so a failure part way leaves nothing unaccounted for.
            HostInputs = AllocateHost(inputBytes);
            HostOutputs = AllocateHost(outputBytes);
            HostLengths = AllocateHost(lengthBytes);
            DeviceInputs = AllocateDevice(inputBytes);
            DeviceOutputs = AllocateDevice(outputBytes);
            DeviceLengths = AllocateDevice(lengthBytes);
            Order = new int[sequences];
            _stagingCapacity = sequences;
        }

        public void EnsureScratch(int sequences)
        {
            var blocks = (int)(((long)sequences + kernel.SequencesPerBlock - 1) / kernel.SequencesPerBlock);
            if (kernel.ScratchFloatsPerSequence == 0 || _scratchBlocks >= blocks)
                return;
            if (Scratch != 0)
            {
                // A launch queued earlier may still be using it.
                Check(cuStreamSynchronize(Stream()), "cuStreamSynchronize");
                _ = cuMemFree_v2(Scratch);
                Scratch = 0;
                _scratchBlocks = 0;
            }
            var floats = (nuint)blocks * (nuint)kernel.SequencesPerBlock * (nuint)kernel.ScratchFloatsPerSequence;
            Scratch = AllocateDevice(floats * sizeof(float));
            _scratchBlocks = blocks;
        }

        private static nint AllocateHost(nuint bytes)
        {
            Check(cuMemAllocHost_v2(out var pointer, bytes), "cuMemAllocHost_v2");
            return pointer;
        }

        private static ulong AllocateDevice(nuint bytes)
        {
            Check(cuMemAlloc_v2(out var pointer, bytes), "cuMemAlloc_v2");
            return pointer;
        }

        /// <summary>Waits out whatever is queued, ignoring its result, and forgets the pending chunk.</summary>
        public void Abandon()
        {
            if (_stream != 0)
                _ = cuStreamSynchronize(_stream);
            PendingCount = 0;
        }

        public void Free()
        {
            Abandon();
            FreeStaging();
            if (Scratch != 0)
                _ = cuMemFree_v2(Scratch);
            Scratch = 0;
            _scratchBlocks = 0;
            if (_stream != 0)
                _ = cuStreamDestroy_v2(_stream);
            _stream = 0;
        }

        private void FreeStaging()
        {
            if (HostInputs != 0)
                _ = cuMemFreeHost(HostInputs);
            if (HostOutputs != 0)
                _ = cuMemFreeHost(HostOutputs);
            if (HostLengths != 0)
                _ = cuMemFreeHost(HostLengths);
            if (DeviceInputs != 0)
                _ = cuMemFree_v2(DeviceInputs);
            if (DeviceOutputs != 0)
                _ = cuMemFree_v2(DeviceOutputs);
            if (DeviceLengths != 0)
                _ = cuMemFree_v2(DeviceLengths);
            HostInputs = HostOutputs = HostLengths = 0;
            DeviceInputs = DeviceOutputs = DeviceLengths = 0;
            _stagingCapacity = 0;
        }
    }
}
