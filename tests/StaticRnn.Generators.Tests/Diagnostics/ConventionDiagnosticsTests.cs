using System.Linq;
using StaticRnn.Generators.Tests.Infrastructure;
using StaticRnn.Generators.Tests.Weights;
using Xunit;
using static StaticRnn.Generators.Tests.Diagnostics.DiagnosticAssert;

namespace StaticRnn.Generators.Tests.Diagnostics;

/// <summary>Keras names, the LSTM and GRU variants, and files of one convention declared as another
/// (SRNN0010, SRNN0011, SRNN0014, SRNN0037, SRNN0038). Numeric results are tested in StaticRnn.Tests.</summary>
public class ConventionDiagnosticsTests
{
    private const string KerasModel = "RnnModel(\"models/m.safetensors\", SequenceLength = 5, InputSize = 3, Convention = WeightConvention.Keras)";

    // ---- SRNN0038: the names follow another convention ----

    [Fact]
    public void SRNN0038_when_a_Keras_file_is_declared_PyTorch()
    {
        var file = new SafeTensorsBuilder().KerasRecurrent("lstm", "lstm_cell", 4, 4, 3).KerasDense("dense", 2, 4).Build();
        var run = GeneratorHarness.Run(ModelSource(LstmDenseModelAttribute, "Lstm(4)", "Dense(2)"), At(file));

        var diagnostic = FailsWith(run, "SRNN0038");
        LocatedOn(run, diagnostic, "RnnModel(");
        Says(diagnostic, "'models/m.safetensors'", "Keras convention", "'lstm/lstm_cell/kernel'", "Convention = WeightConvention.PyTorch",
            "set Convention = WeightConvention.Keras");
    }

    [Fact]
    public void SRNN0038_when_a_PyTorch_file_is_declared_Keras_is_located_at_the_convention()
    {
        var run = GeneratorHarness.Run(ModelSource(KerasModel, "Lstm(4)", "Dense(2)"), At(LstmDenseFile()));

        var diagnostic = FailsWith(run, "SRNN0038");
        LocatedAt(run, diagnostic, "WeightConvention.Keras");
        Says(diagnostic, "PyTorch convention", "'rnn.weight_ih_l0'", "set Convention = WeightConvention.PyTorch");
    }

    // ---- Keras names ----

    [Theory]
    [InlineData("")]
    [InlineData(":0")]
    public void Keras_names_bind_with_or_without_the_TF_suffix_and_with_Weights_omitted(string suffix)
    {
        var file = new SafeTensorsBuilder()
            .KerasEmbedding("embedding", 12, 3)
            .KerasRecurrent("lstm", "lstm_cell", 4, 5, 3, suffix: suffix)
            .KerasRecurrent("bidirectional", "gru_cell", 3, 4, 5, bidirectional: true, resetAfter: true, suffix: suffix)
            .KerasDense("dense", 2, 8)
            .Build();
        var run = GeneratorHarness.Run(ModelSource(
            "RnnModel(\"models/m.safetensors\", SequenceLength = 5, Convention = WeightConvention.Keras)",
            "Embedding(12, 3)", "Lstm(5, ReturnSequences = true)", "Gru(4, Bidirectional = true)", "Dense(2)"), At(file));

        Assert.Empty(run.Errors);
        var code = run.Sources["App.Model.Weights.g.cs"];
        Assert.Contains("lstm/lstm_cell/kernel" + suffix + " [3, 20] (Keras layout, read as [20, 3])", code);
        Assert.Contains("bidirectional/backward_gru/gru_cell/recurrent_kernel" + suffix, code);
    }

    [Fact]
    public void SRNN0010_for_a_missing_Keras_tensor_lists_the_layer_s_tensors_and_the_matching_rule()
    {
        var file = new SafeTensorsBuilder()
            .AddF32("lstm/lstm_cell/kernel", [3, 16], new float[48])
            .AddF32("lstm/lstm_cell/bias", [16], new float[16])
            .KerasDense("dense", 2, 4)
            .Build();
        var run = GeneratorHarness.Run(ModelSource(KerasModel, "Lstm(4, Weights = \"lstm\")", "Dense(2, Weights = \"dense\")"), At(file));

        var diagnostic = FailsWith(run, "SRNN0010");
        Says(diagnostic, "'lstm/recurrent_kernel'", "[4, 16]", "'lstm/lstm_cell/kernel'", "without their cell segment");
    }

    [Fact]
    public void SRNN0011_for_a_Keras_kernel_in_PyTorch_orientation()
    {
        var file = new SafeTensorsBuilder()
            .AddF32("lstm/lstm_cell/kernel", [16, 3], new float[48])
            .AddF32("lstm/lstm_cell/recurrent_kernel", [4, 16], new float[64])
            .AddF32("lstm/lstm_cell/bias", [16], new float[16])
            .KerasDense("dense", 2, 4)
            .Build();
        var run = GeneratorHarness.Run(ModelSource(KerasModel, "Lstm(4, Weights = \"lstm\")", "Dense(2, Weights = \"dense\")"), At(file));

        var diagnostic = FailsWith(run, "SRNN0011");
        Says(diagnostic, "'lstm/lstm_cell/kernel'", "[3, 16]", "3 inputs by 4 gates x hiddenSize", "[16, 3]");
    }

