using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace StaticRnn.Generators.Weights;

/// <summary>What a .npy header says about its array, and where the array's bytes lie. Immutable.</summary>
internal sealed class NpyArray
{
    public NpyArray(string descr, TensorDType dtype, bool bigEndian, int[] shape, int elementCount, int dataOffset, int byteLength)
    {
        Descr = descr;
        DType = dtype;
        BigEndian = bigEndian;
        Shape = shape;
        ElementCount = elementCount;
        DataOffset = dataOffset;
        ByteLength = byteLength;
    }

    /// <summary>The header's descr, verbatim (e.g. <c>&lt;f4</c>).</summary>
    public string Descr { get; }

    public TensorDType DType { get; }

    /// <summary>The data is big-endian and must be byte-swapped to be read as <see cref="DType"/>.</summary>
    public bool BigEndian { get; }

    public int[] Shape { get; }

    public int ElementCount { get; }

    /// <summary>Absolute offset of the data in the buffer the header was parsed from.</summary>
    public int DataOffset { get; }

    public int ByteLength { get; }
}

/// <summary>
/// Reads a NumPy <c>.npy</c> file, format 1.0, 2.0 or 3.0: the magic <c>\x93NUMPY</c>, a major and minor version
/// byte, the header length (2 bytes little-endian in 1.0, 4 bytes in 2.0 and 3.0), the header, and the array's raw
/// bytes. The header is a Python dict literal such as
/// <c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (3, 4), }</c>, padded with spaces and ending in a line
/// break; it is Latin-1 in 1.0 and 2.0 and UTF-8 in 3.0.
/// </summary>
/// <remarks>
/// Only float32, float64 and float16 arrays in C (row-major) order are read, in either byte order; big-endian data
/// is byte-swapped into a new buffer. The bytes after the header must be exactly the array's. <see cref="Read"/>
/// never throws and allocates at most the file's size again (for byte-swapped data).
/// </remarks>
internal static class NpyReader
{
    /// <summary>Magic (6) + version (2) + the 1.0 header length (2).</summary>
    public const int MinimumLength = 10;

    private const string Accepted = "float32, float64 or float16 (descr '<f4', '<f8' or '<f2', or '>f4', '>f8', '>f2' big-endian)";
    private const string ExpectedKeys = "exactly the keys 'descr', 'fortran_order' and 'shape'";

