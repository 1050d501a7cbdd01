using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using StaticRnn.Tests.Fixtures;
using Xunit;

namespace StaticRnn.Tests;

/// <summary>The contract's run-time promises: clear argument errors, no allocation after warm-up, and
/// identical results from many threads at once.</summary>
public class RuntimeGuaranteeTests
{
    public static IEnumerable<object[]> Models => FixtureTests.Models;

    private static FixtureModel Model(string name) => FixtureCatalog.All.Single(m => m.Name == name);

    [Theory]
    [MemberData(nameof(Models))]
    public void Wrong_span_lengths_throw_ArgumentException_naming_expected_and_actual(string name)
    {
        var model = Model(name);
        var inputLength = model.SequenceLength * model.InputSize;
        var output = new float[model.OutputSize];

        void Predict(int inLength, int outLength)
        {
            if (model.TakesTokens)
                model.PredictTokens!(new int[inLength], new float[outLength]);
            else
                model.Predict!(new float[inLength], new float[outLength]);
        }
        void PredictBatch(int inLength, int outLength)
        {
            if (model.TakesTokens)
                model.PredictBatchTokens!(new int[inLength], new float[outLength]);
            else
                model.PredictBatch!(new float[inLength], new float[outLength]);
        }

        var shortInput = Assert.Throws<ArgumentException>(() => Predict(inputLength - 1, model.OutputSize));
        Assert.Contains($"= {inputLength} values; it holds {inputLength - 1}", shortInput.Message);
        var longOutput = Assert.Throws<ArgumentException>(() => Predict(inputLength, model.OutputSize + 1));
        Assert.Equal("output", longOutput.ParamName);
        Assert.Contains($"= {model.OutputSize} values; it holds {model.OutputSize + 1}", longOutput.Message);

        var partial = Assert.Throws<ArgumentException>(() => PredictBatch(2 * inputLength + 1, 2 * model.OutputSize));
        Assert.Contains($"sequences of {inputLength} values each; it holds {2 * inputLength + 1}", partial.Message);
        var room = Assert.Throws<ArgumentException>(() => PredictBatch(3 * inputLength, 2 * model.OutputSize));
        Assert.Equal("outputs", room.ParamName);
        Assert.Contains($"3 × {model.OutputSize} = {3 * model.OutputSize} floats", room.Message);
        Assert.Contains($"it holds {2 * model.OutputSize}", room.Message);

        // An empty batch is a whole number of sequences: nothing to do, no error.
        PredictBatch(0, 0);
    }

    [Fact]
    public void Step_checks_its_spans()
    {
        var x = Assert.Throws<ArgumentException>(() =>
        {
            var state = default(LstmUni1l.State);
            LstmUni1l.Step(ref state, new float[LstmUni1l.InputSize + 1], new float[LstmUni1l.StepOutputSize]);
        });
        Assert.Equal("x", x.ParamName);
        Assert.Contains($"InputSize = {LstmUni1l.InputSize} values; it holds {LstmUni1l.InputSize + 1}", x.Message);

        var y = Assert.Throws<ArgumentException>(() =>
        {
            var state = default(LstmUni1l.State);
            LstmUni1l.Step(ref state, new float[LstmUni1l.InputSize], new float[LstmUni1l.StepOutputSize - 1]);
        });
        Assert.Equal("y", y.ParamName);
        Assert.Contains($"StepOutputSize = {LstmUni1l.StepOutputSize} values; it holds {LstmUni1l.StepOutputSize - 1}", y.Message);

        var token = Assert.Throws<ArgumentOutOfRangeException>(() =>
        {
            var state = default(EmbLstm.State);
            EmbLstm.Step(ref state, EmbLstm.VocabularySize, new float[EmbLstm.StepOutputSize]);
        });
        Assert.Equal("token", token.ParamName);
        Assert.Contains($"expected 0 to {EmbLstm.VocabularySize - 1}", token.Message);
    }

