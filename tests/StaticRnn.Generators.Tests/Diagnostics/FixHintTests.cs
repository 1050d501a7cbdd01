using System.IO;
using StaticRnn.Generators.Tests.Infrastructure;
using StaticRnn.Generators.Tests.Weights;
using Xunit;
using static StaticRnn.Generators.Tests.Diagnostics.DiagnosticAssert;

namespace StaticRnn.Generators.Tests.Diagnostics;

/// <summary>Errors that say the fix: where the weight file describes a declaration that compiles, one error per thing to
/// change, naming the attribute to write, and none for what only followed from it.</summary>
public class FixHintTests
{
    private const string SineModel = "RnnModel(\"models/m.safetensors\", SequenceLength = 100, InputSize = 1)";

    private static byte[] SineLstmFile() => new SafeTensorsBuilder().Lstm("rnn", 8, 1).Linear("fc", 100, 8).Build();

    [Fact]
    public void A_wrong_hidden_size_is_one_error_that_names_the_size_in_the_file()
    {
        // The README's sine model declared Lstm(16) over a file of Lstm(8): every tensor of the layer disagrees, and so
        // does the head's input width; only the layer is reported.
        var run = GeneratorHarness.Run(ModelSource(SineModel, "Lstm(16, Weights = \"rnn\")", "Dense(100, Weights = \"fc\")"), At(SineLstmFile()));

        var diagnostic = FailsWith(run, "SRNN0011");
        LocatedAt(run, diagnostic, "\"rnn\"");
        Says(diagnostic, "layer 1, Lstm(16) expects the tensor 'rnn.weight_ih_l0' to have shape [64, 1]", "but it has shape [32, 1]",
            "; did you mean [Lstm(8, Weights = \"rnn\")]?");
    }

    [Fact]
    public void A_missing_InputSize_says_the_size_the_first_layer_takes()
    {
        var run = GeneratorHarness.Run(
            ModelSource("RnnModel(\"models/m.safetensors\", SequenceLength = 100)", "Lstm(8, Weights = \"rnn\")", "Dense(100, Weights = \"fc\")"),
            At(SineLstmFile()));

        var diagnostic = FailsWith(run, "SRNN0031");
        LocatedOn(run, diagnostic, "RnnModel(");
        Says(diagnostic, "found no value", "; the weight file implies InputSize = 1 (the first layer's input weights 'rnn.weight_ih_l0' have shape [32, 1])");
    }

    [Fact]
    public void A_missing_InputSize_and_a_wrong_hidden_size_are_two_errors()
    {
        var run = GeneratorHarness.Run(
            ModelSource("RnnModel(\"models/m.safetensors\", SequenceLength = 100)", "Lstm(16, Weights = \"rnn\")", "Dense(100, Weights = \"fc\")"),
            At(SineLstmFile()));

        var diagnostics = Fails(run, "SRNN0031", "SRNN0011");
        Says(diagnostics[0], "implies InputSize = 1");
        Says(diagnostics[1], "did you mean [Lstm(8, Weights = \"rnn\")]?");
    }

    [Fact]
    public void A_layer_that_leaves_the_backward_direction_unread_is_told_to_be_bidirectional()
    {
        // Without Bidirectional the layer binds (it reads the forward tensors), and only the head's width would disagree.
        var file = new SafeTensorsBuilder().Lstm("rnn", 4, 3, bidirectional: true).Linear("fc", 2, 8).Build();
        var run = GeneratorHarness.Run(ModelSource(LstmDenseModelAttribute, "Lstm(4, Weights = \"rnn\")", "Dense(2, Weights = \"fc\")"), At(file));

        var diagnostic = FailsWith(run, "SRNN0015");
        LocatedAt(run, diagnostic, "\"rnn\"");
        Says(diagnostic, "layer 1, Lstm(4) reads only part of the tensors under \"rnn\"", "'rnn.weight_ih_l0_reverse' [16, 3]",
            "backward direction", "; did you mean [Lstm(4, Weights = \"rnn\", Bidirectional = true)]?");
    }

    [Fact]
    public void A_layer_that_leaves_stacked_layers_unread_is_an_error_naming_the_Layers_in_the_file()
    {
        // Every shape agrees with a one-layer declaration: before, this compiled and silently ran the first layer only.
        var file = new SafeTensorsBuilder().Lstm("rnn", 4, 3, layers: 3).Linear("fc", 2, 4).Build();
        var run = GeneratorHarness.Run(LstmDenseSource(), At(file));

        var diagnostic = FailsWith(run, "SRNN0015");
        Says(diagnostic, "'rnn.weight_ih_l1' [16, 4]", "a further stacked layer", "; did you mean [Lstm(4, Weights = \"rnn\", Layers = 3)]?");
    }

    [Fact]
    public void Peephole_weights_left_unread_are_an_error()
    {
        var file = new SafeTensorsBuilder().Lstm("rnn", 4, 3).Peepholes("rnn", 4).Linear("fc", 2, 4).Build();
        var run = GeneratorHarness.Run(LstmDenseSource(), At(file));

        var diagnostic = FailsWith(run, "SRNN0015");
        Says(diagnostic, "'rnn.peephole_i_l0' [4]", "is a peephole weight", "; did you mean [Lstm(4, Weights = \"rnn\", Peephole = true)]?");
    }

