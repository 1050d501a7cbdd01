using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML.OnnxRuntime;
using StaticRnn.Tests.Fixtures;
using Xunit;

namespace StaticRnn.Tests;

/// <summary>
/// The variants PyTorch lacks — <c>Gru(ResetAfter = false)</c>, <c>Lstm(Peephole = true)</c>,
/// <c>Lstm(CoupledInputForget = true)</c> and both LSTM variants together — against ONNX Runtime. For every fixture in
/// <see cref="FixtureCatalog.OnnxOracle"/>, tools/make_fixtures.py wrote the network twice from the same float32 weights:
/// as the weight file the generated model is compiled from (PyTorch or Keras convention) and as
/// <c>Fixtures/&lt;name&gt;.onnx</c> (ONNX GRU/LSTM nodes; input <c>x</c> [batch, steps, InputSize] with both axes
/// dynamic, output <c>y</c> [batch, OutputSize for that many steps]). ONNX Runtime is the oracle here; the json's
/// float64 NumPy reference (which <see cref="FixtureTests"/> also checks every model against) must agree with it too,
/// which catches a wrong graph or a wrong NumPy reference.
/// </summary>
public sealed class OnnxOracleTests : IClassFixture<OnnxOracleTests.Sessions>
{
    private readonly Sessions _sessions;

    public OnnxOracleTests(Sessions sessions) => _sessions = sessions;

    public static IEnumerable<object[]> Models => FixtureCatalog.OnnxOracle.Select(name => new object[] { name });

    public static IEnumerable<object[]> SteppableModels =>
        FixtureCatalog.OnnxOracle.Where(name => Model(name).StepRun is not null).Select(name => new object[] { name });

    private static FixtureModel Model(string name) => FixtureCatalog.All.Single(m => m.Name == name);

