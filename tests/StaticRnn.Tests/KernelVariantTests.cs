using System;
using System.Collections.Generic;
using StaticRnn.Runtime;
using Xunit;

namespace StaticRnn.Tests;

/// <summary>
/// <see cref="FastKernels.Recurrent{TLayer}"/> for every cell against a double-precision reference written from the cells'
/// equations: canonical (PyTorch-layout) random weights, packed the way the generator packs them, over the tile and
/// remainder paths (count 1, 3, 4, 9), partial and several blocks (hidden 1, 13, 33), both directions and a
/// nonzero initial state. Runs at whatever vector width the process has; CI reruns it with AVX-512, AVX2 and
/// all intrinsics disabled so every width is covered.
/// </summary>
public class KernelVariantTests
{
    private const double Tolerance = 1e-5;
    private const int Inputs = 5;
    private const float Sentinel = 12345f;

    public static IEnumerable<object[]> Cases()
    {
        RecurrentCell[] cells =
        [
            RecurrentCell.Lstm, RecurrentCell.Gru, RecurrentCell.GruResetBefore,
            RecurrentCell.PeepholeLstm, RecurrentCell.CoupledLstm, RecurrentCell.PeepholeCoupledLstm,
        ];
        foreach (var cell in cells)
            foreach (var hidden in new[] { 1, 13, 33 })
                foreach (var count in new[] { 1, 3, 4, 9 })
                    foreach (var steps in new[] { 1, 6 })
                        foreach (var reverse in new[] { false, true })
                            yield return [cell, hidden, count, steps, reverse];
    }

    private static bool IsLstm(RecurrentCell cell) =>
        cell is RecurrentCell.Lstm or RecurrentCell.PeepholeLstm or RecurrentCell.CoupledLstm or RecurrentCell.PeepholeCoupledLstm;

    private static bool HasPeepholes(RecurrentCell cell) => cell is RecurrentCell.PeepholeLstm or RecurrentCell.PeepholeCoupledLstm;

    private static bool IsCoupled(RecurrentCell cell) => cell is RecurrentCell.CoupledLstm or RecurrentCell.PeepholeCoupledLstm;

