using System;
using System.Collections.Generic;
using System.Linq;
using StaticRnn.Generators.Diagnostics;
using StaticRnn.Generators.Parsing;
using StaticRnn.Generators.Weights;
using StaticRnn.Runtime;

namespace StaticRnn.Generators.Model;

/// <summary>Binds Keras weights, named by their weight paths as
/// <c>np.savez(path, **{w.path: w.numpy() for w in model.weights})</c> writes them, and converts them to the
/// canonical layout.</summary>
/// <remarks>
/// <para>Names: <c>{layer}/{cell}/kernel</c> [inputs, gates × H], <c>recurrent_kernel</c> [H, gates × H] and
/// <c>bias</c> for LSTM (gates i, f, c, o; one bias [4H]), GRU (z, r, h; bias [2, 3H] with reset_after=True,
/// [3H] with reset_after=False) and SimpleRNN; <c>{layer}/kernel</c> [inputs, units] and <c>bias</c> for Dense;
/// <c>{layer}/embeddings</c> for Embedding; peephole LSTMs add <c>input_gate_peephole_weights</c>,
/// <c>forget_gate_peephole_weights</c> and <c>output_gate_peephole_weights</c>. A Bidirectional layer holds
/// <c>{layer}/forward_{inner}/…</c> and <c>{layer}/backward_{inner}/…</c>.</para>
/// <para>Names are matched in a normal form, so the spellings of Keras 2, Keras 3 and TF 1 all bind: a TF-style
/// <c>:0</c> suffix is dropped, the cell segment (<c>lstm_cell</c>, <c>peephole_lstm_cell</c>, …) is dropped, and
/// <c>forward_lstm</c> becomes <c>forward</c>. Messages quote the names as the file spells them.</para>
/// </remarks>
internal sealed class KerasWeightBinder : WeightBinder
{
    private const string Forward = "forward", Backward = "backward";

    /// <summary>Each tensor by its normal-form name; the first of two names with one normal form wins.</summary>
    private readonly Dictionary<string, TensorEntry> _byNormalName = new(StringComparer.Ordinal);

    public KerasWeightBinder(ModelSpec spec, WeightFile file, List<DiagnosticInfo> diagnostics) : base(spec, file, diagnostics)
    {
        foreach (var tensor in file.Tensors)
        {
            var normal = NormalName(tensor.Name);
            if (!_byNormalName.ContainsKey(normal))
                _byNormalName.Add(normal, tensor);
        }
    }

    protected override WeightConvention Convention => WeightConvention.Keras;

    /// <summary>"bidirectional/forward_lstm/lstm_cell/kernel:0" → "bidirectional/forward/kernel".</summary>
    internal static string NormalName(string name)
    {
        var colon = name.LastIndexOf(':');
        if (colon > 0 && colon < name.Length - 1 && name.Substring(colon + 1).All(char.IsDigit))
            name = name.Substring(0, colon);
        var segments = name.Split('/');
        var kept = new List<string>(segments.Length);
        for (var i = 0; i < segments.Length; i++)
        {
            var segment = segments[i];
            var inner = i > 0 && i < segments.Length - 1;
            if (inner && (segment == "cell" || segment.EndsWith("_cell", StringComparison.Ordinal)))
                continue;
            if (inner && segment.StartsWith(Forward + "_", StringComparison.Ordinal))
                segment = Forward;
            else if (inner && segment.StartsWith(Backward + "_", StringComparison.Ordinal))
                segment = Backward;
            kept.Add(segment);
        }
        return string.Join("/", kept);
    }

    protected override TensorEntry? Find(string name) => _byNormalName.TryGetValue(name, out var tensor) ? tensor : null;

    protected override string FullName(string prefix, string suffix) => prefix.Length == 0 ? suffix : prefix + "/" + suffix;

    protected override bool IsUnder(string name, string prefix) =>
        prefix.Length == 0 || NormalName(name).StartsWith(prefix + "/", StringComparison.Ordinal);

    protected override string MatchingRule =>
        " (Keras names are compared without their cell segment, such as 'lstm_cell/', and without a ':0' suffix)";

