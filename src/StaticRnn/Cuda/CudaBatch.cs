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

    // Read and written under the owner's lock.
    internal bool IsDisposed { get; set; }

    /// <summary>Copies the float inputs of all <see cref="Sequences"/> sequences to the device.</summary>
    public void Upload(ReadOnlySpan<float> inputs)
    {
        CudaScorer.CheckOverload(Owner.Kernel, tokens: false);
        Owner.Upload(this, inputs, nameof(inputs));
    }

    /// <summary>Copies the token ids of all <see cref="Sequences"/> sequences to the device, after checking each
    /// is in the vocabulary.</summary>
    public void Upload(ReadOnlySpan<int> tokens)
    {
        CudaScorer.CheckOverload(Owner.Kernel, tokens: true);
        Guard.Tokens(tokens, Owner.Kernel.VocabularySize, nameof(tokens));
        Owner.Upload(this, MemoryMarshal.Cast<int, float>(tokens), nameof(tokens));
    }

    /// <summary>Copies the outputs of all <see cref="Sequences"/> sequences from the device.</summary>
    public void Download(Span<float> outputs) => Owner.Download(this, outputs);

    /// <summary>Frees the batch's device memory. Safe to call more than once, and after the scorer is disposed.</summary>
    public void Dispose() => Owner.Release(this);
}
