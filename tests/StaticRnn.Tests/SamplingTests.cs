using System;
using System.Linq;
using System.Numerics;
using Xunit;

namespace StaticRnn.Tests;

/// <summary><see cref="Sampling"/> (softmax with temperature, categorical draws, argmax) and the <see cref="Pcg32"/>
/// generator it draws from.</summary>
public class SamplingTests
{
    // ------------------------------------------------------------------------------------------------------------
    // Pcg32
    // ------------------------------------------------------------------------------------------------------------

    [Fact]
    public void Pcg32_reproduces_the_reference_pcg32_demo()
    {
        // pcg-c-basic's pcg32-demo seeds pcg32_srandom_r(&rng, 42u, 54u) and prints, in "Round 1", these six
        // 32-bit values; its rounds draw 155 values each (6 + 65 coins + 33 rolls + 51 for the card shuffle), so
        // "Round 5" starts at the 621st value. (Published at pcg-random.org, "Using the PCG C basic library".)
        uint[] round1 = [0xa15c02b7, 0x7b47f409, 0xba1d3330, 0x83d2f293, 0xbfa4784b, 0xcbed606e];
        uint[] round5 = [0xfcef7cd6, 0x1b488b5a, 0xd0daf7ea, 0x1d9a70f7, 0x241a37cf, 0x9a3857b7];

        var rng = new Pcg32(42, 54);
        Assert.Equal(round1, Enumerable.Range(0, 6).Select(_ => rng.NextUInt32()).ToArray());
        for (var i = 0; i < 614; i++)
            rng.NextUInt32();
        Assert.Equal(round5, Enumerable.Range(0, 6).Select(_ => rng.NextUInt32()).ToArray());
    }

    [Theory]
    [InlineData(0UL)]
    [InlineData(1UL)]
    [InlineData(2024UL)]
    [InlineData(0x0123456789abcdefUL)]
    [InlineData(ulong.MaxValue)]
    public void Pcg32_matches_an_independent_implementation_of_the_specification(ulong seed)
    {
        var expected = ReferencePcg32(seed, Pcg32.DefaultStream, 1000);
        var rng = new Pcg32(seed);
        var actual = Enumerable.Range(0, 1000).Select(_ => rng.NextUInt32()).ToArray();
        Assert.Equal(expected, actual);

        var onStream = ReferencePcg32(seed, 7, 100);
        var rng7 = new Pcg32(seed, 7);
        Assert.Equal(onStream, Enumerable.Range(0, 100).Select(_ => rng7.NextUInt32()).ToArray());
    }

    /// <summary>PCG-XSH-RR 64/32 from its definition, in arbitrary-precision arithmetic reduced mod 2⁶⁴ (no
    /// reliance on unsigned wrap-around): state' = a·state + c; output = rotr32(((s ≫ 18) ⊕ s) ≫ 27, s ≫ 59) of
    /// the old state; seeding (pcg32_srandom_r): state 0, c = 2·stream + 1, one step, state += seed, one step.</summary>
    private static uint[] ReferencePcg32(ulong seed, ulong stream, int count)
    {
        var modulus = BigInteger.One << 64;
        var a = new BigInteger(6364136223846793005UL);
        var c = (new BigInteger(stream) * 2 + 1) % modulus;
        BigInteger state = 0;
        uint Next()
        {
            var old = state;
            state = (a * old + c) % modulus;
            var xorShifted = (long)((((old >> 18) ^ old) >> 27) % (BigInteger.One << 32));
            var rotation = (int)(old >> 59);
            var rotated = ((xorShifted >> rotation) | (xorShifted << ((32 - rotation) % 32))) & 0xffffffffL;
            return (uint)rotated;
        }
        Next();
        state = (state + seed) % modulus;
        Next();
        return Enumerable.Range(0, count).Select(_ => Next()).ToArray();
    }