    private static string[] Directions(LayerSpec spec) => spec.Bidirectional ? [Forward + "/", Backward + "/"] : [""];

    /// <summary>Whether a GRU is reset-after: as declared, else as its bias's shape says ([2, 3H] or [3H]).</summary>
    private bool ResetAfterOf(LayerPlan plan, string? prefix)
    {
        var spec = plan.Spec;
        if (spec.ArgumentLocations.Find(nameof(LayerSpec.ResetAfter)) is not null || prefix is null)
            return spec.ResetAfter;
        return Find(FullName(prefix, Directions(spec)[0] + "bias")) is not { } bias || bias.Shape.Count != 1;
    }

    protected override IEnumerable<Requirement> RequirementsOf(LayerPlan plan, string? prefix)
    {
        var spec = plan.Spec;
        switch (spec.Kind)
        {
            case LayerKind.Embedding:
                yield return new("embeddings", [spec.VocabularySize, spec.Size], "VocabularySize by EmbeddingSize");
                break;
            case LayerKind.Dense:
                yield return new("kernel", [plan.Input.Width, spec.Size], $"the {plan.Input.Width} inputs by units");
                yield return new("bias", [spec.Size], "units", "bias");
                break;
            case LayerKind.Dropout:
                break;
            default:
                var gates = RecurrentLayer.GateCount(spec.Kind);
                var columns = gates * spec.Size;
                var gateText = gates == 1 ? "hiddenSize" : $"{gates} gates x hiddenSize";
                var resetAfter = spec.Kind == LayerKind.Gru && ResetAfterOf(plan, prefix);
                foreach (var direction in Directions(spec))
                {
                    yield return new(direction + "kernel", [plan.Input.Width, columns], $"{plan.Input.Width} inputs by {gateText}");
                    yield return new(direction + "recurrent_kernel", [spec.Size, columns], $"hiddenSize by {gateText}");
                    yield return resetAfter
                        ? new(direction + "bias", [2, columns], "input and recurrent rows of 3 gates x hiddenSize: reset_after=True", direction + "bias")
                        : new(direction + "bias", [columns], spec.Kind == LayerKind.Gru ? "3 gates x hiddenSize: reset_after=False" : gateText, direction + "bias");
                    if (spec.Kind == LayerKind.Lstm && spec.Peephole)
                    {
                        yield return new(direction + "input_gate_peephole_weights", [spec.Size], "hiddenSize");
                        if (!spec.CoupledInputForget)
                            yield return new(direction + "forget_gate_peephole_weights", [spec.Size], "hiddenSize");
                        yield return new(direction + "output_gate_peephole_weights", [spec.Size], "hiddenSize");
                    }
                }
                break;
        }
    }

    protected override IReadOnlyList<string> CandidatePrefixes(LayerKind kind)
    {
        var result = new List<string>();
        foreach (var tensor in File.Tensors)
        {
            var name = NormalName(tensor.Name);
            string? prefix = kind switch
            {
                LayerKind.Embedding => Before(name, "/embeddings"),
                LayerKind.Dense => Before(name, "/kernel") is { } p && Find(p + "/recurrent_kernel") is null && !IsDirection(p) ? p : null,
                _ => Before(name, "/recurrent_kernel") is { } p ? WithoutDirection(p) : null,
            };
            if (prefix is not null && !result.Contains(prefix))
                result.Add(prefix);
        }
        return result;

        static string? Before(string name, string end) => name.EndsWith(end, StringComparison.Ordinal) ? name.Substring(0, name.Length - end.Length) : null;
        static bool IsDirection(string prefix) => prefix.EndsWith("/" + Forward, StringComparison.Ordinal) || prefix.EndsWith("/" + Backward, StringComparison.Ordinal);
        static string WithoutDirection(string prefix) => IsDirection(prefix) ? prefix.Substring(0, prefix.LastIndexOf('/')) : prefix;
    }