    // ---- SRNN0037: a declared GRU form the file contradicts ----

    [Theory]
    [InlineData(true, "false", "reset_after=True")]
    [InlineData(false, "true", "reset_after=False")]
    public void SRNN0037_when_ResetAfter_contradicts_the_Keras_bias(bool fileResetAfter, string declared, string fileForm)
    {
        var file = new SafeTensorsBuilder().KerasRecurrent("gru", "gru_cell", 3, 4, 3, resetAfter: fileResetAfter).KerasDense("dense", 2, 4).Build();
        var run = GeneratorHarness.Run(ModelSource(KerasModel, $"Gru(4, Weights = \"gru\", ResetAfter = {declared})", "Dense(2, Weights = \"dense\")"), At(file));

        var diagnostic = FailsWith(run, "SRNN0037");
        LocatedAt(run, diagnostic, declared);
        Says(diagnostic, $"ResetAfter = {declared}", "'gru/gru_cell/bias'", fileResetAfter ? "[2, 12]" : "[12]", fileForm,
            $"set it to {(fileResetAfter ? "true" : "false")}");
    }

    [Theory]
    [InlineData(true, "[2, 12]")]
    [InlineData(false, "[12]")]
    public void A_Keras_GRU_follows_its_bias_shape_when_ResetAfter_is_not_set(bool fileResetAfter, string shape)
    {
        var file = new SafeTensorsBuilder().KerasRecurrent("gru", "gru_cell", 3, 4, 3, resetAfter: fileResetAfter).KerasDense("dense", 2, 4).Build();
        var run = GeneratorHarness.Run(ModelSource(KerasModel, "Gru(4)", "Dense(2)"), At(file));

        Assert.Empty(run.Errors);
        var code = run.Sources["App.Model.g.cs"];
        Assert.Contains(fileResetAfter ? "RecurrentCell.Gru;" : "RecurrentCell.GruResetBefore;", code);
        Assert.Contains("gru/gru_cell/bias " + shape, run.Sources["App.Model.Weights.g.cs"]);
    }

    // ---- Variants in the PyTorch convention ----

    [Fact]
    public void SRNN0010_for_a_missing_peephole_names_the_PyTorch_convention_s_tensor()
    {
        var file = new SafeTensorsBuilder().Lstm("rnn", 4, 3).Linear("fc", 2, 4).Build();
        var run = GeneratorHarness.Run(ModelSource(LstmDenseModelAttribute, "Lstm(4, Weights = \"rnn\", Peephole = true)", "Dense(2, Weights = \"fc\")"), At(file));

        // The first missing peephole, and the plain LSTM the file holds.
        var diagnostic = FailsWith(run, "SRNN0010");
        Says(diagnostic, "'rnn.peephole_i_l0'", "[4]", "; did you mean [Lstm(4, Weights = \"rnn\")]?");
    }

    [Fact]
    public void A_coupled_peephole_LSTM_needs_no_forget_peephole()
    {
        var file = new SafeTensorsBuilder().Lstm("rnn", 4, 3)
            .AddF32("rnn.peephole_i_l0", [4], 1, 2, 3, 4)
            .AddF32("rnn.peephole_o_l0", [4], 5, 6, 7, 8)
            .Linear("fc", 2, 4).Build();
        var run = GeneratorHarness.Run(ModelSource(LstmDenseModelAttribute,
            "Lstm(4, Weights = \"rnn\", Peephole = true, CoupledInputForget = true)", "Dense(2, Weights = \"fc\")"), At(file));

        Assert.Empty(run.Errors);
        Assert.Contains("RecurrentCell.PeepholeCoupledLstm;", run.Sources["App.Model.g.cs"]);
        Assert.Contains("no forget peephole (f = 1 - i)", run.Sources["App.Model.Weights.g.cs"]);
    }

    [Fact]
    public void A_reset_before_GRU_sums_all_of_its_biases_and_has_no_hidden_bias()
    {
        var file = new SafeTensorsBuilder().Gru("rnn", 4, 3).Linear("fc", 2, 4).Build();
        var run = GeneratorHarness.Run(ModelSource(LstmDenseModelAttribute, "Gru(4, Weights = \"rnn\", ResetAfter = false)", "Dense(2, Weights = \"fc\")"), At(file));

        Assert.Empty(run.Errors);
        Assert.Contains("RecurrentCell.GruResetBefore;", run.Sources["App.Model.g.cs"]);
        Assert.DoesNotContain("HiddenBias", run.Sources["App.Model.Weights.g.cs"]);
    }
}