    [Fact]
    public void Pcg32_is_reproducible_and_copies_continue_independently()
    {
        var a = new Pcg32(123);
        var b = new Pcg32(123);
        for (var i = 0; i < 100; i++)
            Assert.Equal(a.NextUInt32(), b.NextUInt32());

        var snapshot = a;                      // a value type: the copy is a snapshot
        var fromA = Enumerable.Range(0, 10).Select(_ => a.NextUInt32()).ToArray();
        var fromSnapshot = Enumerable.Range(0, 10).Select(_ => snapshot.NextUInt32()).ToArray();
        Assert.Equal(fromA, fromSnapshot);

        var other = new Pcg32(124);
        var c = new Pcg32(123);
        Assert.NotEqual(Enumerable.Range(0, 10).Select(_ => c.NextUInt32()).ToArray(),
                        Enumerable.Range(0, 10).Select(_ => other.NextUInt32()).ToArray());
        var otherStream = new Pcg32(123, 1);
        var d = new Pcg32(123);
        Assert.NotEqual(Enumerable.Range(0, 10).Select(_ => d.NextUInt32()).ToArray(),
                        Enumerable.Range(0, 10).Select(_ => otherStream.NextUInt32()).ToArray());

        // default(Pcg32) is not stuck (state 0, increment 1: it starts 0, 0, then varies), though unseeded.
        var zero = default(Pcg32);
        Assert.InRange(Enumerable.Range(0, 20).Select(_ => zero.NextUInt32()).Distinct().Count(), 18, 20);
    }

    [Fact]
    public void NextFloat_is_the_top_24_bits_and_lies_in_0_1()
    {
        var bits = new Pcg32(9);
        var floats = new Pcg32(9);
        var sum = 0.0;
        const int N = 100_000;
        for (var i = 0; i < N; i++)
        {
            var expected = (bits.NextUInt32() >> 8) / 16777216.0;
            var f = floats.NextFloat();
            Assert.Equal(expected, (double)f);
            Assert.InRange(f, 0f, 0.99999994f);
            sum += f;
        }
        Assert.InRange(sum / N, 0.5 - 0.005, 0.5 + 0.005);

        var doubles = new Pcg32(9);
        for (var i = 0; i < 1000; i++)
            Assert.InRange(doubles.NextDouble(), 0.0, 1.0 - 1.0 / (1UL << 53));
    }

    // ------------------------------------------------------------------------------------------------------------
    // Softmax
    // ------------------------------------------------------------------------------------------------------------

    private static float[] RandomLogits(int n, ulong seed, float scale = 5f)
    {
        var rng = new Pcg32(seed);
        return Enumerable.Range(0, n).Select(_ => (rng.NextFloat() * 2 - 1) * scale).ToArray();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(67)]
    [InlineData(1000)]
    public void Softmax_sums_to_one_and_matches_a_double_reference(int n)
    {
        foreach (var temperature in new[] { 0.1f, 0.5f, 1f, 2f, 10f })
        {
            var logits = RandomLogits(n, (ulong)n);
            var p = new float[n];
            Sampling.Softmax(logits, p, temperature);

            var max = logits.Max();
            var e = logits.Select(x => Math.Exp((x - (double)max) / temperature)).ToArray();
            var total = e.Sum();
            for (var i = 0; i < n; i++)
            {
                Assert.InRange(p[i], 0f, 1f);
                Assert.Equal(e[i] / total, p[i], 1e-6 + 1e-5 * e[i] / total);
            }
            Assert.Equal(1.0, p.Sum(x => (double)x), 1e-5);
        }
    }

    [Fact]
    public void Softmax_is_invariant_to_shifting_the_logits()
    {
        // Multiples of 1/8 below 2^10: shifted by 1024 or -4096 they stay exact in float32, so only softmax's own
        // rounding can differ.
        var rng = new Pcg32(5);
        var logits = Enumerable.Range(0, 67).Select(_ => (int)(rng.NextUInt32() % 160) / 8f - 10f).ToArray();
        var p = new float[67];
        Sampling.Softmax(logits, p, 0.8f);
        foreach (var shift in new[] { 1024f, -4096f, 0.5f })
        {
            var q = new float[67];
            Sampling.Softmax(logits.Select(x => x + shift).ToArray(), q, 0.8f);
            for (var i = 0; i < p.Length; i++)
                Assert.Equal(p[i], q[i], 1e-7);
        }
    }

