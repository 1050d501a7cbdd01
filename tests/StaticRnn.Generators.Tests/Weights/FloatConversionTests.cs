using System;
using StaticRnn.Generators.Weights;
using Xunit;

namespace StaticRnn.Generators.Tests.Weights;

public class FloatConversionTests
{
    [Fact]
    public void Half_AllBitPatterns_MatchSystemHalf()
    {
        for (int i = 0; i <= ushort.MaxValue; i++)
        {
            ushort bits = (ushort)i;
            float expected = (float)BitConverter.UInt16BitsToHalf(bits);
            float actual = FloatConversion.HalfBitsToSingle(bits);
            if (float.IsNaN(expected))
            {
                Assert.True(float.IsNaN(actual), $"0x{bits:X4} should be NaN");
                Assert.Equal(float.IsNegative(expected), float.IsNegative(actual));
            }
            else
            {
                Assert.True(
                    BitConverter.SingleToUInt32Bits(expected) == BitConverter.SingleToUInt32Bits(actual),
                    $"0x{bits:X4}: expected {expected:R} but got {actual:R}");
            }
        }
    }

    [Theory]
    [InlineData((ushort)0x0001, 5.9604645E-08f)]      // smallest subnormal, 2^-24
    [InlineData((ushort)0x03FF, 6.0975552E-05f)]      // largest subnormal
    [InlineData((ushort)0x0400, 6.1035156E-05f)]      // smallest normal, 2^-14
    [InlineData((ushort)0x7BFF, 65504f)]              // largest finite
    [InlineData((ushort)0x3C00, 1f)]
    [InlineData((ushort)0xC000, -2f)]
    [InlineData((ushort)0x8001, -5.9604645E-08f)]
    public void Half_KnownValues(ushort bits, float expected)
    {
        Assert.Equal(expected, FloatConversion.HalfBitsToSingle(bits));
    }

    [Fact]
    public void Half_SpecialValues()
    {
        Assert.Equal(float.PositiveInfinity, FloatConversion.HalfBitsToSingle(0x7C00));
        Assert.Equal(float.NegativeInfinity, FloatConversion.HalfBitsToSingle(0xFC00));
        Assert.Equal(0x8000_0000u, BitConverter.SingleToUInt32Bits(FloatConversion.HalfBitsToSingle(0x8000)));
        Assert.Equal(0u, BitConverter.SingleToUInt32Bits(FloatConversion.HalfBitsToSingle(0x0000)));
        Assert.True(float.IsNaN(FloatConversion.HalfBitsToSingle(0x7E00)));
        Assert.True(float.IsNaN(FloatConversion.HalfBitsToSingle(0x7C01))); // signalling NaN stays NaN
        Assert.True(float.IsNegative(FloatConversion.HalfBitsToSingle(0xFE00)));
    }

    [Fact]
    public void BFloat16_AllBitPatterns_MatchArithmeticOracle()
    {
        for (int i = 0; i <= ushort.MaxValue; i++)
        {
            ushort bits = (ushort)i;
            float actual = FloatConversion.BFloat16BitsToSingle(bits);
            bool negative = (bits & 0x8000) != 0;
            int exponent = (bits >> 7) & 0xFF;
            int mantissa = bits & 0x7F;
            if (exponent == 0xFF)
            {
                if (mantissa == 0)
                {
                    Assert.Equal(negative ? float.NegativeInfinity : float.PositiveInfinity, actual);
                }
                else
                {
                    Assert.True(float.IsNaN(actual));
                }

                continue;
            }

            // value = (-1)^s * 2^(e-127) * (1 + m/128) for normals, 2^-126 * (m/128) for subnormals.
            double magnitude = exponent == 0
                ? Math.ScaleB(mantissa / 128.0, -126)
                : Math.ScaleB(1 + (mantissa / 128.0), exponent - 127);
            float expected = (float)(negative ? -magnitude : magnitude);
            Assert.True(
                BitConverter.SingleToUInt32Bits(expected) == BitConverter.SingleToUInt32Bits(actual),
                $"0x{bits:X4}: expected {expected:R} but got {actual:R}");
        }
    }

    [Fact]
    public void BitsRoundTrip()
    {
        foreach (float f in new[] { 0f, -0f, 1.5f, float.Epsilon, float.MaxValue, float.NegativeInfinity })
        {
            uint bits = FloatConversion.SingleToUInt32Bits(f);
            Assert.Equal(BitConverter.SingleToUInt32Bits(f), bits);
            Assert.Equal(bits, BitConverter.SingleToUInt32Bits(FloatConversion.UInt32BitsToSingle(bits)));
        }
    }

    [Fact]
    public void ToFloat32_RejectsRangesPastTheBuffer()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => FloatConversion.ToFloat32(new byte[7], 0, 2, TensorDType.F32));
        Assert.Throws<ArgumentOutOfRangeException>(() => FloatConversion.ToFloat32(new byte[8], 2, 1, TensorDType.F64));
        Assert.Empty(FloatConversion.ToFloat32(new byte[8], 8, 0, TensorDType.F16));
    }
}
