using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML.OnnxRuntime;
using StaticRnn.Tests.Fixtures;
using Xunit;

namespace StaticRnn.Tests;

/// <summary>
/// Models compiled from .onnx files alone (<c>[RnnModel("x.onnx", SequenceLength = T)]</c>, no layer attributes):
/// tools/make_onnx_fixtures.py's torch.onnx.export graphs (opsets 9 to 17, constant folding on and off) and the ONNX
/// backend node tests for LSTM, GRU and RNN, against PyTorch's float64 outputs (the node tests' own outputs), and
/// ONNX Runtime run on the same files against those outputs too.
/// </summary>
public sealed class OnnxImportTests
{
    public static IEnumerable<object[]> Models => OnnxFixtureCatalog.All.Select(m => new object[] { m.Name });

    public static IEnumerable<object[]> SteppableModels =>
        OnnxFixtureCatalog.All.Where(m => m.StepRun is not null || m.StepRunTokens is not null).Select(m => new object[] { m.Name });

    public static IEnumerable<object[]> OnnxRuntimeModels =>
        OnnxFixtureCatalog.All.Where(m => Reference.LoadOnnx(m.Name).Onnx!.OnnxRuntimeCpu).Select(m => new object[] { m.Name });

    private static FixtureModel Model(string name) => OnnxFixtureCatalog.All.Single(m => m.Name == name);

    private static void AssertClose(double[] expected, float[] actual, string what) => FixtureTests.AssertClose(expected, actual, what);

    [Fact]
    public void Every_onnx_fixture_has_a_model()
    {
        var folder = Path.Combine(Reference.Directory, "Onnx");
        var files = Directory.GetFiles(folder, "*.json").Select(Path.GetFileNameWithoutExtension).Order().ToArray();
        Assert.Equal(files, OnnxFixtureCatalog.All.Select(m => m.Name).Order().ToArray());
        Assert.Equal(files, Directory.GetFiles(folder, "*.onnx").Select(Path.GetFileNameWithoutExtension).Order().ToArray());
        Assert.True(files.Length >= 30, $"expected at least 30 ONNX fixtures, found {files.Length}");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void The_graph_gives_the_sizes(string name)
    {
        var model = Model(name);
        var reference = Reference.LoadOnnx(name);
        Assert.Equal(reference.SequenceLength, model.SequenceLength);
        Assert.Equal(reference.InputSize, model.InputSize);
        Assert.Equal(reference.OutputSize, model.OutputSize);
        Assert.Equal(reference.StepOutputSize, model.StepOutputSize);
        Assert.Equal(reference.StepExpected is null, model.StepRun is null && model.StepRunTokens is null);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Predict_matches_PyTorch(string name) => FixtureTests.CheckPredict(Model(name), Reference.LoadOnnx(name));

    [Theory]
    [MemberData(nameof(Models))]
    public void PredictBatch_of_many_sequences_matches_PyTorch(string name) => FixtureTests.CheckPredictBatchOfMany(Model(name), Reference.LoadOnnx(name));

    [Theory]
    [MemberData(nameof(SteppableModels))]
    public void Step_matches_PyTorch_at_every_step(string name) => FixtureTests.CheckSteps(Model(name), Reference.LoadOnnx(name));

    /// <summary>ONNX Runtime runs the same file on the whole batch: it must agree with the reference, or the fixture (and
    /// so the test above) would be checking the importer against a wrong expectation.</summary>
    [Theory]
    [MemberData(nameof(OnnxRuntimeModels))]
    public void OnnxRuntime_agrees_with_the_reference(string name)
    {
        var reference = Reference.LoadOnnx(name);
        var layout = reference.Onnx!;
        var model = Model(name);
        var count = reference.Count;
        var steps = reference.SequenceLength;
        using var options = new SessionOptions { IntraOpNumThreads = 1, LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
        using var session = new InferenceSession(Path.Combine(Reference.Directory, "Onnx", name + ".onnx"), options);

        // The batch in the graph's input layout: "BTI", "TBI" (features) or "BT" (tokens).
        var dims = layout.InputShape.Select(axis => axis switch { 'B' => count, 'T' => steps, _ => model.InputSize }).Select(d => (long)d).ToArray();
        long Offset(int b, int t, int i) => layout.InputShape switch
        {
            "BTI" => ((long)b * steps + t) * model.InputSize + i,
            "TBI" => ((long)t * count + b) * model.InputSize + i,
            "BT" => (long)b * steps + t,
            _ => throw new InvalidDataException($"{name}: input layout {layout.InputShape}"),
        };
        using var input = model.TakesTokens ? TokenInput(reference, dims, Offset) : FeatureInput(reference, dims, model.InputSize, Offset);
        using var runOptions = new RunOptions();
        using var results = session.Run(runOptions, new Dictionary<string, OrtValue> { [layout.Input] = input }, [layout.Output]);
        var y = results[0].GetTensorDataAsSpan<float>().ToArray();
        var shape = results[0].GetTensorTypeAndShape().Shape;

        // Each sequence's values: the output's axes other than the batch, in order.
        var batchAxis = layout.OutputShape.IndexOf('B');
        Assert.Equal(count, shape[batchAxis]);
        var strides = new long[shape.Length];
        for (var k = shape.Length - 1; k >= 0; k--)
            strides[k] = k == shape.Length - 1 ? 1 : strides[k + 1] * shape[k + 1];
        var perSequence = y.Length / count;
        for (var b = 0; b < count; b++)
        {
            var values = new float[perSequence];
            for (var j = 0; j < perSequence; j++)
            {
                long rest = j, offset = b * strides[batchAxis];
                for (var k = shape.Length - 1; k >= 0; k--)
                {
                    if (k == batchAxis)
                        continue;
                    offset += rest % shape[k] * strides[k];
                    rest /= shape[k];
                }
                values[j] = y[offset];
            }
            AssertClose(reference.Expected[b], values, $"{name}, sequence {b}: ONNX Runtime vs the reference");
        }
    }

    private static OrtValue FeatureInput(Reference reference, long[] dims, int inputSize, Func<int, int, int, long> offset)
    {
        var x = new float[dims.Aggregate(1L, (a, d) => a * d)];
        for (var b = 0; b < reference.Count; b++)
            for (var t = 0; t < reference.SequenceLength; t++)
                for (var i = 0; i < inputSize; i++)
                    x[offset(b, t, i)] = reference.Inputs![b][t * inputSize + i];
        return OrtValue.CreateTensorValueFromMemory(x, dims);
    }

    private static OrtValue TokenInput(Reference reference, long[] dims, Func<int, int, int, long> offset)
    {
        var x = new long[dims.Aggregate(1L, (a, d) => a * d)];
        for (var b = 0; b < reference.Count; b++)
            for (var t = 0; t < reference.SequenceLength; t++)
                x[offset(b, t, 0)] = reference.Tokens![b][t];
        return OrtValue.CreateTensorValueFromMemory(x, dims);
    }
}
