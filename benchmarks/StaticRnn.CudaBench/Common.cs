using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Threading.Tasks;
using StaticRnn;

namespace StaticRnn.CudaBench;

/// <summary>A PyTorch reference: input sequences (float32) and PyTorch's float64 outputs for them.</summary>
public sealed class Reference
{
    public required int Sequences { get; init; }
    public required float[] Input { get; init; }
    public required double[] Expected { get; init; }

    /// <summary>Reads the embedded Models/&lt;name&gt;.reference.safetensors: <c>input</c> F32 [n, T, in], <c>expected</c> F64 [n, out].
    /// A token model's <c>input</c> holds the token ids as float values, [n, T, 1]; they are returned as the ints' bit patterns
    /// (see <see cref="BenchModel"/>).</summary>
    public static Reference Load(BenchModel model)
    {
        using var stream = typeof(Reference).Assembly.GetManifestResourceStream(model.ReferenceResource)
            ?? throw new InvalidOperationException($"resource {model.ReferenceResource} is not embedded (run tools/make_gpu_benchmark_models.py)");
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        var raw = memory.ToArray();
        var headerLength = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(raw));
        using var header = JsonDocument.Parse(raw.AsMemory(8, headerLength));
        var data = raw.AsSpan(8 + headerLength);

        (string dtype, int[] shape, int begin, int end) Tensor(string name)
        {
            var t = header.RootElement.GetProperty(name);
            var offsets = t.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            return (t.GetProperty("dtype").GetString()!, t.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray(),
                offsets[0], offsets[1]);
        }

        var (inType, inShape, inBegin, inEnd) = Tensor("input");
        var (exType, exShape, exBegin, exEnd) = Tensor("expected");
        if (inType != "F32" || exType != "F64")
            throw new InvalidDataException($"{model.ReferenceResource}: input {inType}, expected {exType}; want F32 and F64");
        if (inShape.Length != 3 || inShape[1] != model.SequenceLength || inShape[2] != model.InputSize)
            throw new InvalidDataException($"{model.ReferenceResource}: input shape [{string.Join(", ", inShape)}], want [n, {model.SequenceLength}, {model.InputSize}]");
        if (exShape.Length != 2 || exShape[0] != inShape[0] || exShape[1] != model.OutputSize)
            throw new InvalidDataException($"{model.ReferenceResource}: expected shape [{string.Join(", ", exShape)}], want [{inShape[0]}, {model.OutputSize}]");

        var input = new float[inShape[0] * inShape[1] * inShape[2]];
        var expected = new double[exShape[0] * exShape[1]];
        if (inEnd - inBegin != input.Length * 4 || exEnd - exBegin != expected.Length * 8)
            throw new InvalidDataException($"{model.ReferenceResource}: data sizes do not match the shapes");
        for (var i = 0; i < input.Length; i++)
            input[i] = BinaryPrimitives.ReadSingleLittleEndian(data.Slice(inBegin + 4 * i));
        if (model.TakesTokens)
        {
            for (var i = 0; i < input.Length; i++)
            {
                var id = input[i];
                if (!(id >= 0 && id < model.VocabularySize && id == MathF.Floor(id)))
                    throw new InvalidDataException($"{model.ReferenceResource}: input {i} is {id}, not a token id in 0 .. {model.VocabularySize - 1}");
                input[i] = BitConverter.Int32BitsToSingle((int)id);
            }
        }
        for (var i = 0; i < expected.Length; i++)
            expected[i] = BinaryPrimitives.ReadDoubleLittleEndian(data.Slice(exBegin + 8 * i));
        return new Reference { Sequences = inShape[0], Input = input, Expected = expected };
    }
}

