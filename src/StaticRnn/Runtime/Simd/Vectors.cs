using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using static StaticRnn.Runtime.Simd.Pow2Constants;

namespace StaticRnn.Runtime.Simd;

internal static class Pow2Constants
{
    /// <summary>1.5 × 2^23: adding it to an integral float puts the integer in the low mantissa bits.</summary>
    public const float MagicRound = 12582912f;
    /// <summary>127 − the bits of <see cref="MagicRound"/>: turns those bits into a biased exponent.</summary>
    public const int ExponentBias = 127 - 0x4B400000;
}

/// <summary>512-bit vectors (AVX-512).</summary>
internal readonly struct V512(Vector512<float> v) : ISimd<V512>
{
    public readonly Vector512<float> V = v;

    public static int Count => 16;
    public static V512 Zero => new(Vector512<float>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 Broadcast(float value) => new(Vector512.Create(value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 BroadcastLane(V512 value, int lane) =>
        new(Avx512F.IsSupported ? Avx512F.PermuteVar16x32(value.V, Vector512.Create(lane)) : Vector512.Create(value.V.GetElement(lane)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 Load(ref float source, nint offset) => new(Vector512.LoadUnsafe(ref source, (nuint)offset));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(V512 value, ref float destination, nint offset) => value.V.StoreUnsafe(ref destination, (nuint)offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 Add(V512 a, V512 b) => new(a.V + b.V);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 Subtract(V512 a, V512 b) => new(a.V - b.V);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 Multiply(V512 a, V512 b) => new(a.V * b.V);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 Divide(V512 a, V512 b) => new(a.V / b.V);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 MultiplyAdd(V512 a, V512 b, V512 c) => new(Avx512F.IsSupported ? Avx512F.FusedMultiplyAdd(a.V, b.V, c.V) : a.V * b.V + c.V);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 Min(V512 a, V512 b) =>
        new(Vector512.MinNative(a.V, b.V));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 Max(V512 a, V512 b) =>
        new(Vector512.MaxNative(a.V, b.V));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 Pow2(V512 n) =>
        new((((n.V + Vector512.Create(MagicRound)).AsInt32() + Vector512.Create(ExponentBias)) << 23).AsSingle());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 LessThan(V512 a, V512 b) => new(Vector512.LessThan(a.V, b.V));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 Select(V512 mask, V512 whenTrue, V512 whenFalse) =>
        new(Vector512.ConditionalSelect(mask.V, whenTrue.V, whenFalse.V));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 And(V512 a, V512 b) => new(a.V & b.V);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 Xor(V512 a, V512 b) => new(a.V ^ b.V);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 GateTanh(V512 x) => new(GateMath.Tanh(x.V));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 GateSigmoid(V512 x) => new(GateMath.Sigmoid(x.V));
}

/// <summary>256-bit vectors (AVX, with FMA where present).</summary>
internal readonly struct V256(Vector256<float> v) : ISimd<V256>
{
    public readonly Vector256<float> V = v;

    public static int Count => 8;
    public static V256 Zero => new(Vector256<float>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 Broadcast(float value) => new(Vector256.Create(value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 BroadcastLane(V256 value, int lane) =>
        new(Avx2.IsSupported ? Avx2.PermuteVar8x32(value.V, Vector256.Create(lane)) : Vector256.Create(value.V.GetElement(lane)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 Load(ref float source, nint offset) => new(Vector256.LoadUnsafe(ref source, (nuint)offset));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(V256 value, ref float destination, nint offset) => value.V.StoreUnsafe(ref destination, (nuint)offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 Add(V256 a, V256 b) => new(a.V + b.V);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 Subtract(V256 a, V256 b) => new(a.V - b.V);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 Multiply(V256 a, V256 b) => new(a.V * b.V);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 Divide(V256 a, V256 b) => new(a.V / b.V);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 MultiplyAdd(V256 a, V256 b, V256 c) => new(Fma.IsSupported ? Fma.MultiplyAdd(a.V, b.V, c.V) : a.V * b.V + c.V);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 Min(V256 a, V256 b) =>
        new(Vector256.MinNative(a.V, b.V));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 Max(V256 a, V256 b) =>
        new(Vector256.MaxNative(a.V, b.V));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 Pow2(V256 n) =>
        new((((n.V + Vector256.Create(MagicRound)).AsInt32() + Vector256.Create(ExponentBias)) << 23).AsSingle());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 LessThan(V256 a, V256 b) => new(Vector256.LessThan(a.V, b.V));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 Select(V256 mask, V256 whenTrue, V256 whenFalse) =>
        new(Vector256.ConditionalSelect(mask.V, whenTrue.V, whenFalse.V));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 And(V256 a, V256 b) => new(a.V & b.V);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 Xor(V256 a, V256 b) => new(a.V ^ b.V);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 GateTanh(V256 x) => new(GateMath.Tanh(x.V));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 GateSigmoid(V256 x) => new(GateMath.Sigmoid(x.V));
}

/// <summary>128-bit vectors (SSE, NEON).</summary>
internal readonly struct V128(Vector128<float> v) : ISimd<V128>
{
    public readonly Vector128<float> V = v;

    public static int Count => 4;
    public static V128 Zero => new(Vector128<float>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128 Broadcast(float value) => new(Vector128.Create(value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128 BroadcastLane(V128 value, int lane) =>
        new(Avx.IsSupported ? Avx.PermuteVar(value.V, Vector128.Create(lane)) : Vector128.Create(value.V.GetElement(lane)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128 Load(ref float source, nint offset) => new(Vector128.LoadUnsafe(ref source, (nuint)offset));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(V128 value, ref float destination, nint offset) => value.V.StoreUnsafe(ref destination, (nuint)offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128 Add(V128 a, V128 b) => new(a.V + b.V);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128 Subtract(V128 a, V128 b) => new(a.V - b.V);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128 Multiply(V128 a, V128 b) => new(a.V * b.V);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128 Divide(V128 a, V128 b) => new(a.V / b.V);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128 MultiplyAdd(V128 a, V128 b, V128 c) => new(Fma.IsSupported ? Fma.MultiplyAdd(a.V, b.V, c.V) : AdvSimd.IsSupported ? AdvSimd.FusedMultiplyAdd(c.V, a.V, b.V) : a.V * b.V + c.V);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128 Min(V128 a, V128 b) =>
        new(Vector128.MinNative(a.V, b.V));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128 Max(V128 a, V128 b) =>
        new(Vector128.MaxNative(a.V, b.V));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128 Pow2(V128 n) =>
        new((((n.V + Vector128.Create(MagicRound)).AsInt32() + Vector128.Create(ExponentBias)) << 23).AsSingle());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128 LessThan(V128 a, V128 b) => new(Vector128.LessThan(a.V, b.V));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128 Select(V128 mask, V128 whenTrue, V128 whenFalse) =>
        new(Vector128.ConditionalSelect(mask.V, whenTrue.V, whenFalse.V));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128 And(V128 a, V128 b) => new(a.V & b.V);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128 Xor(V128 a, V128 b) => new(a.V ^ b.V);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128 GateTanh(V128 x) => new(GateMath.Tanh(x.V));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128 GateSigmoid(V128 x) => new(GateMath.Sigmoid(x.V));
}
