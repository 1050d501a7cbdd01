using System;

namespace StaticRnn.Cuda;

/// <summary>Settings for <see cref="CudaScorer"/>; each setter checks its value.</summary>
public sealed class CudaScorerOptions
{
    /// <summary>The automatic chunk is at least this many sequences...</summary>
    internal const int MinimumAutomaticChunk = 16384;

    /// <summary>...and at least this many blocks per multiprocessor, enough to fill every multiprocessor for a
    /// kernel that fits up to four blocks on one (two waves where two fit), so each chunk's launch keeps the GPU busy
    /// while the other chunk's copies run.</summary>
    internal const int AutomaticBlocksPerMultiprocessor = 4;

    internal const long DefaultScratchBytesLimit = 512L * 1024 * 1024;

    private int _deviceOrdinal;
    private int _sequencesPerChunk;
    private long _scratchBytesLimit = DefaultScratchBytesLimit;
    private int? _stagedWeightBytesLimit;

    /// <summary>The CUDA device to use, as the driver numbers them (CUDA_VISIBLE_DEVICES applies). Default 0.</summary>
    public int DeviceOrdinal
    {
        get => _deviceOrdinal;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _deviceOrdinal = value;
        }
    }

    /// <summary>Where compiled kernels are cached. Null (the default) means the STATICRNN_CUDA_CACHE environment
    /// variable, else StaticRnn/cuda under the local application data folder; an empty string disables the cache.</summary>
    public string? CacheDirectory { get; set; }

    /// <summary>Sequences per chunk when scoring from host memory: copies of one chunk overlap the kernel of the
    /// previous one. Rounded down to whole blocks (at least one), and lowered further if a chunk's scratch would
    /// exceed <see cref="ScratchBytesLimit"/>. Default 0: automatic, enough blocks for four per multiprocessor of
    /// the device and at least 16,384 sequences.</summary>
    public int SequencesPerChunk
    {
        get => _sequencesPerChunk;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _sequencesPerChunk = value;
        }
    }

    /// <summary>The most device scratch memory one launch may use, in bytes; larger batches are split into several
    /// launches. It must hold at least one block's scratch. Default 512 MiB.</summary>
    public long ScratchBytesLimit
    {
        get => _scratchBytesLimit;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value);
            _scratchBytesLimit = value;
        }
    }

    /// <summary>The most shared memory per block, in bytes, that the kernel may fill with recurrent weights, so that
    /// each step reads them there rather than from L1/L2. Each recurrent layer keeps as many of its first rows as fit;
    /// the rest are read from global memory, and results are the same either way.
    /// <para>Null (the default) is automatic: as much as fits without lowering the number of blocks each
    /// multiprocessor runs at once, as the driver's occupancy calculator counts them for the kernel unstaged (so a
    /// kernel that registers hold to two blocks per multiprocessor gets half of it, less its own). A number allows up to that many
    /// bytes, within what the device allows one block, even if fewer blocks then fit a multiprocessor;
    /// <see cref="int.MaxValue"/> stages all that fits, 0 none. <see cref="CudaScorer.StagedWeightBytes"/> says what
    /// it came to.</para></summary>
    public int? StagedWeightBytesLimit
    {
        get => _stagedWeightBytesLimit;
        set
        {
            if (value is { } bytes)
                ArgumentOutOfRangeException.ThrowIfNegative(bytes, nameof(value));
            _stagedWeightBytesLimit = value;
        }
    }
}
