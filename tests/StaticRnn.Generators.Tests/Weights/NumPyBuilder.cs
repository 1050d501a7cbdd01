using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Runtime.CompilerServices;
using System.Text;

namespace StaticRnn.Generators.Tests.Weights;

/// <summary>Writes .npy files in memory for tests, laid out as NumPy's <c>np.save</c> lays them out.</summary>
public static class NpyBuilder
{
    /// <summary>The header dict exactly as NumPy 1.24 writes it.</summary>
    public static string Header(string descr, string shape, bool fortran = false) =>
        $"{{'descr': '{descr}', 'fortran_order': {(fortran ? "True" : "False")}, 'shape': {shape}, }}";

    /// <summary>
    /// A .npy file: magic, version, header length, the header (padded with spaces and a final line break so that the
    /// data starts on a 64-byte boundary, as NumPy does, when <paramref name="pad"/>), then the data.
    /// </summary>
    public static byte[] Build(string header, byte[]? data = null, int major = 1, bool pad = true)
    {
        Encoding encoding = major >= 3 ? new UTF8Encoding(false) : Encoding.Latin1;
        byte[] text = encoding.GetBytes(header);
        int prefix = major == 1 ? 10 : 12;
        if (pad)
        {
            int total = (prefix + text.Length + 1 + 63) / 64 * 64;
            var padded = new byte[total - prefix];
            Array.Fill(padded, (byte)' ');
            Buffer.BlockCopy(text, 0, padded, 0, text.Length);
            padded[^1] = (byte)'\n';
            text = padded;
        }

        return Raw(text, data, major);
    }

    /// <summary>A .npy file from raw header bytes, with any version and declared header length.</summary>
    public static byte[] Raw(byte[] header, byte[]? data = null, int major = 1, int minor = 0, long? declaredLength = null)
    {
        data ??= Array.Empty<byte>();
        int prefix = major == 1 ? 10 : 12;
        var file = new byte[prefix + header.Length + data.Length];
        file[0] = 0x93;
        Encoding.ASCII.GetBytes("NUMPY").CopyTo(file, 1);
        file[6] = (byte)major;
        file[7] = (byte)minor;
        long declared = declaredLength ?? header.Length;
        for (int i = 0; i < prefix - 8; i++)
        {
            file[8 + i] = (byte)(declared >> (8 * i));
        }

        Buffer.BlockCopy(header, 0, file, prefix, header.Length);
        Buffer.BlockCopy(data, 0, file, prefix + header.Length, data.Length);
        return file;
    }

    public static byte[] F32(string shape, params float[] values) => Build(Header("<f4", shape), F32Bytes(values));

    public static byte[] F32Bytes(float[] values, bool bigEndian = false)
    {
        var data = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
        {
            Put(data, i * 4, BitConverter.SingleToUInt32Bits(values[i]), 4, bigEndian);
        }

        return data;
    }

    public static byte[] F64Bytes(double[] values, bool bigEndian = false)
    {
        var data = new byte[values.Length * 8];
        for (int i = 0; i < values.Length; i++)
        {
            Put(data, i * 8, BitConverter.DoubleToUInt64Bits(values[i]), 8, bigEndian);
        }

        return data;
    }

    public static byte[] F16Bytes(float[] values, bool bigEndian = false)
    {
        var data = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++)
        {
            Put(data, i * 2, BitConverter.HalfToUInt16Bits((Half)values[i]), 2, bigEndian);
        }

        return data;
    }

    /// <summary>The values the script in NumPyFiles uses: (i - 2.5) / 4, exact in every float type.</summary>
    public static float[] Seq(int n)
    {
        var values = new float[n];
        for (int i = 0; i < n; i++)
        {
            values[i] = (float)((i - 2.5) / 4);
        }

        return values;
    }

    public static double[] SeqF64(int n) => Array.ConvertAll(Seq(n), v => (double)v);

    private static void Put(byte[] data, int p, ulong bits, int size, bool bigEndian)
    {
        for (int i = 0; i < size; i++)
        {
            data[p + (bigEndian ? size - 1 - i : i)] = (byte)(bits >> (8 * i));
        }
    }
}

