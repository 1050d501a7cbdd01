using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace StaticRnn.Generators.Weights;

/// <summary>An ONNX model as far as StaticRnn reads it: the graph's nodes, inputs, outputs and initializers.</summary>
internal sealed class OnnxModel(IReadOnlyList<(string Domain, long Version)> opsets, OnnxGraph graph, long fileLength)
{
    public IReadOnlyList<(string Domain, long Version)> Opsets { get; } = opsets;

    public OnnxGraph Graph { get; } = graph;

    /// <summary>The size of the file in bytes: what bounds the work the importer may do for it.</summary>
    public long FileLength { get; } = fileLength;

    /// <summary>The opset of the default domain ("" or "ai.onnx"); 0 when the file imports none.</summary>
    public long Opset
    {
        get
        {
            foreach (var (domain, version) in Opsets)
            {
                if (domain.Length == 0 || domain == "ai.onnx")
                    return version;
            }
            return 0;
        }
    }
}

internal sealed class OnnxGraph(IReadOnlyList<OnnxNode> nodes, IReadOnlyList<OnnxTensor> initializers, IReadOnlyList<OnnxValueInfo> inputs, IReadOnlyList<OnnxValueInfo> outputs)
{
    public IReadOnlyList<OnnxNode> Nodes { get; } = nodes;
    public IReadOnlyList<OnnxTensor> Initializers { get; } = initializers;
    public IReadOnlyList<OnnxValueInfo> Inputs { get; } = inputs;
    public IReadOnlyList<OnnxValueInfo> Outputs { get; } = outputs;
}

internal sealed class OnnxNode(string name, string opType, string domain, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs, IReadOnlyDictionary<string, OnnxAttribute> attributes)
{
    public string Name { get; } = name;
    public string OpType { get; } = opType;
    public string Domain { get; } = domain;
    /// <summary>Input names; "" for an optional input left out.</summary>
    public IReadOnlyList<string> Inputs { get; } = inputs;
    public IReadOnlyList<string> Outputs { get; } = outputs;
    public IReadOnlyDictionary<string, OnnxAttribute> Attributes { get; } = attributes;

    /// <summary>"'/rnn/LSTM' (LSTM)", or "the LSTM node writing 'y'" for a node without a name: how messages name it.</summary>
    public string Display => Name.Length > 0
        ? $"'{Name}' ({OpType})"
        : $"the {OpType} node writing '{(Outputs.Count > 0 ? Outputs[0] : "")}'";

    public long Int(string attribute, long fallback) => Attributes.TryGetValue(attribute, out var a) && a.Type == OnnxAttributeType.Int ? a.Int : fallback;

    public float Float(string attribute, float fallback) => Attributes.TryGetValue(attribute, out var a) && a.Type == OnnxAttributeType.Float ? a.Float : fallback;

    public string? String(string attribute) => Attributes.TryGetValue(attribute, out var a) && a.Type == OnnxAttributeType.String ? a.String : null;

    public IReadOnlyList<long>? Ints(string attribute) => Attributes.TryGetValue(attribute, out var a) && a.Type == OnnxAttributeType.Ints ? a.Ints : null;

    /// <summary>The input at <paramref name="index"/>, or "" when the node has fewer.</summary>
    public string Input(int index) => index < Inputs.Count ? Inputs[index] : "";
}

internal enum OnnxAttributeType { Undefined = 0, Float = 1, Int = 2, String = 3, Tensor = 4, Graph = 5, Floats = 6, Ints = 7, Strings = 8, Tensors = 9, Graphs = 10, SparseTensor = 11, SparseTensors = 12, TypeProto = 13, TypeProtos = 14 }

internal sealed class OnnxAttribute(string name, OnnxAttributeType type, float @float, long @int, string? @string, OnnxTensor? tensor,
    IReadOnlyList<float> floats, IReadOnlyList<long> ints, IReadOnlyList<string> strings)
{
    public string Name { get; } = name;
    public OnnxAttributeType Type { get; } = type;
    public float Float { get; } = @float;
    public long Int { get; } = @int;
    public string? String { get; } = @string;
    public OnnxTensor? Tensor { get; } = tensor;
    public IReadOnlyList<float> Floats { get; } = floats;
    public IReadOnlyList<long> Ints { get; } = ints;
    public IReadOnlyList<string> Strings { get; } = strings;
}

