using System.Linq;
using StaticRnn.Generators.Tests.Infrastructure;
using StaticRnn.Generators.Tests.Weights;
using Xunit;

namespace StaticRnn.Generators.Tests.Generation;

public class EndToEndTests
{
    [Fact]
    public void Generated_code_compiles_without_warnings_for_every_layer_kind()
    {
        var weights = new SafeTensorsBuilder()
            .EmbeddingTable("emb", 11, 5)
            .Lstm("lstm", 7, 5, layers: 2, bidirectional: true)
            .Gru("gru", 6, 14, layers: 1)
            .Rnn("rnn", 4, 6, layers: 2)
            .Linear("fc", 3, 4)
            .Linear("out", 2, 3, bias: false)
            .Build();
        var run = GeneratorHarness.Run("""
            using StaticRnn;
            namespace App;
            [RnnModel("model.safetensors", SequenceLength = 9)]
            [Embedding(11, 5, Weights = "emb")]
            [Lstm(7, Weights = "lstm", Layers = 2, Bidirectional = true, ReturnSequences = true)]
            [Dropout(0.25f)]
            [Gru(6, Weights = "gru", ReturnSequences = true)]
            [SimpleRnn(4, Weights = "rnn", Layers = 2, Activation = Activation.Relu, ReturnSequences = true)]
            [Dense(3, Weights = "fc", Activation = Activation.Tanh)]
            [Dense(2, Weights = "out", Activation = Activation.Softmax)]
            public static partial class Everything { }
            """, new ProjectFile("model.safetensors", weights));

        Assert.Null(run.GeneratorException);
        Assert.Empty(run.AllDiagnostics);
        Assert.Equal(Diagnostics.DiagnosticAssert.SourcesPerModel, run.Sources.Count);
    }

    [Fact]
    public void A_weight_file_included_through_a_relative_path_with_dot_dot_is_found()
    {
        // MSBuild hands AdditionalFiles to the compiler as written, e.g. "project/../shared/model.safetensors".
        var weights = new SafeTensorsBuilder().Gru("gru", 3, 2).Build();
        var run = GeneratorHarness.Run("""
            using StaticRnn;
            [RnnModel("../shared/model.safetensors", SequenceLength = 4, InputSize = 2)]
            [Gru(3)]
            public static partial class Shared { }
            """, new ProjectFile("../shared/model.safetensors", weights));

        Assert.Empty(run.AllDiagnostics);
        Assert.Contains("Shared.g.cs", run.Sources.Keys);
    }

    [Fact]
    public void Tensors_above_the_literal_limit_are_written_as_one_base64_string()
    {
        // 17 x 1000 = 17,000 values: above WeightsEmitter.MaxLiteralValues (16,384).
        var weights = new SafeTensorsBuilder().EmbeddingTable("emb", 1000, 17).Gru("gru", 2, 17).Build();
        var run = GeneratorHarness.Run("""
            using StaticRnn;
            [RnnModel("m.safetensors", SequenceLength = 3)]
            [Embedding(1000, 17)]
            [Gru(2)]
            public static partial class LargeTable { }
            """, new ProjectFile("m.safetensors", weights));

        Assert.Empty(run.AllDiagnostics);
        var data = run.Sources["LargeTable.Weights.g.cs"];
        Assert.Contains("s_Layer1_Table = global::StaticRnn.Runtime.WeightData.Aligned(global::StaticRnn.Runtime.WeightData.FromBase64(", data);
        Assert.Contains("\"u8, 17000));", data);
        Assert.Contains("s_Layer2_Wx = global::StaticRnn.Runtime.WeightData.Aligned(global::System.Runtime.InteropServices.MemoryMarshal.Cast<uint, float>(new uint[]", data);
    }

