using System;
using System.Collections.Generic;
using System.Linq;
using StaticRnn.Generators.Common;
using StaticRnn.Generators.Diagnostics;
using StaticRnn.Generators.Parsing;
using StaticRnn.Generators.Weights;

namespace StaticRnn.Generators.Model;

/// <summary>
/// A model declared by an .onnx file: <c>[RnnModel("m.onnx")]</c> alone. Reads the file, has <see cref="OnnxImporter"/>
/// recognise the network, and completes the declaration with it: the layers, <c>InputSize</c>, and
/// <c>SequenceLength</c> where the graph fixes it. Layer attributes and sizes written beside the file must agree with
/// the graph (the check that the file settles what a weight file cannot: a head's activation, what a layer hands on).
/// </summary>
internal static class OnnxFrontEnd
{
    public static bool IsOnnx(string path) => path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase);

    /// <summary>The completed declaration and its weights, or null after reporting why not.</summary>
    /// <param name="externalFiles">Reads a file beside the model by the location an external tensor names.</param>
    public static (ModelSpec Spec, WeightFile Weights)? Import(ModelSpec spec, byte[] bytes, List<DiagnosticInfo> diagnostics,
        Func<string, byte[]?>? externalFiles = null)
    {
        var fileLocation = spec.LocationOf("weightsPath");
        var model = OnnxReader.Read(bytes, out var error);
        if (model is null)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.WeightFileDamaged, fileLocation, spec.WeightsPath, error!.Message));
            return null;
        }
        if (OnnxImporter.Read(model, spec.WeightsPath, fileLocation, diagnostics, externalFiles) is not { } import)
            return null;

        var errors = diagnostics.Count(d => d.IsError);
        var layers = Agree(spec, import, diagnostics);
        var initializers = new HashSet<string>(model.Graph.Initializers.Select(t => t.Name), StringComparer.Ordinal);
        var inputName = model.Graph.Inputs.FirstOrDefault(i => !initializers.Contains(i.Name))?.Name ?? "";

        var sequenceLength = spec.SequenceLength ?? import.SequenceLength;
        if (spec.SequenceLength is { } declared && import.SequenceLength is { } fixedLength && declared != fixedLength)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.OnnxSizeDisagrees, spec.LocationOf("SequenceLength"),
                "SequenceLength", declared, inputName, $"{fixedLength} steps", fixedLength));
        }
        if (sequenceLength is null)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.SequenceLengthInvalid, spec.LocationOf("SequenceLength"), "no value", ShapeChecker.MaxDimension,
                $"; the ONNX graph's input '{inputName}' has a time axis of any length ('{import.DynamicTimeAxis ?? "?"}'), so SequenceLength says how many steps the compiled model takes"));
        }
        if (spec.InputSize is { } inputSize && import.InputSize is { } graphInputSize && inputSize != graphInputSize)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.OnnxSizeDisagrees, spec.LocationOf("InputSize"),
                "InputSize", inputSize, inputName, $"{graphInputSize} features per step", graphInputSize));
        }
        if (diagnostics.Count(d => d.IsError) > errors)
            return null;

        var completed = spec with
        {
            Layers = layers.ToEquatableArray(),
            SequenceLength = sequenceLength,
            InputSize = import.InputSize ?? spec.InputSize,
            Convention = WeightConvention.PyTorch,   // the importer names the tensors as PyTorch does
        };
        return (completed, import.Weights);
    }

    /// <summary>The graph's layers, located on the declared ones where the model declares them; an error for each that
    /// disagrees.</summary>
    private static List<LayerSpec> Agree(ModelSpec spec, OnnxImporter.Import import, List<DiagnosticInfo> diagnostics)
    {
        // A declared Dropout is the identity at inference, as the graph's Dropout nodes are: it does not count.
        var declared = spec.Layers.Where(l => l.Kind != LayerKind.Dropout).ToList();
        var graph = import.Layers;
        if (declared.Count == 0)
            return graph.ToList();
        string Describe(LayerSpec layer) => LayerText.Title(layer with { Weights = null });
        var computed = string.Join(", ", graph.Select(Describe));
        if (declared.Count != graph.Count)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.OnnxDeclarationDisagrees, spec.Location,
                $"The model declares {declared.Count} layer{(declared.Count == 1 ? "" : "s")} ({string.Join(", ", declared.Select(Describe))})",
                spec.WeightsPath, $"{graph.Count}: {computed}"));
            return graph.ToList();
        }
        var result = new List<LayerSpec>();
        for (var i = 0; i < graph.Count; i++)
        {
            var mine = declared[i];
            if (Describe(mine) != Describe(graph[i]))
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.OnnxDeclarationDisagrees, mine.Location,
                    $"Layer {i + 1} is declared as {Describe(mine)}", spec.WeightsPath, $"{Describe(graph[i])} there"));
            }
            result.Add(graph[i] with { Location = mine.Location, ArgumentLocations = mine.ArgumentLocations });
        }
        return result;
    }
}
