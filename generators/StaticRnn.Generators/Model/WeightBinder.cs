using System;
using System.Collections.Generic;
using System.Linq;
using StaticRnn.Generators.Common;
using StaticRnn.Generators.Diagnostics;
using StaticRnn.Generators.Parsing;
using StaticRnn.Generators.Weights;

namespace StaticRnn.Generators.Model;

/// <summary>Finds each layer's tensors in a weight file, checks their shapes against the declared sizes, and
/// converts them to the canonical (PyTorch) layout the emitters pack. What is common to every naming
/// convention lives here: choosing each layer's prefix, reading and checking tensors, and assembling a cell's
/// biases; <see cref="PyTorchWeightBinder"/> and <see cref="KerasWeightBinder"/> say what the tensors are
/// called, what shapes they have, and how they convert.</summary>
internal abstract class WeightBinder
{
    protected WeightBinder(ModelSpec spec, WeightFile file, List<DiagnosticInfo> diagnostics)
    {
        Spec = spec;
        File = file;
        Diagnostics = diagnostics;
    }

    protected ModelSpec Spec { get; }
    protected WeightFile File { get; }
    protected List<DiagnosticInfo> Diagnostics { get; }

    public static WeightBinder For(ModelSpec spec, WeightFile file, List<DiagnosticInfo> diagnostics) => spec.Convention switch
    {
        WeightConvention.Keras => new KerasWeightBinder(spec, file, diagnostics),
        _ => new PyTorchWeightBinder(spec, file, diagnostics),
    };

    /// <summary>Binds every layer, or returns null after reporting why not.</summary>
    public IReadOnlyList<NetworkLayer>? Bind(IReadOnlyList<LayerPlan> plans)
    {
        if (ReportForeignConvention())
            return null;

        var prefixes = ResolvePrefixes(plans, out var ok);

        // Bind every layer whose prefix is known, so the errors of all layers are reported together.
        var layers = new List<NetworkLayer>();
        for (var i = 0; i < plans.Count; i++)
        {
            var plan = plans[i];
            var prefix = prefixes[i];
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

    // ---- What each convention defines ----

    /// <summary>The convention's name in messages and in <c>WeightConvention</c>.</summary>
    protected abstract WeightConvention Convention { get; }

    /// <summary>One tensor a layer needs, by its name after the prefix. Tensors of one optional group must be
    /// present or absent together.</summary>
    protected sealed record Requirement(string Suffix, int[] Shape, string Meaning, string? OptionalGroup = null);

    /// <summary>The tensors <paramref name="plan"/> needs under <paramref name="prefix"/> (null: any prefix, for messages).</summary>
    protected abstract IEnumerable<Requirement> RequirementsOf(LayerPlan plan, string? prefix);

    /// <summary>The tensor name of <paramref name="suffix"/> under <paramref name="prefix"/>.</summary>
    protected abstract string FullName(string prefix, string suffix);

    /// <summary>Prefixes of the tensor groups that look like this kind of layer, in file order.</summary>
    protected abstract IReadOnlyList<string> CandidatePrefixes(LayerKind kind);

    /// <summary>The tensor a full name (as <see cref="FullName"/> forms it) stands for, or null.</summary>
    protected virtual TensorEntry? Find(string name) => File.Find(name);

    /// <summary>Whether the tensor called <paramref name="name"/> (as the file spells it) lies under <paramref name="prefix"/>.</summary>
    protected abstract bool IsUnder(string name, string prefix);

    /// <summary>How the convention matches names, for hints; empty when names match as spelled.</summary>
    protected virtual string MatchingRule => "";

    private bool HasPrefix(string prefix) => File.Tensors.Any(t => IsUnder(t.Name, prefix));

    /// <summary>Which convention a tensor name belongs to, judged by its form alone; null when it could be any.</summary>
    internal static WeightConvention? ConventionOfName(string name)
    {
        var last = name.Substring(name.LastIndexOfAny(['.', '/']) + 1);
        var colon = last.IndexOf(':');
        if (colon >= 0)
            last = last.Substring(0, colon);
        if (name.Contains('/') && last is "kernel" or "recurrent_kernel" or "embeddings")
            return WeightConvention.Keras;
        if (!name.Contains('/') && (last.StartsWith("weight_ih_l", StringComparison.Ordinal) || last.StartsWith("weight_hh_l", StringComparison.Ordinal)
            || (name.Contains('.') && last is "weight")))
            return WeightConvention.PyTorch;
        return null;
    }

    /// <summary>Reports a file none of whose names fit the declared convention but some fit another: binding
    /// it would only list every tensor as missing.</summary>
    /// <summary>A tensor name of another convention, when none of the file's names fits the declared one.</summary>
    private (string Name, WeightConvention? Convention)? ForeignConventionExample()
    {
        var conventions = File.Tensors.Select(t => (t.Name, Convention: ConventionOfName(t.Name))).Where(t => t.Convention is not null).ToList();
        return conventions.Count == 0 || conventions.Any(t => t.Convention == Convention) ? null : conventions[0];
    }

    private bool ReportForeignConvention()
    {
        if (ForeignConventionExample() is not { } example)
            return false;
        Diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ForeignConvention, Spec.LocationOf("Convention"),
            Spec.WeightsPath, example.Convention!.Value, example.Name, Convention));
        return true;
    }

