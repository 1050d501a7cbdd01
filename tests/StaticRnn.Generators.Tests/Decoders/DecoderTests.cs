using System.Collections.Generic;
using System.Linq;
using StaticRnn.Generators.Tests.Infrastructure;
using StaticRnn.Generators.Tests.Weights;
using Xunit;
using static StaticRnn.Generators.Tests.Diagnostics.DiagnosticAssert;

namespace StaticRnn.Generators.Tests.Decoders;

/// <summary>
/// [RnnDecoder] classes: the generated code of the tutorial's pair (a snapshot), and the build errors of decoders that do
/// not fit their encoder or their weight file (SRNN0050-SRNN0054), each on the attribute at fault, saying what was
/// expected, what was found, and the fix where the file implies it.
/// </summary>
public class DecoderTests
{
    private const string Path = "models/nmt.safetensors";

    /// <summary>The tutorial's tensors: encoder.embedding, encoder.gru, decoder.embedding, decoder.attention.{Wa, Ua, Va},
    /// decoder.gru (reading embedding + encoder hidden), decoder.out; sizes chosen so that no two agree by accident.</summary>
    private static SafeTensorsBuilder Tutorial(int hidden = 8, int embedding = 6, int units = 5, int sourceVocabulary = 11, int targetVocabulary = 9,
        bool bidirectional = false, string attention = "decoder.attention") =>
        new SafeTensorsBuilder()
            .EmbeddingTable("encoder.embedding", sourceVocabulary, embedding)
            .Gru("encoder.gru", hidden, embedding, bidirectional: bidirectional)
            .EmbeddingTable("decoder.embedding", targetVocabulary, embedding)
            .Linear(attention + ".Wa", units, hidden)
            .Linear(attention + ".Ua", units, hidden * (bidirectional ? 2 : 1))
            .Linear(attention + ".Va", 1, units)
            .Gru("decoder.gru", hidden, embedding + hidden * (bidirectional ? 2 : 1))
            .Linear("decoder.out", targetVocabulary, hidden);

    private static string Source(string encoderLayers, string decoderAttribute, params string[] decoderLayers) =>
        "using StaticRnn;\nnamespace App;\n"
        + $"[RnnModel(\"{Path}\", SequenceLength = 7)]\n[Embedding(11, 6, Weights = \"encoder.embedding\")]\n{encoderLayers}\n"
        + "public static partial class Encoder { }\n"
        + $"[{decoderAttribute}]\n" + string.Concat(decoderLayers.Select(l => "[" + l + "]\n"))
        + "public static partial class Decoder { }\n";

    private const string Decoder = "RnnDecoder(\"" + Path + "\", typeof(Encoder), MaxLength = 5, StartToken = 0, EndToken = 1)";
    private const string EncoderGru = "[Gru(8, ReturnSequences = true, Weights = \"encoder.gru\")]";

    private static readonly string[] TutorialLayers =
    [
        "Embedding(9, 6, Weights = \"decoder.embedding\")",
        "Attention(5, Weights = \"decoder.attention\")",
        "Gru(8, Weights = \"decoder.gru\")",
        "Dense(9, Weights = \"decoder.out\")",
    ];

    private static GeneratorRun Run(string source, SafeTensorsBuilder file) => GeneratorHarness.Run(source, At(file.Build(), Path));

    /// <summary>The decoder's errors, exactly these IDs; the decoder gets only its placeholder surface (members that throw,
    /// naming the errors), which code using every member compiles against; the user's code gains no compiler diagnostic.</summary>
    private static IReadOnlyList<Microsoft.CodeAnalysis.Diagnostic> DecoderFails(GeneratorRun run, params string[] ids)
    {
        NoCrash(run);
        var diagnostics = run.GeneratorDiagnostics.ToList();
        Assert.True(ids.Order().SequenceEqual(diagnostics.Select(d => d.Id).Order()), $"Expected [{string.Join(", ", ids)}], got:\n{Describe(diagnostics)}");
        var decoder = Assert.Single(run.Sources, s => s.Key.StartsWith("App.Decoder", System.StringComparison.Ordinal));
        Assert.Equal("App.Decoder.g.cs", decoder.Key);
        Assert.True(IsPlaceholder(decoder.Value), "Expected the decoder's placeholder, got:\n" + decoder.Value);
        Assert.All(ids, id => Assert.Contains(id, decoder.Value, System.StringComparison.Ordinal));
        Assert.True(run.CompilationDiagnostics.IsEmpty, "Compilation diagnostics:\n" + Describe(run.CompilationDiagnostics));
        return diagnostics;
    }

