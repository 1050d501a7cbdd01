using System;
using System.Runtime.InteropServices;
using StaticRnn.Runtime;

namespace StaticRnn.Cuda;

/// <summary>
/// Inputs and outputs for a fixed number of sequences kept in device memory, so that
/// <see cref="CudaScorer.ScoreResident"/> and <see cref="CudaScorer.MeasureResident"/> run the kernel without host
/// copies. Made by <see cref="CudaScorer.AllocateBatch"/>; disposing it (or its scorer) frees the memory.
/// </summary>
public sealed class CudaBatch : IDisposable
{
    internal CudaBatch(CudaScorer owner, int sequences, ulong deviceInputs, ulong deviceOutputs)
    {
        Owner = owner;
        Sequences = sequences;
        DeviceInputs = deviceInputs;
        DeviceOutputs = deviceOutputs;
    }

    /// <summary>The number of sequences the batch holds.</summary>
    public int Sequences { get; }

    internal CudaScorer Owner { get; }

    internal ulong DeviceInputs { get; }

    internal ulong DeviceOutputs { get; }

    /// <summary>Device memory for one length per sequence, allocated at the first upload with lengths; 0 until then.</summary>
    internal ulong DeviceLengths { get; set; }

    /// <summary>Whether the last upload gave lengths (else every sequence runs all its steps).</summary>
    internal bool HasLengths { get; set; }

    // Read and written under the owner's lock.
    internal bool IsDisposed { get; set; }

    /// <summary>Copies the float inputs of all <see cref="Sequences"/> sequences to the device; each runs all its steps.</summary>
    public void Upload(ReadOnlySpan<float> inputs)
    {
        CudaScorer.CheckOverload(Owner.Kernel, tokens: false);
        Owner.Upload(this, inputs, default, nameof(inputs));
    }

    /// <summary>Copies the float inputs of all <see cref="Sequences"/> sequences, each padded to the model's
    /// <c>SequenceLength</c>, and their lengths to the device: sequence i runs its first <c>lengths[i]</c> steps, as in
    /// <see cref="CudaScorer.Score(ReadOnlySpan{float}, ReadOnlySpan{int}, Span{float})"/>.</summary>
    public void Upload(ReadOnlySpan<float> inputs, ReadOnlySpan<int> lengths)
    {
        CudaScorer.CheckOverload(Owner.Kernel, tokens: false);
        Guard.Lengths(lengths, Sequences, Owner.Kernel.SequenceLength, nameof(lengths));
        Owner.Upload(this, inputs, lengths, nameof(inputs));
    }

    /// <summary>Copies the token ids of all <see cref="Sequences"/> sequences to the device, after checking each
    /// is in the vocabulary; each sequence runs all its steps.</summary>
    public void Upload(ReadOnlySpan<int> tokens)
    {
        CudaScorer.CheckOverload(Owner.Kernel, tokens: true);
        Guard.Tokens(tokens, Owner.Kernel.VocabularySize, nameof(tokens));
        Owner.Upload(this, MemoryMarshal.Cast<int, float>(tokens), default, nameof(tokens));
    }

    /// <summary>Copies the token ids of all <see cref="Sequences"/> sequences, each padded to the model's
    /// <c>SequenceLength</c>, and their lengths to the device, after checking the tokens within each length.</summary>
    public void Upload(ReadOnlySpan<int> tokens, ReadOnlySpan<int> lengths)
    {
        CudaScorer.CheckOverload(Owner.Kernel, tokens: true);
        Guard.Lengths(lengths, Sequences, Owner.Kernel.SequenceLength, nameof(lengths));
        Guard.Length(tokens.Length, Sequences * Owner.InputsPerSequence, $"{Sequences} sequences × {Owner.InputsPerSequence}", nameof(tokens));
        Guard.Tokens(tokens, lengths, Owner.Kernel.SequenceLength, Owner.Kernel.VocabularySize, nameof(tokens));
        Owner.Upload(this, MemoryMarshal.Cast<int, float>(tokens), lengths, nameof(tokens));
    }

    /// <summary>Copies the outputs of all <see cref="Sequences"/> sequences from the device.</summary>
    public void Download(Span<float> outputs) => Owner.Download(this, outputs);

    /// <summary>Frees the batch's device memory. Safe to call more than once, and after the scorer is disposed.</summary>
    public void Dispose() => Owner.Release(this);
}
