using System;
using System.Collections.Generic;
using System.Linq;
using StaticRnn.Generators.Diagnostics;
using StaticRnn.Generators.Parsing;
using StaticRnn.Generators.Weights;

namespace StaticRnn.Generators.Model;

/// <summary>Binds a file written from a PyTorch <c>state_dict</c>: its layouts are already canonical.</summary>
/// <remarks>
/// Names: <c>{prefix}.weight_ih_l{k}[_reverse]</c>, <c>weight_hh_</c>, <c>bias_ih_</c>, <c>bias_hh_</c> for
/// nn.RNN/LSTM/GRU; <c>{prefix}.weight</c> and <c>{prefix}.bias</c> for nn.Linear; <c>{prefix}.weight</c> for
/// nn.Embedding. Biases may be absent together (<c>bias=False</c>); they are then zero. PyTorch has no peephole
/// LSTM; a file for one adds <c>{prefix}.peephole_i_l{k}[_reverse]</c>, <c>peephole_f_</c> and <c>peephole_o_</c>,
/// each [hidden]. A reset-before GRU (<c>ResetAfter = false</c>) and a coupled LSTM read nn.GRU's and
/// nn.LSTM's tensors (the coupled cell ignores the forget-gate rows).
/// </remarks>
internal sealed class PyTorchWeightBinder(ModelSpec spec, WeightFile file, List<DiagnosticInfo> diagnostics)
    : WeightBinder(spec, file, diagnostics)
{
    private const string RecurrentMarker = "weight_ih_l0";

    protected override WeightConvention Convention => WeightConvention.PyTorch;

    protected override IEnumerable<Requirement> RequirementsOf(LayerPlan plan, string? prefix)
    {
        var spec = plan.Spec;
        switch (spec.Kind)
        {
            case LayerKind.Embedding:
                yield return new("weight", [spec.VocabularySize, spec.Size], "VocabularySize by EmbeddingSize");
                break;
            case LayerKind.Dense:
                yield return new("weight", [spec.Size, plan.Input.Width], $"units by the {plan.Input.Width} inputs");
                yield return new("bias", [spec.Size], "units", "bias");
                break;
            case LayerKind.Dropout:
                break;
            default:
                var gates = RecurrentLayer.GateCount(spec.Kind);
                var rows = gates * spec.Size;
                var gateText = gates == 1 ? "hiddenSize" : $"{gates} gates x hiddenSize";
                var peephole = spec.Kind == LayerKind.Lstm && spec.Peephole;
                for (var k = 0; k < spec.Layers; k++)
                {
                    var inputWidth = k == 0 ? plan.Input.Width : spec.Size * (spec.Bidirectional ? 2 : 1);
                    foreach (var suffix in DirectionSuffixes(spec))
                    {
                        yield return new($"weight_ih_l{k}{suffix}", [rows, inputWidth], $"{gateText} by {inputWidth} inputs");
                        yield return new($"weight_hh_l{k}{suffix}", [rows, spec.Size], $"{gateText} by hiddenSize");
                        yield return new($"bias_ih_l{k}{suffix}", [rows], gateText, $"bias_l{k}{suffix}");
                        yield return new($"bias_hh_l{k}{suffix}", [rows], gateText, $"bias_l{k}{suffix}");
                        if (peephole)
                        {
                            yield return new($"peephole_i_l{k}{suffix}", [spec.Size], "hiddenSize: the input gate's peephole");
                            // A coupled cell computes f = 1 - i: a forget peephole, if the file has one, is unused.
                            if (!spec.CoupledInputForget)
                                yield return new($"peephole_f_l{k}{suffix}", [spec.Size], "hiddenSize: the forget gate's peephole");
                            yield return new($"peephole_o_l{k}{suffix}", [spec.Size], "hiddenSize: the output gate's peephole");
                        }
                    }
                }
                break;
        }
    }

    private static string[] DirectionSuffixes(LayerSpec spec) => spec.Bidirectional ? ["", "_reverse"] : [""];

    protected override string FullName(string prefix, string suffix) => prefix.Length == 0 ? suffix : prefix + "." + suffix;

    protected override bool IsUnder(string name, string prefix) =>
        prefix.Length == 0 || name.StartsWith(prefix + ".", StringComparison.Ordinal);

    protected override IReadOnlyList<string> CandidatePrefixes(LayerKind kind)
    {
        var marker = kind is LayerKind.Dense or LayerKind.Embedding ? "weight" : RecurrentMarker;
        var result = new List<string>();
        foreach (var tensor in File.Tensors)
        {
            var name = tensor.Name;
            string? prefix = name == marker ? ""
                : name.EndsWith("." + marker, StringComparison.Ordinal) ? name.Substring(0, name.Length - marker.Length - 1)
                : null;
            if (prefix is not null && !result.Contains(prefix))
                result.Add(prefix);
        }
        return result;
    }

    protected override ImpliedLayer? Implied(LayerSpec declared, string prefix)
    {
        switch (declared.Kind)
        {
            case LayerKind.Embedding:
                return Find(FullName(prefix, "weight")) is { Shape.Count: 2 } table
                    ? new ImpliedLayer(declared with { VocabularySize = table.Shape[0], Size = table.Shape[1] }, 1, table)
                    : null;
            case LayerKind.Dense:
                return Find(FullName(prefix, "weight")) is { Shape.Count: 2 } weight
                    ? new ImpliedLayer(declared with { Size = weight.Shape[0] }, weight.Shape[1], weight)
                    : null;
            case LayerKind.Dropout:
                return null;
            default:
                // weight_hh_l0 is [gates x hidden, hidden]: it gives the size and the cell.
                if (Find(FullName(prefix, "weight_hh_l0")) is not { Shape.Count: 2 } recurrent
                    || Find(FullName(prefix, "weight_ih_l0")) is not { Shape.Count: 2 } input)
                    return null;
                var hidden = recurrent.Shape[1];
                if (hidden < 1 || recurrent.Shape[0] % hidden != 0 || RecurrentKind(recurrent.Shape[0] / hidden) is not { } kind)
                    return null;
                var layers = 1;
                while (layers < 64 && Find(FullName(prefix, $"weight_hh_l{layers}")) is not null)
                    layers++;
                var bidirectional = Find(FullName(prefix, "weight_hh_l0_reverse")) is not null;
                var peephole = Find(FullName(prefix, "peephole_i_l0")) is not null;
                return new ImpliedLayer(RecurrentAs(declared, kind, hidden, layers, bidirectional, peephole), input.Shape[1], input);
        }
    }

    protected override string WhatItHolds(string suffix) =>
        suffix.StartsWith("peephole_", StringComparison.Ordinal) ? "is a peephole weight"
        : suffix.EndsWith("_reverse", StringComparison.Ordinal) ? "belongs to the backward direction of a bidirectional layer"
        : "belongs to a further stacked layer";

    protected override EmbeddingLayer? BindEmbedding(LayerPlan plan, string prefix)
    {
        var values = Read(plan, prefix);
        if (values is null)
            return null;
        var table = FileTensor($"Layer{plan.Number}_Table", prefix, "weight", values["weight"]!);
        return new EmbeddingLayer(plan.Number, plan.Title, plan.Output, plan.Spec.VocabularySize, table);
    }

    protected override DenseLayer? BindDense(LayerPlan plan, string prefix)
    {
        var values = Read(plan, prefix);
        if (values is null)
            return null;
        var stem = $"Layer{plan.Number}";
        var weight = FileTensor(stem + "_Weight", prefix, "weight", values["weight"]!);
        var bias = values["bias"] is { } b ? new Tensor(stem + "_Bias", Source(prefix, "bias"), b) : null;
        return new DenseLayer(plan.Number, plan.Title, plan.Input, plan.Output, plan.Spec.Activation, weight, bias);
    }

    protected override RecurrentLayer? BindRecurrent(LayerPlan plan, string prefix)
    {
        var values = Read(plan, prefix);
        if (values is null)
            return null;
        var spec = plan.Spec;
        var form = new CellForm(spec.ResetAfter, spec.Kind == LayerKind.Lstm && spec.Peephole, spec.Kind == LayerKind.Lstm && spec.CoupledInputForget);
        var stack = new List<IReadOnlyList<RecurrentCell>>();
        for (var k = 0; k < spec.Layers; k++)
        {
            var directions = new List<RecurrentCell>();
            foreach (var suffix in DirectionSuffixes(spec))
            {
                var backward = suffix.Length > 0;
                var stem = CellStem(plan, k, backward);
                string ih = $"weight_ih_l{k}{suffix}", hh = $"weight_hh_l{k}{suffix}";
                string bih = $"bias_ih_l{k}{suffix}", bhh = $"bias_hh_l{k}{suffix}";
                Tensor? peepholes = null;
                if (form.Peephole)
                {
                    string pi = $"peephole_i_l{k}{suffix}", pf = $"peephole_f_l{k}{suffix}", po = $"peephole_o_l{k}{suffix}";
                    var forget = form.CoupledInputForget ? null : values[pf];
                    peepholes = new Tensor(stem + "_Peepholes",
                        $"{Source(prefix, pi)}, {(forget is null ? "no forget peephole (f = 1 - i)" : Source(prefix, pf))}, {Source(prefix, po)}",
                        PeepholeVector(spec.Size, values[pi]!, forget, values[po]!));
                }
                directions.Add(MakeCell(plan, form, k, backward, new CanonicalCell(
                    FileTensor(stem + "_Wx", prefix, ih, values[ih]!),
                    FileTensor(stem + "_Wh", prefix, hh, values[hh]!),
                    values[bih],
                    values[bhh],
                    $"{FullName(prefix, bih)} + {FullName(prefix, bhh)}",
                    $"{FullName(prefix, bhh)} (n block)",
                    peepholes)));
            }
            stack.Add(directions);
        }
        return NewRecurrentLayer(plan, form, stack);
    }
}
