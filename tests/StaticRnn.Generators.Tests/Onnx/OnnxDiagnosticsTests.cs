using System.Linq;
using StaticRnn.Generators.Tests.Infrastructure;
using Xunit;
using static StaticRnn.Generators.Tests.Diagnostics.DiagnosticAssert;

namespace StaticRnn.Generators.Tests.Onnx;

/// <summary>SRNN0040-SRNN0042 and the ONNX cases of the others: a graph StaticRnn cannot compile is a build error
/// naming the node and what is supported, never a guess; a declaration beside the file must agree with the graph.</summary>
public class OnnxDiagnosticsTests
{
    private const string Model = "RnnModel(\"models/m.onnx\", SequenceLength = 5)";

    private static GeneratorRun Run(OnnxBuilder graph, string model = Model, params string[] layers) =>
        GeneratorHarness.Run(ModelSource(model, layers), new ProjectFile("models/m.onnx", graph.Build()));

    [Fact]
    public void The_base_graph_compiles()
    {
        var run = Run(OnnxBuilder.Lstm());

        Succeeds(run);
        Assert.Contains("/// layer 1   Lstm(4)", run.Sources["App.Model.g.cs"]);
        Assert.Contains("/// layer 2   Dense(2)", run.Sources["App.Model.g.cs"]);
    }

    [Fact]
    public void SRNN0040_names_an_op_StaticRnn_does_not_read()
    {
        var graph = OnnxBuilder.Lstm()
            .Node("Loop", ["h"], ["looped"], "/decoder/Loop")
            .Node("Identity", ["looped"], ["z"], "/out")
            .OutputOnly("z");
        var run = Run(graph);

        var diagnostic = FailsWith(run, "SRNN0040");
        LocatedAt(run, diagnostic, "\"models/m.onnx\"");
        Says(diagnostic, "'models/m.onnx'", "'/decoder/Loop' (Loop) is not an op StaticRnn reads", "it reads LSTM, GRU and RNN nodes");
    }

    [Fact]
    public void An_unsupported_node_the_output_does_not_need_is_no_error()
    {
        var graph = OnnxBuilder.Lstm().Node("Loop", ["h"], ["unused"], "/side/Loop");

        Succeeds(Run(graph));
    }

    [Fact]
    public void SRNN0040_for_a_custom_domain()
    {
        var graph = OnnxBuilder.Lstm().Node("FancyAttention", ["h"], ["z"], "/attn", domain: "com.example").OutputOnly("z");

        var diagnostic = FailsWith(Run(graph), "SRNN0040");
        Says(diagnostic, "'/attn' (FancyAttention) is from the custom domain 'com.example'");
    }

    [Theory]
    [InlineData("direction", "reverse", "direction = \"reverse\"")]
    [InlineData("clip", 3.0f, "clips its cell inputs (clip = 3)")]
    [InlineData("activations", new[] { "Sigmoid", "Relu", "Tanh" }, "activations [Sigmoid, Relu, Tanh]; StaticRnn compiles the defaults")]
    public void SRNN0040_for_an_LSTM_attribute_StaticRnn_does_not_compile(string attribute, object value, string says)
    {
        var run = Run(OnnxBuilder.Lstm(lstmAttributes: [(attribute, value)]));

        Says(FailsWith(run, "SRNN0040"), "'/rnn/LSTM' (LSTM)", says);
    }

    [Fact]
    public void SRNN0040_for_a_nonzero_initial_state()
    {
        var graph = OnnxBuilder.Lstm(moreLstmInputs: ["", "h0"]).Initializer("h0", [1, 1, 4], [0.5f, 0, 0, 0]);

        Says(FailsWith(Run(graph), "SRNN0040"),
            "starts from a nonzero initial_h; StaticRnn's layers start from zero states");
    }

    [Fact]
    public void Zero_initial_states_and_full_length_sequence_lens_compile()
    {
        var graph = OnnxBuilder.Lstm(steps: 5L, moreLstmInputs: ["lengths", "h0", "c0"])
            .Initializer("lengths", [2], [5L, 5L])
            .Initializer("h0", [1, 2, 4], new float[8])
            .Initializer("c0", [1, 2, 4], new float[8]);

        Succeeds(Run(graph));
    }

    [Fact]
    public void A_lengths_input_for_sequence_lens_compiles_as_the_lengths_of_PredictBatch()
    {
        var graph = OnnxBuilder.Lstm(moreLstmInputs: ["lengths"]).Input("lengths", OnnxBuilder.Int32, "batch");

        var run = Run(graph);
        Succeeds(run);
        Assert.Contains("public static void PredictBatch(global::System.ReadOnlySpan<float> inputs, global::System.ReadOnlySpan<int> lengths, global::System.Span<float> outputs)",
            run.Sources["App.Model.g.cs"]);
    }

