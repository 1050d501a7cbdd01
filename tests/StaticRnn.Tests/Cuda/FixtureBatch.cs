using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using StaticRnn.Cuda;
using StaticRnn.Tests.Fixtures;

namespace StaticRnn.Tests.Cuda;

/// <summary>A fixture's sequences followed by random ones, with the CPU path's outputs for all of them: the batch
/// the CUDA tests score. Exactly one of <see cref="Inputs"/> and <see cref="Tokens"/> is set.</summary>
internal sealed record FixtureBatch(FixtureModel Model, Reference Reference, int Sequences, float[]? Inputs, int[]? Tokens, float[] Expected)
{
    public static FixtureBatch Make(string name, int randomSequences)
    {
        var onnx = OnnxFixtureCatalog.All.Any(m => m.Name == name);
        var model = FixtureCatalog.All.Concat(OnnxFixtureCatalog.All).Single(m => m.Name == name);
        var reference = onnx ? Reference.LoadOnnx(name) : Reference.Load(name);
        var sequences = reference.Count + randomSequences;
        var random = new Random(name.GetHashCode(StringComparison.Ordinal));
        var perSequence = model.TakesTokens ? model.SequenceLength : model.SequenceLength * model.InputSize;
        var expected = new float[sequences * model.OutputSize];
        if (model.TakesTokens)
        {
            var tokens = new int[sequences * perSequence];
            for (var s = 0; s < reference.Count; s++)
                reference.Tokens![s].CopyTo(tokens, s * perSequence);
            var vocabulary = Kernel(name).VocabularySize;
            for (var i = reference.Count * perSequence; i < tokens.Length; i++)
                tokens[i] = random.Next(vocabulary);
            model.PredictBatchTokens!(tokens, expected);
            return new FixtureBatch(model, reference, sequences, null, tokens, expected);
        }
        var inputs = new float[sequences * perSequence];
        for (var s = 0; s < reference.Count; s++)
            reference.Inputs![s].CopyTo(inputs, s * perSequence);
        for (var i = reference.Count * perSequence; i < inputs.Length; i++)
            inputs[i] = (float)(random.NextDouble() * 4 - 2);
        model.PredictBatch!(inputs, expected);
        return new FixtureBatch(model, reference, sequences, inputs, null, expected);
    }

    /// <summary>The generated class whose weight file (or ONNX graph) is the fixture's.</summary>
    public static Type ModelType(string name) =>
        typeof(FixtureBatch).Assembly.GetTypes().Single(t =>
            t.GetCustomAttribute<RnnModelAttribute>() is { } model && Path.GetFileNameWithoutExtension(model.WeightsPath) == name);

