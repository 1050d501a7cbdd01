using System.Linq;
using StaticRnn.Generators.Tests.Infrastructure;
using StaticRnn.Generators.Tests.Weights;
using Xunit;
using static StaticRnn.Generators.Tests.Diagnostics.DiagnosticAssert;

namespace StaticRnn.Generators.Tests.Diagnostics;

/// <summary>SRNN0010-SRNN0014: the file is readable but its tensors do not match the declaration.</summary>
public class TensorDiagnosticsTests
{
    // ---- SRNN0010: a tensor is missing ----

    [Fact]
    public void SRNN0010_when_a_tensor_is_missing()
    {
        var file = new SafeTensorsBuilder()
            .AddF32("rnn.weight_ih_l0", [16, 3], new float[48])
            .AddF32("rnn.bias_ih_l0", [16], new float[16])
            .AddF32("rnn.bias_hh_l0", [16], new float[16])
            .Linear("fc", 2, 4)
            .Build();
        var run = GeneratorHarness.Run(LstmDenseSource(), At(file));

        var diagnostic = FailsWith(run, "SRNN0010");
        LocatedAt(run, diagnostic, "\"rnn\"");
        Says(diagnostic, "layer 1, Lstm(4)", "'rnn.weight_hh_l0'", "[16, 4]", "no tensor of that name", "'rnn.weight_ih_l0'");
    }

    [Fact]
    public void SRNN0010_when_only_one_of_the_two_biases_is_present()
    {
        var file = new SafeTensorsBuilder()
            .Recurrent("rnn", gates: 4, hidden: 4, input: 3, bias: false)
            .AddF32("rnn.bias_ih_l0", [16], new float[16])
            .Linear("fc", 2, 4)
            .Build();
        var run = GeneratorHarness.Run(LstmDenseSource(), At(file));

        var diagnostic = FailsWith(run, "SRNN0010");
        LocatedAt(run, diagnostic, "\"rnn\"");
        Says(diagnostic, "'rnn.bias_hh_l0'", "[16]", "'rnn.bias_ih_l0' is present", "both biases or neither");
    }

    [Fact]
    public void SRNN0010_for_the_second_layer_of_a_two_layer_declaration_over_a_one_layer_file()
    {
        var run = GeneratorHarness.Run(
            ModelSource(LstmDenseModelAttribute, "Lstm(4, Weights = \"rnn\", Layers = 2)", "Dense(2, Weights = \"fc\")"),
            At(LstmDenseFile()));

        // One error for the layer (its first missing tensor), with the number of layers the file holds.
        var diagnostic = FailsWith(run, "SRNN0010");
        LocatedAt(run, diagnostic, "\"rnn\"");
        Says(diagnostic, "layer 1, Lstm(4, Layers = 2)", "'rnn.weight_ih_l1'", "[16, 4]", "; did you mean [Lstm(4, Weights = \"rnn\")]?");
    }

    [Fact]
    public void SRNN0010_for_the_backward_direction_when_the_file_is_unidirectional()
    {
        var file = new SafeTensorsBuilder().Lstm("rnn", 4, 3).Linear("fc", 2, 8).Build();
        var run = GeneratorHarness.Run(
            ModelSource(LstmDenseModelAttribute, "Lstm(4, Weights = \"rnn\", Bidirectional = true)", "Dense(2, Weights = \"fc\")"),
            At(file));

        var diagnostics = Fails(run, "SRNN0010", "SRNN0010");
        Assert.All(diagnostics, d => LocatedAt(run, d, "\"rnn\""));
        Assert.Contains(diagnostics, d => Message(d).Contains("'rnn.weight_ih_l0_reverse'") && Message(d).Contains("[16, 3]"));
        Assert.Contains(diagnostics, d => Message(d).Contains("'rnn.weight_hh_l0_reverse'") && Message(d).Contains("[16, 4]"));
    }

    // ---- SRNN0011: a tensor's shape disagrees with the declared sizes ----

