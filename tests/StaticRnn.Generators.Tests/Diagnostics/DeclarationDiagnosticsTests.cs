using System.Linq;
using StaticRnn.Generators.Tests.Infrastructure;
using StaticRnn.Generators.Tests.Weights;
using Xunit;
using static StaticRnn.Generators.Tests.Diagnostics.DiagnosticAssert;

namespace StaticRnn.Generators.Tests.Diagnostics;

/// <summary>SRNN0020-SRNN0036: what is wrong with the class or the attributes, whatever the weight file holds.
/// Every test here gives the generator a valid weight file, so only the declaration can be at fault.</summary>
public class DeclarationDiagnosticsTests
{
    private const string ModelAttributes = """
        [RnnModel("models/m.safetensors", SequenceLength = 5, InputSize = 3)]
        [Lstm(4, Weights = "rnn")]
        [Dense(2, Weights = "fc")]
        """;

    private static GeneratorRun RunWithValidFile(params string[] sources) =>
        GeneratorHarness.Run(sources, [At(LstmDenseFile())]);

    // ---- The class: SRNN0020-SRNN0023 ----

    [Fact]
    public void SRNN0020_when_the_class_is_not_partial()
    {
        var run = RunWithValidFile($$"""
            using StaticRnn;
            namespace App;
            {{ModelAttributes}}
            public static class Model { }
            """);

        var diagnostic = FailsWith(run, "SRNN0020");
        LocatedAt(run, diagnostic, "Model");
        Says(diagnostic, "'Model'", "'partial'");
    }

    [Fact]
    public void A_record_model_is_not_ignored_silently()
    {
        // [RnnModel] may sit on a record class (AttributeTargets.Class): the generator must either compile it or say why not.
        var run = RunWithValidFile($$"""
            using StaticRnn;
            namespace App;
            {{ModelAttributes}}
            public partial record Model;
            """);

        NoCrash(run);
        if (run.Sources.Count == 0)
        {
            var diagnostic = Assert.Single(run.GeneratorDiagnostics);
            Assert.StartsWith("SRNN", diagnostic.Id);
            LocatedAt(run, diagnostic, "Model");
            Says(diagnostic, "'Model'", "record");
        }
        else
        {
            Assert.Empty(run.AllDiagnostics);
        }
    }

    [Fact]
    public void SRNN0021_when_a_containing_class_is_not_partial()
    {
        var run = RunWithValidFile($$"""
            using StaticRnn;
            namespace App;
            public partial class Outer
            {
                public class Middle
                {
                    {{ModelAttributes}}
                    public static partial class Inner { }
                }
            }
            """);

        var diagnostic = FailsWith(run, "SRNN0021");
        LocatedAt(run, diagnostic, "Inner");
        Says(diagnostic, "'Inner'", "nested in 'Middle'", "'partial'");
    }

    [Fact]
    public void SRNN0022_when_the_class_is_generic()
    {
        var run = RunWithValidFile($$"""
            using StaticRnn;
            namespace App;
            {{ModelAttributes}}
            public static partial class Model<T> { }
            """);

        var diagnostic = FailsWith(run, "SRNN0022");
        LocatedAt(run, diagnostic, "Model");
        Says(diagnostic, "'Model'", "generic");
    }