    [Fact]
    public void Softmax_with_a_small_temperature_approaches_the_argmax_and_a_large_one_the_uniform()
    {
        float[] logits = [1.0f, 3.0f, 2.9f, -5f, 0f];
        var p = new float[5];

        Sampling.Softmax(logits, p, 0.01f);       // exp(-0.1 / 0.01) = 4.5e-5 for the runner-up
        Assert.Equal(1.0, p[1], 1e-4);
        Assert.Equal(1, Sampling.ArgMax(p));
        Sampling.Softmax(logits, p, 1e-4f);
        Assert.Equal(new[] { 0f, 1f, 0f, 0f, 0f }, p);
        Sampling.Softmax(logits, p, float.Epsilon); // the smallest temperature: still exact, no NaN
        Assert.Equal(new[] { 0f, 1f, 0f, 0f, 0f }, p);

        // Exact ties share the mass.
        Sampling.Softmax([2f, 7f, 7f, 1f], p.AsSpan(0, 4), 1e-6f);
        Assert.Equal(new[] { 0f, 0.5f, 0.5f, 0f }, p.AsSpan(0, 4).ToArray());

        Sampling.Softmax(logits, p, 1e6f);
        foreach (var x in p)
            Assert.Equal(0.2, x, 1e-5);
        Sampling.Softmax(logits, p, float.MaxValue);
        foreach (var x in p)
            Assert.Equal(0.2, x, 1e-6);
    }

    [Fact]
    public void Softmax_does_not_overflow_on_large_logits_and_works_in_place()
    {
        float[] logits = [1e30f, -1e30f, 1e30f - 1e24f, 3e38f, -3e38f];
        var p = new float[5];
        Sampling.Softmax(logits, p);
        Assert.Equal(new[] { 0f, 0f, 0f, 1f, 0f }, p);

        var values = RandomLogits(67, 11);
        var expected = new float[67];
        Sampling.Softmax(values, expected, 0.7f);
        Sampling.Softmax(values, values, 0.7f);   // in place
        Assert.Equal(expected, values);
    }

