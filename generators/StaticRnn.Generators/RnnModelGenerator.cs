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

        context.RegisterSourceOutput(results, static (context, results) =>
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
        });
    }

    /// <summary>Builds and emits one model. Never throws: anything unexpected becomes SRNN9999.</summary>
    internal static GenerationResult Generate(ModelInput input, CancellationToken cancellationToken)
    {
        var spec = input.Spec;
        var diagnostics = new List<DiagnosticInfo>(spec.Diagnostics);
        try
        {
            var plans = ShapeChecker.Check(spec, diagnostics);
            var file = ReadWeightFile(input, diagnostics);
            if (plans is null || file is null)
                return GenerationResult.Failed(diagnostics);
            cancellationToken.ThrowIfCancellationRequested();

            var layers = WeightBinder.For(spec, file, diagnostics).Bind(plans);
            if (layers is null || diagnostics.Any(d => d.IsError))
                return GenerationResult.Failed(diagnostics);

            var network = new Network(spec,
                inputSize: layers[0] is EmbeddingLayer ? 1 : spec.InputSize!.Value,
                vocabularySize: layers[0] is EmbeddingLayer embedding ? embedding.VocabularySize : 0,
                layers);
            cancellationToken.ThrowIfCancellationRequested();

            var hint = HintName(spec);
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
            return GenerationResult.Failed(diagnostics);
        }
    }

    private static WeightFile? ReadWeightFile(ModelInput input, List<DiagnosticInfo> diagnostics)
    {
        var spec = input.Spec;
        var location = spec.LocationOf("weightsPath");
        var extension = System.IO.Path.GetExtension(spec.WeightsPath);
        if (!WeightFileSource.Extensions.Contains(extension, StringComparer.OrdinalIgnoreCase))
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedWeightFormat, location, spec.WeightsPath,
                extension.Length == 0 ? "(none)" : extension));
            return null;
        }
        if (input.File is null)
        {
            var hint = input.ExistsOnDisk
                ? "; the file exists on disk, so add it to the project as <AdditionalFiles Include=\"" + spec.WeightsPath + "\" />"
                : "; no file exists there either";
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.WeightFileNotFound, location, spec.WeightsPath,
                input.ExpectedPath ?? spec.WeightsPath, hint));
            return null;
        }
        if (input.File.Bytes is null)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.WeightFileUnreadable, location, spec.WeightsPath, input.File.ReadError ?? ""));
            return null;
        }
        var file = WeightFileReader.Read(input.File.Bytes, input.File.Path, out var error);
        if (file is null)
        {
            // A pickled object array is a tensor of a type StaticRnn cannot convert, like an integer one.
            var unsupported = error!.Kind is WeightFileErrorKind.UnsupportedDType or WeightFileErrorKind.ObjectArray;
            diagnostics.Add(DiagnosticInfo.Create(
                unsupported ? DiagnosticDescriptors.UnsupportedDType : DiagnosticDescriptors.WeightFileDamaged,
                location, spec.WeightsPath, error.Message));
        }
        return file;
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
}

/// <summary>A model declaration with the weight file it names, once found.</summary>
internal sealed record ModelInput(ModelSpec Spec, WeightFileInput? File, string? ExpectedPath, bool ExistsOnDisk)
{
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
        return new ModelInput(spec, match, fullPath, exists);
    }
}

internal sealed record GeneratedSource(string HintName, string Text);

internal sealed record GenerationResult(EquatableArray<GeneratedSource> Sources, EquatableArray<DiagnosticInfo> Diagnostics)
{
    public static GenerationResult Failed(IEnumerable<DiagnosticInfo> diagnostics) =>
        new(EquatableArray<GeneratedSource>.Empty, diagnostics.ToEquatableArray());
}
