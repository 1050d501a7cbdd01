using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using StaticRnn.Runtime.Simd;

namespace StaticRnn.Runtime;

/// <summary>
/// The vectorized kernels generated code calls. Every entry point picks the widest accelerated vector type
/// (JIT-time constant checks) and runs one generic implementation specialized for it; see
/// <see cref="WeightPacking"/> for the weight layout. Spans are read without bounds checks: the generated
/// caller passes spans whose lengths the generator computed from the same shapes.
/// </summary>
/// <remarks>Public only so generated code in user assemblies can call it; not a supported API.</remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class FastKernels
{
    /// <summary>Sequences one register tile advances together: each weight vector loaded serves all of them.</summary>
    public const int Tile = 4;

    // ---- y[r] = b + x[r] · W  (W row-major [Inputs][Columns], Columns a multiple of the block) ----

    /// <summary>y[r, :] = bias + Σ_j x[r, j] · weights[j, :] for each of <paramref name="rows"/> rows of
    /// <typeparamref name="TShape"/>.Inputs values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Project<TShape>(ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, ReadOnlySpan<float> x, int rows, Span<float> y)
        where TShape : struct, IProjection
    {
        // A small product (a small model's head, a narrow input projection) takes a microsecond or less however it is
        // scheduled, but its compilation is part of the model's first call: a plain loop nest on 128-bit vectors compiles
        // in a fraction of the time of the register tiles of Project<T, TShape>. A JIT-time constant.
        if (TShape.Inputs * TShape.Columns <= SmallProduct && Vector128.IsHardwareAccelerated)
        {
            ProjectSmall<TShape>(weights, bias, x, rows, y);
            return;
        }
        switch (SimdWidth.Best)
        {
            case 16: Project<V512, TShape>(weights, bias, x, rows, y); break;
            case 8: Project<V256, TShape>(weights, bias, x, rows, y); break;
            case 4: Project<V128, TShape>(weights, bias, x, rows, y); break;
            default: Project<Scalar, TShape>(weights, bias, x, rows, y); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Project<T, TShape>(ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, ReadOnlySpan<float> x, int rows, Span<float> y)
        where T : struct, ISimd<T> where TShape : struct, IProjection
    {
        ref var w = ref MemoryMarshal.GetReference(weights);
        ref var b = ref MemoryMarshal.GetReference(bias);
        ref var x0 = ref MemoryMarshal.GetReference(x);
        ref var y0 = ref MemoryMarshal.GetReference(y);
        var n = T.Count;
        var inputs = TShape.Inputs;
        var columns = TShape.Columns;
        // Whether a single vector is left over after the pairs: a JIT-time constant, so only the loops this shape needs
        // are compiled.
        var oddVector = columns % (2 * n) != 0;
        var r = 0;
        // Wide inputs (an embedding, a wide layer below): eight rows at a time, so that the weights, which no longer fit
        // in L1, are streamed from L2 half as often. A JIT-time constant: narrow inputs compile only the loops below.
        if (inputs >= WideInputs)
        {
            for (; r + 8 <= rows; r += 8)
            {
                ref var xa = ref Unsafe.Add(ref x0, r * inputs);
                for (var col = 0; col < columns; col += 2 * n)
                {
                    var bv = T.Load(ref b, col);
                    var bw = oddVector && col + n == columns ? T.Zero : T.Load(ref b, col + n);
                    T a0 = bv, a1 = bv, a2 = bv, a3 = bv, a4 = bv, a5 = bv, a6 = bv, a7 = bv;
                    T e0 = bw, e1 = bw, e2 = bw, e3 = bw, e4 = bw, e5 = bw, e6 = bw, e7 = bw;
                    for (var j = 0; j < inputs; j++)
                    {
                        var wv = T.Load(ref w, j * columns + col);
                        var ww = oddVector && col + n == columns ? T.Zero : T.Load(ref w, j * columns + col + n);
                        var xv = T.Broadcast(Unsafe.Add(ref xa, j));
                        a0 = T.MultiplyAdd(xv, wv, a0); e0 = T.MultiplyAdd(xv, ww, e0);
                        xv = T.Broadcast(Unsafe.Add(ref xa, inputs + j));
                        a1 = T.MultiplyAdd(xv, wv, a1); e1 = T.MultiplyAdd(xv, ww, e1);
                        xv = T.Broadcast(Unsafe.Add(ref xa, 2 * inputs + j));
                        a2 = T.MultiplyAdd(xv, wv, a2); e2 = T.MultiplyAdd(xv, ww, e2);
                        xv = T.Broadcast(Unsafe.Add(ref xa, 3 * inputs + j));
                        a3 = T.MultiplyAdd(xv, wv, a3); e3 = T.MultiplyAdd(xv, ww, e3);
                        xv = T.Broadcast(Unsafe.Add(ref xa, 4 * inputs + j));
                        a4 = T.MultiplyAdd(xv, wv, a4); e4 = T.MultiplyAdd(xv, ww, e4);
                        xv = T.Broadcast(Unsafe.Add(ref xa, 5 * inputs + j));
                        a5 = T.MultiplyAdd(xv, wv, a5); e5 = T.MultiplyAdd(xv, ww, e5);
                        xv = T.Broadcast(Unsafe.Add(ref xa, 6 * inputs + j));
                        a6 = T.MultiplyAdd(xv, wv, a6); e6 = T.MultiplyAdd(xv, ww, e6);
                        xv = T.Broadcast(Unsafe.Add(ref xa, 7 * inputs + j));
                        a7 = T.MultiplyAdd(xv, wv, a7); e7 = T.MultiplyAdd(xv, ww, e7);
                    }
                    StoreColumns(ref y0, (r + 0) * columns + col, a0, e0, n, oddVector && col + n == columns);
                    StoreColumns(ref y0, (r + 1) * columns + col, a1, e1, n, oddVector && col + n == columns);
                    StoreColumns(ref y0, (r + 2) * columns + col, a2, e2, n, oddVector && col + n == columns);
                    StoreColumns(ref y0, (r + 3) * columns + col, a3, e3, n, oddVector && col + n == columns);
                    StoreColumns(ref y0, (r + 4) * columns + col, a4, e4, n, oddVector && col + n == columns);
                    StoreColumns(ref y0, (r + 5) * columns + col, a5, e5, n, oddVector && col + n == columns);
                    StoreColumns(ref y0, (r + 6) * columns + col, a6, e6, n, oddVector && col + n == columns);
                    StoreColumns(ref y0, (r + 7) * columns + col, a7, e7, n, oddVector && col + n == columns);
                }
            }
        }
        // Four rows at a time: each weight vector loaded once serves four rows.
        for (; r + 4 <= rows; r += 4)
        {
            ref var xa = ref Unsafe.Add(ref x0, r * inputs);
            ref var xb = ref Unsafe.Add(ref xa, inputs);
            ref var xc = ref Unsafe.Add(ref xb, inputs);
            ref var xd = ref Unsafe.Add(ref xc, inputs);
            // 4 rows x 2 vectors = 8 independent FMA chains, enough to cover the FMA latency.
            var col = 0;
            for (; col + 2 * n <= columns; col += 2 * n)
            {
                var bv = T.Load(ref b, col);
                var bw = T.Load(ref b, col + n);
                T a0 = bv, a1 = bv, a2 = bv, a3 = bv, e0 = bw, e1 = bw, e2 = bw, e3 = bw;
                for (var j = 0; j < inputs; j++)
                {
                    var wv = T.Load(ref w, j * columns + col);
                    var ww = T.Load(ref w, j * columns + col + n);
                    var xv = T.Broadcast(Unsafe.Add(ref xa, j));
                    a0 = T.MultiplyAdd(xv, wv, a0);
                    e0 = T.MultiplyAdd(xv, ww, e0);
                    xv = T.Broadcast(Unsafe.Add(ref xb, j));
                    a1 = T.MultiplyAdd(xv, wv, a1);
                    e1 = T.MultiplyAdd(xv, ww, e1);
                    xv = T.Broadcast(Unsafe.Add(ref xc, j));
                    a2 = T.MultiplyAdd(xv, wv, a2);
                    e2 = T.MultiplyAdd(xv, ww, e2);
                    xv = T.Broadcast(Unsafe.Add(ref xd, j));
                    a3 = T.MultiplyAdd(xv, wv, a3);
                    e3 = T.MultiplyAdd(xv, ww, e3);
                }
                T.Store(a0, ref y0, r * columns + col);
                T.Store(e0, ref y0, r * columns + col + n);
                T.Store(a1, ref y0, (r + 1) * columns + col);
                T.Store(e1, ref y0, (r + 1) * columns + col + n);
                T.Store(a2, ref y0, (r + 2) * columns + col);
                T.Store(e2, ref y0, (r + 2) * columns + col + n);
                T.Store(a3, ref y0, (r + 3) * columns + col);
                T.Store(e3, ref y0, (r + 3) * columns + col + n);
            }
            if (oddVector)
            {
                var bv = T.Load(ref b, col);
                T a0 = bv, a1 = bv, a2 = bv, a3 = bv;
                for (var j = 0; j < inputs; j++)
                {
                    var wv = T.Load(ref w, j * columns + col);
                    a0 = T.MultiplyAdd(T.Broadcast(Unsafe.Add(ref xa, j)), wv, a0);
                    a1 = T.MultiplyAdd(T.Broadcast(Unsafe.Add(ref xb, j)), wv, a1);
                    a2 = T.MultiplyAdd(T.Broadcast(Unsafe.Add(ref xc, j)), wv, a2);
                    a3 = T.MultiplyAdd(T.Broadcast(Unsafe.Add(ref xd, j)), wv, a3);
                }
                T.Store(a0, ref y0, r * columns + col);
                T.Store(a1, ref y0, (r + 1) * columns + col);
                T.Store(a2, ref y0, (r + 2) * columns + col);
                T.Store(a3, ref y0, (r + 3) * columns + col);
            }
        }
        for (; r < rows; r++)
        {
            ref var xa = ref Unsafe.Add(ref x0, r * inputs);
            var col = 0;
            // Two vectors at a time for independent FMA chains.
            for (; col + 2 * n <= columns; col += 2 * n)
            {
                var a0 = T.Load(ref b, col);
                var a1 = T.Load(ref b, col + n);
                for (var j = 0; j < inputs; j++)
                {
                    var xv = T.Broadcast(Unsafe.Add(ref xa, j));
                    a0 = T.MultiplyAdd(xv, T.Load(ref w, j * columns + col), a0);
                    a1 = T.MultiplyAdd(xv, T.Load(ref w, j * columns + col + n), a1);
                }
                T.Store(a0, ref y0, r * columns + col);
                T.Store(a1, ref y0, r * columns + col + n);
            }
            if (oddVector)
            {
                var a0 = T.Load(ref b, col);
                for (var j = 0; j < inputs; j++)
                    a0 = T.MultiplyAdd(T.Broadcast(Unsafe.Add(ref xa, j)), T.Load(ref w, j * columns + col), a0);
                T.Store(a0, ref y0, r * columns + col);
            }
        }
    }

    /// <summary><see cref="Project{TShape}"/> for small products, one row and one vector of columns at a time, on the
    /// widest accelerated vector type itself rather than through <see cref="ISimd{TSelf}"/>, whose every operation is one
    /// more method for the JIT to resolve and inline. (The column count is a multiple of 16, so every width divides it.)</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ProjectSmall<TShape>(ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, ReadOnlySpan<float> x, int rows, Span<float> y)
        where TShape : struct, IProjection
    {
        ref var w = ref MemoryMarshal.GetReference(weights);
        ref var b = ref MemoryMarshal.GetReference(bias);
        ref var x0 = ref MemoryMarshal.GetReference(x);
        ref var y0 = ref MemoryMarshal.GetReference(y);
        for (var r = 0; r < rows; r++)
        {
            ref var xr = ref Unsafe.Add(ref x0, r * TShape.Inputs);
            ref var yr = ref Unsafe.Add(ref y0, r * TShape.Columns);
            if (Vector512.IsHardwareAccelerated)
            {
                for (var col = 0; col < TShape.Columns; col += 16)
                {
                    var a = Vector512.LoadUnsafe(ref b, (nuint)col);
                    for (var j = 0; j < TShape.Inputs; j++)
                        a = Vector512.MultiplyAddEstimate(Vector512.Create(Unsafe.Add(ref xr, j)), Vector512.LoadUnsafe(ref w, (nuint)(j * TShape.Columns + col)), a);
                    a.StoreUnsafe(ref yr, (nuint)col);
                }
            }
            else if (Vector256.IsHardwareAccelerated)
            {
                for (var col = 0; col < TShape.Columns; col += 8)
                {
                    var a = Vector256.LoadUnsafe(ref b, (nuint)col);
                    for (var j = 0; j < TShape.Inputs; j++)
                        a = Vector256.MultiplyAddEstimate(Vector256.Create(Unsafe.Add(ref xr, j)), Vector256.LoadUnsafe(ref w, (nuint)(j * TShape.Columns + col)), a);
                    a.StoreUnsafe(ref yr, (nuint)col);
                }
            }
            else
            {
                for (var col = 0; col < TShape.Columns; col += 4)
                {
                    var a = Vector128.LoadUnsafe(ref b, (nuint)col);
                    for (var j = 0; j < TShape.Inputs; j++)
                        a = Vector128.MultiplyAddEstimate(Vector128.Create(Unsafe.Add(ref xr, j)), Vector128.LoadUnsafe(ref w, (nuint)(j * TShape.Columns + col)), a);
                    a.StoreUnsafe(ref yr, (nuint)col);
                }
            }
        }
    }

    /// <summary>Inputs from which <see cref="Project{T, TShape}"/> advances eight rows at a time.</summary>
    private const int WideInputs = 64;

    /// <summary>Weights up to which <see cref="Project{TShape}"/> is <see cref="ProjectSmall{TShape}"/>.</summary>
    private const int SmallProduct = 2048;

    /// <summary>Stores a pair of column vectors, or only the first where it is the last, odd one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreColumns<T>(ref float y, int offset, T a, T e, int n, bool firstOnly) where T : struct, ISimd<T>
    {
        T.Store(a, ref y, offset);
        if (!firstOnly)
            T.Store(e, ref y, offset + n);
    }

    // ---- Activations over a span ----

    /// <summary>Applies <paramref name="activation"/> to each of <paramref name="rows"/> rows of <paramref name="count"/>
    /// values (Softmax normalizes each row). The dense heads' activations: exp-based (<see cref="VectorMath"/>), so that
    /// tiny probabilities keep their relative accuracy.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Activate(Span<float> values, int rows, int count, int stride, Activation activation)
    {
        if (activation == Activation.None)
            return;
        for (var r = 0; r < rows; r++)
        {
            var row = values.Slice(r * stride, count);
            switch (activation)
            {
                case Activation.Softmax:
                    Softmax(row);
                    break;
                case Activation.LogSoftmax:
                    LogSoftmax(row);
                    break;
                default:
                    switch (SimdWidth.Best)
                    {
                        case 16: Activate<V512>(row, activation); break;
                        case 8: Activate<V256>(row, activation); break;
                        case 4: Activate<V128>(row, activation); break;
                        default: Activate<Scalar>(row, activation); break;
                    }
                    break;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Activate<T>(Span<float> values, Activation activation) where T : struct, ISimd<T>
    {
        ref var v = ref MemoryMarshal.GetReference(values);
        var i = 0;
        for (; i + T.Count <= values.Length; i += T.Count)
            T.Store(Activate(T.Load(ref v, i), activation), ref v, i);
        for (; i < values.Length; i++)
            Unsafe.Add(ref v, i) = Activate(new Scalar(Unsafe.Add(ref v, i)), activation).V;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T Activate<T>(T x, Activation activation) where T : struct, ISimd<T> => activation switch
    {
        Activation.Sigmoid => VectorMath.Sigmoid(x),
        Activation.Tanh => VectorMath.Tanh(x),
        Activation.Relu => T.Select(T.LessThan(x, T.Zero), T.Zero, x),   // NaN stays NaN, as in PyTorch
        _ => x,
    };

    /// <summary>An Elman cell's activation: on the recurrence's chain, so tanh and sigmoid are <see cref="GateMath"/>'s.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static T GateActivation<T>(T x, Activation activation) where T : struct, ISimd<T> => activation switch
    {
        Activation.Sigmoid => T.GateSigmoid(x),
        Activation.Tanh => T.GateTanh(x),
        Activation.Relu => T.Select(T.LessThan(x, T.Zero), T.Zero, x),
        _ => x,
    };

    // Optimized at once like every kernel: a tier-0 softmax ran the first calls of softmax heads and attention 2-5x slower.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Softmax(Span<float> values)
    {
        var max = float.NegativeInfinity;
        foreach (var v in values)
            max = MathF.Max(max, v);
        var sum = 0f;
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = MathF.Exp(values[i] - max);
            sum += values[i];
        }
        var scale = 1f / sum;
        for (var i = 0; i < values.Length; i++)
            values[i] *= scale;
    }

    /// <summary>x - max - log(sum(exp(x - max))): never the log of a rounded-to-zero probability.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void LogSoftmax(Span<float> values)
    {
        var max = float.NegativeInfinity;
        foreach (var v in values)
            max = MathF.Max(max, v);
        var sum = 0f;
        foreach (var v in values)
            sum += MathF.Exp(v - max);
        var shift = max + MathF.Log(sum);
        for (var i = 0; i < values.Length; i++)
            values[i] -= shift;
    }

    // ---- Moving values ----

    /// <summary>Copies <paramref name="rows"/> rows of <paramref name="width"/> floats between buffers of different strides.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void CopyRows(ReadOnlySpan<float> source, int sourceStride, Span<float> destination, int destinationStride, int rows, int width)
    {
        for (var r = 0; r < rows; r++)
            source.Slice(r * sourceStride, width).CopyTo(destination.Slice(r * destinationStride, width));
    }

    /// <summary>Combines a bidirectional layer's two outputs into <paramref name="destination"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Merge(ReadOnlySpan<float> forward, ReadOnlySpan<float> backward, Span<float> destination, MergeMode mode)
    {
        if (mode == MergeMode.Concat)
        {
            forward.CopyTo(destination);
            backward.CopyTo(destination.Slice(forward.Length));
            return;
        }
        for (var i = 0; i < forward.Length; i++)
        {
            destination[i] = mode switch
            {
                MergeMode.Sum => forward[i] + backward[i],
                MergeMode.Multiply => forward[i] * backward[i],
                _ => (forward[i] + backward[i]) * 0.5f,
            };
        }
    }

    // ---- Recurrent layers ----

    /// <summary>Runs one direction of a recurrent layer over <paramref name="count"/> sequences. (Generated code runs a
    /// small layer's single sequence in its own kernel, with the state in registers; this is every other case.)</summary>
    /// <typeparam name="TLayer">The layer's cell and sizes (see <see cref="IRecurrentLayer"/>): an LSTM (gates i, f, g, o),
    /// a GRU (r, z, n) or Elman, see <see cref="RecurrentCell"/>.</typeparam>
    /// <param name="inputGates">[count][steps][G × padded hidden]: x · W_ih + biases, gate-interleaved. Overwritten:
    /// each step stores its finished pre-activations there before the activations run.</param>
    /// <param name="recurrentWeights">[hidden][G × padded hidden]: W_hh, transposed and gate-interleaved.</param>
    /// <param name="cellVectors">The cell's per-unit vectors that are not summed into <paramref name="inputGates"/>:
    /// <see cref="RecurrentCell.Gru"/>: b_hn, [padded hidden] (r scales it with W_hn h).
    /// <see cref="RecurrentCell.PeepholeLstm"/>, <see cref="RecurrentCell.PeepholeCoupledLstm"/>: the peephole weights
    /// p = [p_i | p_f | p_o] packed as <see cref="WeightPacking.GateVector"/>(p, 3, hidden), [3 × padded hidden]: the block
    /// starting at unit u has p_i at 3u + lane, p_f at 3u + 16 + lane, p_o at 3u + 32 + lane (p_f is unused when coupled).
    /// Empty for the other cells.</param>
    /// <param name="steps">Time steps of each sequence.</param>
    /// <param name="count">Sequences advanced together.</param>
    /// <param name="reverse">Run from the last step to the first (a backward direction).</param>
    /// <param name="state">[count][2 × padded hidden] for h (two halves, swapped each step) then, for the LSTMs,
    /// [count][padded hidden] for c. Read as the initial state; the final h is left in each first half.</param>
    /// <param name="output">[count][steps][outputStride]: h of each step at <paramref name="outputOffset"/>; empty for none.</param>
    /// <param name="outputStride">Floats per step in <paramref name="output"/>.</param>
    /// <param name="outputOffset">Where in a step's row this direction's h goes.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Recurrent<TLayer>(Span<float> inputGates, ReadOnlySpan<float> recurrentWeights, ReadOnlySpan<float> cellVectors,
        int steps, int count, bool reverse, Span<float> state, Span<float> output, int outputStride, int outputOffset)
        where TLayer : struct, IRecurrentLayer
    {
        var run = new RunArguments(inputGates, recurrentWeights, cellVectors, steps, count, reverse, state, output, outputStride, outputOffset,
            firstStep: 0, length: steps, layoutCount: count);
        Run<TLayer>(ref run);
    }

    /// <summary>
    /// <see cref="Recurrent{TLayer}"/> for sequences of their own lengths, as PyTorch runs a packed batch: sequence s
    /// advances over its first <c>lengths[s]</c> steps only (1 to steps, longest first; a backward direction starts at
    /// its last one), its state afterwards is the state at its own end, and its output rows past the end are zero.
    /// Empty lengths: every sequence runs all steps.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RecurrentSequences<TLayer>(Span<float> inputGates, ReadOnlySpan<float> recurrentWeights, ReadOnlySpan<float> cellVectors,
        int steps, int count, ReadOnlySpan<int> lengths, bool reverse, Span<float> state, Span<float> output, int outputStride, int outputOffset)
        where TLayer : struct, IRecurrentLayer
    {
        if (lengths.IsEmpty)
        {
            Recurrent<TLayer>(inputGates, recurrentWeights, cellVectors, steps, count, reverse, state, output, outputStride, outputOffset);
            return;
        }
        // Between two successive lengths the sequences still running are the same: the first n, longest first. Each such
        // span of steps is one run over those n, so no step of any sequence is computed past its end.
        var from = reverse ? lengths[0] : 0;
        while (reverse ? from > 0 : from < lengths[0])
        {
            int first, length, active = 0;
            if (reverse)
            {
                while (active < count && lengths[active] >= from)
                    active++;
                var below = active < count ? lengths[active] : 0;
                (first, length) = (below, from - below);
                from = below;
            }
            else
            {
                while (active < count && lengths[active] > from)
                    active++;
                var until = lengths[active - 1];
                (first, length) = (from, until - from);
                from = until;
            }
            var run = new RunArguments(inputGates, recurrentWeights, cellVectors, steps, active, reverse, state, output, outputStride, outputOffset,
                first, length, layoutCount: count);
            Run<TLayer>(ref run);
        }
        if (!output.IsEmpty)
        {
            for (var s = 0; s < count; s++)
            {
                for (var t = lengths[s]; t < steps; t++)
                    output.Slice((s * steps + t) * outputStride + outputOffset, TLayer.Hidden).Clear();
            }
        }
    }

    /// <summary>Projects each sequence's first <c>lengths[s]</c> rows only (all <paramref name="steps"/> when
    /// <paramref name="lengths"/> is empty): x and y hold <paramref name="count"/> sequences of <paramref name="steps"/> rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ProjectSequences<TShape>(ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, ReadOnlySpan<float> x, int steps, int count, ReadOnlySpan<int> lengths, Span<float> y)
        where TShape : struct, IProjection
    {
        if (lengths.IsEmpty)
        {
            Project<TShape>(weights, bias, x, count * steps, y);
            return;
        }
        for (var s = 0; s < count; s++)
        {
            Project<TShape>(weights, bias, x.Slice(s * steps * TShape.Inputs, lengths[s] * TShape.Inputs), lengths[s],
                y.Slice(s * steps * TShape.Columns, lengths[s] * TShape.Columns));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Run<TLayer>(ref RunArguments run) where TLayer : struct, IRecurrentLayer
    {
        switch (SimdWidth.Best)
        {
            case 16: Recurrent<V512, TLayer>(ref run); break;
            case 8: Recurrent<V256, TLayer>(ref run); break;
            case 4: Recurrent<V128, TLayer>(ref run); break;
            default: Recurrent<Scalar, TLayer>(ref run); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Recurrent<T, TLayer>(ref RunArguments run) where T : struct, ISimd<T> where TLayer : struct, IRecurrentLayer
    {
        // One specialized time loop per cell, so nothing inside it branches on the cell kind.
        switch (TLayer.Cell)
        {
            case RecurrentCell.Lstm: RunSteps<T, LstmCell<PlainLstm>, TLayer>(ref run); break;
            case RecurrentCell.Gru: RunSteps<T, GruCell, TLayer>(ref run); break;
            case RecurrentCell.GruResetBefore: RunResetBeforeGru<T, TLayer>(ref run); break;
            case RecurrentCell.PeepholeLstm: RunSteps<T, LstmCell<PeepholeLstm>, TLayer>(ref run); break;
            case RecurrentCell.CoupledLstm: RunSteps<T, LstmCell<CoupledLstm>, TLayer>(ref run); break;
            case RecurrentCell.PeepholeCoupledLstm: RunSteps<T, LstmCell<PeepholeCoupledLstm>, TLayer>(ref run); break;
            default: RunSteps<T, RnnCell, TLayer>(ref run); break;
        }
    }

    /// <summary>One run of the recurrence: <see cref="Count"/> sequences (the first ones of a layout of
    /// <see cref="LayoutCount"/>) over steps [<see cref="FirstStep"/>, <see cref="FirstStep"/> + <see cref="Length"/>)
    /// of <see cref="Steps"/>.</summary>
    private ref struct RunArguments(Span<float> inputGates, ReadOnlySpan<float> recurrentWeights, ReadOnlySpan<float> cellVectors,
        int steps, int count, bool reverse, Span<float> state, Span<float> output, int outputStride, int outputOffset,
        int firstStep, int length, int layoutCount)
    {
        public readonly Span<float> InputGates = inputGates;
        public readonly ReadOnlySpan<float> RecurrentWeights = recurrentWeights;
        public readonly ReadOnlySpan<float> CellVectors = cellVectors;
        public readonly int Steps = steps, Count = count, OutputStride = outputStride, OutputOffset = outputOffset;
        public readonly int FirstStep = firstStep, Length = length, LayoutCount = layoutCount;
        public readonly bool Reverse = reverse;
        public readonly Span<float> State = state;
        public readonly Span<float> Output = output;
    }

    /// <summary>A recurrent cell's step, for one sequence and for four at once.</summary>
    private interface ICell
    {
        static abstract int Gates { get; }
        static abstract bool HasCellState { get; }
        /// <summary>Advances units [unit, unit + 16) of one sequence; <paramref name="w"/> is that block's weights and
        /// <paramref name="vectors"/> the cell vectors (see <see cref="Recurrent{TLayer}"/>).</summary>
        static abstract void Step<T, TLayer>(ref float gx, ref float w, ref float vectors, int unit, ref float hRead, ref float hWrite, ref float c)
            where T : struct, ISimd<T> where TLayer : struct, IRecurrentLayer;
        /// <summary>The same for four sequences at once.</summary>
        static abstract void Step4<T, TLayer>(ref CellRows rows, ref float w, ref float vectors, int unit)
            where T : struct, ISimd<T> where TLayer : struct, IRecurrentLayer;
    }

    /// <summary>Which LSTM: JIT-time constants, so each variant compiles to its own kernels with the unused math gone,
    /// and the plain LSTM's code is what it was before the variants.</summary>
    private interface ILstmOptions
    {
        /// <summary>i and f also see p ⊙ c_{t−1}, o sees p_o ⊙ c_t; the peephole weights are the cell vectors.</summary>
        static abstract bool Peephole { get; }
        /// <summary>f = 1 − i: the f gate's sums are never formed.</summary>
        static abstract bool Coupled { get; }
    }

    private struct PlainLstm : ILstmOptions
    {
        public static bool Peephole => false;
        public static bool Coupled => false;
    }

    private struct PeepholeLstm : ILstmOptions
    {
        public static bool Peephole => true;
        public static bool Coupled => false;
    }

    private struct CoupledLstm : ILstmOptions
    {
        public static bool Peephole => false;
        public static bool Coupled => true;
    }

    private struct PeepholeCoupledLstm : ILstmOptions
    {
        public static bool Peephole => true;
        public static bool Coupled => true;
    }

    private struct LstmCell<TOptions> : ICell where TOptions : struct, ILstmOptions
    {
        public static int Gates => 4;
        public static bool HasCellState => true;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Step<T, TLayer>(ref float gx, ref float w, ref float vectors, int unit, ref float hRead, ref float hWrite, ref float c)
            where T : struct, ISimd<T> where TLayer : struct, IRecurrentLayer => LstmStep<T, TLayer, TOptions>(ref gx, ref w, ref Peepholes<TOptions>(ref vectors), unit, ref hRead, ref hWrite, ref c);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Step4<T, TLayer>(ref CellRows rows, ref float w, ref float vectors, int unit)
            where T : struct, ISimd<T> where TLayer : struct, IRecurrentLayer => LstmStep4<T, TLayer, TOptions>(ref rows, ref w, ref Peepholes<TOptions>(ref vectors), unit);
    }

    private struct GruCell : ICell
    {
        public static int Gates => 3;
        public static bool HasCellState => false;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Step<T, TLayer>(ref float gx, ref float w, ref float vectors, int unit, ref float hRead, ref float hWrite, ref float c)
            where T : struct, ISimd<T> where TLayer : struct, IRecurrentLayer => GruStep<T, TLayer>(ref gx, ref w, ref vectors, unit, ref hRead, ref hWrite);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Step4<T, TLayer>(ref CellRows rows, ref float w, ref float vectors, int unit)
            where T : struct, ISimd<T> where TLayer : struct, IRecurrentLayer => GruStep4<T, TLayer>(ref rows, ref w, ref vectors, unit);
    }

    private struct RnnCell : ICell
    {
        public static int Gates => 1;
        public static bool HasCellState => false;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Step<T, TLayer>(ref float gx, ref float w, ref float vectors, int unit, ref float hRead, ref float hWrite, ref float c)
            where T : struct, ISimd<T> where TLayer : struct, IRecurrentLayer => RnnStep<T, TLayer>(ref gx, ref w, unit, ref hRead, ref hWrite);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Step4<T, TLayer>(ref CellRows rows, ref float w, ref float vectors, int unit)
            where T : struct, ISimd<T> where TLayer : struct, IRecurrentLayer => RnnStep4<T, TLayer>(ref rows, ref w, unit);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunSteps<T, TCell, TLayer>(ref RunArguments run) where T : struct, ISimd<T> where TCell : struct, ICell where TLayer : struct, IRecurrentLayer
    {
        int hidden = TLayer.Hidden, steps = run.Steps, count = run.Count, first = run.FirstStep, length = run.Length;
        var padded = WeightPacking.Padded(hidden);
        var columns = TCell.Gates * padded;
        var hStride = 2 * padded;
        ref var h0 = ref MemoryMarshal.GetReference(run.State);
        ref var c0 = ref Unsafe.Add(ref h0, run.LayoutCount * hStride);
        ref var gx0 = ref MemoryMarshal.GetReference(run.InputGates);
        ref var w = ref MemoryMarshal.GetReference(run.RecurrentWeights);
        ref var vectors = ref MemoryMarshal.GetReference(run.CellVectors);
        var writesOutput = !run.Output.IsEmpty;

        var blockSize = hidden * columns / padded * WeightPacking.Block;   // one unit block's recurrent weights

        for (var step = 0; step < length; step++)
        {
            var t = run.Reverse ? first + length - 1 - step : first + step;
            // h alternates between the two halves of each sequence's h region.
            var read = (step & 1) * padded;
            var write = padded - read;
            int s;
            // Unit blocks outside, sequences inside: a block's weights stay in L1 while every sequence uses them.
            for (var u = 0; u < padded; u += WeightPacking.Block)
            {
                ref var wBlock = ref Unsafe.Add(ref w, u / WeightPacking.Block * blockSize);
                for (s = 0; s + Tile <= count; s += Tile)
                {
                    var rows = new CellRows(ref Unsafe.Add(ref gx0, (s * steps + t) * columns), steps * columns,
                        ref Unsafe.Add(ref h0, s * hStride + read), ref Unsafe.Add(ref h0, s * hStride + write), hStride,
                        ref Unsafe.Add(ref c0, s * padded), padded);
                    TCell.Step4<T, TLayer>(ref rows, ref wBlock, ref vectors, u);
                }
                for (; s < count; s++)
                {
                    TCell.Step<T, TLayer>(ref Unsafe.Add(ref gx0, (s * steps + t) * columns), ref wBlock, ref vectors, u,
                        ref Unsafe.Add(ref h0, s * hStride + read), ref Unsafe.Add(ref h0, s * hStride + write),
                        ref Unsafe.Add(ref c0, s * padded));
                }
            }
            if (writesOutput)
            {
                for (s = 0; s < count; s++)
                    run.State.Slice(s * hStride + write, hidden).CopyTo(run.Output.Slice((s * steps + t) * run.OutputStride + run.OutputOffset, hidden));
            }
        }
        // Leave the final h in the first half of each h region.
        if ((length & 1) == 1)
        {
            for (var s = 0; s < count; s++)
                run.State.Slice(s * hStride + padded, padded).CopyTo(run.State.Slice(s * hStride, padded));
        }
    }

    /// <summary>
    /// The reset-before GRU (<see cref="RecurrentCell.GruResetBefore"/>). Its n needs r ⊙ h of every unit, so a step
    /// is three passes where the other cells take one: (1) per block, the r and z sums over their gate slots and
    /// r ⊙ h into the write half of h, which is free until h' goes there; (2) per block, the n sums
    /// gx_n + (r ⊙ h) · W_hn over the n gate slots; (3) h' = (1 − z) ⊙ n + z ⊙ h over r ⊙ h, which pass 2 has done with.
    /// Padded units stay zero: their h is zero, so their r ⊙ h is, and their weights and gate sums are.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunResetBeforeGru<T, TLayer>(ref RunArguments run) where T : struct, ISimd<T> where TLayer : struct, IRecurrentLayer
    {
        const int B = WeightPacking.Block;
        int hidden = TLayer.Hidden, steps = run.Steps, count = run.Count, first = run.FirstStep, length = run.Length;
        var padded = WeightPacking.Padded(hidden);
        var columns = 3 * padded;
        var hStride = 2 * padded;
        ref var h0 = ref MemoryMarshal.GetReference(run.State);
        ref var gx0 = ref MemoryMarshal.GetReference(run.InputGates);
        ref var w = ref MemoryMarshal.GetReference(run.RecurrentWeights);
        var writesOutput = !run.Output.IsEmpty;

        var blockSize = hidden * 3 * B;

        for (var step = 0; step < length; step++)
        {
            var t = run.Reverse ? first + length - 1 - step : first + step;
            var read = (step & 1) * padded;
            var write = padded - read;
            int s;
            for (var pass = 0; pass < 2; pass++)
            {
                // Unit blocks outside, sequences inside, as in RunSteps; pass 2 needs all of pass 1's r ⊙ h.
                for (var u = 0; u < padded; u += B)
                {
                    ref var wBlock = ref Unsafe.Add(ref w, u / B * blockSize);
                    for (s = 0; s + Tile <= count; s += Tile)
                    {
                        // No cell state: the c row is never read.
                        var rows = new CellRows(ref Unsafe.Add(ref gx0, (s * steps + t) * columns), steps * columns,
                            ref Unsafe.Add(ref h0, s * hStride + read), ref Unsafe.Add(ref h0, s * hStride + write), hStride, ref h0, 0);
                        if (pass == 0)
                            GruGatesStep4<T, TLayer>(ref rows, ref wBlock, u);
                        else
                            GruCandidateStep4<T, TLayer>(ref rows, ref wBlock, u);
                    }
                    for (; s < count; s++)
                    {
                        ref var gx = ref Unsafe.Add(ref gx0, (s * steps + t) * columns);
                        ref var hWrite = ref Unsafe.Add(ref h0, s * hStride + write);
                        if (pass == 0)
                            GruGatesStep<T, TLayer>(ref gx, ref wBlock, u, ref Unsafe.Add(ref h0, s * hStride + read), ref hWrite);
                        else
                            GruCandidateStep<T, TLayer>(ref gx, ref wBlock, u, ref hWrite);
                    }
                }
            }
            for (s = 0; s < count; s++)
            {
                ref var gx = ref Unsafe.Add(ref gx0, (s * steps + t) * columns);
                for (var u = 0; u < padded; u += B)
                    GruResetBeforeFinishBlock<T>(ref gx, ref Unsafe.Add(ref h0, s * hStride + read), ref Unsafe.Add(ref h0, s * hStride + write), u);
            }
            if (writesOutput)
            {
                for (s = 0; s < count; s++)
                    run.State.Slice(s * hStride + write, hidden).CopyTo(run.Output.Slice((s * steps + t) * run.OutputStride + run.OutputOffset, hidden));
            }
        }
        // Leave the final h in the first half of each h region.
        if ((length & 1) == 1)
        {
            for (var s = 0; s < count; s++)
                run.State.Slice(s * hStride + padded, padded).CopyTo(run.State.Slice(s * hStride, padded));
        }
    }

    // Each step function advances the units [unit, unit + 16) of one block. The block's gate pre-activations sit
    // at gates[G × unit + k × 16 + lane] (gate-interleaved); its recurrent weights are block-major: row j of the
    // block at w[j × G × 16 + k × 16 + lane], so a step streams them sequentially.

    /// <summary>One sequence's LSTM block: gates = gx + h · W_hh, then c and h.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LstmStep<T, TLayer, TOptions>(ref float gx, ref float w, ref float peepholes, int unit, ref float hRead, ref float hWrite, ref float c)
        where T : struct, ISimd<T> where TLayer : struct, IRecurrentLayer where TOptions : struct, ILstmOptions
    {
        var hidden = TLayer.Hidden;
        const int B = WeightPacking.Block, Row = 4 * B;
        for (var lane = 0; lane < B; lane += T.Count)
        {
            var col = 4 * unit + lane;
            var ai = T.Load(ref gx, col);
            var af = T.Load(ref gx, col + B);
            var ag = T.Load(ref gx, col + 2 * B);
            var ao = T.Load(ref gx, col + 3 * B);
            // Two chains per gate (even and odd j) halve the FMA latency on the step's critical path.
            T bi = T.Zero, bf = T.Zero, bg = T.Zero, bo = T.Zero;
            var j = 0;
            // A coupled cell never reads f (f = 1 − i), so it skips the f columns.
            for (; j + 2 <= hidden; j += 2)
            {
                var hj = T.Broadcast(Unsafe.Add(ref hRead, j));
                var hk = T.Broadcast(Unsafe.Add(ref hRead, j + 1));
                var row = j * Row + lane;
                ai = T.MultiplyAdd(hj, T.Load(ref w, row), ai);
                if (!TOptions.Coupled)
                    af = T.MultiplyAdd(hj, T.Load(ref w, row + B), af);
                ag = T.MultiplyAdd(hj, T.Load(ref w, row + 2 * B), ag);
                ao = T.MultiplyAdd(hj, T.Load(ref w, row + 3 * B), ao);
                row += Row;
                bi = T.MultiplyAdd(hk, T.Load(ref w, row), bi);
                if (!TOptions.Coupled)
                    bf = T.MultiplyAdd(hk, T.Load(ref w, row + B), bf);
                bg = T.MultiplyAdd(hk, T.Load(ref w, row + 2 * B), bg);
                bo = T.MultiplyAdd(hk, T.Load(ref w, row + 3 * B), bo);
            }
            if (j < hidden)
            {
                var hj = T.Broadcast(Unsafe.Add(ref hRead, j));
                var row = j * Row + lane;
                ai = T.MultiplyAdd(hj, T.Load(ref w, row), ai);
                if (!TOptions.Coupled)
                    af = T.MultiplyAdd(hj, T.Load(ref w, row + B), af);
                ag = T.MultiplyAdd(hj, T.Load(ref w, row + 2 * B), ag);
                ao = T.MultiplyAdd(hj, T.Load(ref w, row + 3 * B), ao);
            }
            // No call while the sums are in registers (vector registers do not survive calls): store them, finish after.
            StoreGates(ref gx, col, T.Add(ai, bi), T.Add(af, bf), T.Add(ag, bg), T.Add(ao, bo));
        }
        FinishLstmBlock<T, TOptions>(ref gx, ref peepholes, ref c, ref hWrite, unit);
    }

    /// <summary><paramref name="peepholes"/> where the variant reads them, else a null reference, so that the other
    /// variants keep no reference to them live across their loops (it would cost a register).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref float Peepholes<TOptions>(ref float peepholes) where TOptions : struct, ILstmOptions =>
        ref TOptions.Peephole ? ref peepholes : ref Unsafe.NullRef<float>();

    /// <summary>The LSTM activations for one block, for any variant. The variants finish in functions of their own so
    /// that the plain LSTM's compile exactly as before: with the variants' math under constant branches in the same
    /// function, the inliner spent its budget on those branches before they were folded away.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FinishLstmBlock<T, TOptions>(ref float gates, ref float peepholes, ref float c, ref float h, int unit)
        where T : struct, ISimd<T> where TOptions : struct, ILstmOptions
    {
        if (TOptions.Peephole || TOptions.Coupled)
            LstmVariantFinishBlock<T, TOptions>(ref gates, ref Peepholes<TOptions>(ref peepholes), ref c, ref h, unit);
        else
            LstmFinishBlock<T>(ref gates, ref c, ref h, unit);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LstmFinish<T>(T ai, T af, T ag, T ao, ref float c, ref float h, int unit) where T : struct, ISimd<T>
    {
        var cell = T.MultiplyAdd(T.GateSigmoid(af), T.Load(ref c, unit), T.Multiply(T.GateSigmoid(ai), T.GateTanh(ag)));
        T.Store(cell, ref c, unit);
        T.Store(T.Multiply(T.GateSigmoid(ao), T.GateTanh(cell)), ref h, unit);
    }

    /// <summary>Peephole and coupled LSTM activations for one block whose gate pre-activations are finished in <paramref name="gates"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void LstmVariantFinishBlock<T, TOptions>(ref float gates, ref float peepholes, ref float c, ref float h, int unit)
        where T : struct, ISimd<T> where TOptions : struct, ILstmOptions
    {
        const int B = WeightPacking.Block;
        for (var lane = 0; lane < B; lane += T.Count)
        {
            var col = 4 * unit + lane;
            LstmVariantFinish<T, TOptions>(T.Load(ref gates, col), T.Load(ref gates, col + B), T.Load(ref gates, col + 2 * B), T.Load(ref gates, col + 3 * B),
                ref peepholes, 3 * unit + lane, ref c, ref h, unit + lane);
        }
    }

    /// <summary>c and h of one vector of units; <paramref name="peephole"/> is the column of their p_i in the peephole
    /// weights (p_f and p_o one and two blocks on).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LstmVariantFinish<T, TOptions>(T ai, T af, T ag, T ao, ref float peepholes, int peephole, ref float c, ref float h, int unit)
        where T : struct, ISimd<T> where TOptions : struct, ILstmOptions
    {
        const int B = WeightPacking.Block;
        var previous = T.Load(ref c, unit);
        if (TOptions.Peephole)
        {
            ai = T.MultiplyAdd(T.Load(ref peepholes, peephole), previous, ai);
            if (!TOptions.Coupled)
                af = T.MultiplyAdd(T.Load(ref peepholes, peephole + B), previous, af);
        }
        var i = T.GateSigmoid(ai);
        T cell;
        if (TOptions.Coupled)
            cell = T.MultiplyAdd(i, T.Subtract(T.GateTanh(ag), previous), previous);   // f = 1 − i: c + i · (g − c)
        else
            cell = T.MultiplyAdd(T.GateSigmoid(af), previous, T.Multiply(i, T.GateTanh(ag)));
        T.Store(cell, ref c, unit);
        if (TOptions.Peephole)
            ao = T.MultiplyAdd(T.Load(ref peepholes, peephole + 2 * B), cell, ao);   // o sees the new c
        T.Store(T.Multiply(T.GateSigmoid(ao), T.GateTanh(cell)), ref h, unit);
    }

    /// <summary>One sequence's GRU block (reset-after): r, z = σ(gx + h · W), n = tanh(gx_n + r · (h · W_n + b_hn)).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GruStep<T, TLayer>(ref float gx, ref float w, ref float bhn, int unit, ref float hRead, ref float hWrite)
        where T : struct, ISimd<T> where TLayer : struct, IRecurrentLayer
    {
        var hidden = TLayer.Hidden;
        const int B = WeightPacking.Block, Row = 3 * B;
        for (var lane = 0; lane < B; lane += T.Count)
        {
            var col = 3 * unit + lane;
            var ar = T.Load(ref gx, col);
            var az = T.Load(ref gx, col + B);
            var an = T.Load(ref bhn, unit + lane);
            T br = T.Zero, bz = T.Zero, bn = T.Zero;
            var j = 0;
            for (; j + 2 <= hidden; j += 2)
            {
                var hj = T.Broadcast(Unsafe.Add(ref hRead, j));
                var hk = T.Broadcast(Unsafe.Add(ref hRead, j + 1));
                var row = j * Row + lane;
                ar = T.MultiplyAdd(hj, T.Load(ref w, row), ar);
                az = T.MultiplyAdd(hj, T.Load(ref w, row + B), az);
                an = T.MultiplyAdd(hj, T.Load(ref w, row + 2 * B), an);
                row += Row;
                br = T.MultiplyAdd(hk, T.Load(ref w, row), br);
                bz = T.MultiplyAdd(hk, T.Load(ref w, row + B), bz);
                bn = T.MultiplyAdd(hk, T.Load(ref w, row + 2 * B), bn);
            }
            if (j < hidden)
            {
                var hj = T.Broadcast(Unsafe.Add(ref hRead, j));
                var row = j * Row + lane;
                ar = T.MultiplyAdd(hj, T.Load(ref w, row), ar);
                az = T.MultiplyAdd(hj, T.Load(ref w, row + B), az);
                an = T.MultiplyAdd(hj, T.Load(ref w, row + 2 * B), an);
            }
            // r and z sums over their gate slots; the recurrent n sum waits in the h slot it will become.
            T.Store(T.Add(ar, br), ref gx, col);
            T.Store(T.Add(az, bz), ref gx, col + B);
            T.Store(T.Add(an, bn), ref hWrite, unit + lane);
        }
        GruFinishBlock<T>(ref gx, ref hRead, ref hWrite, unit);
    }

    /// <summary>GRU activations for one block: r and z sums in <paramref name="gates"/>, W_hn h + b_hn in
    /// <paramref name="hWrite"/>, which receives the new h.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GruFinishBlock<T>(ref float gates, ref float hRead, ref float hWrite, int unit) where T : struct, ISimd<T>
    {
        const int B = WeightPacking.Block;
        for (var lane = 0; lane < B; lane += T.Count)
        {
            var col = 3 * unit + lane;
            GruFinish(T.Load(ref gates, col), T.Load(ref gates, col + B), T.Load(ref hWrite, unit + lane), T.Load(ref gates, col + 2 * B),
                ref hRead, ref hWrite, unit + lane);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GruFinish<T>(T ar, T az, T an, T xn, ref float hRead, ref float hWrite, int unit) where T : struct, ISimd<T>
    {
        var z = T.GateSigmoid(az);
        var n = T.GateTanh(T.MultiplyAdd(T.GateSigmoid(ar), an, xn));
        // (1 − z) · n + z · h = n + z · (h − n)
        T.Store(T.MultiplyAdd(z, T.Subtract(T.Load(ref hRead, unit), n), n), ref hWrite, unit);
    }

    /// <summary>Pass 1 of one sequence's reset-before GRU block (see <see cref="RunResetBeforeGru"/>): the r and z sums
    /// over their gate slots, then r ⊙ h into <paramref name="resetHidden"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GruGatesStep<T, TLayer>(ref float gx, ref float w, int unit, ref float hRead, ref float resetHidden)
        where T : struct, ISimd<T> where TLayer : struct, IRecurrentLayer
    {
        var hidden = TLayer.Hidden;
        const int B = WeightPacking.Block, Row = 3 * B;
        for (var lane = 0; lane < B; lane += T.Count)
        {
            var col = 3 * unit + lane;
            var ar = T.Load(ref gx, col);
            var az = T.Load(ref gx, col + B);
            T br = T.Zero, bz = T.Zero;
            var j = 0;
            for (; j + 2 <= hidden; j += 2)
            {
                var hj = T.Broadcast(Unsafe.Add(ref hRead, j));
                var hk = T.Broadcast(Unsafe.Add(ref hRead, j + 1));
                var row = j * Row + lane;
                ar = T.MultiplyAdd(hj, T.Load(ref w, row), ar);
                az = T.MultiplyAdd(hj, T.Load(ref w, row + B), az);
                row += Row;
                br = T.MultiplyAdd(hk, T.Load(ref w, row), br);
                bz = T.MultiplyAdd(hk, T.Load(ref w, row + B), bz);
            }
            if (j < hidden)
            {
                var hj = T.Broadcast(Unsafe.Add(ref hRead, j));
                var row = j * Row + lane;
                ar = T.MultiplyAdd(hj, T.Load(ref w, row), ar);
                az = T.MultiplyAdd(hj, T.Load(ref w, row + B), az);
            }
            T.Store(T.Add(ar, br), ref gx, col);
            T.Store(T.Add(az, bz), ref gx, col + B);
        }
        ResetHiddenBlock<T>(ref gx, ref hRead, ref resetHidden, unit);
    }

    /// <summary>r ⊙ h for one block whose r sums are finished in <paramref name="gates"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ResetHiddenBlock<T>(ref float gates, ref float hRead, ref float resetHidden, int unit) where T : struct, ISimd<T>
    {
        for (var lane = 0; lane < WeightPacking.Block; lane += T.Count)
        {
            var r = T.GateSigmoid(T.Load(ref gates, 3 * unit + lane));
            T.Store(T.Multiply(r, T.Load(ref hRead, unit + lane)), ref resetHidden, unit + lane);
        }
    }

    /// <summary>Pass 2 of one sequence's reset-before GRU block: the n sums gx_n + (r ⊙ h) · W_hn over the n gate slots.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GruCandidateStep<T, TLayer>(ref float gx, ref float w, int unit, ref float resetHidden)
        where T : struct, ISimd<T> where TLayer : struct, IRecurrentLayer
    {
        var hidden = TLayer.Hidden;
        const int B = WeightPacking.Block, Row = 3 * B;
        for (var lane = 0; lane < B; lane += T.Count)
        {
            var col = 3 * unit + 2 * B + lane;
            var a = T.Load(ref gx, col);
            var b = T.Zero;
            var j = 0;
            for (; j + 2 <= hidden; j += 2)
            {
                var row = j * Row + 2 * B + lane;
                a = T.MultiplyAdd(T.Broadcast(Unsafe.Add(ref resetHidden, j)), T.Load(ref w, row), a);
                b = T.MultiplyAdd(T.Broadcast(Unsafe.Add(ref resetHidden, j + 1)), T.Load(ref w, row + Row), b);
            }
            if (j < hidden)
                a = T.MultiplyAdd(T.Broadcast(Unsafe.Add(ref resetHidden, j)), T.Load(ref w, j * Row + 2 * B + lane), a);
            T.Store(T.Add(a, b), ref gx, col);
        }
    }

    /// <summary>Pass 3 of one sequence's reset-before GRU block: h' = (1 − z) ⊙ tanh(n sum) + z ⊙ h into
    /// <paramref name="hWrite"/>, over the r ⊙ h that pass 2 has done with.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GruResetBeforeFinishBlock<T>(ref float gates, ref float hRead, ref float hWrite, int unit) where T : struct, ISimd<T>
    {
        const int B = WeightPacking.Block;
        for (var lane = 0; lane < B; lane += T.Count)
        {
            var col = 3 * unit + lane;
            var z = T.GateSigmoid(T.Load(ref gates, col + B));
            var n = T.GateTanh(T.Load(ref gates, col + 2 * B));
            // (1 − z) · n + z · h = n + z · (h − n)
            T.Store(T.MultiplyAdd(z, T.Subtract(T.Load(ref hRead, unit + lane), n), n), ref hWrite, unit + lane);
        }
    }

    /// <summary>One sequence's Elman block: h = act(gx + h · W).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RnnStep<T, TLayer>(ref float gx, ref float w, int unit, ref float hRead, ref float hWrite)
        where T : struct, ISimd<T> where TLayer : struct, IRecurrentLayer
    {
        var hidden = TLayer.Hidden;
        const int B = WeightPacking.Block;
        for (var lane = 0; lane < B; lane += T.Count)
        {
            var a = T.Load(ref gx, unit + lane);
            var b = T.Zero;
            var j = 0;
            for (; j + 2 <= hidden; j += 2)
            {
                a = T.MultiplyAdd(T.Broadcast(Unsafe.Add(ref hRead, j)), T.Load(ref w, j * B + lane), a);
                b = T.MultiplyAdd(T.Broadcast(Unsafe.Add(ref hRead, j + 1)), T.Load(ref w, (j + 1) * B + lane), b);
            }
            if (j < hidden)
                a = T.MultiplyAdd(T.Broadcast(Unsafe.Add(ref hRead, j)), T.Load(ref w, j * B + lane), a);
            T.Store(T.Add(a, b), ref hWrite, unit + lane);
        }
        ActivateBlock<T, TLayer>(ref hWrite, unit);
    }

    /// <summary>Applies the Elman activation to one block of finished sums, in place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ActivateBlock<T, TLayer>(ref float h, int unit) where T : struct, ISimd<T> where TLayer : struct, IRecurrentLayer
    {
        for (var lane = 0; lane < WeightPacking.Block; lane += T.Count)
            T.Store(GateActivation(T.Load(ref h, unit + lane), TLayer.Activation), ref h, unit + lane);
    }

    /// <summary>Four sequences' rows of one step, for the tiled kernels.</summary>
    private ref struct CellRows(ref float gates, int gatesStride, ref float hRead, ref float hWrite, int hStride, ref float c, int cStride)
    {
        public ref float Gates = ref gates;
        public readonly int GatesStride = gatesStride;
        public ref float HRead = ref hRead;
        public ref float HWrite = ref hWrite;
        public readonly int HStride = hStride;
        public ref float C = ref c;
        public readonly int CStride = cStride;
    }

    /// <summary>Four rows of one array, <c>stride</c> floats apart: the four sequences a tile kernel advances together.</summary>
    private readonly ref struct Four
    {
        public readonly ref float R0, R1, R2, R3;

        public Four(ref float first, int stride)
        {
            // Chained rather than first + k * stride: the JIT then keeps one scaled stride (the code is the same as
            // before this struct existed, checked with DOTNET_JitDisasm).
            R0 = ref first;
            R1 = ref Unsafe.Add(ref R0, stride);
            R2 = ref Unsafe.Add(ref R1, stride);
            R3 = ref Unsafe.Add(ref R2, stride);
        }
    }

    /// <summary>LSTM block of four sequences at once: each weight vector loaded once serves all four.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void LstmStep4<T, TLayer, TOptions>(ref CellRows rows, ref float w, ref float peepholes, int unit)
        where T : struct, ISimd<T> where TLayer : struct, IRecurrentLayer where TOptions : struct, ILstmOptions
    {
        var hidden = TLayer.Hidden;
        const int B = WeightPacking.Block, Row = 4 * B;
        var g = new Four(ref rows.Gates, rows.GatesStride);
        var h = new Four(ref rows.HRead, rows.HStride);
        for (var lane = 0; lane < B; lane += T.Count)
        {
            var col = 4 * unit + lane;
            T i0 = T.Load(ref g.R0, col), f0 = T.Load(ref g.R0, col + B), c0 = T.Load(ref g.R0, col + 2 * B), o0 = T.Load(ref g.R0, col + 3 * B);
            T i1 = T.Load(ref g.R1, col), f1 = T.Load(ref g.R1, col + B), c1 = T.Load(ref g.R1, col + 2 * B), o1 = T.Load(ref g.R1, col + 3 * B);
            T i2 = T.Load(ref g.R2, col), f2 = T.Load(ref g.R2, col + B), c2 = T.Load(ref g.R2, col + 2 * B), o2 = T.Load(ref g.R2, col + 3 * B);
            T i3 = T.Load(ref g.R3, col), f3 = T.Load(ref g.R3, col + B), c3 = T.Load(ref g.R3, col + 2 * B), o3 = T.Load(ref g.R3, col + 3 * B);
            for (var j = 0; j < hidden; j++)
            {
                var row = j * Row + lane;
                var wi = T.Load(ref w, row);
                var wf = TOptions.Coupled ? T.Zero : T.Load(ref w, row + B);   // coupled: f = 1 − i, its columns unread
                var wg = T.Load(ref w, row + 2 * B);
                var wo = T.Load(ref w, row + 3 * B);
                var x0 = T.Broadcast(Unsafe.Add(ref h.R0, j));
                i0 = T.MultiplyAdd(x0, wi, i0); if (!TOptions.Coupled) f0 = T.MultiplyAdd(x0, wf, f0); c0 = T.MultiplyAdd(x0, wg, c0); o0 = T.MultiplyAdd(x0, wo, o0);
                var x1 = T.Broadcast(Unsafe.Add(ref h.R1, j));
                i1 = T.MultiplyAdd(x1, wi, i1); if (!TOptions.Coupled) f1 = T.MultiplyAdd(x1, wf, f1); c1 = T.MultiplyAdd(x1, wg, c1); o1 = T.MultiplyAdd(x1, wo, o1);
                var x2 = T.Broadcast(Unsafe.Add(ref h.R2, j));
                i2 = T.MultiplyAdd(x2, wi, i2); if (!TOptions.Coupled) f2 = T.MultiplyAdd(x2, wf, f2); c2 = T.MultiplyAdd(x2, wg, c2); o2 = T.MultiplyAdd(x2, wo, o2);
                var x3 = T.Broadcast(Unsafe.Add(ref h.R3, j));
                i3 = T.MultiplyAdd(x3, wi, i3); if (!TOptions.Coupled) f3 = T.MultiplyAdd(x3, wf, f3); c3 = T.MultiplyAdd(x3, wg, c3); o3 = T.MultiplyAdd(x3, wo, o3);
            }
            // The sums go back over the gate rows they started from; the activations run from there (see LstmStep).
            StoreGates(ref g.R0, col, i0, f0, c0, o0);
            StoreGates(ref g.R1, col, i1, f1, c1, o1);
            StoreGates(ref g.R2, col, i2, f2, c2, o2);
            StoreGates(ref g.R3, col, i3, f3, c3, o3);
        }
        for (var s = 0; s < Tile; s++)
        {
            FinishLstmBlock<T, TOptions>(ref Unsafe.Add(ref g.R0, s * rows.GatesStride), ref peepholes, ref Unsafe.Add(ref rows.C, s * rows.CStride),
                ref Unsafe.Add(ref rows.HWrite, s * rows.HStride), unit);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreGates<T>(ref float gates, int col, T a, T b, T c, T d) where T : struct, ISimd<T>
    {
        const int B = WeightPacking.Block;
        T.Store(a, ref gates, col);
        T.Store(b, ref gates, col + B);
        T.Store(c, ref gates, col + 2 * B);
        T.Store(d, ref gates, col + 3 * B);
    }

    /// <summary>LSTM activations for one block of units whose gate pre-activations are finished in <paramref name="gates"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void LstmFinishBlock<T>(ref float gates, ref float c, ref float h, int unit) where T : struct, ISimd<T>
    {
        const int B = WeightPacking.Block;
        for (var lane = 0; lane < B; lane += T.Count)
        {
            var col = 4 * unit + lane;
            LstmFinish(T.Load(ref gates, col), T.Load(ref gates, col + B), T.Load(ref gates, col + 2 * B), T.Load(ref gates, col + 3 * B),
                ref c, ref h, unit + lane);
        }
    }

    /// <summary>GRU block of four sequences at once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GruStep4<T, TLayer>(ref CellRows rows, ref float w, ref float bhn, int unit) where T : struct, ISimd<T> where TLayer : struct, IRecurrentLayer
    {
        var hidden = TLayer.Hidden;
        const int B = WeightPacking.Block, Row = 3 * B;
        var g = new Four(ref rows.Gates, rows.GatesStride);
        var h = new Four(ref rows.HRead, rows.HStride);
        for (var lane = 0; lane < B; lane += T.Count)
        {
            var col = 3 * unit + lane;
            var bn = T.Load(ref bhn, unit + lane);
            T r0 = T.Load(ref g.R0, col), z0 = T.Load(ref g.R0, col + B), n0 = bn;
            T r1 = T.Load(ref g.R1, col), z1 = T.Load(ref g.R1, col + B), n1 = bn;
            T r2 = T.Load(ref g.R2, col), z2 = T.Load(ref g.R2, col + B), n2 = bn;
            T r3 = T.Load(ref g.R3, col), z3 = T.Load(ref g.R3, col + B), n3 = bn;
            for (var j = 0; j < hidden; j++)
            {
                var row = j * Row + lane;
                var wr = T.Load(ref w, row);
                var wz = T.Load(ref w, row + B);
                var wn = T.Load(ref w, row + 2 * B);
                var x0 = T.Broadcast(Unsafe.Add(ref h.R0, j));
                r0 = T.MultiplyAdd(x0, wr, r0); z0 = T.MultiplyAdd(x0, wz, z0); n0 = T.MultiplyAdd(x0, wn, n0);
                var x1 = T.Broadcast(Unsafe.Add(ref h.R1, j));
                r1 = T.MultiplyAdd(x1, wr, r1); z1 = T.MultiplyAdd(x1, wz, z1); n1 = T.MultiplyAdd(x1, wn, n1);
                var x2 = T.Broadcast(Unsafe.Add(ref h.R2, j));
                r2 = T.MultiplyAdd(x2, wr, r2); z2 = T.MultiplyAdd(x2, wz, z2); n2 = T.MultiplyAdd(x2, wn, n2);
                var x3 = T.Broadcast(Unsafe.Add(ref h.R3, j));
                r3 = T.MultiplyAdd(x3, wr, r3); z3 = T.MultiplyAdd(x3, wz, z3); n3 = T.MultiplyAdd(x3, wn, n3);
            }
            var u = unit + lane;
            ref var w0 = ref rows.HWrite;
            T.Store(r0, ref g.R0, col); T.Store(z0, ref g.R0, col + B); T.Store(n0, ref w0, u);
            T.Store(r1, ref g.R1, col); T.Store(z1, ref g.R1, col + B); T.Store(n1, ref Unsafe.Add(ref w0, rows.HStride), u);
            T.Store(r2, ref g.R2, col); T.Store(z2, ref g.R2, col + B); T.Store(n2, ref Unsafe.Add(ref w0, 2 * rows.HStride), u);
            T.Store(r3, ref g.R3, col); T.Store(z3, ref g.R3, col + B); T.Store(n3, ref Unsafe.Add(ref w0, 3 * rows.HStride), u);
        }
        for (var s = 0; s < Tile; s++)
        {
            GruFinishBlock<T>(ref Unsafe.Add(ref g.R0, s * rows.GatesStride), ref Unsafe.Add(ref h.R0, s * rows.HStride),
                ref Unsafe.Add(ref rows.HWrite, s * rows.HStride), unit);
        }
    }

    /// <summary>Pass 1 of the reset-before GRU for four sequences at once: r and z sums, then r ⊙ h into the write rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GruGatesStep4<T, TLayer>(ref CellRows rows, ref float w, int unit) where T : struct, ISimd<T> where TLayer : struct, IRecurrentLayer
    {
        var hidden = TLayer.Hidden;
        const int B = WeightPacking.Block, Row = 3 * B;
        var g = new Four(ref rows.Gates, rows.GatesStride);
        var h = new Four(ref rows.HRead, rows.HStride);
        for (var lane = 0; lane < B; lane += T.Count)
        {
            var col = 3 * unit + lane;
            T r0 = T.Load(ref g.R0, col), z0 = T.Load(ref g.R0, col + B);
            T r1 = T.Load(ref g.R1, col), z1 = T.Load(ref g.R1, col + B);
            T r2 = T.Load(ref g.R2, col), z2 = T.Load(ref g.R2, col + B);
            T r3 = T.Load(ref g.R3, col), z3 = T.Load(ref g.R3, col + B);
            for (var j = 0; j < hidden; j++)
            {
                var row = j * Row + lane;
                var wr = T.Load(ref w, row);
                var wz = T.Load(ref w, row + B);
                var x0 = T.Broadcast(Unsafe.Add(ref h.R0, j));
                r0 = T.MultiplyAdd(x0, wr, r0); z0 = T.MultiplyAdd(x0, wz, z0);
                var x1 = T.Broadcast(Unsafe.Add(ref h.R1, j));
                r1 = T.MultiplyAdd(x1, wr, r1); z1 = T.MultiplyAdd(x1, wz, z1);
                var x2 = T.Broadcast(Unsafe.Add(ref h.R2, j));
                r2 = T.MultiplyAdd(x2, wr, r2); z2 = T.MultiplyAdd(x2, wz, z2);
                var x3 = T.Broadcast(Unsafe.Add(ref h.R3, j));
                r3 = T.MultiplyAdd(x3, wr, r3); z3 = T.MultiplyAdd(x3, wz, z3);
            }
            T.Store(r0, ref g.R0, col); T.Store(z0, ref g.R0, col + B);
            T.Store(r1, ref g.R1, col); T.Store(z1, ref g.R1, col + B);
            T.Store(r2, ref g.R2, col); T.Store(z2, ref g.R2, col + B);
            T.Store(r3, ref g.R3, col); T.Store(z3, ref g.R3, col + B);
        }
        for (var s = 0; s < Tile; s++)
        {
            ResetHiddenBlock<T>(ref Unsafe.Add(ref g.R0, s * rows.GatesStride), ref Unsafe.Add(ref h.R0, s * rows.HStride),
                ref Unsafe.Add(ref rows.HWrite, s * rows.HStride), unit);
        }
    }

    /// <summary>Pass 2 of the reset-before GRU for four sequences at once, reading r ⊙ h from the write rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GruCandidateStep4<T, TLayer>(ref CellRows rows, ref float w, int unit) where T : struct, ISimd<T> where TLayer : struct, IRecurrentLayer
    {
        var hidden = TLayer.Hidden;
        const int B = WeightPacking.Block, Row = 3 * B;
        var g = new Four(ref rows.Gates, rows.GatesStride);
        var x = new Four(ref rows.HWrite, rows.HStride);
        for (var lane = 0; lane < B; lane += T.Count)
        {
            var col = 3 * unit + 2 * B + lane;
            T a0 = T.Load(ref g.R0, col), a1 = T.Load(ref g.R1, col), a2 = T.Load(ref g.R2, col), a3 = T.Load(ref g.R3, col);
            for (var j = 0; j < hidden; j++)
            {
                var wv = T.Load(ref w, j * Row + 2 * B + lane);
                a0 = T.MultiplyAdd(T.Broadcast(Unsafe.Add(ref x.R0, j)), wv, a0);
                a1 = T.MultiplyAdd(T.Broadcast(Unsafe.Add(ref x.R1, j)), wv, a1);
                a2 = T.MultiplyAdd(T.Broadcast(Unsafe.Add(ref x.R2, j)), wv, a2);
                a3 = T.MultiplyAdd(T.Broadcast(Unsafe.Add(ref x.R3, j)), wv, a3);
            }
            T.Store(a0, ref g.R0, col);
            T.Store(a1, ref g.R1, col);
            T.Store(a2, ref g.R2, col);
            T.Store(a3, ref g.R3, col);
        }
    }

    /// <summary>Elman block of four sequences at once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RnnStep4<T, TLayer>(ref CellRows rows, ref float w, int unit) where T : struct, ISimd<T> where TLayer : struct, IRecurrentLayer
    {
        var hidden = TLayer.Hidden;
        const int B = WeightPacking.Block;
        var g = new Four(ref rows.Gates, rows.GatesStride);
        var h = new Four(ref rows.HRead, rows.HStride);
        for (var lane = 0; lane < B; lane += T.Count)
        {
            var col = unit + lane;
            T a0 = T.Load(ref g.R0, col), a1 = T.Load(ref g.R1, col), a2 = T.Load(ref g.R2, col), a3 = T.Load(ref g.R3, col);
            for (var j = 0; j < hidden; j++)
            {
                var wv = T.Load(ref w, j * B + lane);
                a0 = T.MultiplyAdd(T.Broadcast(Unsafe.Add(ref h.R0, j)), wv, a0);
                a1 = T.MultiplyAdd(T.Broadcast(Unsafe.Add(ref h.R1, j)), wv, a1);
                a2 = T.MultiplyAdd(T.Broadcast(Unsafe.Add(ref h.R2, j)), wv, a2);
                a3 = T.MultiplyAdd(T.Broadcast(Unsafe.Add(ref h.R3, j)), wv, a3);
            }
            T.Store(a0, ref rows.HWrite, col);
            T.Store(a1, ref Unsafe.Add(ref rows.HWrite, rows.HStride), col);
            T.Store(a2, ref Unsafe.Add(ref rows.HWrite, 2 * rows.HStride), col);
            T.Store(a3, ref Unsafe.Add(ref rows.HWrite, 3 * rows.HStride), col);
        }
        for (var s = 0; s < Tile; s++)
            ActivateBlock<T, TLayer>(ref Unsafe.Add(ref rows.HWrite, s * rows.HStride), unit);
    }
}

/// <summary>The recurrent cells the kernels implement.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public enum RecurrentCell
{
    /// <summary>PyTorch nn.LSTM.</summary>
    Lstm,
    /// <summary>PyTorch nn.GRU (reset-after).</summary>
    Gru,
    /// <summary>PyTorch nn.RNN.</summary>
    Rnn,
    /// <summary>GRU with the reset gate applied before the recurrent product (Cho et al. 2014; Keras reset_after=False;
    /// ONNX linear_before_reset=0): n = tanh(gx_n + (r ⊙ h) · W_hn), gates r, z, n packed as for <see cref="Gru"/>, every
    /// bias (b_hn included) summed into the input gates.</summary>
    GruResetBefore,
    /// <summary>LSTM with peepholes (ONNX LSTM with P): i and f also see p_i, p_f ⊙ c_{t−1}, o sees p_o ⊙ c_t.</summary>
    PeepholeLstm,
    /// <summary>LSTM with coupled input and forget gates (ONNX input_forget=1): f = 1 − i; the f columns are ignored.</summary>
    CoupledLstm,
    /// <summary>Both: i = σ(a_i + p_i ⊙ c_{t−1}), f = 1 − i, o = σ(a_o + p_o ⊙ c_t); p_f and the f columns are ignored.</summary>
    PeepholeCoupledLstm,
}
