using System;
using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.ComponentModel;
using System.IO;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace StaticRnn.Runtime;

/// <summary>Turns the weights the generator wrote into arrays, once, when a model's weights class is first used.</summary>
/// <remarks>Public only so generated code in user assemblies can call it; not a supported API.</remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class WeightData
{
    /// <summary>Decodes <paramref name="count"/> little-endian floats from base64 text. Large tensors are written
    /// this way: one string literal compiles in a fraction of the time of one literal per float.</summary>
    public static float[] FromBase64(ReadOnlySpan<byte> utf8Base64, int count)
    {
        var values = new float[count];
        var bytes = MemoryMarshal.AsBytes(values.AsSpan());
        var status = Base64.DecodeFromUtf8(utf8Base64, bytes, out _, out var written);
        if (status != OperationStatus.Done || written != bytes.Length)
            throw new InvalidOperationException($"Corrupt weight data: expected {bytes.Length} bytes, decoded {written} ({status}).");
        if (!BitConverter.IsLittleEndian)
        {
            var words = MemoryMarshal.Cast<float, int>(values.AsSpan());
            BinaryPrimitives.ReverseEndianness(words, words);
        }
        return values;
    }

    /// <summary>Reads one tensor of the weight file that the StaticRnn props embed in the assembly as a manifest
    /// resource (the generator checked the file at build time and wrote the tensor's offset and type).
    /// Large tensors are read this way because no C# literal of that size compiles in reasonable memory.</summary>
    /// <param name="assembly">The assembly of the model.</param>
    /// <param name="resourceName">The resource's logical name.</param>
    /// <param name="offset">Where the tensor's data starts in the file.</param>
    /// <param name="count">Its number of elements.</param>
    /// <param name="dtype">Its safetensors dtype: F32, F64, F16 or BF16.</param>
    public static float[] FromResource(Assembly assembly, string resourceName, long offset, int count, string dtype)
    {
        var values = new float[count];
        ReadResource(assembly, resourceName, offset, values, dtype);
        return values;
    }

    /// <summary><see cref="FromResource"/> straight into 64-byte-aligned storage (<see cref="Aligned"/>), for tensors used
    /// as the file holds them (embedding tables): one allocation and one copy of what may be tens of megabytes, where
    /// reading and then aligning made two of each (on the machine that measured it, each 10 MB allocation cost about
    /// 25 ms of a model's first call in page faults).</summary>
    public static ArraySegment<float> AlignedFromResource(Assembly assembly, string resourceName, long offset, int count, string dtype)
    {
        var storage = AlignedStorage(count);
        ReadResource(assembly, resourceName, offset, storage.AsSpan(), dtype);
        return storage;
    }

    private static void ReadResource(Assembly assembly, string resourceName, long offset, Span<float> values, string dtype)
    {
        using var stream = assembly.GetManifestResourceStream(resourceName)
            ?? throw new InvalidOperationException(
                $"The weight file '{resourceName}' is not embedded in {assembly.GetName().Name}; the StaticRnn props embed *.safetensors files unless StaticRnnEmbedWeights is false.");
        var size = dtype switch { "F64" => 8, "F16" or "BF16" => 2, _ => 4 };
        stream.Position = offset;
        // Little-endian float32, the usual case, is read straight into the array; other types are read whole and
        // converted.
        if (size == 4 && BitConverter.IsLittleEndian)
        {
            ReadExactly(stream, MemoryMarshal.AsBytes(values), resourceName, offset);
            return;
        }
        var bytes = new byte[(long)values.Length * size];
        ReadExactly(stream, bytes, resourceName, offset);
        Convert(bytes, values, dtype);
    }

    private static void ReadExactly(Stream stream, Span<byte> destination, string resourceName, long offset)
    {
        var read = 0;
        while (read < destination.Length)
        {
            var n = stream.Read(destination[read..]);
            if (n == 0)
                throw new InvalidOperationException($"The embedded weight file '{resourceName}' ends before its tensor at {offset} ({destination.Length} bytes).");
            read += n;
        }
    }

    /// <summary>Little-endian F64, F16, BF16 or F32 values to float32. Optimized at once: it runs once per tensor, over
    /// millions of values, where tier-0 code would take a large model's first call tens of milliseconds longer.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Convert(ReadOnlySpan<byte> bytes, Span<float> values, string dtype)
    {
        switch (dtype)
        {
            case "F64":
                for (var i = 0; i < values.Length; i++)
                    values[i] = (float)BitConverter.Int64BitsToDouble(BinaryPrimitives.ReadInt64LittleEndian(bytes[(8 * i)..]));
                break;
            case "F16":
                for (var i = 0; i < values.Length; i++)
                    values[i] = (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(bytes[(2 * i)..]));
                break;
            case "BF16":
                for (var i = 0; i < values.Length; i++)
                    values[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes[(2 * i)..]) << 16);
                break;
            default:
                for (var i = 0; i < values.Length; i++)
                    values[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadInt32LittleEndian(bytes[(4 * i)..]));
                break;
        }
    }

    /// <summary>Bytes of alignment for weight arrays: one cache line, one 512-bit vector.</summary>
    public const int Alignment = 64;

    /// <summary>A copy of <paramref name="values"/> that starts on a 64-byte boundary, so that no vector load of
    /// a packed block (16 floats) straddles two cache lines. The array lives on the pinned object heap, so the
    /// alignment holds for the life of the process.</summary>
    public static ArraySegment<float> Aligned(ReadOnlySpan<float> values)
    {
        var storage = AlignedStorage(values.Length);
        values.CopyTo(storage.AsSpan());
        return storage;
    }

    /// <summary><paramref name="count"/> uninitialized floats on a 64-byte boundary, on the pinned object heap.</summary>
    private static unsafe ArraySegment<float> AlignedStorage(int count)
    {
        const int Slack = Alignment / sizeof(float);
        var storage = GC.AllocateUninitializedArray<float>(count + Slack, pinned: true);
        var address = (nuint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(storage));
        var offset = (int)((Alignment - address % Alignment) % Alignment) / sizeof(float);
        return new ArraySegment<float>(storage, offset, count);
    }
}
