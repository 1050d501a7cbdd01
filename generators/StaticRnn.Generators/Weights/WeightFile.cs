using System;
using System.Collections.Generic;

namespace StaticRnn.Generators.Weights;

/// <summary>The element types a weight tensor may have; all are read as float32.</summary>
internal enum TensorDType
{
    F32,
    F64,
    F16,
    BF16,
}

internal enum WeightFileErrorKind
{
    /// <summary>The file is too short to hold the 8-byte header-length prefix.</summary>
    Truncated,

    /// <summary>The header length is zero, above the limit, or longer than the bytes that follow.</summary>
    HeaderLength,

    /// <summary>The header is not well-formed UTF-8 JSON, or its top level is not an object.</summary>
    InvalidJson,

    /// <summary>A tensor entry (or <c>__metadata__</c>) does not have the expected structure.</summary>
    InvalidEntry,

    /// <summary>A tensor's dtype is not one of F32, F64, F16, BF16.</summary>
    UnsupportedDType,

    /// <summary>A tensor's shape times its element size differs from the length of its data_offsets.</summary>
    ShapeMismatch,

    /// <summary>A tensor's data_offsets are reversed or reach past the end of the data section.</summary>
    OffsetsOutOfRange,

    /// <summary>Two tensors' byte ranges overlap.</summary>
    OffsetsOverlap,

    /// <summary>Two tensors share a name.</summary>
    DuplicateName,

    /// <summary>A tensor's shape is larger than the file (or than a 32-bit count/length) could hold.</summary>
    TooLarge,
}

/// <summary>Why a weight file could not be read. Immutable.</summary>
internal sealed class WeightFileError
{
    public WeightFileError(WeightFileErrorKind kind, string message, string? tensorName = null)
    {
        Kind = kind;
        Message = message;
        TensorName = tensorName;
    }

    public WeightFileErrorKind Kind { get; }

    /// <summary>One sentence saying what was expected and what was found.</summary>
    public string Message { get; }

    /// <summary>The tensor concerned (verbatim), when there is one.</summary>
    public string? TensorName { get; }

    public override string ToString() => Kind + ": " + Message;
}

/// <summary>One tensor of a weight file: its name, element type, shape and where its bytes lie. Immutable.</summary>
internal sealed class TensorEntry
{
    private readonly int[] _shape;

    internal TensorEntry(string name, TensorDType dtype, int[] shape, int elementCount, long dataOffset, int byteLength)
    {
        Name = name;
        DType = dtype;
        _shape = shape;
        Shape = Array.AsReadOnly(shape);
        ElementCount = elementCount;
        DataOffset = dataOffset;
        ByteLength = byteLength;
    }

    public string Name { get; }

    public TensorDType DType { get; }

    /// <summary>The dimensions, outermost first; rank 0 to 8. A scalar has an empty shape and one element.</summary>
    public IReadOnlyList<int> Shape { get; }

    public int ElementCount { get; }

    /// <summary>Absolute offset of the first byte of the tensor's data in the file.</summary>
    public long DataOffset { get; }

    public int ByteLength { get; }

    public override string ToString() => $"{Name}: {DType} [{string.Join(", ", _shape)}]";
}

/// <summary>A parsed weight file. It keeps the bytes it was read from; tensors are converted on demand.</summary>
internal sealed class WeightFile
{
    private readonly byte[] _bytes;
    private readonly Dictionary<string, TensorEntry> _byName;

    internal WeightFile(byte[] bytes, TensorEntry[] tensors)
    {
        _bytes = bytes;
        Tensors = Array.AsReadOnly(tensors);
        _byName = new Dictionary<string, TensorEntry>(tensors.Length, StringComparer.Ordinal);
        foreach (TensorEntry tensor in tensors)
        {
            _byName[tensor.Name] = tensor;
        }
    }

    /// <summary>The tensors in the order of the file's header.</summary>
    public IReadOnlyList<TensorEntry> Tensors { get; }

    /// <summary>The tensor with exactly this name (ordinal comparison), or null.</summary>
    public TensorEntry? Find(string name)
    {
        if (name is null)
        {
            return null;
        }

        return _byName.TryGetValue(name, out TensorEntry? tensor) ? tensor : null;
    }

    /// <summary>
    /// The tensor's elements as float32, row-major. F32 is copied, F16 and BF16 are widened
    /// exactly by bits, F64 is narrowed by a <c>(float)</c> cast. Data is little-endian whatever
    /// the host's byte order.
    /// </summary>
    /// <exception cref="ArgumentException">The tensor does not belong to this file.</exception>
    public float[] ReadFloat32(TensorEntry tensor)
    {
        if (tensor is null || !_byName.TryGetValue(tensor.Name, out TensorEntry? own) || !ReferenceEquals(own, tensor))
        {
            throw new ArgumentException("The tensor does not belong to this weight file.", nameof(tensor));
        }

        return FloatConversion.ToFloat32(_bytes, checked((int)tensor.DataOffset), tensor.ElementCount, tensor.DType);
    }
}
