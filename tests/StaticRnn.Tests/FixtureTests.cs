using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using StaticRnn.Tests.Fixtures;
using Xunit;

namespace StaticRnn.Tests;

/// <summary>Every fixture model, generated from the file PyTorch wrote, against PyTorch's float64 outputs.</summary>
public class FixtureTests
{
    /// <summary>Max absolute error allowed against the float64 reference.</summary>
    private const double Tolerance = 1e-5;

    public static IEnumerable<object[]> Models => FixtureCatalog.All.Select(m => new object[] { m.Name });

    public static IEnumerable<object[]> SteppableModels =>
        FixtureCatalog.All.Where(m => m.StepRun is not null || m.StepRunTokens is not null).Select(m => new object[] { m.Name });

    private static FixtureModel Model(string name) => FixtureCatalog.All.Single(m => m.Name == name);

    [Fact]
    public void Every_fixture_file_has_a_model_and_there_are_enough_of_them()
    {
        var files = Directory.GetFiles(Reference.Directory, "*.json").Select(Path.GetFileNameWithoutExtension).Order().ToArray();
        Assert.Equal(files, FixtureCatalog.All.Select(m => m.Name).Order().ToArray());
        Assert.True(files.Length >= 15, $"expected at least 15 fixtures, found {files.Length}");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Generated_constants_match_the_reference(string name)
    {
        var model = Model(name);
        var reference = Reference.Load(name);
        Assert.Equal(reference.SequenceLength, model.SequenceLength);
        Assert.Equal(reference.InputSize, model.InputSize);
        Assert.Equal(reference.OutputSize, model.OutputSize);
        Assert.Equal(reference.StepOutputSize, model.StepOutputSize);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Predict_matches_PyTorch(string name) => CheckPredict(Model(name), Reference.Load(name));

    [Theory]
    [MemberData(nameof(Models))]
    public void PredictBatch_matches_PyTorch(string name)
    {
        var model = Model(name);
        var reference = Reference.Load(name);
        var outputs = new float[reference.Count * model.OutputSize];
        if (model.TakesTokens)
            model.PredictBatchTokens!(reference.Tokens!.SelectMany(t => t).ToArray(), outputs);
        else
            model.PredictBatch!(reference.Inputs!.SelectMany(x => x).ToArray(), outputs);
        AssertClose(reference.Expected.SelectMany(e => e).ToArray(), outputs, $"{name}, batch of {reference.Count}");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void PredictBatch_of_many_sequences_matches_PyTorch(string name) => CheckPredictBatchOfMany(Model(name), Reference.Load(name));

    [Theory]
    [MemberData(nameof(SteppableModels))]
    public void Step_matches_PyTorch_at_every_step(string name) => CheckSteps(Model(name), Reference.Load(name));

    /// <summary>Predict on each of the reference's sequences.</summary>
    internal static void CheckPredict(FixtureModel model, Reference reference)
    {
        for (var s = 0; s < reference.Count; s++)
        {
            var output = new float[model.OutputSize];
            if (model.TakesTokens)
                model.PredictTokens!(reference.Tokens![s], output);
            else
                model.Predict!(reference.Inputs![s], output);
            AssertClose(reference.Expected[s], output, $"{model.Name}, sequence {s}");
        }
    }

    /// <summary>PredictBatch of 19 sequences: a group of 16 (four tiles of four sequences sharing each weight load) and 3 more.</summary>
    internal static void CheckPredictBatchOfMany(FixtureModel model, Reference reference)
    {
        const int Count = 19;
        var outputs = new float[Count * model.OutputSize];
        if (model.TakesTokens)
            model.PredictBatchTokens!(Enumerable.Range(0, Count).SelectMany(i => reference.Tokens![i % reference.Count]).ToArray(), outputs);
        else
            model.PredictBatch!(Enumerable.Range(0, Count).SelectMany(i => reference.Inputs![i % reference.Count]).ToArray(), outputs);
        AssertClose(Enumerable.Range(0, Count).SelectMany(i => reference.Expected[i % reference.Count]).ToArray(), outputs, $"{model.Name}, batch of {Count}");
    }

    /// <summary>Step through each sequence from a default State, against the reference's output at every step.</summary>
    internal static void CheckSteps(FixtureModel model, Reference reference)
    {
        Assert.NotNull(reference.StepExpected);
        for (var s = 0; s < reference.Count; s++)
        {
            var outputs = new float[model.SequenceLength * model.StepOutputSize];
            if (model.TakesTokens)
                model.StepRunTokens!(reference.Tokens![s], outputs);
            else
                model.StepRun!(reference.Inputs![s], outputs);
            AssertClose(reference.StepExpected![s], outputs, $"{model.Name}, sequence {s}, step by step");
        }
    }

    [Fact]
    public void Bidirectional_models_have_no_Step()
    {
        foreach (var model in FixtureCatalog.All)
        {
            var reference = Reference.Load(model.Name);
            Assert.Equal(reference.StepExpected is null, model.StepRun is null && model.StepRunTokens is null);
        }
    }

    internal static void AssertClose(double[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        var worst = 0.0;
        var worstIndex = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            var error = Math.Abs(expected[i] - actual[i]);
            if (double.IsNaN(error) || error > worst)
            {
                worst = double.IsNaN(error) ? double.PositiveInfinity : error;
                worstIndex = i;
            }
        }
        Assert.True(worst <= Tolerance,
            $"{what}: max |error| {worst:E3} at index {worstIndex} (expected {expected[worstIndex]:R}, got {actual[worstIndex]:R}); tolerance {Tolerance:E0}");
    }
}
