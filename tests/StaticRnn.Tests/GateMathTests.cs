using System;
using System.Runtime.Intrinsics;
using StaticRnn.Runtime;
using Xunit;
using Xunit.Abstractions;

namespace StaticRnn.Tests;

/// <summary>
/// The recurrent gates' tanh and sigmoid (<see cref="GateMath"/>, a rational approximation) at every vector width
/// against double-precision math, over every 2003rd float of the whole range (2.1 million inputs per function and width),
/// plus the special values. The bounds are the largest errors over all 2^32 floats (measured once, and quoted in
/// GateMath's documentation): 3.22e-7 for tanh, 1.88e-7 for sigmoid, absolute; tanh also within 3.2e-7 relative
/// below |x| = 0.5, so tiny inputs keep their digits. Vector512 and friends run emulated where the hardware lacks them.
/// </summary>
public class GateMathTests(ITestOutputHelper output)
{
    private const double TanhTolerance = 3.3e-7;
    private const double SigmoidTolerance = 1.9e-7;
    private const double SmallTanhRelativeTolerance = 3.2e-7;
    private const uint Stride = 2003;

    public static TheoryData<string> Widths => ["Vector512", "Vector256", "Vector128", "float"];

    /// <summary>16 results of <paramref name="function"/> at <paramref name="width"/>.</summary>
    private static void Apply(string width, string function, ReadOnlySpan<float> x, Span<float> y)
    {
        switch (width)
        {
            case "Vector512":
                var v512 = Vector512.Create(x);
                (function == "tanh" ? GateMath.Tanh(v512) : GateMath.Sigmoid(v512)).CopyTo(y);
                break;
            case "Vector256":
                for (var i = 0; i < 16; i += 8)
                {
                    var v256 = Vector256.Create(x.Slice(i, 8));
                    (function == "tanh" ? GateMath.Tanh(v256) : GateMath.Sigmoid(v256)).CopyTo(y.Slice(i, 8));
                }
                break;
            case "Vector128":
                for (var i = 0; i < 16; i += 4)
                {
                    var v128 = Vector128.Create(x.Slice(i, 4));
                    (function == "tanh" ? GateMath.Tanh(v128) : GateMath.Sigmoid(v128)).CopyTo(y.Slice(i, 4));
                }
                break;
            default:
                for (var i = 0; i < 16; i++)
                    y[i] = function == "tanh" ? GateMath.Tanh(x[i]) : GateMath.Sigmoid(x[i]);
                break;
        }
    }

    private static float Apply(string width, string function, float x)
    {
        Span<float> xs = stackalloc float[16];
        Span<float> ys = stackalloc float[16];
        xs.Fill(x);
        Apply(width, function, xs, ys);
        return ys[0];
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Tanh_and_sigmoid_are_within_their_bounds_over_the_float_range(string width)
    {
        Span<float> x = stackalloc float[16];
        Span<float> y = stackalloc float[16];
        foreach (var function in new[] { "tanh", "sigmoid" })
        {
            double worst = 0, worstRelative = 0;
            float worstAt = 0, worstRelativeAt = 0;
            for (ulong bits = 0; bits < (1UL << 32); bits += 16 * Stride)
            {
                for (var k = 0; k < 16; k++)
                    x[k] = BitConverter.UInt32BitsToSingle((uint)(bits + (ulong)k * Stride));
                Apply(width, function, x, y);
                for (var k = 0; k < 16; k++)
                {
                    if (float.IsNaN(x[k]))
                    {
                        Assert.True(float.IsNaN(y[k]), $"{width} {function}({x[k]}) = {y[k]}, not NaN");
                        continue;
                    }
                    var expected = function == "tanh" ? Math.Tanh(x[k]) : 1 / (1 + Math.Exp(-(double)x[k]));
                    var error = Math.Abs(y[k] - expected);
                    if (!(error <= worst))
                    {
                        worst = double.IsNaN(error) ? double.PositiveInfinity : error;
                        worstAt = x[k];
                    }
                    if (function == "tanh" && Math.Abs(x[k]) < 0.5 && expected != 0 && error / Math.Abs(expected) > worstRelative)
                    {
                        worstRelative = error / Math.Abs(expected);
                        worstRelativeAt = x[k];
                    }
                    Assert.True(function == "tanh" ? y[k] is >= -1 and <= 1 : y[k] is >= 0 and <= 1, $"{width} {function}({x[k]:R}) = {y[k]:R}, out of range");
                }
            }
            output.WriteLine($"{width} {function}: max absolute error {worst:E3} at x = {worstAt:R}" +
                (function == "tanh" ? $", max relative error below |x| = 0.5 {worstRelative:E3} at x = {worstRelativeAt:R}" : ""));
            Assert.True(worst <= (function == "tanh" ? TanhTolerance : SigmoidTolerance), $"{width} {function}: error {worst:E3} at x = {worstAt:R}");
            if (function == "tanh")
                Assert.True(worstRelative <= SmallTanhRelativeTolerance, $"{width} tanh: relative error {worstRelative:E3} at x = {worstRelativeAt:R}");
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Special_values(string width)
    {
        Assert.Equal(1f, Apply(width, "tanh", float.PositiveInfinity));
        Assert.Equal(-1f, Apply(width, "tanh", float.NegativeInfinity));
        Assert.Equal(1f, Apply(width, "sigmoid", float.PositiveInfinity));
        Assert.Equal(0f, Apply(width, "sigmoid", float.NegativeInfinity));
        Assert.Equal(1f, Apply(width, "tanh", float.MaxValue));
        Assert.Equal(0f, Apply(width, "sigmoid", float.MinValue));
        // Past the fit's end (|x| = 9, 18 for the sigmoid) the result is exactly saturated.
        foreach (var v in new[] { 9.001f, 10f, 1e4f, 1e30f })
        {
            Assert.Equal(1f, Apply(width, "tanh", v));
            Assert.Equal(-1f, Apply(width, "tanh", -v));
            Assert.Equal(1f, Apply(width, "sigmoid", 2 * v));
            Assert.Equal(0f, Apply(width, "sigmoid", -2 * v));
        }
        Assert.Equal(0.5f, Apply(width, "sigmoid", 0f));
        Assert.Equal(0f, Apply(width, "tanh", 0f));
        Assert.True(float.IsNaN(Apply(width, "tanh", float.NaN)));
        Assert.True(float.IsNaN(Apply(width, "sigmoid", float.NaN)));
        // Odd: the same rational on |x|, so tanh(-x) is exactly -tanh(x).
        foreach (var v in new[] { 1e-30f, 1e-7f, 0.3f, 0.625f, 1f, 2.5f, 4.1033726f, 8.99f, 9f, 50f })
            Assert.Equal(-Apply(width, "tanh", v), Apply(width, "tanh", -v));
    }

    [Fact]
    public void Relu_keeps_NaN_and_zeroes_negatives()
    {
        var x = Vector256.Create(-1f, -0f, 0f, 2f, float.NaN, float.NegativeInfinity, float.PositiveInfinity, -1e-40f);
        var y = GateMath.Relu(x);
        Assert.Equal(0f, y[0]);
        Assert.Equal(2f, y[3]);
        Assert.True(float.IsNaN(y[4]));
        Assert.Equal(0f, y[5]);
        Assert.Equal(float.PositiveInfinity, y[6]);
        Assert.Equal(0f, y[7]);
    }
}