    protected override ImpliedLayer? Implied(LayerSpec declared, string prefix)
    {
        switch (declared.Kind)
        {
            case LayerKind.Embedding:
                return Find(FullName(prefix, "embeddings")) is { Shape.Count: 2 } table
                    ? new ImpliedLayer(declared with { VocabularySize = table.Shape[0], Size = table.Shape[1] }, 1, table)
                    : null;
            case LayerKind.Dense:
                return Find(FullName(prefix, "kernel")) is { Shape.Count: 2 } kernel
                    ? new ImpliedLayer(declared with { Size = kernel.Shape[1] }, kernel.Shape[0], kernel)
                    : null;
            case LayerKind.Dropout:
                return null;
            default:
                // A Bidirectional wrapper holds forward/ and backward/ groups; recurrent_kernel is [hidden, gates x hidden].
                var bidirectional = Find(FullName(prefix, Forward + "/recurrent_kernel")) is not null;
                var direction = bidirectional ? Forward + "/" : "";
                if (Find(FullName(prefix, direction + "recurrent_kernel")) is not { Shape.Count: 2 } recurrent
                    || Find(FullName(prefix, direction + "kernel")) is not { Shape.Count: 2 } input)
                    return null;
                var hidden = recurrent.Shape[0];
                if (hidden < 1 || recurrent.Shape[1] % hidden != 0 || RecurrentKind(recurrent.Shape[1] / hidden) is not { } kind)
                    return null;
                var peephole = Find(FullName(prefix, direction + "input_gate_peephole_weights")) is not null;
                return new ImpliedLayer(RecurrentAs(declared, kind, hidden, 1, bidirectional, peephole), input.Shape[0], input);
        }
    }

    protected override string WhatItHolds(string suffix) =>
        suffix.Contains("peephole") ? "is a peephole weight"
        : suffix.StartsWith(Backward + "/", StringComparison.Ordinal) ? "belongs to the backward direction of a Bidirectional layer"
        : "belongs to another layer";

    // ---- Conversion to the canonical layout ----

    /// <summary>Keras gate block of each canonical (PyTorch-order) gate block: GRU r, z, n ← z, r, h; LSTM
    /// i, f, g, o and SimpleRNN keep their order.</summary>
    private static int[] GateOrder(LayerKind kind) => kind switch
    {
        LayerKind.Gru => [1, 0, 2],
        LayerKind.Lstm => [0, 1, 2, 3],
        _ => [0],
    };

    /// <summary>A Keras kernel as a canonical [gates × units, inputs] tensor. Its values are the file's, rearranged
    /// by <see cref="WeightPacking.FromKeras"/>, so a large one is read from the embedded file at run time and
    /// rearranged there by the same code.</summary>
    private Tensor KernelTensor(string memberName, string prefix, string suffix, float[] kernel, int inputs, int units, LayerKind kind)
    {
        var gates = RecurrentLayer.GateCount(kind);
        var gru = kind == LayerKind.Gru;
        return FileTensor(memberName, prefix, suffix, WeightPacking.FromKeras(kernel, inputs, units, gates, gru),
            $"{Source(prefix, suffix)} (Keras layout, read as [{gates * units}, {inputs}])",
            $"global::StaticRnn.Runtime.WeightPacking.FromKeras({{0}}, {inputs}, {units}, {gates}, gruGateOrder: {(gru ? "true" : "false")})");
    }

    /// <summary>One Keras bias row (from <paramref name="offset"/>) with its gate blocks in canonical order.</summary>
    private static float[] CanonicalVector(float[] values, int offset, int hidden, int[] order)
    {
        var result = new float[order.Length * hidden];
        for (var gate = 0; gate < order.Length; gate++)
            Array.Copy(values, offset + order[gate] * hidden, result, gate * hidden, hidden);
        return result;
    }

    protected override EmbeddingLayer? BindEmbedding(LayerPlan plan, string prefix)
    {
        var values = Read(plan, prefix);
        if (values is null)
            return null;
        var table = FileTensor($"Layer{plan.Number}_Table", prefix, "embeddings", values["embeddings"]!);
        return new EmbeddingLayer(plan.Number, plan.Title, plan.Output, plan.Spec.VocabularySize, table);
    }

