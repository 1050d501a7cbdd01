using System;
using System.ComponentModel;

namespace StaticRnn.Runtime;

/// <summary>
/// The arithmetic of the generated networks: plain loops, one place to read what every cell computes.
/// Generated code calls these with spans whose lengths are fixed by the model, so the shapes are implied by
/// the spans: a matrix is row-major <c>[y.Length, x.Length]</c>.
/// </summary>
/// <remarks>Public only so generated code in user assemblies can call it; not a supported API.</remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Kernels
{
    /// <summary>y = W x.</summary>
    public static void MatVec(ReadOnlySpan<float> matrix, ReadOnlySpan<float> x, Span<float> y)
    {
        var columns = x.Length;
        for (var r = 0; r < y.Length; r++)
            y[r] = Dot(matrix.Slice(r * columns, columns), x);
    }

    /// <summary>y += W x.</summary>
    public static void MatVecAccumulate(ReadOnlySpan<float> matrix, ReadOnlySpan<float> x, Span<float> y)
    {
        var columns = x.Length;
        for (var r = 0; r < y.Length; r++)
            y[r] += Dot(matrix.Slice(r * columns, columns), x);
    }

    /// <summary>y += b.</summary>
    public static void Add(ReadOnlySpan<float> bias, Span<float> y)
    {
        for (var i = 0; i < y.Length; i++)
            y[i] += bias[i];
    }

    private static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var sum = 0f;
        for (var i = 0; i < a.Length; i++)
            sum += a[i] * b[i];
        return sum;
    }

    /// <summary>LSTM state update from the gate pre-activations, PyTorch block order i, f, g, o:
    /// c = σ(f)·c + σ(i)·tanh(g); h = σ(o)·tanh(c).</summary>
    public static void LstmUpdate(ReadOnlySpan<float> gates, Span<float> c, Span<float> h)
    {
        var n = h.Length;
        for (var j = 0; j < n; j++)
        {
            var input = Sigmoid(gates[j]);
            var forget = Sigmoid(gates[n + j]);
            var candidate = Tanh(gates[2 * n + j]);
            var output = Sigmoid(gates[3 * n + j]);
            c[j] = forget * c[j] + input * candidate;
            h[j] = output * Tanh(c[j]);
        }
    }

    /// <summary>GRU state update, PyTorch's reset-after form, block order r, z, n. <paramref name="inputGates"/>
    /// holds W_i·x + b_i (+ b_h for r and z); <paramref name="hiddenGates"/> holds W_h·h without bias;
    /// <paramref name="hiddenBias"/> is b_hn: n = tanh(x_n + r·(h_n + b_hn)); h = (1 − z)·n + z·h.</summary>
    public static void GruUpdate(ReadOnlySpan<float> inputGates, ReadOnlySpan<float> hiddenGates, ReadOnlySpan<float> hiddenBias, Span<float> h)
    {
        var n = h.Length;
        for (var j = 0; j < n; j++)
        {
            var reset = Sigmoid(inputGates[j] + hiddenGates[j]);
            var update = Sigmoid(inputGates[n + j] + hiddenGates[n + j]);
            var candidate = Tanh(inputGates[2 * n + j] + reset * (hiddenGates[2 * n + j] + hiddenBias[j]));
            h[j] = (1f - update) * candidate + update * h[j];
        }
    }

    /// <summary>Elman update: h = act(pre-activation).</summary>
    public static void RnnUpdate(ReadOnlySpan<float> preActivation, Span<float> h, Activation activation)
    {
        preActivation.CopyTo(h);
        Activate(h, activation);
    }

    /// <summary>y = act(W x + b); an empty <paramref name="bias"/> means none.</summary>
    public static void Dense(ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, ReadOnlySpan<float> x, Span<float> y, Activation activation)
    {
        MatVec(weight, x, y);
        if (!bias.IsEmpty)
            Add(bias, y);
        Activate(y, activation);
    }

    /// <summary>Combines a bidirectional layer's two outputs into <paramref name="destination"/>.</summary>
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

    /// <summary>Applies <paramref name="activation"/> in place; Softmax normalizes over the whole span.</summary>
    public static void Activate(Span<float> values, Activation activation)
    {
        switch (activation)
        {
            case Activation.Sigmoid:
                for (var i = 0; i < values.Length; i++)
                    values[i] = Sigmoid(values[i]);
                break;
            case Activation.Tanh:
                for (var i = 0; i < values.Length; i++)
                    values[i] = Tanh(values[i]);
                break;
            case Activation.Relu:
                for (var i = 0; i < values.Length; i++)
                    values[i] = values[i] < 0f ? 0f : values[i];   // NaN stays NaN, as in PyTorch
                break;
            case Activation.Softmax:
                Softmax(values);
                break;
        }
    }

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

    /// <summary>1 / (1 + e^−x); saturates to exactly 0 or 1 for large |x|.</summary>
    public static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));

    /// <summary>Hyperbolic tangent.</summary>
    public static float Tanh(float x) => MathF.Tanh(x);
}