/// <summary>ONNX TensorProto data types StaticRnn reads.</summary>
internal enum OnnxDataType { Undefined = 0, Float = 1, UInt8 = 2, Int8 = 3, UInt16 = 4, Int16 = 5, Int32 = 6, Int64 = 7, String = 8, Bool = 9, Float16 = 10, Double = 11, UInt32 = 12, UInt64 = 13, BFloat16 = 16 }

/// <summary>
/// A tensor of the file: an initializer or a Constant node's value. Float data (float32, float64, float16, bfloat16)
/// is kept as little-endian bytes of the file where it lies there verbatim (<see cref="FileOffset"/>); integer data
/// (shapes, indices) is decoded into <see cref="Integers"/>.
/// </summary>
internal sealed class OnnxTensor(string name, OnnxDataType dataType, long[] dims, long elementCount,
    byte[]? floatBytes, int floatOffset, long? fileOffset, long[]? integers, bool external, OnnxTensor.ExternalData? externalData = null)
{
    /// <summary>Where an external tensor's bytes are: a file beside the model (<c>location</c>), and the
    /// <c>offset</c> and <c>length</c> in it (the whole file when absent).</summary>
    internal sealed record ExternalData(string Location, long Offset, long? Length);

    /// <summary>For a tensor whose data lives in another file: where; null otherwise.</summary>
    public ExternalData? Data { get; } = externalData;

    public string Name { get; } = name;
    public OnnxDataType DataType { get; } = dataType;
    public IReadOnlyList<long> Dims { get; } = dims;
    public long ElementCount { get; } = elementCount;

    /// <summary>Little-endian float data of <see cref="FloatDType"/>: the file's bytes, or decoded ones.</summary>
    public byte[]? FloatBytes { get; } = floatBytes;
    public int FloatOffset { get; } = floatOffset;

    /// <summary>Where the float data lies verbatim in the file, so that generated code can read it at run time.</summary>
    public long? FileOffset { get; } = fileOffset;

    /// <summary>Integer and boolean elements, widened to long.</summary>
    public long[]? Integers { get; } = integers;

    /// <summary>The data lives in another file (external data; see <see cref="Data"/>).</summary>
    public bool External { get; } = external;

    public bool IsFloat => DataType is OnnxDataType.Float or OnnxDataType.Double or OnnxDataType.Float16 or OnnxDataType.BFloat16;

    public TensorDType FloatDType => DataType switch
    {
        OnnxDataType.Double => TensorDType.F64,
        OnnxDataType.Float16 => TensorDType.F16,
        OnnxDataType.BFloat16 => TensorDType.BF16,
        _ => TensorDType.F32,
    };

    public float[] ReadFloats() => FloatBytes is null ? [] : FloatConversion.ToFloat32(FloatBytes, FloatOffset, checked((int)ElementCount), FloatDType);

    public override string ToString() => $"{Name}: {DataType} [{string.Join(", ", Dims)}]";
}

/// <summary>A graph input or output: its name, element type and shape (each dimension a size, a symbolic name, or unknown).</summary>
internal sealed class OnnxValueInfo(string name, OnnxDataType elementType, IReadOnlyList<OnnxDimension>? shape)
{
    public string Name { get; } = name;
    public OnnxDataType ElementType { get; } = elementType;
    /// <summary>Null when the file gives no shape.</summary>
    public IReadOnlyList<OnnxDimension>? Shape { get; } = shape;
}

internal readonly record struct OnnxDimension(long? Value, string? Parameter)
{
    public override string ToString() => Value?.ToString(CultureInfo.InvariantCulture) ?? (Parameter is { Length: > 0 } p ? p : "?");
}

/// <summary>
/// Reads the part of an ONNX file (a protobuf <c>ModelProto</c>) that describes a network: the opset imports and the
/// main graph's nodes, attributes, initializers, inputs and outputs. Subgraphs (the bodies of Loop, Scan, If) are
/// skipped, since no supported op has one. Written for hostile input: every length is checked against the bytes
/// left, nesting is bounded, nothing is sized by a number before it is checked, and it never throws.
/// </summary>
internal static class OnnxReader
{
    /// <summary>Most elements a tensor may declare (its dims' product).</summary>
    public const long MaxElements = int.MaxValue / 8;

