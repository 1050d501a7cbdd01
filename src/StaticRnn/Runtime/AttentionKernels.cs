using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using StaticRnn.Runtime.Simd;

namespace StaticRnn.Runtime;

/// <summary>
/// Bahdanau (additive) attention for generated decoders: the weights <c>softmax_j(va · tanh(query + keyProjections[j]))</c>
/// over the source positions, and the context <c>Σ_j weights[j] · keys[j]</c>. The query (<c>Wa s + ba</c>) and the key
/// projections (<c>Ua h_j + ua</c>, computed once per source sentence) are the generated code's dense projections.
/// </summary>
/// <remarks>Public only so generated code in user assemblies can call it; not a supported API.</remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class AttentionKernels
{
    /// <summary>Writes one attention weight per source position into <paramref name="weights"/> (its length is the
    /// number of positions). <paramref name="query"/>, each row of <paramref name="keyProjections"/> and
    /// <paramref name="scoreVector"/> hold <paramref name="paddedUnits"/> floats, a multiple of 16, zero past the units.
    /// Va's bias is left out: a softmax does not change when every score moves by the same amount.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Weights(ReadOnlySpan<float> query, ReadOnlySpan<float> keyProjections, ReadOnlySpan<float> scoreVector, int paddedUnits, Span<float> weights)
    {
        if ((paddedUnits & (WeightPacking.Block - 1)) != 0 || query.Length < paddedUnits || scoreVector.Length < paddedUnits
            || keyProjections.Length < weights.Length * paddedUnits)
            throw new ArgumentException("The attention's spans do not hold whole padded rows.");
        switch (SimdWidth.Best)
        {
            case 16: Scores<V512>(query, keyProjections, scoreVector, paddedUnits, weights); break;
            case 8: Scores<V256>(query, keyProjections, scoreVector, paddedUnits, weights); break;
            case 4: Scores<V128>(query, keyProjections, scoreVector, paddedUnits, weights); break;
            default: Scores<Scalar>(query, keyProjections, scoreVector, paddedUnits, weights); break;
        }
        FastKernels.Activate(weights, rows: 1, count: weights.Length, stride: weights.Length, Activation.Softmax);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Scores<T>(ReadOnlySpan<float> query, ReadOnlySpan<float> keyProjections, ReadOnlySpan<float> scoreVector, int paddedUnits, Span<float> scores)
        where T : struct, ISimd<T>
    {
        ref var q = ref MemoryMarshal.GetReference(query);
        ref var k = ref MemoryMarshal.GetReference(keyProjections);
        ref var v = ref MemoryMarshal.GetReference(scoreVector);
        Span<float> lanes = stackalloc float[16];
        ref var lane = ref MemoryMarshal.GetReference(lanes);
        for (var j = 0; j < scores.Length; j++)
        {
            var sum = T.Zero;
            var row = (nint)j * paddedUnits;
            // Tanh is VectorMath's (exp-based, a few ulp): these are not on a recurrence, and the weights are outputs.
            for (var u = 0; u < paddedUnits; u += T.Count)
                sum = T.MultiplyAdd(T.Load(ref v, u), VectorMath.Tanh(T.Add(T.Load(ref q, u), T.Load(ref k, row + u))), sum);
            T.Store(sum, ref lane, 0);
            var score = 0f;
            for (var i = 0; i < T.Count; i++)
                score += Unsafe.Add(ref lane, i);
            scores[j] = score;
        }
    }

    /// <summary>context = Σ_j weights[j] · keys[j], the keys being rows of <c>context.Length</c> floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Context(ReadOnlySpan<float> weights, ReadOnlySpan<float> keys, Span<float> context)
    {
        var width = context.Length;
        if (keys.Length < weights.Length * width)
            throw new ArgumentException("The keys do not hold a row per attention weight.");
        switch (SimdWidth.Best)
        {
            case 16: Context<V512>(weights, keys, context); break;
            case 8: Context<V256>(weights, keys, context); break;
            case 4: Context<V128>(weights, keys, context); break;
            default: Context<Scalar>(weights, keys, context); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Context<T>(ReadOnlySpan<float> weights, ReadOnlySpan<float> keys, Span<float> context) where T : struct, ISimd<T>
    {
        var width = context.Length;
        ref var k = ref MemoryMarshal.GetReference(keys);
        ref var c = ref MemoryMarshal.GetReference(context);
        var i = 0;
        for (; i + T.Count <= width; i += T.Count)
        {
            var sum = T.Zero;
            for (var j = 0; j < weights.Length; j++)
                sum = T.MultiplyAdd(T.Broadcast(weights[j]), T.Load(ref k, (nint)j * width + i), sum);
            T.Store(sum, ref c, i);
        }
        for (; i < width; i++)
        {
            var sum = 0f;
            for (var j = 0; j < weights.Length; j++)
                sum = MathF.FusedMultiplyAdd(weights[j], Unsafe.Add(ref k, (nint)j * width + i), sum);
            Unsafe.Add(ref c, i) = sum;
        }
    }
}
