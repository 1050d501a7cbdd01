using System;
using System.Linq;
using StaticRnn.Runtime;
using Xunit;

namespace StaticRnn.Tests;

/// <summary>The two ways generated code gets large tensors at type initialization.</summary>
public class WeightDataTests
{
    // TestData/dtypes.bin holds [0.5, -1.25, 3e-5, 65504, 1/3] as little-endian F16 (10 bytes), BF16 (the top
    // 16 bits of the float32, 10 bytes), F64 (40 bytes) and F32 (20 bytes), written with numpy.
    private static readonly double[] s_values = [0.5, -1.25, 3.0e-5, 65504.0, 1.0 / 3.0];

    private static float[] Read(long offset, string dtype) =>
        WeightData.FromResource(typeof(WeightDataTests).Assembly, "TestData/dtypes.bin", offset, s_values.Length, dtype);

    [Fact]
    public void FromResource_converts_every_dtype_exactly()
    {
        Assert.Equal(s_values.Select(v => (float)(Half)v), Read(0, "F16"));
        Assert.Equal(s_values.Select(v => BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits((float)v) & unchecked((int)0xFFFF0000))), Read(10, "BF16"));
        Assert.Equal(s_values.Select(v => (float)v), Read(20, "F64"));
        Assert.Equal(s_values.Select(v => (float)v), Read(60, "F32"));
    }

    [Fact]
    public void FromResource_says_what_is_missing()
    {
        var missing = Assert.Throws<InvalidOperationException>(() =>
            WeightData.FromResource(typeof(WeightDataTests).Assembly, "StaticRnn/nothing.safetensors", 0, 1, "F32"));
        Assert.Contains("'StaticRnn/nothing.safetensors' is not embedded", missing.Message);
        var past = Assert.Throws<InvalidOperationException>(() => Read(70, "F32"));
        Assert.Contains("ends before its tensor at 70", past.Message);
    }

    [Fact]
    public void FromBase64_decodes_the_little_endian_floats_the_generator_encodes()
    {
        float[] values = [1f, -0f, float.Epsilon, float.MaxValue, float.NaN, 0.1f];
        var bytes = values.SelectMany(v => BitConverter.GetBytes(v)).ToArray();
        var base64 = System.Text.Encoding.ASCII.GetBytes(Convert.ToBase64String(bytes));
        var decoded = WeightData.FromBase64(base64, values.Length);
        Assert.Equal(values.Select(BitConverter.SingleToInt32Bits), decoded.Select(BitConverter.SingleToInt32Bits));
        Assert.Throws<InvalidOperationException>(() => WeightData.FromBase64(base64, values.Length + 1));
    }

    [Fact]
    public unsafe void Aligned_copies_start_on_a_64_byte_boundary()
    {
        for (var length = 1; length < 40; length += 7)
        {
            var values = Enumerable.Range(0, length).Select(i => i * 0.5f).ToArray();
            var aligned = WeightData.Aligned(values);
            Assert.Equal(values, aligned.ToArray());
            fixed (float* start = aligned.AsSpan())
                Assert.Equal(0, (long)start % WeightData.Alignment);
        }
    }
}