    protected abstract EmbeddingLayer? BindEmbedding(LayerPlan plan, string prefix);
    protected abstract DenseLayer? BindDense(LayerPlan plan, string prefix);
    protected abstract RecurrentLayer? BindRecurrent(LayerPlan plan, string prefix);

    // ---- Choosing each layer's prefix ----

    protected static string ShapeText(IReadOnlyList<int> shape) => "[" + string.Join(", ", shape) + "]";

    private static string PrefixText(string prefix) => prefix.Length == 0 ? "\"\" (no prefix)" : "\"" + prefix + "\"";

    private string?[] ResolvePrefixes(IReadOnlyList<LayerPlan> plans, out bool ok)
    {
        var prefixes = new string?[plans.Count];
        var claimed = new HashSet<string>(StringComparer.Ordinal);
        ok = true;

        // Named prefixes first, so that a layer without one chooses among the groups nobody named.
        for (var i = 0; i < plans.Count; i++)
        {
            var plan = plans[i];
            if (plan.Spec.Kind == LayerKind.Dropout || plan.Spec.Weights is not { } named)
                continue;
            if (!HasPrefix(named))
            {
                Diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.WeightsPrefixUnknown, plan.Spec.LocationOf("Weights"),
                    plan.DisplayName, named, CandidateList(CandidatePrefixes(plan.Spec.Kind))));
                ok = false;
                continue;
            }
            prefixes[i] = named;
            claimed.Add(named);
        }

        for (var i = 0; i < plans.Count; i++)
        {
            var plan = plans[i];
            if (plan.Spec.Kind == LayerKind.Dropout || plan.Spec.Weights is not null)
                continue;
            var candidates = CandidatePrefixes(plan.Spec.Kind).Where(p => !claimed.Contains(p)).ToList();
            var fitting = candidates.Where(p => Fits(plan, p)).ToList();
            if (fitting.Count == 1)
            {
                prefixes[i] = fitting[0];
                claimed.Add(fitting[0]);
                continue;
            }
            ok = false;
            var location = plan.Spec.Location;
            if (fitting.Count == 0)
            {
                var expected = string.Join(", ", RequirementsOf(plan, null).Where(r => r.OptionalGroup is null)
                    .Select(r => $"'{FullName("<prefix>", r.Suffix)}' {ShapeText(r.Shape)}"));
                var found = candidates.Count == 0 ? "none" : string.Join("; ", candidates.Select(p => DescribeGroup(plan, p)));
                Diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.WeightsNotFound, location, plan.DisplayName, expected, found, ""));
            }
            else
            {
                Diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.WeightsPrefixAmbiguous, location,
                    plan.DisplayName, fitting.Count, CandidateList(fitting)));
            }
        }
        return prefixes;
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
        foreach (var requirement in RequirementsOf(plan, prefix))
        {
            var tensor = Find(FullName(prefix, requirement.Suffix));
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
        var parts = RequirementsOf(plan, prefix)
            .Where(r => r.OptionalGroup is null)
            .Select(r => (Name: FullName(prefix, r.Suffix), Tensor: Find(FullName(prefix, r.Suffix))))
            .Select(x => x.Tensor is null ? $"'{x.Name}' missing" : $"'{x.Tensor.Name}' {ShapeText(x.Tensor.Shape)}");
        return PrefixText(prefix) + " with " + string.Join(", ", parts);
    }

    // ---- What the file implies, for errors that say the fix ----

    /// <summary>A layer as the tensors under a prefix describe it: the declaration with every size and structural
    /// option the file settles replaced (the rest, such as a head's activation, as declared), and the tensor of its
    /// input weights, which says how many inputs it takes.</summary>
    internal sealed record ImpliedLayer(LayerSpec Spec, int InputWidth, TensorEntry InputWeights);

    /// <summary>What the tensors under <paramref name="prefix"/> say a layer of <paramref name="declared"/>'s family
    /// is; null when they are not such a layer's.</summary>
    protected abstract ImpliedLayer? Implied(LayerSpec declared, string prefix);

    /// <summary>The recurrent kind with this many gates.</summary>
    protected static LayerKind? RecurrentKind(int gates) => gates switch
    {
        4 => LayerKind.Lstm,
        3 => LayerKind.Gru,
        1 => LayerKind.SimpleRnn,
        _ => null,
    };

    /// <summary>A recurrent declaration with what the file settles replaced: the cell, its size and the structure.</summary>
    protected static LayerSpec RecurrentAs(LayerSpec declared, LayerKind kind, int hidden, int layers, bool bidirectional, bool peephole) =>
        declared with
        {
            Kind = kind,
            Size = hidden,
            Layers = layers,
            Bidirectional = bidirectional,
            Peephole = kind == LayerKind.Lstm && peephole,
            CoupledInputForget = kind == LayerKind.Lstm && declared.CoupledInputForget,
            // Tanh is the default of an Elman RNN; the file cannot say which nonlinearity one was trained with.
            Activation = kind == LayerKind.SimpleRnn && declared.Kind != LayerKind.SimpleRnn ? Activation.Tanh : declared.Activation,
        };

    /// <summary>The declaration as the weight file describes it, each layer read from the tensor group its
    /// <c>Weights</c> names or the one group that can be its own; layers without such a group stay as declared.
    /// Null when the tensor names follow another convention.</summary>
    public ImpliedDeclaration? ImplyDeclaration()
    {
        if (ForeignConventionExample() is not null)
            return null;
        var layers = Spec.Layers.ToArray();
        var prefixes = new string?[layers.Length];
        var claimed = new HashSet<string>(layers.Where(l => l.Kind != LayerKind.Dropout && l.Weights is not null && HasPrefix(l.Weights)).Select(l => l.Weights!), StringComparer.Ordinal);
        var takesTokens = layers.Length > 0 && layers[0].Kind == LayerKind.Embedding;
        var inputSize = Spec.InputSize is >= 1 and <= ShapeChecker.MaxDimension ? Spec.InputSize : null;
        var flow = new Flow(true, takesTokens ? 1 : inputSize ?? 0);
        ImpliedLayer? first = null;
        for (var i = 0; i < layers.Length; i++)
        {
            var layer = layers[i];
            if (layer.Kind != LayerKind.Dropout)
            {
                var prefix = layer.Weights is { } named ? (HasPrefix(named) ? named : null) : ChoosePrefix(layer, i + 1, flow, claimed);
                var isFirst = !takesTokens && !layers.Take(i).Any(l => l.Kind != LayerKind.Dropout);
                if (prefix is not null && Implied(layer, prefix) is { } implied)
                {
                    if (isFirst)
                    {
                        first = implied;
                        inputSize = implied.InputWidth;
                        flow = new Flow(true, implied.InputWidth);
                    }
                    layers[i] = implied.Spec;
                    prefixes[i] = prefix;
                    claimed.Add(prefix);
                }
            }
            flow = ShapeChecker.OutputOf(layers[i], flow);
        }
        return new ImpliedDeclaration(Spec with { Layers = layers.ToEquatableArray(), InputSize = takesTokens ? Spec.InputSize : inputSize }, prefixes, first);
    }

    /// <summary>The one unclaimed group a layer without <c>Weights</c> can be read from: the one that fits it as
    /// declared, else the one whose layer takes the input it is given.</summary>
    private string? ChoosePrefix(LayerSpec layer, int number, Flow flow, HashSet<string> claimed)
    {
        var candidates = CandidatePrefixes(layer.Kind).Where(p => !claimed.Contains(p)).ToList();
        if (flow.Width > 0)
        {
            var plan = new LayerPlan(layer, number, flow, ShapeChecker.OutputOf(layer, flow));
            var fitting = candidates.Where(p => Fits(plan, p)).ToList();
            if (fitting.Count == 1)
                return fitting[0];
        }
        var taking = candidates.Where(p => Implied(layer, p) is { } implied && (flow.Width == 0 || implied.InputWidth == flow.Width)).ToList();
        return taking.Count == 1 ? taking[0] : null;
    }

    /// <summary>The one error that says how <paramref name="plan"/>, as declared, disagrees with the tensors under
    /// <paramref name="prefix"/>, which describe <paramref name="implied"/>, and that suggests writing that instead:
    /// the first tensor it needs that is missing or misshapen, else the first tensor it would leave unread.
    /// Null when nothing disagrees.</summary>
    public DiagnosticInfo? Disagreement(LayerPlan plan, string prefix, LayerSpec implied)
    {
        var fix = $"; did you mean [{LayerText.Attribute(implied)}]?";
        var requirements = RequirementsOf(plan, prefix).ToList();
        foreach (var requirement in requirements)
        {
            if (Unmet(plan, prefix, requirements, requirement, fix, out _) is { } problem)
                return problem;
        }
        var read = new HashSet<string>(requirements.Select(r => FullName(prefix, r.Suffix)), StringComparer.Ordinal);
        foreach (var requirement in RequirementsOf(plan with { Spec = implied }, prefix))
        {
            var name = FullName(prefix, requirement.Suffix);
            if (!read.Contains(name) && Find(name) is { } unread)
            {
                return DiagnosticInfo.Create(DiagnosticDescriptors.TensorsLeftUnread, plan.Spec.LocationOf("Weights"),
                    plan.DisplayName, PrefixText(prefix), unread.Name, ShapeText(unread.Shape), WhatItHolds(requirement.Suffix), fix);
            }
        }
        return null;
    }

    /// <summary>What a tensor the declaration leaves unread belongs to, by its name after the prefix.</summary>
    protected abstract string WhatItHolds(string suffix);

    // ---- Reading ----

    /// <summary>Reads the tensors a layer needs under <paramref name="prefix"/>, keyed by suffix; reports each one
    /// that is missing or misshapen. Absent optional groups read as null.</summary>
    protected Dictionary<string, float[]?>? Read(LayerPlan plan, string prefix)
    {
        var values = new Dictionary<string, float[]?>(StringComparer.Ordinal);
        var requirements = RequirementsOf(plan, prefix).ToList();
        var ok = true;
        foreach (var requirement in requirements)
        {
            if (Unmet(plan, prefix, requirements, requirement, fix: "", out var tensor) is { } problem)
            {
                Diagnostics.Add(problem);
                ok = false;
            }
            else
            {
                // Absent only when its whole optional group is.
                values[requirement.Suffix] = tensor is null ? null : File.ReadFloat32(tensor);
            }
        }
        return ok ? values : null;
    }

    /// <summary>The error for a tensor the layer needs that is missing or misshapen, ending in <paramref name="fix"/>;
    /// null when the file has it (<paramref name="tensor"/>) or when its whole optional group is absent (null tensor).</summary>
    private DiagnosticInfo? Unmet(LayerPlan plan, string prefix, List<Requirement> requirements, Requirement requirement, string fix, out TensorEntry? tensor)
    {
        var name = FullName(prefix, requirement.Suffix);
        tensor = Find(name);
        if (tensor is null)
        {
            // Only PyTorch's biases form groups of two: the other conventions have one bias tensor.
            var partners = requirement.OptionalGroup is { } group
                ? requirements.Where(r => r.OptionalGroup == group && Find(FullName(prefix, r.Suffix)) is not null).ToList()
                : null;
            if (partners is { Count: 0 })
                return null;   // the whole optional group is absent
            var hint = partners is { Count: > 0 }
                ? $" ('{Find(FullName(prefix, partners[0].Suffix))!.Name}' is present; PyTorch writes both biases or neither)"
                : fix.Length > 0 ? "" : SimilarNames(prefix);
            return DiagnosticInfo.Create(DiagnosticDescriptors.TensorMissing, plan.Spec.LocationOf("Weights"),
                plan.DisplayName, name, ShapeText(requirement.Shape), hint, fix);
        }
        if (!tensor.Shape.SequenceEqual(requirement.Shape))
        {
            return DiagnosticInfo.Create(DiagnosticDescriptors.TensorShapeMismatch, plan.Spec.LocationOf("Weights"),
                plan.DisplayName, tensor.Name, ShapeText(requirement.Shape), requirement.Meaning, ShapeText(tensor.Shape), fix);
        }
        return null;
    }

    /// <summary>A hint listing a few tensors under the prefix (their names as the file spells them).</summary>
    private string SimilarNames(string prefix)
    {
        var names = File.Tensors.Where(t => IsUnder(t.Name, prefix)).Take(8).Select(t => "'" + t.Name + "'").ToList();
        return (names.Count == 0 ? "" : "; tensors under that prefix: " + string.Join(", ", names)) + MatchingRule;
    }

    /// <summary>"name [shape]" of a tensor the layer read, for the generated code's comments.</summary>
    protected string Source(string prefix, string suffix)
    {
        var entry = Find(FullName(prefix, suffix))!;
        return entry.Name + " " + ShapeText(entry.Shape);
    }

    /// <summary>A tensor whose values are the file's tensor <paramref name="suffix"/>, so a large one can be read from
    /// the embedded file at run time instead of being compiled in, when its bytes lie in the file verbatim.</summary>
    /// <param name="memberName">The member of the generated weights class.</param>
    /// <param name="prefix">The layer's prefix.</param>
    /// <param name="suffix">The tensor's name after the prefix.</param>
    /// <param name="values">The tensor's values, converted to the canonical layout when <paramref name="conversion"/> is set.</param>
    /// <param name="source">How comments name it; by default its name and shape.</param>
    /// <param name="conversion">The run-time call that converts the file's layout, around <c>{0}</c>; null when it is canonical.</param>
    protected Tensor FileTensor(string memberName, string prefix, string suffix, float[] values, string? source = null, string? conversion = null)
    {
        var entry = Find(FullName(prefix, suffix))!;
        // Only bytes that lie in the file as they are (not deflated, not byte-swapped) can be read from its embedded copy.
        var slice = entry.FileOffset is { } offset ? new FileSlice(offset, entry.ElementCount, entry.DType.ToString(), conversion) : null;
        return new Tensor(memberName, source ?? Source(prefix, suffix), values, slice);
    }

    // ---- Assembling cells ----

    /// <summary>Identifier stem of one cell, e.g. "Layer2_L1_Backward".</summary>
    protected static string CellStem(LayerPlan plan, int stackIndex, bool backward) =>
        $"Layer{plan.Number}"
        + (plan.Spec.Layers > 1 ? $"_L{stackIndex}" : "")
        + (plan.Spec.Bidirectional ? (backward ? "_Backward" : "_Forward") : "");

    /// <summary>One cell's weights in canonical layout (PyTorch gate order), before the biases are combined.</summary>
    /// <param name="BiasSource">Where the summed biases come from, for comments.</param>
    /// <param name="HiddenBiasSource">Where a reset-after GRU's b_hn comes from, for comments.</param>
    protected sealed record CanonicalCell(
        Tensor InputWeights, Tensor RecurrentWeights, float[]? InputBias, float[]? RecurrentBias, string BiasSource, string HiddenBiasSource,
        Tensor? Peepholes);

    /// <summary>Combines the two biases as the cell's form needs them and makes the cell.</summary>
    protected static RecurrentCell MakeCell(LayerPlan plan, CellForm form, int stackIndex, bool backward, CanonicalCell weights)
    {
        var spec = plan.Spec;
        var hidden = spec.Size;
        var rows = RecurrentLayer.GateCount(spec.Kind) * hidden;
        var stem = CellStem(plan, stackIndex, backward);
        var inputBias = weights.InputBias ?? new float[rows];
        var recurrentBias = weights.RecurrentBias ?? new float[rows];

        // A reset-after GRU's candidate keeps b_hn apart: the reset gate scales it together with W_hn h. Every
        // other bias is added to its gate unscaled, so the two are summed here once.
        var resetAfterGru = spec.Kind == LayerKind.Gru && form.ResetAfter;
        var summedRows = resetAfterGru ? 2 * hidden : rows;
        var bias = new float[rows];
        for (var i = 0; i < rows; i++)
            bias[i] = i < summedRows ? (float)((double)inputBias[i] + recurrentBias[i]) : inputBias[i];
        Tensor? hiddenBias = null;
        if (resetAfterGru)
        {
            var hn = new float[hidden];
            Array.Copy(recurrentBias, 2 * hidden, hn, 0, hidden);
            hiddenBias = new Tensor(stem + "_HiddenBias", weights.RecurrentBias is null ? "zero" : weights.HiddenBiasSource, hn);
        }

        return new RecurrentCell(
            stem,
            stackIndex,
            backward,
            stackIndex == 0 ? plan.Input.Width : hidden * (spec.Bidirectional ? 2 : 1),
            weights.InputWeights,
            weights.RecurrentWeights,
            new Tensor(stem + "_Bias", weights.InputBias is null && weights.RecurrentBias is null ? "zero (the file has no biases)" : weights.BiasSource, bias),
            hiddenBias,
            weights.Peepholes);
    }

    /// <summary>Peepholes [i | f | o] from three vectors; a coupled cell has no forget-gate peephole (f = 1 - i).</summary>
    protected static float[] PeepholeVector(int hidden, float[] input, float[]? forget, float[] output)
    {
        var p = new float[3 * hidden];
        Array.Copy(input, 0, p, 0, hidden);
        if (forget is not null)
            Array.Copy(forget, 0, p, hidden, hidden);
        Array.Copy(output, 0, p, 2 * hidden, hidden);
        return p;
    }

    protected static RecurrentLayer NewRecurrentLayer(LayerPlan plan, CellForm form, IReadOnlyList<IReadOnlyList<RecurrentCell>> stack)
    {
        var spec = plan.Spec;
        // A Keras GRU's form may come from its bias rather than the attribute: the title says which it is.
        var title = (plan with { Spec = spec with { ResetAfter = form.ResetAfter } }).Title;
        return new RecurrentLayer(plan.Number, title, plan.Input, plan.Output, spec.Kind, form, spec.Size, spec.Activation,
            spec.Bidirectional, spec.ReturnSequences, spec.MergeMode, stack);
    }
}

/// <summary>A declaration as the weight file describes it (<see cref="WeightBinder.ImplyDeclaration"/>): the spec, the
/// prefix each layer was read from (null where the file did not say), and the first layer's input weights when the
/// input size came from them.</summary>
internal sealed record ImpliedDeclaration(ModelSpec Spec, IReadOnlyList<string?> Prefixes, WeightBinder.ImpliedLayer? First);
