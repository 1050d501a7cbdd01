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

    /// <summary>Most axes a folded constant may have: as many as a tensor of the file (<see cref="OnnxReader"/>).</summary>
    private const int MaxRank = 8;

    /// <summary>Bytes an element of a folded constant takes: a float, or a long? (shapes and indices).</summary>
    public static long ElementSize(bool floats) => floats ? 4 : 16;

    /// <summary>A result would take more bytes than the caller allows (<c>maxBytes</c> of <see cref="Evaluate"/>).</summary>
    internal sealed class TooLargeException(long bytes) : Exception($"a folded constant of {bytes} bytes")
    {
        public long Bytes { get; } = bytes;
    }

    /// <summary>How many elements a tensor of <paramref name="dims"/> has; null when a dimension is negative, or the
    /// shape has more than <see cref="MaxElements"/> elements or a dimension that large (so the product cannot overflow).</summary>
    public static long? Elements(IEnumerable<long> dims)
    {
        var count = 1L;
        foreach (var d in dims)
        {
            if (d is < 0 or > MaxElements)
                return null;
            count = Math.Min(count * d, MaxElements + 1);   // both factors at most 2^28 + 1: no overflow
        }
        return count <= MaxElements ? count : null;
    }

    /// <summary>The node's first output, or null when the op or its arguments are not ones this evaluates. A result
    /// that would take more than <paramref name="maxBytes"/> throws <see cref="TooLargeException"/>.</summary>
    public static Tensor? Evaluate(OnnxNode node, IReadOnlyList<Tensor?> inputs, long opset, long maxBytes)
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
                    if (rank > MaxRank)
                        return null;
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
                    if (target is null || target.Length > MaxRank)
                        return null;
                    var dims = target.Select((d, i) => d == 0 && i < x.Dims.Length ? x.Dims[i] : d).ToArray();
                    if (dims.Count(d => d == -1) == 1)
                    {
                        if (Elements(dims.Where(d => d != -1)) is not { } known || known == 0 || x.Count % known != 0)
                            return null;
                        dims = dims.Select(d => d == -1 ? x.Count / known : d).ToArray();
                    }
                    return Elements(dims) == x.Count ? x with { Dims = dims } : null;
                }
                case "Transpose":
                {
                    var perm = node.Ints("perm")?.Select(p => (int)p).ToArray() ?? Enumerable.Range(0, x.Dims.Length).Reverse().ToArray();
                    if (perm.Length != x.Dims.Length || perm.Distinct().Count() != perm.Length || perm.Any(p => p < 0 || p >= perm.Length))
                        return null;
                    var dims = perm.Select(p => x.Dims[p]).ToArray();
                    return Map(x, dims, (index, from) =>
                    {
                        for (var k = 0; k < perm.Length; k++)
                            from[perm[k]] = index[k];
                    }, maxBytes);
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
                    return Map(x, dims, (index, from) =>
                    {
                        var flat = 0L;
                        for (var k = 0; k < indexRank; k++)
                            flat = flat * indices.Dims[k] + index[axis + k];
                        for (var k = 0; k < from.Length; k++)
                            from[k] = k < axis ? index[k] : k == axis ? picks[flat] : index[k - 1 + indexRank];
                    }, maxBytes);
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
                    return Map(x, dims, (index, from) =>
                    {
                        for (var k = 0; k < from.Length; k++)
                            from[k] = index[k] + begin[k];
                    }, maxBytes);
                }
                case "Concat":
                {
                    var parts = inputs.Where(t => t is not null).Select(t => t!).Where(t => t.Count > 0 || t.Dims.Length > 0).ToList();
                    if (parts.Count == 0 || parts.Any(p => p.Dims.Length != x.Dims.Length) || parts.Any(p => (p.Floats is null) != (x.Floats is null)))
                        return null;
                    var axis = (int)Normalize(node.Int("axis", 0), x.Dims.Length);
                    // The parts must agree on every other axis, or their blocks would not line up.
                    if (parts.Any(p => p.Dims.Where((d, k) => k != axis && d != x.Dims[k]).Any()))
                        return null;
                    var dims = x.Dims.ToArray();
                    dims[axis] = parts.Sum(p => p.Dims[axis]);
                    var result = New(dims, x.Floats is not null, maxBytes);
                    if (result.Count == 0)
                        return result;
                    var outer = dims.Take(axis).Aggregate(1L, (a, d) => a * d);
                    var blocks = parts.Select(p => (int)p.Dims.Skip(axis).Aggregate(1L, (a, d) => a * d)).ToArray();
                    var position = 0;
                    for (var o = 0; o < outer; o++)
                    {
                        for (var k = 0; k < parts.Count; k++)
                        {
                            var part = parts[k];
                            var block = blocks[k];
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
                    var result = New(big.Dims, x.Floats is not null, maxBytes);
                    int count = big.Count, xCount = x.Count, yCount = y.Count;
                    for (var i = 0; i < count; i++)
                    {
                        var a = xCount == 1 ? 0 : i;
                        var b = yCount == 1 ? 0 : i;
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

    private static Tensor New(long[] dims, bool floats, long maxBytes)
    {
        if (dims.Length > MaxRank || Elements(dims) is not { } count)
            throw new OverflowException();
        if (count * ElementSize(floats) > maxBytes)
            throw new TooLargeException(count * ElementSize(floats));
        return new Tensor(dims, floats ? new float[count] : null, floats ? null : new long?[count]);
    }

    /// <summary>A tensor of <paramref name="dims"/> whose element at each index is <paramref name="x"/>'s at the index
    /// <paramref name="source"/>(index, from) writes into from. Nothing is allocated per element.</summary>
    private static Tensor Map(Tensor x, long[] dims, Action<long[], long[]> source, long maxBytes)
    {
        var result = New(dims, x.Floats is not null, maxBytes);
        var index = new long[dims.Length];
        var from = new long[x.Dims.Length];
        var count = result.Count;
        for (var i = 0; i < count; i++)
        {
            source(index, from);
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