    private const int MaxRank = 8;

    /// <summary>Most nodes, initializers, inputs, outputs or attributes of one kind; far beyond any recurrent model.</summary>
    private const int MaxItems = 1_000_000;

    public static OnnxModel? Read(byte[] bytes, out WeightFileError? error)
    {
        error = null;
        if (bytes is null || bytes.Length == 0)
        {
            error = new WeightFileError(WeightFileErrorKind.Truncated, "the file is empty; expected an ONNX ModelProto");
            return null;
        }
        try
        {
            var model = ReadModel(new Proto(bytes, 0, bytes.Length));
            if (model.Graph is null)
                throw new OnnxFormatException(WeightFileErrorKind.InvalidEntry, "the model has no graph (field 7 of ModelProto); expected an ONNX model");
            return new OnnxModel(model.Opsets, model.Graph, bytes.Length);
        }
        catch (OnnxFormatException e)
        {
            error = new WeightFileError(e.Kind, e.Message);
            return null;
        }
    }

    private sealed class OnnxFormatException(WeightFileErrorKind kind, string message) : Exception(message)
    {
        public WeightFileErrorKind Kind { get; } = kind;
    }

    // ---- The protobuf wire format ----

    private enum Wire { Varint = 0, Fixed64 = 1, Bytes = 2, StartGroup = 3, EndGroup = 4, Fixed32 = 5 }

    /// <summary>A cursor over one message's bytes.</summary>
    private struct Proto(byte[] bytes, int start, int end)
    {
        public readonly byte[] Bytes = bytes;
        public int Position = start;
        public readonly int End = end;

        public readonly bool AtEnd => Position >= End;

        public (int Field, Wire Wire) Tag()
        {
            var key = Varint();
            var field = key >> 3;
            var wire = (Wire)(key & 7);
            if (field is < 1 or > int.MaxValue)
                throw Damaged($"a field number of {field.ToString(CultureInfo.InvariantCulture)} at byte {Position}");
            if (wire is Wire.StartGroup or Wire.EndGroup || (int)wire > 5)
                throw Damaged($"wire type {(int)wire} at byte {Position}");
            return ((int)field, wire);
        }

        public ulong Varint()
        {
            ulong value = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                if (Position >= End)
                    throw new OnnxFormatException(WeightFileErrorKind.Truncated, "a varint runs past the end of its message");
                var b = Bytes[Position++];
                value |= (ulong)(b & 0x7F) << shift;
                if ((b & 0x80) == 0)
                    return value;
            }
            throw Damaged("a varint longer than 10 bytes");
        }

        public long Int64() => unchecked((long)Varint());

        public uint Fixed32()
        {
            if (End - Position < 4)
                throw new OnnxFormatException(WeightFileErrorKind.Truncated, "a 32-bit field runs past the end of its message");
            var v = (uint)(Bytes[Position] | Bytes[Position + 1] << 8 | Bytes[Position + 2] << 16 | Bytes[Position + 3] << 24);
            Position += 4;
            return v;
        }

        /// <summary>A length-delimited field's bounds, checked against the message.</summary>
        public (int Start, int Length) Delimited()
        {
            var length = Varint();
            if (length > (ulong)(End - Position))
                throw new OnnxFormatException(WeightFileErrorKind.Truncated,
                    $"a field of {length.ToString(CultureInfo.InvariantCulture)} bytes at byte {Position} runs past the end of its message ({End - Position} bytes left)");
            var start = Position;
            Position += (int)length;
            return (start, (int)length);
        }

        public Proto Message()
        {
            var (start, length) = Delimited();
            return new Proto(Bytes, start, start + length);
        }

        public string String()
        {
            var (start, length) = Delimited();
            try
            {
                return new UTF8Encoding(false, true).GetString(Bytes, start, length);
            }
            catch (DecoderFallbackException)
            {
                throw Damaged($"a string at byte {start} that is not UTF-8");
            }
        }

