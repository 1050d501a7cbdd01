namespace StaticRnn.Runtime;

/// <summary>
/// How the generator packs recurrent weights, shared with the kernels that read them.
/// Units are grouped in blocks of <see cref="Block"/> (a multiple of every vector width, so no kernel has a
/// tail); inside a block the gates are interleaved: an LSTM's columns run [i, f, g, o] × 16 units, then the
/// next 16 units. One unit chunk's gates are therefore adjacent, and a kernel finishes a chunk's gate
/// pre-activations and applies the cell's activations while they are still in registers.
/// Input weights and biases are [inputs][gates × padded] in that column order. Recurrent weights are
/// block-major: all hidden rows of unit block 0, then of block 1, ...; a step streams one block's rows
/// contiguously, and a batch keeps a block's rows in L1 while every sequence uses them.
/// </summary>
public static class PackedLayout
{
    /// <summary>Units per block: 16 floats, one 512-bit vector.</summary>
    public const int Block = 16;

    /// <summary><paramref name="units"/> rounded up to whole blocks.</summary>
    public static int Padded(int units) => (units + Block - 1) / Block * Block;

    /// <summary>The packed column of gate <paramref name="gate"/> of unit <paramref name="unit"/>.</summary>
    public static int Column(int gate, int unit, int gates) => (unit / Block * gates + gate) * Block + unit % Block;
}
