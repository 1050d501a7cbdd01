using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using StaticRnn.Tests.Fixtures;
using Xunit;

namespace StaticRnn.Tests;

/// <summary>
/// Sequences shorter than SequenceLength against the real thing (tools/make_length_fixtures.py): PyTorch modules run on
/// batches packed with <c>pack_padded_sequence</c> (lengths 1 to the maximum, unsorted, garbage past each end), through
/// <c>PredictBatch(inputs, lengths, outputs)</c>; and Keras's <c>mask_zero</c> (pre-, post- and middle padding, a
/// sequence all but one masked) through <c>Predict</c> and <c>PredictBatch</c> of <c>[Embedding(MaskZero = true)]</c> models.
/// </summary>
public class LengthFixtureTests
{
    public static IEnumerable<object[]> Packed => LengthFixtureCatalog.All.Where(m => !m.MaskZero).Select(m => new object[] { m.Name });

    public static IEnumerable<object[]> Masked => LengthFixtureCatalog.All.Where(m => m.MaskZero).Select(m => new object[] { m.Name });

    private static LengthFixtureModel Model(string name) => LengthFixtureCatalog.All.Single(m => m.Name == name);

    [Fact]
    public void Every_length_fixture_has_a_model()
    {
        var files = Directory.GetFiles(LengthReference.Directory, "*.json").Select(Path.GetFileNameWithoutExtension).Order().ToArray();
        Assert.Equal(files, LengthFixtureCatalog.All.Select(m => m.Name).Order().ToArray());
        Assert.True(files.Length >= 15, $"expected at least 15 length fixtures, found {files.Length}");
    }

    /// <summary>The fixture's sequences three times over in one batch (more than a group of 16 for the larger fixtures,
    /// and the same lengths in different groups).</summary>
    [Theory]
    [MemberData(nameof(Packed))]
    public void PredictBatch_with_lengths_matches_PyTorch_packed_sequences(string name)
    {
        var model = Model(name);
        var fixture = LengthReference.Load(name);
        var reference = fixture.Data;
        const int Repeats = 3;
        var count = Repeats * reference.Count;
        var lengths = Enumerable.Range(0, count).Select(i => fixture.Lengths![i % reference.Count]).ToArray();
        var outputs = new float[count * model.OutputSize];
        if (model.TakesTokens)
            model.PredictBatchTokensLengths!(Enumerable.Range(0, count).SelectMany(i => reference.Tokens![i % reference.Count]).ToArray(), lengths, outputs);
        else
            model.PredictBatchLengths!(Enumerable.Range(0, count).SelectMany(i => reference.Inputs![i % reference.Count]).ToArray(), lengths, outputs);
        for (var s = 0; s < count; s++)
        {
            FixtureTests.AssertClose(reference.Expected[s % reference.Count], outputs[(s * model.OutputSize)..((s + 1) * model.OutputSize)],
                $"{name}, sequence {s % reference.Count} (length {lengths[s]} of {model.SequenceLength}), copy {s / reference.Count}");
        }
    }

    [Theory]
    [MemberData(nameof(Masked))]
    public void Predict_of_masked_tokens_matches_Keras(string name)
    {
        var model = Model(name);
        var fixture = LengthReference.Load(name);
        var reference = fixture.Data;
        for (var s = 0; s < reference.Count; s++)
        {
            var output = new float[model.OutputSize];
            model.PredictTokens!(reference.Tokens![s], output);
            FixtureTests.AssertClose(reference.Expected[s], output, $"{name}, sequence {s} ({fixture.Cases?[s]})");
        }
    }

    [Theory]
    [MemberData(nameof(Masked))]
    public void PredictBatch_of_masked_tokens_matches_Keras(string name)
    {
        var model = Model(name);
        var reference = LengthReference.Load(name).Data;
        const int Repeats = 3;
        var count = Repeats * reference.Count;
        var outputs = new float[count * model.OutputSize];
        model.PredictBatchTokens!(Enumerable.Range(0, count).SelectMany(i => reference.Tokens![i % reference.Count]).ToArray(), outputs);
        FixtureTests.AssertClose(Enumerable.Range(0, count).SelectMany(i => reference.Expected[i % reference.Count]).ToArray(), outputs, $"{name}, batch of {count}");
    }

    /// <summary>Under MaskZero, the steps past a sequence's length are padding, masked like token 0 and never read: a
    /// post-padded sequence given its length and garbage (tokens outside the vocabulary) after it gives Keras's result for
    /// the zero-padded one.</summary>
    [Theory]
    [MemberData(nameof(Masked))]
    public void PredictBatch_of_masked_tokens_with_lengths_reads_nothing_past_them(string name)
    {
        var model = Model(name);
        var reference = LengthReference.Load(name).Data;
        var tokens = new List<int>();
        var lengths = new List<int>();
        for (var s = 0; s < reference.Count; s++)
        {
            var sequence = reference.Tokens![s];
            var length = Array.FindLastIndex(sequence, t => t != 0) + 1;
            lengths.Add(Math.Max(length, 1));
            tokens.AddRange(sequence.Select((t, i) => i < Math.Max(length, 1) ? t : 1_000_000 + i));
        }
        Assert.Contains(lengths, l => l < model.SequenceLength);   // some sequences are post-padded
        var outputs = new float[reference.Count * model.OutputSize];
        model.PredictBatchTokensLengths!(tokens.ToArray(), lengths.ToArray(), outputs);
        FixtureTests.AssertClose(reference.Expected.SelectMany(e => e).ToArray(), outputs, $"{name}, lengths [{string.Join(", ", lengths)}]");
    }

    /// <summary>Step by step, a masked token leaves the state as it is: after the whole sequence the state is the one
    /// Predict's many-to-one output comes from (the unidirectional many-to-one fixture).</summary>
    [Fact]
    public void Step_over_masked_tokens_gives_Predict_s_output()
    {
        var reference = LengthReference.Load("keras_mask_lstm").Data;
        for (var s = 0; s < reference.Count; s++)
        {
            var state = default(LenKerasMaskLstm.State);
            var y = new float[LenKerasMaskLstm.StepOutputSize];
            foreach (var token in reference.Tokens![s])
                LenKerasMaskLstm.Step(ref state, token, y);
            FixtureTests.AssertClose(reference.Expected[s], y, $"keras_mask_lstm, sequence {s} step by step");
        }
    }
}
