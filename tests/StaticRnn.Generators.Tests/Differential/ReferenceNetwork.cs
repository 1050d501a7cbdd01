using System;
using System.Collections.Generic;
using System.Linq;

namespace StaticRnn.Generators.Tests.Differential;

public enum Cell { Rnn, Lstm, Gru }

/// <summary>One recurrent attribute of a random architecture.</summary>
public sealed record RecurrentSpec(
    Cell Cell, int Hidden, int Layers, bool Bidirectional, string Merge, bool ReturnSequences,
    string Activation = "Tanh", bool ResetAfter = true, bool Peephole = false, bool Coupled = false)
{
    public int Gates => Cell switch { Cell.Lstm => 4, Cell.Gru => 3, _ => 1 };
    public int OutputWidth => Bidirectional && Merge == "Concat" ? 2 * Hidden : Hidden;
}

public sealed record DenseSpec(int Units, string Activation);

/// <summary>A network as the tests draw it: an optional embedding, recurrent layers, an optional dense head.</summary>
public sealed record Architecture(int SequenceLength, int InputSize, int Vocabulary, int EmbeddingSize, RecurrentSpec[] Recurrent, DenseSpec? Dense)
{
    public bool TakesTokens => Vocabulary > 0;
    public bool HasStep => Recurrent.All(r => !r.Bidirectional);
    public int StepOutputSize => Dense?.Units ?? Recurrent[^1].OutputWidth;
    public int OutputSize => Recurrent[^1].ReturnSequences ? SequenceLength * StepOutputSize : StepOutputSize;

    public override string ToString()
    {
        var parts = new List<string> { $"T={SequenceLength}" };
        parts.Add(TakesTokens ? $"Embedding({Vocabulary}, {EmbeddingSize})" : $"I={InputSize}");
        foreach (var r in Recurrent)
        {
            parts.Add($"{r.Cell}({r.Hidden}, L={r.Layers}{(r.Bidirectional ? ", bi " + r.Merge : "")}{(r.ReturnSequences ? ", seq" : "")}" +
                $"{(r.Cell == Cell.Rnn ? ", " + r.Activation : "")}{(r.Cell == Cell.Gru && !r.ResetAfter ? ", reset-before" : "")}" +
                $"{(r.Peephole ? ", peephole" : "")}{(r.Coupled ? ", coupled" : "")})");
        }
        if (Dense is not null)
            parts.Add($"Dense({Dense.Units}, {Dense.Activation})");
        return string.Join(" -> ", parts);
    }
}

/// <summary>
/// The plain, obviously-correct implementation the generated code is compared with: float64, one loop per
/// equation, PyTorch's layouts and semantics (gate orders LSTM i, f, g, o and GRU r, z, n; stacked layers
/// pass the concatenation of both directions; many-to-one bidirectional takes the forward state after the
/// last step and the backward state after the first). It is itself checked against PyTorch's outputs on
/// fixture models (ReferenceNetworkTests).
/// </summary>
public static class ReferenceNetwork
{
    /// <summary>Weights by PyTorch name: "rec{n}.weight_ih_l{k}[_reverse]", "rec{n}.peephole_i_l{k}", "fc.weight", "emb.weight".</summary>
    public static double[] Run(Architecture a, IReadOnlyDictionary<string, float[]> w, double[] input, bool perStep = false)
    {
        var T = a.SequenceLength;
        // seq[t] = the vector at step t
        double[][] seq;
        if (a.TakesTokens)
            seq = Enumerable.Range(0, T).Select(t => w["emb.weight"].Skip((int)input[t] * a.EmbeddingSize).Take(a.EmbeddingSize).Select(v => (double)v).ToArray()).ToArray();
        else
            seq = Enumerable.Range(0, T).Select(t => input.Skip(t * a.InputSize).Take(a.InputSize).ToArray()).ToArray();

        var isSequence = true;
        double[] single = [];
        for (var n = 0; n < a.Recurrent.Length; n++)
        {
            var r = a.Recurrent[n];
            var keep = r.ReturnSequences || (perStep && n == a.Recurrent.Length - 1);
            double[][] forward = [], backward = [];
            for (var k = 0; k < r.Layers; k++)
            {
                forward = Direction(r, w, $"rec{n}", k, "", seq, reverse: false);
                if (r.Bidirectional)
                    backward = Direction(r, w, $"rec{n}", k, "_reverse", seq, reverse: true);
                if (k < r.Layers - 1)
                    seq = r.Bidirectional ? forward.Zip(backward, (f, b) => f.Concat(b).ToArray()).ToArray() : forward;
            }
            if (keep)
                seq = r.Bidirectional ? forward.Zip(backward, (f, b) => Merge(f, b, r.Merge)).ToArray() : forward;
            else
                single = r.Bidirectional ? Merge(forward[T - 1], backward[0], r.Merge) : forward[T - 1];
            isSequence = keep;
        }

        var rows = isSequence ? seq : [single];
        if (a.Dense is { } dense)
            rows = rows.Select(x => Dense(dense, w, x)).ToArray();
        return rows.SelectMany(x => x).ToArray();
    }

    private static double[] Merge(double[] f, double[] b, string mode) => mode switch
    {
        "Concat" => f.Concat(b).ToArray(),
        "Sum" => f.Zip(b, (x, y) => x + y).ToArray(),
        "Multiply" => f.Zip(b, (x, y) => x * y).ToArray(),
        _ => f.Zip(b, (x, y) => (x + y) / 2).ToArray(),
    };

