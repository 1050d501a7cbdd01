using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Microsoft.CodeAnalysis;
using StaticRnn.Generators.Tests.Infrastructure;
using StaticRnn.Generators.Tests.Weights;
using Xunit;

namespace StaticRnn.Generators.Tests.Diagnostics;

/// <summary>Shared checks for the diagnostics tests: which diagnostics a run reported, where they point, what they say.</summary>
internal static class DiagnosticAssert
{
    /// <summary>A model declaration in namespace App: <paramref name="modelAttribute"/> then the layer attributes,
    /// on a static partial class named <paramref name="className"/>.</summary>
    public static string ModelSource(string modelAttribute, params string[] layers) => ModelNamed("Model", modelAttribute, layers);

    public static string ModelNamed(string className, string modelAttribute, params string[] layers) =>
        "using StaticRnn;\n"
        + "namespace App;\n"
        + "[" + modelAttribute + "]\n"
        + string.Concat(layers.Select(l => "[" + l + "]\n"))
        + "public static partial class " + className + " { }\n";

    /// <summary>The small valid model most tests start from: Lstm 3 -> 4 under "rnn", Linear 4 -> 2 under "fc".</summary>
    public static byte[] LstmDenseFile() => new SafeTensorsBuilder().Lstm("rnn", 4, 3).Linear("fc", 2, 4).Build();

    public const string LstmDenseModelAttribute = "RnnModel(\"models/m.safetensors\", SequenceLength = 5, InputSize = 3)";

    public static string LstmDenseSource() =>
        ModelSource(LstmDenseModelAttribute, "Lstm(4, Weights = \"rnn\")", "Dense(2, Weights = \"fc\")");

    public static ProjectFile At(byte[] bytes, string path = "models/m.safetensors") => new(path, bytes);

    /// <summary>The generator neither threw nor crashed (CS8785, AD0001) nor hit its own last resort (SRNN9999).</summary>
    public static void NoCrash(GeneratorRun run)
    {
        Assert.Null(run.GeneratorException);
        var crashes = run.AllDiagnostics.Where(d => d.Id is "CS8785" or "AD0001" or "SRNN9999").ToList();
        Assert.True(crashes.Count == 0, "The generator crashed:\n" + Describe(crashes));
    }

    /// <summary>Asserts the generator reported exactly these diagnostic IDs (as a multiset, any order), did not crash,
    /// and generated no network: only the model's placeholder surface (<see cref="Placeholder"/>), or nothing when
    /// the class cannot take a generated part. Returns the diagnostics.</summary>
    public static IReadOnlyList<Diagnostic> Fails(GeneratorRun run, params string[] expectedIds)
    {
        NoCrash(run);
        var diagnostics = run.GeneratorDiagnostics.ToList();
        Assert.True(
            expectedIds.OrderBy(x => x, StringComparer.Ordinal).SequenceEqual(diagnostics.Select(d => d.Id).OrderBy(x => x, StringComparer.Ordinal)),
            $"Expected [{string.Join(", ", expectedIds)}], got:\n{Describe(diagnostics)}");
        Assert.All(diagnostics, d => Assert.Equal(DiagnosticSeverity.Error, d.Severity));
        var classErrors = diagnostics.Any(d => d.Id is "SRNN0020" or "SRNN0021" or "SRNN0022" or "SRNN0024");
        if (classErrors)
        {
            Assert.True(run.Sources.Count == 0, "Expected no generated source, got: " + string.Join(", ", run.Sources.Keys));
        }
        else
        {
            Assert.True(run.Sources.Count > 0 && run.Sources.All(s => s.Key.EndsWith(".g.cs", StringComparison.Ordinal) && IsPlaceholder(s.Value)),
                "Expected only placeholder sources, got: " + string.Join(", ", run.Sources.Keys));
            // Each placeholder's exceptions carry every error of its model.
            foreach (var source in run.Sources.Values)
                Assert.All(diagnostics.Where(d => source.Contains("\"StaticRnn did not compile '" + ModelNameIn(source) + "'", StringComparison.Ordinal))
                    .Select(d => d.Id), id => Assert.Contains(id, source, StringComparison.Ordinal));
        }
        // The user's code and the placeholders must not gain compiler diagnostics from anything the generator did.
        Assert.True(run.CompilationDiagnostics.IsEmpty, "Compilation diagnostics:\n" + Describe(run.CompilationDiagnostics));
        return diagnostics;
    }

