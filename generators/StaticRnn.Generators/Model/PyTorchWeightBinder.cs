using System;
using System.Collections.Generic;
using System.Linq;
using StaticRnn.Generators.Diagnostics;
using StaticRnn.Generators.Parsing;
using StaticRnn.Generators.Weights;

namespace StaticRnn.Generators.Model;

/// <summary>Finds each layer's tensors in a file written from a PyTorch <c>state_dict</c>, checks their shapes
/// against the declared sizes, and packs them the way the generated code reads them.</summary>
/// <remarks>
/// Names: <c>{prefix}.weight_ih_l{k}[_reverse]</c>, <c>weight_hh_</c>, <c>bias_ih_</c>, <c>bias_hh_</c> for
/// nn.RNN/LSTM/GRU; <c>{prefix}.weight</c> and <c>{prefix}.bias</c> for nn.Linear; <c>{prefix}.weight</c> for
/// nn.Embedding. Biases may be absent together (<c>bias=False</c>); they are then zero.
/// </remarks>
internal sealed class PyTorchWeightBinder
{
    private const string RecurrentMarker = "weight_ih_l0";

    private readonly WeightFile _file;
    private readonly List<DiagnosticInfo> _diagnostics;

    public PyTorchWeightBinder(WeightFile file, List<DiagnosticInfo> diagnostics)
    {
        _file = file;
        _diagnostics = diagnostics;
    }

    /// <summary>Binds every layer, or returns null after reporting why not.</summary>
    public IReadOnlyList<NetworkLayer>? Bind(IReadOnlyList<LayerPlan> plans)
    {
        var prefixes = ResolvePrefixes(plans, out var ok);

        // Bind every layer whose prefix is known, so the errors of all layers are reported together.
        var layers = new List<NetworkLayer>();
        foreach (var plan in plans)
        {
            var prefix = prefixes[plan.Number - 1];
            if (prefix is null && plan.Spec.Kind != LayerKind.Dropout)
                continue;
            NetworkLayer? layer = plan.Spec.Kind switch
            {
                LayerKind.Dropout => new DropoutLayer(plan.Number, plan.Title, plan.Input),
                LayerKind.Embedding => BindEmbedding(plan, prefix!),
                LayerKind.Dense => BindDense(plan, prefix!),
                _ => BindRecurrent(plan, prefix!),
            };
            if (layer is null)
                ok = false;
            else
                layers.Add(layer);
        }
        return ok ? layers : null;
    }

    // ---- Which tensors a layer needs ----

    /// <summary>One tensor a layer needs, by its name after the prefix. Tensors of one optional group must be
    /// present or absent together.</summary>
    private sealed record Requirement(string Suffix, int[] Shape, string Meaning, string? OptionalGroup = null);

