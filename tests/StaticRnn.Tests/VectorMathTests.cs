using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.Intrinsics;
using StaticRnn.Runtime.Simd;
using Xunit;
using Xunit.Abstractions;

namespace StaticRnn.Tests;

/// <summary>The vectorized exp, sigmoid and tanh at every vector width against double-precision math.
/// Vector512 and friends also run (emulated) where the hardware lacks them, so every width is tested here.</summary>
public class VectorMathTests(ITestOutputHelper output)
{
    /// <summary>"About 1e-7 relative": three float ulps near 1.</summary>
    private const double RelativeTolerance = 3.6e-7;

    public static IEnumerable<object[]> Widths => [["V512"], ["V256"], ["V128"], ["Scalar"]];

    private static float[] Inputs()
    {
        var values = new List<float>();
        for (var x = -40.0; x <= 40.0; x += 0.001)
            values.Add((float)x);
        for (var e = -45; e <= 38; e++)
        {
            values.Add(MathF.Pow(10, e));
            values.Add(-MathF.Pow(10, e));
        }
        values.AddRange([0f, -0f, 0.625f, -0.625f, 0.62499994f, 88f, -87.33654f, 100f, -100f, float.Epsilon, -float.Epsilon, float.MaxValue, float.MinValue]);
        return values.ToArray();
    }

    private static float[] Apply(string width, string function, float[] inputs)
    {
        var results = new float[inputs.Length];
        for (var i = 0; i < inputs.Length; i++)
        {
            results[i] = width switch
            {
                "V512" => Evaluate(function, V512.Broadcast(inputs[i])).V.ToScalar(),
                "V256" => Evaluate(function, V256.Broadcast(inputs[i])).V.ToScalar(),
                "V128" => Evaluate(function, V128.Broadcast(inputs[i])).V.ToScalar(),
                _ => Evaluate(function, Scalar.Broadcast(inputs[i])).V,
            };
        }
        return results;
    }

    private static T Evaluate<T>(string function, T x) where T : struct, ISimd<T> => function switch
    {
        "exp" => VectorMath.Exp(x),
        "sigmoid" => VectorMath.Sigmoid(x),
        _ => VectorMath.Tanh(x),
    };

    private static double Reference(string function, double x) => function switch
    {
        "exp" => Math.Exp(Math.Clamp(x, -87.33654, 88.0)),
        "sigmoid" => 1 / (1 + Math.Exp(-x)),
        _ => Math.Tanh(x),
    };

    [Theory]
    [MemberData(nameof(Widths))]
    public void Sigmoid_tanh_and_exp_are_accurate_to_about_1e7_relative(string width)
    {
        var inputs = Inputs();
        foreach (var function in new[] { "exp", "sigmoid", "tanh" })
        {
            var results = Apply(width, function, inputs);
            var worst = 0.0;
            var worstInput = 0f;
            for (var i = 0; i < inputs.Length; i++)
            {
                var expected = Reference(function, inputs[i]);
                // Relative error for results above 1e-30; below, where float runs out of normal numbers and the
                // functions saturate on purpose, an absolute error under 1e-30 × tolerance.
                var error = Math.Abs(results[i] - expected) / Math.Max(Math.Abs(expected), 1e-30);
                if (!(error <= worst))
                {
                    worst = double.IsNaN(error) ? double.PositiveInfinity : error;
                    worstInput = inputs[i];
                }
            }
            output.WriteLine($"{width} {function}: max relative error {worst:E2} at x = {worstInput:R}");
            Assert.True(worst <= RelativeTolerance, $"{width} {function}: max relative error {worst:E2} at x = {worstInput:R}");
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void They_saturate_cleanly_and_never_make_NaN_from_numbers(string width)
    {
        float[] extremes = [float.PositiveInfinity, float.NegativeInfinity, float.MaxValue, float.MinValue, 1e30f, -1e30f];
        var sigmoid = Apply(width, "sigmoid", extremes);
        var tanh = Apply(width, "tanh", extremes);
        Assert.Equal([1f, 0f, 1f, 0f, 1f, 0f], sigmoid);
        Assert.Equal([1f, -1f, 1f, -1f, 1f, -1f], tanh);
        Assert.All(Apply(width, "sigmoid", Inputs()), v => Assert.False(float.IsNaN(v)));
        Assert.All(Apply(width, "tanh", Inputs()), v => Assert.False(float.IsNaN(v)));
        Assert.Equal(-0f, Apply(width, "tanh", [-0f])[0]);
        Assert.True(float.IsNegative(Apply(width, "tanh", [-0f])[0]));
    }
}
