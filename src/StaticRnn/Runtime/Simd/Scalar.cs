using System;
using System.Runtime.CompilerServices;

namespace StaticRnn.Runtime.Simd;

/// <summary>One lane: the path for hardware without vector support (or DOTNET_EnableHWIntrinsic=0).</summary>
internal readonly struct Scalar(float v) : ISimd<Scalar>
{
    public readonly float V = v;

    public static int Count => 1;
    public static Scalar Zero => new(0f);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Scalar Broadcast(float value) => new(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Scalar BroadcastLane(Scalar value, int lane) => value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Scalar Load(ref float source, nint offset) => new(Unsafe.Add(ref source, offset));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Scalar value, ref float destination, nint offset) => Unsafe.Add(ref destination, offset) = value.V;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Scalar Add(Scalar a, Scalar b) => new(a.V + b.V);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Scalar Subtract(Scalar a, Scalar b) => new(a.V - b.V);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Scalar Multiply(Scalar a, Scalar b) => new(a.V * b.V);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Scalar Divide(Scalar a, Scalar b) => new(a.V / b.V);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Scalar MultiplyAdd(Scalar a, Scalar b, Scalar c) => new(a.V * b.V + c.V);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Scalar Min(Scalar a, Scalar b) => new(a.V < b.V ? a.V : b.V);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Scalar Max(Scalar a, Scalar b) => new(a.V > b.V ? a.V : b.V);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Scalar Pow2(Scalar n) => new(BitConverter.Int32BitsToSingle(((int)n.V + 127) << 23));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Scalar LessThan(Scalar a, Scalar b) => new(a.V < b.V ? BitConverter.Int32BitsToSingle(-1) : 0f);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Scalar Select(Scalar mask, Scalar whenTrue, Scalar whenFalse) =>
        new(BitConverter.SingleToInt32Bits(mask.V) != 0 ? whenTrue.V : whenFalse.V);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Scalar And(Scalar a, Scalar b) => new(BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(a.V) & BitConverter.SingleToInt32Bits(b.V)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Scalar Xor(Scalar a, Scalar b) => new(BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(a.V) ^ BitConverter.SingleToInt32Bits(b.V)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Scalar GateTanh(Scalar x) => new(GateMath.Tanh(x.V));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Scalar GateSigmoid(Scalar x) => new(GateMath.Sigmoid(x.V));
}
