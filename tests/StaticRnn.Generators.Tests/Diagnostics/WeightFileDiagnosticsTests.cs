using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using StaticRnn.Generators.Tests.Infrastructure;
using StaticRnn.Generators.Tests.Weights;
using Xunit;
using static StaticRnn.Generators.Tests.Diagnostics.DiagnosticAssert;

namespace StaticRnn.Generators.Tests.Diagnostics;

/// <summary>SRNN0001-SRNN0005: the weight file is absent, not an AdditionalFile, of another format, or damaged.</summary>
public class WeightFileDiagnosticsTests
{
    private static string SourceFor(string path) =>
        ModelSource($"RnnModel(\"{path}\", SequenceLength = 5, InputSize = 3)", "Lstm(4, Weights = \"rnn\")", "Dense(2, Weights = \"fc\")");

    [Fact]
    public void SRNN0001_when_no_file_exists()
    {
        var directory = GeneratorHarness.NewProjectDirectory();
        var run = GeneratorHarness.Run([SourceFor("models/missing.safetensors")], [], directory);

        var diagnostic = FailsWith(run, "SRNN0001");
        LocatedAt(run, diagnostic, "\"models/missing.safetensors\"");
        Says(diagnostic,
            "'models/missing.safetensors'",
            "AdditionalFiles",
            Path.GetFullPath(Path.Combine(directory, "models/missing.safetensors")),
            "no file exists there either");
    }

    [Fact]
    public void SRNN0001_with_a_hint_when_the_file_exists_but_is_not_an_AdditionalFile()
    {
        var run = GeneratorHarness.Run(LstmDenseSource(), new ProjectFile("models/m.safetensors", LstmDenseFile(), IsAdditionalFile: false));

        var diagnostic = FailsWith(run, "SRNN0001");
        LocatedAt(run, diagnostic, "\"models/m.safetensors\"");
        Says(diagnostic, "'models/m.safetensors'", "exists on disk", "<AdditionalFiles Include=\"models/m.safetensors\" />");
    }

    [Fact]
    public void SRNN0001_when_another_AdditionalFile_has_the_same_name_in_another_folder()
    {
        var run = GeneratorHarness.Run(SourceFor("models/m.safetensors"), new ProjectFile("other/m.safetensors", LstmDenseFile()));

        var diagnostic = FailsWith(run, "SRNN0001");
        LocatedAt(run, diagnostic, "\"models/m.safetensors\"");
        Says(diagnostic, "'models/m.safetensors'", "no file exists there either");
    }

    [Theory]
    [InlineData("models/model.pt", ".pt")]
    [InlineData("models/model.tflite", ".tflite")]
    [InlineData("models/model", "(none)")]
    public void SRNN0005_for_a_weight_file_of_another_format(string path, string extension)
    {
        var run = GeneratorHarness.Run(SourceFor(path), new ProjectFile(path, LstmDenseFile()));

        var diagnostic = FailsWith(run, "SRNN0005");
        LocatedAt(run, diagnostic, "\"" + path + "\"");
        Says(diagnostic, "'" + path + "'", "'" + extension + "'", ".safetensors");
    }

    // ---- Damaged files: SRNN0003, or SRNN0004 for an element type that cannot be read ----

    private static readonly string ValidHeaderTensor = "\"rnn.weight_ih_l0\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}";

    private static byte[] Header(string json, byte[]? data = null) => SafeTensorsBuilder.Raw(json, data);

    private static ulong DeclaredHeaderLength(byte[] file) => BitConverter.ToUInt64(file, 0);

