using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

namespace StaticRnn.Generators.Tests.Onnx;

/// <summary>Writes small ONNX models (protobuf ModelProto) for tests: graphs that are wrong or unsupported in one
/// particular way, which no exporter would write on purpose.</summary>
public sealed class OnnxBuilder
{
    public const int Float = 1, Int32 = 6, Int64 = 7;

    private readonly List<byte[]> _nodes = new(), _inputs = new(), _outputs = new();
    private readonly List<(string Name, byte[] Bytes)> _initializers = new();
    private long _opset = 14;

    public OnnxBuilder Opset(long opset)
    {
        _opset = opset;
        return this;
    }

    /// <summary>A graph input or output; each dimension an int (fixed) or a string (symbolic).</summary>
    public OnnxBuilder Input(string name, int elementType, params object[] dims)
    {
        _inputs.Add(ValueInfo(name, elementType, dims));
        return this;
    }

    public OnnxBuilder Output(string name, int elementType, params object[] dims)
    {
        _outputs.Add(ValueInfo(name, elementType, dims));
        return this;
    }

    /// <summary>Makes <paramref name="name"/> the graph's only output (its shape left out).</summary>
    public OnnxBuilder OutputOnly(string name)
    {
        _outputs.Clear();
        _outputs.Add(ValueInfo(name, Float, []));
        return this;
    }

    public OnnxBuilder Initializer(string name, long[] dims, float[] values)
    {
        _initializers.Add((name, FloatTensor(name, dims, values)));
        return this;
    }

    public OnnxBuilder Initializer(string name, long[] dims, long[] values)
    {
        var w = new Writer();
        foreach (var d in dims)
            w.Varint(1, (ulong)d);
        w.Varint(2, Int64);
        w.Bytes(8, Encoding.UTF8.GetBytes(name));
        w.Packed(7, values.Select(v => (ulong)v));
        _initializers.Add((name, w.ToArray()));
        return this;
    }

