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

    public int Count => Expected.Length;

    public static string Directory => Path.Combine(AppContext.BaseDirectory, "Fixtures");

    public static Reference Load(string name)
    {
        var json = File.ReadAllText(Path.Combine(Directory, name + ".json"));
        return JsonSerializer.Deserialize<Reference>(json, new JsonSerializerOptions { PropertyNameCaseInsensitive = true })
            ?? throw new InvalidDataException($"Fixture {name} is empty.");
    }
}
