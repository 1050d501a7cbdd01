using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading.Tasks;
using Xunit;

namespace StaticRnn.Tests.Seq2Seq;

/// <summary>
/// Encoder-decoders with Bahdanau attention against PyTorch (tools/make_seq2seq_fixtures.py): the translation tutorial's
/// GRU pair; a stacked bidirectional LSTM encoder with tanh bridges into an LSTM decoder; a stacked unidirectional LSTM
/// encoder into an LSTM decoder started from its top level's h and c, with a hidden ReLU layer; a bidirectional GRU
/// encoder summing its directions into an Elman RNN decoder started by a bridge without tanh. Greedy tokens equal
/// PyTorch's; attention weights and teacher-forced logits are within 1e-5 of the float64 modules; beam search of widths 2
/// and 3 gives the fixture's (an independent Python transcription of the documented algorithm).
/// </summary>
public class Seq2SeqTests
{
    private const double Tolerance = 1e-5;

    /// <summary>One compiled pair, as delegates, so every test runs on both.</summary>
    public sealed record Pair(
        string Name, int SourceLength, int MaxLength, int VocabularySize,
        Func<int[], int[], int> Translate,
        Func<int[], int[], float[], int> TranslateWithAttention,
        Func<int[], int[], int, int> TranslateBeam,
        Func<int[], int[], float[][], float[][]> TeacherForced)   // (source, fed tokens) -> logits per step; attention through the out array
    {
        public override string ToString() => Name;
    }

    private delegate void Encoder<TState>(ReadOnlySpan<int> source, ref TState state);
    private delegate void Stepper<TState>(ref TState state, int previousToken, Span<float> logits, Span<float> attention);

    /// <summary>Encode, then DecodeStep on each fed token: the logits and attention weights of every teacher-forced step.</summary>
    private static Func<int[], int[], float[][], float[][]> TeacherForced<TState>(Encoder<TState> encode, Stepper<TState> step, int vocabulary, int sourceLength)
        where TState : struct => (source, fed, attention) =>
    {
        var state = default(TState);
        encode(source, ref state);
        var logits = new float[fed.Length][];
        for (var i = 0; i < fed.Length; i++)
        {
            logits[i] = new float[vocabulary];
            attention[i] = new float[sourceLength];
            step(ref state, fed[i], logits[i], attention[i]);
        }
        return logits;
    };

    private static readonly Dictionary<string, Pair> s_pairs = new()
    {
        ["tutorial_gru"] = new("tutorial_gru", TutorialDecoder.SourceLength, TutorialDecoder.MaxLength, TutorialDecoder.VocabularySize,
            (s, t) => TutorialDecoder.Translate(s, t), (s, t, a) => TutorialDecoder.Translate(s, t, a), (s, t, w) => TutorialDecoder.Translate(s, t, beamWidth: w),
            TeacherForced<TutorialDecoder.State>(TutorialDecoder.Encode, TutorialDecoder.DecodeStep, TutorialDecoder.VocabularySize, TutorialDecoder.SourceLength)),
        ["bilstm_bridge"] = new("bilstm_bridge", BiLstmDecoder.SourceLength, BiLstmDecoder.MaxLength, BiLstmDecoder.VocabularySize,
            (s, t) => BiLstmDecoder.Translate(s, t), (s, t, a) => BiLstmDecoder.Translate(s, t, a), (s, t, w) => BiLstmDecoder.Translate(s, t, beamWidth: w),
            TeacherForced<BiLstmDecoder.State>(BiLstmDecoder.Encode, BiLstmDecoder.DecodeStep, BiLstmDecoder.VocabularySize, BiLstmDecoder.SourceLength)),
        ["stacked_lstm"] = new("stacked_lstm", StackedLstmDecoder.SourceLength, StackedLstmDecoder.MaxLength, StackedLstmDecoder.VocabularySize,
            (s, t) => StackedLstmDecoder.Translate(s, t), (s, t, a) => StackedLstmDecoder.Translate(s, t, a), (s, t, w) => StackedLstmDecoder.Translate(s, t, beamWidth: w),
            TeacherForced<StackedLstmDecoder.State>(StackedLstmDecoder.Encode, StackedLstmDecoder.DecodeStep, StackedLstmDecoder.VocabularySize, StackedLstmDecoder.SourceLength)),
        ["sum_gru_rnn"] = new("sum_gru_rnn", SumGruDecoder.SourceLength, SumGruDecoder.MaxLength, SumGruDecoder.VocabularySize,
            (s, t) => SumGruDecoder.Translate(s, t), (s, t, a) => SumGruDecoder.Translate(s, t, a), (s, t, w) => SumGruDecoder.Translate(s, t, beamWidth: w),
            TeacherForced<SumGruDecoder.State>(SumGruDecoder.Encode, SumGruDecoder.DecodeStep, SumGruDecoder.VocabularySize, SumGruDecoder.SourceLength)),
    };

