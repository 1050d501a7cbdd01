using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using StaticRnn.Generators.Common;
using StaticRnn.Generators.Diagnostics;
using StaticRnn.Generators.Parsing;
using StaticRnn.Generators.Weights;

namespace StaticRnn.Generators.Model;

/// <summary>
/// The ONNX front end: reads a graph and says which network it computes, as the layer declarations a user would have
/// written (<see cref="LayerSpec"/>s) and a weight file of PyTorch-named tensors in PyTorch's layouts. From there the
/// model is bound and emitted like any declared one: the ONNX file is only another way to write the spec.
/// </summary>
/// <remarks>
/// The graph is evaluated abstractly, node by node in file order. A value is a constant (initializers, Constant nodes,
/// and the shape arithmetic exporters add, folded here), an all-zero tensor of unknown shape (initial states), or an
/// <see cref="Activation"/>: a tensor computed from the graph's one input by the layers recognised so far, whose axes
/// are tracked by role (batch, time, the stack of directions/layers of a recurrent node's outputs, features). Ops that
/// only rearrange (Transpose, Squeeze, Reshape, Gather and Slice of the last step or of one direction, Concat of
/// directions) change roles; LSTM, GRU, RNN, Gather of an embedding table, Gemm, MatMul + Add and the activations add
/// layers. Anything else becomes an <see cref="Unsupported"/> value, an error only if the network's output depends on it.
/// </remarks>
internal sealed class OnnxImporter
{
    /// <summary>What the graph declares: layers (their <c>Weights</c> name tensors of <see cref="Weights"/>), sizes and,
    /// when the graph fixes it, the sequence length.</summary>
    internal sealed record Import(IReadOnlyList<LayerSpec> Layers, int? InputSize, int? SequenceLength, string? DynamicTimeAxis, WeightFile Weights);

    private readonly OnnxModel _model;
    private readonly LocationInfo? _location;
    private readonly Dictionary<string, Value> _values = new(StringComparer.Ordinal);
    private readonly Dictionary<int, AxisRole> _roles = new();
    private readonly Dictionary<int, OnnxDimension> _inputDims = new();
    private readonly HashSet<string> _prefixes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _suffixes = new(StringComparer.Ordinal);
    private string? _error;

    /// <summary>Bytes the import may build (constants read and folded, the layers' weights, the lists that follow the
    /// values) whatever the file's size, and per byte of it: so that no file makes it fold, copy or track values without
    /// bound. Exported graphs, unfolded weight chains included, need under 2 bytes per byte of their file.</summary>
    private const long BuildAllowance = 16 << 20, BuildPerFileByte = 32;

    /// <summary>The most bytes a weight file's buffer may have (.NET's largest byte array).</summary>
    private const long MaxWeightBytes = 0x7FFF_FFC7;

    private readonly long _budget;
    private long _built;

    /// <summary>Most axes a value may have, as a tensor of the file (<see cref="OnnxReader"/>).</summary>
    private const int MaxRank = 8;

    /// <summary>The bytes of a file beside the model, by the location an external tensor names; null when the project
    /// does not have it.</summary>
    private readonly Func<string, byte[]?>? _externalFiles;

    private OnnxImporter(OnnxModel model, LocationInfo? location, Func<string, byte[]?>? externalFiles)
    {
        _externalFiles = externalFiles;
        _model = model;
        _location = location;
        _budget = BuildAllowance + BuildPerFileByte * model.FileLength;
    }

    /// <summary>Counts <paramref name="bytes"/> the import is about to build for <paramref name="who"/>; past the budget,
    /// the graph is refused.</summary>
    private void Spend(string who, long bytes)
    {
        _built += bytes;
        if (_built > _budget)
        {
            throw new ImportException($"{who} would make the import build more than {_budget.ToString(CultureInfo.InvariantCulture)} bytes of constants, weights and values "
                + $"({BuildAllowance >> 20} MiB and {BuildPerFileByte} per byte of the file), far more than the file holds; no network StaticRnn compiles needs that");
        }
    }

