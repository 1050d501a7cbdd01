using System;
using System.IO;
using System.Linq;
using System.Reflection;
using StaticRnn.Generators.Tests.Infrastructure;
using StaticRnn.Generators.Tests.Weights;
using Xunit;
using static StaticRnn.Generators.Tests.Diagnostics.DiagnosticAssert;

namespace StaticRnn.Generators.Tests.Generation;

/// <summary>A model with build errors still gets its public surface, so code that uses it compiles and the SRNN errors
/// are the only ones reported; every member throws, naming them.</summary>
public class PlaceholderTests
{
    /// <summary>Code that uses every public member a unidirectional feature model has.</summary>
    private const string FeatureUser = """
        namespace App;
        public static class User
        {
            public static void Use()
            {
                var input = new float[Model.SequenceLength * Model.InputSize];
                var output = new float[Model.OutputSize];
                Model.Predict(input, output);
                Model.PredictBatch(input, output);
                Model.Warmup();
                var state = default(Model.State);
                Model.Step(ref state, new float[Model.InputSize], new float[Model.StepOutputSize]);
                state.CopyTo(new float[Model.State.Size]);
                state = Model.State.From(new float[Model.State.Size]);
                using var scorer = Model.CreateCudaScorer();
                _ = Model.CudaKernel;
            }

            /// <summary>Calls each member; returns what each threw.</summary>
            public static string[] CallEach()
            {
                var messages = new System.Collections.Generic.List<string>();
                void Call(System.Action action)
                {
                    try { action(); messages.Add("returned"); }
                    catch (System.Exception e) { messages.Add(e.GetType().Name + ": " + e.Message); }
                }
                var state = default(Model.State);
                Call(() => Model.Predict(new float[Model.SequenceLength * Model.InputSize], new float[Model.OutputSize]));
                Call(() => Model.PredictBatch(new float[Model.SequenceLength * Model.InputSize], new float[Model.OutputSize]));
                Call(Model.Warmup);
                Call(() => Model.Step(ref state, new float[Model.InputSize], new float[Model.StepOutputSize]));
                Call(() => state.CopyTo(new float[Model.State.Size]));
                Call(() => Model.State.From(new float[Model.State.Size]));
                Call(() => Model.CreateCudaScorer());
                Call(() => _ = Model.CudaKernel);
                return messages.ToArray();
            }
        }
        """;

    private const string TokenUser = """
        namespace App;
        public static class User
        {
            public static void Use()
            {
                var tokens = new int[Model.SequenceLength];
                var output = new float[Model.OutputSize];
                Model.Predict(tokens, output);
                Model.PredictBatch(tokens, output);
                var state = default(Model.State);
                Model.Step(ref state, Model.VocabularySize - 1, new float[Model.StepOutputSize]);
            }
        }
        """;

    [Fact]
    public void Code_using_a_model_with_errors_gets_only_the_model_s_errors()
    {
        var source = ModelSource(LstmDenseModelAttribute, "Lstm(16, Weights = \"rnn\")", "Dense(2, Weights = \"fc\")");
        var run = GeneratorHarness.Run([source, FeatureUser], [At(LstmDenseFile())]);

        // One SRNN error, no CS0117 for each member the user's code calls (Fails checks the compilation is clean).
        FailsWith(run, "SRNN0011");
        var placeholder = run.Sources["App.Model.g.cs"];
        Assert.Contains("public const int SequenceLength = 5;", placeholder);
        Assert.Contains("public const int InputSize = 3;", placeholder);
    }

    [Fact]
    public void Every_member_throws_an_InvalidOperationException_naming_the_errors()
    {
        var source = ModelSource(LstmDenseModelAttribute, "Lstm(16, Weights = \"rnn\")", "Dense(2, Weights = \"fc\")");
        var run = GeneratorHarness.Run([source, FeatureUser], [At(LstmDenseFile())]);
        var messages = (string[])Load(run).GetType("App.User")!.GetMethod("CallEach")!.Invoke(null, null)!;

        Assert.Equal(8, messages.Length);
        Assert.All(messages, m => Assert.StartsWith(
            "InvalidOperationException: StaticRnn did not compile 'App.Model' because of its build errors SRNN0011 at Source0.cs(4,", m));
    }

    [Fact]
    public void A_token_model_s_placeholder_takes_tokens()
    {
        var file = new SafeTensorsBuilder().EmbeddingTable("emb", 12, 3).Lstm("rnn", 4, 3).Linear("fc", 2, 4).Build();
        var source = ModelSource("RnnModel(\"models/m.safetensors\", SequenceLength = 5)",
            "Embedding(10, 3, Weights = \"emb\")", "Lstm(4, Weights = \"rnn\")", "Dense(2, Weights = \"fc\")");
        var run = GeneratorHarness.Run([source, TokenUser], [At(file)]);

        FailsWith(run, "SRNN0011");
        Assert.Contains("public const int VocabularySize = 10;", run.Sources["App.Model.g.cs"]);
    }

    [Fact]
    public void Errors_in_the_declaration_itself_still_give_the_surface()
    {
        // No SequenceLength, a hidden size of 0: the constants fall back to 1 where the declaration gives no valid value.
        var source = ModelSource("RnnModel(\"models/m.safetensors\", InputSize = 3)", "Lstm(0, Weights = \"rnn\")", "Dense(2, Weights = \"fc\")");
        var run = GeneratorHarness.Run([source, FeatureUser], [At(LstmDenseFile())]);

        Fails(run, "SRNN0030", "SRNN0035");
        Assert.Contains("public const int SequenceLength = 1;", run.Sources["App.Model.g.cs"]);
    }

    [Fact]
    public void A_missing_weight_file_still_gives_the_surface()
    {
        var run = GeneratorHarness.Run([LstmDenseSource(), FeatureUser], []);

        FailsWith(run, "SRNN0001");
        Assert.True(IsPlaceholder(run.Sources["App.Model.g.cs"]));
    }

    [Fact]
    public void A_class_that_cannot_take_a_generated_part_gets_nothing()
    {
        // Not partial: a second part would only add compiler errors.
        var source = LstmDenseSource().Replace("public static partial class", "public static class", StringComparison.Ordinal);
        var run = GeneratorHarness.Run(source, At(LstmDenseFile()));

        FailsWith(run, "SRNN0020");
        Assert.Empty(run.Sources);
    }

    [Fact]
    public void A_bidirectional_model_s_placeholder_has_no_Step_like_the_model()
    {
        var source = ModelSource(LstmDenseModelAttribute, "Lstm(4, Weights = \"rnn\", Bidirectional = true)", "Dense(2, Weights = \"fc\")");
        var run = GeneratorHarness.Run(source, At(LstmDenseFile()));

        FailsWith(run, "SRNN0010");
        var placeholder = run.Sources["App.Model.g.cs"];
        Assert.DoesNotContain("Step(", placeholder);
        Assert.DoesNotContain("struct State", placeholder);
    }

    private static Assembly Load(GeneratorRun run)
    {
        using var stream = new MemoryStream();
        var emitted = run.OutputCompilation.Emit(stream);
        Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics));
        return Assembly.Load(stream.ToArray());
    }
}
