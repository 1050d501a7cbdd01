using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace StaticRnn.Generators.Weights;

/// <summary>
/// Reads and validates a safetensors file: an 8-byte little-endian header length N, N bytes of
/// UTF-8 JSON <c>{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {..}}</c>,
/// then the raw little-endian tensor data (offsets relative to the end of the header).
/// </summary>
/// <remarks>
/// <see cref="Read"/> never throws and never allocates more than a small multiple of the input's
/// size: every number read from the file is checked against the file's length before anything
/// is sized by it, and tensor data is only converted on demand by <see cref="WeightFile.ReadFloat32"/>.
/// Unknown keys inside a tensor entry are ignored (as the reference implementation does); gaps
/// between tensors and trailing bytes after the last one are allowed.
/// </remarks>
internal static class SafeTensorsReader
{
    /// <summary>The largest header accepted, as in the reference implementation.</summary>
    public const int MaxHeaderLength = 100_000_000;

    public const int MaxRank = 8;

    private const string MetadataKey = "__metadata__";
    private const string SupportedDTypes = "F32, F64, F16, BF16";
    private const int MaxDisplayedChars = 120;

    /// <summary>
    /// Parses <paramref name="bytes"/>. Returns the file and a null <paramref name="error"/>, or null
    /// and the first problem found. Never throws.
    /// </summary>
    public static WeightFile? Read(byte[] bytes, out WeightFileError? error)
    {
        error = null;
        if (bytes is null)
        {
            error = new WeightFileError(WeightFileErrorKind.Truncated, "no bytes were given; expected a safetensors file of at least 8 bytes");
            return null;
        }

        if (bytes.Length < 8)
        {
            error = new WeightFileError(
                WeightFileErrorKind.Truncated,
                $"the file is {bytes.Length} bytes long; expected at least 8 bytes for the header-length prefix");
            return null;
        }

        ulong declared = 0;
        for (int i = 7; i >= 0; i--)
        {
            declared = (declared << 8) | bytes[i];
        }

        long available = bytes.Length - 8L;
        string declaredText = declared.ToString(CultureInfo.InvariantCulture);
        if (declared == 0)
        {
            error = new WeightFileError(
                WeightFileErrorKind.HeaderLength,
                "the header length is 0 bytes; expected a JSON object of at least 2 bytes after the 8-byte prefix");
            return null;
        }

        if (declared > MaxHeaderLength)
        {
            error = new WeightFileError(
                WeightFileErrorKind.HeaderLength,
                $"the header length says {declaredText} bytes; expected at most {MaxHeaderLength} bytes");
            return null;
        }

        if (declared > (ulong)available)
        {
            error = new WeightFileError(
                WeightFileErrorKind.HeaderLength,
                $"the header length says {declaredText} bytes but only {available} follow the 8-byte prefix");
            return null;
        }

        int headerLength = (int)declared;
        int dataStart = 8 + headerLength;
        long dataLength = bytes.Length - (long)dataStart;

        // Pass 1: the whole header must be well-formed JSON whose top level is an object.
        error = ValidateJson(bytes, headerLength);
        if (error is not null)
        {
            return null;
        }

        // Pass 2: interpret the entries.
        var reader = new JsonReader(bytes, 8, headerLength);
        reader.Read(); // StartObject, checked in pass 1
        var tensors = new List<TensorEntry>();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string name = reader.GetString();
            if (name == MetadataKey)
            {
                error = ReadMetadata(reader);
                if (error is not null)
                {
                    return null;
                }

                continue;
            }

            TensorEntry? entry = ReadEntry(reader, name, dataStart, dataLength, out error);
            if (entry is null)
            {
                error ??= MalformedJson(reader);
                return null;
            }

            tensors.Add(entry);
        }

        if (reader.Error is not null)
        {
            error = MalformedJson(reader);
            return null;
        }

        error = CheckNamesAndOverlaps(tensors, dataStart);
        if (error is not null)
        {
            return null;
        }

