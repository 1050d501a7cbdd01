using System;
using StaticRnn.Tests.Fixtures;
using Xunit;

namespace StaticRnn.Tests;

/// <summary>
/// The generated <c>Warmup()</c>: after it, the entry points run without compiling anything on the calling thread (the JIT
/// has compiled them, optimized, during Warmup), and they give what they gave before. A model that keeps its state in
/// registers (hidden 13), one on the general kernels (hidden 33), tokens, and a bidirectional model (no Step).
/// </summary>
public class WarmupTests
{
    /// <summary>Methods the JIT has compiled on this thread. (Background recompilation at a higher tier happens on
    /// other threads.)</summary>
    private static long CompiledOnThisThread() => System.Runtime.JitInfo.GetCompiledMethodCount(currentThread: true);

    [Fact]
    public void After_warmup_a_small_models_entry_points_compile_nothing()
    {
        // Lstm(13), input 3 (lstm_uni_1l): the generated in-register kernel where Vector512 is accelerated, the general
        // kernels elsewhere.
        var input = new float[LstmUni1l.SequenceLength * LstmUni1l.InputSize];
        for (var i = 0; i < input.Length; i++)
            input[i] = MathF.Sin(i);
        var output = new float[LstmUni1l.OutputSize];
        var outputs = new float[3 * LstmUni1l.OutputSize];
        var batch = new float[3 * input.Length];
        var y = new float[LstmUni1l.StepOutputSize];
        var state = default(LstmUni1l.State);

        var x = input.AsSpan(0, LstmUni1l.InputSize);   // the test's own code is compiled before it counts

        LstmUni1l.Warmup();
        var before = CompiledOnThisThread();
        LstmUni1l.Predict(input, output);
        LstmUni1l.PredictBatch(batch, outputs);
        LstmUni1l.Step(ref state, x, y);
        Assert.Equal(before, CompiledOnThisThread());
    }

    [Fact]
    public void After_warmup_a_larger_models_entry_points_compile_nothing()
    {
        var input = new float[LstmH33Seq.SequenceLength * LstmH33Seq.InputSize];
        var output = new float[LstmH33Seq.OutputSize];
        var batch = new float[5 * input.Length];
        var outputs = new float[5 * LstmH33Seq.OutputSize];
        var y = new float[LstmH33Seq.StepOutputSize];
        var state = default(LstmH33Seq.State);

        var x = input.AsSpan(0, LstmH33Seq.InputSize);

        LstmH33Seq.Warmup();
        var before = CompiledOnThisThread();
        LstmH33Seq.Predict(input, output);
        LstmH33Seq.PredictBatch(batch, outputs);
        LstmH33Seq.Step(ref state, x, y);
        Assert.Equal(before, CompiledOnThisThread());
    }

    [Fact]
    public void After_warmup_token_and_bidirectional_models_compile_nothing()
    {
        var tokens = new int[EmbLstm.SequenceLength];
        var tokenOutput = new float[EmbLstm.OutputSize];
        var y = new float[EmbLstm.StepOutputSize];
        var state = default(EmbLstm.State);
        var input = new float[GruBi1l.SequenceLength * GruBi1l.InputSize];
        var output = new float[GruBi1l.OutputSize];

        EmbLstm.Warmup();
        GruBi1l.Warmup();
        var before = CompiledOnThisThread();
        EmbLstm.Predict(tokens, tokenOutput);
        EmbLstm.Step(ref state, 1, y);
        GruBi1l.Predict(input, output);
        Assert.Equal(before, CompiledOnThisThread());
    }

    [Fact]
    public void Warmup_changes_no_result()
    {
        // A fresh model class: its first Predict is the one that compiles, and must agree with the one after Warmup.
        var model = Array.Find(FixtureCatalog.All, m => m.Name == "gru_uni_1l")!;
        var input = new float[model.SequenceLength * model.InputSize];
        for (var i = 0; i < input.Length; i++)
            input[i] = MathF.Cos(0.7f * i);
        var first = new float[model.OutputSize];
        var second = new float[model.OutputSize];
        model.Predict!(input, first);
        GruUni1l.Warmup();
        model.Predict!(input, second);
        Assert.Equal(first, second);
    }
}
