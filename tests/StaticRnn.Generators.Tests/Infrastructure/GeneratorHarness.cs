using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;

namespace StaticRnn.Generators.Tests.Infrastructure;

/// <summary>The outcome of running the generator over one in-memory project.</summary>
public sealed record GeneratorRun(
    ImmutableArray<Diagnostic> GeneratorDiagnostics,
    ImmutableArray<Diagnostic> CompilationDiagnostics,
    ImmutableDictionary<string, string> Sources,
    Exception? GeneratorException,
    GeneratorDriver Driver,
    Compilation InputCompilation,
    Compilation OutputCompilation)
{
    public IEnumerable<Diagnostic> Errors => GeneratorDiagnostics.Concat(CompilationDiagnostics).Where(d => d.Severity == DiagnosticSeverity.Error);

    /// <summary>Generator diagnostics plus compiler warnings and errors of the generated code.</summary>
    public IEnumerable<Diagnostic> AllDiagnostics => GeneratorDiagnostics.Concat(CompilationDiagnostics);
}

/// <summary>A weight file placed in the test project directory at a relative path; <paramref name="ResourceName"/>
/// is the StaticRnnResource metadata StaticRnn.props gives a file it embeds.</summary>
public sealed record ProjectFile(string RelativePath, byte[] Bytes, bool IsAdditionalFile = true, string? ResourceName = null);

/// <summary>Runs <see cref="RnnModelGenerator"/> the way the compiler does, over a project written to a temporary
/// directory (the generator reads weight files by path), and compiles the result.</summary>
public static class GeneratorHarness
{
    public static readonly CSharpParseOptions ParseOptions = CSharpParseOptions.Default.WithLanguageVersion(LanguageVersion.Latest);

    private static readonly ImmutableArray<MetadataReference> s_references =
    [
        .. Basic.Reference.Assemblies.Net100.References.All,
        MetadataReference.CreateFromFile(typeof(StaticRnn.RnnModelAttribute).Assembly.Location),
    ];

    public static CSharpCompilation CreateCompilation(params string[] sources) =>
        CSharpCompilation.Create(
            "TestProject",
            sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, ParseOptions, path: $"Source{i}.cs")),
            s_references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, warningLevel: 9999));

    /// <summary>A fresh, empty project directory.</summary>
    public static string NewProjectDirectory()
    {
        var directory = Path.Combine(Path.GetTempPath(), "staticrnn-generator-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        return directory;
    }

    public static GeneratorRun Run(string source, params ProjectFile[] files) => Run([source], files);

    public static GeneratorRun Run(string[] sources, ProjectFile[] files, string? projectDirectory = null)
    {
        projectDirectory ??= NewProjectDirectory();
        var additional = new List<AdditionalText>();
        foreach (var file in files)
        {
            var path = Path.Combine(projectDirectory, file.RelativePath);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, file.Bytes);
            if (file.IsAdditionalFile)
                additional.Add(new DiskAdditionalText(path, file.ResourceName));
        }

        var compilation = CreateCompilation(sources);
        GeneratorDriver driver = CreateDriver(additional, projectDirectory);
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        return Result(driver, compilation, output, generatorDiagnostics);
    }

    public static CSharpGeneratorDriver CreateDriver(IEnumerable<AdditionalText> additional, string? projectDirectory) =>
        CSharpGeneratorDriver.Create(
            [new RnnModelGenerator().AsSourceGenerator()],
            additional,
            ParseOptions,
            new GlobalOptionsProvider(projectDirectory),
            new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    public static GeneratorRun Result(GeneratorDriver driver, Compilation input, Compilation output, ImmutableArray<Diagnostic> generatorDiagnostics)
    {
        var result = driver.GetRunResult().Results.Single();
        var sources = result.GeneratedSources.ToImmutableDictionary(s => s.HintName, s => s.SourceText.ToString());
        var compilationDiagnostics = output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToImmutableArray();
        return new GeneratorRun(generatorDiagnostics, compilationDiagnostics, sources, result.Exception, driver, input, output);
    }

    /// <summary>An AdditionalFiles item on disk. Like the compiler's, its text is the file decoded as text;
    /// the generator must never ask for it, so asking fails the test.</summary>
    public sealed class DiskAdditionalText(string path, string? resourceName = null) : AdditionalText
    {
        public override string Path { get; } = path;

        /// <summary>The item's StaticRnnResource metadata, if any.</summary>
        public string? ResourceName { get; } = resourceName;

        public override SourceText? GetText(CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("The generator must read weight files by path, never through GetText (CS2015 for binary files).");
    }

    private sealed class GlobalOptionsProvider(string? projectDirectory) : AnalyzerConfigOptionsProvider
    {
        public override AnalyzerConfigOptions GlobalOptions { get; } = new Options(projectDirectory is null
            ? ImmutableDictionary<string, string>.Empty
            : ImmutableDictionary<string, string>.Empty.Add("build_property.MSBuildProjectDirectory", projectDirectory));

        public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => Options.Empty;

        public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) =>
            textFile is DiskAdditionalText { ResourceName: { } name }
                ? new Options(ImmutableDictionary<string, string>.Empty.Add("build_metadata.AdditionalFiles.StaticRnnResource", name))
                : Options.Empty;

        private sealed class Options(ImmutableDictionary<string, string> values) : AnalyzerConfigOptions
        {
            public static readonly Options Empty = new(ImmutableDictionary<string, string>.Empty);

            public override bool TryGetValue(string key, out string value) => values.TryGetValue(key, out value!);
        }
    }
}
