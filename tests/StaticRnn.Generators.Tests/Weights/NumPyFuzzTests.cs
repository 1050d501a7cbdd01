using System;
using System.Collections.Generic;
using System.Text;
using StaticRnn.Generators.Weights;
using Xunit;

namespace StaticRnn.Generators.Tests.Weights;

/// <summary>Random corruption of valid .npy and .npz files: the readers never throw, and what they accept is consistent.</summary>
public class NumPyFuzzTests
{
    private const int Mutations = 3000;

    private static readonly string[] s_headerTokens =
    {
        "{", "}", "(", ")", "[", "]", "'", "\"", ",", ":", "\\", "\\x", "\\u00", "u'", "L", "-", "+", "0", "1", "9", ".",
        "True", "False", "None", "true", " ", "\n", "\t", "'descr'", "'shape'", "'fortran_order'", "'<f4'", "'>f8'", "'<f2'",
        "'|O'", "'<i8'", "'=f4'", "(2, 3)", "(5,)", "()", "(0,)", "(2147483648,)", "99999999999999999999", "\u00e9", "\u0000",
    };

    private static readonly string[] s_descrs = { "<f4", ">f4", "<f8", ">f8", "<f2", ">f2", "=f4", "|O", "<i8", "|b1", "<c16" };

    private static readonly string[] s_shapes =
    {
        "()", "(6,)", "(2, 3)", "(3, 2)", "(1, 6)", "(0, 3)", "(24,)", "(2, 3, 4)", "(5,)", "(3,)", "(2147483648,)", "(65536, 65536)", "(-1,)",
    };

