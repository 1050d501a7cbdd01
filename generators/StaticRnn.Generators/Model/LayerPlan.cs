using StaticRnn.Generators.Parsing;

namespace StaticRnn.Generators.Model;

/// <summary>A layer whose arguments and position have been checked: what it takes and what it hands on.
/// Weight binding turns each plan into a <see cref="NetworkLayer"/>.</summary>
internal sealed record LayerPlan(LayerSpec Spec, int Number, Flow Input, Flow Output)
{
    /// <summary>How messages name the layer, e.g. "layer 2, Lstm(13)".</summary>
    public string DisplayName => $"layer {Number}, {Title}";

    /// <summary>The declaration in short, with the options that differ from their defaults,
    /// e.g. "Lstm(13, Layers = 2, Bidirectional = true)".</summary>
    public string Title
    {
        get
        {
            var s = Spec;
            var args = new System.Collections.Generic.List<string>();
            switch (s.Kind)
            {
                case LayerKind.Embedding:
                    args.Add(s.VocabularySize.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    args.Add(s.Size.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    break;
                case LayerKind.Dropout:
                    args.Add(s.DropoutRate.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    break;
                case LayerKind.Dense:
                    args.Add(s.Size.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    if (s.Activation != Activation.None)
                        args.Add($"Activation = {s.Activation}");
                    break;
                default:
                    args.Add(s.Size.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    if (s.Kind == LayerKind.SimpleRnn && s.Activation != Activation.Tanh)
                        args.Add($"Activation = {s.Activation}");
                    if (s.Layers != 1)
                        args.Add($"Layers = {s.Layers}");
                    if (s.Bidirectional)
                        args.Add("Bidirectional = true");
                    if (s.Bidirectional && s.MergeMode != MergeMode.Concat)
                        args.Add($"MergeMode = {s.MergeMode}");
                    if (s.ReturnSequences)
                        args.Add("ReturnSequences = true");
                    if (s.Kind == LayerKind.Lstm && s.Peephole)
                        args.Add("Peephole = true");
                    if (s.Kind == LayerKind.Lstm && s.CoupledInputForget)
                        args.Add("CoupledInputForget = true");
                    if (s.Kind == LayerKind.Gru && !s.ResetAfter)
                        args.Add("ResetAfter = false");
                    break;
            }
            return $"{s.Kind}({string.Join(", ", args)})";
        }
    }
}
