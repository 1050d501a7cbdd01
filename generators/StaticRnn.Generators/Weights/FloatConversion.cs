using System;
using System.Runtime.InteropServices;

namespace StaticRnn.Generators.Weights;

/// <summary>
/// Bit-exact conversions of little-endian F32/F64/F16/BF16 data to float32, written for
/// netstandard2.0 (no <c>System.Half</c>, no <c>BitConverter.Int32BitsToSingle</c>).
/// </summary>
internal static class FloatConversion
{
    [StructLayout(LayoutKind.Explicit)]
    private struct Bits32
    {
        [FieldOffset(0)]
        public uint UInt;

        [FieldOffset(0)]
        public float Float;
    }

    /// <summary>Size in bytes of one element of <paramref name="dtype"/>.</summary>
    public static int ElementSize(TensorDType dtype) => dtype switch
    {
        TensorDType.F64 => 8,
        TensorDType.F32 => 4,
        _ => 2,
    };

    /// <summary>Reinterprets IEEE 754 binary32 bits as a float.</summary>
    public static float UInt32BitsToSingle(uint bits)
    {
        Bits32 b = default;
        b.UInt = bits;
        return b.Float;
    }

    /// <summary>The IEEE 754 binary32 bits of a float.</summary>
    public static uint SingleToUInt32Bits(float value)
    {
        Bits32 b = default;
        b.Float = value;
        return b.UInt;
    }

    /// <summary>
    /// Widens IEEE 754 binary16 bits to binary32 bits exactly: normals and subnormals keep their
    /// value, infinities stay infinite, NaNs stay NaN with sign and payload kept (shifted into
    /// the top of the float mantissa).
    /// </summary>
    public static uint HalfBitsToSingleBits(ushort half)
    {
        uint sign = (uint)(half & 0x8000) << 16;
        int exponent = (half >> 10) & 0x1F;
        uint mantissa = (uint)(half & 0x3FF);

        if (exponent == 0x1F)
        {
            return sign | 0x7F80_0000u | (mantissa << 13);
        }

        if (exponent == 0)
        {
            if (mantissa == 0)
            {
                return sign;
            }

            // Subnormal: value = mantissa * 2^-24. Normalise so the leading 1 sits at bit 10.
            int e = -14;
            while ((mantissa & 0x400) == 0)
            {
                mantissa <<= 1;
                e--;
            }

            mantissa &= 0x3FF;
            return sign | ((uint)(e + 127) << 23) | (mantissa << 13);
        }

        return sign | ((uint)(exponent - 15 + 127) << 23) | (mantissa << 13);
    }

    public static float HalfBitsToSingle(ushort half) => UInt32BitsToSingle(HalfBitsToSingleBits(half));

    /// <summary>bfloat16 is the top half of a binary32, so widening is a shift.</summary>
    public static float BFloat16BitsToSingle(ushort bf16) => UInt32BitsToSingle((uint)bf16 << 16);

    /// <summary>
    /// Converts <paramref name="count"/> little-endian elements of <paramref name="dtype"/> starting at
    /// <paramref name="offset"/> to float32.
    /// </summary>
    public static float[] ToFloat32(byte[] bytes, int offset, int count, TensorDType dtype)
    {
        if (bytes is null)
        {
            throw new ArgumentNullException(nameof(bytes));
        }

        int size = ElementSize(dtype);
        if (offset < 0 || count < 0 || (long)count * size > bytes.Length - (long)offset)
        {
            throw new ArgumentOutOfRangeException(nameof(count), "The elements reach past the end of the buffer.");
        }

        var result = new float[count];
        switch (dtype)
        {
            case TensorDType.F32:
                if (BitConverter.IsLittleEndian)
                {
                    Buffer.BlockCopy(bytes, offset, result, 0, count * 4);
                }
                else
                {
                    for (int i = 0, p = offset; i < count; i++, p += 4)
                    {
                        result[i] = UInt32BitsToSingle(ReadUInt32(bytes, p));
                    }
                }

                break;

            case TensorDType.F64:
                for (int i = 0, p = offset; i < count; i++, p += 8)
                {
                    ulong bits = ReadUInt32(bytes, p) | ((ulong)ReadUInt32(bytes, p + 4) << 32);
                    result[i] = (float)BitConverter.Int64BitsToDouble(unchecked((long)bits));
                }

                break;

            case TensorDType.F16:
                for (int i = 0, p = offset; i < count; i++, p += 2)
                {
                    result[i] = HalfBitsToSingle(ReadUInt16(bytes, p));
                }

                break;

            case TensorDType.BF16:
                for (int i = 0, p = offset; i < count; i++, p += 2)
                {
                    result[i] = BFloat16BitsToSingle(ReadUInt16(bytes, p));
                }

                break;

            default:
                throw new ArgumentOutOfRangeException(nameof(dtype));
        }

        return result;
    }

    private static ushort ReadUInt16(byte[] bytes, int p) => (ushort)(bytes[p] | (bytes[p + 1] << 8));

    private static uint ReadUInt32(byte[] bytes, int p) =>
        bytes[p] | ((uint)bytes[p + 1] << 8) | ((uint)bytes[p + 2] << 16) | ((uint)bytes[p + 3] << 24);
}
