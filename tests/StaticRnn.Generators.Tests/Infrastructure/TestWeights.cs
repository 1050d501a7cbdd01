using System;
using StaticRnn.Generators.Tests.Weights;

namespace StaticRnn.Generators.Tests.Infrastructure;

/// <summary>Safetensors files with PyTorch names and random values, for tests about the generator itself
/// (numeric correctness is tested against PyTorch's own files in StaticRnn.Tests).</summary>
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

    private static float[] Values(Random random, int count)
    {
        var values = new float[count];
        for (var i = 0; i < count; i++)
            values[i] = (float)(random.NextDouble() * 2 - 1) * 0.5f;
        return values;
    }
}