    /// <summary>Reads and checks the never-throw contract and the invariants of any file it returns.</summary>
    private static WeightFileErrorKind? CheckContract(byte[] bytes, bool npz, string what)
    {
        WeightFile? file;
        WeightFileError? error;
        try
        {
            file = npz ? NpzReader.Read(bytes, out error) : NpyReader.Read(bytes, "t", out error);
        }
        catch (Exception ex)
        {
            throw new Xunit.Sdk.XunitException($"Read threw for {what}: {ex}");
        }

        Assert.True((file is null) != (error is null), $"exactly one of file/error must be set ({what})");
        if (error is not null)
        {
            Assert.False(string.IsNullOrEmpty(error.Message));
            Assert.DoesNotContain('\n', error.Message);
            return error.Kind;
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (TensorEntry t in file!.Tensors)
        {
            Assert.True(names.Add(t.Name), $"duplicate name {t.Name} ({what})");
            Assert.InRange(t.Shape.Count, 0, 8);
            long count = 1;
            foreach (int d in t.Shape)
            {
                Assert.True(d >= 0);
                count *= d;
            }

            Assert.Equal(count, t.ElementCount);
            Assert.Equal((long)t.ElementCount * FloatConversion.ElementSize(t.DType), t.ByteLength);
            Assert.Same(t, file.Find(t.Name));
            float[] values = file.ReadFloat32(t);
            Assert.Equal(t.ElementCount, values.Length);
            if (t.FileOffset is long offset)
            {
                Assert.InRange(offset, 0, bytes.Length - t.ByteLength);
                NpyReaderTests.AssertBits(FloatConversion.ToFloat32(bytes, (int)offset, t.ElementCount, t.DType), values);
            }
        }

        return null;
    }

    private static void Record(Dictionary<string, int> kinds, WeightFileErrorKind? kind)
    {
        string key = kind?.ToString() ?? "ok";
        kinds[key] = kinds.TryGetValue(key, out int n) ? n + 1 : 1;
    }

    // ---- .npy -------------------------------------------------------------------------------

    private static byte[][] NpyBases() => new[]
    {
        NpyBuilder.F32("(2, 3)", NpyBuilder.Seq(6)),
        NpyBuilder.Build(NpyBuilder.Header(">f2", "(3,)"), NpyBuilder.F16Bytes(NpyBuilder.Seq(3), bigEndian: true), major: 2),
        NumPyFiles.Read("f4_2x3x4_v3.npy"),
        NumPyFiles.Read("f8_be_5.npy"),
        NumPyFiles.Read("f4_scalar.npy"),
    };

    [Fact]
    public void Npy_BasesAreValid()
    {
        foreach (byte[] b in NpyBases())
        {
            Assert.Null(CheckContract(b, npz: false, "a base file"));
        }
    }

    [Fact]
    public void Npy_RandomCorruption_NeverThrows()
    {
        byte[][] bases = NpyBases();
        var random = new Random(20240612);
        var kinds = new Dictionary<string, int>();
        for (int iteration = 0; iteration < Mutations; iteration++)
        {
            byte[] bytes = (byte[])bases[iteration % bases.Length].Clone();
            int prefix = bytes[6] == 1 ? 10 : 12;
            int header = prefix == 10 ? BitConverter.ToUInt16(bytes, 8) : BitConverter.ToInt32(bytes, 8);
            int steps = 1 + random.Next(3);
            var applied = new StringBuilder();
            for (int s = 0; s < steps; s++)
            {
                int op = random.Next(10);
                applied.Append(op).Append(' ');
                switch (op)
                {
                    case 9: // a new header dict from plausible pieces, over the same data (length kept in sync)
                    {
                        if (bytes.Length < prefix + header)
                        {
                            break;
                        }

                        string dict = NpyBuilder.Header(
                            s_descrs[random.Next(s_descrs.Length)], s_shapes[random.Next(s_shapes.Length)], fortran: random.Next(4) == 0);
                        byte[] text = Encoding.UTF8.GetBytes(dict + new string(' ', random.Next(8)) + "\n");
                        bytes = Splice(bytes, prefix, header, text);
                        header = text.Length;
                        WriteHeaderLength(bytes, prefix, header);
                        break;
                    }

                    case 0: // flip a bit
                        if (bytes.Length > 0)
                        {
                            bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                        }

                        break;

                    case 1: // a random byte, most often in the header
                        if (bytes.Length > prefix)
                        {
                            int limit = random.Next(4) == 0 ? bytes.Length : Math.Min(bytes.Length, prefix + header);
                            bytes[random.Next(limit)] = (byte)random.Next(256);
                        }

                        break;

                    case 2: // truncate
                        bytes = bytes.AsSpan(0, random.Next(bytes.Length + 1)).ToArray();
                        break;

                    case 3: // append or insert bytes in the data
                    {
                        var extra = new byte[1 + random.Next(8)];
                        random.NextBytes(extra);
                        bytes = Splice(bytes, random.Next(2) == 0 ? bytes.Length : random.Next(bytes.Length + 1), 0, extra);
                        break;
                    }

                    case 4: // rewrite the version or the header length
                        if (bytes.Length >= prefix)
                        {
                            if (random.Next(3) == 0)
                            {
                                bytes[6 + random.Next(2)] = (byte)random.Next(5);
                            }
                            else
                            {
                                long value = random.Next(5) switch
                                {
                                    0 => header + random.Next(-8, 9),
                                    1 => random.Next(bytes.Length + 1),
                                    2 => 0xFFFF,
                                    3 => 100_000_000 + random.Next(-2, 3),
                                    _ => uint.MaxValue,
                                };
                                for (int i = 0; i < prefix - 8; i++)
                                {
                                    bytes[8 + i] = (byte)(value >> (8 * i));
                                }
                            }
                        }

                        break;

                    case 5: // replace a piece of the header with a token (length kept in sync)
                    case 6: // insert a token
                    case 7: // overwrite in place
                    {
                        if (bytes.Length < prefix + header || header == 0)
                        {
                            break;
                        }

                        byte[] token = Encoding.UTF8.GetBytes(s_headerTokens[random.Next(s_headerTokens.Length)]);
                        int at = prefix + random.Next(header);
                        if (op == 7)
                        {
                            int n = Math.Min(token.Length, prefix + header - at);
                            Buffer.BlockCopy(token, 0, bytes, at, n);
                            break;
                        }

                        int remove = op == 5 ? Math.Min(random.Next(1, 6), prefix + header - at) : 0;
                        bytes = Splice(bytes, at, remove, token);
                        header = header - remove + token.Length;
                        WriteHeaderLength(bytes, prefix, header);
                        break;
                    }

                    default: // delete or duplicate a span of the header (length kept in sync)
                    {
                        if (bytes.Length < prefix + header || header == 0)
                        {
                            break;
                        }

                        int at = prefix + random.Next(header);
                        int length = Math.Min(1 + random.Next(16), prefix + header - at);
                        byte[] span = bytes.AsSpan(at, length).ToArray();
                        bool delete = random.Next(2) == 0;
                        bytes = delete ? Splice(bytes, at, length, Array.Empty<byte>()) : Splice(bytes, at, 0, span);
                        header += delete ? -length : length;
                        WriteHeaderLength(bytes, prefix, header);
                        break;
                    }
                }
            }

            Record(kinds, CheckContract(bytes, npz: false, $"iteration {iteration}, ops {applied}"));
        }

        Assert.True(kinds.ContainsKey("ok"), string.Join(", ", kinds));
        Assert.True(kinds.ContainsKey(nameof(WeightFileErrorKind.InvalidHeader)), string.Join(", ", kinds));
        Assert.True(kinds.ContainsKey(nameof(WeightFileErrorKind.Truncated)), string.Join(", ", kinds));
        Assert.True(kinds.ContainsKey(nameof(WeightFileErrorKind.ShapeMismatch)), string.Join(", ", kinds));
        Assert.True(kinds.ContainsKey(nameof(WeightFileErrorKind.HeaderLength)), string.Join(", ", kinds));
        Assert.True(kinds.ContainsKey(nameof(WeightFileErrorKind.UnsupportedDType)), string.Join(", ", kinds));
        Assert.True(kinds.ContainsKey(nameof(WeightFileErrorKind.ObjectArray)), string.Join(", ", kinds));
        Assert.True(kinds.ContainsKey(nameof(WeightFileErrorKind.FortranOrder)), string.Join(", ", kinds));
        Assert.True(kinds.ContainsKey(nameof(WeightFileErrorKind.TooLarge)), string.Join(", ", kinds));
    }

    [Fact]
    public void Npy_RandomBytes_NeverThrow()
    {
        var random = new Random(11);
        byte[] magic = NpyBuilder.F32("()", 1f).AsSpan(0, 8).ToArray();
        for (int i = 0; i < 1000; i++)
        {
            var bytes = new byte[random.Next(200)];
            random.NextBytes(bytes);
            if (bytes.Length >= 12 && random.Next(2) == 0)
            {
                magic.CopyTo(bytes, 0);
                bytes[6] = (byte)(1 + random.Next(3));
                WriteHeaderLength(bytes, bytes[6] == 1 ? 10 : 12, random.Next(bytes.Length - 11));
            }

            CheckContract(bytes, npz: false, $"random file {i}");
        }
    }

    // ---- .npz -------------------------------------------------------------------------------

    private sealed class NpzBase
    {
        public NpzBase(byte[] bytes, List<int> fields, List<(int Offset, int Length)> storedNpyHeaders, List<(int Central, int Data, int Length)> stored)
        {
            Bytes = bytes;
            Fields = fields;
            StoredNpyHeaders = storedNpyHeaders;
            Stored = stored;
        }

        public byte[] Bytes { get; }

        /// <summary>Offsets of the archive's structure fields (sizes, offsets, counts, flags, methods, lengths).</summary>
        public List<int> Fields { get; }

        /// <summary>The .npy headers of stored members, where the bytes can be edited in place.</summary>
        public List<(int Offset, int Length)> StoredNpyHeaders { get; }

        /// <summary>Stored members: their central entry, data and length, to recompute their CRCs after an edit.</summary>
        public List<(int Central, int Data, int Length)> Stored { get; }
    }

    private static NpzBase Describe(NpzBuilder builder, byte[] bytes, bool[] deflated, byte[][] contents)
    {
        var fields = new List<int>();
        var headers = new List<(int, int)>();
        var stored = new List<(int, int, int)>();
        for (int i = 0; i < builder.LocalHeaderOffsets.Count; i++)
        {
            foreach (int f in new[] { 6, 8, 14, 18, 22, 26, 28 })
            {
                fields.Add(builder.LocalHeaderOffsets[i] + f);
            }

            foreach (int f in new[] { 8, 10, 16, 20, 24, 28, 30, 32, 34, 42, 46 + 0 })
            {
                fields.Add(builder.CentralEntryOffsets[i] + f);
            }

            if (!deflated[i])
            {
                int headerLength = BitConverter.ToUInt16(contents[i], 8);
                headers.Add((builder.DataOffsets[i] + 10, headerLength));
                stored.Add((builder.CentralEntryOffsets[i], builder.DataOffsets[i], contents[i].Length));
            }
        }

        foreach (int f in new[] { 4, 6, 8, 10, 12, 16, 20 })
        {
            fields.Add(builder.EocdOffset + f);
        }

        if (builder.Zip64RecordOffset >= 0)
        {
            foreach (int f in new[] { 4, 16, 20, 24, 32, 40, 48, 56 + 4, 56 + 8, 56 + 16 })
            {
                fields.Add(builder.Zip64RecordOffset + f);
            }
        }

        return new NpzBase(bytes, fields, headers, stored);
    }

    private static NpzBase BuiltBase(bool zip64, bool deflateAll)
    {
        byte[][] contents =
        {
            NpyBuilder.F32("(2, 2)", 1f, -2f, 3.5f, float.NaN),
            NpyBuilder.Build(NpyBuilder.Header(">f8", "(2,)"), NpyBuilder.F64Bytes(new[] { 1e-3, -7.0 }, bigEndian: true)),
            NpyBuilder.Build(NpyBuilder.Header("<f2", "(3,)"), NpyBuilder.F16Bytes(NpyBuilder.Seq(3))),
            NpyBuilder.F32("()", 42f),
        };
        string[] names = { "lstm/kernel:0.npy", "be.npy", "h/a/l/f.npy", "s.npy" };
        bool[] deflated = { deflateAll, deflateAll, true, deflateAll };
        var builder = new NpzBuilder { Zip64CentralExtra = zip64, Zip64EndRecord = zip64 };
        for (int i = 0; i < contents.Length; i++)
        {
            builder.Add(names[i], contents[i], deflated[i]);
        }

        byte[] bytes = builder.Build();
        return Describe(builder, bytes, deflated, contents);
    }

    private static NpzBase[] NpzBases()
    {
        // The real files: their layout found from their own central directories.
        var bases = new List<NpzBase> { BuiltBase(false, false), BuiltBase(true, false), BuiltBase(false, true), BuiltBase(true, true) };
        foreach (string name in new[] { "keras_stored.npz", "little_endian.npz" })
        {
            byte[] bytes = NumPyFiles.Read(name);
            var fields = new List<int>();
            var headers = new List<(int, int)>();
            var stored = new List<(int, int, int)>();
            int eocd = bytes.Length - 22;
            int count = BitConverter.ToUInt16(bytes, eocd + 10);
            int p = BitConverter.ToInt32(bytes, eocd + 16);
            for (int i = 0; i < count; i++)
            {
                int local = BitConverter.ToInt32(bytes, p + 42);
                int data = local + 30 + BitConverter.ToUInt16(bytes, local + 26) + BitConverter.ToUInt16(bytes, local + 28);
                fields.AddRange(new[] { p + 10, p + 20, p + 24, p + 28, p + 30, p + 42, local + 6, local + 26, local + 28 });
                headers.Add((data + 10, BitConverter.ToUInt16(bytes, data + 8)));
                stored.Add((p, data, BitConverter.ToInt32(bytes, p + 24)));
                p += 46 + BitConverter.ToUInt16(bytes, p + 28) + BitConverter.ToUInt16(bytes, p + 30) + BitConverter.ToUInt16(bytes, p + 32);
            }

            fields.AddRange(new[] { eocd + 8, eocd + 10, eocd + 12, eocd + 16, eocd + 20 });
            bases.Add(new NpzBase(bytes, fields, headers, stored));
        }

        return bases.ToArray();
    }

    [Fact]
    public void Npz_BasesAreValid()
    {
        foreach (NpzBase b in NpzBases())
        {
            Assert.Null(CheckContract(b.Bytes, npz: true, "a base file"));
        }
    }

    [Fact]
    public void Npz_RandomCorruption_NeverThrows()
    {
        NpzBase[] bases = NpzBases();
        var random = new Random(20240613);
        var kinds = new Dictionary<string, int>();
        for (int iteration = 0; iteration < Mutations; iteration++)
        {
            NpzBase b = bases[iteration % bases.Length];
            byte[] bytes = (byte[])b.Bytes.Clone();
            bool layoutKept = true; // no bytes inserted or removed: the recorded offsets still hold
            bool fixCrcs = random.Next(3) != 0;
            int steps = 1 + random.Next(3);
            var applied = new StringBuilder();
            for (int s = 0; s < steps; s++)
            {
                int op = random.Next(8);
                applied.Append(op).Append(' ');
                switch (op)
                {
                    case 0: // flip a bit
                        bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                        break;

                    case 1: // a random byte
                        bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                        break;

                    case 2: // truncate
                        bytes = bytes.AsSpan(0, random.Next(bytes.Length + 1)).ToArray();
                        layoutKept = false;
                        break;

                    case 3: // insert or delete bytes
                    {
                        int at = random.Next(bytes.Length + 1);
                        if (random.Next(2) == 0)
                        {
                            var extra = new byte[1 + random.Next(8)];
                            random.NextBytes(extra);
                            bytes = Splice(bytes, at, 0, extra);
                        }
                        else
                        {
                            bytes = Splice(bytes, at, Math.Min(bytes.Length - at, 1 + random.Next(8)), Array.Empty<byte>());
                        }

                        layoutKept = false;
                        break;
                    }

                    case 4: // rewrite a structure field
                    case 5:
                    {
                        if (!layoutKept)
                        {
                            break;
                        }

                        int at = b.Fields[random.Next(b.Fields.Count)];
                        int width = random.Next(3) switch { 0 => 2, 1 => 4, _ => 8 };
                        ulong old = 0;
                        for (int i = 0; i < width && at + i < bytes.Length; i++)
                        {
                            old |= (ulong)bytes[at + i] << (8 * i);
                        }

                        ulong value = random.Next(8) switch
                        {
                            0 => 0,
                            1 => 1,
                            2 => 0xFFFF,
                            3 => 0xFFFF_FFFF,
                            4 => old + 1,
                            5 => old - 1,
                            6 => (ulong)random.NextInt64(),
                            _ => (ulong)random.Next(bytes.Length + 64),
                        };
                        for (int i = 0; i < width && at + i < bytes.Length; i++)
                        {
                            bytes[at + i] = (byte)(value >> (8 * i));
                        }

                        break;
                    }

                    default: // edit a stored member's .npy header in place (its CRC fixed below, mostly)
                    {
                        if (!layoutKept || b.StoredNpyHeaders.Count == 0)
                        {
                            break;
                        }

                        var (offset, length) = b.StoredNpyHeaders[random.Next(b.StoredNpyHeaders.Count)];
                        byte[] token = Encoding.UTF8.GetBytes(s_headerTokens[random.Next(s_headerTokens.Length)]);
                        int at = offset + random.Next(length);
                        Buffer.BlockCopy(token, 0, bytes, at, Math.Min(token.Length, offset + length - at));
                        break;
                    }
                }
            }

            if (layoutKept && fixCrcs)
            {
                foreach (var (central, data, length) in b.Stored)
                {
                    NpzBuilder.PutU32(bytes, central + 16, NpzBuilder.Crc(bytes.AsSpan(data, length).ToArray()));
                }
            }

            Record(kinds, CheckContract(bytes, npz: true, $"iteration {iteration}, ops {applied}"));
        }

        string seen = string.Join(", ", kinds);
        foreach (WeightFileErrorKind kind in new[]
        {
            WeightFileErrorKind.InvalidArchive, WeightFileErrorKind.ChecksumMismatch, WeightFileErrorKind.InvalidHeader,
            WeightFileErrorKind.UnsupportedCompression, WeightFileErrorKind.Truncated,
        })
        {
            Assert.True(kinds.ContainsKey(kind.ToString()), $"{kind} never occurred: {seen}");
        }

        Assert.True(kinds.ContainsKey("ok"), seen);
        Assert.True(kinds.Count >= 9, seen);
    }

    [Fact]
    public void Npz_RandomBytes_NeverThrow()
    {
        var random = new Random(12);
        byte[] valid = BuiltBase(false, false).Bytes;
        for (int i = 0; i < 1000; i++)
        {
            var bytes = new byte[random.Next(300)];
            random.NextBytes(bytes);
            if (bytes.Length >= 22 && random.Next(2) == 0)
            {
                // Keep a plausible end record so the directory parsing gets random input.
                Buffer.BlockCopy(valid, valid.Length - 22, bytes, bytes.Length - 22, 22);
                NpzBuilder.PutU32(bytes, bytes.Length - 6, (uint)random.Next(bytes.Length));
                NpzBuilder.PutU32(bytes, bytes.Length - 10, (uint)random.Next(bytes.Length));
            }

            CheckContract(bytes, npz: true, $"random file {i}");
        }
    }

    private static byte[] Splice(byte[] bytes, int at, int remove, byte[] insert)
    {
        var result = new byte[bytes.Length - remove + insert.Length];
        Buffer.BlockCopy(bytes, 0, result, 0, at);
        Buffer.BlockCopy(insert, 0, result, at, insert.Length);
        Buffer.BlockCopy(bytes, at + remove, result, at + insert.Length, bytes.Length - at - remove);
        return result;
    }

    private static void WriteHeaderLength(byte[] bytes, int prefix, int value)
    {
        for (int i = 0; i < prefix - 8 && 8 + i < bytes.Length; i++)
        {
            bytes[8 + i] = (byte)(value >> (8 * i));
        }
    }
}
