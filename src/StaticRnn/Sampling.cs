using System;
using System.Diagnostics.CodeAnalysis;
using StaticRnn.Runtime;

namespace StaticRnn;

/// <summary>
/// Turning a model's output logits into a choice: softmax with a temperature, a categorical draw from a seeded
/// <see cref="Pcg32"/>, and the greedy choice. For generating sequences one <c>Step</c> at a time, as in a
/// character-level language model:
/// <code>
/// var rng = new Pcg32(seed: 42);
/// Span&lt;float&gt; logits = stackalloc float[CharModel.StepOutputSize];
/// Span&lt;float&gt; probabilities = stackalloc float[CharModel.StepOutputSize];
/// CharModel.Step(ref state, token, logits);
/// token = Sampling.SampleWithTemperature(logits, 0.8f, probabilities, ref rng);
/// </code>
/// </summary>
/// <remarks>Every member is allocation-free (nothing is allocated unless an argument is invalid), uses no
/// reflection (Native AOT and trimming safe) and is deterministic: the same inputs and generator state give the
/// same index on every platform, except where the floating-point rounding of <see cref="MathF.Exp"/> differs
/// between runtimes, which can move a draw that falls within about 1e-7 of a boundary between two outcomes.
/// A logit of -∞ masks its outcome (probability 0) as long as one logit is finite; a NaN or +∞ logit makes every
/// probability NaN, which <see cref="Sample(ReadOnlySpan{float}, ref Pcg32)"/> rejects.</remarks>
public static class Sampling
{
    /// <summary>
    /// Softmax with temperature: <c>probabilities[i] = exp(logits[i] / T) / Σⱼ exp(logits[j] / T)</c>.
    /// </summary>
    /// <param name="logits">The unnormalized log-probabilities, e.g. the output of a model's last <c>Dense</c>.</param>
    /// <param name="probabilities">Receives the probabilities: as many as there are logits, each in [0, 1], summing
    /// to 1 up to rounding. May be the same memory as <paramref name="logits"/> (in place), but must not
    /// otherwise overlap it.</param>
    /// <param name="temperature">T &gt; 0. 1 is the model's own distribution; below 1 sharpens it toward the most
    /// likely outcomes (as T → 0 it approaches the argmax: all the mass on the largest logit, shared equally
    /// between exact ties); above 1 flattens it toward uniform.</param>
    /// <remarks>Numerically stable: the largest logit is subtracted before exponentiating, so large logits and
    /// small temperatures neither overflow nor divide by zero (the largest term is exactly 1).</remarks>
    /// <exception cref="ArgumentException"><paramref name="logits"/> is empty, or <paramref name="probabilities"/>
    /// has another length.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="temperature"/> is not a positive finite
    /// number.</exception>
    public static void Softmax(ReadOnlySpan<float> logits, Span<float> probabilities, float temperature = 1f)
    {
        if (!(temperature > 0f && temperature <= float.MaxValue))
            ThrowTemperature(temperature);
        if (logits.IsEmpty)
            ThrowEmpty(nameof(logits));
        Guard.Length(probabilities.Length, logits.Length, "logits.Length", nameof(probabilities));

        var max = logits[0];
        for (var i = 1; i < logits.Length; i++)
            max = MathF.Max(max, logits[i]);

        var sum = 0.0;
        for (var i = 0; i < logits.Length; i++)
        {
            // (x - max) / T ≤ 0 (a division, not a multiplication by 1 / T, which is ∞ for the tiniest T and
            // would make 0 × ∞ = NaN of the largest term); where it overflows to -∞, exp gives 0.
            var e = MathF.Exp((logits[i] - max) / temperature);
            probabilities[i] = e;
            sum += e;
        }

        // sum ≥ 1: the largest logit's term is exp(0) = 1.
        var inverse = (float)(1.0 / sum);
        for (var i = 0; i < probabilities.Length; i++)
            probabilities[i] *= inverse;
    }

    /// <summary>
    /// Draws an index with probability proportional to <c>probabilities[i]</c>, using one
    /// <see cref="Pcg32.NextFloat"/> of <paramref name="random"/>.
    /// </summary>
    /// <param name="probabilities">Non-negative weights. They need not sum to exactly 1 (the draw is scaled by
    /// their sum), so a softmax's rounding, or unnormalized counts, are fine. An index of weight 0 is never
    /// drawn.</param>
    /// <param name="random">The generator; advanced by one value.</param>
    /// <returns>An index in [0, <c>probabilities.Length</c>).</returns>
    /// <exception cref="ArgumentException"><paramref name="probabilities"/> is empty, holds a negative or NaN
    /// value, or its sum is 0 or infinite.</exception>
    public static int Sample(ReadOnlySpan<float> probabilities, ref Pcg32 random) =>
        Sample(probabilities, random.NextFloat());