/// <summary>Writes .npz (ZIP) archives in memory for tests, laid out as Python's zipfile writes them for np.savez.</summary>
public sealed class NpzBuilder
{
    private readonly List<(byte[] Name, bool Utf8, byte[] Content, bool Deflate)> _members = new();

    /// <summary>A 20-byte ZIP64 extra field in every local header, as np.savez's force_zip64 writes (default on).</summary>
    public bool Zip64LocalExtra { get; set; } = true;

    /// <summary>Central sizes and offsets written as 0xFFFFFFFF with the values in a ZIP64 extra field.</summary>
    public bool Zip64CentralExtra { get; set; }

    /// <summary>End-record counts, size and offset written as markers, with a ZIP64 end record and locator.</summary>
    public bool Zip64EndRecord { get; set; }

    public string Comment { get; set; } = "";

    // Where things landed in the last Build().
    public List<int> LocalHeaderOffsets { get; } = new();

    public List<int> DataOffsets { get; } = new();

    public List<int> CentralEntryOffsets { get; } = new();

    public int CentralDirectoryOffset { get; private set; }

    public int EocdOffset { get; private set; }

    public int Zip64RecordOffset { get; private set; } = -1;

    public NpzBuilder Add(string name, byte[] content, bool deflate = false)
    {
        bool ascii = true;
        foreach (char c in name)
        {
            ascii &= c < 0x80;
        }

        _members.Add((Encoding.UTF8.GetBytes(name), !ascii, content, deflate));
        return this;
    }

    public NpzBuilder AddRawName(byte[] name, bool utf8Flag, byte[] content, bool deflate = false)
    {
        _members.Add((name, utf8Flag, content, deflate));
        return this;
    }