    /// <summary>The model's generated <c>CudaKernel</c>.</summary>
    public static CudaKernelDefinition Kernel(string name) =>
        (CudaKernelDefinition)ModelType(name).GetProperty("CudaKernel", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;

    /// <summary>The model's generated (internal) <c>CudaWeights()</c>.</summary>
    public static float[] Weights(string name) =>
        (float[])ModelType(name).GetMethod("CudaWeights", BindingFlags.NonPublic | BindingFlags.Static)!.Invoke(null, null)!;

    /// <summary>The model's generated <c>CreateCudaScorer</c>.</summary>
    public static CudaScorer CreateScorer(string name, CudaScorerOptions options) =>
        (CudaScorer)ModelType(name).GetMethod("CreateCudaScorer")!.Invoke(null, [options])!;
}

/// <summary>A batch of sequences of their own lengths (or of masked tokens) for the CUDA tests: exactly one of
/// <see cref="Inputs"/> and <see cref="Tokens"/> is set; <see cref="Lengths"/> is null for full-length sequences. The
/// first <see cref="Framework"/>.Count sequences' outputs are the framework's (PyTorch or Keras), every sequence's
/// the CPU path's (<see cref="Cpu"/>).</summary>
internal sealed record LengthBatch(string Name, float[]? Inputs, int[]? Tokens, int[]? Lengths, IReadOnlyList<double[]> Framework,
    string FrameworkName, float[] Cpu)
{
    public int Sequences => Cpu.Length / FixtureBatch.Kernel(Name).OutputSize;

    /// <summary>The fixture's sequences then <paramref name="randomSequences"/> random ones (<see cref="FixtureBatch.Make"/>),
    /// each of a random length, the padding unreadable; checked against the CPU path only.</summary>
    public static LengthBatch RandomLengths(string name, int randomSequences)
    {
        var kernel = FixtureBatch.Kernel(name);
        var batch = FixtureBatch.Make(name, randomSequences);
        var lengths = ShorterLengths(name, batch.Sequences, kernel.SequenceLength);
        var (inputs, tokens) = Padded(batch.Inputs, batch.Tokens, lengths, kernel.SequenceLength);
        return new LengthBatch(name, inputs, tokens, lengths, [], "", PredictOnCpu(name, inputs, tokens, lengths));
    }

    /// <summary>A PyTorch pack_padded_sequence fixture (Fixtures/Lengths, or the ONNX sequence_lens graph
    /// "lstm_bi_seqlens") with its lengths, then <paramref name="randomSequences"/> random sequences of random lengths.</summary>
    public static LengthBatch Packed(string name, int randomSequences)
    {
        var (reference, fixtureLengths) = name == "lstm_bi_seqlens" ? OnnxLengthsTests.Load() : LoadPacked(name);
        var kernel = FixtureBatch.Kernel(name);
        var steps = kernel.SequenceLength;
        var lengths = fixtureLengths.Concat(ShorterLengths(name, randomSequences, steps)).ToArray();
        var random = new Random(name.GetHashCode(StringComparison.Ordinal));
        float[]? inputs = null;
        int[]? tokens = null;
        if (kernel.TakesTokens)
            tokens = reference.Tokens!.SelectMany(x => x).Concat(Enumerable.Range(0, randomSequences * steps).Select(_ => random.Next(kernel.VocabularySize))).ToArray();
        else
            inputs = reference.Inputs!.SelectMany(x => x).Concat(Enumerable.Range(0, randomSequences * steps * kernel.InputSize).Select(_ => (float)(random.NextDouble() * 4 - 2))).ToArray();
        (inputs, tokens) = Padded(inputs, tokens, lengths, steps);
        return new LengthBatch(name, inputs, tokens, lengths, reference.Expected, "PyTorch", PredictOnCpu(name, inputs, tokens, lengths));
    }

    private static (Reference, int[]) LoadPacked(string name)
    {
        var fixture = LengthReference.Load(name);
        return (fixture.Data, fixture.Lengths!);
    }

    /// <summary>A Keras mask_zero fixture, then <paramref name="randomSequences"/> random sequences with zeros anywhere
    /// (every seventh all zeros). <paramref name="withLengths"/>: the random sequences get random lengths, padded with
    /// zeros, and the fixture's run whole, so Keras's outputs still hold.</summary>
    public static LengthBatch Masked(string name, int randomSequences, bool withLengths)
    {
        var reference = LengthReference.Load(name).Data;
        var kernel = FixtureBatch.Kernel(name);
        var steps = kernel.SequenceLength;
        var random = new Random(name.GetHashCode(StringComparison.Ordinal));
        var tokens = reference.Tokens!.SelectMany(x => x).Concat(Enumerable.Range(0, randomSequences * steps).Select(i =>
            i / steps % 7 == 3 || random.Next(3) == 0 ? 0 : 1 + random.Next(kernel.VocabularySize - 1))).ToArray();
        var lengths = Enumerable.Repeat(steps, reference.Count).Concat(withLengths ? ShorterLengths(name, randomSequences, steps) : Enumerable.Repeat(steps, randomSequences)).ToArray();
        for (var s = 0; s < lengths.Length; s++)
            Array.Clear(tokens, s * steps + lengths[s], steps - lengths[s]);
        return new LengthBatch(name, null, tokens, withLengths ? lengths : null, reference.Expected, "Keras", PredictOnCpu(name, null, tokens, lengths));
    }

    /// <summary>A length for each sequence: the first two 1 and <paramref name="steps"/>, the others shorter than
    /// <paramref name="steps"/>, so that the last block's sequences all end early (a block runs only its longest one's steps).</summary>
    private static int[] ShorterLengths(string name, int count, int steps)
    {
        var random = new Random(name.GetHashCode(StringComparison.Ordinal) ^ 17);
        return Enumerable.Range(0, count).Select(i => i == 0 ? 1 : i == 1 ? steps : random.Next(1, Math.Max(2, steps))).ToArray();
    }

    /// <summary>Copies with every step past a sequence's length made unreadable: NaN features, or tokens outside any vocabulary.</summary>
    private static (float[]? Inputs, int[]? Tokens) Padded(float[]? inputs, int[]? tokens, int[] lengths, int steps)
    {
        var perStep = inputs is null ? 1 : inputs.Length / (lengths.Length * steps);
        var poisonedInputs = inputs?.ToArray();
        var poisonedTokens = tokens?.ToArray();
        for (var s = 0; s < lengths.Length; s++)
        {
            for (var i = (s * steps + lengths[s]) * perStep; i < (s + 1) * steps * perStep; i++)
            {
                if (poisonedInputs is not null)
                    poisonedInputs[i] = float.NaN;
                if (poisonedTokens is not null)
                    poisonedTokens[i] = -1;
            }
        }
        return (poisonedInputs, poisonedTokens);
    }

    /// <summary>The CPU path's <c>PredictBatch(inputs or tokens, lengths, outputs)</c> of the fixture's model.</summary>
    private static float[] PredictOnCpu(string name, float[]? inputs, int[]? tokens, int[] lengths)
    {
        var type = FixtureBatch.ModelType(name);
        var outputs = new float[lengths.Length * FixtureBatch.Kernel(name).OutputSize];
        MethodInfo Overload(Type input) => type.GetMethod("PredictBatch", [input, typeof(ReadOnlySpan<int>), typeof(Span<float>)])!;
        if (tokens is not null)
            Overload(typeof(ReadOnlySpan<int>)).CreateDelegate<TokenLengthsPredict>()(tokens, lengths, outputs);
        else
            Overload(typeof(ReadOnlySpan<float>)).CreateDelegate<FloatLengthsPredict>()(inputs, lengths, outputs);
        return outputs;
    }
}
