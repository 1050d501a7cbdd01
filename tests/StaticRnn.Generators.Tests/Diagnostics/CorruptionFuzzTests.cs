using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;
using StaticRnn.Generators.Tests.Infrastructure;
using StaticRnn.Generators.Tests.Weights;
using Xunit;
using Xunit.Abstractions;

namespace StaticRnn.Generators.Tests.Diagnostics;

/// <summary>Whatever bytes the weight file holds, the generator reports SRNN diagnostics or generates code that
/// compiles without a warning; it never throws.</summary>
public class CorruptionFuzzTests(ITestOutputHelper output)
{
    private const int Corruptions = 1500;
    private const int Seed = 0x5eed_2024;

    // Two models over the same file: one names its tensor groups, the other lets the generator find them, so a
    // renamed group either fails the first or flows into the second's generated code.
    private const string Source = """
        using StaticRnn;
        namespace App;
        [RnnModel("models/m.safetensors", SequenceLength = 3, InputSize = 3)]
        [Lstm(4, Weights = "rnn")]
        [Dense(2, Weights = "fc")]
        public static partial class Named { }

        [RnnModel("models/m.safetensors", SequenceLength = 3, InputSize = 3)]
        [Lstm(4)]
        [Dense(2)]
        public static partial class Inferred { }
        """;

    private static byte[] BaseFile() => new SafeTensorsBuilder()
        .Metadata("format", "pt")
        .Lstm("rnn", 4, 3)
        .Linear("fc", 2, 4)
        .Build();