    /// <summary>Code that uses every member of the decoder, as a user's program does.</summary>
    private const string Uses = """
        public static class Uses
        {
            public static void All()
            {
                var source = new int[App.Decoder.SourceLength];
                var target = new int[App.Decoder.MaxLength];
                App.Decoder.Translate(source, target);
                App.Decoder.Translate(source, target, new float[App.Decoder.MaxLength * App.Decoder.SourceLength]);
                App.Decoder.Translate(source, target, beamWidth: 2);
                var state = default(App.Decoder.State);
                App.Decoder.Encode(source, ref state);
                App.Decoder.DecodeStep(ref state, App.Decoder.StartToken, new float[App.Decoder.VocabularySize], new float[App.Decoder.SourceLength]);
                App.Decoder.Warmup();
                _ = App.Decoder.EndToken;
            }
        }
        """;

    [Fact]
    public void A_decoder_with_errors_still_lets_the_code_that_uses_it_compile()
    {
        var run = Run(Source("[Gru(8, Weights = \"encoder.gru\")]", Decoder, TutorialLayers) + Uses, Tutorial());
        DecoderFails(run, "SRNN0050");
    }

    [Fact]
    public void The_tutorials_pair_compiles_and_its_code_reads_as_the_tutorial()
    {
        var run = Run(Source(EncoderGru, Decoder, TutorialLayers), Tutorial());
        Succeeds(run, expectedSources: SourcesPerModel + 2);
        Snapshot.Match(run.Sources["App.Decoder.g.cs"], "Decoder");
    }

    [Fact]
    public void A_feature_encoder_an_lstm_decoder_and_two_dense_layers_compile()
    {
        // Source of float features (a speech-like encoder), an LSTM pair of equal sizes (no bridge: c comes from c_n), a
        // hidden dense layer with an activation before the logits.
        var file = new SafeTensorsBuilder()
            .Lstm("enc", 8, 3)
            .EmbeddingTable("decoder.embedding", 9, 6)
            .Linear("decoder.attention.Wa", 5, 8).Linear("decoder.attention.Ua", 5, 8).Linear("decoder.attention.Va", 1, 5, bias: false)
            .Lstm("decoder.lstm", 8, 14).Linear("decoder.hidden", 10, 8).Linear("decoder.out", 9, 10);
        var source = "using StaticRnn;\nnamespace App;\n"
            + $"[RnnModel(\"{Path}\", SequenceLength = 7, InputSize = 3)]\n[Lstm(8, ReturnSequences = true, Weights = \"enc\")]\npublic static partial class Encoder {{ }}\n"
            + $"[{Decoder}]\n[Embedding(9, 6, Weights = \"decoder.embedding\")]\n[Attention(5)]\n[Lstm(8, Weights = \"decoder.lstm\")]\n"
            + "[Dense(10, Weights = \"decoder.hidden\", Activation = Activation.Relu)]\n[Dense(9, Weights = \"decoder.out\", Activation = Activation.LogSoftmax)]\n"
            + "public static partial class Decoder { }\n"
            + "public static class Uses { public static int Run() => App.Decoder.Translate(new float[App.Decoder.SourceLength * App.Decoder.SourceInputSize], new int[App.Decoder.MaxLength]); }\n";
        var run = Run(source, file);
        Succeeds(run, expectedSources: SourcesPerModel + 2);
        Assert.Contains("final.Slice(8, 8).CopyTo(recurrent.Slice(32));", run.Sources["App.Decoder.g.cs"]);   // c0 = the encoder's c_n
    }