    [Fact]
    public void SRNN0040_for_a_lengths_input_used_otherwise()
    {
        var graph = OnnxBuilder.Lstm()
            .Input("lengths", OnnxBuilder.Int64, "batch")
            .Node("Unsqueeze", ["lengths", "axes0"], ["l2"], "/unsqueeze")
            .Node("Concat", ["h", "l2"], ["z"], "/concat", attributes: ("axis", 1L))
            .OutputOnly("z");

        Says(FailsWith(Run(graph), "SRNN0040"), "'/unsqueeze' (Unsqueeze) reads the graph's lengths input, which StaticRnn only passes to a recurrent node's sequence_lens");
    }

    [Fact]
    public void SRNN0040_for_sequence_lens_shorter_than_the_sequence()
    {
        var graph = OnnxBuilder.Lstm(steps: 5L, moreLstmInputs: ["lengths"]).Initializer("lengths", [2], [5L, 3L]);

        Says(FailsWith(Run(graph), "SRNN0040"), "has sequence_lens that are neither the graph's lengths input nor the full sequence length");
    }

    [Fact]
    public void SRNN0040_for_the_last_step_of_a_bidirectional_layer()
    {
        var random = new System.Random(3);
        float[] V(int n) => Enumerable.Range(0, n).Select(_ => (float)random.NextDouble()).ToArray();
        var graph = new OnnxBuilder()
            .Input("x", OnnxBuilder.Float, "batch", "steps", 3)
            .Output("y", OnnxBuilder.Float, "batch", 8)
            .Initializer("W", [2, 16, 3], V(96)).Initializer("R", [2, 16, 4], V(128))
            .Initializer("shape", [3], [0L, 0, -1]).Initializer("last", [], [-1L])
            .Node("Transpose", ["x"], ["xt"], "/t", attributes: ("perm", new long[] { 1, 0, 2 }))
            .Node("LSTM", ["xt", "W", "R"], ["Y"], "/rnn/LSTM", attributes: [("hidden_size", 4L), ("direction", "bidirectional")])
            .Node("Transpose", ["Y"], ["Yt"], "/t2", attributes: ("perm", new long[] { 0, 2, 1, 3 }))
            .Node("Reshape", ["Yt", "shape"], ["out"], "/reshape")
            .Node("Gather", ["out", "last"], ["y"], "/last", attributes: ("axis", 0L));

        Says(FailsWith(Run(graph), "SRNN0040"), "takes the last step of a bidirectional layer's outputs", "torch.cat((h_n[-2], h_n[-1]), dim=1)");
    }

    [Fact]
    public void SRNN0040_for_an_activation_StaticRnn_cannot_place()
    {
        var graph = OnnxBuilder.Lstm().Node("Tanh", ["h"], ["t"], "/tanh").OutputOnly("t");

        Says(FailsWith(Run(graph), "SRNN0040"), "'/tanh' (Tanh) applies an activation to something other than a dense layer's output");
    }

    [Fact]
    public void SRNN0040_for_a_graph_with_two_inputs()
    {
        // A second float input (an initial state fed at run time): not something a compiled model takes.
        var graph = OnnxBuilder.Lstm().Input("h0", OnnxBuilder.Float, 1, "batch", 4);

        Says(FailsWith(Run(graph), "SRNN0040"), "the graph has 2 inputs besides its initializers ('x', 'h0'); expected one, the sequence");
    }

    [Fact]
    public void SRNN0040_for_external_data_the_project_does_not_have()
    {
        var graph = OnnxBuilder.Lstm().ExternalInitializer("big", [4, 4], "m.onnx.data");

        Says(FailsWith(Run(graph), "SRNN0040"), "'big' keeps its data in 'm.onnx.data' beside the model, which is not among the project's AdditionalFiles",
            "save_as_external_data=False");
    }