    [Fact]
    public void Generator_survives_random_corruption_of_the_weight_file()
    {
        var stopwatch = Stopwatch.StartNew();
        var baseFile = BaseFile();
        var random = new Random(Seed);
        var compilation = GeneratorHarness.CreateCompilation(Source);
        Assert.Empty(compilation.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning));
        var directory = GeneratorHarness.NewProjectDirectory();
        var path = Path.Combine(directory, "models", "m.safetensors");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);

        // The untouched file generates both models.
        var (baseSources, _) = RunOnce(compilation, directory, path, baseFile, "the base file");
        Assert.Equal(2 * DiagnosticAssert.SourcesPerModel, baseSources);

        var compiled = new HashSet<string>(StringComparer.Ordinal);
        int generated = 0, failed = 0, hostileGroupsGenerated = 0;
        var ids = new SortedDictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < Corruptions; i++)
        {
            var (what, bytes) = Corrupt(random, baseFile, i);
            var (sources, diagnostics) = RunOnce(compilation, directory, path, bytes, $"corruption {i} ({what})", compiled);
            if (sources > 0)
                generated++;
            if (sources == DiagnosticAssert.SourcesPerModel && what.Contains("rename group rnn", StringComparison.Ordinal))
                hostileGroupsGenerated++;
            if (diagnostics.Count > 0)
                failed++;
            foreach (var d in diagnostics)
                ids[d.Id] = ids.TryGetValue(d.Id, out var n) ? n + 1 : 1;
        }

        output.WriteLine($"{Corruptions} corruptions in {stopwatch.Elapsed.TotalSeconds:F1} s: {generated} generated code, {failed} reported diagnostics, {compiled.Count} distinct outputs compiled, {hostileGroupsGenerated} under a hostile prefix");
        output.WriteLine(string.Join(", ", ids.Select(p => $"{p.Key} x{p.Value}")));
        // The corruptions must exercise both outcomes and several kinds of report.
        Assert.True(generated > 20, $"only {generated} corruptions left a usable file");
        Assert.True(hostileGroupsGenerated > 5, $"only {hostileGroupsGenerated} hostile prefixes reached generated code");
        Assert.True(failed > 300, $"only {failed} corruptions were reported");
        Assert.True(ids.Keys.Count(k => k.StartsWith("SRNN", StringComparison.Ordinal)) >= 4, string.Join(", ", ids.Keys));
    }

    /// <summary>Runs the generator over one version of the file and checks the contract. Returns how many sources it
    /// generated and what it reported.</summary>
    /// <summary>Runs the generator on the file; returns how many network sources it generated, and its diagnostics.</summary>
    private static (int Sources, IReadOnlyList<Diagnostic> Diagnostics) RunOnce(
        Compilation compilation, string directory, string path, byte[] bytes, string what, HashSet<string>? compiled = null)
    {
        File.WriteAllBytes(path, bytes);
        // A fresh AdditionalText and driver each time, so nothing is served from the incremental cache.
        var driver = GeneratorHarness.CreateDriver([new GeneratorHarness.DiskAdditionalText(path)], directory)
            .RunGeneratorsAndUpdateCompilation(compilation, out var updated, out var diagnostics);
        var result = driver.GetRunResult().Results.Single();

        if (result.Exception is not null)
            Assert.Fail($"{what}: the generator threw {result.Exception}");
        foreach (var d in diagnostics)
        {
            Assert.False(d.Id is "CS8785" or "AD0001" or "SRNN9999", $"{what}: {d}");
            Assert.True(d.Id.StartsWith("SRNN", StringComparison.Ordinal), $"{what}: {d}");
            Assert.True(d.Location != Location.None && d.Location.GetLineSpan().Path == "Source0.cs", $"{what}: {d.Id} has no source location: {d}");
            Assert.False(string.IsNullOrWhiteSpace(d.GetMessage()), $"{what}: {d.Id} has no message");
        }

        var sources = result.GeneratedSources;
        if (sources.Length > 0)
        {
            var texts = sources.Select(s => new KeyValuePair<string, string>(s.HintName, s.SourceText.ToString())).ToList();
            HostileText.AssertContained(texts);
            // Weight values change the data only; compile each distinct output once.
            if (compiled is null || compiled.Add(string.Concat(texts.Select(t => t.Key + "\0" + t.Value))))
            {
                var problems = updated.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
                Assert.True(problems.Count == 0, $"{what}: the generated code does not compile cleanly:\n"
                    + string.Join("\n", problems.Take(10).Select(p => p.ToString())));
            }
        }
        // Networks only: a model with errors adds its placeholder surface, which computes nothing.
        return (sources.Count(s => !DiagnosticAssert.IsPlaceholder(s.SourceText.ToString())), diagnostics);
    }

    // ---- Corruptions ----

    private static (string What, byte[] Bytes) Corrupt(Random random, byte[] file, int i)
    {
        // The first rounds go through every kind in turn; later ones also stack several.
        var kind = i < 2 * KindCount ? i % KindCount : random.Next(KindCount + 1);
        if (kind == KindCount)
        {
            var steps = random.Next(2, 5);
            var bytes = file;
            var whats = new List<string>();
            for (var s = 0; s < steps; s++)
            {
                var (w, b) = CorruptOnce(random, bytes, random.Next(KindCount));
                whats.Add(w);
                bytes = b;
            }
            return (string.Join(" + ", whats), bytes);
        }
        return CorruptOnce(random, file, kind);
    }

    private const int KindCount = 13;

    private static (string What, byte[] Bytes) CorruptOnce(Random random, byte[] file, int kind)
    {
        var bytes = (byte[])file.Clone();
        var headerEnd = HeaderEnd(file);
        switch (kind)
        {
            case 0:
            {
                if (headerEnd <= 8)
                    goto case 2;
                var at = random.Next(8, headerEnd);
                var bit = random.Next(8);
                bytes[at] ^= (byte)(1 << bit);
                return ($"flip bit {bit} of header byte {at}", bytes);
            }
            case 1:
            {
                if (headerEnd >= bytes.Length)
                    goto case 2;
                var at = random.Next(headerEnd, bytes.Length);
                var value = (byte)random.Next(256);
                bytes[at] = value;
                return ($"set data byte {at} to {value}", bytes);
            }
            case 2:
            {
                var at = random.Next(bytes.Length + 1);
                var value = (byte)random.Next(256);
                if (bytes.Length > 0)
                    bytes[Math.Min(at, bytes.Length - 1)] = value;
                return ($"set byte {at} to {value}", bytes);
            }
            case 3:
            {
                var length = random.Next(0, 3) == 0 ? random.Next(0, 16) : random.Next(bytes.Length);
                return ($"truncate to {length} bytes", bytes[..Math.Min(length, bytes.Length)]);
            }
            case 4:
            {
                var at = random.Next(bytes.Length + 1);
                var extra = new byte[random.Next(1, 17)];
                random.NextBytes(extra);
                return ($"insert {extra.Length} random bytes at {at}", [.. bytes[..at], .. extra, .. bytes[at..]]);
            }
            case 5:
            {
                if (bytes.Length < 2)
                    goto case 4;
                var at = random.Next(bytes.Length - 1);
                var count = random.Next(1, Math.Min(32, bytes.Length - at) + 1);
                return ($"delete {count} bytes at {at}", [.. bytes[..at], .. bytes[(at + count)..]]);
            }
            case 6:
            {
                if (bytes.Length < 8)
                    goto case 4;
                var current = BitConverter.ToUInt64(bytes, 0);
                ulong[] choices =
                [
                    0, 1, 2, current - 1, current + 1, current + 8, current - 8, (ulong)bytes.Length, (ulong)bytes.Length - 8,
                    uint.MaxValue, ulong.MaxValue, 1UL << 63, (ulong)SafeTensorsReaderMax, (ulong)SafeTensorsReaderMax + 1,
                    (ulong)random.NextInt64(),
                ];
                var value = choices[random.Next(choices.Length)];
                BitConverter.TryWriteBytes(bytes.AsSpan(0, 8), value);
                return ($"header length := {value}", bytes);
            }
            case 7:
                return EditHeader(random, file, "replace a digit", header =>
                {
                    var digits = Indexes(header, char.IsAsciiDigit);
                    if (digits.Count == 0)
                        return header;
                    var at = digits[random.Next(digits.Count)];
                    var replacement = random.Next(4) switch
                    {
                        0 => "-" + header[at],
                        1 => "99999999999999999999",
                        2 => ".5",
                        _ => ((char)('0' + random.Next(10))).ToString(),
                    };
                    return header[..at] + replacement + header[(at + 1)..];
                });
            case 8:
                return EditHeader(random, file, "replace or drop a structural character", header =>
                {
                    const string structural = "\"{}[],:";
                    var places = Indexes(header, c => structural.Contains(c));
                    if (places.Count == 0)
                        return header;
                    var at = places[random.Next(places.Count)];
                    var replacement = random.Next(3) == 0 ? "" : structural[random.Next(structural.Length)].ToString();
                    return header[..at] + replacement + header[(at + 1)..];
                });
            case 9:
                return EditHeader(random, file, "insert text", header =>
                {
                    string[] insertions = ["\"", "{", "}", "[", "]", ",", ":", "null", "true", "\\", "\\u0000", "\\ud800", "\u2028", "\0", "1e999", " "];
                    var at = random.Next(header.Length + 1);
                    return header[..at] + insertions[random.Next(insertions.Length)] + header[at..];
                });
            case 10:
            {
                // Rename one tensor to a hostile name, properly escaped: the file stays valid JSON.
                var names = TensorNames(file);
                var victim = names[random.Next(names.Count)];
                var hostile = Hostile(random);
                return EditHeader(random, file, $"rename {victim} to a hostile name",
                    header => header.Replace(SafeTensorsBuilder.Json(victim), SafeTensorsBuilder.Json(hostile)));
            }
            case 11:
            {
                // Rename a whole group: "Named" loses it, "Inferred" may find it under the hostile prefix.
                var prefix = random.Next(2) == 0 ? "rnn" : "fc";
                var hostile = Hostile(random);
                var escaped = SafeTensorsBuilder.Json(hostile);
                return EditHeader(random, file, $"rename group {prefix} to a hostile prefix",
                    header => header.Replace("\"" + prefix + ".", escaped[..^1] + "."));
            }
            default:
            {
                // Splice a hostile name into the header verbatim, unescaped.
                var names = TensorNames(file);
                var victim = names[random.Next(names.Count)];
                var hostile = Hostile(random);
                return EditHeader(random, file, $"rename {victim} verbatim",
                    header => header.Replace("\"" + victim + "\"", "\"" + hostile + "\""));
            }
        }
    }

    private const int SafeTensorsReaderMax = 100_000_000;

    private static string Hostile(Random random)
    {
        var names = HostileText.Names;
        var name = names[random.Next(names.Length)];
        return random.Next(3) switch
        {
            0 => name,
            1 => name + ".weight",
            _ => "rnn." + name,
        };
    }

    /// <summary>Where the header ends (and the data starts), or the file's end when the prefix says nonsense.</summary>
    private static int HeaderEnd(byte[] file)
    {
        if (file.Length < 8)
            return file.Length;
        var declared = BitConverter.ToUInt64(file, 0);
        return declared > (ulong)(file.Length - 8) ? file.Length : 8 + (int)declared;
    }

    /// <summary>Edits the header as text and writes the file back, with a header length that matches the new text
    /// (most of the time) or the old one.</summary>
    private static (string What, byte[] Bytes) EditHeader(Random random, byte[] file, string what, Func<string, string> edit)
    {
        var headerEnd = HeaderEnd(file);
        if (headerEnd <= 8)
            return (what + " (no header)", (byte[])file.Clone());
        var header = Encoding.UTF8.GetString(file, 8, headerEnd - 8);
        var data = file[headerEnd..];
        var edited = edit(header);
        if (random.Next(5) == 0)
        {
            // Keep the old length prefix: the edit shifts everything after it.
            var body = Encoding.UTF8.GetBytes(edited);
            return (what + " (old length kept)", [.. file[..8], .. body, .. data]);
        }
        return (what, SafeTensorsBuilder.Raw(edited, data));
    }

    private static List<string> TensorNames(byte[] file)
    {
        var names = new List<string>();
        var header = Encoding.UTF8.GetString(file, 8, HeaderEnd(file) - 8);
        var index = 0;
        while ((index = header.IndexOf("\":{\"dtype\"", index, StringComparison.Ordinal)) >= 0)
        {
            var start = index == 0 ? -1 : header.LastIndexOf('"', index - 1);
            names.Add(header[(start + 1)..index]);
            index++;
        }
        return names.Count == 0 ? ["rnn.weight_ih_l0"] : names;
    }

    private static List<int> Indexes(string text, Func<char, bool> predicate)
    {
        var result = new List<int>();
        for (var i = 0; i < text.Length; i++)
        {
            if (predicate(text[i]))
                result.Add(i);
        }
        return result;
    }
}