    [Fact]
    public void A_copied_State_resumes_exactly_where_it_was_taken()
    {
        var reference = Reference.Load("lstm_uni_2l");
        var x = reference.Inputs![0];
        int steps = LstmUni2l.SequenceLength, width = LstmUni2l.InputSize;
        var y = new float[LstmUni2l.StepOutputSize];
        var state = default(LstmUni2l.State);
        var half = steps / 2;
        for (var t = 0; t < half; t++)
            LstmUni2l.Step(ref state, x.AsSpan(t * width, width), y);

        var snapshot = state;   // a plain value copy
        var straight = new float[LstmUni2l.StepOutputSize];
        for (var t = half; t < steps; t++)
            LstmUni2l.Step(ref state, x.AsSpan(t * width, width), straight);

        var resumed = new float[LstmUni2l.StepOutputSize];
        for (var t = half; t < steps; t++)
            LstmUni2l.Step(ref snapshot, x.AsSpan(t * width, width), resumed);

        Assert.Equal(straight, resumed);
        var predicted = new float[LstmUni2l.OutputSize];
        LstmUni2l.Predict(x, predicted);
        Assert.Equal(predicted, resumed);   // many-to-one: the last step's output is Predict's
    }

    [Fact]
    public void A_State_saved_as_floats_and_restored_resumes_exactly()
    {
        var reference = Reference.Load("gru_lstm_stack_seq");
        var x = reference.Inputs![1];
        int steps = GruLstmStackSeq.SequenceLength, width = GruLstmStackSeq.InputSize, outputs = GruLstmStackSeq.StepOutputSize;
        var state = default(GruLstmStackSeq.State);
        var y = new float[outputs];
        for (var t = 0; t < steps / 2; t++)
            GruLstmStackSeq.Step(ref state, x.AsSpan(t * width, width), y);

        var saved = new float[GruLstmStackSeq.State.Size];
        state.CopyTo(saved);
        var straight = new float[(steps - steps / 2) * outputs];
        for (var t = steps / 2; t < steps; t++)
            GruLstmStackSeq.Step(ref state, x.AsSpan(t * width, width), straight.AsSpan((t - steps / 2) * outputs, outputs));

        var restored = GruLstmStackSeq.State.From(saved);
        var resumed = new float[straight.Length];
        for (var t = steps / 2; t < steps; t++)
            GruLstmStackSeq.Step(ref restored, x.AsSpan(t * width, width), resumed.AsSpan((t - steps / 2) * outputs, outputs));

        Assert.Equal(straight, resumed);
        var predicted = new float[GruLstmStackSeq.OutputSize];
        GruLstmStackSeq.Predict(x, predicted);
        Assert.Equal(predicted.AsSpan((steps / 2) * outputs).ToArray(), resumed);   // per-step: the second half of Predict's output
    }

    [Fact]
    public void Saving_or_restoring_a_State_through_a_span_of_the_wrong_length_names_both_sizes()
    {
        var state = default(LstmUni2l.State);
        var error = Assert.Throws<ArgumentException>(() => state.CopyTo(new float[LstmUni2l.State.Size - 1]));
        Assert.Contains($"{LstmUni2l.State.Size}", error.Message);
        Assert.Contains($"{LstmUni2l.State.Size - 1}", error.Message);
        error = Assert.Throws<ArgumentException>(() => LstmUni2l.State.From(new float[LstmUni2l.State.Size + 3]));
        Assert.Contains($"{LstmUni2l.State.Size + 3}", error.Message);
    }