    /// <summary>Whether a generated source is a model's placeholder surface (members that throw) rather than a network.</summary>
    public static bool IsPlaceholder(string source) =>
        source.Contains("private const string StaticRnnBuildErrors = ", StringComparison.Ordinal) && !source.Contains("ForwardPass", StringComparison.Ordinal);

    private static string ModelNameIn(string source)
    {
        const string Marker = "StaticRnn did not compile '";
        var start = source.IndexOf(Marker, StringComparison.Ordinal) + Marker.Length;
        return source.Substring(start, source.IndexOf('\'', start) - start);
    }

    /// <summary>Like <see cref="Fails"/> for a single expected diagnostic; returns it.</summary>
    public static Diagnostic FailsWith(GeneratorRun run, string id) => Fails(run, id).Single();

    /// <summary>Files generated for one model: the network, its weights and its CUDA scorer.</summary>
    public const int SourcesPerModel = 3;

    /// <summary>The generator succeeded: no diagnostic at all, sources generated, and they compile without warnings.</summary>
    public static void Succeeds(GeneratorRun run, int expectedSources = SourcesPerModel)
    {
        NoCrash(run);
        Assert.True(run.AllDiagnostics.IsEmpty(), "Expected no diagnostics, got:\n" + Describe(run.AllDiagnostics));
        Assert.Equal(expectedSources, run.Sources.Count);
    }

    public static string Message(Diagnostic diagnostic) => diagnostic.GetMessage(CultureInfo.InvariantCulture);

    /// <summary>The source text the diagnostic's location covers. The generator builds its locations from a file
    /// path and spans (it may not keep syntax trees in its cached models), so the tree is found by path; the line
    /// span the location carries must agree with the tree.</summary>
    public static string LocatedText(GeneratorRun run, Diagnostic diagnostic)
    {
        var location = diagnostic.Location;
        Assert.True(location != Location.None, $"{diagnostic.Id} has no location: {Message(diagnostic)}");
        var tree = location.SourceTree;
        if (tree is null)
        {
            var path = location.GetLineSpan().Path;
            tree = run.InputCompilation.SyntaxTrees.FirstOrDefault(t => t.FilePath == path);
            Assert.True(tree is not null, $"{diagnostic.Id} points at '{path}', which is not a source file of the project");
        }
        Assert.True(location.SourceSpan.End <= tree!.Length, $"{diagnostic.Id}'s span {location.SourceSpan} lies outside '{tree.FilePath}'");
        Assert.Equal(tree.GetLineSpan(location.SourceSpan).Span, location.GetLineSpan().Span);
        return tree.GetText().ToString(location.SourceSpan);
    }

    /// <summary>The diagnostic points exactly at <paramref name="expected"/> (e.g. an argument expression).</summary>
    public static void LocatedAt(GeneratorRun run, Diagnostic diagnostic, string expected) =>
        Assert.Equal(expected, LocatedText(run, diagnostic));

    /// <summary>The diagnostic points at a span starting with <paramref name="prefix"/> (e.g. a whole attribute).</summary>
    public static void LocatedOn(GeneratorRun run, Diagnostic diagnostic, string prefix)
    {
        var text = LocatedText(run, diagnostic);
        Assert.True(text.StartsWith(prefix, StringComparison.Ordinal), $"{diagnostic.Id} points at «{text}», expected it to start with «{prefix}»");
    }

    /// <summary>The message holds every one of <paramref name="parts"/>.</summary>
    public static void Says(Diagnostic diagnostic, params string[] parts)
    {
        var message = Message(diagnostic);
        foreach (var part in parts)
            Assert.True(message.Contains(part, StringComparison.Ordinal), $"{diagnostic.Id}'s message lacks «{part}»:\n{message}");
    }

    public static string Describe(IEnumerable<Diagnostic> diagnostics) =>
        string.Join("\n", diagnostics.Select(d => $"  {d.Id} {d.Location.GetLineSpan()}: {Message(d)}"));

    private static bool IsEmpty<T>(this IEnumerable<T> items) => !items.Any();
}
