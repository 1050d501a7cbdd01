using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using Microsoft.CodeAnalysis;
using StaticRnn.Generators.Diagnostics;
using StaticRnn.Generators.Model;
using StaticRnn.Generators.Tests.Infrastructure;
using StaticRnn.Generators.Weights;
using Xunit;
using Xunit.Abstractions;

namespace StaticRnn.Generators.Tests.Weights;

/// <summary>Random corruption of exported ONNX graphs: the reader and the importer never throw, and every file they
/// do not take is reported (the reader's error, SRNN0003 in the generator; the importer's SRNN0040); the generator
/// on top of them never reaches SRNN9999. tools/fuzz.sh fuzzes the same path under AFL++ (format onnx).</summary>
public class OnnxFuzzTests(ITestOutputHelper output)
{
    private const int Mutations = 10000;
    private const int GeneratorMutations = 400;
    private const int Seed = 0x0_0440_2025;

    /// <summary>How the fixtures differ: LSTM with peepholes, sequence_lens and initial states; GRU many-to-many; an
    /// embedding; a bidirectional LSTM; two bidirectional GRU layers and Reshape; unfolded weight chains (Slice, Concat,
    /// Unsqueeze) at opset 9; two RNN layers with MatMul + Add.</summary>
    private static readonly string[] s_fixtures =
    [
        "node_test_lstm_with_peepholes", "gru_seq_nohead_op17_folded", "emb_lstm_op16_folded", "lstm_bi_softmax_op13_folded",
        "gru_bi_2l_seq_logsoftmax_op9_folded", "lstm_last_fc_op9", "rnn_relu_2l_seq_op12",
    ];

