using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using StaticRnn.Generators.Weights;
using Xunit;

namespace StaticRnn.Generators.Tests.Weights;

/// <summary>Every input the coverage-guided fuzzer kept (tests/StaticRnn.Fuzz/corpus) and every crash or hang it
/// found (regressions), through the readers on each test run: each must give a file or an error, never throw,
/// and a file's tensors must all convert. An .onnx file goes on through the importer, as in the generator
/// (<see cref="OnnxFuzzTests.CheckContract"/>). tools/fuzz.sh grows both folders.</summary>
public class FuzzCorpusTests
{
    public static IEnumerable<object[]> Formats => [["safetensors"], ["npy"], ["npz"], ["onnx"]];

    [Theory]
    [MemberData(nameof(Formats))]
    public void Every_corpus_and_regression_input_is_read_or_rejected(string format)
    {
        var files = new[] { "corpus", "regressions" }
            .Select(folder => Path.Combine(FuzzDirectory(), folder, format))
            .Where(Directory.Exists)
            .SelectMany(Directory.GetFiles)
            .Where(f => !Path.GetFileName(f).StartsWith('.'))
            .ToList();
        Assert.True(files.Count >= 3, $"expected the committed {format} corpus, found {files.Count} files");

        int accepted = 0, rejected = 0;
        foreach (var file in files)
        {
            var bytes = File.ReadAllBytes(file);
            if (format == "onnx")
            {
                if (OnnxFuzzTests.CheckContract(bytes, file).Outcome == OnnxFuzzTests.Outcome.Accepted)
                    accepted++;
                else
                    rejected++;
                continue;
            }
            WeightFile? weights;
            WeightFileError? error;
            try
            {
                weights = WeightFileReader.Read(bytes, "input." + format, out error);
                if (weights is not null)
                {
                    foreach (var tensor in weights.Tensors)
                        weights.ReadFloat32(tensor);
                }
            }
            catch (Exception e)
            {
                throw new Xunit.Sdk.XunitException($"{file}: {e}");
            }
            Assert.True((weights is null) != (error is null), $"{file}: a file or an error, exactly one");
            if (weights is null)
                rejected++;
            else
                accepted++;
        }
        // Both kinds must be there, or the corpus no longer exercises the reader's paths.
        Assert.True(accepted > 0 && rejected > 0, $"{format}: {accepted} accepted, {rejected} rejected");
    }

    private static string FuzzDirectory([CallerFilePath] string path = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, "..", "..", "StaticRnn.Fuzz"));
}
