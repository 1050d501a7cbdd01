using System;
using System.Collections.Generic;
using System.Text;
using StaticRnn.Generators.Weights;
using Xunit;

namespace StaticRnn.Generators.Tests.Weights;

public class SafeTensorsFuzzTests
{
    private const int Mutations = 2000;

    private static byte[] BaseFile() => new SafeTensorsBuilder()
        .Metadata("format", "pt")
        .Metadata("note", "quote \" backslash \\ newline \n é 😀")
        .AddF32("rnn.weight_ih_l0", new long[] { 4, 2 }, 1, 2, 3, 4, 5, 6, 7, 8)
        .AddF16Bits("rnn.bias \"odd\"\nname", new long[] { 3 }, 0x3C00, 0x0001, 0x7C00)
        .AddBF16Bits("模型.bf16", new long[] { 1, 2 }, 0x3F80, 0xFF81)
        .AddF64("fc.weight", new long[] { 2 }, 0.5, -1e300)
        .AddF32("scalar", Array.Empty<long>(), 42f)
        .AddF32("empty", new long[] { 0, 3 })
        .Build();

    /// <summary>Reads and checks the never-throw contract and the invariants of any file it returns.</summary>
    private static WeightFileErrorKind? CheckContract(byte[] bytes, string what)
    {
        WeightFile? file;
        WeightFileError? error;
        try
        {
            file = SafeTensorsReader.Read(bytes, out error);
        }
        catch (Exception ex)
        {
            throw new Xunit.Sdk.XunitException($"Read threw for {what}: {ex}");
        }

        Assert.True((file is null) != (error is null), $"exactly one of file/error must be set ({what})");
        if (error is not null)
        {
            Assert.False(string.IsNullOrEmpty(error.Message));
            return error.Kind;
        }

        var ranges = new List<(long Begin, long End)>();
        foreach (TensorEntry t in file!.Tensors)
        {
            Assert.InRange(t.Shape.Count, 0, 8);
            long count = 1;
            foreach (int d in t.Shape)
            {
                Assert.True(d >= 0);
                count *= d;
            }

            Assert.Equal(count, t.ElementCount);
            Assert.Equal((long)t.ElementCount * FloatConversion.ElementSize(t.DType), t.ByteLength);
            Assert.True(t.DataOffset >= 8 && t.DataOffset + t.ByteLength <= bytes.Length);
            Assert.Same(t, file.Find(t.Name));
            Assert.Equal(t.ElementCount, file.ReadFloat32(t).Length);
            if (t.ByteLength > 0)
            {
                ranges.Add((t.DataOffset, t.DataOffset + t.ByteLength));
            }
        }

        ranges.Sort();
        for (int i = 1; i < ranges.Count; i++)
        {
            Assert.True(ranges[i].Begin >= ranges[i - 1].End, "tensor byte ranges overlap");
        }

        return null;
    }

    [Fact]
    public void BaseFile_IsValid()
    {
        Assert.Null(CheckContract(BaseFile(), "the base file"));
    }