    private static string FixtureDirectory([CallerFilePath] string path = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, "..", "..", "StaticRnn.Tests", "Fixtures", "Onnx"));

    private static byte[] Fixture(string name) => File.ReadAllBytes(Path.Combine(FixtureDirectory(), name + ".onnx"));

    private static int SequenceLength(string name) =>
        System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(FixtureDirectory(), name + ".json"))).RootElement.GetProperty("sequenceLength").GetInt32();

    internal enum Outcome { Accepted, Damaged, Unsupported }

    /// <summary>Reads and imports <paramref name="bytes"/> as the generator does (OnnxFrontEnd) and checks the contract:
    /// no exception; a model or the reader's error; an import or exactly one SRNN0040 with a message; an import's
    /// tensors all convert. Returns the outcome and the message.</summary>
    internal static (Outcome Outcome, string Message) CheckContract(byte[] bytes, string what)
    {
        OnnxModel? model;
        WeightFileError? error;
        OnnxImporter.Import? import = null;
        var diagnostics = new List<DiagnosticInfo>();
        try
        {
            model = OnnxReader.Read(bytes, out error);
            if (model is not null)
                import = OnnxImporter.Read(model, "m.onnx", null, diagnostics, externalFiles: _ => bytes);   // the file stands for its external data
        }
        catch (Exception e)
        {
            throw new Xunit.Sdk.XunitException($"{what}: {e}");
        }

        Assert.True((model is null) != (error is null), $"{what}: a model or an error, exactly one");
        if (error is not null)
        {
            Assert.False(string.IsNullOrWhiteSpace(error.Message), what);
            Assert.DoesNotContain('\n', error.Message);
            return (Outcome.Damaged, error.Message);
        }
        if (import is null)
        {
            var diagnostic = Assert.Single(diagnostics);
            Assert.Equal(DiagnosticDescriptors.OnnxGraphUnsupported.Id, diagnostic.Id);
            var message = diagnostic.Arguments[1];
            Assert.False(string.IsNullOrWhiteSpace(message), what);
            return (Outcome.Unsupported, message);
        }

        Assert.Empty(diagnostics);
        Assert.NotEmpty(import.Layers);
        foreach (var tensor in import.Weights.Tensors)
        {
            Assert.Equal(tensor.Shape.Aggregate(1L, (a, d) => a * d), tensor.ElementCount);
            Assert.Equal(tensor.ElementCount, import.Weights.ReadFloat32(tensor).Length);
        }
        return (Outcome.Accepted, "");
    }

    [Fact]
    public void The_fixtures_import()
    {
        foreach (var name in s_fixtures)
            Assert.Equal(Outcome.Accepted, CheckContract(Fixture(name), name).Outcome);
    }

    [Fact]
    public void Random_corruption_is_read_or_reported()
    {
        var stopwatch = Stopwatch.StartNew();
        var random = new Random(Seed);
        var fixtures = s_fixtures.Select(Fixture).ToArray();
        var outcomes = new Dictionary<Outcome, int>();
        var messages = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < Mutations; i++)
        {
            var f = random.Next(fixtures.Length);
            var (what, bytes) = Mutate(random, fixtures, f);
            var (outcome, message) = CheckContract(bytes, $"mutation {i} of {s_fixtures[f]} ({what})");
            outcomes[outcome] = outcomes.TryGetValue(outcome, out var n) ? n + 1 : 1;
            messages.Add(outcome + ": " + message.Split('\'')[0]);
        }

        output.WriteLine($"{Mutations} mutations in {stopwatch.Elapsed.TotalSeconds:F1} s: {string.Join(", ", outcomes.Select(p => $"{p.Key} {p.Value}"))}, {messages.Count} kinds of message");
        // The mutations reach past the reader: graphs it reads that the importer takes, and ones it refuses.
        Assert.True(outcomes.GetValueOrDefault(Outcome.Accepted) > Mutations / 20, string.Join(", ", outcomes));
        Assert.True(outcomes.GetValueOrDefault(Outcome.Unsupported) > Mutations / 20, string.Join(", ", outcomes));
        Assert.True(outcomes.GetValueOrDefault(Outcome.Damaged) > Mutations / 10, string.Join(", ", outcomes));
        Assert.True(messages.Count > 40, $"only {messages.Count} kinds of message");
    }

    [Fact]
    public void Every_truncation_is_read_or_reported()
    {
        // A cut between two of ModelProto's fields may leave a graph the importer takes (the opsets cut off, say).
        var bytes = Fixture("gru_seq_nohead_op17_folded");
        var accepted = 0;
        for (var length = 0; length < bytes.Length; length++)
        {
            if (CheckContract(bytes[..length], $"truncated to {length}").Outcome == Outcome.Accepted)
                accepted++;
        }
        Assert.True(accepted < 10, $"{accepted} truncations accepted");
    }

    [Fact]
    public void Random_bytes_are_reported()
    {
        var random = new Random(Seed + 1);
        for (var i = 0; i < 1000; i++)
        {
            var bytes = new byte[random.Next(200)];
            random.NextBytes(bytes);
            CheckContract(bytes, $"random file {i}");
        }
    }

    /// <summary>The whole generator over corrupted graphs: SRNN diagnostics on the declaration, or a network that compiles.</summary>
    [Fact]
    public void Generator_reports_corrupted_graphs()
    {
        var stopwatch = Stopwatch.StartNew();
        var random = new Random(Seed + 2);
        var fixtures = s_fixtures.Select(Fixture).ToArray();
        var directory = GeneratorHarness.NewProjectDirectory();
        var path = Path.Combine(directory, "models", "m.onnx");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var compilations = s_fixtures.Select(name => GeneratorHarness.CreateCompilation(
            $"using StaticRnn;\nnamespace App;\n[RnnModel(\"models/m.onnx\", SequenceLength = {SequenceLength(name)})]\npublic static partial class Model {{ }}\n")).ToArray();

        var compiled = new HashSet<string>(StringComparer.Ordinal);
        var ids = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var generated = 0;
        for (var i = 0; i < GeneratorMutations; i++)
        {
            var f = random.Next(fixtures.Length);
            var (what, bytes) = i < fixtures.Length ? ("none", fixtures[i]) : Mutate(random, fixtures, f);
            if (i < fixtures.Length)
                f = i;
            what = $"mutation {i} of {s_fixtures[f]} ({what})";
            File.WriteAllBytes(path, bytes);
            // A fresh AdditionalText and driver each time, so that nothing comes from the incremental cache.
            var driver = GeneratorHarness.CreateDriver([new GeneratorHarness.DiskAdditionalText(path)], directory)
                .RunGeneratorsAndUpdateCompilation(compilations[f], out var updated, out var diagnostics);
            var result = driver.GetRunResult().Results.Single();

            Assert.True(result.Exception is null, $"{what}: the generator threw {result.Exception}");
            foreach (var d in diagnostics)
            {
                Assert.False(d.Id is "CS8785" or "AD0001" or "SRNN9999", $"{what}: {d}");
                Assert.True(d.Id.StartsWith("SRNN", StringComparison.Ordinal), $"{what}: {d}");
                Assert.True(d.Location != Location.None && d.Location.GetLineSpan().Path == "Source0.cs", $"{what}: {d.Id} has no source location: {d}");
                Assert.False(string.IsNullOrWhiteSpace(d.GetMessage()), $"{what}: {d.Id} has no message");
                ids[d.Id] = ids.TryGetValue(d.Id, out var n) ? n + 1 : 1;
            }
            var network = result.GeneratedSources.Any(s => s.SourceText.ToString().Contains("ForwardPass", StringComparison.Ordinal));
            Assert.True(network || diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error), $"{what}: no network and no error");
            if (i < fixtures.Length)
                Assert.True(network && diagnostics.IsEmpty, $"{what}: {string.Join("; ", diagnostics)}");
            if (!network)
                continue;
            generated++;
            // Weight values change the weights' source only; compile each distinct network once.
            var texts = string.Concat(result.GeneratedSources.Where(s => !s.HintName.Contains(".Weights.", StringComparison.Ordinal))
                .Select(s => s.HintName + "\0" + s.SourceText));
            if (compiled.Add(texts))
            {
                var problems = updated.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
                Assert.True(problems.Count == 0, $"{what}: the generated code does not compile cleanly:\n" + string.Join("\n", problems.Take(10)));
            }
        }

        output.WriteLine($"{GeneratorMutations} runs in {stopwatch.Elapsed.TotalSeconds:F1} s: {generated} networks ({compiled.Count} distinct compiled); "
            + string.Join(", ", ids.Select(p => $"{p.Key} x{p.Value}")));
        Assert.True(generated > fixtures.Length, $"only {generated} networks generated");
        Assert.Contains("SRNN0003", ids.Keys);
        Assert.Contains("SRNN0040", ids.Keys);
    }

    // ---- Mutations ----

    /// <summary>Values that matter to the reader and the importer, as little-endian int64 (raw shapes and indices) or int32.</summary>
    private static readonly long[] s_interesting =
    [
        0, 1, 2, -1, -2, 3, 7, 8, 255, 256, 1 << 20, (1 << 20) + 1, int.MaxValue, (long)int.MaxValue + 1, int.MinValue, 1L << 32,
        1L << 40, (1L << 62) + 1, long.MaxValue, long.MinValue, 268435455, 268435456,
    ];

    /// <summary>One to three edits of one fixture. Most keep its length, so that the protobuf's lengths still hold and
    /// the edit reaches the importer; some change the structure (truncate, insert, delete, duplicate, splice).</summary>
    private static (string What, byte[] Bytes) Mutate(Random random, byte[][] fixtures, int f)
    {
        var bytes = (byte[])fixtures[f].Clone();
        var whats = new List<string>();
        var steps = 1 + (random.Next(3) == 0 ? random.Next(1, 3) : 0);
        for (var s = 0; s < steps && bytes.Length > 0; s++)
        {
            var at = random.Next(bytes.Length);
            switch (random.Next(14))
            {
                case 0:
                case 1:
                {
                    var bit = random.Next(8);
                    bytes[at] ^= (byte)(1 << bit);
                    whats.Add($"flip bit {bit} of byte {at}");
                    break;
                }
                case 2:
                case 3:
                {
                    var value = (byte)random.Next(256);
                    bytes[at] = value;
                    whats.Add($"byte {at} = {value}");
                    break;
                }
                case 4:
                case 5:
                case 6:
                {
                    // A number where a raw int64 (or int32, or float) might lie: shapes, axes, indices, dims.
                    var value = s_interesting[random.Next(s_interesting.Length)];
                    var width = random.Next(2) == 0 ? 8 : 4;
                    for (var k = 0; k < width && at + k < bytes.Length; k++)
                        bytes[at + k] = (byte)(value >> (8 * k));
                    whats.Add($"{width} bytes at {at} = {value}");
                    break;
                }
                case 7:
                {
                    // A small varint value where a varint is: an attribute's int, an enum, a dim.
                    var value = (byte)random.Next(0, 0x80);
                    bytes[at] = value;
                    whats.Add($"varint byte {at} = {value}");
                    break;
                }
                case 12:
                case 13:
                {
                    // The next tag of fields 1 to 15 from here gets another field number of its wire type: the message
                    // keeps its lengths, a field changes meaning (a node's input becomes an output, a dim a data type).
                    var tag = Array.FindIndex(bytes, at, b => b >> 3 is >= 1 and <= 15 && (b & 7) is 0 or 2);
                    if (tag < 0)
                        break;
                    var retagged = (byte)((random.Next(1, 16) << 3) | (bytes[tag] & 7));
                    whats.Add($"tag at {tag} {bytes[tag]} -> {retagged}");
                    bytes[tag] = retagged;
                    break;
                }
                case 8:
                {
                    var length = random.Next(bytes.Length);
                    bytes = bytes[..length];
                    whats.Add($"truncate to {length}");
                    break;
                }
                case 9:
                {
                    var extra = new byte[random.Next(1, 9)];
                    random.NextBytes(extra);
                    bytes = [.. bytes[..at], .. extra, .. bytes[at..]];
                    whats.Add($"insert {extra.Length} bytes at {at}");
                    break;
                }
                case 10:
                {
                    var count = random.Next(1, Math.Min(32, bytes.Length - at) + 1);
                    var delete = random.Next(2) == 0;
                    bytes = delete ? [.. bytes[..at], .. bytes[(at + count)..]] : [.. bytes[..(at + count)], .. bytes[at..(at + count)], .. bytes[(at + count)..]];
                    whats.Add($"{(delete ? "delete" : "duplicate")} {count} bytes at {at}");
                    break;
                }
                default:
                {
                    // A piece of another fixture (a node, a tensor, a name) overwrites this one's bytes.
                    var other = fixtures[random.Next(fixtures.Length)];
                    var from = random.Next(other.Length);
                    var count = Math.Min(random.Next(1, 64), Math.Min(other.Length - from, bytes.Length - at));
                    Array.Copy(other, from, bytes, at, count);
                    whats.Add($"{count} bytes of another fixture at {at}");
                    break;
                }
            }
        }
        return (string.Join(" + ", whats), bytes);
    }
}
