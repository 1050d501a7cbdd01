using System;
using System.Collections.Generic;
using System.Linq;
using StaticRnn.Generators.Weights;

namespace StaticRnn.Generators.Model;

/// <summary>
/// Evaluates the ONNX ops exporters apply to constants: the shape arithmetic around initial states and, when constant
/// folding was off, the Slice/Concat/Unsqueeze/Transpose chains that reorder a recurrent layer's weights. Integer
/// elements may be unknown (null: a batch size read from the input's shape); an op whose result would depend on one
/// keeps it unknown.
/// </summary>
internal static class ConstantOps
{
    /// <summary>A constant: float or integer elements, row-major.</summary>
    internal sealed record Tensor(long[] Dims, float[]? Floats, long?[]? Ints)
    {
        public int Count => (int)Dims.Aggregate(1L, (a, d) => a * d);
    }

    /// <summary>Most elements a folded constant may have: weight tensors of the models StaticRnn compiles fit easily.</summary>
    private const long MaxElements = 1L << 28;

    /// <summary>The node's first output, or null when the op or its arguments are not ones this evaluates.</summary>
    public static Tensor? Evaluate(OnnxNode node, IReadOnlyList<Tensor?> inputs, long opset)
    {
        Tensor? In(int i) => i < inputs.Count ? inputs[i] : null;
        long[]? Longs(int i) => In(i)?.Ints is { } ints && ints.All(v => v is not null) ? ints.Select(v => v!.Value).ToArray() : null;
        long[]? Argument(string attribute, int input) => node.Ints(attribute)?.ToArray() ?? Longs(input);
        if (In(0) is not { } x)
            return null;
        try
        {
            switch (node.OpType)
            {
                case "Identity":
                    return x;
                case "Unsqueeze":
                {
                    var axes = Argument("axes", 1) ?? [];
                    var rank = x.Dims.Length + axes.Length;
                    var dims = x.Dims.ToList();
                    foreach (var a in axes.Select(a => a < 0 ? a + rank : a).OrderBy(a => a))
                        dims.Insert((int)a, 1);
                    return x with { Dims = dims.ToArray() };
                }
                case "Squeeze":
                {
                    var axes = Argument("axes", 1);
                    var rank = x.Dims.Length;
                    var remove = new HashSet<int>(axes is null || axes.Length == 0
                        ? Enumerable.Range(0, rank).Where(i => x.Dims[i] == 1)
                        : axes.Select(a => (int)(a < 0 ? a + rank : a)));
                    if (remove.Any(i => i < 0 || i >= rank || x.Dims[i] != 1))
                        return null;
                    return x with { Dims = x.Dims.Where((_, i) => !remove.Contains(i)).ToArray() };
                }
                case "Reshape":
                {
                    var target = Longs(1);
                    if (target is null)
                        return null;
                    var dims = target.Select((d, i) => d == 0 && i < x.Dims.Length ? x.Dims[i] : d).ToArray();
                    var known = dims.Where(d => d != -1).Aggregate(1L, (a, d) => a * d);
                    if (dims.Count(d => d == -1) == 1)
                    {
                        if (known == 0 || x.Count % known != 0)
                            return null;
                        dims = dims.Select(d => d == -1 ? x.Count / known : d).ToArray();
                    }
                    return dims.Aggregate(1L, (a, d) => a * d) == x.Count && dims.All(d => d >= 0) ? x with { Dims = dims } : null;
                }
                case "Transpose":
                {
                    var perm = node.Ints("perm")?.Select(p => (int)p).ToArray() ?? Enumerable.Range(0, x.Dims.Length).Reverse().ToArray();
                    if (perm.Length != x.Dims.Length || perm.Distinct().Count() != perm.Length || perm.Any(p => p < 0 || p >= perm.Length))
                        return null;
                    var dims = perm.Select(p => x.Dims[p]).ToArray();
                    return Map(x, dims, index => perm.Select((p, k) => (p, k)).OrderBy(t => t.p).Select(t => index[t.k]).ToArray());
                }
                case "Gather":
                {
                    var indices = In(1);
                    if (indices?.Ints is null || x.Dims.Length == 0)
                        return null;
                    var axis = (int)Normalize(node.Int("axis", 0), x.Dims.Length);
                    var picks = indices.Ints.Select(i => i is { } v ? (v < 0 ? v + x.Dims[axis] : v) : -1).ToArray();
                    if (picks.Any(p => p < 0 || p >= x.Dims[axis]))
                        return null;
                    var dims = x.Dims.Take(axis).Concat(indices.Dims).Concat(x.Dims.Skip(axis + 1)).ToArray();
                    var indexRank = indices.Dims.Length;
                    return Map(x, dims, index =>
                    {
                        var flat = 0L;
                        for (var k = 0; k < indexRank; k++)
                            flat = flat * indices.Dims[k] + index[axis + k];
                        return index.Take(axis).Append(picks[flat]).Concat(index.Skip(axis + indexRank)).ToArray();
                    });
                }
                case "Slice":
                {
                    long[]? starts, ends, axes, steps;
                    if (opset < 10 || node.Ints("starts") is not null)
                    {
                        starts = node.Ints("starts")?.ToArray();
                        ends = node.Ints("ends")?.ToArray();
                        axes = node.Ints("axes")?.ToArray();
                        steps = null;
                    }
                    else
                    {
                        starts = Longs(1);
                        ends = Longs(2);
                        axes = In(3) is null ? null : Longs(3);
                        steps = In(4) is null ? null : Longs(4);
                    }
                    if (starts is null || ends is null || starts.Length != ends.Length)
                        return null;
                    axes ??= Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray();
                    steps ??= Enumerable.Repeat(1L, starts.Length).ToArray();
                    if (steps.Any(s => s != 1))
                        return null;
                    var begin = new long[x.Dims.Length];
                    var dims = x.Dims.ToArray();
                    for (var i = 0; i < starts.Length; i++)
                    {
                        var a = (int)Normalize(axes[i], x.Dims.Length);
                        var n = x.Dims[a];
                        long Clamp(long v) => Math.Max(0, Math.Min(n, v < 0 ? v + n : v));
                        begin[a] = Clamp(starts[i]);
                        dims[a] = Math.Max(0, Clamp(ends[i]) - begin[a]);
                    }
                    return Map(x, dims, index => index.Select((v, k) => v + begin[k]).ToArray());
                }
                case "Concat":
                {
                    var parts = inputs.Where(t => t is not null).Select(t => t!).Where(t => t.Count > 0 || t.Dims.Length > 0).ToList();
                    if (parts.Count == 0 || parts.Any(p => p.Dims.Length != x.Dims.Length) || parts.Any(p => (p.Floats is null) != (x.Floats is null)))
                        return null;
                    var axis = (int)Normalize(node.Int("axis", 0), x.Dims.Length);
                    var dims = x.Dims.ToArray();
                    dims[axis] = parts.Sum(p => p.Dims[axis]);
                    var result = New(dims, x.Floats is not null);
                    var outer = dims.Take(axis).Aggregate(1L, (a, d) => a * d);
                    var position = 0;
                    for (var o = 0; o < outer; o++)
                    {
                        foreach (var part in parts)
                        {
                            var block = (int)part.Dims.Skip(axis).Aggregate(1L, (a, d) => a * d);
                            var from = (int)(o * block);
                            if (result.Floats is not null)
                                Array.Copy(part.Floats!, from, result.Floats, position, block);
                            else
                                Array.Copy(part.Ints!, from, result.Ints!, position, block);
                            position += block;
                        }
                    }
                    return result;
                }
                case "Add" or "Sub" or "Mul" or "Div":
                {
                    if (In(1) is not { } y || (x.Floats is null) != (y.Floats is null))
                        return null;
                    var big = x.Count >= y.Count ? x : y;
                    if (x.Count != y.Count && Math.Min(x.Count, y.Count) != 1)
                        return null;
                    var result = New(big.Dims, x.Floats is not null);
                    for (var i = 0; i < big.Count; i++)
                    {
                        var a = x.Count == 1 ? 0 : i;
                        var b = y.Count == 1 ? 0 : i;
                        if (result.Floats is not null)
                        {
                            float p = x.Floats![a], q = y.Floats![b];
                            result.Floats[i] = node.OpType switch { "Add" => p + q, "Sub" => p - q, "Mul" => p * q, _ => p / q };
                        }
                        else if (x.Ints![a] is { } p && y.Ints![b] is { } q)
                        {
                            result.Ints![i] = node.OpType switch { "Add" => p + q, "Sub" => p - q, "Mul" => p * q, _ => q == 0 ? null : p / q };
                        }
                    }
                    return result;
                }
                default:
                    return null;
            }
        }
        catch (Exception e) when (e is OverflowException or ArgumentException or IndexOutOfRangeException or InvalidOperationException)
        {
            return null;
        }
    }

