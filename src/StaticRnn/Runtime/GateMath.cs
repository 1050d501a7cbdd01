using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using StaticRnn.Runtime.Simd;

namespace StaticRnn.Runtime;

/// <summary>
/// tanh and sigmoid for the recurrent cells' gates, where they sit on the sequential chain of every step (an LSTM step
/// waits for a sigmoid, then a tanh): a rational function, x·P(x²)/Q(x²), with no exp and one division, about half the
/// latency of <see cref="VectorMath"/>'s exp-based forms. Largest error over all floats (GateMathTests): 3.2e-7 for
/// tanh, 1.9e-7 for sigmoid, absolute; relative near 0 for tanh. Never NaN for finite input, NaN for NaN, exactly ±1
/// (0 and 1) from |x| = 9.0000004 (18.000001) on and at ±∞, and never outside [−1, 1] ([0, 1]). The dense heads keep <see cref="VectorMath"/>, whose sigmoid
/// stays accurate relative to tiny results (a probability of 1e-20 is not rounded to 0 there).
/// </summary>
/// <remarks>
/// One overload per vector type, on the hardware types directly rather than generic over <see cref="ISimd{TSelf}"/>
/// (whose kernels reach them through <see cref="ISimd{TSelf}.GateTanh"/>): every generic operation is one more method for
/// the JIT to resolve and inline, and written generically the five activations of an LSTM step took the JIT 7 ms of a
/// first call to compile, against under 2 ms like this. The four bodies are the same formula. Generated code calls them
/// too (a model's small layers, see the generator's RegisterKernelEmitter). Public only for that; not a supported API.
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class GateMath
{
    // tools/fit_gate_activations.py: tanh(x) = x P(x²) / Q(x²) on |x| ≤ 9, the largest relative error of the fit
    // 6.6e-9 in float64 (rounding in float adds the rest). tanh(9) = 1 − 3e-8 rounds to 1.
    private const float Clamp = 9f;
    private const float P0 = 0.99999999339567403f;
    private const float P1 = 0.13084004409994685f;
    private const float P2 = 0.0031039498267379142f;
    private const float P3 = 1.1154241002954413e-05f;
    private const float P4 = -2.0224953045192271e-08f;
    private const float P5 = 5.2778187941812353e-11f;
    private const float P6 = -8.488385585338336e-14f;
    private const float Q1 = 0.46417331514449139f;
    private const float Q2 = 0.024495153037553726f;
    private const float Q3 = 0.00025461358840196604f;

    // sigmoid(x) = 1/2 + tanh(x/2)/2, and tanh(x/2) is the same rational in x with the coefficient of x^2k scaled by
    // 1/4^k (P's by a further 1/2): powers of two, so these constants are exact.
    private const float SigmoidClamp = 2 * Clamp;
    private const float S0 = P0 / 2, S1 = P1 / 8, S2 = P2 / 32, S3 = P3 / 128, S4 = P4 / 512, S5 = P5 / 2048, S6 = P6 / 8192;
    private const float R1 = Q1 / 4, R2 = Q2 / 16, R3 = Q3 / 64;

    // Each body: z = x², capped at the fit's end (|x| = 9; 18 for the sigmoid, which evaluates tanh(x/2)); P(z) and Q(z)
    // by Estrin's scheme (independent terms: 4 operations deep instead of 6); x·P/Q with x itself, not capped, so that past
    // the cap the ratio keeps growing (x·R(9)/9) and the final clamp to [−1, 1] makes it exactly ±1 (and ±∞ gives ±1);
    // NaN stays NaN through all of it (MinNative and MaxNative are minps and maxps, which return their second operand when
    // either is NaN: the value that may be NaN goes second). The clamp also catches the few ulp by which rounding can
    // pass ±1 below the cap. The sigmoids finish with 1/2 + t/2.

    /// <summary>tanh(x), lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Tanh(Vector512<float> x)
    {
        var z = Vector512.MinNative(Vector512.Create(Clamp * Clamp), x * x);
        var z2 = z * z;
        var p = Vector512.MultiplyAddEstimate(Vector512.MultiplyAddEstimate(Vector512.Create(P6), z2, Vector512.MultiplyAddEstimate(Vector512.Create(P5), z, Vector512.Create(P4))), z2 * z2,
            Vector512.MultiplyAddEstimate(Vector512.MultiplyAddEstimate(Vector512.Create(P3), z, Vector512.Create(P2)), z2, Vector512.MultiplyAddEstimate(Vector512.Create(P1), z, Vector512.Create(P0))));
        var q = Vector512.MultiplyAddEstimate(Vector512.MultiplyAddEstimate(Vector512.Create(Q3), z, Vector512.Create(Q2)), z2, Vector512.MultiplyAddEstimate(Vector512.Create(Q1), z, Vector512.Create(1f)));
        var t = Vector512.MaxNative(Vector512.Create(-1f), Vector512.MinNative(Vector512.Create(1f), x * p / q));
        return t;
    }

    /// <summary>1 / (1 + e^−x), lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Sigmoid(Vector512<float> x)
    {
        var z = Vector512.MinNative(Vector512.Create(SigmoidClamp * SigmoidClamp), x * x);
        var z2 = z * z;
        var p = Vector512.MultiplyAddEstimate(Vector512.MultiplyAddEstimate(Vector512.Create(S6), z2, Vector512.MultiplyAddEstimate(Vector512.Create(S5), z, Vector512.Create(S4))), z2 * z2,
            Vector512.MultiplyAddEstimate(Vector512.MultiplyAddEstimate(Vector512.Create(S3), z, Vector512.Create(S2)), z2, Vector512.MultiplyAddEstimate(Vector512.Create(S1), z, Vector512.Create(S0))));
        var q = Vector512.MultiplyAddEstimate(Vector512.MultiplyAddEstimate(Vector512.Create(R3), z, Vector512.Create(R2)), z2, Vector512.MultiplyAddEstimate(Vector512.Create(R1), z, Vector512.Create(1f)));
        var t = Vector512.MaxNative(Vector512.Create(-1f), Vector512.MinNative(Vector512.Create(1f), x * p / q));
        return Vector512.MultiplyAddEstimate(t, Vector512.Create(0.5f), Vector512.Create(0.5f));
    }

    /// <summary>tanh(x), lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Tanh(Vector256<float> x)
    {
        var z = Vector256.MinNative(Vector256.Create(Clamp * Clamp), x * x);
        var z2 = z * z;
        var p = Vector256.MultiplyAddEstimate(Vector256.MultiplyAddEstimate(Vector256.Create(P6), z2, Vector256.MultiplyAddEstimate(Vector256.Create(P5), z, Vector256.Create(P4))), z2 * z2,
            Vector256.MultiplyAddEstimate(Vector256.MultiplyAddEstimate(Vector256.Create(P3), z, Vector256.Create(P2)), z2, Vector256.MultiplyAddEstimate(Vector256.Create(P1), z, Vector256.Create(P0))));
        var q = Vector256.MultiplyAddEstimate(Vector256.MultiplyAddEstimate(Vector256.Create(Q3), z, Vector256.Create(Q2)), z2, Vector256.MultiplyAddEstimate(Vector256.Create(Q1), z, Vector256.Create(1f)));
        var t = Vector256.MaxNative(Vector256.Create(-1f), Vector256.MinNative(Vector256.Create(1f), x * p / q));
        return t;
    }

    /// <summary>1 / (1 + e^−x), lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Sigmoid(Vector256<float> x)
    {
        var z = Vector256.MinNative(Vector256.Create(SigmoidClamp * SigmoidClamp), x * x);
        var z2 = z * z;
        var p = Vector256.MultiplyAddEstimate(Vector256.MultiplyAddEstimate(Vector256.Create(S6), z2, Vector256.MultiplyAddEstimate(Vector256.Create(S5), z, Vector256.Create(S4))), z2 * z2,
            Vector256.MultiplyAddEstimate(Vector256.MultiplyAddEstimate(Vector256.Create(S3), z, Vector256.Create(S2)), z2, Vector256.MultiplyAddEstimate(Vector256.Create(S1), z, Vector256.Create(S0))));
        var q = Vector256.MultiplyAddEstimate(Vector256.MultiplyAddEstimate(Vector256.Create(R3), z, Vector256.Create(R2)), z2, Vector256.MultiplyAddEstimate(Vector256.Create(R1), z, Vector256.Create(1f)));
        var t = Vector256.MaxNative(Vector256.Create(-1f), Vector256.MinNative(Vector256.Create(1f), x * p / q));
        return Vector256.MultiplyAddEstimate(t, Vector256.Create(0.5f), Vector256.Create(0.5f));
    }

    /// <summary>tanh(x), lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Tanh(Vector128<float> x)
    {
        var z = Vector128.MinNative(Vector128.Create(Clamp * Clamp), x * x);
        var z2 = z * z;
        var p = Vector128.MultiplyAddEstimate(Vector128.MultiplyAddEstimate(Vector128.Create(P6), z2, Vector128.MultiplyAddEstimate(Vector128.Create(P5), z, Vector128.Create(P4))), z2 * z2,
            Vector128.MultiplyAddEstimate(Vector128.MultiplyAddEstimate(Vector128.Create(P3), z, Vector128.Create(P2)), z2, Vector128.MultiplyAddEstimate(Vector128.Create(P1), z, Vector128.Create(P0))));
        var q = Vector128.MultiplyAddEstimate(Vector128.MultiplyAddEstimate(Vector128.Create(Q3), z, Vector128.Create(Q2)), z2, Vector128.MultiplyAddEstimate(Vector128.Create(Q1), z, Vector128.Create(1f)));
        var t = Vector128.MaxNative(Vector128.Create(-1f), Vector128.MinNative(Vector128.Create(1f), x * p / q));
        return t;
    }

    /// <summary>1 / (1 + e^−x), lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Sigmoid(Vector128<float> x)
    {
        var z = Vector128.MinNative(Vector128.Create(SigmoidClamp * SigmoidClamp), x * x);
        var z2 = z * z;
        var p = Vector128.MultiplyAddEstimate(Vector128.MultiplyAddEstimate(Vector128.Create(S6), z2, Vector128.MultiplyAddEstimate(Vector128.Create(S5), z, Vector128.Create(S4))), z2 * z2,
            Vector128.MultiplyAddEstimate(Vector128.MultiplyAddEstimate(Vector128.Create(S3), z, Vector128.Create(S2)), z2, Vector128.MultiplyAddEstimate(Vector128.Create(S1), z, Vector128.Create(S0))));
        var q = Vector128.MultiplyAddEstimate(Vector128.MultiplyAddEstimate(Vector128.Create(R3), z, Vector128.Create(R2)), z2, Vector128.MultiplyAddEstimate(Vector128.Create(R1), z, Vector128.Create(1f)));
        var t = Vector128.MaxNative(Vector128.Create(-1f), Vector128.MinNative(Vector128.Create(1f), x * p / q));
        return Vector128.MultiplyAddEstimate(t, Vector128.Create(0.5f), Vector128.Create(0.5f));
    }

    /// <summary>tanh(x), lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Tanh(float x)
    {
        var z = Min(Clamp * Clamp, x * x);
        var z2 = z * z;
        var p = (P6 * z2 + (P5 * z + P4)) * (z2 * z2) + ((P3 * z + P2) * z2 + (P1 * z + P0));
        var q = (Q3 * z + Q2) * z2 + (Q1 * z + 1f);
        return Max(-1f, Min(1f, x * p / q));
    }

    /// <summary>1 / (1 + e^−x), lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sigmoid(float x)
    {
        var z = Min(SigmoidClamp * SigmoidClamp, x * x);
        var z2 = z * z;
        var p = (S6 * z2 + (S5 * z + S4)) * (z2 * z2) + ((S3 * z + S2) * z2 + (S1 * z + S0));
        var q = (R3 * z + R2) * z2 + (R1 * z + 1f);
        return Max(-1f, Min(1f, x * p / q)) * 0.5f + 0.5f;
    }

    /// <summary>max(x, 0), NaN kept (as in PyTorch).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Relu(Vector512<float> x) => Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<float>.Zero), Vector512<float>.Zero, x);

    /// <summary>max(x, 0), NaN kept (as in PyTorch).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Relu(Vector256<float> x) => Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<float>.Zero), Vector256<float>.Zero, x);

    /// <summary>max(x, 0), NaN kept (as in PyTorch).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Relu(Vector128<float> x) => Vector128.ConditionalSelect(Vector128.LessThan(x, Vector128<float>.Zero), Vector128<float>.Zero, x);


    // The scalar path's minimum and maximum, with the hardware's NaN rule: the second operand when either is NaN.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Min(float a, float b) => a < b ? a : b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Max(float a, float b) => a > b ? a : b;
}
