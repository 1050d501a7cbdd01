using System.Runtime.CompilerServices;

namespace StaticRnn;

/// <summary>
/// A small, fast, seeded pseudo-random generator: PCG32 (PCG-XSH-RR with 64-bit state and 32-bit output,
/// M. E. O'Neill, <see href="https://www.pcg-random.org/">pcg-random.org</see>), exactly as the reference
/// <c>pcg32_random_r</c> and <c>pcg32_srandom_r</c> of pcg-c-basic define it.
/// </summary>
/// <remarks>
/// <para>The sequence depends only on the seed and the stream: it is the same on every platform, processor and
/// .NET version, and the same as the C reference's (<c>new Pcg32(42, 54)</c> starts 0xa15c02b7, 0x7b47f409,
/// 0xba1d3330, like <c>pcg32-demo</c>). Period 2⁶⁴ per stream, 2⁶³ streams.</para>
/// <para>It is a mutable value type of 16 bytes: pass it by <see langword="ref"/> (a copy continues the sequence
/// independently, which also makes snapshots trivial). It allocates nothing and is not thread-safe: give each
/// thread its own. <c>default(Pcg32)</c> is unseeded (state 0, increment 1: its first values are 0, 0, ...);
/// make one with a constructor.</para>
/// <para><b>Not cryptographic.</b> Its output is predictable from a few values; use
/// <see cref="System.Security.Cryptography.RandomNumberGenerator"/> for keys, tokens or anything an adversary
/// must not guess.</para>
/// </remarks>
public struct Pcg32
{
    /// <summary>The stream <see cref="Pcg32(ulong)"/> uses: the one of pcg-c-basic's <c>PCG32_INITIALIZER</c>
    /// (increment 0xda3e39cb94b95bdb = 2 × <see cref="DefaultStream"/> + 1).</summary>
    public const ulong DefaultStream = 0xda3e39cb94b95bdbUL >> 1;

    private const ulong Multiplier = 6364136223846793005UL;

    private ulong _state;
    private ulong _increment;

    /// <summary>A generator on the default stream (<see cref="DefaultStream"/>), seeded with
    /// <paramref name="seed"/>: <c>pcg32_srandom_r(&amp;rng, seed, DefaultStream)</c>.</summary>
    public Pcg32(ulong seed) : this(seed, DefaultStream) { }

    /// <summary>A generator seeded with <paramref name="seed"/> on stream <paramref name="stream"/> (only its low 63
    /// bits count): <c>pcg32_srandom_r(&amp;rng, seed, stream)</c>. Different streams give unrelated sequences for
    /// the same seed.</summary>
    public Pcg32(ulong seed, ulong stream)
    {
        _state = 0;
        _increment = (stream << 1) | 1;
        NextUInt32();
        _state += seed;
        NextUInt32();
    }

    /// <summary>The next 32 random bits, uniform over [0, 2³²).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint NextUInt32()
    {
        var old = _state;
        // The constructors make the increment odd; | 1 does the same for default(Pcg32), which would otherwise be stuck at 0.
        _state = unchecked(old * Multiplier + (_increment | 1));
        var xorShifted = (uint)(((old >> 18) ^ old) >> 27);
        var rotation = (int)(old >> 59);
        return (xorShifted >> rotation) | (xorShifted << (-rotation & 31));
    }

    /// <summary>A uniform float in [0, 1): the top 24 bits of <see cref="NextUInt32"/> times 2⁻²⁴, so every
    /// value is a multiple of 2⁻²⁴ and exactly representable, 0 is possible and 1 is not.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float NextFloat() => (NextUInt32() >> 8) * (1.0f / (1 << 24));

    /// <summary>A uniform double in [0, 1) with 53 random bits (two <see cref="NextUInt32"/> calls).</summary>
    public double NextDouble()
    {
        var high = (ulong)(NextUInt32() >> 5);    // 27 bits
        var low = (ulong)(NextUInt32() >> 6);     // 26 bits
        return ((high << 26) | low) * (1.0 / (1UL << 53));
    }
}
