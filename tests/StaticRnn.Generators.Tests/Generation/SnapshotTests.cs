using System;
using StaticRnn.Generators.Tests.Infrastructure;
using StaticRnn.Generators.Tests.Weights;
using Xunit;

namespace StaticRnn.Generators.Tests.Generation;

/// <summary>The generated code for a few models, kept reviewable: a change to the emitter shows up as a diff of
/// these files. See tests/README.md for how to accept an intended change.</summary>
public class SnapshotTests
{
    [Fact]
    public void Sine_lstm_from_the_contract()
    {
        var weights = new SafeTensorsBuilder().Lstm("rnn", 8, 1).Linear("fc", 100, 8).Build();
        var run = GeneratorHarness.Run("""
            using StaticRnn;
            namespace Demo;
            [RnnModel("models/sine_lstm.safetensors", SequenceLength = 100, InputSize = 1)]
            [Lstm(8, Weights = "rnn")]
            [Dense(100, Weights = "fc")]
            public static partial class SineLstm { }
            """, new ProjectFile("models/sine_lstm.safetensors", weights));

        Assert.Empty(run.AllDiagnostics);
        Snapshot.Match(run.Sources["Demo.SineLstm.g.cs"], "SineLstm");
        Snapshot.Match(run.Sources["Demo.SineLstm.Cuda.g.cs"], "SineLstm.Cuda");
    }

    [Fact]
    public void Stacked_bidirectional_gru_with_per_step_softmax()
    {
        var weights = new SafeTensorsBuilder().Gru("encoder.gru", 6, 3, layers: 2, bidirectional: true).Linear("head", 4, 6).Build();
        var run = GeneratorHarness.Run("""
            using StaticRnn;
            namespace Demo.Tagging;
            public static partial class Models
            {
                [RnnModel("tagger.safetensors", SequenceLength = 12, InputSize = 3)]
                [Gru(6, Weights = "encoder.gru", Layers = 2, Bidirectional = true, MergeMode = MergeMode.Sum, ReturnSequences = true)]
                [Dense(4, Weights = "head", Activation = Activation.Softmax)]
                public static partial class Tagger { }
            }
            """, new ProjectFile("tagger.safetensors", weights));

        Assert.Empty(run.AllDiagnostics);
        Snapshot.Match(run.Sources["Demo.Tagging.Models.Tagger.g.cs"], "Tagger");
        Snapshot.Match(run.Sources["Demo.Tagging.Models.Tagger.Cuda.g.cs"], "Tagger.Cuda");
    }

    [Fact]
    public void Token_model_with_relu_rnn_dropout_and_sigmoid_head()
    {
        var weights = new SafeTensorsBuilder()
            .EmbeddingTable("embedding", 20, 4)
            .Rnn("rnn", 5, 4, layers: 2)
            .Linear("classifier", 1, 5)
            .Build();
        var run = GeneratorHarness.Run("""
            using StaticRnn;
            [RnnModel("sentiment.safetensors", SequenceLength = 6)]
            [Embedding(20, 4)]
            [SimpleRnn(5, Layers = 2, Activation = Activation.Relu)]
            [Dropout(0.5f)]
            [Dense(1, Activation = Activation.Sigmoid)]
            internal static partial class Sentiment { }
            """, new ProjectFile("sentiment.safetensors", weights));

        Assert.Empty(run.AllDiagnostics);
        Snapshot.Match(run.Sources["Sentiment.g.cs"], "Sentiment");
        Snapshot.Match(run.Sources["Sentiment.Weights.g.cs"], "Sentiment.Weights");
    }