    private static long Normalize(long axis, int rank)
    {
        var a = axis < 0 ? axis + rank : axis;
        return a >= 0 && a < rank ? a : throw new ArgumentException("axis");
    }

    private static Tensor New(long[] dims, bool floats)
    {
        var count = dims.Aggregate(1L, (a, d) => a * d);
        if (count > MaxElements)
            throw new OverflowException();
        return new Tensor(dims, floats ? new float[count] : null, floats ? null : new long?[count]);
    }

    /// <summary>A tensor of <paramref name="dims"/> whose element at each index is <paramref name="x"/>'s at <paramref name="source"/>(index).</summary>
    private static Tensor Map(Tensor x, long[] dims, Func<long[], long[]> source)
    {
        var result = New(dims, x.Floats is not null);
        var index = new long[dims.Length];
        for (var i = 0; i < result.Count; i++)
        {
            var from = source(index);
            long flat = 0;
            for (var k = 0; k < from.Length; k++)
                flat = flat * x.Dims[k] + from[k];
            if (result.Floats is not null)
                result.Floats[i] = x.Floats![flat];
            else
                result.Ints![i] = x.Ints![flat];
            for (var k = dims.Length - 1; k >= 0; k--)
            {
                if (++index[k] < dims[k])
                    break;
                index[k] = 0;
            }
        }
        return result;
    }
}