    [Fact]
    public void A_wrong_cell_without_a_Weights_prefix_names_the_cell_in_the_file()
    {
        var file = new SafeTensorsBuilder().Gru("encoder", 6, 3).Linear("fc", 2, 6).Build();
        var run = GeneratorHarness.Run(ModelSource(LstmDenseModelAttribute, "Lstm(4)", "Dense(2)"), At(file));

        var diagnostic = FailsWith(run, "SRNN0011");
        LocatedAt(run, diagnostic, "Lstm(4)");
        Says(diagnostic, "'encoder.weight_ih_l0'", "[18, 3]", "; did you mean [Gru(6)]?");
    }

    [Fact]
    public void An_embedding_of_another_size_names_the_sizes_in_the_file()
    {
        var file = new SafeTensorsBuilder().EmbeddingTable("emb", 12, 5).Lstm("rnn", 4, 5).Linear("fc", 2, 4).Build();
        var run = GeneratorHarness.Run(
            ModelSource("RnnModel(\"models/m.safetensors\", SequenceLength = 5)",
                "Embedding(10, 3, Weights = \"emb\")", "Lstm(4, Weights = \"rnn\")", "Dense(2, Weights = \"fc\")"),
            At(file));

        var diagnostic = FailsWith(run, "SRNN0011");
        LocatedAt(run, diagnostic, "\"emb\"");
        Says(diagnostic, "'emb.weight'", "[10, 3]", "[12, 5]", "; did you mean [Embedding(12, 5, Weights = \"emb\")]?");
    }

    [Fact]
    public void Each_layer_that_differs_gets_its_own_error()
    {
        var file = new SafeTensorsBuilder().Lstm("rnn", 8, 1).Gru("rnn2", 5, 8).Linear("fc", 100, 5).Build();
        var run = GeneratorHarness.Run(
            ModelSource(SineModel, "Lstm(16, Weights = \"rnn\", ReturnSequences = true)", "Gru(6, Weights = \"rnn2\")", "Dense(100, Weights = \"fc\")"),
            At(file));

        var diagnostics = Fails(run, "SRNN0011", "SRNN0011");
        Says(diagnostics[0], "layer 1, Lstm(16, ReturnSequences = true)", "did you mean [Lstm(8, Weights = \"rnn\", ReturnSequences = true)]?");
        Says(diagnostics[1], "layer 2, Gru(6)", "'rnn2.weight_ih_l0' to have shape [18, 8]", "did you mean [Gru(5, Weights = \"rnn2\")]?");
    }

    [Fact]
    public void A_Keras_layer_of_another_size_names_the_size_in_the_file()
    {
        var file = new SafeTensorsBuilder()
            .AddF32("lstm/lstm_cell/kernel", [1, 32], new float[32])
            .AddF32("lstm/lstm_cell/recurrent_kernel", [8, 32], new float[256])
            .AddF32("lstm/lstm_cell/bias", [32], new float[32])
            .AddF32("dense/kernel", [8, 100], new float[800])
            .AddF32("dense/bias", [100], new float[100])
            .Build();
        var run = GeneratorHarness.Run(
            ModelSource("RnnModel(\"models/m.safetensors\", SequenceLength = 100, InputSize = 1, Convention = WeightConvention.Keras)",
                "Lstm(16, Weights = \"lstm\")", "Dense(100, Weights = \"dense\")"),
            At(file));

        var diagnostic = FailsWith(run, "SRNN0011");
        Says(diagnostic, "'lstm/lstm_cell/kernel'", "[1, 64]", "[1, 32]", "; did you mean [Lstm(8, Weights = \"lstm\")]?");
    }

    [Fact]
    public void SRNN0001_names_the_closest_weight_file_of_the_project()
    {
        var directory = GeneratorHarness.NewProjectDirectory();
        var run = GeneratorHarness.Run(
            [ModelSource("RnnModel(\"model/sine_lstm.safetensors\", SequenceLength = 100, InputSize = 1)", "Lstm(8, Weights = \"rnn\")", "Dense(100, Weights = \"fc\")")],
            [new ProjectFile("models/sine_gru.safetensors", SineLstmFile()), new ProjectFile("models/sine_lstm.safetensors", SineLstmFile()),
             new ProjectFile("data/other.npz", SineLstmFile())],
            directory);

        var diagnostic = FailsWith(run, "SRNN0001");
        Says(diagnostic, "no file exists there either",
            "; did you mean 'models/sine_lstm.safetensors'? The project's weight files, closest first: "
            + "'models/sine_lstm.safetensors', 'models/sine_gru.safetensors', 'data/other.npz'");
    }

    [Fact]
    public void SRNN0005_names_the_closest_weight_file_of_the_project()
    {
        var run = GeneratorHarness.Run(
            ModelSource("RnnModel(\"models/sine_lstm.safetensor\", SequenceLength = 100, InputSize = 1)", "Lstm(8, Weights = \"rnn\")", "Dense(100, Weights = \"fc\")"),
            new ProjectFile("models/sine_lstm.safetensors", SineLstmFile()));

        Says(FailsWith(run, "SRNN0005"), "the extension '.safetensor'", "; did you mean 'models/sine_lstm.safetensors'?");
    }

    [Fact]
    public void SRNN0001_says_when_the_project_has_no_weight_files()
    {
        var run = GeneratorHarness.Run([SineLstmSource()], [], GeneratorHarness.NewProjectDirectory());

        Says(FailsWith(run, "SRNN0001"), "; the project has no weight files among its AdditionalFiles");
    }

    private static string SineLstmSource() => ModelSource(SineModel, "Lstm(8, Weights = \"rnn\")", "Dense(100, Weights = \"fc\")");
}
