using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using StaticRnn.Generators.Common;
using StaticRnn.Generators.Diagnostics;
using StaticRnn.Generators.Emit;
using StaticRnn.Generators.Model;
using StaticRnn.Generators.Parsing;
using StaticRnn.Generators.Weights;

namespace StaticRnn.Generators;

/// <summary>
/// Compiles each class marked [RnnModel] into a network with fixed shapes.
/// <code>
///   [RnnModel] class ──parse──▶ ModelSpec ─┐
///   AdditionalFiles ──read──▶ WeightFileInput ─┴─resolve──▶ ModelInput ──build + emit──▶ GenerationResult
/// </code>
/// Every model between the steps is a value (no symbols, syntax or compilation), so an edit that changes
/// neither the declaration nor the weight file's bytes leaves every step cached.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class RnnModelGenerator : IIncrementalGenerator
{
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var specs = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                ModelSpecParser.RnnModelAttributeName,
                static (node, _) => node is Microsoft.CodeAnalysis.CSharp.Syntax.ClassDeclarationSyntax or Microsoft.CodeAnalysis.CSharp.Syntax.RecordDeclarationSyntax,
                static (context, cancellationToken) => ModelSpecParser.Parse(context, cancellationToken))
            .Where(static spec => spec is not null)
            .Select(static (spec, _) => spec!)
            .WithTrackingName(TrackingNames.Spec);

        var weightFiles = context.AdditionalTextsProvider
            .Where(WeightFileSource.IsWeightFile)
            .Combine(context.AnalyzerConfigOptionsProvider)
            .Select(static (input, cancellationToken) => WeightFileSource.Load(input.Left,
                input.Right.GetOptions(input.Left).TryGetValue("build_metadata.AdditionalFiles.StaticRnnResource", out var name) ? name : null,
                cancellationToken))
            .WithTrackingName(TrackingNames.WeightFile)
            .Collect();

        var projectDirectory = context.AnalyzerConfigOptionsProvider
            .Select(static (options, _) =>
                options.GlobalOptions.TryGetValue("build_property.MSBuildProjectDirectory", out var directory) && directory.Length > 0 ? directory : null);

        var results = specs
            .Combine(weightFiles)
            .Combine(projectDirectory)
            .Select(static (input, _) => ModelInput.Resolve(input.Left.Left, input.Left.Right, input.Right))
            .WithTrackingName(TrackingNames.Input)
            .Select(static (input, cancellationToken) => Generate(input, cancellationToken))
            .WithTrackingName(TrackingNames.Result)
            .Collect();

        // Decoders: the decoder class and the encoder class it names, each with its weight file.
        var decoders = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                DecoderSpecParser.RnnDecoderAttributeName,
                static (node, _) => node is Microsoft.CodeAnalysis.CSharp.Syntax.ClassDeclarationSyntax or Microsoft.CodeAnalysis.CSharp.Syntax.RecordDeclarationSyntax,
                static (context, cancellationToken) => DecoderSpecParser.Parse(context, cancellationToken))
            .Where(static spec => spec is not null)
            .Select(static (spec, _) => spec!)
            .WithTrackingName(TrackingNames.DecoderSpec);

        var decoderResults = decoders
            .Combine(weightFiles)
            .Combine(projectDirectory)
            .Select(static (input, _) => DecoderInput.Resolve(input.Left.Left, input.Left.Right, input.Right))
            .Select(static (input, cancellationToken) => GenerateDecoder(input, cancellationToken))
            .WithTrackingName(TrackingNames.DecoderResult)
            .Collect();

        context.RegisterSourceOutput(results, static (context, results) => Report(context, results));
        context.RegisterSourceOutput(decoderResults, static (context, results) => Report(context, results));
    }

    private static void Report(SourceProductionContext context, ImmutableArray<GenerationResult> results)
    {
        var hintNames = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var result in results)
        {
            foreach (var diagnostic in result.Diagnostics)
                context.ReportDiagnostic(diagnostic.ToDiagnostic());
            foreach (var source in result.Sources)
            {
                // A class declared twice with [RnnModel] is already a compiler error; emit it once.
                if (hintNames.Add(source.HintName))
                    context.AddSource(source.HintName, source.Text);
            }
        }
    }

    /// <summary>Builds and emits one model. Never throws: anything unexpected becomes SRNN9999. A model with errors
    /// gets only its public surface (<see cref="PlaceholderEmitter"/>), so that its errors are the only ones reported.</summary>
    internal static GenerationResult Generate(ModelInput input, CancellationToken cancellationToken)
    {
        var spec = input.Spec;
        var diagnostics = new List<DiagnosticInfo>(spec.Diagnostics);
        try
        {
            // An ONNX graph's import completes the spec (sizes from the graph): the placeholder of a failed model uses it too.
            if (Build(input, diagnostics, cancellationToken, out spec) is not { } network)
                return Failed(spec, diagnostics);
            cancellationToken.ThrowIfCancellationRequested();

            var hint = HintName(network.Spec);
            var sources = new[]
            {
                new GeneratedSource(hint + ".g.cs", NetworkEmitter.Emit(network)),
                new GeneratedSource(hint + ".Weights.g.cs", WeightsEmitter.Emit(network, input.File!.Hash, input.File.ResourceName)),
                new GeneratedSource(hint + ".Cuda.g.cs", CudaEmitter.Emit(network)),
            };
            return new GenerationResult(sources.ToEquatableArray(), diagnostics.ToEquatableArray());
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InternalError, spec.Location, spec.FullName, $"{e.GetType().Name}: {e.Message}"));
            return Failed(spec, diagnostics);
        }
    }

    /// <summary>Builds one encoder–decoder's decoder. The encoder is built again here from its declaration (the same code,
    /// so the same network its own class has); its errors are reported on it, and here only as one SRNN0050.</summary>
    internal static GenerationResult GenerateDecoder(DecoderInput input, CancellationToken cancellationToken)
    {
        var spec = input.Spec;
        var model = spec.Model;
        var diagnostics = new List<DiagnosticInfo>(model.Diagnostics);
        try
        {
            // A class that is also a model: its model's sources take the hint names; the decoder adds only the error.
            if (diagnostics.Any(d => d.Id == DiagnosticDescriptors.DecoderLayout.Id))
                return GenerationResult.Failed(diagnostics);
            if (spec.Encoder is null || input.Encoder is null)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.DecoderEncoderInvalid, model.LocationOf("encoder"), spec.EncoderName, model.ClassName,
                    (spec.EncoderProblem ?? "it could not be read") + "; expected a static partial class marked [RnnModel] whose last layer is recurrent with ReturnSequences = true"));
                return FailedDecoder(spec, diagnostics);
            }
            var encoderErrors = new List<DiagnosticInfo>(spec.Encoder.Diagnostics);
            var encoder = encoderErrors.Any(d => d.IsError) ? null : Build(input.Encoder, encoderErrors, cancellationToken, out _);
            if (encoder is null)
            {
                var first = encoderErrors.FirstOrDefault(d => d.IsError);
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.DecoderEncoderInvalid, model.LocationOf("encoder"), spec.EncoderName, model.ClassName,
                    $"it does not compile ({(first is null ? "see its errors" : first.Id + ", reported on it")}); fix the encoder first"));
                return FailedDecoder(spec, diagnostics);
            }
            var file = ReadWeightFile(input.Decoder, diagnostics);
            if (file is null || diagnostics.Any(d => d.IsError))
                return FailedDecoder(spec, diagnostics);
            cancellationToken.ThrowIfCancellationRequested();

            var decoder = DecoderBuilder.Build(spec, encoder, file, diagnostics);
            if (decoder is null || diagnostics.Any(d => d.IsError))
                return FailedDecoder(spec, diagnostics);

            var hint = HintName(model);
            var sources = new[]
            {
                new GeneratedSource(hint + ".g.cs", DecoderEmitter.Emit(decoder)),
                new GeneratedSource(hint + ".Weights.g.cs", WeightsEmitter.Emit(decoder.Network, input.Decoder.File!.Hash, input.Decoder.File.ResourceName)),
            };
            return new GenerationResult(sources.ToEquatableArray(), diagnostics.ToEquatableArray());
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InternalError, model.Location, model.FullName, $"{e.GetType().Name}: {e.Message}"));
            return FailedDecoder(spec, diagnostics);
        }
    }

    /// <summary>The decoder's errors, and its public surface with throwing bodies where the class can take it.</summary>
    private static GenerationResult FailedDecoder(DecoderSpec spec, List<DiagnosticInfo> diagnostics)
    {
        var errors = diagnostics.Where(d => d.IsError).ToList();
        if (errors.Count == 0 || !PlaceholderEmitter.CanEmit(errors))
            return GenerationResult.Failed(diagnostics);
        try
        {
            var source = new GeneratedSource(HintName(spec.Model) + ".g.cs", PlaceholderEmitter.EmitDecoder(spec, errors));
            return new GenerationResult(new[] { source }.ToEquatableArray(), diagnostics.ToEquatableArray());
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InternalError, spec.Model.Location, spec.Model.FullName, $"{e.GetType().Name}: {e.Message}"));
            return GenerationResult.Failed(diagnostics);
        }
    }

    /// <summary>Parses the weight file (or imports the ONNX graph), checks the declaration against it and binds the layers;
    /// null after reporting why not.</summary>
    private static Network? Build(ModelInput input, List<DiagnosticInfo> diagnostics, CancellationToken cancellationToken, out ModelSpec spec)
    {
        spec = input.Spec;
        {
            IReadOnlyList<LayerPlan>? plans;
            WeightFile? file;
            if (OnnxFrontEnd.IsOnnx(spec.WeightsPath))
            {
                // The graph declares the network: from here on it is a spec like any other, over PyTorch-named tensors.
                if (WeightBytes(input, diagnostics) is not { } bytes || OnnxFrontEnd.Import(spec, bytes, diagnostics, input.Companion) is not { } import)
                    return null;
                (spec, file) = import;
                plans = ShapeChecker.Check(spec, diagnostics);
                if (plans is null)
                    return null;
            }
            else
            {
                plans = ShapeChecker.Check(spec, diagnostics);
                file = ReadWeightFile(input, diagnostics);
                if (file is null)
                    return null;
                // Where the file describes another declaration that compiles, the errors say what to write instead.
                if (DeclarationRepair.Explain(spec, file, diagnostics) || plans is null)
                    return null;
            }
            cancellationToken.ThrowIfCancellationRequested();

            var layers = WeightBinder.For(spec, file, diagnostics).Bind(plans);
            if (layers is null || diagnostics.Any(d => d.IsError))
                return null;

            return new Network(spec,
                inputSize: layers[0] is EmbeddingLayer ? 1 : spec.InputSize!.Value,
                vocabularySize: layers[0] is EmbeddingLayer embedding ? embedding.VocabularySize : 0,
                layers);
        }
    }

    /// <summary>The errors, and the model's public surface with throwing bodies where the class can take it.</summary>
    private static GenerationResult Failed(ModelSpec spec, List<DiagnosticInfo> diagnostics)
    {
        var errors = diagnostics.Where(d => d.IsError).ToList();
        if (errors.Count == 0 || !PlaceholderEmitter.CanEmit(errors))
            return GenerationResult.Failed(diagnostics);
        try
        {
            var source = new GeneratedSource(HintName(spec) + ".g.cs", PlaceholderEmitter.Emit(spec, errors));
            return new GenerationResult(new[] { source }.ToEquatableArray(), diagnostics.ToEquatableArray());
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InternalError, spec.Location, spec.FullName, $"{e.GetType().Name}: {e.Message}"));
            return GenerationResult.Failed(diagnostics);
        }
    }

    private static WeightFile? ReadWeightFile(ModelInput input, List<DiagnosticInfo> diagnostics)
    {
        if (WeightBytes(input, diagnostics) is not { } bytes)
            return null;
        var spec = input.Spec;
        var file = WeightFileReader.Read(bytes, input.File!.Path, out var error);
        if (file is null)
        {
            // A pickled object array is a tensor of a type StaticRnn cannot convert, like an integer one.
            var unsupported = error!.Kind is WeightFileErrorKind.UnsupportedDType or WeightFileErrorKind.ObjectArray;
            diagnostics.Add(DiagnosticInfo.Create(
                unsupported ? DiagnosticDescriptors.UnsupportedDType : DiagnosticDescriptors.WeightFileDamaged,
                spec.LocationOf("weightsPath"), spec.WeightsPath, error.Message));
        }
        return file;
    }

    /// <summary>The weight file's bytes, or null after reporting why there are none: a format StaticRnn does not read,
    /// a file the project does not have, or one that could not be read.</summary>
    private static byte[]? WeightBytes(ModelInput input, List<DiagnosticInfo> diagnostics)
    {
        var spec = input.Spec;
        var location = spec.LocationOf("weightsPath");
        var extension = System.IO.Path.GetExtension(spec.WeightsPath);
        if (!WeightFileSource.Extensions.Contains(extension, StringComparer.OrdinalIgnoreCase))
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedWeightFormat, location, spec.WeightsPath,
                extension.Length == 0 ? "(none)" : extension, input.OtherWeightFiles.Count == 0 ? "" : OtherFilesHint(input.OtherWeightFiles)));
            return null;
        }
        if (input.File is null)
        {
            var hint = input.ExistsOnDisk
                ? "; the file exists on disk, so add it to the project as <AdditionalFiles Include=\"" + spec.WeightsPath + "\" />"
                : "; no file exists there either";
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.WeightFileNotFound, location, spec.WeightsPath,
                input.ExpectedPath ?? spec.WeightsPath, hint, input.ExistsOnDisk ? "" : OtherFilesHint(input.OtherWeightFiles)));
            return null;
        }
        if (input.File.Bytes is null)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.WeightFileUnreadable, location, spec.WeightsPath, input.File.ReadError ?? ""));
            return null;
        }
        return input.File.Bytes;
    }

    /// <summary>"; did you mean 'models/sine_lstm.safetensors'? ..." naming the project's weight files, closest first.</summary>
    private static string OtherFilesHint(EquatableArray<string> files)
    {
        if (files.Count == 0)
            return "; the project has no weight files among its AdditionalFiles";
        const int Shown = 5;
        var hint = $"; did you mean '{files[0]}'?";
        if (files.Count > 1)
            hint += " The project's weight files, closest first: " + string.Join(", ", files.Take(Shown).Select(f => "'" + f + "'"))
                + (files.Count > Shown ? $" and {files.Count - Shown} more" : "");
        return hint;
    }

    /// <summary>A file name unique to the class: its full name, with a hash added when characters had to be replaced.</summary>
    private static string HintName(ModelSpec spec)
    {
        var safe = Text.ForHintName(spec.FullName);
        if (safe == spec.FullName)
            return safe;
        var hash = 2166136261u;
        foreach (var ch in spec.FullName)
            hash = unchecked((hash ^ ch) * 16777619u);
        return safe + "_" + hash.ToString("x8", System.Globalization.CultureInfo.InvariantCulture);
    }
}