    [Fact]
    public void SRNN0011_when_the_declared_hidden_size_differs_from_the_file()
    {
        var file = new SafeTensorsBuilder().Lstm("rnn", 5, 3).Linear("fc", 2, 8).Build();
        var run = GeneratorHarness.Run(
            ModelSource(LstmDenseModelAttribute, "Lstm(8, Weights = \"rnn\")", "Dense(2, Weights = \"fc\")"),
            At(file));

        var diagnostics = Fails(run, "SRNN0011", "SRNN0011", "SRNN0011", "SRNN0011");
        Assert.All(diagnostics, d => LocatedAt(run, d, "\"rnn\""));
        Assert.All(diagnostics, d => Says(d, "layer 1, Lstm(8)"));
        var ih = Assert.Single(diagnostics, d => Message(d).Contains("'rnn.weight_ih_l0'"));
        Says(ih, "[32, 3]", "[20, 3]");
        var hh = Assert.Single(diagnostics, d => Message(d).Contains("'rnn.weight_hh_l0'"));
        Says(hh, "[32, 8]", "[20, 5]", "4 gates x hiddenSize by hiddenSize");
        var bias = Assert.Single(diagnostics, d => Message(d).Contains("'rnn.bias_ih_l0'"));
        Says(bias, "[32]", "[20]");
    }

    [Fact]
    public void SRNN0016_when_the_declared_InputSize_differs_from_the_file()
    {
        var file = new SafeTensorsBuilder().Lstm("rnn", 4, 4).Linear("fc", 2, 4).Build();
        var run = GeneratorHarness.Run(LstmDenseSource(), At(file));

        // On InputSize, not on the layer whose tensor shows it.
        var diagnostic = FailsWith(run, "SRNN0016");
        LocatedAt(run, diagnostic, "3");
        Says(diagnostic, "RnnModel.InputSize is 3", "'rnn.weight_ih_l0' have shape [16, 4], 4 inputs per step", "set InputSize = 4");
    }

    [Fact]
    public void SRNN0011_for_every_tensor_when_the_file_implies_no_declaration_that_compiles()
    {
        // The input weights say 4 inputs per step and the recurrent ones a 4-unit GRU, but the head takes 7: no
        // declaration fits the whole file, so each tensor that disagrees with this one is reported, with no suggestion.
        var file = new SafeTensorsBuilder().Recurrent("rnn", gates: 3, hidden: 4, input: 4).Linear("fc", 2, 7).Build();
        var run = GeneratorHarness.Run(ModelSource(LstmDenseModelAttribute, "Lstm(4, Weights = \"rnn\")", "Dense(2, Weights = \"fc\")"), At(file));

        var diagnostics = Fails(run, "SRNN0011", "SRNN0011", "SRNN0011", "SRNN0011", "SRNN0011");
        Assert.All(diagnostics, d => Assert.DoesNotContain("did you mean", Message(d), System.StringComparison.Ordinal));
        Says(Assert.Single(diagnostics, d => Message(d).Contains("'fc.weight'")), "[2, 4]", "[2, 7]");
    }

    [Fact]
    public void SRNN0011_when_the_declared_Dense_units_differ_from_the_file()
    {
        var run = GeneratorHarness.Run(
            ModelSource(LstmDenseModelAttribute, "Lstm(4, Weights = \"rnn\")", "Dense(3, Weights = \"fc\")"),
            At(LstmDenseFile()));

        var diagnostic = FailsWith(run, "SRNN0011");
        LocatedAt(run, diagnostic, "\"fc\"");
        Says(diagnostic, "layer 2, Dense(3)", "'fc.weight'", "[3, 4]", "[2, 4]", "; did you mean [Dense(2, Weights = \"fc\")]?");
    }

