using System;
using System.IO;
using System.Text.Json;

namespace StaticRnn.Tests.Fixtures;

/// <summary>A fixture's inputs and PyTorch's float64 outputs, as tools/make_fixtures.py writes them.</summary>
public sealed class Reference
{
    public string Name { get; set; } = "";
    public int SequenceLength { get; set; }
    public int InputSize { get; set; }
    public int OutputSize { get; set; }
    public int StepOutputSize { get; set; }
    /// <summary>Per sequence: SequenceLength × InputSize floats (float models).</summary>
    public float[][]? Inputs { get; set; }
    /// <summary>Per sequence: SequenceLength tokens (embedding models).</summary>
    public int[][]? Tokens { get; set; }
    /// <summary>Per sequence: OutputSize values.</summary>
    public double[][] Expected { get; set; } = [];
    /// <summary>Per sequence: SequenceLength × StepOutputSize values, what Step yields at each step; null for bidirectional models.</summary>
    public double[][]? StepExpected { get; set; }

    /// <summary>ONNX fixtures: how to run the graph in ONNX Runtime on the whole batch and read its output back.</summary>
    public OnnxLayout? Onnx { get; set; }

    public int Count => Expected.Length;

    public static string Directory => Path.Combine(AppContext.BaseDirectory, "Fixtures");

    public static Reference Load(string name) => LoadFile(Path.Combine(Directory, name + ".json"));

    /// <summary>A fixture of the ONNX importer (tools/make_onnx_fixtures.py), in Fixtures/Onnx.</summary>
    public static Reference LoadOnnx(string name) => LoadFile(Path.Combine(Directory, "Onnx", name + ".json"));

    private static Reference LoadFile(string path)
    {
        var json = File.ReadAllText(path);
        return JsonSerializer.Deserialize<Reference>(json, new JsonSerializerOptions { PropertyNameCaseInsensitive = true })
            ?? throw new InvalidDataException($"Fixture {path} is empty.");
    }
}

/// <summary>The graph's input and output names, and their axes in letters (B batch, T steps, I features, D directions,
/// H or O units): "BTI" is batch-first, "TBI" sequence-first.</summary>
public sealed class OnnxLayout
{
    public string Input { get; set; } = "";
    public string InputShape { get; set; } = "";
    public string Output { get; set; } = "";
    public string OutputShape { get; set; } = "";
    /// <summary>False for graphs ONNX Runtime's CPU kernels refuse (LSTM layout = 1).</summary>
    public bool OnnxRuntimeCpu { get; set; } = true;
}
