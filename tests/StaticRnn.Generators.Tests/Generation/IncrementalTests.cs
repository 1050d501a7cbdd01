using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
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
        Assert.Equal(2, driver.GetRunResult().GeneratedTrees.Length);
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
}