/// <summary>Names of the pipeline steps, for tests that check what the incremental driver cached.</summary>
internal static class TrackingNames
{
    public const string Spec = nameof(Spec);
    public const string WeightFile = nameof(WeightFile);
    public const string Input = nameof(Input);
    public const string Result = nameof(Result);
    public const string DecoderSpec = nameof(DecoderSpec);
    public const string DecoderResult = nameof(DecoderResult);
}

/// <summary>A decoder declaration with its weight file, and its encoder's declaration with the encoder's.</summary>
internal sealed record DecoderInput(DecoderSpec Spec, ModelInput Decoder, ModelInput? Encoder)
{
    public static DecoderInput Resolve(DecoderSpec spec, ImmutableArray<WeightFileInput> files, string? projectDirectory) =>
        new(spec, ModelInput.Resolve(spec.Model, files, projectDirectory),
            spec.Encoder is null ? null : ModelInput.Resolve(spec.Encoder, files, projectDirectory));
}

/// <summary>A model declaration with the weight file it names, once found.</summary>
/// <param name="OtherWeightFiles">When the file is not found: the project's weight files, as paths relative to the
/// project where they lie in it, closest to the declared path first.</param>
/// <param name="Companions">For an .onnx file: the external-data files beside it (<c>*.onnx.data</c>) the project has.</param>
internal sealed record ModelInput(ModelSpec Spec, WeightFileInput? File, string? ExpectedPath, bool ExistsOnDisk, EquatableArray<string> OtherWeightFiles,
    EquatableArray<WeightFileInput> Companions = default)
{
    /// <summary>The bytes of the companion file an ONNX tensor's external-data location names (relative to the model's folder).</summary>
    public byte[]? Companion(string location)
    {
        if (File is null)
            return null;
        var folder = System.IO.Path.GetDirectoryName(File.Path) ?? "";
        var wanted = System.IO.Path.GetFullPath(System.IO.Path.Combine(folder, location));
        return Companions.FirstOrDefault(c => WeightFileSource.SamePath(c.Path, wanted))?.Bytes;
    }

    public static ModelInput Resolve(ModelSpec spec, ImmutableArray<WeightFileInput> files, string? projectDirectory)
    {
        var fullPath = WeightFileSource.FullPath(spec.WeightsPath, projectDirectory);
        WeightFileInput? match = null;
        if (fullPath is not null)
        {
            // The same file may be an AdditionalFiles item twice (from StaticRnn.props and by hand): prefer the embedded one.
            match = files.Where(f => WeightFileSource.SamePath(f.Path, fullPath)).OrderBy(f => f.ResourceName is null).FirstOrDefault();
        }
        else if (spec.WeightsPath.Length > 0)
        {
            // Without the project directory (a build that does not import StaticRnn.props), match by path suffix.
            var suffix = "/" + WeightFileSource.Normalize(spec.WeightsPath).TrimStart('.', '/');
            var matches = files.Where(f => WeightFileSource.Normalize(f.Path).EndsWith(suffix, StringComparison.Ordinal)).ToList();
            match = matches.Count == 1 ? matches[0] : null;
        }
        var exists = match is null && WeightFileSource.ExistsOnDisk(fullPath);
        var others = match is null ? ClosestFirst(spec.WeightsPath, files, projectDirectory) : EquatableArray<string>.Empty;
        // An ONNX model's external data: the files beside it that only exist for it (their bytes are in the cache key).
        var companions = match is not null && Model.OnnxFrontEnd.IsOnnx(match.Path)
            ? files.Where(f => WeightFileSource.IsCompanion(f.Path)
                    && string.Equals(System.IO.Path.GetDirectoryName(f.Path), System.IO.Path.GetDirectoryName(match.Path), StringComparison.Ordinal))
                .ToEquatableArray()
            : EquatableArray<WeightFileInput>.Empty;
        return new ModelInput(spec, match, fullPath, exists, others, companions);
    }

    private static EquatableArray<string> ClosestFirst(string declared, ImmutableArray<WeightFileInput> files, string? projectDirectory)
    {
        var root = projectDirectory is null ? null : WeightFileSource.Normalize(projectDirectory).TrimEnd('/') + "/";
        var wanted = WeightFileSource.Normalize(declared).TrimStart('.', '/');
        return files
            .Where(f => !WeightFileSource.IsCompanion(f.Path))
            .Select(f => WeightFileSource.Normalize(f.Path))
            .Select(path => root is not null && path.StartsWith(root, StringComparison.Ordinal) ? path.Substring(root.Length) : path)
            .Distinct(StringComparer.Ordinal)
            .OrderBy(path => EditDistance(wanted, path))
            .ThenBy(path => path, StringComparer.Ordinal)
            .ToEquatableArray();
    }

    /// <summary>Levenshtein distance, ignoring case: how many characters to insert, delete or change.</summary>
    internal static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
            previous[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var change = char.ToLowerInvariant(a[i - 1]) == char.ToLowerInvariant(b[j - 1]) ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + change);
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}

internal sealed record GeneratedSource(string HintName, string Text);

internal sealed record GenerationResult(EquatableArray<GeneratedSource> Sources, EquatableArray<DiagnosticInfo> Diagnostics)
{
    public static GenerationResult Failed(IEnumerable<DiagnosticInfo> diagnostics) =>
        new(EquatableArray<GeneratedSource>.Empty, diagnostics.ToEquatableArray());
}
