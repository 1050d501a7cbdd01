using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;

namespace StaticRnn.Generators.Tests.Weights;

/// <summary>Writes safetensors files in memory for tests (the layout the Python library writes).</summary>
public sealed class SafeTensorsBuilder
{
    private readonly List<(string Name, string DType, long[] Shape, byte[] Data)> _tensors = new();
    private readonly List<(string Key, string Value)> _metadata = new();

    public SafeTensorsBuilder Add(string name, string dtype, long[] shape, byte[] data)
    {
        _tensors.Add((name, dtype, shape, data));
        return this;
    }

    public SafeTensorsBuilder AddF32(string name, long[] shape, params float[] values)
    {
        var data = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
        {
            WriteUInt32(data, i * 4, BitConverter.SingleToUInt32Bits(values[i]));
        }

        return Add(name, "F32", shape, data);
    }

    public SafeTensorsBuilder AddF64(string name, long[] shape, params double[] values)
    {
        var data = new byte[values.Length * 8];
        for (int i = 0; i < values.Length; i++)
        {
            ulong bits = BitConverter.DoubleToUInt64Bits(values[i]);
            WriteUInt32(data, i * 8, (uint)bits);
            WriteUInt32(data, (i * 8) + 4, (uint)(bits >> 32));
        }

        return Add(name, "F64", shape, data);
    }

    public SafeTensorsBuilder AddF16Bits(string name, long[] shape, params ushort[] bits) =>
        Add(name, "F16", shape, ToBytes(bits));

    public SafeTensorsBuilder AddBF16Bits(string name, long[] shape, params ushort[] bits) =>
        Add(name, "BF16", shape, ToBytes(bits));

    public SafeTensorsBuilder Metadata(string key, string value)
    {
        _metadata.Add((key, value));
        return this;
    }

    /// <summary>Header JSON the way the Python writer lays it out: metadata first, tensors back to back.</summary>
    public string HeaderJson()
    {
        var sb = new StringBuilder("{");
        bool first = true;
        if (_metadata.Count > 0)
        {
            sb.Append("\"__metadata__\":{");
            for (int i = 0; i < _metadata.Count; i++)
            {
                if (i > 0)
                {
                    sb.Append(',');
                }

                sb.Append(Json(_metadata[i].Key)).Append(':').Append(Json(_metadata[i].Value));
            }

            sb.Append('}');
            first = false;
        }

        long offset = 0;
        foreach (var (name, dtype, shape, data) in _tensors)
        {
            if (!first)
            {
                sb.Append(',');
            }

            first = false;
            sb.Append(Json(name)).Append(":{\"dtype\":").Append(Json(dtype)).Append(",\"shape\":[")
                .Append(string.Join(",", Array.ConvertAll(shape, d => d.ToString(CultureInfo.InvariantCulture))))
                .Append("],\"data_offsets\":[").Append(offset.ToString(CultureInfo.InvariantCulture)).Append(',')
                .Append((offset + data.Length).ToString(CultureInfo.InvariantCulture)).Append("]}");
            offset += data.Length;
        }

        return sb.Append('}').ToString();
    }

    public byte[] DataSection()
    {
        var ms = new MemoryStream();
        foreach (var t in _tensors)
        {
            ms.Write(t.Data, 0, t.Data.Length);
        }

        return ms.ToArray();
    }

    public byte[] Build() => Raw(HeaderJson(), DataSection());

    /// <summary>A file from header text (UTF-8, padded with spaces to a multiple of 8) and a data section.</summary>
    public static byte[] Raw(string headerJson, byte[]? data = null, bool pad = true) =>
        RawBytes(Encoding.UTF8.GetBytes(headerJson), data, pad);

    public static byte[] RawBytes(byte[] header, byte[]? data = null, bool pad = true, ulong? declaredLength = null)
    {
        data ??= Array.Empty<byte>();
        int padded = pad ? (header.Length + 7) / 8 * 8 : header.Length;
        var file = new byte[8 + padded + data.Length];
        ulong declared = declaredLength ?? (ulong)padded;
        for (int i = 0; i < 8; i++)
        {
            file[i] = (byte)(declared >> (8 * i));
        }

        Buffer.BlockCopy(header, 0, file, 8, header.Length);
        for (int i = header.Length; i < padded; i++)
        {
            file[8 + i] = (byte)' ';
        }

        Buffer.BlockCopy(data, 0, file, 8 + padded, data.Length);
        return file;
    }

    /// <summary>A JSON string literal: quotes, backslashes and control characters escaped, the rest verbatim.</summary>
    public static string Json(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c < 0x20)
                    {
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    break;
            }
        }

        return sb.Append('"').ToString();
    }

    public static byte[] ToBytes(ushort[] values)
    {
        var data = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++)
        {
            data[i * 2] = (byte)values[i];
            data[(i * 2) + 1] = (byte)(values[i] >> 8);
        }

        return data;
    }

    public static byte[] F32Bytes(params float[] values)
    {
        var data = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
        {
            WriteUInt32(data, i * 4, BitConverter.SingleToUInt32Bits(values[i]));
        }

        return data;
    }

    /// <summary>float32 to bfloat16 with round-to-nearest-even (what PyTorch does); NaN stays NaN.</summary>
    public static ushort FloatToBFloat16RoundNearestEven(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
        {
            return (ushort)((bits >> 16) | 0x0040);
        }

        uint lsb = (bits >> 16) & 1;
        return (ushort)((bits + 0x7FFF + lsb) >> 16);
    }

    private static void WriteUInt32(byte[] data, int p, uint v)
    {
        data[p] = (byte)v;
        data[p + 1] = (byte)(v >> 8);
        data[p + 2] = (byte)(v >> 16);
        data[p + 3] = (byte)(v >> 24);
    }
}