    /// <summary>A tensor whose data lives in another file (TensorProto.data_location = EXTERNAL), at
    /// <paramref name="offset"/> for <paramref name="length"/> bytes when given.</summary>
    public OnnxBuilder ExternalInitializer(string name, long[] dims, string location, long? offset = null, long? length = null)
    {
        var w = new Writer();
        foreach (var d in dims)
            w.Varint(1, (ulong)d);
        w.Varint(2, Float);
        w.Bytes(8, Encoding.UTF8.GetBytes(name));
        foreach (var (key, value) in new[] { ("location", location), ("offset", offset?.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("length", length?.ToString(System.Globalization.CultureInfo.InvariantCulture)) })
        {
            if (value is null)
                continue;
            var entry = new Writer();
            entry.Bytes(1, Encoding.UTF8.GetBytes(key));
            entry.Bytes(2, Encoding.UTF8.GetBytes(value));
            w.Bytes(13, entry.ToArray());
        }
        w.Varint(14, 1);
        _initializers.Add((name, w.ToArray()));
        return this;
    }

    /// <summary>Removes an initializer added before (to add it again another way).</summary>
    public OnnxBuilder WithoutInitializer(string name)
    {
        _initializers.RemoveAll(i => i.Name == name);
        return this;
    }

    /// <summary>A node; attribute values are long, float, string, long[], float[] or string[].</summary>
    public OnnxBuilder Node(string op, string[] inputs, string[] outputs, string name = "", string domain = "", params (string Name, object Value)[] attributes)
    {
        var w = new Writer();
        foreach (var input in inputs)
            w.Bytes(1, Encoding.UTF8.GetBytes(input));
        foreach (var output in outputs)
            w.Bytes(2, Encoding.UTF8.GetBytes(output));
        w.Bytes(3, Encoding.UTF8.GetBytes(name));
        w.Bytes(4, Encoding.UTF8.GetBytes(op));
        if (domain.Length > 0)
            w.Bytes(7, Encoding.UTF8.GetBytes(domain));
        foreach (var (attributeName, value) in attributes)
            w.Bytes(5, Attribute(attributeName, value));
        _nodes.Add(w.ToArray());
        return this;
    }

    public byte[] Build()
    {
        var graph = new Writer();
        foreach (var node in _nodes)
            graph.Bytes(1, node);
        graph.Bytes(2, Encoding.UTF8.GetBytes("test"));
        foreach (var (_, initializer) in _initializers)
            graph.Bytes(5, initializer);
        foreach (var input in _inputs)
            graph.Bytes(11, input);
        foreach (var output in _outputs)
            graph.Bytes(12, output);
        var opset = new Writer();
        opset.Bytes(1, []);
        opset.Varint(2, (ulong)_opset);
        var model = new Writer();
        model.Varint(1, 8);
        model.Bytes(2, Encoding.UTF8.GetBytes("StaticRnn tests"));
        model.Bytes(7, graph.ToArray());
        model.Bytes(8, opset.ToArray());
        return model.ToArray();
    }

    /// <summary>x [batch, steps, inputs] -> Transpose -> LSTM (hidden units) -> Y_h -> Squeeze -> Gemm (units) -> y: the
    /// many-to-one model of torch.onnx.export, to which a test adds or changes one thing.</summary>
    /// <param name="inputs">Features per step.</param>
    /// <param name="hidden">The LSTM's units.</param>
    /// <param name="units">The Gemm's units.</param>
    /// <param name="steps">The input's time dimension: a fixed size, or null for a symbolic one.</param>
    /// <param name="moreLstmInputs">Inputs after X, W, R, B: sequence_lens, initial_h, initial_c, P ("" for one left out).</param>
    /// <param name="lstmAttributes">Attributes besides hidden_size.</param>
    public static OnnxBuilder Lstm(int inputs = 3, int hidden = 4, int units = 2, object? steps = null, string[]? moreLstmInputs = null,
        params (string Name, object Value)[] lstmAttributes)
    {
        var random = new Random(7);
        float[] Values(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        return new OnnxBuilder()
            .Input("x", Float, "batch", steps ?? "steps", inputs)
            .Output("y", Float, "batch", units)
            .Initializer("W", [1, 4 * hidden, inputs], Values(4 * hidden * inputs))
            .Initializer("R", [1, 4 * hidden, hidden], Values(4 * hidden * hidden))
            .Initializer("B", [1, 8 * hidden], Values(8 * hidden))
            .Initializer("fc.weight", [units, hidden], Values(units * hidden))
            .Initializer("fc.bias", [units], Values(units))
            .Initializer("axes0", [1], [0L])
            .Node("Transpose", ["x"], ["x_t"], "/Transpose", attributes: ("perm", new long[] { 1, 0, 2 }))
            .Node("LSTM", ["x_t", "W", "R", "B", .. moreLstmInputs ?? []], ["Y", "Y_h"], "/rnn/LSTM", attributes: [("hidden_size", (long)hidden), .. lstmAttributes])
            .Node("Squeeze", ["Y_h", "axes0"], ["h"], "/Squeeze")
            .Node("Gemm", ["h", "fc.weight", "fc.bias"], ["y"], "/fc/Gemm", attributes: ("transB", 1L));
    }

    private static byte[] ValueInfo(string name, int elementType, object[] dims)
    {
        var shape = new Writer();
        foreach (var d in dims)
        {
            var dim = new Writer();
            if (d is string parameter)
                dim.Bytes(2, Encoding.UTF8.GetBytes(parameter));
            else
                dim.Varint(1, (ulong)Convert.ToInt64(d));
            shape.Bytes(1, dim.ToArray());
        }
        var tensor = new Writer();
        tensor.Varint(1, (ulong)elementType);
        tensor.Bytes(2, shape.ToArray());
        var type = new Writer();
        type.Bytes(1, tensor.ToArray());
        var info = new Writer();
        info.Bytes(1, Encoding.UTF8.GetBytes(name));
        info.Bytes(2, type.ToArray());
        return info.ToArray();
    }

    private static byte[] FloatTensor(string name, long[] dims, float[] values)
    {
        var w = new Writer();
        foreach (var d in dims)
            w.Varint(1, (ulong)d);
        w.Varint(2, Float);
        w.Bytes(8, Encoding.UTF8.GetBytes(name));
        var raw = new byte[values.Length * 4];
        Buffer.BlockCopy(values, 0, raw, 0, raw.Length);
        w.Bytes(9, raw);
        return w.ToArray();
    }

    private static byte[] Attribute(string name, object value)
    {
        var w = new Writer();
        w.Bytes(1, Encoding.UTF8.GetBytes(name));
        switch (value)
        {
            case long i: w.Varint(3, (ulong)i); w.Varint(20, 2); break;
            case float f: w.Fixed32(2, BitConverter.ToUInt32(BitConverter.GetBytes(f), 0)); w.Varint(20, 1); break;
            case string s: w.Bytes(4, Encoding.UTF8.GetBytes(s)); w.Varint(20, 3); break;
            case long[] ints: w.Packed(8, ints.Select(v => (ulong)v)); w.Varint(20, 7); break;
            case string[] strings: foreach (var s in strings) w.Bytes(9, Encoding.UTF8.GetBytes(s)); w.Varint(20, 8); break;
            case byte[] graph: w.Bytes(6, graph); w.Varint(20, 5); break;
            default: throw new ArgumentException($"attribute {name}: {value.GetType()}");
        }
        return w.ToArray();
    }

    /// <summary>The protobuf wire format: tags, varints, length-delimited fields.</summary>
    private sealed class Writer
    {
        private readonly MemoryStream _stream = new();

        public void Varint(int field, ulong value)
        {
            Raw(((ulong)field << 3) | 0);
            Raw(value);
        }

        public void Fixed32(int field, uint value)
        {
            Raw(((ulong)field << 3) | 5);
            _stream.Write(BitConverter.GetBytes(value));
        }

        public void Bytes(int field, byte[] value)
        {
            Raw(((ulong)field << 3) | 2);
            Raw((ulong)value.Length);
            _stream.Write(value);
        }

        public void Packed(int field, IEnumerable<ulong> values)
        {
            var inner = new Writer();
            foreach (var v in values)
                inner.Raw(v);
            Bytes(field, inner.ToArray());
        }

        private void Raw(ulong value)
        {
            while (value >= 0x80)
            {
                _stream.WriteByte((byte)(value | 0x80));
                value >>= 7;
            }
            _stream.WriteByte((byte)value);
        }

        public byte[] ToArray() => _stream.ToArray();
    }
}