        public void Skip(Wire wire)
        {
            switch (wire)
            {
                case Wire.Varint: Varint(); break;
                case Wire.Fixed64:
                    if (End - Position < 8)
                        throw new OnnxFormatException(WeightFileErrorKind.Truncated, "a 64-bit field runs past the end of its message");
                    Position += 8;
                    break;
                case Wire.Fixed32: Fixed32(); break;
                default: Delimited(); break;
            }
        }

        public void Expect(Wire actual, Wire expected, string what)
        {
            if (actual != expected)
                throw Damaged($"{what} with wire type {(int)actual}; expected {(int)expected}");
        }

        /// <summary>A repeated int64 field, packed or not: appends to <paramref name="values"/>.</summary>
        public void Int64s(Wire wire, List<long> values)
        {
            if (wire == Wire.Varint)
            {
                Add(values, Int64());
                return;
            }
            Expect(wire, Wire.Bytes, "a repeated integer field");
            var packed = Message();
            while (!packed.AtEnd)
                Add(values, packed.Int64());
        }

        public void Floats(Wire wire, List<float> values)
        {
            if (wire == Wire.Fixed32)
            {
                Add(values, BitConverterSingle(Fixed32()));
                return;
            }
            Expect(wire, Wire.Bytes, "a repeated float field");
            var packed = Message();
            if ((packed.End - packed.Position) % 4 != 0)
                throw Damaged("a packed float field whose length is not a multiple of 4");
            while (!packed.AtEnd)
                Add(values, BitConverterSingle(packed.Fixed32()));
        }

