using System;
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
