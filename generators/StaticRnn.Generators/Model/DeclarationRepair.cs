using System.Collections.Generic;
using System.Linq;
using StaticRnn.Generators.Common;
using StaticRnn.Generators.Diagnostics;
using StaticRnn.Generators.Parsing;
using StaticRnn.Generators.Weights;

namespace StaticRnn.Generators.Model;

/// <summary>
/// Errors that say the fix. When the weight file describes a declaration that differs from the one written (a
/// hidden size, the cell, the number of stacked layers, a direction, peepholes, the input size) and that declaration
/// compiles cleanly against the file, the model's errors become one per thing to change, each naming the
/// corrected attribute; the errors that only followed from it (the next layer's input width, ...) are not reported.
/// </summary>
internal static class DeclarationRepair
{
    /// <summary>Adds the errors that say how the declaration differs from what the file describes and returns true;
    /// returns false, adding nothing, when it does not differ or the file's version would not compile either
    /// (then binding the declaration reports what is wrong the usual way).</summary>
    /// <param name="diagnostics">The declaration's diagnostics so far; an InputSize error gains the size the file implies.</param>
    public static bool Explain(ModelSpec spec, WeightFile file, List<DiagnosticInfo> diagnostics)
    {
        // Only the model's sizes may be wrong so far: with other errors the layers themselves do not make sense yet.
        if (diagnostics.Any(d => d.IsError && d.Id != DiagnosticDescriptors.SequenceLengthInvalid.Id && d.Id != DiagnosticDescriptors.InputSizeInvalid.Id))
            return false;

        var scratch = new List<DiagnosticInfo>();
        var binder = WeightBinder.For(spec, file, scratch);
        if (binder.ImplyDeclaration() is not { } implied)
            return false;
        var differing = Enumerable.Range(0, spec.Layers.Count).Where(i => !implied.Spec.Layers[i].Equals(spec.Layers[i])).ToList();
        var inputDiffers = implied.First is not null && implied.Spec.InputSize != spec.InputSize;
        if (differing.Count == 0 && !inputDiffers)
            return false;

        // Suggest only a declaration that compiles: shapes checked, every tensor found and read.
        var candidate = implied.Spec with { SequenceLength = spec.SequenceLength is >= 1 and <= ShapeChecker.MaxDimension ? spec.SequenceLength : 1 };
        var plans = ShapeChecker.Check(candidate, scratch);
        if (plans is null || WeightBinder.For(candidate, file, scratch).Bind(plans) is null || scratch.Any(d => d.IsError))
            return false;

        var explained = new List<DiagnosticInfo>();
        foreach (var i in differing)
        {
            // The layer as declared, given what the layers before it hand on in the file's version.
            var declared = spec.Layers[i];
            var plan = new LayerPlan(declared, i + 1, plans[i].Input, ShapeChecker.OutputOf(declared, plans[i].Input));
            if (binder.Disagreement(plan, implied.Prefixes[i]!, implied.Spec.Layers[i]) is not { } disagreement)
                return false;
            explained.Add(disagreement);
        }

        if (inputDiffers)
        {
            var first = implied.First!;
            var shape = "[" + string.Join(", ", first.InputWeights.Shape) + "]";
            var missing = diagnostics.FindIndex(d => d.Id == DiagnosticDescriptors.InputSizeInvalid.Id);
            if (missing >= 0)
            {
                var arguments = diagnostics[missing].Arguments.ToArray();
                arguments[arguments.Length - 1] = $"; the weight file implies InputSize = {first.InputWidth} (the first layer's input weights '{first.InputWeights.Name}' have shape {shape})";
                diagnostics[missing] = diagnostics[missing] with { Arguments = arguments.ToEquatableArray() };
            }
            else
            {
                explained.Insert(0, DiagnosticInfo.Create(DiagnosticDescriptors.InputSizeDisagrees, spec.LocationOf("InputSize"),
                    spec.InputSize!.Value, first.InputWeights.Name, shape, first.InputWidth));
            }
        }
        diagnostics.AddRange(explained);
        return true;
    }
}
