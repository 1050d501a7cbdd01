using System;
using System.Linq;
using StaticRnn.Tests.Fixtures;
using Xunit;

namespace StaticRnn.Tests;

/// <summary>
/// <c>PredictBatch(inputs, lengths, outputs)</c> and <c>PredictSequence</c> against <c>Step</c>, which FixtureTests
/// checks against PyTorch at every step: a unidirectional many-to-one model's output for a sequence of length n is what
/// Step gives after n steps, and a many-to-many model's first n rows are Step's. (Bidirectional models and the rows
/// past the end are checked against PyTorch's pack_padded_sequence in Fixtures/Lengths.)
/// </summary>
public class SequenceLengthTests
{
    private delegate void Lengths(ReadOnlySpan<float> inputs, ReadOnlySpan<int> lengths, Span<float> outputs);
    private delegate void Single(ReadOnlySpan<float> input, Span<float> output);

    /// <summary>Runs <paramref name="batch"/> on the fixture's inputs with every length from 1 to SequenceLength (shuffled,
    /// padding filled with huge values that would show if read) and compares with Step after that many steps.</summary>
    private static void Check(string name, Lengths batch, Single single, bool sequenceOutput)
    {
        var model = FixtureCatalog.All.Single(m => m.Name == name);
        var reference = Reference.Load(name);
        int steps = model.SequenceLength, size = model.InputSize, stepOut = model.StepOutputSize;
        var random = new Random(5);
        var count = 2 * steps + 3;
        var lengths = Enumerable.Range(0, count).Select(i => 1 + i % steps).OrderBy(_ => random.Next()).ToArray();
        var inputs = new float[count * steps * size];
        var expected = new float[count][];
        for (var s = 0; s < count; s++)
        {
            var sequence = reference.Inputs![s % reference.Count];
            for (var i = 0; i < steps * size; i++)
                inputs[s * steps * size + i] = i < lengths[s] * size ? sequence[i] : 1e30f;
            var stepped = new float[steps * stepOut];
            model.StepRun!(sequence, stepped);
            expected[s] = sequenceOutput ? stepped[..(lengths[s] * stepOut)] : stepped[((lengths[s] - 1) * stepOut)..(lengths[s] * stepOut)];
        }

        var outputs = new float[count * model.OutputSize];
        batch(inputs, lengths, outputs);
        for (var s = 0; s < count; s++)
        {
            var actual = outputs.AsSpan(s * model.OutputSize, expected[s].Length).ToArray();
            FixtureTests.AssertClose(Array.ConvertAll(expected[s], v => (double)v), actual, $"{name}, sequence {s} of length {lengths[s]}");

            // The same sequence alone, unpadded (a group of one sums in another order than the groups of four).
            var alone = new float[model.OutputSize];
            single(inputs.AsSpan(s * steps * size, lengths[s] * size), alone);
            FixtureTests.AssertClose(Array.ConvertAll(outputs[(s * model.OutputSize)..((s + 1) * model.OutputSize)], v => (double)v), alone, $"{name}, sequence {s} alone");
        }
    }

    [Fact]
    public void Lstm_many_to_one() => Check("lstm_uni_2l", LstmUni2l.PredictBatch, LstmUni2l.PredictSequence, sequenceOutput: false);

    [Fact]
    public void Gru_many_to_one() => Check("gru_uni_3l", GruUni3l.PredictBatch, GruUni3l.PredictSequence, sequenceOutput: false);

    [Fact]
    public void Reset_before_gru_many_to_one() => Check("gru_h1", GruH1.PredictBatch, GruH1.PredictSequence, sequenceOutput: false);

    [Fact]
    public void Rnn_many_to_one() => Check("rnn_uni_1l", RnnUni1l.PredictBatch, RnnUni1l.PredictSequence, sequenceOutput: false);

    [Fact]
    public void Lstm_many_to_many_rows_before_the_end() => Check("lstm_uni_1l_seq", LstmUni1lSeq.PredictBatch, LstmUni1lSeq.PredictSequence, sequenceOutput: true);

    [Fact]
    public void Gru_many_to_many_rows_before_the_end() => Check("gru_uni_2l_seq", GruUni2lSeq.PredictBatch, GruUni2lSeq.PredictSequence, sequenceOutput: true);