    [Fact]
    public void RandomCorruption_NeverThrows()
    {
        byte[] original = BaseFile();
        int headerLength = (int)BitConverter.ToUInt64(original, 0);
        var random = new Random(20240611);
        var kinds = new Dictionary<string, int>();
        string[] jsonTokens =
        {
            "{", "}", "[", "]", "\"", ",", ":", "\\", "\\u", "\\ud83d", "\\udc00", "-", "0", "1", "9", ".", "e", "E", "+",
            "-0", "1.5", "1e400", "99999999999999999999", "4294967296", "2147483648", "true", "null", " ", "\n",
            "\"F32\"", "\"I64\"", "\"BF16\"", "\"dtype\"", "\"shape\"", "\"data_offsets\"", "\"__metadata__\"",
            "[0,0]", "[]", "[1,2,3,4,5,6,7,8,9]", "{}", "\u00e9", "\u0000", "\u0001",
        };

        for (int iteration = 0; iteration < Mutations; iteration++)
        {
            byte[] bytes = (byte[])original.Clone();
            int header = headerLength; // the JSON length the text edits keep the prefix in sync with
            int steps = 1 + random.Next(3);
            var applied = new StringBuilder();
            for (int s = 0; s < steps; s++)
            {
                int op = random.Next(8);
                applied.Append(op).Append(' ');
                switch (op)
                {
                    case 0: // flip random bits
                        if (bytes.Length > 0)
                        {
                            bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                        }

                        break;

                    case 1: // random byte anywhere, most often in the header
                        if (bytes.Length > 8)
                        {
                            int limit = random.Next(4) == 0 ? bytes.Length : Math.Min(bytes.Length, 8 + headerLength);
                            bytes[random.Next(limit)] = (byte)random.Next(256);
                        }

                        break;

                    case 2: // truncate
                        Array.Resize(ref bytes, random.Next(bytes.Length + 1));
                        break;

                    case 3: // insert random bytes
                    {
                        int at = random.Next(bytes.Length + 1);
                        var extra = new byte[1 + random.Next(8)];
                        random.NextBytes(extra);
                        bytes = Splice(bytes, at, 0, extra);
                        break;
                    }

                    case 4: // rewrite the header length
                    {
                        if (bytes.Length < 8)
                        {
                            break;
                        }

                        ulong value = random.Next(6) switch
                        {
                            0 => (ulong)(headerLength + random.Next(-16, 17)),
                            1 => (ulong)random.Next(bytes.Length + 1),
                            2 => (ulong)random.NextInt64(),
                            3 => ulong.MaxValue - (ulong)random.Next(4),
                            4 => 100_000_000UL + (ulong)random.Next(-2, 3),
                            _ => (ulong)(bytes.Length - 8 - random.Next(3)),
                        };
                        for (int i = 0; i < 8; i++)
                        {
                            bytes[i] = (byte)(value >> (8 * i));
                        }

                        break;
                    }

                    case 5: // replace a piece of the JSON with a JSON-significant token (header length kept in sync)
                    case 6: // insert a token into the JSON
                    {
                        if (bytes.Length < 8 + header)
                        {
                            break;
                        }

                        byte[] token = Encoding.UTF8.GetBytes(jsonTokens[random.Next(jsonTokens.Length)]);
                        int at = 8 + random.Next(header);
                        int remove = op == 5 ? Math.Min(random.Next(1, 6), 8 + header - at) : 0;
                        bytes = Splice(bytes, at, remove, token);
                        header = header - remove + token.Length;
                        WriteHeaderLength(bytes, (ulong)header);
                        break;
                    }

                    default: // delete or duplicate a span of the JSON (header length kept in sync)
                    {
                        if (bytes.Length < 8 + header)
                        {
                            break;
                        }

                        int at = 8 + random.Next(header);
                        int length = Math.Min(1 + random.Next(24), 8 + header - at);
                        byte[] span = new byte[length];
                        Buffer.BlockCopy(bytes, at, span, 0, length);
                        bool delete = random.Next(2) == 0;
                        bytes = delete ? Splice(bytes, at, length, Array.Empty<byte>()) : Splice(bytes, at, 0, span);
                        header += delete ? -length : length;
                        WriteHeaderLength(bytes, (ulong)header);
                        break;
                    }
                }
            }

            WeightFileErrorKind? kind = CheckContract(bytes, $"iteration {iteration}, ops {applied}");
            string key = kind?.ToString() ?? "ok";
            kinds[key] = kinds.TryGetValue(key, out int n) ? n + 1 : 1;
        }

        // The mutations reach well past the first checks.
        Assert.True(kinds.ContainsKey("ok"));
        Assert.True(kinds.ContainsKey(nameof(WeightFileErrorKind.InvalidJson)));
        Assert.True(kinds.ContainsKey(nameof(WeightFileErrorKind.HeaderLength)));
        Assert.True(kinds.Count >= 6, string.Join(", ", kinds));
    }

    [Fact]
    public void RandomBytes_NeverThrow()
    {
        var random = new Random(7);
        for (int i = 0; i < 500; i++)
        {
            var bytes = new byte[random.Next(64)];
            random.NextBytes(bytes);
            if (bytes.Length >= 8 && random.Next(2) == 0)
            {
                WriteHeaderLength(bytes, (ulong)random.Next(bytes.Length - 7));
            }

            CheckContract(bytes, $"random file {i}");
        }
    }

    [Fact]
    public void EveryTruncation_NeverThrows()
    {
        byte[] original = BaseFile();
        for (int length = 0; length <= original.Length; length++)
        {
            CheckContract(original.AsSpan(0, length).ToArray(), $"truncated to {length}");
        }
    }

    [Fact]
    public void EverySingleByteInTheHeader_ReplacedByEachJsonSymbol_NeverThrows()
    {
        byte[] original = BaseFile();
        int headerLength = (int)BitConverter.ToUInt64(original, 0);
        byte[] symbols = Encoding.ASCII.GetBytes("{}[]\":,\\-0.e ");
        for (int at = 8; at < 8 + headerLength; at++)
        {
            foreach (byte symbol in symbols)
            {
                byte[] bytes = (byte[])original.Clone();
                bytes[at] = symbol;
                CheckContract(bytes, $"byte {at} = '{(char)symbol}'");
            }
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

    private static void WriteHeaderLength(byte[] bytes, ulong value)
    {
        for (int i = 0; i < 8; i++)
        {
            bytes[i] = (byte)(value >> (8 * i));
        }
    }
}
