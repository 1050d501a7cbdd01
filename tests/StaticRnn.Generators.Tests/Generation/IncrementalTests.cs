using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using StaticRnn.Generators.Parsing;
using StaticRnn.Generators.Weights;
using StaticRnn.Generators.Tests.Infrastructure;
using StaticRnn.Generators.Tests.Weights;
using Xunit;

namespace StaticRnn.Generators.Tests.Generation;

/// <summary>The pipeline's models are values, so the driver can reuse every step when nothing it reads changed.</summary>
public class IncrementalTests
{
    private const string Model = """
        using StaticRnn;
        [RnnModel("model.safetensors", SequenceLength = 5, InputSize = 2)]
        [Lstm(3)]
        [Dense(2)]
        public static partial class Cached { }
        """;

    private static (GeneratorDriver Driver, CSharpCompilation Compilation, AdditionalText WeightFile) FirstRun()
    {
        var directory = GeneratorHarness.NewProjectDirectory();
        var weightFile = new GeneratorHarness.DiskAdditionalText(Path.Combine(directory, "model.safetensors"));
        File.WriteAllBytes(weightFile.Path, new SafeTensorsBuilder().Lstm("rnn", 3, 2).Linear("fc", 2, 3).Build());
        var compilation = GeneratorHarness.CreateCompilation(Model);
        GeneratorDriver driver = GeneratorHarness.CreateDriver([weightFile], directory);
        driver = driver.RunGenerators(compilation);
        Assert.Equal(Diagnostics.DiagnosticAssert.SourcesPerModel, driver.GetRunResult().GeneratedTrees.Length);
        return (driver, compilation, weightFile);
    }

    private static IncrementalStepRunReason[] Reasons(GeneratorDriver driver, string step) =>
        driver.GetRunResult().Results.Single().TrackedSteps[step]
            .SelectMany(s => s.Outputs)
            .Select(o => o.Reason)
            .ToArray();

    [Fact]
    public void An_unrelated_edit_reuses_every_step()
    {
        var (driver, compilation, _) = FirstRun();
        var edited = compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText("class Unrelated { int X => 1; }", GeneratorHarness.ParseOptions));

        driver = driver.RunGenerators(edited);

