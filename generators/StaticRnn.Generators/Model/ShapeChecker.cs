using System.Collections.Generic;
using StaticRnn.Generators.Diagnostics;
using StaticRnn.Generators.Parsing;

namespace StaticRnn.Generators.Model;

/// <summary>Checks what can be checked without the weight file: the model's sizes, each layer's arguments,
/// and that every layer can take what its predecessor hands on.</summary>
internal static class ShapeChecker
{
    /// <summary>Sizes above this are rejected, so that every product of sizes the generator forms fits an int.</summary>
    public const int MaxDimension = 1 << 20;

    private const long MaxValuesPerSequence = 1 << 28;

    public static IReadOnlyList<LayerPlan>? Check(ModelSpec spec, List<DiagnosticInfo> diagnostics)
    {
        var errorsBefore = CountErrors(diagnostics);

        if (spec.Convention is not (WeightConvention.PyTorch or WeightConvention.Keras))
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NotSupported, spec.LocationOf("Convention"),
                $"Convention = WeightConvention.{spec.Convention}", spec.Convention == WeightConvention.Onnx
                    ? " with a .safetensors, .npy or .npz file; an .onnx file implies it (remove Convention)"
                    : "; this version reads PyTorch and Keras weights"));
        }

        if (spec.SequenceLength is not (>= 1 and <= MaxDimension))
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.SequenceLengthInvalid, spec.LocationOf("SequenceLength"),
                spec.SequenceLength?.ToString() ?? "no value", MaxDimension, ""));
        }

        if (spec.Layers.Count == 0)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NoLayers, spec.Location, spec.ClassName));
            return null;
        }

        var takesTokens = spec.Layers[0].Kind == LayerKind.Embedding;
        if (!takesTokens && spec.InputSize is not (>= 1 and <= MaxDimension))
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InputSizeInvalid, spec.LocationOf("InputSize"),
                spec.InputSize?.ToString() ?? "no value", MaxDimension, ""));
        }

        var plans = new List<LayerPlan>();
        var flow = new Flow(true, takesTokens ? 1 : spec.InputSize ?? 0);
        LayerPlan? previous = null;
        LayerPlan? collapsedBy = null;   // the last recurrent layer that handed on only its final state
        for (var i = 0; i < spec.Layers.Count; i++)
        {
            var layer = spec.Layers[i];
            CheckArguments(layer, i + 1, spec.Convention, diagnostics);
            var output = OutputOf(layer, flow);
            var plan = new LayerPlan(layer, i + 1, flow, output);

            if (layer.Kind == LayerKind.Embedding && i > 0)
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.EmbeddingNotFirst, layer.Location, i + 1));

            if (layer.IsRecurrent && !flow.IsSequence && previous is not null)
            {
                var culprit = collapsedBy ?? previous;
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.LayerInputMismatch, layer.Location,
                    Capitalize(plan.DisplayName), "a sequence", previous.DisplayName,
                    ReferenceEquals(culprit, previous) ? "only its final state" : $"a single vector, because {culprit.DisplayName} hands on only its final state",
                    $"; set ReturnSequences = true on layer {culprit.Number}"));
            }

            if ((long)spec.SequenceLength.GetValueOrDefault(1) * output.Width > MaxValuesPerSequence)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.LayerArgumentInvalid, layer.Location,
                    Capitalize(plan.DisplayName), "SequenceLength times the layer's output width", $"at most {MaxValuesPerSequence}",
                    (long)spec.SequenceLength.GetValueOrDefault(1) * output.Width));
            }

            if (layer.IsRecurrent)
                collapsedBy = layer.ReturnSequences ? null : plan;
            plans.Add(plan);
            previous = plan;
            flow = output;
        }

        return CountErrors(diagnostics) == errorsBefore ? plans : null;
    }

    /// <summary>What a layer hands on, given what it takes.</summary>
    public static Flow OutputOf(LayerSpec layer, Flow input) => layer.Kind switch
    {
        LayerKind.Embedding => new Flow(true, layer.Size),
        LayerKind.Dense => new Flow(input.IsSequence, layer.Size),
        LayerKind.Dropout => input,
        _ => new Flow(layer.ReturnSequences, layer.Bidirectional && layer.MergeMode == MergeMode.Concat ? 2 * layer.Size : layer.Size),
    };

    internal static void CheckArguments(LayerSpec layer, int number, WeightConvention convention, List<DiagnosticInfo> diagnostics)
    {
        var name = $"Layer {number}, {layer.Kind}";
        void Require(bool ok, string argument, string expected, object found)
        {
            if (!ok)
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.LayerArgumentInvalid, layer.LocationOf(argument), name, argument, expected, found));
        }
        var sizeRange = $"between 1 and {MaxDimension}";

        switch (layer.Kind)
        {
            case LayerKind.Embedding:
                Require(layer.VocabularySize is >= 1 and <= MaxDimension, "vocabularySize", sizeRange, layer.VocabularySize);
                Require(layer.Size is >= 1 and <= MaxDimension, "embeddingSize", sizeRange, layer.Size);
                break;
            case LayerKind.Dense:
                Require(layer.Size is >= 1 and <= MaxDimension, "units", sizeRange, layer.Size);
                Require(layer.Activation is >= Activation.None and <= Activation.LogSoftmax, "Activation", "a defined Activation", layer.Activation);
                break;
            case LayerKind.Dropout:
                Require(layer.DropoutRate is >= 0f and < 1f, "rate", "at least 0 and less than 1", layer.DropoutRate);
                break;
            default:
                Require(layer.Size is >= 1 and <= MaxDimension, "hiddenSize", sizeRange, layer.Size);
                Require(layer.Layers is >= 1 and <= 64, "Layers", "between 1 and 64", layer.Layers);
                Require(layer.MergeMode is >= MergeMode.Concat and <= MergeMode.Average, "MergeMode", "a defined MergeMode", layer.MergeMode);
                if (layer.Kind == LayerKind.SimpleRnn)
                {
                    Require(layer.Activation is Activation.Tanh or Activation.Relu or Activation.Sigmoid, "Activation",
                        "Tanh, Relu or Sigmoid", layer.Activation);
                }
                // Keras stacks recurrent layers as separate layers, each with its own weight path.
                if (convention == WeightConvention.Keras)
                    Require(layer.Layers == 1, "Layers", "1 with Convention = WeightConvention.Keras (declare each stacked Keras layer as its own attribute)", layer.Layers);
                break;
        }
    }

    private static int CountErrors(List<DiagnosticInfo> diagnostics)
    {
        var count = 0;
        foreach (var diagnostic in diagnostics)
        {
            if (diagnostic.IsError)
                count++;
        }
        return count;
    }

    private static string Capitalize(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text.Substring(1);
}
