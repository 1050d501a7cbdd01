using System;
using System.ComponentModel;

namespace StaticRnn.Cuda;

/// <summary>
/// A model's CUDA kernel as the generator wrote it: its source, its entry point and the launch shape.
/// The entry point has the fixed signature
/// <c>extern "C" __global__ void ENTRY(const float* weights, const void* inputs, float* outputs, float* scratch, int sequences, int staged_floats, const int* lengths)</c>,
/// where <c>inputs</c> holds floats or, for models that take tokens, ints, <c>staged_floats</c> is how many floats
/// of dynamic shared memory after <see cref="SharedMemoryBytes"/> the launch added for recurrent weights, and
/// <c>lengths</c> holds each sequence's length (1 to <see cref="SequenceLength"/>), or is null when every sequence runs
/// all its steps (a kernel may leave out this last parameter and score full-length sequences only); it runs in blocks of
/// <see cref="ThreadsPerBlock"/> threads, each block scoring <see cref="SequencesPerBlock"/> sequences.
/// </summary>
/// <remarks>Public only so generated code in user assemblies can create it; not a supported API.</remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class CudaKernelDefinition
{
    /// <summary>Creates the definition, checking every argument.</summary>
    /// <param name="entryPoint">The kernel's extern "C" name.</param>
    /// <param name="source">The CUDA C++ source that defines it.</param>
    /// <param name="sequenceLength">Steps per sequence.</param>
    /// <param name="inputSize">Features per step; 1 for models that take tokens.</param>
    /// <param name="vocabularySize">The number of token ids for models that take tokens (one per step), else 0.</param>
    /// <param name="outputSize">Floats each sequence produces.</param>
    /// <param name="sequencesPerBlock">Sequences one thread block scores.</param>
    /// <param name="threadsPerBlock">Threads per block.</param>
    /// <param name="sharedMemoryBytes">Dynamic shared memory per block.</param>
    /// <param name="scratchFloatsPerSequence">Global scratch floats each sequence needs during a launch (0 for none).</param>
    /// <param name="recurrentWeightFloats">The largest recurrent weight matrix, in floats: the most shared memory the
    /// kernel can use to keep recurrent weights there (0 for a kernel that keeps none).</param>
    public CudaKernelDefinition(string entryPoint, string source, int sequenceLength, int inputSize, int vocabularySize,
        int outputSize, int sequencesPerBlock, int threadsPerBlock, int sharedMemoryBytes, int scratchFloatsPerSequence,
        int recurrentWeightFloats = 0)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(source);
        if (!IsIdentifier(entryPoint))
            throw new ArgumentException($"The entry point must be a C identifier; it is '{entryPoint}'.", nameof(entryPoint));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sequenceLength);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputSize);
        ArgumentOutOfRangeException.ThrowIfNegative(vocabularySize);
        if (vocabularySize > 0 && inputSize != 1)
            throw new ArgumentException($"A model that takes tokens reads one token per step, so inputSize must be 1; it is {inputSize}.", nameof(inputSize));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sequencesPerBlock);
        // 1024 threads per block is the limit of every CUDA architecture since compute capability 2.0.
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(threadsPerBlock);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(threadsPerBlock, 1024);
        ArgumentOutOfRangeException.ThrowIfNegative(sharedMemoryBytes);
        ArgumentOutOfRangeException.ThrowIfNegative(scratchFloatsPerSequence);
        ArgumentOutOfRangeException.ThrowIfNegative(recurrentWeightFloats);
        if ((long)sequenceLength * inputSize > int.MaxValue)
            throw new ArgumentException($"A sequence of {sequenceLength} steps × {inputSize} inputs is more values than a span holds.", nameof(sequenceLength));

        EntryPoint = entryPoint;
        Source = source;
        SequenceLength = sequenceLength;
        InputSize = inputSize;
        VocabularySize = vocabularySize;
        OutputSize = outputSize;
        SequencesPerBlock = sequencesPerBlock;
        ThreadsPerBlock = threadsPerBlock;
        SharedMemoryBytes = sharedMemoryBytes;
        ScratchFloatsPerSequence = scratchFloatsPerSequence;
        RecurrentWeightFloats = recurrentWeightFloats;
    }

    /// <summary>The kernel's extern "C" name.</summary>
    public string EntryPoint { get; }

    /// <summary>The CUDA C++ source.</summary>
    public string Source { get; }

    /// <summary>Steps per sequence.</summary>
    public int SequenceLength { get; }

    /// <summary>Features per step (1 for models that take tokens).</summary>
    public int InputSize { get; }

    /// <summary>The number of token ids, or 0 for models that take float features.</summary>
    public int VocabularySize { get; }

    /// <summary>Floats each sequence produces.</summary>
    public int OutputSize { get; }

    /// <summary>Sequences one thread block scores.</summary>
    public int SequencesPerBlock { get; }

    /// <summary>Threads per block.</summary>
    public int ThreadsPerBlock { get; }

    /// <summary>Dynamic shared memory per block, in bytes.</summary>
    public int SharedMemoryBytes { get; }

    /// <summary>Global scratch floats per sequence during a launch.</summary>
    public int ScratchFloatsPerSequence { get; }

    /// <summary>The largest recurrent weight matrix, in floats: the most the kernel can keep in shared memory.</summary>
    public int RecurrentWeightFloats { get; }

    /// <summary>Whether the model takes int tokens rather than float features.</summary>
    public bool TakesTokens => VocabularySize > 0;

    /// <summary>Values per sequence in the input: <see cref="SequenceLength"/> × <see cref="InputSize"/>.</summary>
    public int InputsPerSequence => SequenceLength * InputSize;

    private static bool IsIdentifier(string? name)
    {
        if (string.IsNullOrEmpty(name) || char.IsAsciiDigit(name[0]))
            return false;
        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '_')
                return false;
        }
        return true;
    }
}
