using System;
using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.ComponentModel;
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
}
