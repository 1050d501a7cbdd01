using System.Runtime.CompilerServices;

namespace StaticRnn.Runtime.Simd;

/// <summary>
/// exp, sigmoid and tanh on vectors of any width, accurate to a few ulp (about 1e-7 relative), never NaN for
/// finite input, saturating cleanly at ±∞. The polynomials are Cephes' single-precision ones (expf, tanhf).
/// </summary>
internal static class VectorMath
{
    // exp(x) = 2^n · e^r with n = round(x / ln 2) and |r| ≤ ln 2 / 2; ln 2 split in two for an exact r.
    private const float Log2E = 1.44269504088896341f;
    private const float Ln2High = 0.693359375f;
    private const float Ln2Low = -2.12194440e-4f;
    // Outside these bounds e^x is not a normal float; clamping keeps 2^n inside the exponent range.
    private const float ExpMax = 88.0f;
    private const float ExpMin = -87.33654f;

    /// <summary>e^x. Inputs are clamped to [-87.3, 88]: the result saturates at about 1.2e-38 and 1.65e38.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Exp<T>(T x) where T : struct, ISimd<T>
    {
        x = T.Max(T.Broadcast(ExpMin), T.Min(T.Broadcast(ExpMax), x));   // x second: NaN stays NaN
        // n = x / ln 2 rounded to the nearest integer by adding and subtracting 1.5 × 2^23 (|x / ln 2| < 128): no
        // Floor, which a baseline x64 (SSE2, Native AOT's default) can only do by calling floorf per lane.
        var magic = T.Broadcast(Pow2Constants.MagicRound);
        var n = T.Subtract(T.Add(T.Multiply(x, T.Broadcast(Log2E)), magic), magic);
        var r = T.MultiplyAdd(n, T.Broadcast(-Ln2High), x);
        r = T.MultiplyAdd(n, T.Broadcast(-Ln2Low), r);
        var p = T.Broadcast(1.9875691500e-4f);
        p = T.MultiplyAdd(p, r, T.Broadcast(1.3981999507e-3f));
        p = T.MultiplyAdd(p, r, T.Broadcast(8.3334519073e-3f));
        p = T.MultiplyAdd(p, r, T.Broadcast(4.1665795894e-2f));
        p = T.MultiplyAdd(p, r, T.Broadcast(1.6666665459e-1f));
        p = T.MultiplyAdd(p, r, T.Broadcast(5.0000001201e-1f));
        p = T.MultiplyAdd(p, T.Multiply(r, r), T.Add(r, T.Broadcast(1f)));
        return T.Multiply(p, T.Pow2(n));
    }

    /// <summary>1 / (1 + e^−x): exactly 0 and 1 in the limits, relative accuracy kept for small results.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Sigmoid<T>(T x) where T : struct, ISimd<T>
    {
        var one = T.Broadcast(1f);
        var sigmoid = T.Divide(one, T.Add(one, Exp(T.Subtract(T.Zero, x))));
        // Below -88 the true value is under 6e-39 (subnormal), where e^-x would saturate: return exactly 0.
        return T.Select(T.LessThan(x, T.Broadcast(-ExpMax)), T.Zero, sigmoid);
    }

    /// <summary>tanh(x): an odd polynomial for |x| &lt; 0.625, where 1 − 2/(e^2|x| + 1) would cancel, and that
    /// formula with the sign restored above it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Tanh<T>(T x) where T : struct, ISimd<T>
    {
        var signBit = T.Broadcast(-0f);
        var sign = T.And(x, signBit);
        var magnitude = T.Xor(x, sign);

        // Large |x|: 1 − 2 / (e^(2|x|) + 1); e^(2|x|) saturates, so the result is exactly 1 far out.
        var one = T.Broadcast(1f);
        var large = T.Subtract(one, T.Divide(T.Broadcast(2f), T.Add(Exp(T.Add(magnitude, magnitude)), one)));

        // Small |x|: |x| + |x|³ · P(x²).
        var z = T.Multiply(magnitude, magnitude);
        var p = T.Broadcast(-5.70498872745e-3f);
        p = T.MultiplyAdd(p, z, T.Broadcast(2.06390887954e-2f));
        p = T.MultiplyAdd(p, z, T.Broadcast(-5.37397155531e-2f));
        p = T.MultiplyAdd(p, z, T.Broadcast(1.33314422036e-1f));
        p = T.MultiplyAdd(p, z, T.Broadcast(-3.33332819422e-1f));
        var small = T.MultiplyAdd(T.Multiply(p, z), magnitude, magnitude);

        // Both branches are computed on |x|; the sign goes back on at the end, so tanh(−0) = −0.
        return T.Xor(T.Select(T.LessThan(magnitude, T.Broadcast(0.625f)), small, large), sign);
    }
}