        return new WeightFile(bytes, tensors.ToArray());
    }

    private static WeightFileError? ValidateJson(byte[] bytes, int headerLength)
    {
        var reader = new JsonReader(bytes, 8, headerLength);
        if (!reader.Read())
        {
            return MalformedJson(reader);
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            return new WeightFileError(
                WeightFileErrorKind.InvalidJson,
                $"the header is {DescribeToken(reader)}; expected a JSON object mapping tensor names to entries");
        }

        while (reader.Read())
        {
        }

        if (reader.Error is null)
        {
            return null;
        }

        if (reader.DuplicateKey is { } key && reader.DuplicateKeyDepth == 1 && key != MetadataKey)
        {
            return new WeightFileError(
                WeightFileErrorKind.DuplicateName,
                $"the header names tensor {Quote(key)} twice; expected each tensor name once",
                key);
        }

        return MalformedJson(reader);
    }

    private static WeightFileError MalformedJson(JsonReader reader) => new(
        WeightFileErrorKind.InvalidJson,
        "the header is not valid JSON (offsets count from byte 8 of the file): " + (reader.Error ?? "the reader stopped early"));

    private static WeightFileError? ReadMetadata(JsonReader reader)
    {
        if (!reader.Read())
        {
            return MalformedJson(reader);
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            return new WeightFileError(
                WeightFileErrorKind.InvalidEntry,
                $"__metadata__ is {DescribeToken(reader)}; expected an object whose values are strings");
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string key = reader.GetString();
            if (!reader.Read())
            {
                return MalformedJson(reader);
            }

            if (reader.TokenType != JsonTokenType.String)
            {
                return new WeightFileError(
                    WeightFileErrorKind.InvalidEntry,
                    $"__metadata__ key {Quote(key)} has {DescribeToken(reader)}; expected a string value");
            }
        }

        return reader.Error is null ? null : MalformedJson(reader);
    }

    private static TensorEntry? ReadEntry(JsonReader reader, string name, int dataStart, long dataLength, out WeightFileError? error)
    {
        error = null;
        string shown = Quote(name);
        if (!reader.Read())
        {
            return null;
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            error = Entry(name, $"tensor {shown} is {DescribeToken(reader)}; expected an object with dtype, shape and data_offsets");
            return null;
        }

        string? dtypeText = null;
        int[]? shape = null;
        long begin = 0, end = 0;
        string? beginText = null, endText = null;
        bool haveOffsets = false;

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string key = reader.GetString();
            switch (key)
            {
                case "dtype":
                    if (!reader.Read())
                    {
                        return null;
                    }

                    if (reader.TokenType != JsonTokenType.String)
                    {
                        error = Entry(name, $"tensor {shown} has a dtype that is {DescribeToken(reader)}; expected a string, one of {SupportedDTypes}");
                        return null;
                    }

                    dtypeText = reader.GetString();
                    break;

                case "shape":
                    shape = ReadShape(reader, name, out error);
                    if (shape is null)
                    {
                        return null;
                    }

                    break;

                case "data_offsets":
                    if (!ReadOffsets(reader, name, out begin, out beginText, out end, out endText, out error))
                    {
                        return null;
                    }

                    haveOffsets = true;
                    break;

                default:
                    if (!reader.Skip())
                    {
                        return null;
                    }

                    break;
            }
        }

        if (reader.Error is not null)
        {
            return null;
        }

        string? missing = dtypeText is null ? "dtype" : shape is null ? "shape" : !haveOffsets ? "data_offsets" : null;
        if (missing is not null)
        {
            error = Entry(name, $"tensor {shown} has no {missing}; expected an object with dtype, shape and data_offsets");
            return null;
        }

        TensorDType dtype;
        switch (dtypeText)
        {
            case "F32": dtype = TensorDType.F32; break;
            case "F64": dtype = TensorDType.F64; break;
            case "F16": dtype = TensorDType.F16; break;
            case "BF16": dtype = TensorDType.BF16; break;
            default:
                error = new WeightFileError(
                    WeightFileErrorKind.UnsupportedDType,
                    $"tensor {shown} has dtype {Quote(dtypeText!)}; expected one of {SupportedDTypes}",
                    name);
                return null;
        }

        int[] dims = shape!;
        string shapeText = "[" + string.Join(", ", dims) + "]";
        int elementSize = FloatConversion.ElementSize(dtype);

        long count = 1;
        foreach (int d in dims)
        {
            if (d == 0)
            {
                count = 0;
                break;
            }
        }

        if (count != 0)
        {
            foreach (int d in dims)
            {
                count *= d; // both factors <= int.MaxValue, so no long overflow
                if (count > int.MaxValue)
                {
                    error = new WeightFileError(
                        WeightFileErrorKind.TooLarge,
                        $"tensor {shown} has shape {shapeText}, more than {int.MaxValue} elements; expected a tensor that fits in the file",
                        name);
                    return null;
                }
            }
        }

        long byteLength = count * elementSize;
        string sizeText = $"{count} elements of {elementSize} bytes = {byteLength} bytes";
        if (byteLength > int.MaxValue)
        {
            error = new WeightFileError(
                WeightFileErrorKind.TooLarge,
                $"tensor {shown} has shape {shapeText} ({sizeText}); expected at most {int.MaxValue} bytes",
                name);
            return null;
        }

        if (byteLength > dataLength)
        {
            error = new WeightFileError(
                WeightFileErrorKind.TooLarge,
                $"tensor {shown} has shape {shapeText} ({sizeText}) but the data section holds only {dataLength} bytes",
                name);
            return null;
        }

        string offsetsText = $"[{beginText}, {endText}]";
        if (begin > end)
        {
            error = new WeightFileError(
                WeightFileErrorKind.OffsetsOutOfRange,
                $"tensor {shown} has data_offsets {offsetsText}; expected begin <= end",
                name);
            return null;
        }

        if (end > dataLength)
        {
            error = new WeightFileError(
                WeightFileErrorKind.OffsetsOutOfRange,
                $"tensor {shown} has data_offsets {offsetsText} but the data section is only {dataLength} bytes long",
                name);
            return null;
        }

        if (end - begin != byteLength)
        {
            error = new WeightFileError(
                WeightFileErrorKind.ShapeMismatch,
                $"tensor {shown} has shape {shapeText} ({sizeText}) but its data_offsets span {end - begin} bytes",
                name);
            return null;
        }

        return new TensorEntry(name, dtype, dims, (int)count, dataStart + begin, (int)byteLength, fileOffset: dataStart + begin);
    }

    private static int[]? ReadShape(JsonReader reader, string name, out WeightFileError? error)
    {
        error = null;
        string shown = Quote(name);
        if (!reader.Read())
        {
            return null;
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            error = Entry(name, $"tensor {shown} has a shape that is {DescribeToken(reader)}; expected an array of non-negative integers");
            return null;
        }

        var dims = new List<int>(MaxRank);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (dims.Count == MaxRank)
            {
                error = Entry(name, $"tensor {shown} has a shape of rank more than {MaxRank}; expected at most {MaxRank} dimensions");
                return null;
            }

            if (!reader.TryGetNonNegativeInteger(out long value, out bool overflow))
            {
                error = Entry(name, $"tensor {shown} has shape element {dims.Count} that is {DescribeToken(reader)}; expected a non-negative integer");
                return null;
            }

            if (overflow || value > int.MaxValue)
            {
                error = new WeightFileError(
                    WeightFileErrorKind.TooLarge,
                    $"tensor {shown} has shape element {dims.Count} = {Truncate(reader.GetNumberText())}; expected at most {int.MaxValue}",
                    name);
                return null;
            }

            dims.Add((int)value);
        }

        return reader.Error is null ? dims.ToArray() : null;
    }

    private static bool ReadOffsets(
        JsonReader reader, string name, out long begin, out string? beginText, out long end, out string? endText, out WeightFileError? error)
    {
        begin = end = 0;
        beginText = endText = null;
        error = null;
        string shown = Quote(name);
        if (!reader.Read())
        {
            return false;
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            error = Entry(name, $"tensor {shown} has data_offsets that are {DescribeToken(reader)}; expected two non-negative integers [begin, end]");
            return false;
        }

        int count = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (!reader.TryGetNonNegativeInteger(out long value, out _))
            {
                error = Entry(name, $"tensor {shown} has data_offsets element {count} that is {DescribeToken(reader)}; expected a non-negative integer");
                return false;
            }

            // Values above long.MaxValue saturate; the range checks then report them with their text.
            if (count == 0)
            {
                begin = value;
                beginText = Truncate(reader.GetNumberText());
            }
            else if (count == 1)
            {
                end = value;
                endText = Truncate(reader.GetNumberText());
            }

            count++;
        }

        if (reader.Error is not null)
        {
            return false;
        }

        if (count != 2)
        {
            error = Entry(name, $"tensor {shown} has data_offsets with {count} elements; expected two non-negative integers [begin, end]");
            return false;
        }

        return true;
    }

    private static WeightFileError? CheckNamesAndOverlaps(List<TensorEntry> tensors, int dataStart)
    {
        // The JSON reader rejects duplicate keys, so this only guards the invariant.
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (TensorEntry t in tensors)
        {
            if (!names.Add(t.Name))
            {
                return new WeightFileError(
                    WeightFileErrorKind.DuplicateName,
                    $"the header names tensor {Quote(t.Name)} twice; expected each tensor name once",
                    t.Name);
            }
        }

        var ranges = new List<TensorEntry>(tensors.Count);
        foreach (TensorEntry t in tensors)
        {
            if (t.ByteLength > 0)
            {
                ranges.Add(t);
            }
        }

        // Stable order by start, then end, so the report names the earlier tensor first.
        var order = new int[ranges.Count];
        for (int i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        Array.Sort(order, (a, b) =>
        {
            int c = ranges[a].DataOffset.CompareTo(ranges[b].DataOffset);
            if (c == 0)
            {
                c = ranges[a].ByteLength.CompareTo(ranges[b].ByteLength);
            }

            return c != 0 ? c : a.CompareTo(b);
        });

        for (int i = 1; i < order.Length; i++)
        {
            TensorEntry prev = ranges[order[i - 1]];
            TensorEntry next = ranges[order[i]];
            long prevEnd = prev.DataOffset + prev.ByteLength;
            if (next.DataOffset < prevEnd)
            {
                return new WeightFileError(
                    WeightFileErrorKind.OffsetsOverlap,
                    $"tensors {Quote(prev.Name)} (data bytes [{prev.DataOffset - dataStart}, {prevEnd - dataStart})) and "
                    + $"{Quote(next.Name)} (data bytes [{next.DataOffset - dataStart}, {next.DataOffset + next.ByteLength - dataStart})) overlap; "
                    + "expected disjoint byte ranges",
                    next.Name);
            }
        }

        return null;
    }

    private static WeightFileError Entry(string name, string message) =>
        new(WeightFileErrorKind.InvalidEntry, message, name);

    private static string DescribeToken(JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "the string " + Quote(reader.GetString()),
        JsonTokenType.Number => "the number " + Truncate(reader.GetNumberText()),
        JsonTokenType.True => "true",
        JsonTokenType.False => "false",
        JsonTokenType.Null => "null",
        _ => "nothing",
    };

    /// <summary>A name or string for a message: single-quoted, control characters escaped, long text shortened.</summary>
    internal static string Quote(string text) => "'" + Truncate(JsonReader.Escape(text)) + "'";

    private static string Truncate(string text)
    {
        if (text.Length <= MaxDisplayedChars)
        {
            return text;
        }

        int cut = MaxDisplayedChars;
        if (char.IsHighSurrogate(text[cut - 1]))
        {
            cut--;
        }

        return new StringBuilder(text, 0, cut, cut + 40)
            .Append("... (")
            .Append(text.Length.ToString(CultureInfo.InvariantCulture))
            .Append(" characters)")
            .ToString();
    }
}