    public static IEnumerable<object[]> Pairs => s_pairs.Keys.Select(k => new object[] { k });

    private sealed record Case(string Text, int[] Source, int[] Greedy, double[][] Attention, int[] Teacher, double[][] Logits, Dictionary<string, int[]> Beam);

    private sealed record Fixture(int SourceLength, int MaxLength, List<Case> Cases);

    private static Fixture Load(string name)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "Seq2Seq", name + ".json");
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        var root = document.RootElement;
        int[] Ints(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt32()).ToArray();
        double[][] Rows(JsonElement e) => e.EnumerateArray().Select(r => r.EnumerateArray().Select(x => x.GetDouble()).ToArray()).ToArray();
        var cases = root.GetProperty("cases").EnumerateArray().Select(c => new Case(
            c.GetProperty("text").GetString()!, Ints(c.GetProperty("source")), Ints(c.GetProperty("greedy")), Rows(c.GetProperty("attention")),
            Ints(c.GetProperty("teacher")), Rows(c.GetProperty("logits")),
            c.GetProperty("beam").EnumerateObject().ToDictionary(p => p.Name, p => Ints(p.Value)))).ToList();
        return new Fixture(root.GetProperty("source_length").GetInt32(), root.GetProperty("max_length").GetInt32(), cases);
    }

    private static void Close(double expected, float actual, string what)
    {
        var error = Math.Abs(expected - actual);
        Assert.True(error <= Tolerance, $"{what}: StaticRnn {actual}, PyTorch {expected} (|error| {error:E2})");
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    public void Sizes_match_the_fixture(string name)
    {
        var (pair, fixture) = (s_pairs[name], Load(name));
        Assert.Equal(fixture.SourceLength, pair.SourceLength);
        Assert.Equal(fixture.MaxLength, pair.MaxLength);
        Assert.True(fixture.Cases.Count >= 6);
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    public void Greedy_tokens_and_attention_match_PyTorch(string name)
    {
        var (pair, fixture) = (s_pairs[name], Load(name));
        foreach (var c in fixture.Cases)
        {
            var target = new int[pair.MaxLength];
            var written = pair.Translate(c.Source, target);
            Assert.Equal(c.Greedy, target[..written]);

            var withAttention = new int[pair.MaxLength + 3];   // longer than needed is allowed
            var attention = new float[pair.MaxLength * pair.SourceLength];
            Array.Fill(attention, float.NaN);
            Assert.Equal(written, pair.TranslateWithAttention(c.Source, withAttention, attention));
            Assert.Equal(c.Greedy, withAttention[..written]);
            for (var t = 0; t < written; t++)
            {
                for (var j = 0; j < pair.SourceLength; j++)
                    Close(c.Attention[t][j], attention[t * pair.SourceLength + j], $"{name} '{c.Text}', step {t}, attention to position {j}");
            }
            Assert.All(attention[(written * pair.SourceLength)..], w => Assert.Equal(0f, w));
        }
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    public void Teacher_forced_logits_match_PyTorch(string name)
    {
        var (pair, fixture) = (s_pairs[name], Load(name));
        foreach (var c in fixture.Cases)
        {
            var attention = new float[c.Teacher.Length][];
            var logits = pair.TeacherForced(c.Source, c.Teacher, attention);
            for (var t = 0; t < c.Teacher.Length; t++)
            {
                for (var k = 0; k < pair.VocabularySize; k++)
                    Close(c.Logits[t][k], logits[t][k], $"{name} '{c.Text}', step {t} (fed {c.Teacher[t]}), logit {k}");
                Assert.Equal(1.0, attention[t].Sum(x => (double)x), 5);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    public void Beam_search_matches_the_reference(string name)
    {
        var (pair, fixture) = (s_pairs[name], Load(name));
        foreach (var c in fixture.Cases)
        {
            foreach (var (width, expected) in c.Beam)
            {
                var target = new int[pair.MaxLength];
                var written = pair.TranslateBeam(c.Source, target, int.Parse(width));
                Assert.True(expected.SequenceEqual(target[..written]),
                    $"{name} '{c.Text}', beam {width}: expected [{string.Join(", ", expected)}], got [{string.Join(", ", target[..written])}]");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    public void Translate_allocates_nothing_after_the_first_call(string name)
    {
        var (pair, fixture) = (s_pairs[name], Load(name));
        var source = fixture.Cases[0].Source;
        var target = new int[pair.MaxLength];
        var attention = new float[pair.MaxLength * pair.SourceLength];
        pair.Translate(source, target);
        pair.TranslateWithAttention(source, target, attention);
        pair.TranslateBeam(source, target, 3);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10; i++)
        {
            pair.Translate(source, target);
            pair.TranslateWithAttention(source, target, attention);
            pair.TranslateBeam(source, target, 3);
            pair.TranslateBeam(source, target, 1 + i % 3);   // narrower searches reuse the widest one's room
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    public void Threads_translate_independently(string name)
    {
        var (pair, fixture) = (s_pairs[name], Load(name));
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            for (var round = 0; round < 20; round++)
            {
                var c = fixture.Cases[(i + round) % fixture.Cases.Count];
                var target = new int[pair.MaxLength];
                var written = (i + round) % 2 == 0 ? pair.Translate(c.Source, target) : pair.TranslateBeam(c.Source, target, 2);
                Assert.Equal((i + round) % 2 == 0 ? c.Greedy : c.Beam["2"], target[..written]);
            }
        });
    }

    [Fact]
    public void Bad_arguments_name_what_was_expected()
    {
        var source = new int[TutorialDecoder.SourceLength];
        var target = new int[TutorialDecoder.MaxLength];
        var e = Assert.Throws<ArgumentException>(() => TutorialDecoder.Translate(new int[5], target));
        Assert.Contains("SourceLength = 30", e.Message);
        Assert.Equal("source", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => TutorialDecoder.Translate(source, new int[3]));
        Assert.Contains("at least MaxLength = 12", e.Message);
        e = Assert.Throws<ArgumentException>(() => TutorialDecoder.Translate(source, target, new float[7]));
        Assert.Contains("MaxLength × SourceLength = 360", e.Message);
        var bad = (int[])source.Clone();
        bad[4] = 39;
        var range = Assert.Throws<ArgumentOutOfRangeException>(() => TutorialDecoder.Translate(bad, target));
        Assert.Contains("Token 39 at position 4", range.Message);
        range = Assert.Throws<ArgumentOutOfRangeException>(() => TutorialDecoder.Translate(source, target, beamWidth: 0));
        Assert.Equal("beamWidth", range.ParamName);
        range = Assert.Throws<ArgumentOutOfRangeException>(() => TutorialDecoder.Translate(source, target, beamWidth: 14));
        Assert.Contains("1 to VocabularySize = 13; it is 14", range.Message);
        var state = default(TutorialDecoder.State);
        TutorialDecoder.Encode(source, ref state);
        range = Assert.Throws<ArgumentOutOfRangeException>(() =>
        {
            var s = state;
            TutorialDecoder.DecodeStep(ref s, 13, new float[TutorialDecoder.VocabularySize], new float[TutorialDecoder.SourceLength]);
        });
        Assert.Equal("previousToken", range.ParamName);
    }

    /// <summary>The encoder's final state is PyTorch's h_n: for the tutorial's one-direction GRU, its last output.</summary>
    [Fact]
    public void Encoder_final_state_is_its_last_h()
    {
        var source = Load("tutorial_gru").Cases[0].Source;
        var outputs = new float[TutorialEncoder.OutputSize];
        var final = new float[TutorialEncoder.FinalStateSize];
        TutorialEncoder.Predict(source, outputs, final);
        Assert.Equal(16, TutorialEncoder.FinalStateSize);
        Assert.Equal(outputs[^16..], final);
        var plain = new float[TutorialEncoder.OutputSize];
        TutorialEncoder.Predict(source, plain);
        Assert.Equal(plain, outputs);
    }

    [Fact]
    public void Warmup_runs()
    {
        TutorialDecoder.Warmup();
        BiLstmDecoder.Warmup();
    }
}