    /// <summary>The network the graph computes, or null after reporting (on <paramref name="location"/>) why it cannot be compiled.</summary>
    /// <param name="externalFiles">Reads a file beside the model that external tensors name (PyTorch's
    /// <c>model.onnx.data</c>); null: none.</param>
    public static Import? Read(OnnxModel model, string path, LocationInfo? location, List<DiagnosticInfo> diagnostics,
        Func<string, byte[]?>? externalFiles = null)
    {
        var importer = new OnnxImporter(model, location, externalFiles);
        var import = importer.Run();
        if (import is null)
        {
            // Node and tensor names come from the file: control and invisible characters are shown as \u escapes.
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.OnnxGraphUnsupported, location, path,
                Emit.Text.ForComment(importer._error ?? "the graph describes no network")));
        }
        return import;
    }

    // ---- Values ----

    private enum AxisRole { Unknown, Batch, Time, LastStep, Stack, One, Feature }

    /// <summary>An axis of an activation: its role (or, for the input's first axes until a recurrent node says which is
    /// which, a token standing for it), and its size where known.</summary>
    private readonly record struct Axis(AxisRole Role, int Token, long? Size);

    private abstract record Value;

    /// <summary>A tensor the graph computes without the input. Floats for weights, longs (null where unknown: a shape's
    /// batch size) for shapes and indices.</summary>
    private sealed record Constant(long[] Dims, float[]? Floats, long?[]? Ints, OnnxTensor? Source) : Value
    {
        public long Count => Dims.Aggregate(1L, (a, d) => a * d);
        public bool IsZero => Floats?.All(f => f == 0) ?? Ints?.All(i => i == 0) ?? false;
    }

    /// <summary>The graph input that holds each sequence's length: only a recurrent node's sequence_lens may read it, and
    /// the compiled model takes the lengths as <c>PredictBatch(inputs, lengths, outputs)</c> does (the same semantics).</summary>
    private sealed record Lengths(string Name) : Value;

    /// <summary>All zeros, of a shape that depends on the batch size (initial states built with ConstantOfShape or Expand).</summary>
    private sealed record Zeros : Value;

    /// <summary>What a node StaticRnn does not read writes: an error if the network needs it.</summary>
    private sealed record Unsupported(string Why) : Value;

    /// <summary>One direction of a recurrent node's outputs: the node and 0 (forward) or 1 (backward).</summary>
    private sealed record Entry(Recurrent Node, int Direction);

    /// <summary>
    /// A tensor computed from the input. <paramref name="Layers"/> are the layers it has passed through, complete;
    /// <paramref name="Pending"/> is the recurrent node whose output it is, while how that output is used (every step or
    /// only the final state) is still open. <paramref name="Stack"/> lists the directions along a Stack axis;
    /// <paramref name="Selected"/> the directions concatenated in the feature axis (null: plain features).
    /// </summary>
    private sealed record Activation(
        IReadOnlyList<Step> Layers, Recurrent? Pending, bool FinalStates, IReadOnlyList<Axis> Axes,
        IReadOnlyList<Entry>? Stack, IReadOnlyList<Entry>? Selected, bool Tokens) : Value
    {
        /// <summary>How the <see cref="Selected"/> directions are combined: side by side, or added, multiplied, averaged.</summary>
        public MergeMode Merge { get; init; } = MergeMode.Concat;

        /// <summary>Every step's features reshaped into one row per sequence ([B, T, F] to [B, T*F]): only an output may be.</summary>
        public bool TimeFolded { get; init; }

        public int FeatureWidth => (int)(Axes[Axes.Count - 1].Size ?? 0);
    }

    // ---- Layers ----

    private abstract record Step(OnnxNode Node, string Prefix);

    private sealed record EmbeddingStep(OnnxNode Node, string Prefix, Constant Table) : Step(Node, Prefix);

    private sealed record DenseStep(OnnxNode Node, string Prefix, int Inputs, int Units, float[] Weight, Constant? VerbatimWeight, float[]? Bias, Parsing.Activation Activation) : Step(Node, Prefix);

    private sealed record Recurrent(
        OnnxNode Node, string Prefix, LayerKind Kind, int Hidden, int Directions, int Inputs, bool ResetAfter, bool Peephole, bool Coupled,
        Parsing.Activation CellActivation, float[][] W, float[][] R, float[][] Wb, float[][] Rb, float[][]? P) : Step(Node, Prefix)
    {
        public bool ReturnSequences { get; init; }
        public MergeMode Merge { get; init; } = MergeMode.Concat;
    }

    // ---- The walk ----

    private Import? Run()
    {
        if (_model.Opset is > 0 and < 7)
            return Fail($"the model imports opset {_model.Opset}; StaticRnn reads opsets 7 and later");
        var graph = _model.Graph;
        foreach (var initializer in graph.Initializers)
        {
            try
            {
                _values[initializer.Name] = initializer.External
                    ? External(initializer)
                    : FromTensor(initializer, $"the initializer '{initializer.Name}'");
            }
            catch (ImportException e)
            {
                return Fail(e.Message);
            }
        }

        var inputs = graph.Inputs.Where(i => !_values.ContainsKey(i.Name)).ToList();
        // A second input of one integer per sequence may be the recurrent nodes' sequence_lens: the model's lengths.
        if (inputs.Count == 2 && inputs[1].ElementType is OnnxDataType.Int32 or OnnxDataType.Int64 && inputs[1].Shape is { Count: 1 })
        {
            _values[inputs[1].Name] = new Lengths(inputs[1].Name);
            inputs.RemoveAt(1);
        }
        if (inputs.Count != 1)
            return Fail($"the graph has {inputs.Count} inputs besides its initializers ({string.Join(", ", inputs.Select(i => "'" + i.Name + "'"))}); expected one, the sequence (and, optionally, one length per sequence for sequence_lens)");
        if (Input(inputs[0]) is not { } input)
            return null;
        _values[inputs[0].Name] = input;

        foreach (var node in graph.Nodes)
        {
            if (!Evaluate(node))
                return null;
        }

        if (graph.Outputs.Count == 0)
            return Fail("the graph has no output");
        var outputName = graph.Outputs[0].Name;
        if (!_values.TryGetValue(outputName, out var output))
            return Fail($"no node writes the graph's output '{outputName}'");
        if (output is Unsupported unsupported)
            return Fail(unsupported.Why);
        if (output is not Activation result)
            return Fail($"the graph's output '{outputName}' does not depend on its input");
        if (Finish(result, $"the graph's output '{outputName}'", output: true) is not { } layers)
            return null;
        if (layers.Count == 0)
            return Fail($"the graph's output '{outputName}' is its input: there is no layer to compile");
        return Build(layers, input);
    }

    private Import? Fail(string why)
    {
        _error ??= why;
        return null;
    }

    private bool Error(string why)
    {
        _error ??= why;
        return false;
    }

    private Activation? Input(OnnxValueInfo info)
    {
        var shape = info.Shape;
        var tokens = info.ElementType is OnnxDataType.Int64 or OnnxDataType.Int32;
        if (!tokens && info.ElementType != OnnxDataType.Float)
        {
            Fail($"the input '{info.Name}' holds {info.ElementType} values; expected float32 features or int64 tokens");
            return null;
        }
        var rank = tokens ? 2 : 3;
        if (shape is null || shape.Count != rank)
        {
            Fail($"the input '{info.Name}' has {(shape is null ? "no shape" : "shape [" + string.Join(", ", shape) + "]")}; expected {(tokens ? "[batch, steps] of tokens" : "[batch, steps, features] or [steps, batch, features]")}");
            return null;
        }
        var axes = new List<Axis> { new(AxisRole.Unknown, 0, shape[0].Value), new(AxisRole.Unknown, 1, shape[1].Value) };
        _inputDims[0] = shape[0];
        _inputDims[1] = shape[1];
        if (tokens)
        {
            axes.Add(new Axis(AxisRole.Feature, -1, 1));
        }
        else
        {
            if (shape[2].Value is not (>= 1 and <= ShapeChecker.MaxDimension))
            {
                Fail($"the input '{info.Name}' has shape [{string.Join(", ", shape)}], whose last (feature) dimension is not a fixed size");
                return null;
            }
            axes.Add(new Axis(AxisRole.Feature, -1, shape[2].Value));
        }
        return new Activation([], null, false, axes, null, null, tokens);
    }

    private Value Get(OnnxNode node, int index)
    {
        var name = node.Input(index);
        if (name.Length == 0)
            return new Unsupported($"{node.Display} lacks its input {index}");
        return _values.TryGetValue(name, out var value) ? value : new Unsupported($"{node.Display} reads '{name}', which no node before it writes");
    }

    private bool Has(OnnxNode node, int index) => node.Input(index).Length > 0;

    private void Set(OnnxNode node, int index, Value value)
    {
        if (index < node.Outputs.Count && node.Outputs[index].Length > 0)
            _values[node.Outputs[index]] = value;
    }

    private bool Evaluate(OnnxNode node)
    {
        if (node.Domain.Length > 0 && node.Domain != "ai.onnx")
        {
            SetAll(node, new Unsupported($"{node.Display} is from the custom domain '{node.Domain}'; StaticRnn reads standard ONNX ops only"));
            return true;
        }
        // A node none of whose inputs is the network's data only computes constants: fold it, or mark it unsupported.
        var inputs = Enumerable.Range(0, node.Inputs.Count).Select(i => Has(node, i) ? Get(node, i) : null).ToList();
        var data = inputs.OfType<Activation>().ToList();
        var unsupported = inputs.OfType<Unsupported>().FirstOrDefault();
        var lengthsAt = inputs.FindIndex(v => v is Lengths);
        if (lengthsAt >= 0 && !(node.OpType is "LSTM" or "GRU" or "RNN" && lengthsAt == 4 && inputs.FindLastIndex(v => v is Lengths) == 4))
        {
            // The lengths input passes through a Cast or an Identity; any other use is not something StaticRnn compiles.
            SetAll(node, node.OpType is "Cast" or "Identity" && inputs.Count == 1
                ? inputs[0]!
                : new Unsupported($"{node.Display} reads the graph's lengths input, which StaticRnn only passes to a recurrent node's sequence_lens"));
            return true;
        }
        try
        {
            if (data.Count == 0)
            {
                if (unsupported is not null && node.OpType is not ("Shape" or "ConstantOfShape"))
                    SetAll(node, unsupported);
                else
                    FoldConstant(node, inputs);
                return true;
            }
            if (unsupported is not null)
            {
                SetAll(node, unsupported);
                return true;
            }
            var result = node.OpType switch
            {
                "Identity" or "Dropout" or "Cast" => data[0],
                "Transpose" => Transpose(node, data[0]),
                "Squeeze" => Squeeze(node, data[0], inputs),
                "Unsqueeze" => Unsqueeze(node, data[0], inputs),
                "Reshape" => Reshape(node, data[0], inputs),
                "Gather" => Gather(node, inputs),
                "Slice" => Slice(node, data[0], inputs),
                "Concat" => Concat(node, inputs),
                "Shape" => ShapeOf(data[0]),
                "LSTM" or "GRU" or "RNN" => RecurrentNode(node, inputs),
                "Gemm" => Gemm(node, inputs),
                "MatMul" => MatMul(node, inputs),
                "Add" when data.Count == 2 => MergeDirections(node, data, MergeMode.Sum),
                "Mul" when data.Count == 2 => MergeDirections(node, data, MergeMode.Multiply),
                "Mul" => Halve(node, data[0], inputs),
                "Add" => AddBias(node, inputs),
                "Relu" => Activate(node, data[0], Parsing.Activation.Relu),
                "Sigmoid" => Activate(node, data[0], Parsing.Activation.Sigmoid),
                "Tanh" => Activate(node, data[0], Parsing.Activation.Tanh),
                "Softmax" => Activate(node, data[0], Parsing.Activation.Softmax),
                "LogSoftmax" => Activate(node, data[0], Parsing.Activation.LogSoftmax),
                _ => Unsupport(node, $"{node.Display} is not an op StaticRnn reads; it reads LSTM, GRU and RNN nodes, Gather (embeddings), Gemm, MatMul + Add, Relu, Sigmoid, Tanh, Softmax, LogSoftmax, Dropout, Identity, and the Transpose, Squeeze, Unsqueeze, Reshape, Slice, Gather and Concat that exporters put around them"),
            };
            if (result is null)
                return false;
            if (node.OpType is "LSTM" or "GRU" or "RNN")
                return true;   // RecurrentNode set its outputs
            Set(node, 0, result);
            for (var i = 1; i < node.Outputs.Count; i++)
                Set(node, i, new Unsupported($"the network uses output {i} of {node.Display}, which StaticRnn does not compute"));
            return true;
        }
        catch (ImportException e)
        {
            return Error(e.Message);
        }
    }

    private sealed class ImportException(string message) : Exception(message);

    private static ImportException Wrong(OnnxNode node, string what) => new($"{node.Display} {what}");

    private void SetAll(OnnxNode node, Value value)
    {
        for (var i = 0; i < node.Outputs.Count; i++)
            Set(node, i, value);
    }

    private Value Unsupport(OnnxNode node, string why)
    {
        var value = new Unsupported(why);
        SetAll(node, value);
        return value;
    }

    // ---- Rearrangements ----

    private AxisRole RoleOf(Axis axis) => axis.Role == AxisRole.Unknown && _roles.TryGetValue(axis.Token, out var role) ? role : axis.Role;

    private static int Normalize(OnnxNode node, long axis, int rank)
    {
        var a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank)
            throw Wrong(node, $"names axis {axis} of a tensor with {rank} axes");
        return (int)a;
    }

    private Value Transpose(OnnxNode node, Activation x)
    {
        var perm = node.Ints("perm")?.ToArray() ?? Enumerable.Range(0, x.Axes.Count).Reverse().Select(i => (long)i).ToArray();
        if (perm.Length != x.Axes.Count || perm.Distinct().Count() != perm.Length)
            throw Wrong(node, $"has perm [{string.Join(", ", perm)}] for a tensor with {x.Axes.Count} axes");
        var axes = perm.Select(p => x.Axes[Normalize(node, p, x.Axes.Count)]).ToList();
        if (RoleOf(axes[axes.Count - 1]) != AxisRole.Feature)
            throw Wrong(node, "moves the feature axis away from the last place, which no layer StaticRnn compiles can read");
        return x with { Axes = axes };
    }

    private long[] AxesArgument(OnnxNode node, List<Value?> inputs, int inputIndex)
    {
        if (node.Ints("axes") is { } attribute)
            return attribute.ToArray();
        if (inputIndex < inputs.Count && inputs[inputIndex] is Constant { Ints: { } ints })
            return ints.Select(i => i ?? throw Wrong(node, "has axes that are not constant")).ToArray();
        return [];
    }

    private Value Squeeze(OnnxNode node, Activation x, List<Value?> inputs)
    {
        var axes = AxesArgument(node, inputs, 1);
        var remove = axes.Length == 0
            ? Enumerable.Range(0, x.Axes.Count).Where(i => x.Axes[i].Size == 1 && RoleOf(x.Axes[i]) != AxisRole.Feature).ToList()
            : axes.Select(a => Normalize(node, a, x.Axes.Count)).ToList();
        var result = x;
        foreach (var index in remove.OrderByDescending(i => i))
            result = RemoveAxis(node, result, index);
        return result;
    }

    /// <summary>Removes an axis of size 1: a stack of one direction selects it, a last step ends the time axis.</summary>
    private Activation RemoveAxis(OnnxNode node, Activation x, int index)
    {
        var axis = x.Axes[index];
        var axes = x.Axes.Where((_, i) => i != index).ToList();
        switch (RoleOf(axis))
        {
            case AxisRole.Stack when x.Stack is { Count: 1 } stack:
                return x with { Axes = axes, Stack = null, Selected = stack };
            case AxisRole.LastStep:
            case AxisRole.One:
                return x with { Axes = axes };
            case AxisRole.Time when axis.Size == 1:
                return x with { Axes = axes };
            default:
                throw Wrong(node, $"removes an axis ({RoleOf(axis).ToString().ToLowerInvariant()}) that does not have size 1");
        }
    }

    private Value Unsqueeze(OnnxNode node, Activation x, List<Value?> inputs)
    {
        var axes = AxesArgument(node, inputs, 1);
        var result = x.Axes.ToList();
        var rank = result.Count + axes.Length;
        if (rank > MaxRank)
            throw Wrong(node, $"makes a tensor of {rank} axes; StaticRnn follows at most {MaxRank}");
        foreach (var a in axes.Select(a => Normalize(node, a, rank)).OrderBy(a => a))
            result.Insert(a, new Axis(AxisRole.One, -1, 1));
        if (RoleOf(result[result.Count - 1]) != AxisRole.Feature)
            throw Wrong(node, "adds an axis after the features, which no layer StaticRnn compiles can read");
        return x with { Axes = result };
    }

    private Value Reshape(OnnxNode node, Activation x, List<Value?> inputs)
    {
        if (inputs.Count < 2 || inputs[1] is not Constant { Ints: { } target })
            throw Wrong(node, "reshapes to a shape that is not constant");
        if (target.Length == 0)
            throw Wrong(node, "reshapes to a scalar, which is not a rearrangement StaticRnn follows");
        var axes = x.Axes;
        // The bidirectional merge torch writes: [T, B, D, H] -> [T, B, D*H], the directions concatenated.
        if (target.Length == axes.Count - 1 && axes.Count >= 2 && RoleOf(axes[axes.Count - 2]) == AxisRole.Stack && x.Stack is { } stack)
        {
            var width = stack.Count * x.FeatureWidth;
            for (var i = 0; i < target.Length - 1; i++)
            {
                if (target[i] is not (0 or -1) && target[i] != axes[i].Size)
                    throw Wrong(node, $"reshapes to [{string.Join(", ", target)}], which does not keep the batch and time axes");
            }
            if (target[target.Length - 1] is not (-1 or null) && target[target.Length - 1] != width)
                throw Wrong(node, $"reshapes to [{string.Join(", ", target)}]; expected the directions' {width} features last");
            var merged = axes.Take(axes.Count - 2).Append(new Axis(AxisRole.Feature, -1, width)).ToList();
            return x with { Axes = merged, Stack = null, Selected = stack };
        }
        // Every step in one row per sequence: [B, T, F] -> [B, T*F] (the oracle graphs' many-to-many output).
        if (target.Length == 2 && axes.Count == 3 && RoleOf(axes[0]) == AxisRole.Batch && RoleOf(axes[1]) == AxisRole.Time
            && target[0] is 0 or -1 or null && (target[1] is -1 or null || target[1] == axes[1].Size * x.FeatureWidth) && !(target[0] == -1 && target[1] == -1))
        {
            return x with { Axes = [axes[0], new Axis(AxisRole.Feature, -1, axes[1].Size is { } t ? t * x.FeatureWidth : null)], TimeFolded = true };
        }
        // A leading axis of size 1 dropped, the features kept: [1, B, H] -> [B, H] (RemoveAxis says which roles may go).
        var keepsFeatures = target[target.Length - 1] is -1 or null || target[target.Length - 1] == x.FeatureWidth;
        if (target.Length == axes.Count - 1 && axes[0].Size == 1 && keepsFeatures)
            return RemoveAxis(node, x, 0);
        // Nothing changes: every dimension kept.
        if (target.Length == axes.Count)
        {
            var same = true;
            var inferred = 0;
            for (var i = 0; i < target.Length; i++)
            {
                if (target[i] == -1)
                    inferred++;
                else if (target[i] != 0 && target[i] != axes[i].Size)
                    same = false;
            }
            if (same && inferred <= 1)
                return x;
        }
        throw Wrong(node, $"reshapes a tensor of {axes.Count} axes to [{string.Join(", ", target.Select(t => t?.ToString(CultureInfo.InvariantCulture) ?? "?"))}], which is not a rearrangement StaticRnn follows (merging a bidirectional layer's directions, or dropping an axis of size 1)");
    }

    private Value ShapeOf(Activation x) =>
        new Constant([x.Axes.Count], null, x.Axes.Select(a => RoleOf(a) is AxisRole.Batch or AxisRole.Unknown ? null : a.Size).ToArray(), null);

    private Value Gather(OnnxNode node, List<Value?> inputs)
    {
        // An embedding: a constant table indexed by the tokens.
        if (inputs[0] is Constant table && inputs.Count > 1 && inputs[1] is Activation { Tokens: true, Layers.Count: 0 } tokens)
        {
            if (table.Floats is null || table.Dims.Length != 2)
                throw Wrong(node, $"gathers from a table of shape [{string.Join(", ", table.Dims)}]; an embedding table is a 2-D float tensor");
            if (node.Int("axis", 0) != 0)
                throw Wrong(node, "gathers along an axis other than 0, which is not an embedding lookup");
            var prefix = PrefixFor(node, "embedding");
            var axes = tokens.Axes.Take(2).Append(new Axis(AxisRole.Feature, -1, table.Dims[1])).ToList();
            return new Activation([new EmbeddingStep(node, prefix, table)], null, false, axes, null, null, false);
        }
        if (inputs[0] is not Activation x || inputs.Count < 2 || inputs[1] is not Constant { Ints: { Length: 1 } index } indices)
            throw Wrong(node, "gathers in a way StaticRnn does not follow (expected an embedding lookup, the last step, or one direction of a recurrent layer)");
        var axis = Normalize(node, node.Int("axis", 0), x.Axes.Count);
        var keepAxis = indices.Dims.Length == 1;
        var i = index[0] ?? throw Wrong(node, "gathers an index that is not constant");
        var selected = Select(node, x, axis, i, i == -1 ? long.MaxValue : i + 1);
        return keepAxis ? selected : RemoveAxis(node, selected, axis);
    }

    /// <summary>Keeps positions [start, end) of one axis: the last step of the time axis, or some directions of a stack.</summary>
    private Activation Select(OnnxNode node, Activation x, int axis, long start, long end)
    {
        var a = x.Axes[axis];
        var size = a.Size;
        long Clamp(long v) => size is { } n ? Math.Max(0, Math.Min(n, v < 0 ? v + n : v)) : v;
        switch (RoleOf(a))
        {
            case AxisRole.Time:
            {
                // torch writes out[:, -1, :] as Slice(-1, INT64_MAX) and out[-1] as Gather(-1); a fixed length may be spelled out.
                var isLast = size is { } n ? Clamp(start) == n - 1 && Clamp(end) == n : start == -1 && end >= int.MaxValue;
                if (!isLast)
                {
                    if (size is { } m && Clamp(start) == 0 && Clamp(end) == m)
                        return x;
                    throw Wrong(node, "selects steps other than the last one; a StaticRnn model outputs every step or the final one");
                }
                var axes = x.Axes.ToList();
                axes[axis] = new Axis(AxisRole.LastStep, -1, 1);
                return x with { Axes = axes };
            }
            case AxisRole.Stack when x.Stack is { } stack:
            {
                var n = stack.Count;
                var from = (int)(start < 0 ? start + n : Math.Min(start, n));
                var to = (int)(end < 0 ? end + n : Math.Min(end, n));
                if (from < 0 || to <= from)
                    throw Wrong(node, $"selects directions [{start}, {end}) of {n}");
                var axes = x.Axes.ToList();
                axes[axis] = new Axis(AxisRole.Stack, -1, to - from);
                return x with { Axes = axes, Stack = stack.Skip(from).Take(to - from).ToList() };
            }
            case AxisRole.One:
                return x;
            default:
                if (size is { } full && Clamp(start) == 0 && Clamp(end) == full)
                    return x;
                throw Wrong(node, $"selects part of the {RoleOf(a).ToString().ToLowerInvariant()} axis, which StaticRnn does not follow");
        }
    }

    private Value Slice(OnnxNode node, Activation x, List<Value?> inputs)
    {
        long[] Argument(string attribute, int index)
        {
            if (node.Ints(attribute) is { } list)
                return list.ToArray();
            if (index < inputs.Count && inputs[index] is Constant { Ints: { } ints })
                return ints.Select(v => v ?? throw Wrong(node, $"has {attribute} that are not constant")).ToArray();
            return [];
        }
        var starts = Argument("starts", 1);
        var ends = Argument("ends", 2);
        var axes = Argument("axes", 3);
        var steps = Argument("steps", 4);
        if (starts.Length == 0 || starts.Length != ends.Length)
            throw Wrong(node, "has no constant starts and ends");
        if (axes.Length == 0)
            axes = Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray();
        if (steps.Any(s => s != 1))
            throw Wrong(node, "slices with a step other than 1");
        var result = x;
        for (var i = 0; i < starts.Length; i++)
            result = Select(node, result, Normalize(node, axes[i], x.Axes.Count), starts[i], ends[i]);
        return result;
    }

    private Value Concat(OnnxNode node, List<Value?> inputs)
    {
        var parts = inputs.Select(v => v as Activation ?? throw Wrong(node, "concatenates the network's values with constants")).ToList();
        var first = parts[0];
        var axis = Normalize(node, node.Int("axis", 0), first.Axes.Count);
        var layers = parts.OrderByDescending(p => p.Layers.Count).First().Layers;
        var pending = parts.Select(p => p.Pending).LastOrDefault(p => p is not null);
        switch (RoleOf(first.Axes[axis]))
        {
            case AxisRole.Stack:
            {
                Spend(node.Display, 8L * parts.Sum(p => (long)(p.Stack?.Count ?? 0)));
                var stack = parts.SelectMany(p => p.Stack ?? throw Wrong(node, "concatenates along a stack it cannot follow")).ToList();
                var axes = first.Axes.ToList();
                axes[axis] = new Axis(AxisRole.Stack, -1, stack.Count);
                return first with { Layers = layers, Pending = pending, Stack = stack };
            }
            case AxisRole.Feature:
            {
                if (parts.Any(p => p.Merge != MergeMode.Concat))
                    throw Wrong(node, "concatenates directions that were already combined");
                Spend(node.Display, 8L * parts.Sum(p => (long)(p.Selected?.Count ?? 0)));
                var selected = parts.SelectMany(p => p.Selected ?? throw Wrong(node, "concatenates features that are not directions of one recurrent layer")).ToList();
                var axes = first.Axes.ToList();
                axes[axis] = new Axis(AxisRole.Feature, -1, parts.Sum(p => p.FeatureWidth));
                return first with { Layers = layers, Pending = pending, Axes = axes, Selected = selected };
            }
            default:
                throw Wrong(node, $"concatenates along the {RoleOf(first.Axes[axis]).ToString().ToLowerInvariant()} axis, which StaticRnn does not follow");
        }
    }

    // ---- Layers ----

    /// <summary>The layers of <paramref name="x"/>, its pending recurrent node completed by how <paramref name="user"/> uses it.</summary>
    private List<Step>? Finish(Activation x, string user, bool output = false)
    {
        if (x.TimeFolded && !output)
        {
            Fail($"{user} reads every step's features folded into one row, which only the network's output may be");
            return null;
        }
        if (x.Stack is not null && x.Axes.Any(a => RoleOf(a) == AxisRole.Stack))
        {
            // A stack used as it is: [D, B, H] (final states) or [T, D, B, H] (every step). Per sequence, that is the
            // directions' outputs one after the other: concatenated, if nothing but the batch lies between them and the features.
            var order = x.Axes.Select(RoleOf).Where(r => r is not (AxisRole.Batch or AxisRole.Unknown or AxisRole.One)).ToList();
            if (!(order.SequenceEqual([AxisRole.Stack, AxisRole.Feature]) || order.SequenceEqual([AxisRole.Time, AxisRole.Stack, AxisRole.Feature])))
            {
                Fail($"{user} holds the directions of a recurrent layer in an order StaticRnn cannot lay out ({string.Join(", ", order).ToLowerInvariant()})");
                return null;
            }
            x = x with { Selected = x.Stack, Stack = null, Axes = x.Axes.Where(a => RoleOf(a) != AxisRole.Stack).ToList() };
        }
        var layers = x.Layers.ToList();
        if (x.Pending is not { } pending)
        {
            if (x.Selected is not null)
            {
                Fail($"{user} uses directions of a recurrent layer in a way StaticRnn does not follow");
                return null;
            }
            return layers;
        }
        var expected = Enumerable.Range(0, pending.Directions).Select(d => new Entry(pending, d)).ToList();
        if (x.Selected is null || !x.Selected.SequenceEqual(expected))
        {
            var what = x.Selected is null ? "its output" : string.Join(", ", x.Selected.Select(e => (e.Direction == 0 ? "forward" : "backward") + " of " + e.Node.Node.Display));
            Fail($"{user} uses {what}; a StaticRnn layer hands on the last recurrent layer's {(pending.Directions == 2 ? "forward and backward outputs, concatenated in that order" : "output")}");
            return null;
        }
        var timeKept = x.TimeFolded || x.Axes.Any(a => RoleOf(a) == AxisRole.Time);
        var lastStep = !x.FinalStates && !timeKept;
        if (lastStep && pending.Directions == 2)
        {
            Fail($"{user} takes the last step of a bidirectional layer's outputs, where the backward direction has seen one step only; StaticRnn's many-to-one bidirectional layers hand on both directions' final states (in PyTorch: torch.cat((h_n[-2], h_n[-1]), dim=1))");
            return null;
        }
        layers.Add(pending with { ReturnSequences = timeKept && !x.FinalStates, Merge = x.Merge });
        return layers;
    }

    private string PrefixFor(OnnxNode node, string fallback)
    {
        var name = node.Name.Length > 0 ? node.Name : fallback;
        var prefix = name;
        // From the suffix the name had last: the ones before it are taken, and many nodes of one name stay linear.
        var i = _suffixes.TryGetValue(name, out var next) ? next : 2;
        while (!_prefixes.Add(prefix))
            prefix = name + "_" + (i++).ToString(CultureInfo.InvariantCulture);
        _suffixes[name] = i;
        return prefix;
    }

    private Value? RecurrentNode(OnnxNode node, List<Value?> inputs)
    {
        var kind = node.OpType switch { "LSTM" => LayerKind.Lstm, "GRU" => LayerKind.Gru, _ => LayerKind.SimpleRnn };
        var gates = RecurrentLayer.GateCount(kind);
        var x = inputs[0] as Activation ?? throw Wrong(node, "reads input X that is not the network's data");
        var hidden = node.Int("hidden_size", 0);
        var direction = node.String("direction") ?? "forward";
        var layout = node.Int("layout", 0);
        var directions = direction switch { "forward" => 1, "bidirectional" => 2, _ => 0 };
        if (directions == 0)
            throw Wrong(node, $"has direction = \"{direction}\"; StaticRnn compiles \"forward\" and \"bidirectional\"");
        if (node.Attributes.ContainsKey("clip"))
            throw Wrong(node, $"clips its cell inputs (clip = {node.Float("clip", 0).ToString(CultureInfo.InvariantCulture)}), which StaticRnn does not compile");
        if (node.Attributes.ContainsKey("activation_alpha") || node.Attributes.ContainsKey("activation_beta"))
            throw Wrong(node, "has activation_alpha or activation_beta, which StaticRnn does not compile");

        // Activations: the defaults (per direction), or relu/sigmoid for an Elman RNN.
        var cellActivation = kind == LayerKind.SimpleRnn ? Parsing.Activation.Tanh : Parsing.Activation.None;
        if (node.Attributes.TryGetValue("activations", out var given))
        {
            var defaults = kind switch { LayerKind.Lstm => new[] { "Sigmoid", "Tanh", "Tanh" }, LayerKind.Gru => ["Sigmoid", "Tanh"], _ => ["Tanh"] };
            var names = given.Strings;
            var perDirection = names.Count / directions;
            if (names.Count != defaults.Length * directions)
                throw Wrong(node, $"has {names.Count} activations; expected {defaults.Length} per direction");
            for (var d = 0; d < directions; d++)
            {
                for (var k = 0; k < defaults.Length; k++)
                {
                    var name = names[d * perDirection + k];
                    if (kind == LayerKind.SimpleRnn)
                    {
                        var activation = name.ToLowerInvariant() switch
                        {
                            "tanh" => Parsing.Activation.Tanh,
                            "relu" => Parsing.Activation.Relu,
                            "sigmoid" => Parsing.Activation.Sigmoid,
                            _ => throw Wrong(node, $"has the activation '{name}'; an RNN StaticRnn compiles uses Tanh, Relu or Sigmoid"),
                        };
                        if (d > 0 && activation != cellActivation)
                            throw Wrong(node, "has different activations in its two directions");
                        cellActivation = activation;
                    }
                    else if (!name.Equals(defaults[k], StringComparison.OrdinalIgnoreCase))
                    {
                        throw Wrong(node, $"has the activations [{string.Join(", ", names)}]; StaticRnn compiles the defaults [{string.Join(", ", defaults)}]");
                    }
                }
            }
        }

        // X: [T, B, I] (layout 0) or [B, T, I] (layout 1). Its first two axes say which input axis is time.
        if (x.Axes.Count != 3)
            throw Wrong(node, $"reads X with {x.Axes.Count} axes; expected 3");
        Bind(node, x.Axes[layout == 0 ? 0 : 1], AxisRole.Time);
        Bind(node, x.Axes[layout == 0 ? 1 : 0], AxisRole.Batch);
        if (Finish(x with { Axes = x.Axes }, node.Display) is not { } before)
            return null;
        var inputWidth = x.FeatureWidth;

        float[] Weights(int index, string name, long rows, long columns)
        {
            if (index >= inputs.Count || inputs[index] is not Constant { Floats: { } values } c)
                throw Wrong(node, $"has {name} that is not a constant float tensor");
            var dims = c.Dims;
            if (dims.Length != 3 || dims[0] != directions || dims[1] != rows || dims[2] != columns)
                throw Wrong(node, $"has {name} of shape [{string.Join(", ", dims)}]; expected [{directions}, {rows}, {columns}]");
            return values;
        }
        if (hidden < 1)
        {
            // hidden_size is optional: R's shape says it.
            if (inputs.Count > 2 && inputs[2] is Constant { Dims: { Length: 3 } r })
                hidden = r[2];
            if (hidden is < 1 or > ShapeChecker.MaxDimension)
                throw Wrong(node, "has no hidden_size");
        }
        if (hidden > ShapeChecker.MaxDimension)
            throw Wrong(node, $"has hidden_size = {hidden}; StaticRnn compiles at most {ShapeChecker.MaxDimension}");
        var h = (int)hidden;
        var w = Weights(1, "W", gates * hidden, inputWidth);
        var rw = Weights(2, "R", gates * hidden, hidden);
        float[]? b = null;
        if (Has(node, 3))
        {
            if (inputs[3] is not Constant { Floats: { } bias } bc || bc.Count != directions * 2L * gates * hidden)
                throw Wrong(node, $"has B that is not a constant [{directions}, {2 * gates * hidden}] tensor");
            b = bias;
        }
        if (Has(node, 4))
        {
            // sequence_lens: the graph's lengths input (PredictBatch with lengths runs it), or every sequence at full length.
            var full = x.Axes[layout == 0 ? 0 : 1].Size;
            if (inputs[4] is not Lengths && (inputs[4] is not Constant { Ints: { } lengths } || full is null || lengths.Any(l => l != full)))
                throw Wrong(node, "has sequence_lens that are neither the graph's lengths input nor the full sequence length");
        }
        foreach (var (index, name) in new[] { (5, "initial_h"), (6, "initial_c") })
        {
            if (Has(node, index) && !(inputs[index] is Zeros || inputs[index] is Constant { IsZero: true }))
                throw Wrong(node, $"starts from a nonzero {name}; StaticRnn's layers start from zero states");
        }
        float[]? p = null;
        if (kind == LayerKind.Lstm && Has(node, 7))
        {
            if (inputs[7] is not Constant { Floats: { } peep } pc || pc.Count != directions * 3L * hidden)
                throw Wrong(node, $"has P that is not a constant [{directions}, {3 * hidden}] tensor");
            p = peep;
        }

        // The layer's own copies of its weights, and the list of the layers before it.
        Spend(node.Display, 4L * (w.Length + rw.Length + 2L * directions * gates * h + (p?.Length ?? 0)) + 8L * before.Count);

        // PyTorch's gate order, from ONNX's: LSTM i, o, f, c -> i, f, g, o; GRU z, r, h -> r, z, n.
        int[] order = kind switch { LayerKind.Lstm => [0, 2, 3, 1], LayerKind.Gru => [1, 0, 2], _ => [0] };
        float[] Reorder(float[] source, int offset, int columns)
        {
            var result = new float[gates * h * columns];
            for (var g = 0; g < gates; g++)
                Array.Copy(source, offset + order[g] * h * columns, result, g * h * columns, h * columns);
            return result;
        }
        var step = new Recurrent(node, PrefixFor(node, node.OpType.ToLowerInvariant()), kind, h, directions, inputWidth,
            ResetAfter: kind == LayerKind.Gru && node.Int("linear_before_reset", 0) != 0,
            Peephole: p is not null && p.Any(v => v != 0),
            Coupled: kind == LayerKind.Lstm && node.Int("input_forget", 0) != 0,
            cellActivation,
            W: Enumerable.Range(0, directions).Select(d => Reorder(w, d * gates * h * inputWidth, inputWidth)).ToArray(),
            R: Enumerable.Range(0, directions).Select(d => Reorder(rw, d * gates * h * h, h)).ToArray(),
            Wb: Enumerable.Range(0, directions).Select(d => b is null ? new float[gates * h] : Reorder(b, d * 2 * gates * h, 1)).ToArray(),
            Rb: Enumerable.Range(0, directions).Select(d => b is null ? new float[gates * h] : Reorder(b, (d * 2 + 1) * gates * h, 1)).ToArray(),
            P: p is null || p.All(v => v == 0) ? null : Enumerable.Range(0, directions).Select(d => p.Skip(d * 3 * h).Take(3 * h).ToArray()).ToArray());

        var stack = Enumerable.Range(0, directions).Select(d => new Entry(step, d)).ToList();
        var time = x.Axes[layout == 0 ? 0 : 1];
        var batch = x.Axes[layout == 0 ? 1 : 0];
        var stackAxis = new Axis(AxisRole.Stack, -1, directions);
        var feature = new Axis(AxisRole.Feature, -1, h);
        Axis[] y = layout == 0 ? [time, stackAxis, batch, feature] : [batch, time, stackAxis, feature];
        Axis[] yh = layout == 0 ? [stackAxis, batch, feature] : [batch, stackAxis, feature];
        Set(node, 0, new Activation(before, step, false, y, stack, null, false));
        Set(node, 1, new Activation(before, step, true, yh, stack, null, false));
        if (node.Outputs.Count > 2)
            Set(node, 2, new Unsupported($"the network uses Y_c, the cell state of {node.Display}, which StaticRnn does not hand on"));
        return x;
    }

    private void Bind(OnnxNode node, Axis axis, AxisRole role)
    {
        var current = RoleOf(axis);
        if (current == role)
            return;
        if (axis.Role == AxisRole.Unknown && !_roles.ContainsKey(axis.Token))
        {
            _roles[axis.Token] = role;
            return;
        }
        throw Wrong(node, $"reads as its {role.ToString().ToLowerInvariant()} axis the input's {current.ToString().ToLowerInvariant()} axis");
    }

    private Value Gemm(OnnxNode node, List<Value?> inputs)
    {
        if (inputs[0] is not Activation x || inputs.Count < 2 || inputs[1] is not Constant { Floats: { } bValues } bConstant)
            throw Wrong(node, "multiplies in a way StaticRnn does not follow (expected the network's data times a constant weight)");
        if (node.Int("transA", 0) != 0 || node.Float("alpha", 1) != 1 || node.Float("beta", 1) != 1)
            throw Wrong(node, "has transA, alpha or beta other than 0, 1 and 1");
        var transB = node.Int("transB", 0) != 0;
        if (bConstant.Dims.Length != 2)
            throw Wrong(node, $"has a weight of shape [{string.Join(", ", bConstant.Dims)}]; expected 2 dimensions");
        var inputs2 = (int)(transB ? bConstant.Dims[1] : bConstant.Dims[0]);
        var units = (int)(transB ? bConstant.Dims[0] : bConstant.Dims[1]);
        float[]? bias = null;
        if (inputs.Count > 2 && inputs[2] is not null)
        {
            if (inputs[2] is not Constant { Floats: { } c } cc || cc.Count != units && cc.Count != 1)
                throw Wrong(node, $"has a bias C that is not a constant of {units} values");
            bias = c.Length == units ? c : Enumerable.Repeat(c[0], units).ToArray();
        }
        Spend(node.Display, 4L * bValues.Length);
        return Dense(node, x, inputs2, units, transB ? bValues : Transposed(bValues, inputs2, units), transB ? bConstant : null, bias);
    }

    private Value MatMul(OnnxNode node, List<Value?> inputs)
    {
        if (inputs[0] is not Activation x || inputs.Count < 2 || inputs[1] is not Constant { Floats: { } values, Dims.Length: 2 } weight)
            throw Wrong(node, "multiplies in a way StaticRnn does not follow (expected the network's data times a constant [inputs, units] matrix)");
        var inputWidth = (int)weight.Dims[0];
        var units = (int)weight.Dims[1];
        Spend(node.Display, 4L * values.Length);
        return Dense(node, x, inputWidth, units, Transposed(values, inputWidth, units), null, null);
    }

    private Value Dense(OnnxNode node, Activation x, int inputWidth, int units, float[] weight, Constant? verbatim, float[]? bias)
    {
        if (inputWidth != x.FeatureWidth)
            throw Wrong(node, $"multiplies {x.FeatureWidth} features by a weight for {inputWidth}");
        if (Finish(x, node.Display) is not { } layers)
            throw new ImportException(_error!);
        Spend(node.Display, 16L * layers.Count);   // Finish's copy of the layers before, and the new value's
        var step = new DenseStep(node, PrefixFor(node, "dense"), inputWidth, units, weight, verbatim, bias, Parsing.Activation.None);
        var axes = x.Axes.Where(a => RoleOf(a) != AxisRole.Stack).ToList();
        axes[axes.Count - 1] = new Axis(AxisRole.Feature, -1, units);
        return new Activation([.. layers, step], null, false, axes, null, null, false);
    }

    private static float[] Transposed(float[] values, int rows, int columns)
    {
        var result = new float[values.Length];
        for (var r = 0; r < rows; r++)
            for (var c = 0; c < columns; c++)
                result[c * rows + r] = values[r * columns + c];
        return result;
    }

    private Value AddBias(OnnxNode node, List<Value?> inputs)
    {
        var x = inputs.OfType<Activation>().Single();
        var other = inputs.FirstOrDefault(v => v is not Activation);
        if (x.Pending is null && x.Layers.Count > 0 && x.Layers[x.Layers.Count - 1] is DenseStep { Bias: null, Activation: Parsing.Activation.None } dense
            && other is Constant { Floats: { } bias } constant && (constant.Count == dense.Units || constant.Count == 1))
        {
            var values = bias.Length == dense.Units ? bias : Enumerable.Repeat(bias[0], dense.Units).ToArray();
            return x with { Layers = [.. x.Layers.Take(x.Layers.Count - 1), dense with { Bias = values }] };
        }
        throw Wrong(node, "adds something other than a dense layer's bias (a constant vector after a MatMul)");
    }

    /// <summary>f + b or f * b of a bidirectional layer's two directions: Keras's merge modes.</summary>
    private Value MergeDirections(OnnxNode node, List<Activation> parts, MergeMode mode)
    {
        if (parts[0].Selected is not { Count: 1 } f || parts[1].Selected is not { Count: 1 } b || parts[0].Merge != MergeMode.Concat || parts[1].Merge != MergeMode.Concat
            || f[0].Node != b[0].Node || parts[0].FeatureWidth != parts[1].FeatureWidth)
            throw Wrong(node, $"combines two values in a way StaticRnn does not follow (it follows {(mode == MergeMode.Sum ? "adding" : "multiplying")} the two directions of one bidirectional layer)");
        return parts[0] with { Selected = [f[0], b[0]], Merge = mode };
    }

    /// <summary>(f + b) * 0.5: the average of the two directions.</summary>
    private Value Halve(OnnxNode node, Activation x, List<Value?> inputs)
    {
        if (x.Merge != MergeMode.Sum || inputs.FirstOrDefault(v => v is Constant) is not Constant { Floats: { Length: 1 } half } || half[0] != 0.5f)
            throw Wrong(node, "multiplies in a way StaticRnn does not follow (it follows the average of a bidirectional layer's directions, (f + b) * 0.5)");
        return x with { Merge = MergeMode.Average };
    }

    private Value Activate(OnnxNode node, Activation x, Parsing.Activation activation)
    {
        if (x.Pending is not null || x.Layers.Count == 0 || x.Layers[x.Layers.Count - 1] is not DenseStep { Activation: Parsing.Activation.None } dense)
            throw Wrong(node, "applies an activation to something other than a dense layer's output; StaticRnn compiles activations as part of a dense layer");
        if (activation is Parsing.Activation.Softmax or Parsing.Activation.LogSoftmax)
        {
            var defaultAxis = _model.Opset >= 13 ? -1 : 1;
            var axis = Normalize(node, node.Int("axis", defaultAxis), x.Axes.Count);
            if (axis != x.Axes.Count - 1)
                throw Wrong(node, $"normalizes over axis {axis}, not the features (the last axis, {x.Axes.Count - 1})");
        }
        return x with { Layers = [.. x.Layers.Take(x.Layers.Count - 1), dense with { Activation = activation }] };
    }

    // ---- Constants ----

    /// <summary>An initializer whose data lies in a file beside the model (external data), read from the project's copy.</summary>
    private Value External(OnnxTensor tensor)
    {
        var who = $"the initializer '{tensor.Name}'";
        if (tensor.Data is not { } where)
            throw new ImportException($"{who} keeps its data in an external file but does not say which (no 'location')");
        if (!tensor.IsFloat)
            throw new ImportException($"{who} keeps {tensor.DataType} data in an external file; StaticRnn reads external float tensors");
        if (_externalFiles?.Invoke(where.Location) is not { } bytes)
        {
            throw new ImportException($"{who} keeps its data in '{where.Location}' beside the model, which is not among the project's AdditionalFiles " +
                "(StaticRnn.props adds *.onnx.data files; add others with <AdditionalFiles Include=\"...\" />), or save the model with its weights inside " +
                "(onnx.save_model(model, path, save_as_external_data=False))");
        }
        var size = tensor.FloatDType switch { TensorDType.F64 => 8, TensorDType.F32 => 4, _ => 2 };
        var needed = tensor.ElementCount * size;
        var length = where.Length ?? bytes.Length - where.Offset;
        if (where.Offset > bytes.Length || length != needed || where.Offset + needed > bytes.Length)
        {
            throw new ImportException($"{who} names {length} bytes at offset {where.Offset} of '{where.Location}' ({bytes.Length} bytes); " +
                $"its shape [{string.Join(", ", tensor.Dims)}] needs {needed}");
        }
        Spend(who, tensor.ElementCount * ConstantOps.ElementSize(true));
        return new Constant(tensor.Dims.ToArray(), FloatConversion.ToFloat32(bytes, (int)where.Offset, (int)tensor.ElementCount, tensor.FloatDType), null, null);
    }

    private Value FromTensor(OnnxTensor tensor, string who)
    {
        if (tensor.External)
            return new Unsupported($"{who} keeps its data in an external file, which StaticRnn does not read");
        var dims = tensor.Dims.ToArray();
        if (tensor.IsFloat || tensor.Integers is not null)
            Spend(who, tensor.ElementCount * ConstantOps.ElementSize(tensor.IsFloat));
        if (tensor.IsFloat)
            return new Constant(dims, tensor.ReadFloats(), null, tensor.DataType == OnnxDataType.Float && tensor.FileOffset is not null ? tensor : null) { };
        if (tensor.Integers is { } ints)
            return new Constant(dims, null, ints.Select(i => (long?)i).ToArray(), null);
        return new Unsupported($"the tensor '{tensor.Name}' holds {tensor.DataType} values, which StaticRnn does not read");
    }

    /// <summary>Evaluates a node none of whose inputs depends on the network's data.</summary>
    private void FoldConstant(OnnxNode node, List<Value?> inputs)
    {
        Value? In(int i) => i < inputs.Count ? inputs[i] : null;
        Constant? C(int i) => In(i) as Constant;
        Value result;
        switch (node.OpType)
        {
            case "Constant":
                if (node.Attributes.TryGetValue("value_floats", out var fs))
                    Spend(node.Display, fs.Floats.Count * ConstantOps.ElementSize(floats: true));
                if (node.Attributes.TryGetValue("value_ints", out var ns))
                    Spend(node.Display, ns.Ints.Count * ConstantOps.ElementSize(floats: false));
                result = node.Attributes.TryGetValue("value", out var v) && v.Tensor is { } t ? FromTensor(t, node.Display)
                    : node.Attributes.TryGetValue("value_float", out var f) ? new Constant([], [f.Float], null, null)
                    : fs is not null ? new Constant([fs.Floats.Count], fs.Floats.ToArray(), null, null)
                    : node.Attributes.TryGetValue("value_int", out var n) ? new Constant([], null, [n.Int], null)
                    : ns is not null ? new Constant([ns.Ints.Count], null, ns.Ints.Select(x => (long?)x).ToArray(), null)
                    : new Unsupported($"{node.Display} has no value StaticRnn reads");
                break;
            case "Identity" or "Cast" when C(0) is { } c0:
                if (node.OpType == "Cast")
                    Spend(node.Display, c0.Count * ConstantOps.ElementSize(c0.Ints is not null));
                result = node.OpType == "Cast" && node.Int("to", 1) is 6 or 7 && c0.Floats is { } floats
                    ? c0 with { Floats = null, Ints = floats.Select(x => (long?)(long)x).ToArray(), Source = null }
                    : node.OpType == "Cast" && node.Int("to", 1) == 1 && c0.Ints is { } ints0
                        ? c0 with { Ints = null, Floats = ints0.Select(x => (float)(x ?? 0)).ToArray(), Source = null }
                        : c0;
                break;
            case "ConstantOfShape":
            {
                var valueTensor = node.Attributes.TryGetValue("value", out var value) ? value.Tensor : null;
                var fill = valueTensor is null ? null : FromTensor(valueTensor, node.Display) as Constant;
                if (valueTensor is not null && (valueTensor.ElementCount != 1 || fill is null))
                {
                    result = new Unsupported($"{node.Display} fills with a value of {valueTensor.ElementCount} {valueTensor.DataType} elements; expected one number");
                    break;
                }
                var zero = fill is null || fill.IsZero;
                // A shape whose product would overflow is not one to fold: ConstantOps.Elements says null.
                if (C(0) is { Ints: { } shape } && shape.All(s => s is not null) && ConstantOps.Elements(shape.Select(s => s!.Value)) is { } count and <= 1 << 20)
                {
                    var dims = shape.Select(s => s!.Value).ToArray();
                    Spend(node.Display, count * ConstantOps.ElementSize(fill?.Ints is null));
                    result = fill?.Ints is { } fi
                        ? new Constant(dims, null, Enumerable.Repeat(fi[0], (int)count).ToArray(), null)
                        : new Constant(dims, Enumerable.Repeat(fill?.Floats?[0] ?? 0f, (int)count).ToArray(), null, null);
                }
                else
                {
                    result = zero ? new Zeros() : new Unsupported($"{node.Display} fills a tensor of unknown shape with a nonzero value");
                }
                break;
            }
            case "Slice" or "Gather" or "Squeeze" or "Unsqueeze" or "Reshape" or "Transpose" or "Identity" or "Cast" or "Concat"
                when In(0) is Zeros && (node.OpType != "Concat" || inputs.All(i => i is Zeros || i is Constant { IsZero: true })):
                result = new Zeros();   // part of, or the same, zeros: the per-layer slices of torch's initial states
                break;
            case "Expand":
                result = In(0) is Zeros || C(0) is { IsZero: true } ? new Zeros() : new Unsupported($"{node.Display} expands a nonzero tensor");
                break;
            case "Shape" when C(0) is { } shaped:
                result = new Constant([shaped.Dims.Length], null, shaped.Dims.Select(d => (long?)d).ToArray(), null);
                break;
            case "Shape" when In(0) is Zeros:
                result = new Unsupported($"{node.Display} takes the shape of a tensor of unknown shape");
                break;
            default:
                if (!inputs.All(i => i is null or Constant))
                {
                    result = new Unsupported($"{node.Display} reads a value StaticRnn does not compute");
                    break;
                }
                ConstantOps.Tensor? folded;
                try
                {
                    folded = ConstantOps.Evaluate(node, inputs.Select(i => (ConstantOps.Tensor?)(i is Constant c ? new ConstantOps.Tensor(c.Dims, c.Floats, c.Ints) : null)).ToList(),
                        _model.Opset, maxBytes: _budget - _built);
                }
                catch (ConstantOps.TooLargeException e)
                {
                    Spend(node.Display, e.Bytes);   // past the budget: throws
                    throw;
                }
                if (folded is not null)
                    Spend(node.Display, folded.Count * ConstantOps.ElementSize(folded.Floats is not null));
                result = folded is not null
                    ? new Constant(folded.Dims, folded.Floats, folded.Ints, null)
                    : new Unsupported($"{node.Display} computes a constant in a way StaticRnn does not evaluate");
                break;
        }
        Set(node, 0, result);
        for (var i = 1; i < node.Outputs.Count; i++)
            Set(node, i, new Unsupported($"the network uses output {i} of {node.Display}"));
    }

    // ---- The spec ----

    private Import? Build(List<Step> steps, Activation input)
    {
        var tensors = new CanonicalTensors();
        var layers = new List<LayerSpec>();
        LayerSpec Layer(LayerKind kind, int size, string prefix) => new(
            kind, size, 0, prefix, 1, false, false, MergeMode.Concat, false, false, true, Parsing.Activation.None, 0f, _location, EquatableArray<ArgumentLocation>.Empty);

        for (var i = 0; i < steps.Count; i++)
        {
            switch (steps[i])
            {
                case EmbeddingStep embedding:
                {
                    var table = embedding.Table;
                    tensors.Add(embedding.Prefix + ".weight", [(int)table.Dims[0], (int)table.Dims[1]], table.Floats!, table.Source?.FileOffset);
                    layers.Add(Layer(LayerKind.Embedding, (int)table.Dims[1], embedding.Prefix) with { VocabularySize = (int)table.Dims[0] });
                    break;
                }
                case DenseStep dense:
                {
                    tensors.Add(dense.Prefix + ".weight", [dense.Units, dense.Inputs], dense.Weight, dense.VerbatimWeight?.Source?.FileOffset);
                    if (dense.Bias is { } bias)
                        tensors.Add(dense.Prefix + ".bias", [dense.Units], bias, null);
                    layers.Add(Layer(LayerKind.Dense, dense.Units, dense.Prefix) with { Activation = dense.Activation });
                    break;
                }
                case Recurrent first:
                {
                    // Successive recurrent nodes of one form are one stacked layer, as PyTorch declares them.
                    var stack = new List<Recurrent> { first };
                    while (i + 1 < steps.Count && steps[i + 1] is Recurrent next && stack[stack.Count - 1].ReturnSequences && SameForm(first, next))
                    {
                        stack.Add(next);
                        i++;
                    }
                    for (var k = 0; k < stack.Count; k++)
                    {
                        var r = stack[k];
                        for (var d = 0; d < r.Directions; d++)
                        {
                            var suffix = $"_l{k}{(d == 1 ? "_reverse" : "")}";
                            var rows = RecurrentLayer.GateCount(r.Kind) * r.Hidden;
                            tensors.Add($"{first.Prefix}.weight_ih{suffix}", [rows, r.Inputs], r.W[d], null);
                            tensors.Add($"{first.Prefix}.weight_hh{suffix}", [rows, r.Hidden], r.R[d], null);
                            tensors.Add($"{first.Prefix}.bias_ih{suffix}", [rows], r.Wb[d], null);
                            tensors.Add($"{first.Prefix}.bias_hh{suffix}", [rows], r.Rb[d], null);
                            if (r.P is { } peepholes)
                            {
                                // ONNX's P is [i | o | f].
                                tensors.Add($"{first.Prefix}.peephole_i{suffix}", [r.Hidden], peepholes[d].Take(r.Hidden).ToArray(), null);
                                tensors.Add($"{first.Prefix}.peephole_o{suffix}", [r.Hidden], peepholes[d].Skip(r.Hidden).Take(r.Hidden).ToArray(), null);
                                tensors.Add($"{first.Prefix}.peephole_f{suffix}", [r.Hidden], peepholes[d].Skip(2 * r.Hidden).Take(r.Hidden).ToArray(), null);
                            }
                        }
                    }
                    var last = stack[stack.Count - 1];
                    layers.Add(Layer(first.Kind, first.Hidden, first.Prefix) with
                    {
                        Layers = stack.Count,
                        Bidirectional = first.Directions == 2,
                        ReturnSequences = last.ReturnSequences,
                        MergeMode = last.Merge,
                        Peephole = first.Peephole,
                        CoupledInputForget = first.Coupled,
                        ResetAfter = first.Kind != LayerKind.Gru || first.ResetAfter,
                        Activation = first.CellActivation,
                    });
                    break;
                }
            }
        }

        // The sequence length, where the graph fixes the input's time axis.
        var timeToken = _roles.FirstOrDefault(p => p.Value == AxisRole.Time);
        int? sequenceLength = null;
        string? dynamicAxis = null;
        if (_roles.Values.Contains(AxisRole.Time) && _inputDims.TryGetValue(timeToken.Key, out var dimension))
        {
            if (dimension.Value is >= 1 and <= ShapeChecker.MaxDimension)
                sequenceLength = (int)dimension.Value;
            else
                dynamicAxis = dimension.Parameter is { Length: > 0 } name ? name : "?";
        }
        var inputSize = input.Tokens ? (int?)null : input.FeatureWidth;
        if (tensors.Bytes > MaxWeightBytes)
            return Fail($"the network's weights come to {tensors.Bytes} bytes as float32; StaticRnn compiles at most {MaxWeightBytes}");
        return new Import(layers, inputSize, sequenceLength, dynamicAxis, tensors.Build());
    }

    private static bool SameForm(Recurrent a, Recurrent b) =>
        a.Kind == b.Kind && a.Hidden == b.Hidden && a.Directions == b.Directions && a.ResetAfter == b.ResetAfter
        && a.Peephole == b.Peephole && a.Coupled == b.Coupled && a.CellActivation == b.CellActivation
        && a.Merge == MergeMode.Concat && b.Inputs == a.Hidden * a.Directions;

    /// <summary>The PyTorch-named tensors the importer produces, as a weight file: float32 values, each with the offset of
    /// its bytes in the .onnx file where they lie there unchanged (so large tables are read from the embedded file).</summary>
    private sealed class CanonicalTensors
    {
        private readonly List<(string Name, int[] Shape, float[] Values, long? FileOffset)> _tensors = new();

        public void Add(string name, int[] shape, float[] values, long? fileOffset) => _tensors.Add((name, shape, values, fileOffset));

        /// <summary>The size of the buffer <see cref="Build"/> makes.</summary>
        public long Bytes => _tensors.Sum(t => (long)t.Values.Length * 4);

        public WeightFile Build()
        {
            var bytes = new byte[Bytes];
            var entries = new List<TensorEntry>();
            long offset = 0;
            foreach (var (name, shape, values, fileOffset) in _tensors)
            {
                // Little-endian, as every weight file's buffer: the byte order of every platform the compiler runs on.
                Buffer.BlockCopy(values, 0, bytes, (int)offset, values.Length * 4);
                entries.Add(new TensorEntry(name, TensorDType.F32, shape, values.Length, offset, values.Length * 4, fileOffset));
                offset += values.Length * 4;
            }
            return new WeightFile(bytes, entries.ToArray());
        }
    }
}
