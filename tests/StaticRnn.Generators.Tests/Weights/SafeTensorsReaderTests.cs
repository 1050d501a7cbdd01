using System;
using System.Linq;
using System.Text;
using StaticRnn.Generators.Weights;
using Xunit;

namespace StaticRnn.Generators.Tests.Weights;

public class SafeTensorsReaderTests
{
    internal static WeightFile ReadValid(byte[] bytes)
    {
        WeightFile? file = SafeTensorsReader.Read(bytes, out WeightFileError? error);
        Assert.True(error is null, error?.ToString());
        Assert.NotNull(file);
        return file!;
    }

    private static void AssertSameBits(float expected, float actual, string what)
    {
        Assert.True(
            BitConverter.SingleToUInt32Bits(expected) == BitConverter.SingleToUInt32Bits(actual),
            $"{what}: expected {expected:R} (0x{BitConverter.SingleToUInt32Bits(expected):X8}) but got {actual:R} (0x{BitConverter.SingleToUInt32Bits(actual):X8})");
    }

    [Fact]
    public void F32_RoundTripsBitExactly()
    {
        float[] values =
        {
            0f, -0f, 1f, -1.5f, 3.14159274f, float.Epsilon, -float.Epsilon, 1.17549435E-38f,
            float.MaxValue, float.MinValue, float.PositiveInfinity, float.NegativeInfinity, float.NaN,
            BitConverter.UInt32BitsToSingle(0x7FA0_0001), // signalling NaN with payload
        };
        byte[] bytes = new SafeTensorsBuilder().AddF32("w", new long[] { 2, 7 }, values).Build();

        WeightFile file = ReadValid(bytes);
        TensorEntry t = Assert.Single(file.Tensors);
        Assert.Equal("w", t.Name);
        Assert.Equal(TensorDType.F32, t.DType);
        Assert.Equal(new[] { 2, 7 }, t.Shape);
        Assert.Equal(14, t.ElementCount);
        Assert.Equal(56, t.ByteLength);
        Assert.Equal(bytes.Length - 56, t.DataOffset);

        float[] read = file.ReadFloat32(t);
        Assert.Equal(values.Length, read.Length);
        for (int i = 0; i < values.Length; i++)
        {
            AssertSameBits(values[i], read[i], $"element {i}");
        }
    }

    [Fact]
    public void F64_ConvertsByFloatCast()
    {
        double[] values =
        {
            0.0, -0.0, 1.0, 0.1, -2.5e-40, 1e-50, 1e300, -1e300, double.Epsilon, 3.4028235677973366e38,
            1.0000000596046448, // exactly halfway between two floats: ties to even
            double.PositiveInfinity, double.NegativeInfinity, double.NaN,
        };
        WeightFile file = ReadValid(new SafeTensorsBuilder().AddF64("d", new long[] { values.Length }, values).Build());

        TensorEntry t = file.Tensors[0];
        Assert.Equal(TensorDType.F64, t.DType);
        Assert.Equal(values.Length * 8, t.ByteLength);
        float[] read = file.ReadFloat32(t);
        for (int i = 0; i < values.Length; i++)
        {
            float expected = (float)values[i];
            if (float.IsNaN(expected))
            {
                Assert.True(float.IsNaN(read[i]));
            }
            else
            {
                AssertSameBits(expected, read[i], $"element {i} ({values[i]:R})");
            }
        }
    }

    [Fact]
    public void F16_AllBitPatternsThroughAFile_MatchSystemHalf()
    {
        ushort[] bits = Enumerable.Range(0, 65536).Select(i => (ushort)i).ToArray();
        WeightFile file = ReadValid(new SafeTensorsBuilder().AddF16Bits("h", new long[] { 256, 256 }, bits).Build());

        float[] read = file.ReadFloat32(file.Tensors[0]);
        Assert.Equal(65536, read.Length);
        for (int i = 0; i < bits.Length; i++)
        {
            float expected = (float)BitConverter.UInt16BitsToHalf(bits[i]);
            if (float.IsNaN(expected))
            {
                Assert.True(float.IsNaN(read[i]), $"0x{bits[i]:X4}");
                Assert.Equal(float.IsNegative(expected), float.IsNegative(read[i]));
            }
            else
            {
                AssertSameBits(expected, read[i], $"0x{bits[i]:X4}");
            }
        }
    }

