using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Text.Json;
using StaticRnn.Generators.Weights;
using Xunit;

namespace StaticRnn.Generators.Tests.Differential;

/// <summary>The differential tests' reference implementation, itself held to PyTorch's float64 outputs (and, for
/// the variants, the NumPy reference that ONNX Runtime agrees with) on a sample of the committed fixtures.</summary>
public class ReferenceNetworkTests
{
    public static IEnumerable<object[]> Fixtures =>
    [
        ["lstm_bi_2l", new Architecture(6, 3, 0, 0, [new(Cell.Lstm, 7, 2, true, "Concat", false)], new DenseSpec(4, "Relu"))],
        ["rnn_relu_bi_2l_seq", new Architecture(6, 2, 0, 0, [new(Cell.Rnn, 5, 2, true, "Concat", true, "Relu")], new DenseSpec(2, "Tanh"))],
        ["emb_gru_seq", new Architecture(9, 1, 11, 5, [new(Cell.Gru, 8, 1, false, "Concat", true)], new DenseSpec(11, "Softmax"))],
        ["gru_rb_bi_2l_seq", new Architecture(5, 3, 0, 0, [new(Cell.Gru, 4, 2, true, "Concat", true, ResetAfter: false)], new DenseSpec(2, "Tanh"))],
        ["lstm_peep_cifg_bi_2l_seq", new Architecture(5, 3, 0, 0, [new(Cell.Lstm, 4, 2, true, "Concat", true, Peephole: true, Coupled: true)], new DenseSpec(2, "None"))],
    ];

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void The_reference_implementation_matches_PyTorch(string name, Architecture architecture)
    {
        var directory = FixtureDirectory();
        var file = SafeTensorsReader.Read(File.ReadAllBytes(Path.Combine(directory, name + ".safetensors")), out var error)
            ?? throw new InvalidDataException(error!.Message);
        // The fixtures name their layers "emb", "rnn" and "fc"; the reference reads the first recurrent layer as "rec0".
        var weights = file.Tensors.ToDictionary(t => t.Name.StartsWith("rnn.", StringComparison.Ordinal) ? "rec0." + t.Name.Substring(4) : t.Name, file.ReadFloat32);

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, name + ".json")));
        var root = json.RootElement;
        var inputs = (root.TryGetProperty("tokens", out var tokens) ? tokens : root.GetProperty("inputs")).EnumerateArray()
            .Select(x => x.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();
        var expected = root.GetProperty("expected").EnumerateArray().Select(x => x.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();

        for (var s = 0; s < inputs.Length; s++)
        {
            var actual = ReferenceNetwork.Run(architecture, weights, inputs[s]);
            Assert.Equal(expected[s].Length, actual.Length);
            for (var i = 0; i < actual.Length; i++)
                Assert.True(Math.Abs(actual[i] - expected[s][i]) <= 1e-9, $"{name}, sequence {s}, index {i}: PyTorch {expected[s][i]:R}, reference {actual[i]:R}");
        }
    }

    private static string FixtureDirectory([CallerFilePath] string path = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, "..", "..", "StaticRnn.Tests", "Fixtures"));
}