    [Fact]
    public void Minus_infinity_masks_an_outcome_and_NaN_is_rejected_by_Sample()
    {
        var p = new float[4];
        Sampling.Softmax([1f, float.NegativeInfinity, 1f, float.NegativeInfinity], p, 0.5f);
        Assert.Equal(new[] { 0.5f, 0f, 0.5f, 0f }, p);
        var rng = new Pcg32(6);
        for (var i = 0; i < 1000; i++)
            Assert.Equal(0, Sampling.SampleWithTemperature([1f, float.NegativeInfinity, 1f, float.NegativeInfinity], 0.5f, p, ref rng) % 2);

        Sampling.Softmax([1f, float.NaN, 2f, 0f], p);
        Assert.All(p, x => Assert.True(float.IsNaN(x)));
        Assert.Throws<ArgumentException>(() => Sampling.SampleWithTemperature([1f, float.NaN, 2f, 0f], 1f, new float[4], ref rng));
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(-1f)]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void A_temperature_that_is_not_positive_and_finite_throws(float temperature)
    {
        var p = new float[3];
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Sampling.Softmax([1f, 2f, 3f], p, temperature));
        Assert.Equal("temperature", e.ParamName);
        Assert.Contains("positive finite", e.Message);
        var rng = new Pcg32(1);
        Assert.Throws<ArgumentOutOfRangeException>(() => Sampling.SampleWithTemperature([1f, 2f, 3f], temperature, p, ref rng));
    }

    [Fact]
    public void Wrong_lengths_throw_ArgumentException_naming_expected_and_actual()
    {
        var e = Assert.Throws<ArgumentException>(() => Sampling.Softmax(new float[67], new float[66]));
        Assert.Equal("probabilities", e.ParamName);
        Assert.Contains("= 67 values; it holds 66", e.Message);

        var rng = new Pcg32(1);
        var s = Assert.Throws<ArgumentException>(() => Sampling.SampleWithTemperature(new float[67], 1f, new float[68], ref rng));
        Assert.Contains("= 67 values; it holds 68", s.Message);

        var empty = Assert.Throws<ArgumentException>(() => Sampling.Softmax([], []));
        Assert.Equal("logits", empty.ParamName);
        Assert.Contains("at least 1 value; it holds 0", empty.Message);
        Assert.Throws<ArgumentException>(() => Sampling.Sample([], ref rng));
        Assert.Throws<ArgumentException>(() => Sampling.ArgMax([]));
    }

    // ------------------------------------------------------------------------------------------------------------
    // Sample
    // ------------------------------------------------------------------------------------------------------------

    [Fact]
    public void Draws_follow_the_probabilities()
    {
        // A fixed distribution with a rare outcome and a zero; 400,000 draws with a fixed seed. The chi-square
        // statistic over the 9 possible outcomes (8 degrees of freedom) must stay below 26.12, its 0.1% critical
        // value: a correct sampler fails with probability 1e-3 for a random seed, and never for this one.
        float[] p = [0.3f, 0.2f, 0.15f, 0.1f, 0.1f, 0.08f, 0.05f, 0f, 0.019f, 0.001f];
        var counts = new int[p.Length];
        var rng = new Pcg32(2024);
        const int N = 400_000;
        for (var i = 0; i < N; i++)
            counts[Sampling.Sample(p, ref rng)]++;

        Assert.Equal(0, counts[7]);
        var sum = p.Sum(x => (double)x);
        var chiSquare = 0.0;
        for (var i = 0; i < p.Length; i++)
        {
            if (p[i] == 0f)
                continue;
            var expected = N * p[i] / sum;
            chiSquare += (counts[i] - expected) * (counts[i] - expected) / expected;
        }
        Assert.True(chiSquare < 26.12, $"chi-square {chiSquare:F2} over 8 degrees of freedom; counts {string.Join(", ", counts)}");
    }

    [Fact]
    public void SampleWithTemperature_follows_the_softmax()
    {
        float[] logits = [2f, 1f, 0f, -1f, 0.5f];
        const float T = 0.7f;
        var probabilities = new float[5];
        Sampling.Softmax(logits, probabilities, T);
        var scratch = new float[5];
        var counts = new int[5];
        var rng = new Pcg32(77);
        const int N = 200_000;
        for (var i = 0; i < N; i++)
            counts[Sampling.SampleWithTemperature(logits, T, scratch, ref rng)]++;

        var chiSquare = Enumerable.Range(0, 5).Sum(i =>
        {
            var expected = N * (double)probabilities[i];
            return (counts[i] - expected) * (counts[i] - expected) / expected;
        });
        Assert.True(chiSquare < 18.47, $"chi-square {chiSquare:F2} over 4 degrees of freedom (0.1% critical value 18.47)");

        // The same generator state gives the same draw as Softmax + Sample by hand.
        var a = new Pcg32(3);
        var b = new Pcg32(3);
        for (var i = 0; i < 1000; i++)
            Assert.Equal(Sampling.Sample(probabilities, ref a), Sampling.SampleWithTemperature(logits, T, scratch, ref b));
    }

    [Fact]
    public void One_hot_and_single_nonzero_distributions_always_give_their_index()
    {
        var rng = new Pcg32(8);
        for (var hot = 0; hot < 10; hot++)
        {
            var p = new float[10];
            p[hot] = 1f;
            for (var i = 0; i < 1000; i++)
                Assert.Equal(hot, Sampling.Sample(p, ref rng));
            p[hot] = 1e-30f;      // any positive weight, alone, is certain
            Assert.Equal(hot, Sampling.Sample(p, ref rng));
            Assert.Equal(hot, Sampling.Sample(p, 0f));
            Assert.Equal(hot, Sampling.Sample(p, 0.99999994f));
        }
    }

    [Fact]
    public void Sample_is_the_inverse_cumulative_distribution()
    {
        float[] p = [0.25f, 0.25f, 0.5f];
        Assert.Equal(0, Sampling.Sample(p, 0f));
        Assert.Equal(0, Sampling.Sample(p, 0.2499999f));
        Assert.Equal(1, Sampling.Sample(p, 0.25f));
        Assert.Equal(1, Sampling.Sample(p, 0.4999999f));
        Assert.Equal(2, Sampling.Sample(p, 0.5f));
        Assert.Equal(2, Sampling.Sample(p, 0.99999994f));   // the largest float below 1: the last index is reachable

        // Zero weights are never drawn, at either end or in between.
        Assert.Equal(2, Sampling.Sample([0f, 0f, 1f, 0f], 0f));
        Assert.Equal(0, Sampling.Sample([1f, 0f, 0f], 0.99999994f));
        Assert.Equal(2, Sampling.Sample([0.5f, 0f, 0.5f], 0.5f));
        Assert.Equal(3, Sampling.Sample([0.1f, 0.2f, 0.3f, 0.4f, 0f, 0f], 0.99999994f));
    }

    [Fact]
    public void Weights_need_not_sum_to_one()
    {
        // Unnormalized counts, and a "softmax" that sums to 0.9 or to 1 + 1e-6.
        Assert.Equal(0, Sampling.Sample([1f, 3f], 0.2499f));
        Assert.Equal(1, Sampling.Sample([1f, 3f], 0.25f));
        Assert.Equal(2, Sampling.Sample([0.3f, 0.3f, 0.3f], 0.99999994f));
        Assert.Equal(1, Sampling.Sample([0.3f, 0.3f, 0.3f], 0.5f));
        Assert.Equal(1, Sampling.Sample([0.5f, 0.500001f], 0.99999994f));
        Assert.Equal(0, Sampling.Sample([1e-40f, 0f], 0.99999994f));         // a subnormal total

        var counts = new int[3];
        var rng = new Pcg32(12);
        for (var i = 0; i < 90_000; i++)
            counts[Sampling.Sample([2f, 2f, 5f], ref rng)]++;
        Assert.InRange(counts[0], 20_000 - 600, 20_000 + 600);   // > 4 standard deviations (126)
        Assert.InRange(counts[2], 50_000 - 600, 50_000 + 600);
    }

    [Theory]
    [InlineData(new[] { 0.5f, -0.1f, 0.6f })]
    [InlineData(new[] { 0.5f, float.NaN })]
    [InlineData(new[] { 0f, 0f, 0f })]
    [InlineData(new[] { 1f, float.PositiveInfinity })]
    public void Invalid_weights_throw(float[] p)
    {
        var e = Assert.Throws<ArgumentException>(() => Sampling.Sample(p, 0.5f));
        Assert.Equal("probabilities", e.ParamName);
    }

    [Fact]
    public void Sums_beyond_float_range_are_fine_in_double()
    {
        Assert.Equal(1, Sampling.Sample([3e38f, 3e38f], 0.75f));
    }

    [Theory]
    [InlineData(-1e-9f)]
    [InlineData(1f)]
    [InlineData(float.NaN)]
    public void A_uniform_outside_0_1_throws(float uniform)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Sampling.Sample([1f, 1f], uniform));
        Assert.Equal("uniform", e.ParamName);
    }

    [Fact]
    public void ArgMax_takes_the_first_largest_and_skips_NaN()
    {
        Assert.Equal(0, Sampling.ArgMax([5f]));
        Assert.Equal(1, Sampling.ArgMax([1f, 7f, 7f, -2f]));
        Assert.Equal(2, Sampling.ArgMax([float.NaN, -1f, 3f, float.NaN]));
        Assert.Equal(3, Sampling.ArgMax([-1f, -2f, -3f, float.PositiveInfinity]));
    }

    [Fact]
    public void Nothing_allocates()
    {
        var logits = RandomLogits(67, 4);
        var scratch = new float[67];
        var rng = new Pcg32(1);
        var sink = 0;

        void Work(ref Pcg32 random)
        {
            for (var i = 0; i < 10_000; i++)
            {
                Sampling.Softmax(logits, scratch, 0.8f);
                sink += Sampling.Sample(scratch, ref random);
                sink += Sampling.Sample(scratch, random.NextFloat());
                sink += Sampling.SampleWithTemperature(logits, 1.3f, scratch, ref random);
                sink += Sampling.ArgMax(logits);
                sink += (int)(random.NextDouble() * 2);
            }
        }

        Work(ref rng);    // warm-up: JIT, tiering
        Assert.Equal(0, Allocations.Fewest(() => Work(ref rng), calls: 1));
        Assert.NotEqual(0, sink);
    }
}