/// <summary>The largest difference between two outputs, and how many elements are not finite (NaN: never written).</summary>
public readonly record struct Difference(double MaxAbs, long NonFinite, long Count, long WorstIndex)
{
    public bool Within(double tolerance) => NonFinite == 0 && MaxAbs <= tolerance;

    public bool Identical => NonFinite == 0 && MaxAbs == 0;

    public override string ToString() =>
        NonFinite == 0
            ? $"max |diff| {MaxAbs.ToString("0.00e+00", CultureInfo.InvariantCulture)} over {Count} outputs"
            : $"max |diff| {MaxAbs.ToString("0.00e+00", CultureInfo.InvariantCulture)}, {NonFinite} of {Count} outputs NaN/inf (first at {WorstIndex})";

    public static Difference Of(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        if (actual.Length != expected.Length)
            throw new ArgumentException($"lengths differ: {actual.Length} vs {expected.Length}");
        double max = 0;
        long nonFinite = 0, worst = -1;
        for (var i = 0; i < actual.Length; i++)
        {
            if (!float.IsFinite(actual[i]) || !float.IsFinite(expected[i]))
            {
                if (nonFinite++ == 0) worst = i;
                continue;
            }
            var d = Math.Abs((double)actual[i] - expected[i]);
            if (d > max && nonFinite == 0) { max = d; worst = i; }
            else if (d > max) max = d;
        }
        return new Difference(max, nonFinite, actual.Length, worst);
    }

    public static Difference Of(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected)
    {
        if (actual.Length != expected.Length)
            throw new ArgumentException($"lengths differ: {actual.Length} vs {expected.Length}");
        double max = 0;
        long nonFinite = 0, worst = -1;
        for (var i = 0; i < actual.Length; i++)
        {
            if (!float.IsFinite(actual[i]) || !double.IsFinite(expected[i]))
            {
                if (nonFinite++ == 0) worst = i;
                continue;
            }
            var d = Math.Abs(actual[i] - expected[i]);
            if (d > max && nonFinite == 0) { max = d; worst = i; }
            else if (d > max) max = d;
        }
        return new Difference(max, nonFinite, actual.Length, worst);
    }

    /// <summary>Elements that are not NaN: a guard region poisoned with NaN that must stay untouched.</summary>
    public static long CountWritten(ReadOnlySpan<float> guard)
    {
        long written = 0;
        foreach (var v in guard)
            if (!float.IsNaN(v)) written++;
        return written;
    }
}

public static class Data
{
    private const int SequencesPerFillBlock = 1024;

    /// <summary>Uniform in [-1, 1), like the PyTorch references, or with <paramref name="vocabulary"/> &gt; 0 token ids uniform in
    /// 0 .. vocabulary - 1 as the ints' bit patterns (see <see cref="BenchModel"/>); deterministic in <paramref name="seed"/> (one
    /// PCG32 stream per block of sequences, filled in parallel).</summary>
    public static float[] RandomInputs(int sequences, int inputsPerSequence, ulong seed, int vocabulary = 0)
    {
        var data = GC.AllocateUninitializedArray<float>(checked(sequences * inputsPerSequence));
        var blocks = (sequences + SequencesPerFillBlock - 1) / SequencesPerFillBlock;
        Parallel.For(0, blocks, b =>
        {
            var rng = new Pcg32(seed, (ulong)b);
            var begin = b * SequencesPerFillBlock * inputsPerSequence;
            var end = Math.Min(data.Length, begin + SequencesPerFillBlock * inputsPerSequence);
            if (vocabulary > 0)
            {
                for (var i = begin; i < end; i++)
                    data[i] = BitConverter.Int32BitsToSingle((int)(rng.NextUInt32() % (uint)vocabulary));
            }
            else
            {
                for (var i = begin; i < end; i++)
                    data[i] = rng.NextFloat() * 2f - 1f;
            }
        });
        return data;
    }

    /// <summary>The CPU path's outputs (<c>PredictBatch</c>), slices of sequences on all cores.</summary>
    public static float[] CpuOutputs(BenchModel model, float[] inputs, int sequences)
    {
        const int slice = 256;
        var outputs = Poisoned(sequences * model.OutputSize);
        var slices = (sequences + slice - 1) / slice;
        Parallel.For(0, slices, s =>
        {
            var first = s * slice;
            var n = Math.Min(slice, sequences - first);
            model.PredictBatch(inputs.AsSpan(first * model.InputsPerSequence, n * model.InputsPerSequence),
                outputs.AsSpan(first * model.OutputSize, n * model.OutputSize));
        });
        return outputs;
    }