    private static IEnumerable<Requirement> RequirementsOf(LayerPlan plan)
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
                for (var k = 0; k < spec.Layers; k++)
                {
                    var inputWidth = k == 0 ? plan.Input.Width : spec.Size * (spec.Bidirectional ? 2 : 1);
                    foreach (var suffix in DirectionSuffixes(spec))
                    {
                        yield return new($"weight_ih_l{k}{suffix}", [rows, inputWidth], $"{gateText} by {inputWidth} inputs");
                        yield return new($"weight_hh_l{k}{suffix}", [rows, spec.Size], $"{gateText} by hiddenSize");
                        yield return new($"bias_ih_l{k}{suffix}", [rows], gateText, $"bias_l{k}{suffix}");
                        yield return new($"bias_hh_l{k}{suffix}", [rows], gateText, $"bias_l{k}{suffix}");
                    }
                }
                break;
        }
    }

    private static string[] DirectionSuffixes(LayerSpec spec) => spec.Bidirectional ? ["", "_reverse"] : [""];

    private static string FullName(string prefix, string suffix) => prefix.Length == 0 ? suffix : prefix + "." + suffix;

    private static string ShapeText(IReadOnlyList<int> shape) => "[" + string.Join(", ", shape) + "]";

    private static string PrefixText(string prefix) => prefix.Length == 0 ? "\"\" (no prefix)" : "\"" + prefix + "\"";

    // ---- Choosing each layer's prefix ----

    private string?[] ResolvePrefixes(IReadOnlyList<LayerPlan> plans, out bool ok)
    {
        var prefixes = new string?[plans.Count];
        var claimed = new HashSet<string>(StringComparer.Ordinal);
        ok = true;

        // Named prefixes first, so that a layer without one chooses among the groups nobody named.
        foreach (var plan in plans)
        {
            if (plan.Spec.Kind == LayerKind.Dropout || plan.Spec.Weights is not { } named)
                continue;
            if (!_file.Tensors.Any(t => named.Length == 0 || t.Name.StartsWith(named + ".", StringComparison.Ordinal)))
            {
                _diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.WeightsPrefixUnknown, plan.Spec.LocationOf("Weights"),
                    plan.DisplayName, named, CandidateList(CandidatePrefixes(plan.Spec.Kind))));
                ok = false;
                continue;
            }
            prefixes[plan.Number - 1] = named;
            claimed.Add(named);
        }

        foreach (var plan in plans)
        {
            if (plan.Spec.Kind == LayerKind.Dropout || plan.Spec.Weights is not null)
                continue;
            var candidates = CandidatePrefixes(plan.Spec.Kind).Where(p => !claimed.Contains(p)).ToList();
            var fitting = candidates.Where(p => Fits(plan, p)).ToList();
            if (fitting.Count == 1)
            {
                prefixes[plan.Number - 1] = fitting[0];
                claimed.Add(fitting[0]);
                continue;
            }
            ok = false;
            var location = plan.Spec.Location;
            if (fitting.Count == 0)
            {
                var expected = string.Join(", ", RequirementsOf(plan).Where(r => r.OptionalGroup is null)
                    .Select(r => $"'<prefix>.{r.Suffix}' {ShapeText(r.Shape)}"));
                var found = candidates.Count == 0 ? "none" : string.Join("; ", candidates.Select(p => DescribeGroup(plan, p)));
                _diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.WeightsNotFound, location, plan.DisplayName, expected, found));
            }
            else
            {
                _diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.WeightsPrefixAmbiguous, location,
                    plan.DisplayName, fitting.Count, CandidateList(fitting)));
            }
        }
        return prefixes;
    }

    /// <summary>Prefixes of the tensor groups that look like this kind of layer, in file order.</summary>
    private IReadOnlyList<string> CandidatePrefixes(LayerKind kind)
    {
        var marker = kind is LayerKind.Dense or LayerKind.Embedding ? "weight" : RecurrentMarker;
        var result = new List<string>();
        foreach (var tensor in _file.Tensors)
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

    private static string CandidateList(IEnumerable<string> prefixes)
    {
        var list = prefixes.Select(PrefixText).ToList();
        return list.Count == 0 ? "(none: the file has no tensor group of this layer's kind)" : string.Join(", ", list);
    }

    private bool Fits(LayerPlan plan, string prefix)
    {
        var presentGroups = new Dictionary<string, int>();
        var groupSizes = new Dictionary<string, int>();
        foreach (var requirement in RequirementsOf(plan))
        {
            var tensor = _file.Find(FullName(prefix, requirement.Suffix));
            if (requirement.OptionalGroup is { } group)
            {
                groupSizes[group] = groupSizes.TryGetValue(group, out var n) ? n + 1 : 1;
                if (tensor is null)
                    continue;
                presentGroups[group] = presentGroups.TryGetValue(group, out var m) ? m + 1 : 1;
            }
            if (tensor is null || !tensor.Shape.SequenceEqual(requirement.Shape))
                return false;
        }
        return presentGroups.All(g => g.Value == groupSizes[g.Key]);
    }

    private string DescribeGroup(LayerPlan plan, string prefix)
    {
        var parts = RequirementsOf(plan)
            .Where(r => r.OptionalGroup is null)
            .Select(r => (Name: FullName(prefix, r.Suffix), Tensor: _file.Find(FullName(prefix, r.Suffix))))
            .Select(x => x.Tensor is null ? $"'{x.Name}' missing" : $"'{x.Name}' {ShapeText(x.Tensor.Shape)}");
        return PrefixText(prefix) + " with " + string.Join(", ", parts);
    }

    // ---- Reading and packing ----

    /// <summary>Reads the tensors a layer needs under <paramref name="prefix"/>; reports each one that is
    /// missing or misshapen. Absent optional groups read as null.</summary>
    private Dictionary<string, float[]?>? Read(LayerPlan plan, string prefix)
    {
        var values = new Dictionary<string, float[]?>(StringComparer.Ordinal);
        var requirements = RequirementsOf(plan).ToList();
        var ok = true;
        foreach (var requirement in requirements)
        {
            var name = FullName(prefix, requirement.Suffix);
            var tensor = _file.Find(name);
            if (tensor is null)
            {
                var partners = requirement.OptionalGroup is { } group
                    ? requirements.Where(r => r.OptionalGroup == group && _file.Find(FullName(prefix, r.Suffix)) is not null).ToList()
                    : null;
                if (partners is { Count: 0 })
                {
                    values[requirement.Suffix] = null;   // the whole optional group is absent: no bias
                    continue;
                }
                var hint = partners is { Count: > 0 }
                    ? $" ('{FullName(prefix, partners[0].Suffix)}' is present; PyTorch writes both biases or neither)"
                    : SimilarNames(prefix);
                _diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.TensorMissing, plan.Spec.LocationOf("Weights"),
                    plan.DisplayName, name, ShapeText(requirement.Shape), hint));
                ok = false;
                continue;
            }
            if (!tensor.Shape.SequenceEqual(requirement.Shape))
            {
                _diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.TensorShapeMismatch, plan.Spec.LocationOf("Weights"),
                    plan.DisplayName, name, ShapeText(requirement.Shape), requirement.Meaning, ShapeText(tensor.Shape)));
                ok = false;
                continue;
            }
            values[requirement.Suffix] = _file.ReadFloat32(tensor);
        }
        return ok ? values : null;
    }

    private string SimilarNames(string prefix)
    {
        var names = _file.Tensors.Select(t => t.Name)
            .Where(n => prefix.Length == 0 || n.StartsWith(prefix + ".", StringComparison.Ordinal))
            .Take(8)
            .Select(n => "'" + n + "'")
            .ToList();
        return names.Count == 0 ? "" : "; tensors under that prefix: " + string.Join(", ", names);
    }

    private string Source(string prefix, string suffix)
    {
        var name = FullName(prefix, suffix);
        return name + " " + ShapeText(_file.Find(name)!.Shape);
    }

    /// <summary>A tensor whose values are exactly the file's tensor <paramref name="suffix"/>.</summary>
    private Tensor FileTensor(string memberName, string prefix, string suffix, float[] values)
    {
        var entry = _file.Find(FullName(prefix, suffix))!;
        return new Tensor(memberName, Source(prefix, suffix), values, new FileSlice(entry.DataOffset, entry.ElementCount, entry.DType.ToString()));
    }

    private EmbeddingLayer? BindEmbedding(LayerPlan plan, string prefix)
    {
        var values = Read(plan, prefix);
        if (values is null)
            return null;
        var table = FileTensor($"Layer{plan.Number}_Table", prefix, "weight", values["weight"]!);
        return new EmbeddingLayer(plan.Number, plan.Title, plan.Output, plan.Spec.VocabularySize, table);
    }

    private DenseLayer? BindDense(LayerPlan plan, string prefix)
    {
        var values = Read(plan, prefix);
        if (values is null)
            return null;
        var stem = $"Layer{plan.Number}";
        var weight = FileTensor(stem + "_Weight", prefix, "weight", values["weight"]!);
        var bias = values["bias"] is { } b ? new Tensor(stem + "_Bias", Source(prefix, "bias"), b) : null;
        return new DenseLayer(plan.Number, plan.Title, plan.Input, plan.Output, plan.Spec.Activation, weight, bias);
    }

    private RecurrentLayer? BindRecurrent(LayerPlan plan, string prefix)
    {
        var values = Read(plan, prefix);
        if (values is null)
            return null;
        var spec = plan.Spec;
        var hidden = spec.Size;
        var stack = new List<IReadOnlyList<RecurrentCell>>();
        for (var k = 0; k < spec.Layers; k++)
        {
            var directions = new List<RecurrentCell>();
            foreach (var suffix in DirectionSuffixes(spec))
            {
                var stem = $"Layer{plan.Number}"
                    + (spec.Layers > 1 ? $"_L{k}" : "")
                    + (spec.Bidirectional ? (suffix.Length == 0 ? "_Forward" : "_Backward") : "");
                string ih = $"weight_ih_l{k}{suffix}", hh = $"weight_hh_l{k}{suffix}";
                string bih = $"bias_ih_l{k}{suffix}", bhh = $"bias_hh_l{k}{suffix}";
                var rows = RecurrentLayer.GateCount(spec.Kind) * hidden;
                var inputBias = values[bih] ?? new float[rows];
                var recurrentBias = values[bhh] ?? new float[rows];
                var biasSource = values[bih] is null ? "zero (the file has no biases)" : $"{FullName(prefix, bih)} + {FullName(prefix, bhh)}";

                // GRU: r and z take both biases summed; the candidate's recurrent bias b_hn sits inside r * (W_hn h + b_hn).
                var summedRows = spec.Kind == LayerKind.Gru ? 2 * hidden : rows;
                var bias = new float[rows];
                for (var i = 0; i < rows; i++)
                    bias[i] = i < summedRows ? (float)((double)inputBias[i] + recurrentBias[i]) : inputBias[i];
                Tensor? hiddenBias = null;
                if (spec.Kind == LayerKind.Gru)
                {
                    var hn = new float[hidden];
                    Array.Copy(recurrentBias, 2 * hidden, hn, 0, hidden);
                    hiddenBias = new Tensor(stem + "_HiddenBias", values[bhh] is null ? "zero" : $"{FullName(prefix, bhh)} (n block)", hn);
                }

                directions.Add(new RecurrentCell(
                    stem,
                    k,
                    suffix.Length > 0,
                    k == 0 ? plan.Input.Width : hidden * (spec.Bidirectional ? 2 : 1),
                    FileTensor(stem + "_Wx", prefix, ih, values[ih]!),
                    FileTensor(stem + "_Wh", prefix, hh, values[hh]!),
                    new Tensor(stem + "_Bias", biasSource, bias),
                    hiddenBias));
            }
            stack.Add(directions);
        }
        return new RecurrentLayer(plan.Number, plan.Title, plan.Input, plan.Output, spec.Kind, hidden, spec.Activation,
            spec.Bidirectional, spec.ReturnSequences, spec.MergeMode, stack);
    }
}