    [Fact]
    public void An_onnx_encoder_feeds_a_decoder_from_a_safetensors_file()
    {
        // The encoder is an exported graph returning every step (x -> LSTM -> Y squeezed and transposed back to batch
        // first); its network comes from the same ONNX front end as a model's, and its final (h, c) starts the LSTM decoder.
        var random = new System.Random(5);
        float[] Values(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        var graph = new Onnx.OnnxBuilder()
            .Input("x", Onnx.OnnxBuilder.Float, "batch", 7, 3)
            .Output("y", Onnx.OnnxBuilder.Float, "batch", 7, 4)
            .Initializer("W", [1, 16, 3], Values(48))
            .Initializer("R", [1, 16, 4], Values(64))
            .Initializer("B", [1, 32], Values(32))
            .Initializer("axes1", [1], [1L])
            .Node("Transpose", ["x"], ["x_t"], "/Transpose", attributes: ("perm", new long[] { 1, 0, 2 }))
            .Node("LSTM", ["x_t", "W", "R", "B"], ["Y", "Y_h"], "/rnn/LSTM", attributes: ("hidden_size", 4L))
            .Node("Squeeze", ["Y", "axes1"], ["ys"], "/Squeeze")
            .Node("Transpose", ["ys"], ["y"], "/Transpose_1", attributes: ("perm", new long[] { 1, 0, 2 }))
            .Build();
        var decoder = new SafeTensorsBuilder()
            .EmbeddingTable("decoder.embedding", 9, 6)
            .Linear("decoder.attention.Wa", 5, 4).Linear("decoder.attention.Ua", 5, 4).Linear("decoder.attention.Va", 1, 5)
            .Lstm("decoder.lstm", 4, 10).Linear("decoder.out", 9, 4).Build();
        var source = "using StaticRnn;\nnamespace App;\n"
            + "[RnnModel(\"models/encoder.onnx\")]\npublic static partial class Encoder { }\n"
            + "[RnnDecoder(\"models/decoder.safetensors\", typeof(Encoder), MaxLength = 5)]\n[Embedding(9, 6, Weights = \"decoder.embedding\")]\n"
            + "[Attention(5)]\n[Lstm(4, Weights = \"decoder.lstm\")]\n[Dense(9, Weights = \"decoder.out\")]\npublic static partial class Decoder { }\n"
            + "public static class Uses { public static int Run() => App.Decoder.Translate(new float[App.Decoder.SourceLength * App.Decoder.SourceInputSize], new int[App.Decoder.MaxLength]); }\n";
        var run = GeneratorHarness.Run(source, new ProjectFile("models/encoder.onnx", graph), new ProjectFile("models/decoder.safetensors", decoder));
        Succeeds(run, expectedSources: SourcesPerModel + 2);
        Assert.Contains("public const int SourceLength = 7;", run.Sources["App.Decoder.g.cs"]);
        Assert.Contains("final.Slice(4, 4).CopyTo(recurrent.Slice(32));", run.Sources["App.Decoder.g.cs"]);   // c0 = the graph's LSTM's c_n
    }

    [Fact]
    public void Attention_without_a_prefix_finds_the_one_group_of_Wa_Ua_and_Va()
    {
        var layers = TutorialLayers.Select(l => l.StartsWith("Attention") ? "Attention(5)" : l).ToArray();
        Succeeds(Run(Source(EncoderGru, Decoder, layers), Tutorial(attention: "dec.attn")), expectedSources: SourcesPerModel + 2);
    }

    [Fact]
    public void An_encoder_that_does_not_return_sequences_is_told_to()
    {
        var run = Run(Source("[Gru(8, Weights = \"encoder.gru\")]", Decoder, TutorialLayers), Tutorial());
        var diagnostic = DecoderFails(run, "SRNN0050").Single();
        LocatedAt(run, diagnostic, "typeof(Encoder)");
        Says(diagnostic, "The encoder 'Encoder' of decoder 'Decoder' cannot be used", "ReturnSequences = true", "set ReturnSequences = true on its layer 2, Gru(8)");
    }

    [Fact]
    public void An_encoder_type_that_is_not_a_model_is_an_error_on_typeof()
    {
        var source = Source(EncoderGru, Decoder.Replace("typeof(Encoder)", "typeof(System.String)"), TutorialLayers);
        var run = Run(source, Tutorial());
        var diagnostic = DecoderFails(run, "SRNN0050").Single();
        LocatedAt(run, diagnostic, "typeof(System.String)");
        Says(diagnostic, "The encoder 'string'", "it has no [RnnModel] attribute", "expected a static partial class marked [RnnModel]");
    }

    [Fact]
    public void An_encoder_with_errors_is_named_once_on_the_decoder()
    {
        // Gru(9) does not fit the encoder's tensors: the encoder reports SRNN0011 (with the fix), the decoder one SRNN0050.
        var run = Run(Source("[Gru(9, ReturnSequences = true, Weights = \"encoder.gru\")]", Decoder, TutorialLayers), Tutorial());
        NoCrash(run);
        var decoder = run.GeneratorDiagnostics.Single(d => d.Id == "SRNN0050");
        Says(decoder, "it does not compile (SRNN0011, reported on it); fix the encoder first");
        Assert.Contains(run.GeneratorDiagnostics, d => d.Id == "SRNN0011");
    }

    [Fact]
    public void A_bidirectional_encoder_without_a_bridge_is_told_to_add_the_bridge_the_file_has()
    {
        var file = Tutorial(bidirectional: true).Linear("decoder.bridge", 8, 16);
        var run = Run(Source("[Gru(8, Bidirectional = true, ReturnSequences = true, Weights = \"encoder.gru\")]", Decoder, TutorialLayers), file);
        var diagnostic = DecoderFails(run, "SRNN0053").Single();
        LocatedOn(run, diagnostic, "Gru(8, Weights = \"decoder.gru\")");
        Says(diagnostic, "starts from the encoder's final state, two directions' h of 8", "needs h of 8",
            "add [Bridge(Weights = \"decoder.bridge\")] (the weight file has 'decoder.bridge.weight' [8, 16])");

        // With the bridge it compiles.
        var layers = TutorialLayers.Append("Bridge(Weights = \"decoder.bridge\")").ToArray();
        Succeeds(Run(Source("[Gru(8, Bidirectional = true, ReturnSequences = true, Weights = \"encoder.gru\")]", Decoder, layers), file),
            expectedSources: SourcesPerModel + 2);
    }

    [Fact]
    public void Missing_attention_tensors_say_what_was_expected_and_what_the_file_has()
    {
        var layers = TutorialLayers.Select(l => l.StartsWith("Attention") ? "Attention(5)" : l).ToArray();
        var file = new SafeTensorsBuilder()
            .EmbeddingTable("encoder.embedding", 11, 6).Gru("encoder.gru", 8, 6)
            .EmbeddingTable("decoder.embedding", 9, 6).Linear("decoder.attn_w", 5, 8)
            .Gru("decoder.gru", 8, 14).Linear("decoder.out", 9, 8);
        var run = Run(Source(EncoderGru, Decoder, layers), file);
        var diagnostic = DecoderFails(run, "SRNN0054").Single();
        LocatedOn(run, diagnostic, "Attention(5)");
        Says(diagnostic, "Layer 2, Attention(5) needs the tensors '<prefix>.Wa.weight' [5, 8], '<prefix>.Ua.weight' [5, 8] and '<prefix>.Va.weight' [1, 5]",
            "the weight file has no group of Wa, Ua and Va", "'decoder.attn_w.weight'");
    }

    [Fact]
    public void Attention_of_the_wrong_size_is_a_shape_error_naming_the_part()
    {
        var layers = TutorialLayers.Select(l => l.StartsWith("Attention") ? "Attention(7, Weights = \"decoder.attention\")" : l).ToArray();
        var run = Run(Source(EncoderGru, Decoder, layers), Tutorial());
        var diagnostic = DecoderFails(run, "SRNN0011").Single();
        LocatedAt(run, diagnostic, "7");
        Says(diagnostic, "layer 2, Attention(7) expects the tensor 'decoder.attention.Wa.weight' to have shape [7, 8]", "but it has shape [5, 8]",
            "; did you mean [Attention(5, Weights = \"decoder.attention\")]?");
    }

    [Fact]
    public void A_decoder_without_attention_or_dense_layers_says_what_it_expects()
    {
        var run = Run(Source(EncoderGru, Decoder, "Embedding(9, 6, Weights = \"decoder.embedding\")", "Gru(8, Weights = \"decoder.gru\")"), Tutorial());
        var diagnostics = DecoderFails(run, "SRNN0051", "SRNN0051");
        Assert.Contains(diagnostics, d => Message(d).Contains("expected at least one [Dense] after the recurrent layer"));
        Assert.Contains(diagnostics, d => Message(d).Contains("expected one [Attention(units)]") && Message(d).Contains("found 0"));
    }

    [Fact]
    public void A_bidirectional_decoder_layer_is_an_error_on_Bidirectional()
    {
        var layers = TutorialLayers.Select(l => l.StartsWith("Gru") ? "Gru(8, Bidirectional = true, Weights = \"decoder.gru\")" : l).ToArray();
        var run = Run(Source(EncoderGru, Decoder, layers), Tutorial());
        var diagnostic = DecoderFails(run, "SRNN0051").Single();
        LocatedAt(run, diagnostic, "true");
        Says(diagnostic, "one level and one direction; found Gru(8, Bidirectional = true)");
    }

    [Fact]
    public void Attention_on_a_model_is_an_error_saying_where_it_belongs()
    {
        var run = Run(Source(EncoderGru + "\n[Attention(5)]", Decoder, TutorialLayers), Tutorial());
        NoCrash(run);
        var diagnostic = Assert.Single(run.GeneratorDiagnostics, d => d.Id == "SRNN0036");
        LocatedOn(run, diagnostic, "Attention(5)");
        Says(diagnostic, "[Attention] on an [RnnModel] is not supported", "it belongs on the decoder of an encoder-decoder");
    }

    [Fact]
    public void A_bridge_on_another_part_of_the_class_is_an_error_not_dropped()
    {
        var file = Tutorial().Linear("decoder.bridge", 8, 8);
        var source = Source(EncoderGru, Decoder, TutorialLayers) + "[Bridge(Weights = \"decoder.bridge\")]\npublic static partial class Decoder { }\n";
        var run = Run(source, file);
        var diagnostic = DecoderFails(run, "SRNN0023").Single();
        LocatedOn(run, diagnostic, "Bridge(");
    }

    [Fact]
    public void A_softmax_on_the_logits_is_an_error_since_beam_search_takes_their_log_softmax()
    {
        var layers = TutorialLayers.Select(l => l.StartsWith("Dense") ? "Dense(9, Weights = \"decoder.out\", Activation = Activation.Softmax)" : l).ToArray();
        var run = Run(Source(EncoderGru, Decoder, layers), Tutorial());
        var diagnostic = DecoderFails(run, "SRNN0051").Single();
        LocatedAt(run, diagnostic, "Activation.Softmax");
        Says(diagnostic, "found Activation = Softmax on Dense(9, Activation = Softmax): remove it (or use LogSoftmax)");
    }

    [Fact]
    public void A_class_that_is_both_a_model_and_a_decoder_is_one_error()
    {
        var source = Source(EncoderGru, Decoder, TutorialLayers).Replace("[" + Decoder + "]", "[RnnModel(\"" + Path + "\", SequenceLength = 7)]\n[" + Decoder + "]");
        var run = Run(source, Tutorial());
        NoCrash(run);
        Assert.Contains(run.GeneratorDiagnostics, d => d.Id == "SRNN0051" && Message(d).Contains("a class is either a model ([RnnModel]) or a decoder ([RnnDecoder])"));
    }

    [Fact]
    public void Bridge_weights_that_cannot_be_told_apart_or_do_not_apply_are_errors()
    {
        var gruLayers = TutorialLayers.Append("Bridge(Weights = \"decoder.bridge\", CellWeights = \"decoder.bridge_c\")").ToArray();
        var run = Run(Source(EncoderGru, Decoder, gruLayers), Tutorial().Linear("decoder.bridge", 8, 8));
        var diagnostic = DecoderFails(run, "SRNN0051").Single();
        LocatedAt(run, diagnostic, "\"decoder.bridge_c\"");
        Says(diagnostic, "CellWeights is the bridge to an LSTM decoder's c, but the decoder's layer is Gru(8)");

        var lstmFile = new SafeTensorsBuilder()
            .EmbeddingTable("encoder.embedding", 11, 6).Lstm("encoder.lstm", 8, 6)
            .EmbeddingTable("decoder.embedding", 9, 6)
            .Linear("decoder.attention.Wa", 5, 8).Linear("decoder.attention.Ua", 5, 8).Linear("decoder.attention.Va", 1, 5)
            .Lstm("decoder.lstm", 8, 14).Linear("decoder.out", 9, 8).Linear("decoder.bridge", 8, 8).Linear("decoder.bridge_cell", 8, 8);
        var lstmLayers = new[] { TutorialLayers[0], TutorialLayers[1], "Bridge", "Lstm(8, Weights = \"decoder.lstm\")", TutorialLayers[3] };
        run = Run(Source("[Lstm(8, ReturnSequences = true, Weights = \"encoder.lstm\")]", Decoder, lstmLayers), lstmFile);
        diagnostic = DecoderFails(run, "SRNN0051").Single();
        LocatedOn(run, diagnostic, "Bridge");
        Says(diagnostic, "an LSTM decoder's [Bridge] needs Weights");

        lstmLayers[2] = "Bridge(Weights = \"decoder.bridge\")";
        Succeeds(Run(Source("[Lstm(8, ReturnSequences = true, Weights = \"encoder.lstm\")]", Decoder, lstmLayers), lstmFile), expectedSources: SourcesPerModel + 2);
    }

    [Fact]
    public void An_encoder_with_a_declaration_error_is_named_on_the_decoder()
    {
        // [Attention] on the encoder is the encoder's error (SRNN0036); the decoder is not compiled against a placeholder.
        var run = Run(Source(EncoderGru + "\n[Attention(5)]", Decoder, TutorialLayers), Tutorial());
        NoCrash(run);
        Assert.Contains(run.GeneratorDiagnostics, d => d.Id == "SRNN0050" && Message(d).Contains("it does not compile (SRNN0036, reported on it)"));
        Assert.True(run.CompilationDiagnostics.IsEmpty, Describe(run.CompilationDiagnostics));
    }

    [Fact]
    public void A_state_over_the_inline_array_limit_is_an_error_saying_the_sizes()
    {
        var file = Tutorial(units: 2000);
        var layers = TutorialLayers.Select(l => l.StartsWith("Attention") ? "Attention(2000, Weights = \"decoder.attention\")" : l).ToArray();
        var run = Run(Source(EncoderGru, Decoder, layers).Replace("SequenceLength = 7", "SequenceLength = 200"), file);
        var diagnostic = DecoderFails(run, "SRNN0051").Single();
        LocatedAt(run, diagnostic, "typeof(Encoder)");
        Says(diagnostic, "its State would hold 401,632 floats", "over the 262,144 (1 MiB)");
    }

    [Theory]
    [InlineData("MaxLength = 0", "MaxLength", "RnnDecoder.MaxLength is 0; expected the most tokens one translation writes")]
    [InlineData("MaxLength = 5, EndToken = 9", "EndToken", "RnnDecoder.EndToken is 9; expected a target token, 0 to 8")]
    public void Decoder_arguments_out_of_range_are_errors_on_the_argument(string arguments, string argument, string message)
    {
        var attribute = $"RnnDecoder(\"{Path}\", typeof(Encoder), {arguments})";
        var run = Run(Source(EncoderGru, attribute, TutorialLayers), Tutorial());
        var diagnostic = DecoderFails(run, "SRNN0052").Single();
        Assert.StartsWith(argument.Length > 0 ? arguments.Split(", ").Single(a => a.StartsWith(argument)).Split(" = ")[1] : "", LocatedText(run, diagnostic));
        Says(diagnostic, message);
    }
}