    public static float[] Poisoned(int length)
    {
        var a = GC.AllocateUninitializedArray<float>(length);
        a.AsSpan().Fill(float.NaN);
        return a;
    }

    /// <summary>A seed that differs on every run (printed, and accepted back through --seed).</summary>
    public static ulong FreshSeed() =>
        (ulong)DateTime.UtcNow.Ticks * 0x9E3779B97F4A7C15UL ^ (ulong)Environment.ProcessId ^ (ulong)Random.Shared.NextInt64();
}

/// <summary>Median, minimum and maximum of repeated timings (milliseconds).</summary>
public sealed record Timing(double[] Samples)
{
    public double Median
    {
        get
        {
            var s = Samples.OrderBy(x => x).ToArray();
            return s.Length % 2 == 1 ? s[s.Length / 2] : 0.5 * (s[s.Length / 2 - 1] + s[s.Length / 2]);
        }
    }

    public double Min => Samples.Min();

    public double Max => Samples.Max();

    public void Write(Utf8JsonWriter json, string name)
    {
        json.WriteStartObject(name);
        json.WriteNumber("median", Median);
        json.WriteNumber("min", Min);
        json.WriteNumber("max", Max);
        json.WriteStartArray("samples");
        foreach (var s in Samples) json.WriteNumberValue(s);
        json.WriteEndArray();
        json.WriteEndObject();
    }
}

/// <summary>A command line this program does not understand.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>Command-line options: a mode, then <c>--name value</c> pairs.</summary>
public sealed class Options
{
    public string Mode { get; private init; } = "";
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    public static Options Parse(string[] args)
    {
        var o = new Options { Mode = args.Length > 0 ? args[0] : "" };
        for (var i = 1; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
                throw new UsageException($"expected --name value, got '{args[i]}'");
            o._values[args[i].Substring(2)] = args[++i];
        }
        return o;
    }

    public string? Get(string name) => _values.TryGetValue(name, out var v) ? v : null;

    public int GetInt(string name, int fallback)
    {
        if (Get(name) is not { } v) return fallback;
        return int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n : throw new UsageException($"--{name}: '{v}' is not a positive integer");
    }

    public ulong? GetSeed()
    {
        if (Get("seed") is not { } v) return null;
        return ulong.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n)
            ? n : throw new UsageException($"--seed: '{v}' is not an unsigned integer");
    }

    /// <summary>--model a,b: a subset of <paramref name="known"/> (the mode's models), by name; all of them without --model.</summary>
    public IReadOnlyList<BenchModel> Models(IReadOnlyList<BenchModel> known)
    {
        if (Get("model") is not { } list) return known;
        var names = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var unknown = names.Where(n => known.All(m => m.Name != n)).ToArray();
        if (unknown.Length > 0)
            throw new UsageException($"unknown model(s) {string.Join(", ", unknown)}; known: {string.Join(", ", known.Select(m => m.Name))}");
        return known.Where(m => names.Contains(m.Name)).ToArray();
    }
}

public static class Fmt
{
    public static string F(double v, string format = "0.000") => v.ToString(format, CultureInfo.InvariantCulture);

    public static string Rate(double perSecond) =>
        perSecond >= 1e6 ? F(perSecond / 1e6, "0.00") + " M" : perSecond >= 1e3 ? F(perSecond / 1e3, "0.0") + " k" : F(perSecond, "0");

    public static string Version =>
        typeof(Fmt).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "?";

    public static string Join(this IEnumerable<int> values) => string.Join(", ", values);

    public static void WriteJsonFile(string path, Action<Utf8JsonWriter> write)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        using var stream = File.Create(path);
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
            write(json);
        stream.Write(Encoding.UTF8.GetBytes("\n"));
    }
}
