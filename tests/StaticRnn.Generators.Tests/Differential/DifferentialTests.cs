using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using StaticRnn.Generators.Tests.Infrastructure;
using StaticRnn.Generators.Tests.Weights;
using Xunit;

namespace StaticRnn.Generators.Tests.Differential;

/// <summary>
/// Random architectures (every cell and variant, sizes 1 to 70, stacked and bidirectional layers, every merge
/// mode, T from 1 to 9, embeddings and heads), generated, compiled and loaded in memory, and run against
/// <see cref="ReferenceNetwork"/>: Predict, PredictBatch and Step. CI runs these tests on every vector width
/// (AVX-512, AVX2, 128-bit, scalar) as it does the fixture tests. A failure names the seed and the architecture;
/// <c>STATICRNN_DIFFERENTIAL_SEED=n</c> runs the batch of that seed alone.
/// </summary>
public class DifferentialTests
{
    private const double Tolerance = 1e-5;
    private const int ModelsPerBatch = 12;

    public static IEnumerable<object[]> Seeds =>
        Environment.GetEnvironmentVariable("STATICRNN_DIFFERENTIAL_SEED") is { } seed
            ? [[int.Parse(seed, CultureInfo.InvariantCulture)]]
            : Enumerable.Range(1, 4).Select(s => new object[] { s });

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Random_architectures_match_the_reference_implementation(int seed)
    {
        var random = new Random(seed);
        var models = Enumerable.Range(0, ModelsPerBatch).Select(i => Draw(random, $"Random{seed}_{i}")).ToList();

        // All models of the batch in one compilation: one generator run, one assembly.
        var run = GeneratorHarness.Run(
            ["namespace Differential;\n" + string.Join("\n", models.Select(m => m.Source))],
            models.Select(m => new ProjectFile(m.FileName, m.File)).ToArray());
        Assert.True(!run.Errors.Any(), $"seed {seed}:\n" + string.Join("\n", run.Errors) + "\n" + string.Join("\n", models.Select(m => m.Name + ": " + m.Architecture)));
        using var stream = new MemoryStream();
        var emitted = run.OutputCompilation.Emit(stream);
        Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics));
        var assembly = Assembly.Load(stream.ToArray());

        foreach (var model in models)
            Check(model, assembly.GetType("Differential." + model.Name)!, random);
    }

    internal sealed record DrawnModel(string Name, Architecture Architecture, Dictionary<string, float[]> Weights, byte[] File, string Source)
    {
        public string FileName => Name + ".safetensors";
    }

    private static void Check(DrawnModel model, Type type, Random random)
    {
        var a = model.Architecture;
        var what = $"{model.Name}: {a}";
        var inputLength = a.SequenceLength * (a.TakesTokens ? 1 : a.InputSize);
        double[] DrawInput() => Enumerable.Range(0, inputLength)
            .Select(_ => a.TakesTokens ? random.Next(a.Vocabulary) : Math.Round(random.NextDouble() * 4 - 2, 3)).ToArray();
        var inputs = Enumerable.Range(0, 3).Select(_ => DrawInput()).ToArray();
        var expected = inputs.Select(x => ReferenceNetwork.Run(a, model.Weights, x)).ToArray();

        Array Typed(IEnumerable<double> values) => a.TakesTokens
            ? values.Select(v => (int)v).ToArray()
            : values.Select(v => (float)v).ToArray();

        // Predict, through reflection over the span signature: copy into arrays, call, compare.
        var predict = Invoker(type, "Predict");
        for (var s = 0; s < inputs.Length; s++)
        {
            var output = new float[a.OutputSize];
            predict(Typed(inputs[s]), output);
            AssertClose(expected[s], output, $"{what}, Predict of sequence {s}");
        }

        var batch = new float[inputs.Length * a.OutputSize];
        Invoker(type, "PredictBatch")(Typed(inputs.SelectMany(x => x)), batch);
        AssertClose(expected.SelectMany(e => e).ToArray(), batch, $"{what}, PredictBatch");

        if (!a.HasStep)
        {
            Assert.Null(type.GetNestedType("State"));
            return;
        }
        var perStep = ReferenceNetwork.Run(a, model.Weights, inputs[0], perStep: true);
        var steps = StepThrough(type, a, Typed(inputs[0]));
        AssertClose(perStep, steps, $"{what}, Step");
    }

    /// <summary>Calls a static (ReadOnlySpan&lt;T&gt;, Span&lt;float&gt;) member through a generic helper.</summary>
    private static Action<Array, float[]> Invoker(Type type, string name)
    {
        var method = type.GetMethods(BindingFlags.Public | BindingFlags.Static).Single(m => m.Name == name && m.GetParameters().Length == 2);
        var element = method.GetParameters()[0].ParameterType.GetGenericArguments()[0];
        var call = typeof(DifferentialTests).GetMethod(nameof(CallSpans), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(element);
        return (input, output) => call.Invoke(null, [method, input, output]);
    }

    private delegate void SpanMember<T>(ReadOnlySpan<T> input, Span<float> output);

    private static void CallSpans<T>(MethodInfo method, T[] input, float[] output) =>
        method.CreateDelegate<SpanMember<T>>()(input, output);

    private delegate void StepMember<TState, T>(ref TState state, ReadOnlySpan<T> x, Span<float> y);

    private delegate void TokenStepMember<TState>(ref TState state, int token, Span<float> y);

    private static float[] StepThrough(Type type, Architecture a, Array input)
    {
        var state = type.GetNestedType("State")!;
        var helper = typeof(DifferentialTests).GetMethod(a.TakesTokens ? nameof(StepTokens) : nameof(StepFloats), BindingFlags.NonPublic | BindingFlags.Static)!;
        return (float[])(a.TakesTokens ? helper.MakeGenericMethod(state) : helper.MakeGenericMethod(state)).Invoke(null, [type, a, input])!;
    }

    private static float[] StepFloats<TState>(Type type, Architecture a, float[] input) where TState : struct
    {
        var step = type.GetMethods().Single(m => m.Name == "Step").CreateDelegate<StepMember<TState, float>>();
        var state = default(TState);
        var outputs = new float[a.SequenceLength * a.StepOutputSize];
        for (var t = 0; t < a.SequenceLength; t++)
            step(ref state, input.AsSpan(t * a.InputSize, a.InputSize), outputs.AsSpan(t * a.StepOutputSize, a.StepOutputSize));
        return outputs;
    }

    private static float[] StepTokens<TState>(Type type, Architecture a, int[] input) where TState : struct
    {
        var step = type.GetMethods().Single(m => m.Name == "Step").CreateDelegate<TokenStepMember<TState>>();
        var state = default(TState);
        var outputs = new float[a.SequenceLength * a.StepOutputSize];
        for (var t = 0; t < a.SequenceLength; t++)
            step(ref state, input[t], outputs.AsSpan(t * a.StepOutputSize, a.StepOutputSize));
        return outputs;
    }

    private static void AssertClose(double[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            var error = Math.Abs(expected[i] - actual[i]);
            Assert.True(error <= Tolerance * Math.Max(1, Math.Abs(expected[i])),
                $"{what}: index {i}: reference {expected[i]:R}, generated {actual[i]:R}");
        }
    }

    // ---- Drawing architectures ----

    private static readonly string[] s_merges = ["Concat", "Sum", "Multiply", "Average"];
    private static readonly string[] s_heads = ["None", "Sigmoid", "Tanh", "Relu", "Softmax", "LogSoftmax"];

    /// <summary>Sizes from 1 to 70, most of them small so a batch compiles quickly.</summary>
    private static int Size(Random random) => random.Next(4) == 0 ? random.Next(17, 71) : random.Next(1, 17);

    private static DrawnModel Draw(Random random, string name)
    {
        var tokens = random.Next(4) == 0;
        var recurrentCount = random.Next(3) == 0 ? 2 : 1;
        var recurrent = new RecurrentSpec[recurrentCount];
        for (var n = 0; n < recurrentCount; n++)
        {
            var cell = (Cell)random.Next(3);
            recurrent[n] = new RecurrentSpec(
                cell,
                Size(random),
                Layers: random.Next(3) == 0 ? 2 : 1,
                Bidirectional: random.Next(3) == 0,
                Merge: s_merges[random.Next(4)],
                ReturnSequences: n < recurrentCount - 1 || random.Next(2) == 0,
                Activation: cell == Cell.Rnn ? new[] { "Tanh", "Relu", "Sigmoid" }[random.Next(3)] : "Tanh",
                ResetAfter: cell != Cell.Gru || random.Next(2) == 0,
                Peephole: cell == Cell.Lstm && random.Next(3) == 0,
                Coupled: cell == Cell.Lstm && random.Next(3) == 0);
        }
        var dense = random.Next(4) == 0 ? null : new DenseSpec(random.Next(1, 21), s_heads[random.Next(s_heads.Length)]);
        var a = new Architecture(
            SequenceLength: random.Next(1, 10),
            InputSize: tokens ? 1 : random.Next(1, 21),
            Vocabulary: tokens ? random.Next(2, 40) : 0,
            EmbeddingSize: tokens ? random.Next(1, 17) : 0,
            recurrent,
            dense);
        return Build(random, name, a);
    }

    /// <summary>The declaration and a weight file of random values for <paramref name="a"/>.</summary>
    internal static DrawnModel Build(Random random, string name, Architecture a)
    {
        var (tokens, recurrent, dense) = (a.TakesTokens, a.Recurrent, a.Dense);
        var weights = new Dictionary<string, float[]>();
        var file = new SafeTensorsBuilder();
        void Add(string key, long[] shape, double scale)
        {
            var count = (int)shape.Aggregate(1L, (x, y) => x * y);
            // Values on a 2^-12 grid: exact in float32, so the reference sees exactly what the generated code does.
            var values = Enumerable.Range(0, count).Select(_ => (float)(Math.Round((random.NextDouble() * 2 - 1) * scale * 4096) / 4096)).ToArray();
            weights[key] = values;
            file.AddF32(key, shape, values);
        }

        var width = a.InputSize;
        if (tokens)
        {
            Add("emb.weight", [a.Vocabulary, a.EmbeddingSize], 1);
            width = a.EmbeddingSize;
        }
        var source = new System.Text.StringBuilder();
        source.AppendLine(tokens
            ? $"[global::StaticRnn.RnnModel(\"{name}.safetensors\", SequenceLength = {a.SequenceLength})]"
            : $"[global::StaticRnn.RnnModel(\"{name}.safetensors\", SequenceLength = {a.SequenceLength}, InputSize = {a.InputSize})]");
        if (tokens)
            source.AppendLine($"[global::StaticRnn.Embedding({a.Vocabulary}, {a.EmbeddingSize}, Weights = \"emb\")]");
        for (var n = 0; n < recurrent.Length; n++)
        {
            var r = recurrent[n];
            // Weights scaled by 1/sqrt(fan-in), as PyTorch initializes them, keep every activation in range.
            var scale = 1 / Math.Sqrt(r.Hidden);
            for (var k = 0; k < r.Layers; k++)
            {
                var inputs = k == 0 ? width : r.Hidden * (r.Bidirectional ? 2 : 1);
                foreach (var suffix in r.Bidirectional ? new[] { "", "_reverse" } : [""])
                {
                    Add($"rec{n}.weight_ih_l{k}{suffix}", [r.Gates * r.Hidden, inputs], scale);
                    Add($"rec{n}.weight_hh_l{k}{suffix}", [r.Gates * r.Hidden, r.Hidden], scale);
                    Add($"rec{n}.bias_ih_l{k}{suffix}", [r.Gates * r.Hidden], scale);
                    Add($"rec{n}.bias_hh_l{k}{suffix}", [r.Gates * r.Hidden], scale);
                    if (r.Peephole)
                    {
                        foreach (var gate in new[] { "i", "f", "o" })
                            Add($"rec{n}.peephole_{gate}_l{k}{suffix}", [r.Hidden], 1);
                    }
                }
            }
            width = r.OutputWidth;
            var options = new List<string> { $"Weights = \"rec{n}\"" };
            if (r.Layers > 1) options.Add($"Layers = {r.Layers}");
            if (r.Bidirectional) options.Add($"Bidirectional = true, MergeMode = global::StaticRnn.MergeMode.{r.Merge}");
            if (r.ReturnSequences) options.Add("ReturnSequences = true");
            if (r.Cell == Cell.Rnn) options.Add($"Activation = global::StaticRnn.Activation.{r.Activation}");
            if (!r.ResetAfter) options.Add("ResetAfter = false");
            if (r.Peephole) options.Add("Peephole = true");
            if (r.Coupled) options.Add("CoupledInputForget = true");
            var attribute = r.Cell switch { Cell.Lstm => "Lstm", Cell.Gru => "Gru", _ => "SimpleRnn" };
            source.AppendLine($"[global::StaticRnn.{attribute}({r.Hidden}, {string.Join(", ", options)})]");
        }
        if (dense is not null)
        {
            Add("fc.weight", [dense.Units, width], 1 / Math.Sqrt(width));
            Add("fc.bias", [dense.Units], 1 / Math.Sqrt(width));
            source.AppendLine($"[global::StaticRnn.Dense({dense.Units}, Weights = \"fc\", Activation = global::StaticRnn.Activation.{dense.Activation})]");
        }
        source.AppendLine($"public static partial class {name} {{ }}");
        return new DrawnModel(name, a, weights, file.Build(), source.ToString());
    }
}
