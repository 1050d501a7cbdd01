using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis.CSharp;
using StaticRnn.Generators.Diagnostics;
using StaticRnn.Generators.Model;
using StaticRnn.Generators.Parsing;

namespace StaticRnn.Generators.Emit;

/// <summary>
/// The model's public surface when it has build errors: the constants, <c>Predict</c>, <c>PredictBatch</c>,
/// <c>Warmup</c>, <c>State</c>, <c>Step</c> and the CUDA members, each method throwing an
/// <see cref="System.InvalidOperationException"/> that lists the errors. Code that uses the model then compiles, so the
/// SRNN errors are the only ones on the user's screen instead of one "does not contain a definition" per use.
/// No network is generated: nothing here computes anything.
/// </summary>
internal static class PlaceholderEmitter
{
    private const string ReadOnlySpanOfFloat = "global::System.ReadOnlySpan<float>";
    private const string SpanOfFloat = "global::System.Span<float>";

    /// <summary>Whether the class can take a generated part at all: not when it is not partial, a record, generic, or
    /// nested in a type that is not partial (adding a part would only add compiler errors).</summary>
    public static bool CanEmit(IEnumerable<DiagnosticInfo> diagnostics) => !diagnostics.Any(d =>
        d.Id == DiagnosticDescriptors.ClassNotPartial.Id || d.Id == DiagnosticDescriptors.ContainingTypeNotPartial.Id
        || d.Id == DiagnosticDescriptors.GenericClass.Id || d.Id == DiagnosticDescriptors.RecordModel.Id);

    public static string Emit(ModelSpec spec, IReadOnlyList<DiagnosticInfo> errors)
    {
        var surface = Surface.Of(spec);
        var writer = Open(spec, "model", errors);

        // The values the declaration gives, where it gives a valid one; they only have to be constants.
        writer.Line($"public const int SequenceLength = {surface.SequenceLength};");
        writer.Line($"public const int InputSize = {surface.InputSize};");
        if (surface.TakesTokens)
            writer.Line($"public const int VocabularySize = {surface.VocabularySize};");
        writer.Line($"public const int OutputSize = {surface.OutputSize};");
        if (surface.HasFinalState)
            writer.Line("public const int FinalStateSize = 1;");
        if (surface.HasStep)
            writer.Line($"public const int StepOutputSize = {surface.StepOutputSize};");
        writer.Line();

        var inputType = surface.TakesTokens ? "global::System.ReadOnlySpan<int>" : ReadOnlySpanOfFloat;
        var input = surface.TakesTokens ? "tokens" : "input";
        var inputs = surface.TakesTokens ? "tokens" : "inputs";
        writer.Line($"public static void Predict({inputType} {input}, {SpanOfFloat} output) => throw NotCompiled();");
        writer.Line();
        if (surface.HasFinalState)
        {
            writer.Line($"public static void Predict({inputType} {input}, {SpanOfFloat} output, {SpanOfFloat} finalState) => throw NotCompiled();");
            writer.Line();
        }
        writer.Line($"public static void PredictBatch({inputType} {inputs}, {SpanOfFloat} outputs) => throw NotCompiled();");
        writer.Line();
        writer.Line("public static void Warmup() => throw NotCompiled();");
        writer.Line();
        if (surface.HasStep)
        {
            writer.Open("public struct State");
            writer.Line("public const int Size = 1;");
            writer.Line();
            writer.Line($"public void CopyTo({SpanOfFloat} destination) => throw NotCompiled();");
            writer.Line();
            writer.Line($"public static State From({ReadOnlySpanOfFloat} values) => throw NotCompiled();");
            writer.Close();
            writer.Line();
            writer.Line(surface.TakesTokens
                ? $"public static void Step(ref State state, int token, {SpanOfFloat} y) => throw NotCompiled();"
                : $"public static void Step(ref State state, {ReadOnlySpanOfFloat} x, {SpanOfFloat} y) => throw NotCompiled();");
            writer.Line();
        }
        writer.Line("public static global::StaticRnn.Cuda.CudaScorer CreateCudaScorer(global::StaticRnn.Cuda.CudaScorerOptions? options = null) => throw NotCompiled();");
        writer.Line();
        writer.Line("public static global::StaticRnn.Cuda.CudaKernelDefinition CudaKernel => throw NotCompiled();");

        NetworkEmitter.CloseTypes(writer, spec);
        return writer.ToString();
    }

