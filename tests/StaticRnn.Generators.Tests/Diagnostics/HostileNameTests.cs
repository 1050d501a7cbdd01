using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using StaticRnn.Generators.Tests.Infrastructure;
using StaticRnn.Generators.Tests.Weights;
using Xunit;
using static StaticRnn.Generators.Tests.Diagnostics.DiagnosticAssert;

namespace StaticRnn.Generators.Tests.Diagnostics;

/// <summary>Tensor names, prefixes and paths are data from a file: whatever they hold, the generated code compiles
/// cleanly and means what the declaration says.</summary>
public class HostileNameTests
{
    private const string RecurrentPrefix = "my model/ü.\"x";
    private const string DensePrefix = "fc */\n#error \u2028\"); } //";

    private static byte[] HostileFile()
    {
        var builder = new SafeTensorsBuilder().Lstm(RecurrentPrefix, 4, 3).Linear(DensePrefix, 2, 4);
        foreach (var name in HostileText.Names)
        {
            // Unused tensors with hostile names, some of which look like layer groups of the wrong shape.
            builder.AddF32(name, [1], 0.5f);
            builder.AddF32(name + ".weight_ih_l0", [1], 0.5f);
            builder.AddF32(name + ".weight", [1], 0.5f);
        }
        return builder.Build();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Hostile_tensor_names_and_prefixes_are_escaped_in_generated_code(bool explicitWeights)
    {
        var layers = explicitWeights
            ? new[] { $"Lstm(4, Weights = {HostileText.CSharpLiteral(RecurrentPrefix)})", $"Dense(2, Weights = {HostileText.CSharpLiteral(DensePrefix)})" }
            : new[] { "Lstm(4)", "Dense(2)" };
        var run = GeneratorHarness.Run(ModelSource(LstmDenseModelAttribute, layers), At(HostileFile()));

        Succeeds(run);
        HostileText.AssertContained(run.Sources);
        var all = string.Concat(run.Sources.Values);
        // The names are there for the reader, escaped, in comments.
        Assert.Contains("// my model/ü.\"x.weight_ih_l0 [16, 3]", all);
        Assert.Contains("fc */\\u000A#error \\u2028\"); } //.weight [2, 4]", all);
        // The unused hostile tensors are not mentioned at all.
        Assert.DoesNotContain("boom", all);
        Assert.DoesNotContain("Evil", all);
        Assert.DoesNotContain("passwd", all);
    }

    [Fact]
    public void Hostile_tensors_beside_the_model_s_own_change_nothing_that_is_generated_for_it()
    {
        // The same layers from a clean file and from one that also holds every hostile name (and NumPy archives
        // whose member names try path traversal): the generated code may differ only in the file's hash.
        var clean = new SafeTensorsBuilder().Lstm("rnn", 4, 3).Linear("fc", 2, 4).Build();
        var hostile = new SafeTensorsBuilder().Lstm("rnn", 4, 3).Linear("fc", 2, 4);
        foreach (var name in HostileText.Names)
            hostile.AddF32(name, [1], 0.5f);
        var layers = new[] { "Lstm(4, Weights = \"rnn\")", "Dense(2, Weights = \"fc\")" };

        var expected = GeneratorHarness.Run(ModelSource(LstmDenseModelAttribute, layers), At(clean));
        var actual = GeneratorHarness.Run(ModelSource(LstmDenseModelAttribute, layers), At(hostile.Build()));
        Succeeds(expected);
        Succeeds(actual);
        Assert.Equal(WithoutHash(expected), WithoutHash(actual));

        static string WithoutHash(GeneratorRun run) =>
            string.Join("\n", run.Sources.OrderBy(s => s.Key).SelectMany(s => HostileText.Lines(s.Value)).Where(l => !l.Contains("SHA-256")));
    }

    [Fact]
    public void Npz_member_names_that_look_like_paths_are_only_names()
    {
        // A zip member is never opened as a file: "../x.npy" names a tensor "../x", nothing more.
        var weights = new NpzBuilder()
            .Add("../../outside/kernel.npy", NpyBuilder.F32("(1,)", 1f))
            .Add("/etc/passwd.npy", NpyBuilder.F32("(1,)", 2f))
            .Add("C:\\Windows\\x.npy", NpyBuilder.F32("(1,)", 3f))
            .Add("dense/kernel.npy", NpyBuilder.F32("(3, 2)", 1, 2, 3, 4, 5, 6))
            .Build();
        var run = GeneratorHarness.Run(ModelSource(
            "RnnModel(\"models/m.npz\", SequenceLength = 1, InputSize = 3, Convention = WeightConvention.Keras)", "Dense(2)"),
            At(weights, "models/m.npz"));

        Succeeds(run);
        var all = string.Concat(run.Sources.Values);
        Assert.Contains("dense/kernel [3, 2]", all);
        Assert.DoesNotContain("passwd", all);
        Assert.DoesNotContain("outside", all);
    }

    [Fact]
    public void Hostile_text_in_diagnostics_is_reported_without_breaking_anything()
    {
        // An unknown prefix makes the generator list every LSTM-like group, hostile names included.
        var run = GeneratorHarness.Run(
            ModelSource(LstmDenseModelAttribute, "Lstm(4, Weights = \"nothing\")", "Dense(2, Weights = \"nothing either\")"),
            At(HostileFile()));

        var diagnostics = Fails(run, "SRNN0012", "SRNN0012");
        var lstm = diagnostics.Single(d => LocatedText(run, d) == "\"nothing\"");
        Says(lstm, "\"my model/ü.\"x\"");
        var dense = diagnostics.Single(d => LocatedText(run, d) == "\"nothing either\"");
        Says(dense, "#error");
    }

    [Fact]
    public void A_weight_file_path_with_odd_characters_is_escaped_in_generated_code()
    {
        const string path = "models/odd */ \u2028 #error \"q\" <b>&amp; \u202E.safetensors";
        var run = GeneratorHarness.Run(
            ModelSource($"RnnModel({HostileText.CSharpLiteral(path)}, SequenceLength = 5, InputSize = 3)",
                "Lstm(4, Weights = \"rnn\")", "Dense(2, Weights = \"fc\")"),
            new ProjectFile(path, LstmDenseFile()));

        Succeeds(run);
        HostileText.AssertContained(run.Sources);
        Assert.Contains("odd */ \\u2028 #error \"q\"", string.Concat(run.Sources.Values));
    }

    [Fact]
    public void Generated_xml_documentation_is_well_formed_whatever_the_names()
    {
        const string path = "models/a<b>&c\"d'.safetensors";
        var source = $$"""
            using StaticRnn;
            namespace App;
            [RnnModel({{HostileText.CSharpLiteral(path)}}, SequenceLength = 5, InputSize = 3)]
            [Lstm(4, Weights = {{HostileText.CSharpLiteral(RecurrentPrefix)}})]
            [Dense(2, Weights = {{HostileText.CSharpLiteral(DensePrefix)}})]
            internal static partial class Model { }
            """;
        var directory = GeneratorHarness.NewProjectDirectory();
        var file = Path.Combine(directory, path);
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllBytes(file, HostileFile());

        // As a project with <GenerateDocumentationFile> builds it: doc comments are checked (CS1570 and friends).
        var parseOptions = GeneratorHarness.ParseOptions.WithDocumentationMode(DocumentationMode.Diagnose);
        var compilation = GeneratorHarness.CreateCompilation(source);
        compilation = compilation.ReplaceSyntaxTree(compilation.SyntaxTrees.Single(),
            CSharpSyntaxTree.ParseText(source, parseOptions, path: "Source0.cs"));
        var driver = CSharpGeneratorDriver.Create(
            [new RnnModelGenerator().AsSourceGenerator()],
            [new GeneratorHarness.DiskAdditionalText(file)],
            parseOptions,
            new ProjectDirectoryOptions(directory));
        driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);

        Assert.Empty(generatorDiagnostics);
        Assert.Equal(DiagnosticAssert.SourcesPerModel, output.SyntaxTrees.Count() - 1);
        var warnings = output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
        Assert.True(warnings.Count == 0, Describe(warnings));
    }

    [Fact]
    public void Keyword_identifiers_in_the_declaration_stay_escaped_in_generated_code()
    {
        var run = GeneratorHarness.Run("""
            using StaticRnn;
            namespace App.@event
            {
                public static partial class @class
                {
                    [RnnModel("models/m.safetensors", SequenceLength = 5, InputSize = 3)]
                    [Lstm(4, Weights = "rnn")]
                    [Dense(2, Weights = "fc")]
                    public static partial class @checked { }
                }
            }
            """, At(LstmDenseFile()));

        Succeeds(run);
        HostileText.AssertContained(run.Sources);
    }

    private sealed class ProjectDirectoryOptions(string directory) : AnalyzerConfigOptionsProvider
    {
        public override AnalyzerConfigOptions GlobalOptions { get; } =
            new Options(ImmutableDictionary<string, string>.Empty.Add("build_property.MSBuildProjectDirectory", directory));

        public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => new Options(ImmutableDictionary<string, string>.Empty);

        public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => new Options(ImmutableDictionary<string, string>.Empty);

        private sealed class Options(ImmutableDictionary<string, string> values) : AnalyzerConfigOptions
        {
            public override bool TryGetValue(string key, out string value) => values.TryGetValue(key, out value!);
        }
    }
}
