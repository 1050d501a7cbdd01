using System.Runtime.CompilerServices;

namespace StaticRnn.Runtime.Simd;

/// <summary>
/// A vector of floats of a width fixed per implementation: 16 (<see cref="V512"/>), 8 (<see cref="V256"/>),
/// 4 (<see cref="V128"/>) or 1 (<see cref="Scalar"/>). Kernels are written once, generic over this interface;
/// the JIT compiles one specialized copy per width, so the abstraction costs nothing, and the scalar path is
/// the same code with one lane.
/// </summary>
internal interface ISimd<TSelf> where TSelf : struct, ISimd<TSelf>
{
    static abstract int Count { get; }
    static abstract TSelf Zero { get; }
    static abstract TSelf Broadcast(float value);
    /// <summary>Every lane set to lane <paramref name="lane"/> of <paramref name="value"/> (0 ≤ lane &lt; Count), without
    /// going through memory where the hardware has a lane permute.</summary>
    static abstract TSelf BroadcastLane(TSelf value, int lane);
    /// <summary>Unaligned load of Count floats at <paramref name="source"/> + <paramref name="offset"/>.</summary>
    static abstract TSelf Load(ref float source, nint offset);
    static abstract void Store(TSelf value, ref float destination, nint offset);
    static abstract TSelf Add(TSelf a, TSelf b);
    static abstract TSelf Subtract(TSelf a, TSelf b);
    static abstract TSelf Multiply(TSelf a, TSelf b);
    static abstract TSelf Divide(TSelf a, TSelf b);
    /// <summary>a × b + c, fused where the hardware has FMA.</summary>
    static abstract TSelf MultiplyAdd(TSelf a, TSelf b, TSelf c);
    /// <summary>a &lt; b ? a : b, lane by lane: the hardware's minimum, which gives b when either is NaN
    /// (put the value that may be NaN second to keep it).</summary>
    static abstract TSelf Min(TSelf a, TSelf b);
    /// <summary>a &gt; b ? a : b, lane by lane; b when either is NaN.</summary>
    static abstract TSelf Max(TSelf a, TSelf b);
    /// <summary>2^n for integral n in [-126, 127], built from the exponent bits.</summary>
    static abstract TSelf Pow2(TSelf n);
    /// <summary>All-ones lanes where a &lt; b (false for NaN).</summary>
    static abstract TSelf LessThan(TSelf a, TSelf b);
    /// <summary>Lanes of <paramref name="whenTrue"/> where <paramref name="mask"/> is set, else of <paramref name="whenFalse"/>.</summary>
    static abstract TSelf Select(TSelf mask, TSelf whenTrue, TSelf whenFalse);
    static abstract TSelf And(TSelf a, TSelf b);
    static abstract TSelf Xor(TSelf a, TSelf b);
    /// <summary>The recurrent gates' tanh, <see cref="GateMath"/> on this width's hardware type.</summary>
    static abstract TSelf GateTanh(TSelf x);
    /// <summary>The recurrent gates' sigmoid, <see cref="GateMath"/> on this width's hardware type.</summary>
    static abstract TSelf GateSigmoid(TSelf x);
}

/// <summary>Picks the widest vector the hardware accelerates. The checks are JIT-time constants, so each call
/// site keeps only the taken branch.</summary>
internal static class SimdWidth
{
    public static int Best
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? 16
            : System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated ? 8
            : System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated ? 4
            : 1;
    }
}