    public static IEnumerable<object[]> DamagedFiles()
    {
        var valid = LstmDenseFile();
        var dataLength = valid.Length - 8 - (long)DeclaredHeaderLength(valid);
        var data16 = SafeTensorsBuilder.F32Bytes(1, 2, 3, 4);

        yield return ["empty file", Array.Empty<byte>(), "SRNN0003", new[] { "0 bytes long", "at least 8 bytes" }];
        yield return ["5 bytes", new byte[] { 1, 2, 3, 4, 5 }, "SRNN0003", new[] { "5 bytes long", "at least 8 bytes" }];
        yield return ["cut in the header", valid[..40], "SRNN0003", new[] { $"header length says {DeclaredHeaderLength(valid)} bytes", "only 32 follow" }];
        yield return ["cut mid-data", valid[..^10], "SRNN0003", new[] { "'fc.weight'", $"data section is only {dataLength - 10} bytes long" }];
        yield return ["header length past the end",
            SafeTensorsBuilder.RawBytes(Encoding.UTF8.GetBytes("{" + ValidHeaderTensor + "}"), data16, declaredLength: 1000),
            "SRNN0003", new[] { "header length says 1000 bytes", "follow the 8-byte prefix" }];
        yield return ["header length zero", SafeTensorsBuilder.RawBytes(Encoding.UTF8.GetBytes("{}"), data16, declaredLength: 0),
            "SRNN0003", new[] { "header length is 0 bytes" }];
        yield return ["header length huge", SafeTensorsBuilder.RawBytes(Encoding.UTF8.GetBytes("{}"), data16, declaredLength: ulong.MaxValue),
            "SRNN0003", new[] { ulong.MaxValue.ToString(), "at most" }];
        yield return ["invalid JSON", Header("{\"rnn.weight_ih_l0\":{\"dtype\":\"F32\",,}}", data16), "SRNN0003", new[] { "not valid JSON" }];
        yield return ["header is an array", Header("[1, 2, 3]", data16), "SRNN0003", new[] { "an array", "expected a JSON object" }];
        yield return ["entry without dtype", Header("{\"rnn.weight_ih_l0\":{\"shape\":[4],\"data_offsets\":[0,16]}}", data16),
            "SRNN0003", new[] { "'rnn.weight_ih_l0'", "no dtype" }];
        yield return ["offsets out of range", Header("{\"rnn.weight_ih_l0\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,400]}}", data16),
            "SRNN0003", new[] { "'rnn.weight_ih_l0'", "[0, 400]", "only 16 bytes long" }];
        yield return ["offsets reversed",
            Header("{\"rnn.weight_ih_l0\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[16,0]}}", data16),
            "SRNN0003", new[] { "'rnn.weight_ih_l0'", "[16, 0]", "begin <= end" }];
        yield return ["offsets overlap",
            Header("{\"a.weight\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                + "\"b.weight\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}", SafeTensorsBuilder.F32Bytes(1, 2, 3, 4, 5, 6)),
            "SRNN0003", new[] { "'a.weight'", "'b.weight'", "overlap" }];
        yield return ["duplicate tensor name",
            Header("{" + ValidHeaderTensor + "," + ValidHeaderTensor + "}", data16), "SRNN0003", new[] { "'rnn.weight_ih_l0'", "twice" }];
        yield return ["shape disagrees with the offsets",
            Header("{\"rnn.weight_ih_l0\":{\"dtype\":\"F32\",\"shape\":[5],\"data_offsets\":[0,16]}}", SafeTensorsBuilder.F32Bytes(1, 2, 3, 4, 5, 6, 7, 8)),
            "SRNN0003", new[] { "'rnn.weight_ih_l0'", "[5]", "20 bytes", "span 16 bytes" }];
        yield return ["absurd shape",
            Header("{\"rnn.weight_ih_l0\":{\"dtype\":\"F32\",\"shape\":[2147483647,2147483647],\"data_offsets\":[0,16]}}", data16),
            "SRNN0003", new[] { "'rnn.weight_ih_l0'", "[2147483647, 2147483647]", "more than 2147483647 elements" }];
        yield return ["shape element beyond int",
            Header("{\"rnn.weight_ih_l0\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,16]}}", data16),
            "SRNN0003", new[] { "'rnn.weight_ih_l0'", "99999999999999999999", "at most 2147483647" }];
        yield return ["negative shape",
            Header("{\"rnn.weight_ih_l0\":{\"dtype\":\"F32\",\"shape\":[-4],\"data_offsets\":[0,16]}}", data16),
            "SRNN0003", new[] { "'rnn.weight_ih_l0'", "-4", "non-negative integer" }];
        yield return ["unsupported dtype I64",
            Header("{\"rnn.weight_ih_l0\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]}}", data16),
            "SRNN0004", new[] { "'rnn.weight_ih_l0'", "'I64'", "F32, F64, F16, BF16" }];
        yield return ["unsupported dtype F8_E4M3",
            Header("{\"rnn.weight_ih_l0\":{\"dtype\":\"F8_E4M3\",\"shape\":[16],\"data_offsets\":[0,16]}}", data16),
            "SRNN0004", new[] { "'F8_E4M3'", "F32, F64, F16, BF16" }];
    }

    [Theory]
    [MemberData(nameof(DamagedFiles))]
    public void Damaged_weight_file_is_reported_on_the_path(string what, byte[] bytes, string id, string[] expected)
    {
        var run = GeneratorHarness.Run(LstmDenseSource(), At(bytes));

        var diagnostic = FailsWith(run, id);
        LocatedAt(run, diagnostic, "\"models/m.safetensors\"");
        Says(diagnostic, "'models/m.safetensors'");
        Assert.True(expected.Length > 0, what);
        Says(diagnostic, expected);
    }

    [Fact]
    public void SRNN0002_when_the_AdditionalFile_cannot_be_read()
    {
        // A directory where the file should be: listed as an AdditionalFile, but File.ReadAllBytes fails.
        var directory = GeneratorHarness.NewProjectDirectory();
        var path = Path.Combine(directory, "models", "m.safetensors");
        Directory.CreateDirectory(path);
        var compilation = GeneratorHarness.CreateCompilation(LstmDenseSource());
        var driver = GeneratorHarness.CreateDriver([new GeneratorHarness.DiskAdditionalText(path)], directory)
            .RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        var run = GeneratorHarness.Result(driver, compilation, output, generatorDiagnostics);

        var diagnostic = FailsWith(run, "SRNN0002");
        LocatedAt(run, diagnostic, "\"models/m.safetensors\"");
        Says(diagnostic, "'models/m.safetensors'", "could not be read");
    }
}
