using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace StaticRnn.Runtime;

/// <summary>
/// The scratch memory of a forward pass, on a 64-byte boundary like the weights (<see cref="WeightData.Alignment"/>), so
/// that the kernels' vector loads and stores of gate rows never straddle two cache lines. Generated code asks for 16 floats
/// more than it uses and takes the aligned part: from the stack, or from a per-thread array on the pinned object heap
/// (which the garbage collector never moves, so its alignment holds). Without it, where the gate rows started depended
/// on where the stack or the array happened to be in each process.
/// </summary>
/// <remarks>Public only so generated code in user assemblies can call it; not a supported API.</remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Scratch
{
    /// <summary>Floats to ask for beyond what is used: the most <see cref="Align"/> can skip.</summary>
    public const int Slack = WeightData.Alignment / sizeof(float);

    /// <summary>An array for <see cref="Align"/> of <paramref name="length"/> floats, that never moves.</summary>
    public static float[] Allocate(int length) => GC.AllocateArray<float>(length + Slack, pinned: true);

    /// <summary>The <paramref name="length"/> floats of <paramref name="memory"/> (stack memory, or an array from
    /// <see cref="Allocate"/>; at least <paramref name="length"/> + <see cref="Slack"/> floats) that start on a 64-byte
    /// boundary.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Span<float> Align(Span<float> memory, int length)
    {
        var address = (nuint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(memory));
        var skip = (int)((WeightData.Alignment - address % WeightData.Alignment) % WeightData.Alignment) / sizeof(float);
        return memory.Slice(skip, length);
    }
}