    [Fact]
    public void Tokens_outside_the_vocabulary_throw_ArgumentOutOfRangeException()
    {
        var model = FixtureCatalog.All.First(m => m.TakesTokens);
        var tokens = new int[model.SequenceLength];
        tokens[^1] = 1_000_000;
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => model.PredictTokens!(tokens, new float[model.OutputSize]));
        Assert.Contains($"Token 1000000 at position {model.SequenceLength - 1} is outside the vocabulary", error.Message);
        tokens[^1] = -1;
        Assert.Throws<ArgumentOutOfRangeException>(() => model.PredictBatchTokens!(tokens, new float[model.OutputSize]));
        if (model.StepRunTokens is not null)
            Assert.Throws<ArgumentOutOfRangeException>(() => model.StepRunTokens(tokens, new float[model.SequenceLength * model.StepOutputSize]));
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Predict_PredictBatch_and_Step_allocate_nothing_after_warm_up(string name)
    {
        var model = Model(name);
        var reference = Reference.Load(name);
        var output = new float[model.OutputSize];
        var outputs = new float[reference.Count * model.OutputSize];
        var steps = new float[model.SequenceLength * model.StepOutputSize];
        var floats = reference.Inputs?.SelectMany(x => x).ToArray();
        var tokens = reference.Tokens?.SelectMany(x => x).ToArray();

        void CallEach()
        {
            if (model.TakesTokens)
            {
                model.PredictTokens!(reference.Tokens![0], output);
                model.PredictBatchTokens!(tokens, outputs);
                model.StepRunTokens?.Invoke(reference.Tokens[0], steps);
            }
            else
            {
                model.Predict!(reference.Inputs![0], output);
                model.PredictBatch!(floats, outputs);
                model.StepRun?.Invoke(reference.Inputs[0], steps);
            }
        }

        CallEach();   // warm-up: JIT, type initializers, per-thread scratch
        Assert.Equal(0, Allocations.Fewest(CallEach));
    }

    [Fact]
    public void Four_threads_per_core_get_results_bit_identical_to_one_thread()
    {
        // Predict, PredictBatch and Step (each call with its own State) on every fixture model, from
        // 4 × ProcessorCount threads for a bounded time, each thread walking the models in its own order so that
        // different models and members overlap; every result must equal the single-thread one bit for bit.
        var models = FixtureCatalog.All;
        var inputs = models.Select(m => Reference.Load(m.Name)).ToArray();
        float[] RunOnce(int index)
        {
            var model = models[index];
            var reference = inputs[index];
            var batch = reference.Count * model.OutputSize;
            var output = new float[model.OutputSize + batch + model.SequenceLength * model.StepOutputSize];
            var single = output.AsSpan(0, model.OutputSize);
            var all = output.AsSpan(model.OutputSize, batch);
            var steps = output.AsSpan(model.OutputSize + batch);
            if (model.TakesTokens)
            {
                model.PredictTokens!(reference.Tokens![0], single);
                model.PredictBatchTokens!(reference.Tokens.SelectMany(t => t).ToArray(), all);
                model.StepRunTokens?.Invoke(reference.Tokens[0], steps);
            }
            else
            {
                model.Predict!(reference.Inputs![0], single);
                model.PredictBatch!(reference.Inputs.SelectMany(x => x).ToArray(), all);
                model.StepRun?.Invoke(reference.Inputs[0], steps);
            }
            return output;
        }

        var expected = Enumerable.Range(0, models.Length).Select(RunOnce).ToArray();
        var threadCount = 4 * Environment.ProcessorCount;
        var mismatched = new System.Collections.Concurrent.ConcurrentBag<string>();
        var calls = 0L;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var start = new Barrier(threadCount);
        var threads = Enumerable.Range(0, threadCount).Select(t => new Thread(() =>
        {
            start.SignalAndWait();
            // At least one full round each, then on until the time is up.
            for (var round = 0; round == 0 || clock.Elapsed < TimeSpan.FromSeconds(3); round++)
            {
                for (var k = 0; k < models.Length; k++)
                {
                    var index = (k * (2 * t + 1) + round) % models.Length;
                    if (!RunOnce(index).AsSpan().SequenceEqual(expected[index]))
                        mismatched.Add(models[index].Name);
                    Interlocked.Increment(ref calls);
                }
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Assert.True(mismatched.IsEmpty, $"results differed from the single-thread ones for: {string.Join(", ", mismatched.Distinct())}");
        Assert.True(calls >= threadCount * models.Length, $"{calls} rounds of calls");
    }
}