    [Fact]
    public void SRNN0011_when_an_Embedding_table_has_another_size()
    {
        var file = new SafeTensorsBuilder().EmbeddingTable("emb", 12, 3).Lstm("rnn", 4, 3).Linear("fc", 2, 4).Build();
        var run = GeneratorHarness.Run(
            ModelSource("RnnModel(\"models/m.safetensors\", SequenceLength = 5)",
                "Embedding(10, 3, Weights = \"emb\")", "Lstm(4, Weights = \"rnn\")", "Dense(2, Weights = \"fc\")"),
            At(file));

        var diagnostic = FailsWith(run, "SRNN0011");
        LocatedAt(run, diagnostic, "\"emb\"");
        Says(diagnostic, "'emb.weight'", "[10, 3]", "[12, 3]");
    }

    // ---- SRNN0012-SRNN0014: choosing the tensor group ----

    private static byte[] EncoderDecoderFile() =>
        new SafeTensorsBuilder().Lstm("encoder", 4, 3).Lstm("decoder", 4, 3).Linear("fc", 2, 4).Build();

    [Fact]
    public void SRNN0012_when_the_Weights_prefix_is_unknown_lists_the_candidates()
    {
        var run = GeneratorHarness.Run(
            ModelSource(LstmDenseModelAttribute, "Lstm(4, Weights = \"lstm\")", "Dense(2, Weights = \"fc\")"),
            At(EncoderDecoderFile()));

        var diagnostic = FailsWith(run, "SRNN0012");
        LocatedAt(run, diagnostic, "\"lstm\"");
        Says(diagnostic, "layer 1, Lstm(4)", "Weights = \"lstm\"", "\"encoder\", \"decoder\"");
    }

    [Fact]
    public void SRNN0012_for_a_Dense_layer_lists_the_linear_groups()
    {
        var run = GeneratorHarness.Run(
            ModelSource(LstmDenseModelAttribute, "Lstm(4, Weights = \"rnn\")", "Dense(2, Weights = \"head\")"),
            At(LstmDenseFile()));

        var diagnostic = FailsWith(run, "SRNN0012");
        LocatedAt(run, diagnostic, "\"head\"");
        Says(diagnostic, "layer 2, Dense(2)", "Weights = \"head\"", "\"fc\"");
        Assert.DoesNotContain("\"rnn\"", Message(diagnostic));
    }

    [Fact]
    public void SRNN0012_when_the_prefix_is_only_a_partial_name()
    {
        // "enc" is not a module path of "encoder.weight_ih_l0": prefixes match whole path segments.
        var run = GeneratorHarness.Run(
            ModelSource(LstmDenseModelAttribute, "Lstm(4, Weights = \"enc\")", "Dense(2, Weights = \"fc\")"),
            At(EncoderDecoderFile()));

        var diagnostic = FailsWith(run, "SRNN0012");
        LocatedAt(run, diagnostic, "\"enc\"");
        Says(diagnostic, "\"encoder\", \"decoder\"");
    }

    [Fact]
    public void SRNN0013_when_Weights_is_omitted_and_two_groups_fit()
    {
        var run = GeneratorHarness.Run(
            ModelSource(LstmDenseModelAttribute, "Lstm(4)", "Dense(2, Weights = \"fc\")"),
            At(EncoderDecoderFile()));

        var diagnostic = FailsWith(run, "SRNN0013");
        LocatedAt(run, diagnostic, "Lstm(4)");
        Says(diagnostic, "layer 1, Lstm(4)", "2 groups", "\"encoder\", \"decoder\"", "set Weights");
    }

    [Fact]
    public void SRNN0014_when_Weights_is_omitted_and_no_group_fits()
    {
        var file = new SafeTensorsBuilder().Lstm("encoder", 5, 3).Linear("fc", 2, 4).Build();
        var run = GeneratorHarness.Run(ModelSource(LstmDenseModelAttribute, "Lstm(4)", "Dense(2, Weights = \"fc\")"), At(file));

        var diagnostic = FailsWith(run, "SRNN0014");
        LocatedAt(run, diagnostic, "Lstm(4)");
        Says(diagnostic,
            "layer 1, Lstm(4)",
            "'<prefix>.weight_ih_l0' [16, 3]", "'<prefix>.weight_hh_l0' [16, 4]",       // expected
            "\"encoder\"", "'encoder.weight_ih_l0' [20, 3]", "'encoder.weight_hh_l0' [20, 5]"); // found
    }