    /// <summary>
    /// The inverse of the cumulative distribution at <paramref name="uniform"/>: the index i with
    /// <c>P(i - 1) ≤ uniform × Σ p &lt; P(i)</c>, where <c>P(i)</c> is the sum of <c>probabilities[0..i]</c>. With
    /// <paramref name="uniform"/> uniform in [0, 1) (from any generator) this is a categorical draw; it is what
    /// <see cref="Sample(ReadOnlySpan{float}, ref Pcg32)"/> computes.
    /// </summary>
    /// <param name="probabilities">Non-negative weights, as for <see cref="Sample(ReadOnlySpan{float}, ref Pcg32)"/>.</param>
    /// <param name="uniform">A number in [0, 1).</param>
    /// <returns>An index in [0, <c>probabilities.Length</c>) whose weight is positive.</returns>
    /// <exception cref="ArgumentException"><paramref name="probabilities"/> is empty, holds a negative or NaN
    /// value, or its sum is 0 or infinite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="uniform"/> is outside [0, 1).</exception>
    public static int Sample(ReadOnlySpan<float> probabilities, float uniform)
    {
        if (!(uniform >= 0f && uniform < 1f))
            ThrowUniform(uniform);
        if (probabilities.IsEmpty)
            ThrowEmpty(nameof(probabilities));

        // The sum in double, in the same order as the cumulative sum below, so that the last cumulative value
        // is exactly the sum and the target (uniform × sum, below it by at least 2⁻²⁴ of it) is always reached.
        var sum = 0.0;
        for (var i = 0; i < probabilities.Length; i++)
        {
            var p = probabilities[i];
            if (!(p >= 0f))
                ThrowWeight(p, i);
            sum += p;
        }
        if (!(sum > 0.0 && sum <= double.MaxValue))
            ThrowSum(sum);

        var target = uniform * sum;
        var cumulative = 0.0;
        for (var i = 0; i < probabilities.Length; i++)
        {
            cumulative += probabilities[i];
            if (cumulative > target)   // strictly: a zero weight never moves the cumulative past the target
                return i;
        }

        // Unreachable (cumulative ends at sum > target); kept so the result is valid whatever the rounding.
        var last = probabilities.Length - 1;
        while (probabilities[last] == 0f)
            last--;
        return last;
    }

    /// <summary>
    /// Samples from <c>softmax(logits / temperature)</c>: <see cref="Softmax"/> into <paramref name="scratch"/>,
    /// then <see cref="Sample(ReadOnlySpan{float}, ref Pcg32)"/>.
    /// </summary>
    /// <param name="logits">The model's logits.</param>
    /// <param name="temperature">T &gt; 0; see <see cref="Softmax"/>.</param>
    /// <param name="scratch">As long as <paramref name="logits"/>; receives the probabilities. May be the same memory
    /// as <paramref name="logits"/> (which is then overwritten).</param>
    /// <param name="random">The generator; advanced by one value.</param>
    /// <returns>The index drawn.</returns>
    /// <exception cref="ArgumentException"><paramref name="logits"/> is empty, or <paramref name="scratch"/> has
    /// another length.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="temperature"/> is not a positive finite
    /// number.</exception>
    public static int SampleWithTemperature(ReadOnlySpan<float> logits, float temperature, Span<float> scratch, ref Pcg32 random)
    {
        Softmax(logits, scratch, temperature);
        return Sample(scratch, ref random);
    }

    /// <summary>The index of the largest value (the first of equal largest values): greedy decoding, the limit of
    /// sampling as the temperature goes to 0. A NaN is never chosen over a number (if all are NaN, the
    /// last index is returned).</summary>
    /// <exception cref="ArgumentException"><paramref name="values"/> is empty.</exception>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static int ArgMax(ReadOnlySpan<float> values)
    {
        if (values.IsEmpty)
            ThrowEmpty(nameof(values));
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best] || float.IsNaN(values[best]))
                best = i;
        }
        return best;
    }

    [DoesNotReturn]
    private static void ThrowTemperature(float temperature) =>
        throw new ArgumentOutOfRangeException(nameof(temperature), temperature,
            "The temperature must be a positive finite number (1 is the model's own distribution; toward 0 the choice approaches the argmax).");

    [DoesNotReturn]
    private static void ThrowUniform(float uniform) =>
        throw new ArgumentOutOfRangeException(nameof(uniform), uniform, "Expected a number in [0, 1).");

    [DoesNotReturn]
    private static void ThrowEmpty(string parameterName) =>
        throw new ArgumentException($"{parameterName} must hold at least 1 value; it holds 0.", parameterName);

    [DoesNotReturn]
    private static void ThrowWeight(float weight, int index) =>
        throw new ArgumentException($"probabilities must be non-negative numbers; probabilities[{index}] is {weight}.", "probabilities");

    [DoesNotReturn]
    private static void ThrowSum(double sum) =>
        throw new ArgumentException($"probabilities must have a positive finite sum; it is {sum}.", "probabilities");
}
