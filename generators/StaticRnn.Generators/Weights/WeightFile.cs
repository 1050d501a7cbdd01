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
    /// <summary>The file (or an archive member) ends before its fixed-size prefix, or before the data its header promises.</summary>
    Truncated,

    /// <summary>The header length is zero, above the limit, or longer than the bytes that follow.</summary>
    HeaderLength,

    /// <summary>The safetensors header is not well-formed UTF-8 JSON, or its top level is not an object.</summary>
    InvalidJson,

    /// <summary>A tensor entry (or <c>__metadata__</c>) does not have the expected structure; or an archive member is not a <c>.npy</c> file.</summary>
    InvalidEntry,

    /// <summary>A tensor's dtype is not one of F32, F64, F16, BF16 (safetensors) or float32, float64, float16 (NumPy).</summary>
    UnsupportedDType,

    /// <summary>A tensor's shape times its element size differs from the length of its data (safetensors data_offsets; the bytes after a .npy header).</summary>
    ShapeMismatch,

    /// <summary>A tensor's data_offsets are reversed or reach past the end of the data section.</summary>
    OffsetsOutOfRange,

    /// <summary>Two tensors' byte ranges overlap (safetensors data_offsets; .npz members).</summary>
    OffsetsOverlap,

    /// <summary>Two tensors share a name.</summary>
    DuplicateName,

    /// <summary>A tensor's shape is larger than the file (or than a 32-bit count/length) could hold.</summary>
    TooLarge,

    /// <summary>A .npy file lacks the magic, has an unknown format version, or its header is not the Python dict literal
    /// <c>{'descr': .., 'fortran_order': .., 'shape': ..}</c>.</summary>
    InvalidHeader,

    /// <summary>A .npy array is stored in Fortran (column-major) order.</summary>
    FortranOrder,

    /// <summary>A .npy array holds Python objects (dtype <c>|O</c>), which NumPy stores as a pickle.</summary>
    ObjectArray,

    /// <summary>A .npz file is not a well-formed ZIP archive: end record, central directory, local headers, member sizes.</summary>
    InvalidArchive,

    /// <summary>A .npz member is encrypted or compressed by a method other than stored (0) or deflate (8).</summary>
    UnsupportedCompression,

    /// <summary>A .npz member's CRC-32 differs from the one its central directory entry records.</summary>
    ChecksumMismatch,

    /// <summary>The file's extension names no format the reader knows.</summary>
    UnsupportedFormat,
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

    internal TensorEntry(string name, TensorDType dtype, int[] shape, int elementCount, long dataOffset, int byteLength, long? fileOffset)
    {
        Name = name;
        DType = dtype;
        _shape = shape;
        Shape = Array.AsReadOnly(shape);
        ElementCount = elementCount;
        DataOffset = dataOffset;
        ByteLength = byteLength;
        FileOffset = fileOffset;
    }

    public string Name { get; }

    public TensorDType DType { get; }

    /// <summary>The dimensions, outermost first; rank 0 to 8. A scalar has an empty shape and one element.</summary>
    public IReadOnlyList<int> Shape { get; }

    public int ElementCount { get; }

    /// <summary>
    /// Offset of the first byte of the tensor's data in the <see cref="WeightFile"/>'s own buffer, which holds it as
    /// little-endian data of <see cref="DType"/>. For safetensors files, and for .npy/.npz files whose data lies
    /// verbatim in the file, the buffer is the file itself; otherwise (deflated members, big-endian data) it holds
    /// the decoded bytes, and this is not an offset into the file: see <see cref="FileOffset"/>.
    /// </summary>
    public long DataOffset { get; }

    public int ByteLength { get; }

    /// <summary>
    /// Absolute offset in the original file where the tensor's <see cref="ByteLength"/> bytes lie verbatim as
    /// little-endian data of <see cref="DType"/>, so that a copy of the file can be read at run time; null when
    /// they do not (a deflated .npz member, big-endian data byte-swapped on reading).
    /// </summary>
    public long? FileOffset { get; }

    public override string ToString() => $"{Name}: {DType} [{string.Join(", ", _shape)}]";
}

/// <summary>
/// A parsed weight file. It keeps a buffer holding every tensor's little-endian data (the file's own bytes when the
/// data lies there verbatim, else the decoded data); tensors are converted on demand.
/// </summary>
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
