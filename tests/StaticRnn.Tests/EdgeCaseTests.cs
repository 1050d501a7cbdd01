using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Serialization;
using StaticRnn.Tests.Fixtures;
using Xunit;

namespace StaticRnn.Tests;

/// <summary>Extreme inputs (±1e30, ±3e38, ±∞, NaN, denormals, zeros) through reference models, against what
/// PyTorch computes for them (tools/make_edge_fixtures.py): saturated gates, NaN where PyTorch gives NaN and
/// nowhere else, no NaN from finite input.</summary>
/// <remarks>Finite outputs must be within 1e-5 of PyTorch's float64 result (relative above 1), or, where huge
/// inputs cancel (a relu network fed 1e30 answers 1e22), within 4 times the distance between PyTorch's own
/// float32 and float64 results: float32 arithmetic cannot do better there, whoever computes it.</remarks>
public class EdgeCaseTests
{
    /// <summary>Absolute below 1, relative above.</summary>
    private const double Tolerance = 1e-5;

    /// <summary>How many times PyTorch's own float32 error a result may be off where float32 is ill-conditioned.</summary>
    private const double Float32ErrorFactor = 4;

    private sealed class EdgeCase
    {
        public string Case { get; set; } = "";
        public double[] Input { get; set; } = [];
        public double[] Expected { get; set; } = [];
        public double[] Expected32 { get; set; } = [];
        public double[]? StepExpected { get; set; }
        public double[]? StepExpected32 { get; set; }
    }

    private sealed class EdgeFile
    {
        public string Name { get; set; } = "";
        public EdgeCase[] Cases { get; set; } = [];
    }

    private static readonly JsonSerializerOptions s_json = new()
    {
        PropertyNameCaseInsensitive = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private static string Folder => Path.Combine(Reference.Directory, "Edge");

    public static IEnumerable<object[]> Models =>
        Directory.GetFiles(Folder, "*.json").Select(Path.GetFileNameWithoutExtension).Order().Select(n => new object[] { n! });

    private static EdgeFile Load(string name) =>
        JsonSerializer.Deserialize<EdgeFile>(File.ReadAllText(Path.Combine(Folder, name + ".json")), s_json)
        ?? throw new InvalidDataException(name);

    private static FixtureModel Model(string name) => FixtureCatalog.All.Single(m => m.Name == name);

    [Fact]
    public void The_edge_cases_cover_every_cell_both_directions_and_per_step_output()
    {
        var names = Models.Select(m => (string)m[0]).ToList();
        Assert.True(names.Count >= 8, $"expected at least 8 models, found {names.Count}");
        foreach (var prefix in new[] { "rnn", "lstm", "gru" })
            Assert.Contains(names, n => n.StartsWith(prefix, StringComparison.Ordinal));
        Assert.Contains(names, n => Model(n).StepRun is null);          // bidirectional
        Assert.Contains(names, n => Model(n).OutputSize > Model(n).StepOutputSize && Model(n).StepRun is not null && n.EndsWith("_seq", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Predict_matches_PyTorch_on_extreme_inputs(string name)
    {
        var model = Model(name);
        foreach (var edge in Load(name).Cases)
        {
            var output = new float[model.OutputSize];
            model.Predict!(ToFloat(edge.Input), output);
            AssertSame(edge.Expected, edge.Expected32, output, $"{name}, {edge.Case}, Predict");
            if (edge.Input.All(double.IsFinite))
                Assert.True(output.All(float.IsFinite), $"{name}, {edge.Case}: finite input gave a non-finite output");
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void PredictBatch_of_all_edge_cases_at_once_matches_PyTorch(string name)
    {
        // One batch mixes NaN and infinite sequences with finite ones: nothing may leak between sequences.
        var model = Model(name);
        var cases = Load(name).Cases;
        var outputs = new float[cases.Length * model.OutputSize];
        model.PredictBatch!(cases.SelectMany(c => ToFloat(c.Input)).ToArray(), outputs);
        for (var i = 0; i < cases.Length; i++)
            AssertSame(cases[i].Expected, cases[i].Expected32, outputs.AsSpan(i * model.OutputSize, model.OutputSize).ToArray(), $"{name}, {cases[i].Case}, in a batch");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Step_matches_PyTorch_on_extreme_inputs(string name)
    {
        var model = Model(name);
        if (model.StepRun is null)
            return;   // bidirectional: no Step (Bidirectional_models_have_no_Step checks that)
        foreach (var edge in Load(name).Cases)
        {
            var outputs = new float[model.SequenceLength * model.StepOutputSize];
            model.StepRun(ToFloat(edge.Input), outputs);
            AssertSame(edge.StepExpected!, edge.StepExpected32!, outputs, $"{name}, {edge.Case}, Step");
        }
    }

    private static float[] ToFloat(double[] values) => Array.ConvertAll(values, v => (float)v);

    /// <summary>NaN exactly where PyTorch has NaN (in float64 and float32 alike), the same infinities, and finite
    /// values within the tolerance.</summary>
    private static void AssertSame(double[] expected, double[] expected32, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        Assert.Equal(expected.Length, expected32.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            double e = expected[i], e32 = expected32[i], a = actual[i];
            Assert.True(double.IsNaN(e) == double.IsNaN(e32), $"{what}: index {i}: PyTorch float64 {e:R} but float32 {e32:R}");
            var bound = Math.Max(Tolerance * Math.Max(1, Math.Abs(e)), Float32ErrorFactor * Math.Abs(e32 - e));
            var ok = double.IsNaN(e) ? double.IsNaN(a)
                : double.IsInfinity(e) ? e == a
                : Math.Abs(a - e) <= bound;
            Assert.True(ok, $"{what}: index {i}: PyTorch {e:R} (float32 {e32:R}), StaticRnn {a:R}");
        }
    }
}