    protected override DenseLayer? BindDense(LayerPlan plan, string prefix)
    {
        var values = Read(plan, prefix);
        if (values is null)
            return null;
        int units = plan.Spec.Size, inputs = plan.Input.Width;
        var stem = $"Layer{plan.Number}";
        var weight = KernelTensor(stem + "_Weight", prefix, "kernel", values["kernel"]!, inputs, units, LayerKind.Dense);
        var bias = values["bias"] is { } b ? new Tensor(stem + "_Bias", Source(prefix, "bias"), b) : null;
        return new DenseLayer(plan.Number, plan.Title, plan.Input, plan.Output, plan.Spec.Activation, weight, bias);
    }

    protected override RecurrentLayer? BindRecurrent(LayerPlan plan, string prefix)
    {
        var spec = plan.Spec;
        var resetAfter = spec.Kind != LayerKind.Gru || ResetAfterOf(plan, prefix);
        if (spec.Kind == LayerKind.Gru && !GruFormAgrees(plan, prefix, resetAfter))
            return null;
        var values = Read(plan, prefix);
        if (values is null)
            return null;

        var form = new CellForm(resetAfter, spec.Kind == LayerKind.Lstm && spec.Peephole, spec.Kind == LayerKind.Lstm && spec.CoupledInputForget);
        var hidden = spec.Size;
        var order = GateOrder(spec.Kind);
        var directions = new List<RecurrentCell>();
        foreach (var direction in Directions(spec))
        {
            var backward = direction.StartsWith(Backward, StringComparison.Ordinal);
            var stem = CellStem(plan, 0, backward);
            string kernel = direction + "kernel", recurrent = direction + "recurrent_kernel", biasName = direction + "bias";
            var rows = order.Length * hidden;
            var bias = values[biasName];
            Tensor? peepholes = null;
            if (form.Peephole)
            {
                string pi = direction + "input_gate_peephole_weights", pf = direction + "forget_gate_peephole_weights", po = direction + "output_gate_peephole_weights";
                var forget = form.CoupledInputForget ? null : values[pf];
                peepholes = new Tensor(stem + "_Peepholes",
                    $"{Source(prefix, pi)}, {(forget is null ? "no forget peephole (f = 1 - i)" : Source(prefix, pf))}, {Source(prefix, po)}",
                    PeepholeVector(hidden, values[pi]!, forget, values[po]!));
            }
            var biasSource = bias is null ? "" : Source(prefix, biasName) + (resetAfter && spec.Kind == LayerKind.Gru ? " rows 0 + 1" : "");
            directions.Add(MakeCell(plan, form, 0, backward, new CanonicalCell(
                KernelTensor(stem + "_Wx", prefix, kernel, values[kernel]!, plan.Input.Width, hidden, spec.Kind),
                KernelTensor(stem + "_Wh", prefix, recurrent, values[recurrent]!, hidden, hidden, spec.Kind),
                bias is null ? null : CanonicalVector(bias, 0, hidden, order),
                bias is not null && spec.Kind == LayerKind.Gru && resetAfter ? CanonicalVector(bias, rows, hidden, order) : null,
                biasSource,
                bias is null ? "" : Source(prefix, biasName) + " row 1, h block",
                peepholes)));
        }
        return NewRecurrentLayer(plan, form, [directions]);
    }

    /// <summary>Reports a declared ResetAfter that the file's GRU bias contradicts.</summary>
    private bool GruFormAgrees(LayerPlan plan, string prefix, bool resetAfter)
    {
        foreach (var direction in Directions(plan.Spec))
        {
            if (Find(FullName(prefix, direction + "bias")) is not { } bias)
                continue;
            var fileResetAfter = bias.Shape.Count != 1;
            if (fileResetAfter == resetAfter || (bias.Shape.Count > 2))
                continue;   // agrees, or fits neither form: the shape check says so
            Diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.GruFormDisagrees, plan.Spec.LocationOf(nameof(LayerSpec.ResetAfter)),
                plan.DisplayName, resetAfter ? "true" : "false", bias.Name, ShapeText(bias.Shape),
                fileResetAfter ? "True" : "False", fileResetAfter ? "true" : "false"));
            return false;
        }
        return true;
    }
}