    [Fact]
    public void Every_onnx_file_belongs_to_a_float_model_in_the_catalog()
    {
        var files = Directory.GetFiles(Reference.Directory, "*.onnx").Select(Path.GetFileNameWithoutExtension).Order().ToArray();
        Assert.Equal(files, FixtureCatalog.OnnxOracle.Order().ToArray());
        foreach (var name in FixtureCatalog.OnnxOracle)
            Assert.False(Model(name).TakesTokens, $"{name}: the ONNX fixtures take float input");
        Assert.True(files.Length >= 20, $"expected at least 20 ONNX fixtures, found {files.Length}");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void OnnxRuntime_matches_the_float64_reference(string name)
    {
        var model = Model(name);
        var reference = Reference.Load(name);
        var ort = _sessions.Run(name, reference.Inputs!, model.SequenceLength, model.InputSize);
        Assert.Equal(reference.Count * model.OutputSize, ort.Length);
        AssertClose(reference.Expected.SelectMany(e => e).ToArray(), ort, $"{name}: ONNX Runtime vs the NumPy reference");
        if (reference.StepExpected is not null)
        {
            var steps = _sessions.RunPrefixes(name, reference.Inputs!, model.SequenceLength, model.InputSize, model.StepOutputSize);
            for (var s = 0; s < reference.Count; s++)
                AssertClose(reference.StepExpected[s], steps[s], $"{name}, sequence {s}: ONNX Runtime on each prefix vs the NumPy step reference");
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Predict_matches_OnnxRuntime(string name)
    {
        var model = Model(name);
        var reference = Reference.Load(name);
        for (var s = 0; s < reference.Count; s++)
        {
            var ort = _sessions.Run(name, [reference.Inputs![s]], model.SequenceLength, model.InputSize);
            var output = new float[model.OutputSize];
            model.Predict!(reference.Inputs[s], output);
            AssertClose(ToDouble(ort), output, $"{name}, sequence {s}: Predict vs ONNX Runtime");
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void PredictBatch_matches_OnnxRuntime(string name)
    {
        var model = Model(name);
        var reference = Reference.Load(name);
        var ort = _sessions.Run(name, reference.Inputs!, model.SequenceLength, model.InputSize);
        var outputs = new float[reference.Count * model.OutputSize];
        model.PredictBatch!(reference.Inputs!.SelectMany(x => x).ToArray(), outputs);
        AssertClose(ToDouble(ort), outputs, $"{name}: PredictBatch of {reference.Count} vs ONNX Runtime");
    }

    /// <summary>Step after t + 1 steps from a default State against ONNX Runtime run on the first t + 1 steps (the last
    /// step's output of a per-step model, the output of a many-to-one model).</summary>
    [Theory]
    [MemberData(nameof(SteppableModels))]
    public void Step_matches_OnnxRuntime_at_every_step(string name)
    {
        var model = Model(name);
        var reference = Reference.Load(name);
        var ort = _sessions.RunPrefixes(name, reference.Inputs!, model.SequenceLength, model.InputSize, model.StepOutputSize);
        for (var s = 0; s < reference.Count; s++)
        {
            var outputs = new float[model.SequenceLength * model.StepOutputSize];
            model.StepRun!(reference.Inputs![s], outputs);
            AssertClose(ToDouble(ort[s]), outputs, $"{name}, sequence {s}: Step vs ONNX Runtime on each prefix");
        }
    }

    private static double[] ToDouble(float[] values) => Array.ConvertAll(values, v => (double)v);

    /// <summary>The same 1e-5 max absolute error as FixtureTests, between any two of ONNX Runtime (float32), the
    /// generated model and the float64 reference.</summary>
    private static void AssertClose(double[] expected, float[] actual, string what) => FixtureTests.AssertClose(expected, actual, what);

    /// <summary>One ONNX Runtime session per fixture, shared by the tests of this class.</summary>
    public sealed class Sessions : IDisposable
    {
        private readonly SessionOptions _options = new()
        {
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };

        private readonly ConcurrentDictionary<string, Lazy<InferenceSession>> _sessions = new();

        private InferenceSession Session(string name) =>
            _sessions.GetOrAdd(name, n => new Lazy<InferenceSession>(
                () => new InferenceSession(Path.Combine(Reference.Directory, n + ".onnx"), _options))).Value;

        /// <summary>Runs the first <paramref name="steps"/> steps of every sequence (each <paramref name="sequenceLength"/>
        /// × <paramref name="inputSize"/> floats) as one batch; returns y, [batch, outputs] row-major.</summary>
        public float[] Run(string name, IReadOnlyList<float[]> sequences, int sequenceLength, int inputSize, int? steps = null)
        {
            var t = steps ?? sequenceLength;
            var x = new float[sequences.Count * t * inputSize];
            for (var s = 0; s < sequences.Count; s++)
            {
                Assert.Equal(sequenceLength * inputSize, sequences[s].Length);
                Array.Copy(sequences[s], 0, x, s * t * inputSize, t * inputSize);
            }
            using var input = OrtValue.CreateTensorValueFromMemory(x, new long[] { sequences.Count, t, inputSize });
            using var runOptions = new RunOptions();
            using var results = Session(name).Run(runOptions, new Dictionary<string, OrtValue> { ["x"] = input }, ["y"]);
            var y = results[0];
            var shape = y.GetTensorTypeAndShape().Shape;
            Assert.Equal(2, shape.Length);
            Assert.Equal(sequences.Count, shape[0]);
            return y.GetTensorDataAsSpan<float>().ToArray();
        }

        /// <summary>For every sequence, the last <paramref name="stepOutputSize"/> outputs of the model run on its first
        /// 1, 2, ..., sequenceLength steps, back to back: what Step yields at each step.</summary>
        public float[][] RunPrefixes(string name, IReadOnlyList<float[]> sequences, int sequenceLength, int inputSize, int stepOutputSize)
        {
            var result = sequences.Select(_ => new float[sequenceLength * stepOutputSize]).ToArray();
            for (var t = 1; t <= sequenceLength; t++)
            {
                var y = Run(name, sequences, sequenceLength, inputSize, t);
                var row = y.Length / sequences.Count;
                Assert.True(row >= stepOutputSize, $"{name}: {row} outputs after {t} steps, fewer than one step's {stepOutputSize}");
                for (var s = 0; s < sequences.Count; s++)
                    Array.Copy(y, (s + 1) * row - stepOutputSize, result[s], (t - 1) * stepOutputSize, stepOutputSize);
            }
            return result;
        }

        public void Dispose()
        {
            foreach (var session in _sessions.Values.Where(l => l.IsValueCreated))
                session.Value.Dispose();
            _options.Dispose();
        }
    }
}