    [Fact]
    public void F16_SpecialValuesFromSystemHalf()
    {
        Half[] halves =
        {
            (Half)0.0f, (Half)(-0.0f), (Half)1.0f, (Half)(-65504f), Half.Epsilon, -Half.Epsilon,
            BitConverter.UInt16BitsToHalf(0x03FF), BitConverter.UInt16BitsToHalf(0x0200),
            Half.PositiveInfinity, Half.NegativeInfinity, Half.NaN, (Half)0.1f,
        };
        ushort[] bits = halves.Select(BitConverter.HalfToUInt16Bits).ToArray();
        WeightFile file = ReadValid(new SafeTensorsBuilder().AddF16Bits("h", new long[] { halves.Length }, bits).Build());

        float[] read = file.ReadFloat32(file.Tensors[0]);
        Assert.Equal(5.9604645E-08f, read[4]);           // smallest subnormal
        Assert.Equal(-5.9604645E-08f, read[5]);
        Assert.Equal(6.0975552E-05f, read[6]);           // largest subnormal
        Assert.Equal(3.0517578E-05f, read[7]);           // 2^-15, a subnormal
        Assert.Equal(float.PositiveInfinity, read[8]);
        Assert.Equal(float.NegativeInfinity, read[9]);
        Assert.True(float.IsNaN(read[10]));
        Assert.Equal(0.099975586f, read[11]);
        AssertSameBits(-0f, read[1], "negative zero");
        for (int i = 0; i < halves.Length; i++)
        {
            if (!Half.IsNaN(halves[i]))
            {
                AssertSameBits((float)halves[i], read[i], $"element {i}");
            }
        }
    }

    [Fact]
    public void BF16_RoundingCasesAndSpecials()
    {
        // The writer rounds float32 to bfloat16 to nearest, ties to even; the reader widens exactly.
        (float Input, float Expected)[] cases =
        {
            (1f, 1f),
            (1f + (1f / 256), 1f),                          // tie between 1 and 1+2^-7: down to even
            (1f + (3f / 256), 1f + (1f / 64)),              // tie between 1+2^-7 and 1+2^-6: up to even
            (1f + (1f / 256) + (1f / 65536), 1f + (1f / 128)), // just above the tie: up
            (1f + (1f / 512), 1f),                          // below the tie: down
            (-3.14159274f, -3.140625f),
            (0.1f, 0.10009765625f),
            (float.MaxValue, float.PositiveInfinity),       // rounds past the largest finite bf16
            (3.3895314E+38f, 3.3895314E+38f),               // largest finite bf16
            (9.18355E-41f, 9.18355E-41f),                   // a subnormal that bf16 holds exactly
            (float.Epsilon, 0f),                            // too small: rounds to zero (tie to even)
            (float.PositiveInfinity, float.PositiveInfinity),
            (float.NegativeInfinity, float.NegativeInfinity),
            (-0f, -0f),
        };
        ushort[] bits = cases.Select(c => SafeTensorsBuilder.FloatToBFloat16RoundNearestEven(c.Input))
            .Append(SafeTensorsBuilder.FloatToBFloat16RoundNearestEven(float.NaN))
            .Append((ushort)0xFF81) // negative NaN with a payload
            .ToArray();
        WeightFile file = ReadValid(new SafeTensorsBuilder().AddBF16Bits("b", new long[] { bits.Length }, bits).Build());

        TensorEntry t = file.Tensors[0];
        Assert.Equal(TensorDType.BF16, t.DType);
        float[] read = file.ReadFloat32(t);
        for (int i = 0; i < cases.Length; i++)
        {
            AssertSameBits(cases[i].Expected, read[i], $"case {i} ({cases[i].Input:R})");
        }

        Assert.True(float.IsNaN(read[cases.Length]));
        Assert.True(float.IsNaN(read[cases.Length + 1]));
        Assert.True(float.IsNegative(read[cases.Length + 1]));
    }

    [Fact]
    public void EmptyTensors_HaveNoElementsAndNeverOverlap()
    {
        byte[] data = SafeTensorsBuilder.F32Bytes(1, 2, 3, 4);
        byte[] bytes = SafeTensorsBuilder.Raw(
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},"
            + "\"b\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
            + "\"c\":{\"dtype\":\"BF16\",\"shape\":[3,0,5],\"data_offsets\":[8,8]},"
            + "\"d\":{\"dtype\":\"F64\",\"shape\":[0,2147483647],\"data_offsets\":[16,16]}}",
            data);