    [Fact]
    public void SRNN0011_when_the_only_group_is_of_another_recurrent_kind()
    {
        var file = new SafeTensorsBuilder().Lstm("rnn", 4, 3).Linear("fc", 2, 4).Build();
        var run = GeneratorHarness.Run(ModelSource(LstmDenseModelAttribute, "Gru(4)", "Dense(2, Weights = \"fc\")"), At(file));

        // An LSTM group looks like a GRU group by its names; its 4 gates say which cell it is.
        var diagnostic = FailsWith(run, "SRNN0011");
        LocatedAt(run, diagnostic, "Gru(4)");
        Says(diagnostic, "layer 1, Gru(4)", "'rnn.weight_ih_l0' to have shape [12, 3]", "but it has shape [16, 3]", "; did you mean [Lstm(4)]?");
    }

    [Fact]
    public void SRNN0014_when_no_group_fits_and_the_file_implies_nothing_that_compiles()
    {
        // The only recurrent group has 2 gate blocks: no cell StaticRnn knows.
        var file = new SafeTensorsBuilder().Recurrent("rnn", gates: 2, hidden: 4, input: 3).Linear("fc", 2, 4).Build();
        var run = GeneratorHarness.Run(ModelSource(LstmDenseModelAttribute, "Gru(4)", "Dense(2, Weights = \"fc\")"), At(file));

        var diagnostic = FailsWith(run, "SRNN0014");
        LocatedAt(run, diagnostic, "Gru(4)");
        Says(diagnostic, "layer 1, Gru(4)", "'<prefix>.weight_ih_l0' [12, 3]", "'rnn.weight_ih_l0' [8, 3]");
    }

    [Fact]
    public void SRNN0014_when_the_file_has_no_recurrent_group_at_all()
    {
        var file = new SafeTensorsBuilder().Linear("fc", 2, 4).Build();
        var run = GeneratorHarness.Run(ModelSource(LstmDenseModelAttribute, "Lstm(4)", "Dense(2, Weights = \"fc\")"), At(file));

        var diagnostic = FailsWith(run, "SRNN0014");
        LocatedAt(run, diagnostic, "Lstm(4)");
        Says(diagnostic, "layer 1, Lstm(4)", "'<prefix>.weight_ih_l0' [16, 3]", "groups found: none");
    }

    [Fact]
    public void Weights_omitted_and_exactly_one_group_fits_succeeds()
    {
        var file = new SafeTensorsBuilder().Lstm("encoder", 4, 3).Lstm("decoder", 5, 3).Linear("fc", 2, 4).Build();
        var run = GeneratorHarness.Run(ModelSource(LstmDenseModelAttribute, "Lstm(4)", "Dense(2)"), At(file));

        Succeeds(run);
        var weights = string.Concat(run.Sources.Values);
        Assert.Contains("encoder.weight_ih_l0", weights);
        Assert.Contains("fc.weight", weights);
        Assert.DoesNotContain("decoder.", weights);
    }

    [Theory]
    [InlineData("Lstm(4, Weights = \"a\", ReturnSequences = true)", "Lstm(4)")]
    [InlineData("Lstm(4, ReturnSequences = true)", "Lstm(4, Weights = \"a\")")]
    public void Weights_omitted_takes_the_one_fitting_group_that_no_other_layer_names(string first, string second)
    {
        // Both groups fit both layers; the layer that names "a" claims it, so the other layer can only be "b".
        var file = new SafeTensorsBuilder().Lstm("a", 4, 4).Recurrent("b", 4, 4, 4, seed: 7).Linear("fc", 2, 4).Build();
        var run = GeneratorHarness.Run(
            ModelSource("RnnModel(\"models/m.safetensors\", SequenceLength = 5, InputSize = 4)", first, second, "Dense(2)"),
            At(file));

        Succeeds(run);
        var all = string.Concat(run.Sources.Values);
        Assert.Contains("a.weight_ih_l0", all);
        Assert.Contains("b.weight_ih_l0", all);
    }
}
