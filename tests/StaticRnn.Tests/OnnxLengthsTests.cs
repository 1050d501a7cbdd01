using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML.OnnxRuntime;
using StaticRnn.Tests.Fixtures;
using Xunit;

namespace StaticRnn.Tests;

/// <summary>An ONNX graph whose LSTM reads sequence_lens from a graph input (tools/make_onnx_lengths_fixture.py): the
/// compiled model takes those lengths through PredictBatch(inputs, lengths, outputs), against PyTorch's packed sequences
/// and against ONNX Runtime running the graph with the same lengths.</summary>
public class OnnxLengthsTests
{

    internal static (Reference Reference, int[] Lengths) Load()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "OnnxLengths", "lstm_bi_seqlens.json");
        var json = File.ReadAllText(path);
        var options = new System.Text.Json.JsonSerializerOptions { PropertyNameCaseInsensitive = true };
        var reference = System.Text.Json.JsonSerializer.Deserialize<Reference>(json, options)!;
        var lengths = System.Text.Json.JsonDocument.Parse(json).RootElement.GetProperty("lengths").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        return (reference, lengths);
    }

    [Fact]
    public void The_graph_s_lengths_input_is_PredictBatch_s_lengths()
    {
        var (reference, lengths) = Load();
        Assert.Equal(OnnxLstmBiSeqlens.SequenceLength, reference.SequenceLength);
        var outputs = new float[reference.Count * OnnxLstmBiSeqlens.OutputSize];
        OnnxLstmBiSeqlens.PredictBatch(reference.Inputs!.SelectMany(x => x).ToArray(), lengths, outputs);
        FixtureTests.AssertClose(reference.Expected.SelectMany(e => e).ToArray(), outputs, "lstm_bi_seqlens vs PyTorch's packed sequences");
    }

    [Fact]
    public void OnnxRuntime_with_the_same_lengths_agrees()
    {
        var (reference, lengths) = Load();
        int steps = reference.SequenceLength, size = reference.InputSize, count = reference.Count;
        var x = new float[steps * count * size];   // [T, batch, I]
        for (var b = 0; b < count; b++)
            for (var t = 0; t < steps; t++)
                for (var i = 0; i < size; i++)
                    x[(t * count + b) * size + i] = reference.Inputs![b][t * size + i];
        using var options = new SessionOptions { IntraOpNumThreads = 1, LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
        using var session = new InferenceSession(Path.Combine(AppContext.BaseDirectory, "Fixtures", "OnnxLengths", "lstm_bi_seqlens.onnx"), options);
        using var input = OrtValue.CreateTensorValueFromMemory(x, new long[] { steps, count, size });
        using var lengthsValue = OrtValue.CreateTensorValueFromMemory(lengths, new long[] { count });
        using var runOptions = new RunOptions();
        using var results = session.Run(runOptions, new Dictionary<string, OrtValue> { ["x"] = input, ["lengths"] = lengthsValue }, ["y"]);
        FixtureTests.AssertClose(reference.Expected.SelectMany(e => e).ToArray(), results[0].GetTensorDataAsSpan<float>().ToArray(), "lstm_bi_seqlens: ONNX Runtime vs PyTorch");
    }
}

/// <summary>Compiled from the graph alone: its time axis is fixed at 6 steps.</summary>
[RnnModel("Fixtures/OnnxLengths/lstm_bi_seqlens.onnx")]
public static partial class OnnxLstmBiSeqlens { }