    [Fact]
    public void External_data_beside_the_model_is_read()
    {
        // W and R moved to m.onnx.data (R after 100 bytes of something else), as PyTorch's exporter writes large tensors.
        var random = new System.Random(7);
        float[] Values(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        var w = Values(48);
        var r = Values(64);
        var data = new byte[100 + 4 * (48 + 64)];
        System.Buffer.BlockCopy(w, 0, data, 0, 4 * 48);
        System.Buffer.BlockCopy(r, 0, data, 100 + 4 * 48, 4 * 64);
        var inline = OnnxBuilder.Lstm().WithoutInitializer("W").WithoutInitializer("R")
            .Initializer("W", [1, 16, 3], w).Initializer("R", [1, 16, 4], r);
        var external = OnnxBuilder.Lstm().WithoutInitializer("W").WithoutInitializer("R")
            .ExternalInitializer("W", [1, 16, 3], "m.onnx.data", offset: 0, length: 4 * 48)
            .ExternalInitializer("R", [1, 16, 4], "m.onnx.data", offset: 100 + 4 * 48, length: 4 * 64);

        var run = GeneratorHarness.Run(
            [ModelNamed("Inline", "RnnModel(\"models/i.onnx\", SequenceLength = 5)"), ModelNamed("External", "RnnModel(\"models/m.onnx\", SequenceLength = 5)")],
            [new ProjectFile("models/i.onnx", inline.Build()), new ProjectFile("models/m.onnx", external.Build()), new ProjectFile("models/m.onnx.data", data)]);

        Succeeds(run, 2 * SourcesPerModel);
        // The same weights, whichever file they came from (all but the line naming the file's hash).
        static string Data(string source, string name) => string.Join("\n", source.Replace(name, "X").Split('\n').Where(l => !l.Contains("SHA-256")));
        Assert.Equal(Data(run.Sources["App.Inline.Weights.g.cs"], "Inline"), Data(run.Sources["App.External.Weights.g.cs"], "External"));
    }

    [Fact]
    public void SRNN0040_for_external_data_of_the_wrong_length()
    {
        var graph = OnnxBuilder.Lstm().WithoutInitializer("W").ExternalInitializer("W", [1, 16, 3], "m.onnx.data", offset: 8, length: 40);
        var run = GeneratorHarness.Run(ModelSource(Model), new ProjectFile("models/m.onnx", graph.Build()), new ProjectFile("models/m.onnx.data", new byte[400]));

        Says(FailsWith(run, "SRNN0040"), "'W' names 40 bytes at offset 8 of 'm.onnx.data' (400 bytes); its shape [1, 16, 3] needs 192");
    }

    [Fact]
    public void SRNN0003_for_a_truncated_file()
    {
        var bytes = OnnxBuilder.Lstm().Build();
        var run = GeneratorHarness.Run(ModelSource(Model), new ProjectFile("models/m.onnx", bytes.Take(bytes.Length / 2).ToArray()));

        var diagnostic = FailsWith(run, "SRNN0003");
        LocatedAt(run, diagnostic, "\"models/m.onnx\"");
        Says(diagnostic, "'models/m.onnx'", "runs past the end of its message");
    }

    [Fact]
    public void Layer_attributes_that_agree_with_the_graph_compile()
    {
        Succeeds(Run(OnnxBuilder.Lstm(), Model, "Lstm(4)", "Dropout(0.2f)", "Dense(2)"));
    }

    [Fact]
    public void SRNN0041_for_a_layer_declared_otherwise()
    {
        var run = Run(OnnxBuilder.Lstm(), Model, "Lstm(4)", "Dense(2, Activation = Activation.Softmax)");

        var diagnostic = FailsWith(run, "SRNN0041");
        LocatedOn(run, diagnostic, "Dense(2, Activation");
        Says(diagnostic, "Layer 2 is declared as Dense(2, Activation = Softmax), but the ONNX graph in 'models/m.onnx' computes Dense(2) there",
            "remove the layer attributes (the graph declares the network)");
    }

    [Fact]
    public void SRNN0041_for_another_number_of_layers()
    {
        var run = Run(OnnxBuilder.Lstm(), Model, "Gru(4)");

        Says(FailsWith(run, "SRNN0041"), "The model declares 1 layer (Gru(4))", "computes 2: Lstm(4), Dense(2)");
    }

    [Fact]
    public void SRNN0042_for_a_SequenceLength_the_graph_fixes_otherwise()
    {
        var run = Run(OnnxBuilder.Lstm(steps: 7L), "RnnModel(\"models/m.onnx\", SequenceLength = 5)");

        var diagnostic = FailsWith(run, "SRNN0042");
        LocatedAt(run, diagnostic, "5");
        Says(diagnostic, "RnnModel.SequenceLength is 5, but the ONNX graph's input 'x' has 7 steps; remove SequenceLength (the graph gives it) or set it to 7");
    }

    [Fact]
    public void A_graph_with_a_fixed_length_needs_no_SequenceLength()
    {
        var run = Run(OnnxBuilder.Lstm(steps: 7L), "RnnModel(\"models/m.onnx\")");

        Succeeds(run);
        Assert.Contains("public const int SequenceLength = 7;", run.Sources["App.Model.g.cs"]);
    }

    [Fact]
    public void SRNN0042_for_an_InputSize_the_graph_says_otherwise()
    {
        var run = Run(OnnxBuilder.Lstm(), "RnnModel(\"models/m.onnx\", SequenceLength = 5, InputSize = 2)");

        Says(FailsWith(run, "SRNN0042"), "RnnModel.InputSize is 2, but the ONNX graph's input 'x' has 3 features per step");
    }

    [Fact]
    public void SRNN0030_for_a_dynamic_time_axis_says_why_SequenceLength_is_needed()
    {
        var run = Run(OnnxBuilder.Lstm(), "RnnModel(\"models/m.onnx\")");

        Says(FailsWith(run, "SRNN0030"), "found no value", "the ONNX graph's input 'x' has a time axis of any length ('steps')");
    }
}