    [Fact]
    public void Large_tensors_of_an_embedded_weight_file_are_read_from_the_resource()
    {
        var weights = new SafeTensorsBuilder().EmbeddingTable("emb", 1000, 17).Gru("gru", 2, 17).Build();
        var run = GeneratorHarness.Run("""
            using StaticRnn;
            [RnnModel("m.safetensors", SequenceLength = 3)]
            [Embedding(1000, 17)]
            [Gru(2)]
            public static partial class Embedded { }
            """, new ProjectFile("m.safetensors", weights, ResourceName: "StaticRnn/m \"odd\".safetensors"));

        Assert.Empty(run.AllDiagnostics);
        var data = run.Sources["Embedded.Weights.g.cs"];
        Assert.Contains("s_Layer1_Table = global::StaticRnn.Runtime.WeightData.AlignedFromResource(typeof(StaticRnnWeights).Assembly, \"StaticRnn/m \\\"odd\\\".safetensors\", offset: ", data);
        Assert.Contains(", count: 17000, \"F32\");", data);
        Assert.DoesNotContain("FromBase64", data);
    }

    [Fact]
    public void Large_Keras_kernels_of_an_embedded_file_are_read_from_the_resource_and_rearranged_there()
    {
        // 65 x (4 x 64) = 16,640 values: above WeightsEmitter.MaxLiteralValues.
        var weights = new SafeTensorsBuilder().KerasRecurrent("lstm", "lstm_cell", 4, 64, 65).KerasDense("dense", 1, 64).Build();
        var run = GeneratorHarness.Run("""
            using StaticRnn;
            [RnnModel("m.safetensors", SequenceLength = 3, InputSize = 65, Convention = WeightConvention.Keras)]
            [Lstm(64)]
            [Dense(1)]
            public static partial class KerasEmbedded { }
            """, new ProjectFile("m.safetensors", weights, ResourceName: "StaticRnn/m.safetensors"));

        Assert.Empty(run.AllDiagnostics);
        var data = run.Sources["KerasEmbedded.Weights.g.cs"];
        Assert.Contains("s_Layer1_Wx = global::StaticRnn.Runtime.WeightData.Aligned(global::StaticRnn.Runtime.WeightPacking.GateMatrix("
            + "global::StaticRnn.Runtime.WeightPacking.FromKeras(global::StaticRnn.Runtime.WeightData.FromResource(typeof(StaticRnnWeights).Assembly, \"StaticRnn/m.safetensors\", offset: ", data);
        Assert.Contains(", count: 16640, \"F32\"), 65, 64, 4, gruGateOrder: false), 4, 64, 65));", data);
        Assert.DoesNotContain("FromBase64", data);
    }

    [Theory]
    [InlineData(false, true)]
    [InlineData(true, false)]
    public void Large_npz_members_are_read_from_the_resource_only_when_stored_verbatim(bool deflate, bool fromResource)
    {
        // 17 x 1000 = 17,000 values: above WeightsEmitter.MaxLiteralValues. A deflated member's bytes are not in the
        // file as they are, so it has to be compiled in.
        var table = new float[17000];
        for (var i = 0; i < table.Length; i++)
            table[i] = i * 0.001f;
        var weights = new NpzBuilder()
            .Add("embedding/embeddings.npy", NpyBuilder.Build(NpyBuilder.Header("<f4", "(1000, 17)"), NpyBuilder.F32Bytes(table)), deflate)
            .Add("dense/kernel.npy", NpyBuilder.F32("(17, 1)", new float[17]), deflate)
            .Build();
        var run = GeneratorHarness.Run("""
            using StaticRnn;
            [RnnModel("m.npz", SequenceLength = 3, Convention = WeightConvention.Keras)]
            [Embedding(1000, 17)]
            [Dense(1)]
            public static partial class Npz { }
            """, new ProjectFile("m.npz", weights, ResourceName: "StaticRnn/m.npz"));

        Assert.Empty(run.AllDiagnostics);
        var data = run.Sources["Npz.Weights.g.cs"];
        Assert.Equal(fromResource, data.Contains("s_Layer1_Table = global::StaticRnn.Runtime.WeightData.AlignedFromResource("));
        Assert.Equal(!fromResource, data.Contains("FromBase64"));
    }
}
