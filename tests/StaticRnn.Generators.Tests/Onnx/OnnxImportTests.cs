using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using StaticRnn.Generators.Tests.Infrastructure;
using Xunit;
using static StaticRnn.Generators.Tests.Diagnostics.DiagnosticAssert;

namespace StaticRnn.Generators.Tests.Onnx;

/// <summary>.onnx files as the declaration: the graph's network compiles with no layer attributes.</summary>
public class OnnxImportTests
{
    private static string Repository([CallerFilePath] string path = "") => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, "..", "..", ".."));

    /// <summary>The ONNX Runtime oracle's graphs (tools/make_fixtures.py): LSTM and GRU nodes with peepholes, coupled
    /// gates and reset-before GRUs, input x [batch, steps, features] with both axes dynamic.</summary>
    public static IEnumerable<object[]> OracleGraphs() =>
        Directory.GetFiles(Path.Combine(Repository(), "tests", "StaticRnn.Tests", "Fixtures"), "*.onnx").Order().Select(f => new object[] { Path.GetFileName(f) });

    [Theory]
    [MemberData(nameof(OracleGraphs))]
    public void The_oracle_graphs_compile_without_layer_attributes(string file)
    {
        var bytes = File.ReadAllBytes(Path.Combine(Repository(), "tests", "StaticRnn.Tests", "Fixtures", file));
        var run = GeneratorHarness.Run(ModelSource("RnnModel(\"models/m.onnx\", SequenceLength = 6)"), new ProjectFile("models/m.onnx", bytes));

        Succeeds(run);
    }

    /// <summary>tools/make_onnx_fixtures.py's graphs: torch.onnx.export output at opsets 9 to 17, folded or not, and the
    /// ONNX backend node tests. (StaticRnn.Tests checks their outputs against PyTorch's.)</summary>
    public static IEnumerable<object[]> ExportedGraphs() =>
        Directory.GetFiles(Path.Combine(Repository(), "tests", "StaticRnn.Tests", "Fixtures", "Onnx"), "*.onnx").Order().Select(f => new object[] { Path.GetFileName(f) });

    [Theory]
    [MemberData(nameof(ExportedGraphs))]
    public void The_exported_graphs_compile_without_layer_attributes(string file)
    {
        var bytes = File.ReadAllBytes(Path.Combine(Repository(), "tests", "StaticRnn.Tests", "Fixtures", "Onnx", file));
        var json = File.ReadAllText(Path.ChangeExtension(Path.Combine(Repository(), "tests", "StaticRnn.Tests", "Fixtures", "Onnx", file), ".json"));
        var steps = System.Text.Json.JsonDocument.Parse(json).RootElement.GetProperty("sequenceLength").GetInt32();
        var run = GeneratorHarness.Run(ModelSource($"RnnModel(\"models/m.onnx\", SequenceLength = {steps})"), new ProjectFile("models/m.onnx", bytes));

        Succeeds(run);
    }
}