    private static double[] Dense(DenseSpec d, IReadOnlyDictionary<string, float[]> w, double[] x)
    {
        var weight = w["fc.weight"];
        var y = new double[d.Units];
        for (var u = 0; u < d.Units; u++)
        {
            var sum = (double)w["fc.bias"][u];
            for (var j = 0; j < x.Length; j++)
                sum += weight[u * x.Length + j] * x[j];
            y[u] = sum;
        }
        switch (d.Activation)
        {
            case "Sigmoid": return y.Select(Sigmoid).ToArray();
            case "Tanh": return y.Select(Math.Tanh).ToArray();
            case "Relu": return y.Select(v => Math.Max(0, v)).ToArray();
            case "Softmax":
                var max = y.Max();
                var e = y.Select(v => Math.Exp(v - max)).ToArray();
                var total = e.Sum();
                return e.Select(v => v / total).ToArray();
            case "LogSoftmax":
                var largest = y.Max();
                var shift = largest + Math.Log(y.Sum(v => Math.Exp(v - largest)));
                return y.Select(v => v - shift).ToArray();
            default: return y;
        }
    }

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    /// <summary>One direction of one stacked layer over the whole sequence: h at every step, in time order.</summary>
    private static double[][] Direction(RecurrentSpec r, IReadOnlyDictionary<string, float[]> w, string prefix, int k, string suffix, double[][] x, bool reverse)
    {
        int H = r.Hidden, T = x.Length, I = x[0].Length;
        var wih = w[$"{prefix}.weight_ih_l{k}{suffix}"];
        var whh = w[$"{prefix}.weight_hh_l{k}{suffix}"];
        var bih = w[$"{prefix}.bias_ih_l{k}{suffix}"];
        var bhh = w[$"{prefix}.bias_hh_l{k}{suffix}"];
        float[]? pi = null, pf = null, po = null;
        if (r.Peephole)
        {
            pi = w[$"{prefix}.peephole_i_l{k}{suffix}"];
            pf = w[$"{prefix}.peephole_f_l{k}{suffix}"];
            po = w[$"{prefix}.peephole_o_l{k}{suffix}"];
        }

        double Input(int row, double[] v) { var s = (double)bih[row]; for (var j = 0; j < I; j++) s += wih[row * I + j] * v[j]; return s; }
        double Hidden(int row, double[] v) { var s = (double)bhh[row]; for (var j = 0; j < H; j++) s += whh[row * H + j] * v[j]; return s; }
        double HiddenNoBias(int row, double[] v) { var s = 0.0; for (var j = 0; j < H; j++) s += whh[row * H + j] * v[j]; return s; }

        var h = new double[H];
        var c = new double[H];
        var outputs = new double[T][];
        for (var step = 0; step < T; step++)
        {
            var t = reverse ? T - 1 - step : step;
            var next = new double[H];
            switch (r.Cell)
            {
                case Cell.Rnn:
                    for (var u = 0; u < H; u++)
                    {
                        var a = Input(u, x[t]) + Hidden(u, h);
                        next[u] = r.Activation switch { "Relu" => Math.Max(0, a), "Sigmoid" => Sigmoid(a), _ => Math.Tanh(a) };
                    }
                    break;
                case Cell.Lstm:
                    var nextC = new double[H];
                    for (var u = 0; u < H; u++)
                    {
                        var ai = Input(u, x[t]) + Hidden(u, h);
                        var af = Input(H + u, x[t]) + Hidden(H + u, h);
                        var ag = Input(2 * H + u, x[t]) + Hidden(2 * H + u, h);
                        var ao = Input(3 * H + u, x[t]) + Hidden(3 * H + u, h);
                        var i = Sigmoid(ai + (r.Peephole ? pi![u] * c[u] : 0));
                        var f = r.Coupled ? 1 - i : Sigmoid(af + (r.Peephole ? pf![u] * c[u] : 0));
                        nextC[u] = f * c[u] + i * Math.Tanh(ag);
                        var o = Sigmoid(ao + (r.Peephole ? po![u] * nextC[u] : 0));
                        next[u] = o * Math.Tanh(nextC[u]);
                    }
                    c = nextC;
                    break;
                default:
                    var rGate = new double[H];
                    var z = new double[H];
                    for (var u = 0; u < H; u++)
                    {
                        rGate[u] = Sigmoid(Input(u, x[t]) + Hidden(u, h));
                        z[u] = Sigmoid(Input(H + u, x[t]) + Hidden(H + u, h));
                    }
                    var rh = h.Select((v, u) => rGate[u] * v).ToArray();
                    for (var u = 0; u < H; u++)
                    {
                        var n = r.ResetAfter
                            ? Math.Tanh(Input(2 * H + u, x[t]) + rGate[u] * Hidden(2 * H + u, h))
                            : Math.Tanh(Input(2 * H + u, x[t]) + HiddenNoBias(2 * H + u, rh) + bhh[2 * H + u]);
                        next[u] = (1 - z[u]) * n + z[u] * h[u];
                    }
                    break;
            }
            h = next;
            outputs[t] = h;
        }
        return outputs;
    }
}