    [Fact]
    public void Lengths_outside_1_to_SequenceLength_are_named()
    {
        var inputs = new float[2 * LstmUni2l.SequenceLength * LstmUni2l.InputSize];
        var outputs = new float[2 * LstmUni2l.OutputSize];
        var tooLong = Assert.Throws<ArgumentOutOfRangeException>(() => LstmUni2l.PredictBatch(inputs, [3, LstmUni2l.SequenceLength + 1], outputs));
        Assert.Contains($"lengths[1] is {LstmUni2l.SequenceLength + 1}; expected 1 to {LstmUni2l.SequenceLength}", tooLong.Message);
        var zero = Assert.Throws<ArgumentOutOfRangeException>(() => LstmUni2l.PredictBatch(inputs, [0, 1], outputs));
        Assert.Contains("lengths[0] is 0", zero.Message);
        var count = Assert.Throws<ArgumentException>(() => LstmUni2l.PredictBatch(inputs, [1], outputs));
        Assert.Contains("one length per sequence, 2; it holds 1", count.Message);
        var single = Assert.Throws<ArgumentException>(() => LstmUni2l.PredictSequence(new float[LstmUni2l.InputSize + 1], new float[LstmUni2l.OutputSize]));
        Assert.Contains("1 to SequenceLength", single.Message);
    }

    [Fact]
    public void Padding_tokens_are_not_read()
    {
        // Tokens past a sequence's length may be anything, even outside the vocabulary.
        var steps = EmbLstm.SequenceLength;
        var tokens = Enumerable.Range(0, 2 * steps).Select(i => i % steps < 3 ? i % EmbLstm.VocabularySize : -1).ToArray();
        var outputs = new float[2 * EmbLstm.OutputSize];
        EmbLstm.PredictBatch(tokens, [3, 3], outputs);
        var alone = new float[EmbLstm.OutputSize];
        EmbLstm.PredictSequence(tokens.AsSpan(0, 3), alone);
        Assert.Equal(alone, outputs.AsSpan(0, EmbLstm.OutputSize).ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => EmbLstm.PredictBatch(tokens, [4, 3], outputs));
    }

    [Fact]
    public void The_length_paths_allocate_nothing_after_warm_up()
    {
        int steps = LstmBi2lSeq.SequenceLength, size = LstmBi2lSeq.InputSize;
        var inputs = new float[40 * steps * size];
        var lengths = Enumerable.Range(0, 40).Select(i => 1 + i * 7 % steps).ToArray();
        var outputs = new float[40 * LstmBi2lSeq.OutputSize];
        var tokens = new int[20 * EmbLstm.SequenceLength];
        var tokenLengths = Enumerable.Range(0, 20).Select(i => 1 + i % EmbLstm.SequenceLength).ToArray();
        var tokenOutputs = new float[20 * EmbLstm.OutputSize];
        var single = new float[LstmBi2lSeq.OutputSize];

        void CallEach()
        {
            LstmBi2lSeq.PredictBatch(inputs, lengths, outputs);
            LstmBi2lSeq.PredictSequence(inputs.AsSpan(0, 2 * size), single);
            EmbLstm.PredictBatch(tokens, tokenLengths, tokenOutputs);
        }

        CallEach();   // warm-up: JIT, per-thread scratch and group buffers
        Assert.Equal(0, Allocations.Fewest(CallEach));
    }

    [Fact]
    public void Threads_get_the_results_of_one_thread()
    {
        int steps = GruBi2lSeq.SequenceLength, size = GruBi2lSeq.InputSize, count = 37;
        var random = new Random(11);
        var inputs = Enumerable.Range(0, count * steps * size).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var lengths = Enumerable.Range(0, count).Select(_ => random.Next(1, steps + 1)).ToArray();
        var expected = new float[count * GruBi2lSeq.OutputSize];
        GruBi2lSeq.PredictBatch(inputs, lengths, expected);

        var results = new float[4 * Environment.ProcessorCount][];
        System.Threading.Tasks.Parallel.For(0, results.Length, new System.Threading.Tasks.ParallelOptions { MaxDegreeOfParallelism = results.Length }, i =>
        {
            var outputs = new float[expected.Length];
            for (var repeat = 0; repeat < 20; repeat++)
                GruBi2lSeq.PredictBatch(inputs, lengths, outputs);
            results[i] = outputs;
        });
        Assert.All(results, r => Assert.Equal(expected, r));
    }
}