    private static float[] Uniform(Random random, int length, double scale)
    {
        var values = new float[length];
        for (var i = 0; i < length; i++)
            values[i] = (float)((random.NextDouble() * 2 - 1) * scale);
        return values;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesReference(RecurrentCell cell, int hidden, int count, int steps, bool reverse)
    {
        var random = new Random(((((int)cell * 100 + hidden) * 100 + count) * 10 + steps) * 2 + (reverse ? 1 : 0));
        var lstm = IsLstm(cell);
        var gates = lstm ? 4 : 3;
        var padded = WeightPacking.Padded(hidden);
        var columns = gates * padded;

        // Canonical weights. The coupled cells get random f rows and p_f too: the kernels must ignore them.
        var inputWeights = Uniform(random, gates * hidden * Inputs, 0.5);
        var recurrentWeights = Uniform(random, gates * hidden * hidden, 1.5 / Math.Sqrt(hidden));
        var bias = Uniform(random, gates * hidden, 0.5);   // every bias summed into the input gates, but b_hn for Gru
        var hiddenBias = Uniform(random, hidden, 0.5);    // Gru's b_hn
        var peepholes = Uniform(random, 3 * hidden, 0.7); // [p_i | p_f | p_o]
        var x = Uniform(random, count * steps * Inputs, 1.0);
        var h0 = Uniform(random, count * hidden, 0.8);
        var c0 = Uniform(random, count * hidden, 1.5);

        // Packed, as the generator does it.
        var inputGates = new float[count * steps * columns];
        var run = Shapes.For(cell, hidden);
        run.Project(WeightPacking.GateMatrix(inputWeights, gates, hidden, Inputs), WeightPacking.GateVector(bias, gates, hidden), x, count * steps, inputGates);
        var cellVectors = cell switch
        {
            RecurrentCell.Gru => WeightPacking.GateVector(hiddenBias, 1, hidden),
            RecurrentCell.PeepholeLstm or RecurrentCell.PeepholeCoupledLstm => WeightPacking.GateVector(peepholes, 3, hidden),
            _ => [],
        };
        var state = new float[count * 2 * padded + (lstm ? count * padded : 0)];
        for (var s = 0; s < count; s++)
        {
            // The write half holds garbage: no kernel may read it before writing it.
            Array.Fill(state, float.NaN, s * 2 * padded + padded, padded);
            for (var u = 0; u < hidden; u++)
            {
                state[s * 2 * padded + u] = h0[s * hidden + u];
                if (lstm)
                    state[count * 2 * padded + s * padded + u] = c0[s * hidden + u];
            }
        }
        const int outputOffset = 2;
        var outputStride = hidden + 5;
        var output = new float[count * steps * outputStride];
        Array.Fill(output, Sentinel);

        run.Recurrent(inputGates, WeightPacking.RecurrentMatrix(recurrentWeights, gates, hidden), cellVectors, steps, count, reverse, state, output, outputStride, outputOffset);

        for (var s = 0; s < count; s++)
        {
            var h = new double[hidden];
            var c = new double[hidden];
            for (var u = 0; u < hidden; u++)
            {
                h[u] = h0[s * hidden + u];
                c[u] = c0[s * hidden + u];
            }
            for (var step = 0; step < steps; step++)
            {
                var t = reverse ? steps - 1 - step : step;
                var gx = new double[gates * hidden];
                for (var k = 0; k < gates * hidden; k++)
                {
                    double sum = bias[k];
                    for (var j = 0; j < Inputs; j++)
                        sum += (double)inputWeights[k * Inputs + j] * x[(s * steps + t) * Inputs + j];
                    gx[k] = sum;
                }
                h = lstm
                    ? LstmReference(gx, recurrentWeights, peepholes, HasPeepholes(cell), IsCoupled(cell), hidden, h, c)
                    : GruReference(gx, recurrentWeights, hiddenBias, cell == RecurrentCell.GruResetBefore, hidden, h);
                var row = (s * steps + t) * outputStride;
                for (var i = 0; i < outputStride; i++)
                {
                    if (i >= outputOffset && i < outputOffset + hidden)
                        AssertClose(h[i - outputOffset], output[row + i], $"h[{i - outputOffset}] of sequence {s} at step {t}");
                    else
                        Assert.Equal(Sentinel, output[row + i]);
                }
            }
            for (var u = 0; u < padded; u++)
            {
                var final = state[s * 2 * padded + u];
                if (u < hidden)
                    AssertClose(h[u], final, $"final h[{u}] of sequence {s}");
                else
                    Assert.True(final == 0, $"padded final h[{u}] of sequence {s} is {final}");
                if (!lstm)
                    continue;
                var finalC = state[count * 2 * padded + s * padded + u];
                if (u < hidden)
                    AssertClose(c[u], finalC, $"final c[{u}] of sequence {s}");
                else
                    Assert.True(finalC == 0, $"padded final c[{u}] of sequence {s} is {finalC}");
            }
        }
    }

    public static IEnumerable<object[]> ProjectionCases()
    {
        // Small products (one plain loop nest), narrow inputs (four rows at a time) and wide ones (eight at a time from 64
        // inputs), column counts that are an even and an odd number of 512-bit vectors, and row counts around both group
        // sizes.
        foreach (var (inputs, columns) in new[] { (5, 32), (5, 48), (64, 48), (32, 144), (64, 80), (70, 112) })
            foreach (var rows in new[] { 1, 3, 4, 7, 8, 9, 12, 17, 25 })
                yield return [inputs, columns, rows];
    }

    [Theory]
    [MemberData(nameof(ProjectionCases))]
    public void Projection_matches_reference(int inputs, int columns, int rows)
    {
        var random = new Random((inputs * 1000 + columns) * 100 + rows);
        var weights = Uniform(random, inputs * columns, 1.0 / Math.Sqrt(inputs));
        var bias = Uniform(random, columns, 0.5);
        var x = Uniform(random, rows * inputs, 1.0);
        var y = new float[rows * columns + 3];
        Array.Fill(y, Sentinel);
        Projections.For(inputs, columns)(weights, bias, x, rows, y);
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < columns; c++)
            {
                double sum = bias[c];
                for (var j = 0; j < inputs; j++)
                    sum += (double)x[r * inputs + j] * weights[j * columns + c];
                AssertClose(sum, y[r * columns + c], $"y[{r}, {c}]");
            }
        }
        Assert.All(y[(rows * columns)..], v => Assert.Equal(Sentinel, v));
    }

    private static void AssertClose(double expected, float actual, string what) =>
        Assert.True(Math.Abs(expected - actual) <= Tolerance, $"{what}: expected {expected:R}, got {actual:R} (error {Math.Abs(expected - actual):E2})");

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    /// <summary>W_hh row <paramref name="row"/> · <paramref name="h"/>.</summary>
    private static double Dot(float[] recurrentWeights, int row, double[] h)
    {
        var sum = 0.0;
        for (var j = 0; j < h.Length; j++)
            sum += recurrentWeights[row * h.Length + j] * h[j];
        return sum;
    }

    /// <summary>One LSTM step (gates i, f, g, o); updates <paramref name="c"/> and returns the new h.</summary>
    private static double[] LstmReference(double[] gx, float[] recurrentWeights, float[] peepholes, bool peephole, bool coupled, int hidden, double[] h, double[] c)
    {
        var next = new double[hidden];
        for (var u = 0; u < hidden; u++)
        {
            var ai = gx[u] + Dot(recurrentWeights, u, h);
            var af = gx[hidden + u] + Dot(recurrentWeights, hidden + u, h);
            var ag = gx[2 * hidden + u] + Dot(recurrentWeights, 2 * hidden + u, h);
            var ao = gx[3 * hidden + u] + Dot(recurrentWeights, 3 * hidden + u, h);
            if (peephole)
            {
                ai += peepholes[u] * c[u];
                af += peepholes[hidden + u] * c[u];
            }
            var i = Sigmoid(ai);
            var f = coupled ? 1 - i : Sigmoid(af);
            var cell = f * c[u] + i * Math.Tanh(ag);
            if (peephole)
                ao += peepholes[2 * hidden + u] * cell;
            next[u] = Sigmoid(ao) * Math.Tanh(cell);
            c[u] = cell;   // no later unit reads c[u]: each unit's peepholes see only its own cell
        }
        return next;
    }

    /// <summary>One GRU step (gates r, z, n), reset-after (PyTorch) or reset-before (Cho et al.).</summary>
    private static double[] GruReference(double[] gx, float[] recurrentWeights, float[] hiddenBias, bool resetBefore, int hidden, double[] h)
    {
        var r = new double[hidden];
        var z = new double[hidden];
        for (var u = 0; u < hidden; u++)
        {
            r[u] = Sigmoid(gx[u] + Dot(recurrentWeights, u, h));
            z[u] = Sigmoid(gx[hidden + u] + Dot(recurrentWeights, hidden + u, h));
        }
        var resetHidden = new double[hidden];
        for (var u = 0; u < hidden; u++)
            resetHidden[u] = r[u] * h[u];
        var next = new double[hidden];
        for (var u = 0; u < hidden; u++)
        {
            var n = resetBefore
                ? Math.Tanh(gx[2 * hidden + u] + Dot(recurrentWeights, 2 * hidden + u, resetHidden))
                : Math.Tanh(gx[2 * hidden + u] + r[u] * (Dot(recurrentWeights, 2 * hidden + u, h) + hiddenBias[u]));
            next[u] = (1 - z[u]) * n + z[u] * h[u];
        }
        return next;
    }

    // ---- The kernels take a layer's sizes as a type (IRecurrentLayer), as generated code passes them: one struct per
    // cell and hidden size of the cases above, built from two type arguments. ----

    private delegate void ProjectCall(float[] weights, float[] bias, float[] x, int rows, float[] y);

    private delegate void RecurrentCall(float[] inputGates, float[] recurrentWeights, float[] cellVectors, int steps, int count, bool reverse,
        float[] state, float[] output, int outputStride, int outputOffset);

    private sealed record Kernels(ProjectCall Project, RecurrentCall Recurrent);

    private interface IConstant<T>
    {
        static abstract T Value { get; }
    }

    private struct LstmCell : IConstant<RecurrentCell> { public static RecurrentCell Value => RecurrentCell.Lstm; }
    private struct GruCell : IConstant<RecurrentCell> { public static RecurrentCell Value => RecurrentCell.Gru; }
    private struct GruResetBeforeCell : IConstant<RecurrentCell> { public static RecurrentCell Value => RecurrentCell.GruResetBefore; }
    private struct PeepholeLstmCell : IConstant<RecurrentCell> { public static RecurrentCell Value => RecurrentCell.PeepholeLstm; }
    private struct CoupledLstmCell : IConstant<RecurrentCell> { public static RecurrentCell Value => RecurrentCell.CoupledLstm; }
    private struct PeepholeCoupledLstmCell : IConstant<RecurrentCell> { public static RecurrentCell Value => RecurrentCell.PeepholeCoupledLstm; }
    private struct Hidden1 : IConstant<int> { public static int Value => 1; }
    private struct Hidden13 : IConstant<int> { public static int Value => 13; }
    private struct Hidden33 : IConstant<int> { public static int Value => 33; }

    private struct Shape<TCell, THidden> : IRecurrentLayer where TCell : IConstant<RecurrentCell> where THidden : IConstant<int>
    {
        public static RecurrentCell Cell => TCell.Value;
        public static Activation Activation => Activation.None;
        public static int Inputs => KernelVariantTests.Inputs;
        public static int Hidden => THidden.Value;
        public static int Columns => (Cell is RecurrentCell.Gru or RecurrentCell.GruResetBefore ? 3 : 4) * WeightPacking.Padded(Hidden);
    }

    private struct Int5 : IConstant<int> { public static int Value => 5; }
    private struct Int32 : IConstant<int> { public static int Value => 32; }
    private struct Int48 : IConstant<int> { public static int Value => 48; }
    private struct Int64 : IConstant<int> { public static int Value => 64; }
    private struct Int70 : IConstant<int> { public static int Value => 70; }
    private struct Int80 : IConstant<int> { public static int Value => 80; }
    private struct Int144 : IConstant<int> { public static int Value => 144; }
    private struct Int112 : IConstant<int> { public static int Value => 112; }

    private struct Projection<TInputs, TColumns> : IProjection where TInputs : IConstant<int> where TColumns : IConstant<int>
    {
        public static int Inputs => TInputs.Value;
        public static int Columns => TColumns.Value;
    }

    private static class Projections
    {
        public static ProjectCall For(int inputs, int columns) => (inputs, columns) switch
        {
            (5, 32) => For<Projection<Int5, Int32>>(),
            (5, 48) => For<Projection<Int5, Int48>>(),
            (64, 48) => For<Projection<Int64, Int48>>(),
            (32, 144) => For<Projection<Int32, Int144>>(),
            (64, 80) => For<Projection<Int64, Int80>>(),
            (70, 112) => For<Projection<Int70, Int112>>(),
            _ => throw new ArgumentOutOfRangeException(nameof(inputs), (inputs, columns), "no projection struct for this shape"),
        };

        private static ProjectCall For<TShape>() where TShape : struct, IProjection =>
            (weights, bias, x, rows, y) => FastKernels.Project<TShape>(weights, bias, x, rows, y);
    }

    private static class Shapes
    {
        public static Kernels For(RecurrentCell cell, int hidden) => cell switch
        {
            RecurrentCell.Lstm => For<LstmCell>(hidden),
            RecurrentCell.Gru => For<GruCell>(hidden),
            RecurrentCell.GruResetBefore => For<GruResetBeforeCell>(hidden),
            RecurrentCell.PeepholeLstm => For<PeepholeLstmCell>(hidden),
            RecurrentCell.CoupledLstm => For<CoupledLstmCell>(hidden),
            RecurrentCell.PeepholeCoupledLstm => For<PeepholeCoupledLstmCell>(hidden),
            _ => throw new ArgumentOutOfRangeException(nameof(cell), cell, "no shape struct for this cell"),
        };

        private static Kernels For<TCell>(int hidden) where TCell : struct, IConstant<RecurrentCell> => hidden switch
        {
            1 => For<Shape<TCell, Hidden1>>(),
            13 => For<Shape<TCell, Hidden13>>(),
            33 => For<Shape<TCell, Hidden33>>(),
            _ => throw new ArgumentOutOfRangeException(nameof(hidden), hidden, "no shape struct for this size"),
        };

        private static Kernels For<TShape>() where TShape : struct, IRecurrentLayer => new(
            (weights, bias, x, rows, y) => FastKernels.Project<TShape>(weights, bias, x, rows, y),
            (gates, w, vectors, steps, count, reverse, state, output, stride, offset) =>
                FastKernels.Recurrent<TShape>(gates, w, vectors, steps, count, reverse, state, output, stride, offset));
    }
}