    private static readonly byte[] Magic = { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y' };

    /// <summary>
    /// Parses a .npy file holding one tensor named <paramref name="tensorName"/> (the generator passes the file's
    /// name without its extension). Returns the file and a null <paramref name="error"/>, or null and the first
    /// problem found. Never throws.
    /// </summary>
    public static WeightFile? Read(byte[] bytes, string tensorName, out WeightFileError? error)
    {
        tensorName ??= "";
        if (bytes is null)
        {
            error = new WeightFileError(WeightFileErrorKind.Truncated, $"no bytes were given; expected a .npy file of at least {MinimumLength} bytes", tensorName);
            return null;
        }

        NpyArray? array = Parse(bytes, 0, bytes.Length, tensorName, "the file", out error);
        if (array is null)
        {
            return null;
        }

        if (!array.BigEndian)
        {
            var entry = new TensorEntry(tensorName, array.DType, array.Shape, array.ElementCount, array.DataOffset, array.ByteLength, fileOffset: array.DataOffset);
            return new WeightFile(bytes, new[] { entry });
        }

        var data = new byte[array.ByteLength];
        Buffer.BlockCopy(bytes, array.DataOffset, data, 0, array.ByteLength);
        SwapBytes(data, 0, array.ByteLength, FloatConversion.ElementSize(array.DType));
        var swapped = new TensorEntry(tensorName, array.DType, array.Shape, array.ElementCount, 0, array.ByteLength, fileOffset: null);
        return new WeightFile(data, new[] { swapped });
    }

    /// <summary>Whether the bytes at <paramref name="start"/> begin with the .npy magic.</summary>
    public static bool HasMagic(byte[] bytes, int start, int length)
    {
        if (length < Magic.Length)
        {
            return false;
        }

        for (int i = 0; i < Magic.Length; i++)
        {
            if (bytes[start + i] != Magic[i])
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Reverses the bytes of each <paramref name="elementSize"/>-byte element in place.</summary>
    public static void SwapBytes(byte[] buffer, int offset, int length, int elementSize)
    {
        for (int p = offset; p + elementSize <= offset + length; p += elementSize)
        {
            for (int i = 0, j = elementSize - 1; i < j; i++, j--)
            {
                (buffer[p + i], buffer[p + j]) = (buffer[p + j], buffer[p + i]);
            }
        }
    }

    /// <summary>
    /// Parses the .npy file occupying <paramref name="length"/> bytes of <paramref name="bytes"/> from
    /// <paramref name="start"/>. <paramref name="subject"/> names it in messages ("the file", "member 'a.npy'").
    /// Never throws.
    /// </summary>
    public static NpyArray? Parse(byte[] bytes, int start, int length, string tensorName, string subject, out WeightFileError? error)
    {
        error = null;
        int prefixLength = Math.Min(length, Magic.Length);
        for (int i = 0; i < prefixLength; i++)
        {
            if (bytes[start + i] != Magic[i])
            {
                error = Fail(WeightFileErrorKind.InvalidHeader,
                    $"{subject} starts with the bytes {Hex(bytes, start, prefixLength)}; expected the .npy magic 93 4E 55 4D 50 59 (\\x93NUMPY)", tensorName);
                return null;
            }
        }

        if (length < MinimumLength)
        {
            error = Fail(WeightFileErrorKind.Truncated,
                $"{subject} is {length} bytes long; expected at least {MinimumLength} bytes for the .npy magic, format version and header length", tensorName);
            return null;
        }

        int major = bytes[start + 6];
        int minor = bytes[start + 7];
        if ((major != 1 && major != 2 && major != 3) || minor != 0)
        {
            error = Fail(WeightFileErrorKind.InvalidHeader,
                $"{subject} has .npy format version {major}.{minor}; expected 1.0, 2.0 or 3.0", tensorName);
            return null;
        }

        int headerStart = major == 1 ? 10 : 12;
        if (length < headerStart)
        {
            error = Fail(WeightFileErrorKind.Truncated,
                $"{subject} is {length} bytes long; expected at least {headerStart} bytes for the .npy magic, format version and the 4-byte header length of format {major}.0", tensorName);
            return null;
        }

        long declared = major == 1
            ? bytes[start + 8] | (bytes[start + 9] << 8)
            : bytes[start + 8] | ((long)bytes[start + 9] << 8) | ((long)bytes[start + 10] << 16) | ((long)bytes[start + 11] << 24);
        long available = length - (long)headerStart;
        if (declared > SafeTensorsReader.MaxHeaderLength)
        {
            error = Fail(WeightFileErrorKind.HeaderLength,
                $"the .npy header length of {subject} says {declared} bytes; expected at most {SafeTensorsReader.MaxHeaderLength} bytes", tensorName);
            return null;
        }

        if (declared > available)
        {
            error = Fail(WeightFileErrorKind.HeaderLength,
                $"the .npy header length of {subject} says {declared} bytes but only {available} follow the {headerStart}-byte prefix", tensorName);
            return null;
        }

        int headerLength = (int)declared;
        string? header = DecodeHeader(bytes, start + headerStart, headerLength, major);
        if (header is null)
        {
            error = Fail(WeightFileErrorKind.InvalidHeader,
                $"the .npy header of {subject} is not valid UTF-8; expected UTF-8 text in format 3.0", tensorName);
            return null;
        }

        PyValue? dict = PythonLiteralParser.Parse(header, out string? parseError);
        if (dict is null)
        {
            error = Fail(WeightFileErrorKind.InvalidHeader,
                $"the .npy header of {subject} is not a Python literal (offsets count from the header's first character): {parseError}", tensorName);
            return null;
        }

        if (dict.Kind != PyKind.Dict)
        {
            error = Fail(WeightFileErrorKind.InvalidHeader,
                $"the .npy header of {subject} is {PythonLiteralParser.Repr(header, dict)}; expected a dict with {ExpectedKeys}", tensorName);
            return null;
        }

        PyValue? descrValue = null, fortranValue = null, shapeValue = null;
        foreach (KeyValuePair<string, PyValue> entry in dict.Entries!)
        {
            switch (entry.Key)
            {
                case "descr": descrValue = entry.Value; break;
                case "fortran_order": fortranValue = entry.Value; break;
                case "shape": shapeValue = entry.Value; break;
                default:
                    error = Fail(WeightFileErrorKind.InvalidHeader,
                        $"the .npy header of {subject} has the key {SafeTensorsReader.Quote(entry.Key)}; expected {ExpectedKeys}", tensorName);
                    return null;
            }
        }

        string? missing = descrValue is null ? "descr" : fortranValue is null ? "fortran_order" : shapeValue is null ? "shape" : null;
        if (missing is not null)
        {
            error = Fail(WeightFileErrorKind.InvalidHeader,
                $"the .npy header of {subject} has no '{missing}' key; expected {ExpectedKeys}", tensorName);
            return null;
        }

        // descr: the element type.
        if (descrValue!.Kind == PyKind.List)
        {
            error = Fail(WeightFileErrorKind.UnsupportedDType,
                $"{subject} has the structured dtype {PythonLiteralParser.Repr(header, descrValue)}; expected {Accepted}", tensorName);
            return null;
        }

        if (descrValue.Kind != PyKind.Str)
        {
            error = Fail(WeightFileErrorKind.InvalidHeader,
                $"the .npy header of {subject} has 'descr' {PythonLiteralParser.Repr(header, descrValue)}; expected a dtype string such as '<f4'", tensorName);
            return null;
        }

        string descr = descrValue.Str!;
        if (!TryMapDescr(descr, out TensorDType dtype, out bool bigEndian, out bool isObject, out string words))
        {
            error = isObject
                ? Fail(WeightFileErrorKind.ObjectArray,
                    $"{subject} has dtype {SafeTensorsReader.Quote(descr)} (Python objects, which NumPy stores as a pickle that only np.load(allow_pickle=True) reads); expected {Accepted}", tensorName)
                : Fail(WeightFileErrorKind.UnsupportedDType,
                    $"{subject} has dtype {SafeTensorsReader.Quote(descr)} ({words}); expected {Accepted}, e.g. by saving array.astype(np.float32)", tensorName);
            return null;
        }

        // shape: a tuple of non-negative integers.
        if (shapeValue!.Kind != PyKind.Tuple)
        {
            error = Fail(WeightFileErrorKind.InvalidHeader,
                $"the .npy header of {subject} has 'shape' {PythonLiteralParser.Repr(header, shapeValue)}; expected a tuple of non-negative integers such as (3, 4), (5,) or ()", tensorName);
            return null;
        }

        List<PyValue> items = shapeValue.Items!;
        if (items.Count > SafeTensorsReader.MaxRank)
        {
            error = Fail(WeightFileErrorKind.InvalidHeader,
                $"{subject} has a shape of {items.Count} dimensions; expected at most {SafeTensorsReader.MaxRank}", tensorName);
            return null;
        }

        var shape = new int[items.Count];
        for (int i = 0; i < items.Count; i++)
        {
            PyValue item = items[i];
            if (item.Kind != PyKind.Int || item.Int < 0)
            {
                error = Fail(WeightFileErrorKind.InvalidHeader,
                    $"the .npy header of {subject} has shape element {i} = {PythonLiteralParser.Repr(header, item)}; expected a non-negative integer", tensorName);
                return null;
            }

            if (item.Int > int.MaxValue)
            {
                error = Fail(WeightFileErrorKind.TooLarge,
                    $"{subject} has shape element {i} = {PythonLiteralParser.Repr(header, item)}; expected at most {int.MaxValue}", tensorName);
                return null;
            }

            shape[i] = (int)item.Int;
        }

        string shapeText = ShapeText(shape);

        // fortran_order: column-major data would be read transposed.
        if (fortranValue!.Kind != PyKind.Bool)
        {
            error = Fail(WeightFileErrorKind.InvalidHeader,
                $"the .npy header of {subject} has 'fortran_order' {PythonLiteralParser.Repr(header, fortranValue)}; expected True or False", tensorName);
            return null;
        }

        if (fortranValue.Bool && !OrdersCoincide(shape))
        {
            error = Fail(WeightFileErrorKind.FortranOrder,
                $"{subject} holds a Fortran-order (column-major) array of shape {shapeText}; expected C order: save np.ascontiguousarray(array) instead", tensorName);
            return null;
        }

        // Sizes: the same limits as safetensors.
        int elementSize = FloatConversion.ElementSize(dtype);
        long count = 1;
        foreach (int d in shape)
        {
            count *= d; // both factors <= int.MaxValue while count <= int.MaxValue, so no long overflow
            if (count > int.MaxValue)
            {
                error = Fail(WeightFileErrorKind.TooLarge,
                    $"{subject} has shape {shapeText}, more than {int.MaxValue} elements; expected an array that fits in the file", tensorName);
                return null;
            }
        }

        long byteLength = count * elementSize;
        string sizeText = $"{count} elements of {elementSize} bytes = {byteLength} bytes";
        if (byteLength > int.MaxValue)
        {
            error = Fail(WeightFileErrorKind.TooLarge,
                $"{subject} has shape {shapeText} of {SafeTensorsReader.Quote(descr)} ({sizeText}); expected at most {int.MaxValue} bytes", tensorName);
            return null;
        }

        int dataOffset = start + headerStart + headerLength;
        long dataLength = length - (long)(headerStart + headerLength);
        if (byteLength > dataLength)
        {
            error = Fail(WeightFileErrorKind.Truncated,
                $"{subject} has shape {shapeText} of {SafeTensorsReader.Quote(descr)} ({sizeText}) but only {dataLength} bytes follow the header", tensorName);
            return null;
        }

        if (byteLength < dataLength)
        {
            error = Fail(WeightFileErrorKind.ShapeMismatch,
                $"{subject} has shape {shapeText} of {SafeTensorsReader.Quote(descr)} ({sizeText}) but {dataLength} bytes follow the header; expected exactly the array's bytes", tensorName);
            return null;
        }

        return new NpyArray(descr, dtype, bigEndian, shape, (int)count, dataOffset, (int)byteLength);
    }

    /// <summary>A shape as Python writes a tuple: <c>()</c>, <c>(5,)</c>, <c>(2, 3)</c>.</summary>
    public static string ShapeText(int[] shape) =>
        shape.Length == 1 ? $"({shape[0]},)" : "(" + string.Join(", ", shape) + ")";

    /// <summary>
    /// C and Fortran order lay the elements out identically when at most one dimension exceeds 1 (and when there
    /// are no elements), so a Fortran-order header is harmless then.
    /// </summary>
    private static bool OrdersCoincide(int[] shape)
    {
        int longDims = 0;
        foreach (int d in shape)
        {
            if (d == 0)
            {
                return true;
            }

            if (d > 1)
            {
                longDims++;
            }
        }

        return longDims <= 1;
    }

    private static bool TryMapDescr(string descr, out TensorDType dtype, out bool bigEndian, out bool isObject, out string words)
    {
        dtype = TensorDType.F32;
        bigEndian = false;
        isObject = false;
        words = "";

        // '<' little-endian, '>' big-endian. '=' is the byte order of the machine that wrote the file and '|' means
        // "not applicable" (NumPy reads '|f4' as native); NumPy itself never writes either for floats. Every machine
        // NumPy and .NET run on in practice (x86, x64, ARM) is little-endian, so both are read as little-endian.
        string type = descr;
        if (descr.Length > 0 && (descr[0] == '<' || descr[0] == '>' || descr[0] == '=' || descr[0] == '|'))
        {
            bigEndian = descr[0] == '>';
            type = descr.Substring(1);
        }

        switch (type)
        {
            case "f4": dtype = TensorDType.F32; return true;
            case "f8": dtype = TensorDType.F64; return true;
            case "f2": dtype = TensorDType.F16; return true;
        }

        if (type == "O" || type == "O4" || type == "O8")
        {
            isObject = true;
            return false;
        }

        words = DescribeType(type);
        return false;
    }

    private static string DescribeType(string type)
    {
        if (type.Length == 0)
        {
            return "no type";
        }

        string sizeText = type.Substring(1);
        bool sized = int.TryParse(sizeText, NumberStyles.None, CultureInfo.InvariantCulture, out int size) && size > 0 && size <= 64;
        string bits = sized ? (size * 8).ToString(CultureInfo.InvariantCulture) + "-bit " : "";
        switch (type[0])
        {
            case 'b': return "booleans";
            case 'i': return bits + "signed integers";
            case 'u': return bits + "unsigned integers";
            case 'f': return bits + "floats";
            case 'c': return bits + "complex numbers";
            case 'U': return "Unicode strings";
            case 'S':
            case 'a': return "byte strings";
            case 'V': return "raw void records";
            case 'M': return "datetimes";
            case 'm': return "timedeltas";
            default: return "an unknown type";
        }
    }

    /// <summary>The header text: Latin-1 in formats 1.0 and 2.0, strict UTF-8 in 3.0 (null when invalid).</summary>
    private static string? DecodeHeader(byte[] bytes, int start, int length, int major)
    {
        if (major < 3)
        {
            var chars = new char[length];
            for (int i = 0; i < length; i++)
            {
                chars[i] = (char)bytes[start + i];
            }

            return new string(chars);
        }

        try
        {
            return new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(bytes, start, length);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    private static string Hex(byte[] bytes, int start, int count)
    {
        var sb = new StringBuilder(count * 3);
        for (int i = 0; i < count; i++)
        {
            if (i > 0)
            {
                sb.Append(' ');
            }

            sb.Append(bytes[start + i].ToString("X2", CultureInfo.InvariantCulture));
        }

        return sb.ToString();
    }

    private static WeightFileError Fail(WeightFileErrorKind kind, string message, string tensorName) =>
        new(kind, message, tensorName);
}