        Assert.All(Reasons(driver, TrackingNames.Spec), r => Assert.Equal(IncrementalStepRunReason.Cached, r));
        Assert.All(Reasons(driver, TrackingNames.Input), r => Assert.True(r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, r.ToString()));
        Assert.All(Reasons(driver, TrackingNames.Result), r => Assert.True(r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, r.ToString()));
    }

    [Fact]
    public void An_unrelated_edit_reuses_a_decoders_steps()
    {
        var directory = GeneratorHarness.NewProjectDirectory();
        var weightFile = new GeneratorHarness.DiskAdditionalText(Path.Combine(directory, "nmt.safetensors"));
        File.WriteAllBytes(weightFile.Path, new SafeTensorsBuilder()
            .EmbeddingTable("encoder.embedding", 7, 4).Gru("encoder.gru", 3, 4)
            .EmbeddingTable("decoder.embedding", 5, 4)
            .Linear("decoder.attention.Wa", 2, 3).Linear("decoder.attention.Ua", 2, 3).Linear("decoder.attention.Va", 1, 2)
            .Gru("decoder.gru", 3, 7).Linear("decoder.out", 5, 3).Build());
        var compilation = GeneratorHarness.CreateCompilation("""
            using StaticRnn;
            [RnnModel("nmt.safetensors", SequenceLength = 4)]
            [Embedding(7, 4, Weights = "encoder.embedding")]
            [Gru(3, ReturnSequences = true, Weights = "encoder.gru")]
            public static partial class Encoder { }
            [RnnDecoder("nmt.safetensors", typeof(Encoder), MaxLength = 3)]
            [Embedding(5, 4, Weights = "decoder.embedding")]
            [Attention(2, Weights = "decoder.attention")]
            [Gru(3, Weights = "decoder.gru")]
            [Dense(5, Weights = "decoder.out")]
            public static partial class Decoder { }
            """);
        GeneratorDriver driver = GeneratorHarness.CreateDriver([weightFile], directory);
        driver = driver.RunGenerators(compilation);
        Assert.Equal(Diagnostics.DiagnosticAssert.SourcesPerModel + 2, driver.GetRunResult().GeneratedTrees.Length);

        driver = driver.RunGenerators(compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText("class Unrelated { int X => 1; }", GeneratorHarness.ParseOptions)));

        Assert.All(Reasons(driver, TrackingNames.DecoderSpec), r => Assert.Equal(IncrementalStepRunReason.Cached, r));
        Assert.All(Reasons(driver, TrackingNames.DecoderResult), r => Assert.True(r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, r.ToString()));
    }

    [Fact]
    public void New_bytes_in_the_weight_file_regenerate_the_model()
    {
        var (driver, compilation, weightFile) = FirstRun();
        string WeightsSource() => driver.GetRunResult().GeneratedTrees.Single(t => t.FilePath.EndsWith("Cached.Weights.g.cs")).ToString();
        var before = WeightsSource();

        // Same path, new bytes: the compiler hands the generator a new AdditionalText.
        File.WriteAllBytes(weightFile.Path, new SafeTensorsBuilder().Recurrent("rnn", 4, 3, 2, seed: 42).Linear("fc", 2, 3, seed: 43).Build());
        driver = driver.ReplaceAdditionalText(weightFile, new GeneratorHarness.DiskAdditionalText(weightFile.Path));
        driver = driver.RunGenerators(compilation);

        Assert.Contains(IncrementalStepRunReason.Modified, Reasons(driver, TrackingNames.Result));
        Assert.NotEqual(before, WeightsSource());
    }

    [Fact]
    public void Changing_one_model_s_attribute_regenerates_only_that_model()
    {
        var directory = GeneratorHarness.NewProjectDirectory();
        var weightFile = new GeneratorHarness.DiskAdditionalText(Path.Combine(directory, "model.safetensors"));
        File.WriteAllBytes(weightFile.Path, new SafeTensorsBuilder().Lstm("rnn", 3, 2).Linear("fc", 2, 3).Build());
        static string Declaration(string name, int sequenceLength) => $$"""
            using StaticRnn;
            [RnnModel("model.safetensors", SequenceLength = {{sequenceLength}}, InputSize = 2)]
            [Lstm(3)]
            [Dense(2)]
            public static partial class {{name}} { }
            """;
        var first = CSharpSyntaxTree.ParseText(Declaration("First", 5), GeneratorHarness.ParseOptions);
        var second = CSharpSyntaxTree.ParseText(Declaration("Second", 5), GeneratorHarness.ParseOptions);
        var compilation = GeneratorHarness.CreateCompilation().AddSyntaxTrees(first, second);
        GeneratorDriver driver = GeneratorHarness.CreateDriver([weightFile], directory);
        driver = driver.RunGenerators(compilation);
        Assert.Equal(2 * Diagnostics.DiagnosticAssert.SourcesPerModel, driver.GetRunResult().GeneratedTrees.Length);

        var edited = compilation.ReplaceSyntaxTree(second, CSharpSyntaxTree.ParseText(Declaration("Second", 7), GeneratorHarness.ParseOptions));
        driver = driver.RunGenerators(edited);

        var results = driver.GetRunResult().Results.Single().TrackedSteps[TrackingNames.Result]
            .SelectMany(s => s.Outputs)
            .ToDictionary(o => ((GenerationResult)o.Value).Sources[0].HintName, o => o.Reason);
        Assert.Equal(IncrementalStepRunReason.Modified, results["Second.g.cs"]);
        Assert.True(results["First.g.cs"] is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, results["First.g.cs"].ToString());
        Assert.Contains("SequenceLength = 7", driver.GetRunResult().GeneratedTrees.Single(t => t.FilePath.EndsWith("Second.g.cs")).ToString());
    }

    /// <summary>Roslyn objects in a pipeline model would keep whole compilations alive between keystrokes and
    /// compare by reference, so nothing would ever be cached.</summary>
    [Fact]
    public void The_pipeline_models_hold_no_symbols_syntax_or_compilations()
    {
        Type[] roots = [typeof(ModelSpec), typeof(WeightFileInput), typeof(ModelInput), typeof(GenerationResult)];
        Type[] forbidden = [typeof(ISymbol), typeof(SyntaxNode), typeof(SyntaxTree), typeof(Compilation), typeof(SemanticModel),
            typeof(Location), typeof(AttributeData), typeof(SyntaxReference)];
        var seen = new HashSet<Type>();
        var offenders = new List<string>();

        void Walk(Type type, string path)
        {
            if (type.IsArray)
            {
                Walk(type.GetElementType()!, path + "[]");
                return;
            }
            foreach (var argument in type.IsGenericType ? type.GetGenericArguments() : [])
                Walk(argument, $"{path}<{argument.Name}>");
            if (forbidden.Any(f => f.IsAssignableFrom(type)))
                offenders.Add(path + ": " + type.Name);
            if (!seen.Add(type) || type.IsPrimitive || type.IsEnum || type == typeof(string) || type.Namespace?.StartsWith("System", StringComparison.Ordinal) == true)
                return;
            foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
                Walk(field.FieldType, path + "." + field.Name);
        }

        foreach (var root in roots)
            Walk(root, root.Name);
        Assert.True(offenders.Count == 0, "Roslyn objects in pipeline models:\n" + string.Join("\n", offenders));
        Assert.Contains(typeof(StaticRnn.Generators.Diagnostics.LocationInfo), seen);   // the walk reached the nested value types
    }
}