    [Fact]
    public void SRNN0022_when_a_containing_class_is_generic_names_that_class()
    {
        var run = RunWithValidFile($$"""
            using StaticRnn;
            namespace App;
            public partial class Outer<T>
            {
                {{ModelAttributes}}
                public static partial class Inner { }
            }
            """);

        var diagnostic = FailsWith(run, "SRNN0022");
        LocatedAt(run, diagnostic, "Inner");
        // What was found: which type is generic. "Inner (or a type it is nested in)" leaves the user to search.
        Says(diagnostic, "'Inner'", "Outer", "generic");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SRNN0023_when_a_layer_attribute_is_on_another_partial_declaration(bool otherFile)
    {
        const string first = """
            using StaticRnn;
            namespace App
            {
                [RnnModel("models/m.safetensors", SequenceLength = 5, InputSize = 3)]
                [Lstm(4, Weights = "rnn")]
                public static partial class Model { }
            }
            """;
        const string second = """
            namespace App
            {
                [StaticRnn.Dense(2, Weights = "fc")]
                public static partial class Model { }
            }
            """;
        var run = otherFile ? RunWithValidFile(first, second) : RunWithValidFile(first + "\n" + second);

        var diagnostic = FailsWith(run, "SRNN0023");
        LocatedAt(run, diagnostic, "StaticRnn.Dense(2, Weights = \"fc\")");
        Says(diagnostic, "[Dense]", "same declaration as [RnnModel]");
    }

    // ---- The network's shape: SRNN0030-SRNN0036 ----

    [Theory]
    [InlineData("RnnModel(\"models/m.safetensors\", InputSize = 3)", "RnnModel(", "found no value")]
    [InlineData("RnnModel(\"models/m.safetensors\", SequenceLength = 0, InputSize = 3)", "0", "found 0")]
    [InlineData("RnnModel(\"models/m.safetensors\", SequenceLength = -5, InputSize = 3)", "-5", "found -5")]
    [InlineData("RnnModel(\"models/m.safetensors\", InputSize = 3, SequenceLength = int.MinValue)", "int.MinValue", "found -2147483648")]
    public void SRNN0030_when_SequenceLength_is_missing_or_below_one(string modelAttribute, string located, string found)
    {
        var run = RunWithValidFile(ModelSource(modelAttribute, "Lstm(4, Weights = \"rnn\")", "Dense(2, Weights = \"fc\")"));

        var diagnostic = FailsWith(run, "SRNN0030");
        if (located == "RnnModel(")
            LocatedOn(run, diagnostic, located);
        else
            LocatedAt(run, diagnostic, located);
        Says(diagnostic, "RnnModel.SequenceLength", "1", found);
    }

    [Fact]
    public void SRNN0030_when_SequenceLength_is_too_large_says_the_limit()
    {
        var run = RunWithValidFile(ModelSource(
            "RnnModel(\"models/m.safetensors\", SequenceLength = 2000000, InputSize = 3)",
            "Lstm(4, Weights = \"rnn\")", "Dense(2, Weights = \"fc\")"));

        var diagnostic = FailsWith(run, "SRNN0030");
        LocatedAt(run, diagnostic, "2000000");
        // "must be set to at least 1; found 2000000" would contradict itself: the message must give the upper limit.
        Says(diagnostic, "2000000", "1048576");
    }

    [Theory]
    [InlineData("RnnModel(\"models/m.safetensors\", SequenceLength = 5)", "RnnModel(", "found no value")]
    [InlineData("RnnModel(\"models/m.safetensors\", SequenceLength = 5, InputSize = 0)", "0", "found 0")]
    [InlineData("RnnModel(\"models/m.safetensors\", SequenceLength = 5, InputSize = -1)", "-1", "found -1")]
    public void SRNN0031_when_InputSize_is_missing_or_below_one_and_the_first_layer_is_not_Embedding(
        string modelAttribute, string located, string found)
    {
        var run = RunWithValidFile(ModelSource(modelAttribute, "Lstm(4, Weights = \"rnn\")", "Dense(2, Weights = \"fc\")"));

        var diagnostic = FailsWith(run, "SRNN0031");
        if (located == "RnnModel(")
            LocatedOn(run, diagnostic, located);
        else
            LocatedAt(run, diagnostic, located);
        Says(diagnostic, "RnnModel.InputSize", "1", "not an Embedding", found);
    }

    [Fact]
    public void SRNN0031_when_InputSize_is_too_large_says_the_limit()
    {
        var run = RunWithValidFile(ModelSource(
            "RnnModel(\"models/m.safetensors\", SequenceLength = 5, InputSize = 2000000)",
            "Lstm(4, Weights = \"rnn\")", "Dense(2, Weights = \"fc\")"));

        var diagnostic = FailsWith(run, "SRNN0031");
        LocatedAt(run, diagnostic, "2000000");
        Says(diagnostic, "2000000", "1048576");
    }

    [Fact]
    public void InputSize_is_not_required_when_the_first_layer_is_Embedding()
    {
        var file = new SafeTensorsBuilder().EmbeddingTable("emb", 10, 3).Lstm("rnn", 4, 3).Linear("fc", 2, 4).Build();
        var run = GeneratorHarness.Run(
            ModelSource("RnnModel(\"models/m.safetensors\", SequenceLength = 5)",
                "Embedding(10, 3, Weights = \"emb\")", "Lstm(4, Weights = \"rnn\")", "Dense(2, Weights = \"fc\")"),
            At(file));

        Succeeds(run);
    }

    [Fact]
    public void SRNN0032_when_the_model_has_no_layers()
    {
        var run = RunWithValidFile(ModelSource(LstmDenseModelAttribute));

        var diagnostic = FailsWith(run, "SRNN0032");
        LocatedOn(run, diagnostic, "RnnModel(");
        Says(diagnostic, "'Model'", "declares no layers", "at least one");
    }

    [Fact]
    public void SRNN0033_when_Embedding_is_not_the_first_layer()
    {
        var run = RunWithValidFile(ModelSource(LstmDenseModelAttribute,
            "Lstm(4, Weights = \"rnn\", ReturnSequences = true)", "Embedding(10, 4, Weights = \"emb\")", "Dense(2, Weights = \"fc\")"));

        var diagnostic = FailsWith(run, "SRNN0033");
        LocatedOn(run, diagnostic, "Embedding(10, 4");
        Says(diagnostic, "[Embedding] is layer 2", "must be layer 1");
    }

    [Theory]
    [InlineData("Gru(3, Weights = \"b\")")]
    [InlineData("SimpleRnn(3, Weights = \"b\")")]
    [InlineData("Lstm(3, Weights = \"b\", Bidirectional = true)")]
    public void SRNN0034_when_a_recurrent_layer_follows_a_many_to_one_layer(string second)
    {
        var run = RunWithValidFile(ModelSource(LstmDenseModelAttribute, "Lstm(4, Weights = \"rnn\")", second, "Dense(2, Weights = \"fc\")"));

        var diagnostic = FailsWith(run, "SRNN0034");
        LocatedAt(run, diagnostic, second);
        Says(diagnostic, "Layer 2, " + second.Substring(0, second.IndexOf('(')), "needs a sequence",
            "layer 1, Lstm(4)", "only its final state", "set ReturnSequences = true on layer 1");
    }

    [Theory]
    [InlineData("Dense(4, Weights = \"x\")")]
    [InlineData("Dropout(0.25f)")]
    public void SRNN0034_points_at_the_recurrent_layer_to_change_when_a_non_recurrent_layer_sits_between(string middle)
    {
        var run = RunWithValidFile(ModelSource(LstmDenseModelAttribute,
            "Lstm(4, Weights = \"rnn\")", middle, "Gru(3, Weights = \"b\")", "Dense(2, Weights = \"fc\")"));

        var diagnostic = FailsWith(run, "SRNN0034");
        LocatedAt(run, diagnostic, "Gru(3, Weights = \"b\")");
        Says(diagnostic, "Layer 3, Gru(3)", "needs a sequence");
        // Layer 2 (Dense or Dropout) has no ReturnSequences to set: the fix is on layer 1, the many-to-one Lstm.
        Says(diagnostic, "set ReturnSequences = true on layer 1");
        Assert.DoesNotContain("on layer 2", Message(diagnostic));
    }

    public static TheoryData<string[], string, string[]> InvalidArguments => new()
    {
        { ["Lstm(0, Weights = \"rnn\")", "Dense(2, Weights = \"fc\")"], "0", ["Layer 1, Lstm", "hiddenSize", "between 1 and 1048576", "found 0"] },
        { ["Lstm(hiddenSize: 0, Weights = \"rnn\")", "Dense(2, Weights = \"fc\")"], "0", ["Layer 1, Lstm", "hiddenSize", "found 0"] },
        { ["Lstm(-3, Weights = \"rnn\")", "Dense(2, Weights = \"fc\")"], "-3", ["Layer 1, Lstm", "hiddenSize", "found -3"] },
        { ["Lstm(2000000, Weights = \"rnn\")", "Dense(2, Weights = \"fc\")"], "2000000", ["hiddenSize", "between 1 and 1048576", "found 2000000"] },
        { ["Lstm(4, Weights = \"rnn\", Layers = 0)", "Dense(2, Weights = \"fc\")"], "0", ["Layer 1, Lstm", "Layers", "between 1 and 64", "found 0"] },
        { ["Lstm(4, Weights = \"rnn\", Layers = 65)", "Dense(2, Weights = \"fc\")"], "65", ["Layers", "between 1 and 64", "found 65"] },
        { ["Gru(4, Weights = \"rnn\", Bidirectional = true, MergeMode = (MergeMode)9)", "Dense(2, Weights = \"fc\")"], "(MergeMode)9", ["Layer 1, Gru", "MergeMode", "a defined MergeMode", "found 9"] },
        { ["Lstm(4, Weights = \"rnn\")", "Dense(0, Weights = \"fc\")"], "0", ["Layer 2, Dense", "units", "between 1 and 1048576", "found 0"] },
        { ["Lstm(4, Weights = \"rnn\")", "Dense(2, Weights = \"fc\", Activation = (Activation)42)"], "(Activation)42", ["Layer 2, Dense", "Activation", "found 42"] },
        { ["Lstm(4, Weights = \"rnn\")", "Dropout(1.5f)", "Dense(2, Weights = \"fc\")"], "1.5f", ["Layer 2, Dropout", "rate", "at least 0 and less than 1", "found 1.5"] },
        { ["Lstm(4, Weights = \"rnn\")", "Dropout(-0.5f)", "Dense(2, Weights = \"fc\")"], "-0.5f", ["Layer 2, Dropout", "rate", "found -0.5"] },
        { ["SimpleRnn(4, Weights = \"rnn\", Activation = Activation.Softmax)", "Dense(2, Weights = \"fc\")"], "Activation.Softmax", ["Layer 1, SimpleRnn", "Activation", "Tanh, Relu or Sigmoid", "found Softmax"] },
        { ["SimpleRnn(4, Weights = \"rnn\", Activation = Activation.None)", "Dense(2, Weights = \"fc\")"], "Activation.None", ["Layer 1, SimpleRnn", "Tanh, Relu or Sigmoid", "found None"] },
        { ["Embedding(0, 3, Weights = \"emb\")", "Lstm(4, Weights = \"rnn\")", "Dense(2, Weights = \"fc\")"], "0", ["Layer 1, Embedding", "vocabularySize", "found 0"] },
        { ["Embedding(10, 0, Weights = \"emb\")", "Dense(2, Weights = \"fc\")"], "0", ["Layer 1, Embedding", "embeddingSize", "found 0"] },
    };

    [Theory]
    [MemberData(nameof(InvalidArguments))]
    public void SRNN0035_for_an_invalid_layer_argument(string[] layers, string located, string[] message)
    {
        var run = RunWithValidFile(ModelSource(LstmDenseModelAttribute, layers));

        var diagnostic = FailsWith(run, "SRNN0035");
        LocatedAt(run, diagnostic, located);
        Says(diagnostic, message);
    }

    [Fact]
    public void SRNN0036_for_the_Onnx_convention_with_a_safetensors_file()
    {
        var run = RunWithValidFile(ModelSource(
            "RnnModel(\"models/m.safetensors\", SequenceLength = 5, InputSize = 3, Convention = WeightConvention.Onnx)",
            "Lstm(4, Weights = \"rnn\")", "Dense(2, Weights = \"fc\")"));

        var diagnostic = FailsWith(run, "SRNN0036");
        LocatedAt(run, diagnostic, "WeightConvention.Onnx");
        Says(diagnostic, "Convention = WeightConvention.Onnx", "not supported", "with a .safetensors, .npy or .npz file; an .onnx file implies it (remove Convention)");
    }

    [Fact]
    public void SRNN0035_for_stacked_layers_in_one_Keras_attribute()
    {
        var file = new SafeTensorsBuilder().KerasRecurrent("lstm", "lstm_cell", 4, 4, 3).KerasDense("dense", 2, 4).Build();
        var run = GeneratorHarness.Run(ModelSource(
            "RnnModel(\"models/m.safetensors\", SequenceLength = 5, InputSize = 3, Convention = WeightConvention.Keras)",
            "Lstm(4, Weights = \"lstm\", Layers = 2)", "Dense(2, Weights = \"dense\")"), At(file));

        var diagnostic = FailsWith(run, "SRNN0035");
        LocatedAt(run, diagnostic, "2");
        Says(diagnostic, "Layers", "1 with Convention = WeightConvention.Keras", "its own attribute", "found 2");
    }

    // ---- Several errors at once ----

    [Fact]
    public void Every_error_of_a_model_is_reported()
    {
        var run = GeneratorHarness.Run(ModelSource(
            "RnnModel(\"models/missing.safetensors\", SequenceLength = 0, InputSize = 3)",
            "Lstm(0, Weights = \"rnn\")", "Dense(2, Weights = \"fc\")"));

        var diagnostics = Fails(run, "SRNN0001", "SRNN0030", "SRNN0035");
        LocatedAt(run, diagnostics.Single(d => d.Id == "SRNN0001"), "\"models/missing.safetensors\"");
        LocatedAt(run, diagnostics.Single(d => d.Id == "SRNN0030"), "0");
        LocatedAt(run, diagnostics.Single(d => d.Id == "SRNN0035"), "0");
        Assert.NotEqual(
            diagnostics.Single(d => d.Id == "SRNN0030").Location.SourceSpan,
            diagnostics.Single(d => d.Id == "SRNN0035").Location.SourceSpan);
    }

    [Fact]
    public void Errors_of_different_layers_are_all_reported()
    {
        var file = new SafeTensorsBuilder().Lstm("rnn", 5, 3).Linear("fc", 2, 5).Build();
        var run = GeneratorHarness.Run(
            ModelSource(LstmDenseModelAttribute, "Lstm(4, Weights = \"rnn\")", "Dense(2, Weights = \"head\")"),
            At(file));

        var diagnostics = Fails(run, "SRNN0011", "SRNN0011", "SRNN0011", "SRNN0011", "SRNN0012");
        Assert.All(diagnostics.Where(d => d.Id == "SRNN0011"), d => LocatedAt(run, d, "\"rnn\""));
        LocatedAt(run, diagnostics.Single(d => d.Id == "SRNN0012"), "\"head\"");
    }

    [Fact]
    public void Tensor_errors_of_every_layer_are_reported()
    {
        // Both layers name groups that exist, and both groups have the wrong shape.
        var file = new SafeTensorsBuilder().Lstm("rnn", 5, 3).Linear("fc", 3, 4).Build();
        var run = GeneratorHarness.Run(ModelSource(LstmDenseModelAttribute, "Lstm(4, Weights = \"rnn\")", "Dense(2, Weights = \"fc\")"), At(file));

        var diagnostics = Fails(run, "SRNN0011", "SRNN0011", "SRNN0011", "SRNN0011", "SRNN0011", "SRNN0011");
        Assert.Equal(4, diagnostics.Count(d => LocatedText(run, d) == "\"rnn\""));
        Assert.Equal(2, diagnostics.Count(d => LocatedText(run, d) == "\"fc\""));
    }

    [Fact]
    public void Class_errors_do_not_hide_the_errors_of_the_attributes()
    {
        // Reporting one error per build makes the user fix them one at a time; a non-partial class
        // with SequenceLength = 0 has two independent errors.
        var run = RunWithValidFile("""
            using StaticRnn;
            namespace App;
            [RnnModel("models/m.safetensors", SequenceLength = 0, InputSize = 3)]
            [Lstm(4, Weights = "rnn")]
            [Dense(2, Weights = "fc")]
            public static class Model { }
            """);

        var diagnostics = Fails(run, "SRNN0020", "SRNN0030");
        LocatedAt(run, diagnostics.Single(d => d.Id == "SRNN0020"), "Model");
        LocatedAt(run, diagnostics.Single(d => d.Id == "SRNN0030"), "0");
    }

    [Fact]
    public void A_failing_model_does_not_stop_another_model_from_generating()
    {
        var run = RunWithValidFile(
            ModelNamed("Good", LstmDenseModelAttribute, "Lstm(4, Weights = \"rnn\")", "Dense(2, Weights = \"fc\")"),
            ModelNamed("Bad", LstmDenseModelAttribute, "Lstm(4, Weights = \"nope\")", "Dense(2, Weights = \"fc\")"));

        NoCrash(run);
        var diagnostic = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("SRNN0012", diagnostic.Id);
        LocatedAt(run, diagnostic, "\"nope\"");
        // The good model whole, the bad one only as its placeholder surface.
        Assert.Equal(SourcesPerModel + 1, run.Sources.Count);
        Assert.Equal(SourcesPerModel, run.Sources.Keys.Count(k => k.Contains("Good", System.StringComparison.Ordinal)));
        Assert.True(IsPlaceholder(run.Sources["App.Bad.g.cs"]));
        Assert.Empty(run.CompilationDiagnostics);
    }
}