        private static void Add<T>(List<T> values, T value)
        {
            if (values.Count >= MaxElements)
                throw new OnnxFormatException(WeightFileErrorKind.TooLarge, "a repeated field with more elements than a tensor may hold");
            values.Add(value);
        }
    }

    private static float BitConverterSingle(uint bits) => BitConverter.ToSingle(BitConverter.GetBytes(bits), 0);

    private static OnnxFormatException Damaged(string what) =>
        new(WeightFileErrorKind.InvalidEntry, $"the protobuf data is not well-formed: {what}");

    private static void Count(int count, string what)
    {
        if (count >= MaxItems)
            throw new OnnxFormatException(WeightFileErrorKind.TooLarge, $"the graph has more than {MaxItems} {what}");
    }

    // ---- Messages ----

    private static (List<(string, long)> Opsets, OnnxGraph? Graph) ReadModel(Proto p)
    {
        var opsets = new List<(string, long)>();
        OnnxGraph? graph = null;
        while (!p.AtEnd)
        {
            var (field, wire) = p.Tag();
            switch (field)
            {
                case 7:
                    p.Expect(wire, Wire.Bytes, "ModelProto.graph");
                    graph = ReadGraph(p.Message());
                    break;
                case 8:
                    p.Expect(wire, Wire.Bytes, "ModelProto.opset_import");
                    Count(opsets.Count, "opset imports");
                    opsets.Add(ReadOpset(p.Message()));
                    break;
                default:
                    p.Skip(wire);
                    break;
            }
        }
        return (opsets, graph);
    }

    private static (string, long) ReadOpset(Proto p)
    {
        string domain = "";
        long version = 0;
        while (!p.AtEnd)
        {
            var (field, wire) = p.Tag();
            if (field == 1 && wire == Wire.Bytes)
                domain = p.String();
            else if (field == 2 && wire == Wire.Varint)
                version = p.Int64();
            else
                p.Skip(wire);
        }
        return (domain, version);
    }

    private static OnnxGraph ReadGraph(Proto p)
    {
        var nodes = new List<OnnxNode>();
        var initializers = new List<OnnxTensor>();
        var inputs = new List<OnnxValueInfo>();
        var outputs = new List<OnnxValueInfo>();
        while (!p.AtEnd)
        {
            var (field, wire) = p.Tag();
            switch (field)
            {
                case 1:
                    p.Expect(wire, Wire.Bytes, "GraphProto.node");
                    Count(nodes.Count, "nodes");
                    nodes.Add(ReadNode(p.Message()));
                    break;
                case 5:
                    p.Expect(wire, Wire.Bytes, "GraphProto.initializer");
                    Count(initializers.Count, "initializers");
                    initializers.Add(ReadTensor(p.Message()));
                    break;
                case 11:
                    p.Expect(wire, Wire.Bytes, "GraphProto.input");
                    Count(inputs.Count, "inputs");
                    inputs.Add(ReadValueInfo(p.Message()));
                    break;
                case 12:
                    p.Expect(wire, Wire.Bytes, "GraphProto.output");
                    Count(outputs.Count, "outputs");
                    outputs.Add(ReadValueInfo(p.Message()));
                    break;
                default:
                    p.Skip(wire);
                    break;
            }
        }
        return new OnnxGraph(nodes, initializers, inputs, outputs);
    }

    private static OnnxNode ReadNode(Proto p)
    {
        var inputs = new List<string>();
        var outputs = new List<string>();
        string name = "", opType = "", domain = "";
        var attributes = new Dictionary<string, OnnxAttribute>(StringComparer.Ordinal);
        while (!p.AtEnd)
        {
            var (field, wire) = p.Tag();
            if (wire != Wire.Bytes)
            {
                p.Skip(wire);
                continue;
            }
            switch (field)
            {
                case 1: Count(inputs.Count, "node inputs"); inputs.Add(p.String()); break;
                case 2: Count(outputs.Count, "node outputs"); outputs.Add(p.String()); break;
                case 3: name = p.String(); break;
                case 4: opType = p.String(); break;
                case 7: domain = p.String(); break;
                case 5:
                    Count(attributes.Count, "attributes");
                    var attribute = ReadAttribute(p.Message());
                    attributes[attribute.Name] = attribute;   // a repeated name: the last wins, as in protobuf maps
                    break;
                default: p.Skip(wire); break;
            }
        }
        return new OnnxNode(name, opType, domain, inputs, outputs, attributes);
    }

    private static OnnxAttribute ReadAttribute(Proto p)
    {
        string name = "";
        var type = OnnxAttributeType.Undefined;
        float f = 0;
        long i = 0;
        string? s = null;
        OnnxTensor? t = null;
        var floats = new List<float>();
        var ints = new List<long>();
        var strings = new List<string>();
        var sawGraph = false;
        while (!p.AtEnd)
        {
            var (field, wire) = p.Tag();
            switch (field)
            {
                case 1: p.Expect(wire, Wire.Bytes, "AttributeProto.name"); name = p.String(); break;
                case 20: p.Expect(wire, Wire.Varint, "AttributeProto.type"); type = (OnnxAttributeType)(int)Math.Min(p.Varint(), 100); break;
                case 2: p.Expect(wire, Wire.Fixed32, "AttributeProto.f"); f = BitConverterSingle(p.Fixed32()); break;
                case 3: p.Expect(wire, Wire.Varint, "AttributeProto.i"); i = p.Int64(); break;
                case 4:
                    p.Expect(wire, Wire.Bytes, "AttributeProto.s");
                    var (start, length) = p.Delimited();
                    s = Encoding.UTF8.GetString(p.Bytes, start, length);
                    break;
                case 5: p.Expect(wire, Wire.Bytes, "AttributeProto.t"); t = ReadTensor(p.Message()); break;
                case 6: case 11: sawGraph = true; p.Skip(wire); break;   // a subgraph: no supported op has one
                case 7: p.Floats(wire, floats); break;
                case 8: p.Int64s(wire, ints); break;
                case 9: p.Expect(wire, Wire.Bytes, "AttributeProto.strings"); Count(strings.Count, "strings"); strings.Add(p.String()); break;
                default: p.Skip(wire); break;
            }
        }
        // Files from old exporters leave out the type; infer it from the field that is set.
        if (type == OnnxAttributeType.Undefined)
        {
            type = t is not null ? OnnxAttributeType.Tensor
                : sawGraph ? OnnxAttributeType.Graph
                : s is not null ? OnnxAttributeType.String
                : floats.Count > 0 ? OnnxAttributeType.Floats
                : ints.Count > 0 ? OnnxAttributeType.Ints
                : strings.Count > 0 ? OnnxAttributeType.Strings
                : OnnxAttributeType.Undefined;
        }
        return new OnnxAttribute(name, type, f, i, s, t, floats, ints, strings);
    }

    private static OnnxValueInfo ReadValueInfo(Proto p)
    {
        string name = "";
        var elementType = OnnxDataType.Undefined;
        List<OnnxDimension>? shape = null;
        while (!p.AtEnd)
        {
            var (field, wire) = p.Tag();
            if (field == 1 && wire == Wire.Bytes)
            {
                name = p.String();
            }
            else if (field == 2 && wire == Wire.Bytes)
            {
                // TypeProto: tensor_type = 1 { elem_type = 1, shape = 2 { dim = 1 { dim_value = 1, dim_param = 2 } } }
                var type = p.Message();
                while (!type.AtEnd)
                {
                    var (typeField, typeWire) = type.Tag();
                    if (typeField != 1 || typeWire != Wire.Bytes)
                    {
                        type.Skip(typeWire);
                        continue;
                    }
                    var tensor = type.Message();
                    while (!tensor.AtEnd)
                    {
                        var (tensorField, tensorWire) = tensor.Tag();
                        if (tensorField == 1 && tensorWire == Wire.Varint)
                        {
                            elementType = (OnnxDataType)(int)Math.Min(tensor.Varint(), 100);
                        }
                        else if (tensorField == 2 && tensorWire == Wire.Bytes)
                        {
                            shape = new List<OnnxDimension>();
                            var shapeProto = tensor.Message();
                            while (!shapeProto.AtEnd)
                            {
                                var (dimField, dimWire) = shapeProto.Tag();
                                if (dimField != 1 || dimWire != Wire.Bytes)
                                {
                                    shapeProto.Skip(dimWire);
                                    continue;
                                }
                                if (shape.Count >= MaxRank)
                                    throw Damaged($"the value '{name}' has a shape of more than {MaxRank} dimensions");
                                shape.Add(ReadDimension(shapeProto.Message()));
                            }
                        }
                        else
                        {
                            tensor.Skip(tensorWire);
                        }
                    }
                }
            }
            else
            {
                p.Skip(wire);
            }
        }
        return new OnnxValueInfo(name, elementType, shape);
    }

    private static OnnxDimension ReadDimension(Proto p)
    {
        long? value = null;
        string? parameter = null;
        while (!p.AtEnd)
        {
            var (field, wire) = p.Tag();
            if (field == 1 && wire == Wire.Varint)
                value = p.Int64();
            else if (field == 2 && wire == Wire.Bytes)
                parameter = p.String();
            else
                p.Skip(wire);
        }
        return new OnnxDimension(value, parameter);
    }

    private static OnnxTensor ReadTensor(Proto p)
    {
        var dims = new List<long>();
        var dataType = OnnxDataType.Undefined;
        string name = "";
        (int Start, int Length)? raw = null;
        var floatData = new List<float>();
        (int Start, int Length)? packedFloats = null;
        var integerData = new List<long>();
        var doubleData = new List<double>();
        var external = false;
        var externalEntries = new Dictionary<string, string>(StringComparer.Ordinal);
        while (!p.AtEnd)
        {
            var (field, wire) = p.Tag();
            switch (field)
            {
                case 1: p.Int64s(wire, dims); break;
                case 2: p.Expect(wire, Wire.Varint, "TensorProto.data_type"); dataType = (OnnxDataType)(int)Math.Min(p.Varint(), 100); break;
                case 8: p.Expect(wire, Wire.Bytes, "TensorProto.name"); name = p.String(); break;
                case 9: p.Expect(wire, Wire.Bytes, "TensorProto.raw_data"); raw = p.Delimited(); break;
                case 4:
                    // float_data: packed, its bytes are little-endian floats as they lie; keep where they are.
                    if (wire == Wire.Bytes && packedFloats is null && floatData.Count == 0)
                    {
                        packedFloats = p.Delimited();
                        if (packedFloats.Value.Length % 4 != 0)
                            throw Damaged($"the tensor '{name}' has packed float data whose length is not a multiple of 4");
                    }
                    else
                    {
                        if (packedFloats is { } earlier)
                        {
                            var again = new Proto(p.Bytes, earlier.Start, earlier.Start + earlier.Length);
                            while (!again.AtEnd)
                                floatData.Add(BitConverterSingle(again.Fixed32()));
                            packedFloats = null;
                        }
                        p.Floats(wire, floatData);
                    }
                    break;
                case 5: case 7: case 11: p.Int64s(wire, integerData); break;   // int32_data, int64_data, uint64_data
                case 10:
                    if (wire == Wire.Fixed64)
                    {
                        doubleData.Add(ReadDouble(ref p));
                    }
                    else
                    {
                        p.Expect(wire, Wire.Bytes, "TensorProto.double_data");
                        var packed = p.Message();
                        while (!packed.AtEnd)
                        {
                            if (doubleData.Count >= MaxElements)
                                throw new OnnxFormatException(WeightFileErrorKind.TooLarge, $"the tensor '{name}' has more doubles than a tensor may hold");
                            doubleData.Add(ReadDouble(ref packed));
                        }
                    }
                    break;
                case 14: p.Expect(wire, Wire.Varint, "TensorProto.data_location"); external |= p.Varint() == 1; break;
                case 13:
                {
                    // external_data: StringStringEntryProto { key = 1, value = 2 }: location, offset, length, checksum.
                    p.Expect(wire, Wire.Bytes, "TensorProto.external_data");
                    external = true;
                    var entry = p.Message();
                    string key = "", value = "";
                    while (!entry.AtEnd)
                    {
                        var (entryField, entryWire) = entry.Tag();
                        if (entryField == 1 && entryWire == Wire.Bytes)
                            key = entry.String();
                        else if (entryField == 2 && entryWire == Wire.Bytes)
                            value = entry.String();
                        else
                            entry.Skip(entryWire);
                    }
                    if (externalEntries.Count < 16)
                        externalEntries[key] = value;
                    break;
                }
                default: p.Skip(wire); break;
            }
        }

        if (dims.Count > MaxRank)
            throw Damaged($"the tensor '{name}' has {dims.Count} dimensions; expected at most {MaxRank}");
        long count = 1;
        foreach (var d in dims)
        {
            if (d < 0)
                throw Damaged($"the tensor '{name}' has a negative dimension ({d.ToString(CultureInfo.InvariantCulture)})");
            // Each dimension too, so that no shape holding a 0 carries a size no tensor could have.
            if (d > MaxElements || (d > 0 && count > MaxElements / d))
                throw new OnnxFormatException(WeightFileErrorKind.TooLarge, $"the tensor '{name}' has shape [{string.Join(", ", dims)}], more than {MaxElements} elements or a dimension that large");
            count *= d;
        }
        var dimsArray = dims.ToArray();
        if (external)
        {
            OnnxTensor.ExternalData? where = null;
            if (externalEntries.TryGetValue("location", out var location) && location.Length > 0)
            {
                long Number(string key) => externalEntries.TryGetValue(key, out var text)
                    ? long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : throw Damaged($"the tensor '{name}' has external {key} '{text}', not a number")
                    : -1;
                var offset = Number("offset");
                var length = Number("length");
                where = new OnnxTensor.ExternalData(location, Math.Max(offset, 0), length < 0 ? null : length);
            }
            return new OnnxTensor(name, dataType, dimsArray, count, null, 0, null, null, external: true, where);
        }

        switch (dataType)
        {
            case OnnxDataType.Float:
            case OnnxDataType.Double:
            case OnnxDataType.Float16:
            case OnnxDataType.BFloat16:
            {
                var size = dataType == OnnxDataType.Double ? 8 : dataType == OnnxDataType.Float ? 4 : 2;
                if (raw is { } r)
                {
                    CheckLength(name, r.Length, count * size, "raw_data bytes");
                    return new OnnxTensor(name, dataType, dimsArray, count, p.Bytes, r.Start, r.Start, null, false);
                }
                if (dataType == OnnxDataType.Float && packedFloats is { } packed)
                {
                    CheckLength(name, packed.Length, count * 4, "float_data bytes");
                    return new OnnxTensor(name, dataType, dimsArray, count, p.Bytes, packed.Start, packed.Start, null, false);
                }
                if (dataType == OnnxDataType.Double)
                {
                    CheckLength(name, doubleData.Count, count, "double_data elements");
                    var bytes = new byte[count * 8];
                    for (var k = 0; k < doubleData.Count; k++)
                        WriteLittleEndian(bytes, k * 8, BitConverter.DoubleToInt64Bits(doubleData[k]));
                    return new OnnxTensor(name, dataType, dimsArray, count, bytes, 0, null, null, false);
                }
                if (dataType == OnnxDataType.Float)
                {
                    CheckLength(name, floatData.Count, count, "float_data elements");
                    var bytes = new byte[count * 4];
                    for (var k = 0; k < floatData.Count; k++)
                    {
                        var bits = BitConverter.ToInt32(BitConverter.GetBytes(floatData[k]), 0);
                        bytes[4 * k] = (byte)bits;
                        bytes[4 * k + 1] = (byte)(bits >> 8);
                        bytes[4 * k + 2] = (byte)(bits >> 16);
                        bytes[4 * k + 3] = (byte)(bits >> 24);
                    }
                    return new OnnxTensor(name, dataType, dimsArray, count, bytes, 0, null, null, false);
                }
                // float16/bfloat16 in int32_data: one element per value's low 16 bits.
                CheckLength(name, integerData.Count, count, "int32_data elements");
                var halves = new byte[count * 2];
                for (var k = 0; k < integerData.Count; k++)
                {
                    halves[2 * k] = (byte)integerData[k];
                    halves[2 * k + 1] = (byte)(integerData[k] >> 8);
                }
                return new OnnxTensor(name, dataType, dimsArray, count, halves, 0, null, null, false);
            }
            case OnnxDataType.Int64:
            case OnnxDataType.Int32:
            case OnnxDataType.Int16:
            case OnnxDataType.Int8:
            case OnnxDataType.UInt8:
            case OnnxDataType.UInt16:
            case OnnxDataType.UInt32:
            case OnnxDataType.UInt64:
            case OnnxDataType.Bool:
            {
                if (raw is { } r)
                {
                    var size = dataType switch
                    {
                        OnnxDataType.Int64 or OnnxDataType.UInt64 => 8,
                        OnnxDataType.Int32 or OnnxDataType.UInt32 => 4,
                        OnnxDataType.Int16 or OnnxDataType.UInt16 => 2,
                        _ => 1,
                    };
                    CheckLength(name, r.Length, count * size, "raw_data bytes");
                    var values = new long[count];
                    for (var k = 0; k < count; k++)
                    {
                        var at = r.Start + k * size;
                        ulong v = 0;
                        for (var b = size - 1; b >= 0; b--)
                            v = (v << 8) | p.Bytes[at + b];
                        values[k] = dataType switch
                        {
                            OnnxDataType.Int32 => unchecked((int)v),
                            OnnxDataType.Int16 => unchecked((short)v),
                            OnnxDataType.Int8 => unchecked((sbyte)v),
                            _ => unchecked((long)v),
                        };
                    }
                    return new OnnxTensor(name, dataType, dimsArray, count, null, 0, null, values, false);
                }
                CheckLength(name, integerData.Count, count, "integer data elements");
                return new OnnxTensor(name, dataType, dimsArray, count, null, 0, null, integerData.ToArray(), false);
            }
            default:
                // Strings, complex numbers, undefined: kept without data; using one is an error where it is used.
                return new OnnxTensor(name, dataType, dimsArray, count, null, 0, null, null, false);
        }
    }

    private static double ReadDouble(ref Proto p)
    {
        if (p.End - p.Position < 8)
            throw new OnnxFormatException(WeightFileErrorKind.Truncated, "a 64-bit field runs past the end of its message");
        long bits = 0;
        for (var b = 7; b >= 0; b--)
            bits = (bits << 8) | p.Bytes[p.Position + b];
        p.Position += 8;
        return BitConverter.Int64BitsToDouble(bits);
    }

    private static void WriteLittleEndian(byte[] bytes, int offset, long value)
    {
        for (var b = 0; b < 8; b++)
            bytes[offset + b] = (byte)(value >> (8 * b));
    }

    private static void CheckLength(string name, long actual, long expected, string what)
    {
        if (actual != expected)
        {
            throw new OnnxFormatException(WeightFileErrorKind.ShapeMismatch,
                $"the tensor '{name}' has {actual.ToString(CultureInfo.InvariantCulture)} {what}; its shape needs {expected.ToString(CultureInfo.InvariantCulture)}");
        }
    }
}