        WeightFile file = ReadValid(bytes);
        Assert.Equal(new[] { "a", "b", "c", "d" }, file.Tensors.Select(t => t.Name));
        TensorEntry a = file.Find("a")!;
        Assert.Equal(0, a.ElementCount);
        Assert.Equal(0, a.ByteLength);
        Assert.Empty(file.ReadFloat32(a));
        Assert.Equal(new[] { 3, 0, 5 }, file.Find("c")!.Shape);
        Assert.Empty(file.ReadFloat32(file.Find("c")!));
        Assert.Equal(new[] { 0, int.MaxValue }, file.Find("d")!.Shape);
        Assert.Equal(new float[] { 1, 2, 3, 4 }, file.ReadFloat32(file.Find("b")!));
    }

    [Fact]
    public void Scalar_HasRankZeroAndOneElement()
    {
        WeightFile file = ReadValid(new SafeTensorsBuilder().AddF32("s", Array.Empty<long>(), 42.5f).Build());

        TensorEntry s = file.Tensors[0];
        Assert.Empty(s.Shape);
        Assert.Equal(1, s.ElementCount);
        Assert.Equal(4, s.ByteLength);
        Assert.Equal(new[] { 42.5f }, file.ReadFloat32(s));
    }

    [Fact]
    public void Metadata_IsAcceptedAndIgnored()
    {
        byte[] bytes = new SafeTensorsBuilder()
            .Metadata("format", "pt")
            .Metadata("note", "line1\nline2 \"quoted\" é 😀")
            .AddF32("x", new long[] { 1 }, 1f)
            .Build();

        WeightFile file = ReadValid(bytes);
        Assert.Equal("x", Assert.Single(file.Tensors).Name);
        Assert.Null(file.Find("__metadata__"));

        // Metadata may come anywhere and may be empty.
        ReadValid(SafeTensorsBuilder.Raw(
            "{\"x\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},\"__metadata__\":{}}", new byte[4]));
    }

    [Fact]
    public void Names_AreKeptVerbatim()
    {
        string[] names =
        {
            "with \"quotes\"", "with\nnewline\r\tand tab", "back\\slash/and\u0001control\u0000nul\u007f",
            "unicodé ünïcode 模型 😀 \u2028", "", " ", "__metadata", "__METADATA__", "{\"dtype\":\"F32\"}",
        };
        foreach (string name in names)
        {
            byte[] bytes = new SafeTensorsBuilder()
                .AddF32(name, new long[] { 2 }, 1f, 2f)
                .AddF32(name + "_2", new long[] { 1 }, 3f)
                .Build();

            WeightFile file = ReadValid(bytes);
            Assert.Equal(name, file.Tensors[0].Name);
            Assert.Same(file.Tensors[0], file.Find(name));
            Assert.Same(file.Tensors[1], file.Find(name + "_2"));
            Assert.Equal(new[] { 1f, 2f }, file.ReadFloat32(file.Find(name)!));
        }
    }

    [Fact]
    public void Names_WithEscapesInTheJson_AreDecoded()
    {
        string header = "{\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\u00E9\\ud83d\\ude00\\u0000\":"
            + "{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}";
        WeightFile file = ReadValid(SafeTensorsBuilder.Raw(header, new byte[4]));

        Assert.Equal("a\"b\\c/d\b\f\n\r\téé😀\0", file.Tensors[0].Name);
    }

    [Fact]
    public void Find_IsOrdinal()
    {
        WeightFile file = ReadValid(new SafeTensorsBuilder()
            .AddF32("Rnn.Weight", new long[] { 1 }, 1f)
            .AddF32("e\u0301", new long[] { 1 }, 2f)
            .Build());

        Assert.NotNull(file.Find("Rnn.Weight"));
        Assert.Null(file.Find("rnn.weight"));
        Assert.Null(file.Find("\u00e9")); // precomposed é is a different string
        Assert.NotNull(file.Find("e\u0301"));
        Assert.Null(file.Find("missing"));
    }

    [Fact]
    public void Tensors_KeepHeaderOrder_NotDataOrder()
    {
        byte[] data = SafeTensorsBuilder.F32Bytes(1, 2, 3);
        byte[] bytes = SafeTensorsBuilder.Raw(
            "{\"z\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]},"
            + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
            + "\"m\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
            data);

        WeightFile file = ReadValid(bytes);
        Assert.Equal(new[] { "z", "a", "m" }, file.Tensors.Select(t => t.Name));
        Assert.Equal(new[] { 3f }, file.ReadFloat32(file.Tensors[0]));
        Assert.Equal(new[] { 1f }, file.ReadFloat32(file.Tensors[1]));
    }

    [Fact]
    public void MixedDTypes_InOneFile()
    {
        WeightFile file = ReadValid(new SafeTensorsBuilder()
            .Metadata("format", "pt")
            .AddF16Bits("h", new long[] { 2 }, 0x3C00, 0xC000)
            .AddF32("f", new long[] { 1, 1 }, 7f)
            .AddBF16Bits("b", new long[] { 1 }, 0x4049)
            .AddF64("d", new long[] { 2 }, 0.5, -0.25)
            .Build());

        Assert.Equal(new[] { 1f, -2f }, file.ReadFloat32(file.Find("h")!));
        Assert.Equal(new[] { 7f }, file.ReadFloat32(file.Find("f")!));
        Assert.Equal(new[] { 3.140625f }, file.ReadFloat32(file.Find("b")!));
        Assert.Equal(new[] { 0.5f, -0.25f }, file.ReadFloat32(file.Find("d")!));
    }

    [Fact]
    public void Rank8_IsAccepted()
    {
        WeightFile file = ReadValid(new SafeTensorsBuilder()
            .AddF32("r8", new long[] { 1, 2, 1, 2, 1, 2, 1, 1 }, 1, 2, 3, 4, 5, 6, 7, 8)
            .Build());
        Assert.Equal(8, file.Tensors[0].Shape.Count);
        Assert.Equal(8, file.Tensors[0].ElementCount);
    }

    [Fact]
    public void Header_MayHaveWhitespace_GapsAndTrailingDataAreAllowed()
    {
        byte[] data = SafeTensorsBuilder.F32Bytes(1, 2, 3, 4);
        byte[] bytes = SafeTensorsBuilder.Raw(
            " \t\r\n{ \"a\" : { \"data_offsets\" : [ 4 , 8 ] , \"shape\" : [ 1 ] , \"dtype\" : \"F32\" } }\n  \t ",
            data);

        WeightFile file = ReadValid(bytes);
        Assert.Equal(new[] { 2f }, file.ReadFloat32(file.Tensors[0]));
    }

    [Fact]
    public void EmptyHeaderObject_HasNoTensors()
    {
        WeightFile file = ReadValid(SafeTensorsBuilder.Raw("{}"));
        Assert.Empty(file.Tensors);
        Assert.Empty(ReadValid(SafeTensorsBuilder.Raw("{}", pad: false)).Tensors);
    }

    [Fact]
    public void UnknownEntryKeys_AreIgnored_EvenDeepOnes()
    {
        string nested = new string('[', 62) + "1e400" + new string(']', 62); // depth 64 in all
        byte[] bytes = SafeTensorsBuilder.Raw(
            "{\"a\":{\"dtype\":\"F32\",\"extra\":" + nested + ",\"more\":{\"k\":[true,false,null,-0,1.5,\"s\"]},"
            + "\"shape\":[1],\"data_offsets\":[0,4]}}",
            new byte[4]);

        Assert.Single(ReadValid(bytes).Tensors);
    }

    [Fact]
    public void ReadFloat32_RejectsTensorsOfAnotherFile()
    {
        byte[] bytes = new SafeTensorsBuilder().AddF32("a", new long[] { 1 }, 1f).Build();
        WeightFile one = ReadValid(bytes);
        WeightFile two = ReadValid(bytes);

        Assert.Throws<ArgumentException>(() => one.ReadFloat32(two.Tensors[0]));
    }

    [Fact]
    public void LargeHeader_ParsesManyTensors()
    {
        var builder = new SafeTensorsBuilder().Metadata("format", "pt");
        for (int i = 0; i < 2000; i++)
        {
            builder.AddF32($"layer{i}.weight", new long[] { 2 }, i, -i);
        }

        WeightFile file = ReadValid(builder.Build());
        Assert.Equal(2000, file.Tensors.Count);
        Assert.Equal(new[] { 1234f, -1234f }, file.ReadFloat32(file.Find("layer1234.weight")!));
    }

    [Fact]
    public void Utf8Name_RawMultiByteSequences()
    {
        // 2-, 3- and 4-byte sequences at the edges of their ranges.
        string name = "\u0080\u07FF\u0800\uD7FF\uE000\uFFFF\U00010000\U0010FFFF";
        WeightFile file = ReadValid(new SafeTensorsBuilder().AddF32(name, new long[] { 1 }, 1f).Build());
        Assert.Equal(name, file.Tensors[0].Name);
        Assert.Equal(Encoding.UTF8.GetBytes(name), Encoding.UTF8.GetBytes(file.Tensors[0].Name));
    }
}