    /// <summary>A decoder's public surface (<c>Translate</c>, <c>State</c>, <c>Encode</c>, <c>DecodeStep</c>, <c>Warmup</c> and
    /// its constants) when it or its encoder has build errors.</summary>
    public static string EmitDecoder(DecoderSpec decoder, IReadOnlyList<DiagnosticInfo> errors)
    {
        var spec = decoder.Model;
        var writer = Open(spec, "decoder", errors);

        var encoderLayers = decoder.Encoder?.Layers ?? default;
        var tokens = encoderLayers.Count == 0 || encoderLayers[0].Kind == LayerKind.Embedding;
        var logits = spec.Layers.LastOrDefault(l => l.Kind == LayerKind.Dense);
        writer.Line($"public const int MaxLength = {Valid(decoder.MaxLength)};");
        writer.Line($"public const int SourceLength = {Valid(decoder.Encoder?.SequenceLength)};");
        if (!tokens)
            writer.Line($"public const int SourceInputSize = {Valid(decoder.Encoder?.InputSize)};");
        writer.Line($"public const int VocabularySize = {Valid(logits?.Size)};");
        writer.Line($"public const int StartToken = {decoder.StartToken};");
        writer.Line($"public const int EndToken = {decoder.EndToken};");
        writer.Line();
        var source = tokens ? "global::System.ReadOnlySpan<int>" : ReadOnlySpanOfFloat;
        writer.Line($"public static int Translate({source} source, global::System.Span<int> target) => throw NotCompiled();");
        writer.Line();
        writer.Line($"public static int Translate({source} source, global::System.Span<int> target, {SpanOfFloat} attention) => throw NotCompiled();");
        writer.Line();
        writer.Line($"public static int Translate({source} source, global::System.Span<int> target, int beamWidth) => throw NotCompiled();");
        writer.Line();
        writer.Open("public struct State");
        writer.Line("public const int Size = 1;");
        writer.Close();
        writer.Line();
        writer.Line($"public static void Encode({source} source, ref State state) => throw NotCompiled();");
        writer.Line();
        writer.Line($"public static void DecodeStep(ref State state, int previousToken, {SpanOfFloat} logits, {SpanOfFloat} attention) => throw NotCompiled();");
        writer.Line();
        writer.Line("public static void Warmup() => throw NotCompiled();");
        NetworkEmitter.CloseTypes(writer, spec);
        return writer.ToString();
    }

    /// <summary>The file's header, the class opened, and the errors every member throws with.</summary>
    private static SourceWriter Open(ModelSpec spec, string what, IReadOnlyList<DiagnosticInfo> errors)
    {
        var writer = new SourceWriter();
        writer.Line("// <auto-generated/>");
        writer.Comment($"Generated by StaticRnn for '{spec.WeightsPath}'. The {what} has build errors (SRNN...), so no network was");
        writer.Comment($"generated: these members only let the code that uses the {what} compile, and each method throws.");
        writer.Line("#nullable enable");
        writer.Line();
        NetworkEmitter.OpenTypes(writer, spec, NetworkEmitter.GeneratedCodeAttribute);
        WriteErrors(writer, spec, errors);
        return writer;
    }

    private static void WriteErrors(SourceWriter writer, ModelSpec spec, IReadOnlyList<DiagnosticInfo> errors)
    {
        writer.Line("/// <summary>Why this model was not compiled: its build errors, which every member here throws with.</summary>");
        writer.Line($"private const string StaticRnnBuildErrors = {Literal(Message(spec, errors))};");
        writer.Line();
        writer.Line("private static global::System.InvalidOperationException NotCompiled() => new(StaticRnnBuildErrors);");
        writer.Line();
    }

    /// <summary>A size the declaration gives, where it is a valid one; else 1 (the constants only have to exist).</summary>
    private static int Valid(int? value) => value is >= 1 and <= ShapeChecker.MaxDimension ? value.Value : 1;

    /// <summary>"StaticRnn did not compile 'App.Model' because of its build errors SRNN0011 at Models.cs(23,21), ...": the
    /// errors by ID and place. Their messages, which quote the weight file's tensor names, stay in the build output.</summary>
    private static string Message(ModelSpec spec, IReadOnlyList<DiagnosticInfo> errors)
    {
        var named = errors.Select(e => e.Location is { } location
            ? $"{e.Id} at {System.IO.Path.GetFileName(location.FilePath)}({location.LineSpan.Start.Line + 1},{location.LineSpan.Start.Character + 1})"
            : e.Id);
        return $"StaticRnn did not compile '{spec.FullName}' because of its build errors {string.Join(", ", named)}; the build output says what each means and how to fix it.";
    }

    /// <summary>A C# string literal that shows the text; characters that could hide or reorder text are written as \u escapes.</summary>
    private static string Literal(string text) => SymbolDisplay.FormatLiteral(Text.ForComment(text), quote: true);

    /// <summary>The model's public constants and which entry points it has, as far as the declaration says.</summary>
    private sealed record Surface(bool TakesTokens, int SequenceLength, int InputSize, int VocabularySize, int OutputSize, int StepOutputSize, bool HasStep,
        bool HasFinalState)
    {
        public static Surface Of(ModelSpec spec)
        {
            var layers = spec.Layers;
            var takesTokens = layers.Count > 0 && layers[0].Kind == LayerKind.Embedding;
            var sequenceLength = Valid(spec.SequenceLength);
            var flow = new Flow(true, takesTokens ? 1 : Valid(spec.InputSize));
            foreach (var layer in layers)
            {
                var output = ShapeChecker.OutputOf(layer, flow);
                flow = new Flow(output.IsSequence, Valid(output.Width));
            }
            var outputSize = flow.IsSequence && (long)sequenceLength * flow.Width <= int.MaxValue ? sequenceLength * flow.Width : flow.Width;
            return new Surface(
                takesTokens,
                sequenceLength,
                takesTokens ? 1 : Valid(spec.InputSize),
                takesTokens ? Valid(layers[0].VocabularySize) : 0,
                outputSize,
                flow.Width,
                !layers.Any(l => l.IsRecurrent && l.Bidirectional),
                layers.LastOrDefault(l => l.Kind != LayerKind.Dropout) is { IsRecurrent: true } && !(takesTokens && layers[0].MaskZero));
        }
    }
}