    /// <summary>A Keras tagger: an embedding, a stacked LSTM and a reset-before bidirectional GRU, every step, a softmax head.</summary>
    private static GeneratorRun KerasTagger(string className, bool maskZero)
    {
        var weights = new SafeTensorsBuilder()
            .KerasEmbedding("embedding", 30, 6)
            .KerasRecurrent("lstm", "lstm_cell", 4, 8, 6, suffix: ":0")
            .KerasRecurrent("bidirectional", "gru_cell", 3, 5, 8, bidirectional: true, suffix: ":0")
            .KerasDense("dense", 3, 10)
            .Build();
        return GeneratorHarness.Run($$"""
            using StaticRnn;
            namespace Demo;
            [RnnModel("keras_tagger.safetensors", SequenceLength = 9, Convention = WeightConvention.Keras)]
            [Embedding(30, 6, Weights = "embedding"{{(maskZero ? ", MaskZero = true" : "")}})]
            [Lstm(8, Weights = "lstm", ReturnSequences = true)]
            [Gru(5, Weights = "bidirectional", Bidirectional = true, ReturnSequences = true)]
            [Dense(3, Weights = "dense", Activation = Activation.Softmax)]
            public static partial class {{className}} { }
            """, new ProjectFile("keras_tagger.safetensors", weights));
    }

    [Fact]
    public void Keras_tagger_with_stacked_layers_and_a_reset_before_bidirectional_gru()
    {
        var run = KerasTagger("KerasTagger", maskZero: false);

        Assert.Empty(run.AllDiagnostics);
        Snapshot.Match(run.Sources["Demo.KerasTagger.g.cs"], "KerasTagger");
        Snapshot.Match(run.Sources["Demo.KerasTagger.Weights.g.cs"], "KerasTagger.Weights");
        Snapshot.Match(run.Sources["Demo.KerasTagger.Cuda.g.cs"], "KerasTagger.Cuda");
    }

    /// <summary>The same tagger masking token 0: its CUDA kernel differs only in compacting each sequence's tokens
    /// (masked_embedding_layer) and putting the per-step outputs back at the end (expand_masked, not carrying the last
    /// real output: the Bidirectional layer zeroes masked steps). What the kernel computes is checked against Keras by
    /// the CUDA emulation tests; a snapshot would repeat KerasTagger.Cuda's.</summary>
    [Fact]
    public void Masked_keras_tagger_kernel_compacts_and_expands()
    {
        var plain = KerasTagger("KerasTagger", maskZero: false).Sources["Demo.KerasTagger.Cuda.g.cs"];
        var run = KerasTagger("MaskedKerasTagger", maskZero: true);
        Assert.Empty(run.AllDiagnostics);
        var masked = run.Sources["Demo.MaskedKerasTagger.Cuda.g.cs"];

        Assert.DoesNotContain("NotSupportedException", masked);
        Assert.Contains("masked_embedding_layer<30, 6, SEQUENCE_LENGTH>(weights + Layer1_Table, length,", masked);
        Assert.Contains("expand_masked<3, SEQUENCE_LENGTH, false>(length, count,", masked);
        Assert.True(masked.IndexOf("dense_layer<", StringComparison.Ordinal) < masked.IndexOf("expand_masked<", StringComparison.Ordinal));
        Assert.DoesNotContain("masked_embedding_layer", plain);
        Assert.DoesNotContain("expand_masked", plain);
    }

    [Fact]
    public void Stacked_peephole_lstm()
    {
        var weights = new SafeTensorsBuilder().Lstm("lstm", 5, 2, layers: 2).Peepholes("lstm", 5, layers: 2).Linear("fc", 1, 5).Build();
        var run = GeneratorHarness.Run("""
            using StaticRnn;
            namespace Demo;
            [RnnModel("peephole.safetensors", SequenceLength = 20, InputSize = 2)]
            [Lstm(5, Weights = "lstm", Layers = 2, Peephole = true)]
            [Dense(1, Weights = "fc", Activation = Activation.Sigmoid)]
            public static partial class PeepholeLstm { }
            """, new ProjectFile("peephole.safetensors", weights));

        Assert.Empty(run.AllDiagnostics);
        Snapshot.Match(run.Sources["Demo.PeepholeLstm.g.cs"], "PeepholeLstm");
        Snapshot.Match(run.Sources["Demo.PeepholeLstm.Weights.g.cs"], "PeepholeLstm.Weights");
        Snapshot.Match(run.Sources["Demo.PeepholeLstm.Cuda.g.cs"], "PeepholeLstm.Cuda");
    }
}
