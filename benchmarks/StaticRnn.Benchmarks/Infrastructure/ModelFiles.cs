using System;
using System.IO;
using System.Linq;
using System.Reflection;

namespace StaticRnn.Benchmarks;

/// <summary>Finds Models/&lt;name&gt;.onnx: next to the running assembly (the build copies it there), else in the
/// project's Models folder (its path is recorded in the assembly at build time). BenchmarkDotNet runs each
/// case from a project it generates under bin/, so both are tried.</summary>
public static class ModelFiles
{
    public static string Onnx(string name) => Find(name + ".onnx");

    /// <summary>Models/&lt;file&gt;, looked for as <see cref="Onnx"/> says.</summary>
    public static string Find(string file)
    {
        var candidates = new[]
        {
            Path.Combine(AppContext.BaseDirectory, "Models", file),
            Path.Combine(Path.GetDirectoryName(typeof(ModelFiles).Assembly.Location) ?? ".", "Models", file),
            Path.Combine(ProjectModelsDirectory ?? "", file),
        };
        return candidates.FirstOrDefault(File.Exists)
            ?? throw new FileNotFoundException(
                $"'{file}' not found (looked in: {string.Join(", ", candidates)}). Run /usr/bin/python3 tools/make_benchmark_models.py.");
    }

    private static string? ProjectModelsDirectory =>
        typeof(ModelFiles).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "StaticRnnBenchModels")?.Value;
}

/// <summary>Deterministic inputs (xorshift32), the same in every process and run.</summary>
public static class BenchInputs
{
    /// <summary>Uniform floats in [-1, 1).</summary>
    public static float[] Floats(int count, uint seed)
    {
        var values = new float[count];
        var s = seed | 1;
        for (var i = 0; i < count; i++)
            values[i] = (Next(ref s) >> 8) * (2f / (1 << 24)) - 1f;
        return values;
    }

    /// <summary>Uniform tokens in [0, vocabulary).</summary>
    public static int[] Tokens(int count, int vocabulary, uint seed)
    {
        var values = new int[count];
        var s = seed | 1;
        for (var i = 0; i < count; i++)
            values[i] = (int)(Next(ref s) % (uint)vocabulary);
        return values;
    }

    public static long[] ToInt64(int[] tokens) => Array.ConvertAll(tokens, t => (long)t);

    private static uint Next(ref uint s)
    {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        return s;
    }
}

/// <summary>The start-up cross-check: both engines on the same input must agree, or the benchmark does not run.</summary>
public static class Agreement
{
    public const float Tolerance = 1e-4f;

    /// <summary>Throws unless max |a - b| &lt;= <see cref="Tolerance"/>; returns the max difference.</summary>
    public static float Check(string what, ReadOnlySpan<float> staticRnn, ReadOnlySpan<float> ort)
    {
        if (staticRnn.Length != ort.Length)
            throw new InvalidOperationException($"{what}: StaticRnn gave {staticRnn.Length} values, ONNX Runtime {ort.Length}.");
        var max = 0f;
        var at = -1;
        for (var i = 0; i < staticRnn.Length; i++)
        {
            var d = MathF.Abs(staticRnn[i] - ort[i]);
            if (!(d <= max))
            {
                max = d;
                at = i;
            }
        }
        if (!(max <= Tolerance))
            throw new InvalidOperationException(
                $"{what}: StaticRnn and ONNX Runtime disagree: max |diff| = {max:G4} at output {at} " +
                $"(StaticRnn {staticRnn[at]:G9}, ONNX Runtime {ort[at]:G9}); tolerance {Tolerance:G2}.");
        return max;
    }
}
