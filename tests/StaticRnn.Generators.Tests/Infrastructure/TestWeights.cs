using System;
using StaticRnn.Generators.Tests.Weights;

namespace StaticRnn.Generators.Tests.Infrastructure;

/// <summary>Safetensors files with PyTorch or Keras names and random values, for tests about the generator itself
/// (numeric correctness is tested against PyTorch's and ONNX Runtime's outputs in StaticRnn.Tests).</summary>
public static class TestWeights
{
    public static SafeTensorsBuilder Recurrent(this SafeTensorsBuilder builder, string prefix, int gates, int hidden, int input,
        int layers = 1, bool bidirectional = false, bool bias = true, int seed = 1)
    {
        var random = new Random(seed);
        var p = prefix.Length == 0 ? "" : prefix + ".";
        for (var k = 0; k < layers; k++)
        {
            foreach (var suffix in bidirectional ? new[] { "", "_reverse" } : new[] { "" })
            {
                var inWidth = k == 0 ? input : hidden * (bidirectional ? 2 : 1);
                builder.AddF32($"{p}weight_ih_l{k}{suffix}", [gates * hidden, inWidth], Values(random, gates * hidden * inWidth));
                builder.AddF32($"{p}weight_hh_l{k}{suffix}", [gates * hidden, hidden], Values(random, gates * hidden * hidden));
                if (bias)
                {
                    builder.AddF32($"{p}bias_ih_l{k}{suffix}", [gates * hidden], Values(random, gates * hidden));
                    builder.AddF32($"{p}bias_hh_l{k}{suffix}", [gates * hidden], Values(random, gates * hidden));
                }
            }
        }
        return builder;
    }

    public static SafeTensorsBuilder Lstm(this SafeTensorsBuilder builder, string prefix, int hidden, int input, int layers = 1, bool bidirectional = false) =>
        builder.Recurrent(prefix, 4, hidden, input, layers, bidirectional);

    public static SafeTensorsBuilder Gru(this SafeTensorsBuilder builder, string prefix, int hidden, int input, int layers = 1, bool bidirectional = false) =>
        builder.Recurrent(prefix, 3, hidden, input, layers, bidirectional);

    public static SafeTensorsBuilder Rnn(this SafeTensorsBuilder builder, string prefix, int hidden, int input, int layers = 1, bool bidirectional = false) =>
        builder.Recurrent(prefix, 1, hidden, input, layers, bidirectional);

    public static SafeTensorsBuilder Linear(this SafeTensorsBuilder builder, string prefix, int outputs, int inputs, bool bias = true, int seed = 2)
    {
        var random = new Random(seed);
        var p = prefix.Length == 0 ? "" : prefix + ".";
        builder.AddF32(p + "weight", [outputs, inputs], Values(random, outputs * inputs));
        if (bias)
            builder.AddF32(p + "bias", [outputs], Values(random, outputs));
        return builder;
    }

    public static SafeTensorsBuilder EmbeddingTable(this SafeTensorsBuilder builder, string prefix, int vocabulary, int dimension, int seed = 3)
    {
        var random = new Random(seed);
        var p = prefix.Length == 0 ? "" : prefix + ".";
        return builder.AddF32(p + "weight", [vocabulary, dimension], Values(random, vocabulary * dimension));
    }

    /// <summary>Peephole weights as a PyTorch-convention file names them: <c>{prefix}.peephole_{i,f,o}_l{k}[_reverse]</c>.</summary>
    public static SafeTensorsBuilder Peepholes(this SafeTensorsBuilder builder, string prefix, int hidden, int layers = 1, bool bidirectional = false, int seed = 4)
    {
        var random = new Random(seed);
        for (var k = 0; k < layers; k++)
        {
            foreach (var suffix in bidirectional ? new[] { "", "_reverse" } : new[] { "" })
            {
                foreach (var gate in new[] { "i", "f", "o" })
                    builder.AddF32($"{prefix}.peephole_{gate}_l{k}{suffix}", [hidden], Values(random, hidden));
            }
        }
        return builder;
    }

    /// <summary>A Keras recurrent layer: <c>{layer}/{cell}/kernel</c> [input, gates × hidden], <c>recurrent_kernel</c>,
    /// <c>bias</c> ([2, 3H] for a reset-after GRU), under <c>forward_{inner}</c>/<c>backward_{inner}</c> when bidirectional.</summary>
    public static SafeTensorsBuilder KerasRecurrent(this SafeTensorsBuilder builder, string layer, string cell, int gates, int hidden, int input,
        bool bidirectional = false, bool resetAfter = false, bool peephole = false, string suffix = "", int seed = 5)
    {
        var random = new Random(seed);
        var inner = cell.Replace("_cell", "");
        foreach (var direction in bidirectional ? new[] { $"forward_{inner}/", $"backward_{inner}/" } : new[] { "" })
        {
            var p = $"{layer}/{direction}{cell}/";
            builder.AddF32(p + "kernel" + suffix, [input, gates * hidden], Values(random, input * gates * hidden));
            builder.AddF32(p + "recurrent_kernel" + suffix, [hidden, gates * hidden], Values(random, hidden * gates * hidden));
            if (resetAfter)
                builder.AddF32(p + "bias" + suffix, [2, gates * hidden], Values(random, 2 * gates * hidden));
            else
                builder.AddF32(p + "bias" + suffix, [gates * hidden], Values(random, gates * hidden));
            if (peephole)
            {
                foreach (var gate in new[] { "input", "forget", "output" })
                    builder.AddF32($"{p}{gate}_gate_peephole_weights{suffix}", [hidden], Values(random, hidden));
            }
        }
        return builder;
    }

    /// <summary>A Keras Dense layer: <c>{layer}/kernel</c> [inputs, units] and <c>{layer}/bias</c>.</summary>
    public static SafeTensorsBuilder KerasDense(this SafeTensorsBuilder builder, string layer, int units, int inputs, bool bias = true, int seed = 6)
    {
        var random = new Random(seed);
        builder.AddF32(layer + "/kernel", [inputs, units], Values(random, inputs * units));
        if (bias)
            builder.AddF32(layer + "/bias", [units], Values(random, units));
        return builder;
    }

    /// <summary>A Keras Embedding layer: <c>{layer}/embeddings</c> [vocabulary, dimension].</summary>
    public static SafeTensorsBuilder KerasEmbedding(this SafeTensorsBuilder builder, string layer, int vocabulary, int dimension, int seed = 7) =>
        builder.AddF32(layer + "/embeddings", [vocabulary, dimension], Values(new Random(seed), vocabulary * dimension));

    private static float[] Values(Random random, int count)
    {
        var values = new float[count];
        for (var i = 0; i < count; i++)
            values[i] = (float)(random.NextDouble() * 2 - 1) * 0.5f;
        return values;
    }
}
