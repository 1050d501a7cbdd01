using System.Collections.Generic;
using System.Globalization;
using StaticRnn.Generators.Parsing;

namespace StaticRnn.Generators.Model;

/// <summary>A layer whose arguments and position have been checked: what it takes and what it hands on.
/// Weight binding turns each plan into a <see cref="NetworkLayer"/>.</summary>
/// <param name="TitleOverride">How messages name a part of a layer that is bound like a dense layer (an attention's
/// projections, a decoder's bridge), e.g. "Attention(32), its query projection Wa".</param>
internal sealed record LayerPlan(LayerSpec Spec, int Number, Flow Input, Flow Output, string? TitleOverride = null)
{
    /// <summary>How messages name the layer, e.g. "layer 2, Lstm(13)".</summary>
    public string DisplayName => $"layer {Number}, {Title}";

    /// <summary>The declaration in short, with the options that differ from their defaults,
    /// e.g. "Lstm(13, Layers = 2, Bidirectional = true)".</summary>
    public string Title => TitleOverride ?? LayerText.Title(Spec);
}

/// <summary>A layer declaration written out: as messages and comments name it, or as the C# attribute to write.</summary>
internal static class LayerText
{
    /// <summary>"Lstm(13, Layers = 2, Bidirectional = true)": the options that differ from their defaults.</summary>
    public static string Title(LayerSpec spec) => $"{spec.Kind}({string.Join(", ", Arguments(spec, csharp: false))})";

    /// <summary>The attribute that declares <paramref name="spec"/>, as a user writes it, e.g.
    /// <c>Lstm(8, Weights = "rnn", Bidirectional = true)</c>: what a diagnostic suggests writing instead.</summary>
    public static string Attribute(LayerSpec spec) => $"{spec.Kind}({string.Join(", ", Arguments(spec, csharp: true))})";

    private static IEnumerable<string> Arguments(LayerSpec s, bool csharp)
    {
        static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);
        string Enum(string type, object value) => csharp ? $"{type}.{value}" : value.ToString()!;

        switch (s.Kind)
        {
            case LayerKind.Embedding:
                yield return Number(s.VocabularySize);
                yield return Number(s.Size);
                break;
            case LayerKind.Dropout:
                yield return s.DropoutRate.ToString(CultureInfo.InvariantCulture) + (csharp ? "f" : "");
                yield break;
            default:
                yield return Number(s.Size);
                break;
        }
        if (csharp && s.Weights is not null)
            yield return "Weights = " + Microsoft.CodeAnalysis.CSharp.SymbolDisplay.FormatLiteral(s.Weights, quote: true);
        switch (s.Kind)
        {
            case LayerKind.Embedding:
                if (s.MaskZero)
                    yield return "MaskZero = true";
                break;
            case LayerKind.Dense:
                if (s.Activation != Activation.None)
                    yield return "Activation = " + Enum(nameof(Activation), s.Activation);
                break;
            default:
                if (s.Kind == LayerKind.SimpleRnn && s.Activation != Activation.Tanh)
                    yield return "Activation = " + Enum(nameof(Activation), s.Activation);
                if (s.Layers != 1)
                    yield return $"Layers = {Number(s.Layers)}";
                if (s.Bidirectional)
                    yield return "Bidirectional = true";
                if (s.Bidirectional && s.MergeMode != MergeMode.Concat)
                    yield return "MergeMode = " + Enum(nameof(MergeMode), s.MergeMode);
                if (s.ReturnSequences)
                    yield return "ReturnSequences = true";
                if (s.Kind == LayerKind.Lstm && s.Peephole)
                    yield return "Peephole = true";
                if (s.Kind == LayerKind.Lstm && s.CoupledInputForget)
                    yield return "CoupledInputForget = true";
                if (s.Kind == LayerKind.Gru && !s.ResetAfter)
                    yield return "ResetAfter = false";
                break;
        }
    }
}