    public byte[] Build()
    {
        LocalHeaderOffsets.Clear();
        DataOffsets.Clear();
        CentralEntryOffsets.Clear();
        var ms = new MemoryStream();
        var w = new BinaryWriter(ms);
        var central = new List<(byte[] Name, int Flags, int Method, uint Crc, long Compressed, long Size, long Offset)>();
        foreach (var (name, utf8, content, deflate) in _members)
        {
            byte[] data = deflate ? Deflate(content) : content;
            uint crc = Crc(content);
            int flags = utf8 ? 0x800 : 0;
            int method = deflate ? 8 : 0;
            LocalHeaderOffsets.Add((int)ms.Position);
            central.Add((name, flags, method, crc, data.Length, content.Length, ms.Position));
            w.Write(0x04034B50u);
            w.Write((ushort)(Zip64LocalExtra ? 45 : 20));
            w.Write((ushort)flags);
            w.Write((ushort)method);
            w.Write((ushort)0);      // time
            w.Write((ushort)0x21);   // date: 1980-01-01
            w.Write(crc);
            w.Write((uint)data.Length);
            w.Write((uint)content.Length);
            w.Write((ushort)name.Length);
            w.Write((ushort)(Zip64LocalExtra ? 20 : 0));
            w.Write(name);
            if (Zip64LocalExtra)
            {
                w.Write((ushort)1);
                w.Write((ushort)16);
                w.Write((ulong)content.Length);
                w.Write((ulong)data.Length);
            }

            DataOffsets.Add((int)ms.Position);
            w.Write(data);
        }

        CentralDirectoryOffset = (int)ms.Position;
        foreach (var (name, flags, method, crc, compressed, size, offset) in central)
        {
            CentralEntryOffsets.Add((int)ms.Position);
            w.Write(0x02014B50u);
            w.Write((ushort)0x314);  // made by: Unix, 2.0
            w.Write((ushort)(Zip64CentralExtra ? 45 : 20));
            w.Write((ushort)flags);
            w.Write((ushort)method);
            w.Write((ushort)0);
            w.Write((ushort)0x21);
            w.Write(crc);
            w.Write(Zip64CentralExtra ? 0xFFFFFFFFu : (uint)compressed);
            w.Write(Zip64CentralExtra ? 0xFFFFFFFFu : (uint)size);
            w.Write((ushort)name.Length);
            w.Write((ushort)(Zip64CentralExtra ? 28 : 0));
            w.Write((ushort)0);      // comment
            w.Write((ushort)0);      // disk
            w.Write((ushort)0);      // internal attributes
            w.Write(0x81A40000u);    // external attributes: -rw-r--r--
            w.Write(Zip64CentralExtra ? 0xFFFFFFFFu : (uint)offset);
            w.Write(name);
            if (Zip64CentralExtra)
            {
                w.Write((ushort)1);
                w.Write((ushort)24);
                w.Write((ulong)size);
                w.Write((ulong)compressed);
                w.Write((ulong)offset);
            }
        }

        int directoryEnd = (int)ms.Position;
        int count = central.Count;
        Zip64RecordOffset = -1;
        if (Zip64EndRecord)
        {
            Zip64RecordOffset = directoryEnd;
            w.Write(0x06064B50u);
            w.Write(44UL);
            w.Write((ushort)45);
            w.Write((ushort)45);
            w.Write(0u);
            w.Write(0u);
            w.Write((ulong)count);
            w.Write((ulong)count);
            w.Write((ulong)(directoryEnd - CentralDirectoryOffset));
            w.Write((ulong)CentralDirectoryOffset);
            w.Write(0x07064B50u);
            w.Write(0u);
            w.Write((ulong)Zip64RecordOffset);
            w.Write(1u);
        }

        EocdOffset = (int)ms.Position;
        byte[] comment = Encoding.ASCII.GetBytes(Comment);
        w.Write(0x06054B50u);
        w.Write((ushort)0);
        w.Write((ushort)0);
        w.Write((ushort)(Zip64EndRecord ? 0xFFFF : count));
        w.Write((ushort)(Zip64EndRecord ? 0xFFFF : count));
        w.Write(Zip64EndRecord ? 0xFFFFFFFFu : (uint)(directoryEnd - CentralDirectoryOffset));
        w.Write(Zip64EndRecord ? 0xFFFFFFFFu : (uint)CentralDirectoryOffset);
        w.Write((ushort)comment.Length);
        w.Write(comment);
        w.Flush();
        return ms.ToArray();
    }

    public static byte[] Deflate(byte[] content)
    {
        var ms = new MemoryStream();
        using (var deflater = new DeflateStream(ms, CompressionLevel.Optimal, leaveOpen: true))
        {
            deflater.Write(content, 0, content.Length);
        }

        return ms.ToArray();
    }

    /// <summary>CRC-32 bit by bit, independent of the reader's table.</summary>
    public static uint Crc(byte[] bytes)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in bytes)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
            {
                crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
            }
        }

        return ~crc;
    }

    public static void PutU16(byte[] bytes, int at, int value)
    {
        bytes[at] = (byte)value;
        bytes[at + 1] = (byte)(value >> 8);
    }

    public static void PutU32(byte[] bytes, int at, uint value)
    {
        for (int i = 0; i < 4; i++)
        {
            bytes[at + i] = (byte)(value >> (8 * i));
        }
    }

    public static void PutU64(byte[] bytes, int at, ulong value)
    {
        for (int i = 0; i < 8; i++)
        {
            bytes[at + i] = (byte)(value >> (8 * i));
        }
    }
}

/// <summary>The files NumPyFiles/make_npy_files.py wrote with NumPy itself, read from the source tree.</summary>
public static class NumPyFiles
{
    public static string Directory => Path.Combine(Path.GetDirectoryName(ThisFile())!, "NumPyFiles");

    public static byte[] Read(string name) => File.ReadAllBytes(Path.Combine(Directory, name));

    private static string ThisFile([CallerFilePath] string path = "") => path;
}
