using System.ComponentModel;

namespace StaticRnn.Runtime;

/// <summary>
/// The weight layout the kernels read, and the functions that pack canonical weights (PyTorch layouts:
/// [gates × hidden, inputs] row-major, gate blocks in the cell's order) into it.
/// Units are grouped in blocks of <see cref="Block"/> (a multiple of every vector width, so no kernel has a
/// tail); inside a block the gates are interleaved: an LSTM's columns run [i, f, g, o] × 16 units, then the
/// next 16 units. One unit chunk's gates are therefore adjacent, and a kernel finishes a chunk's gate
/// pre-activations and applies the cell's activations while they are still in registers. Input weights
/// and biases are [inputs][gates × padded] in that column order; recurrent weights are block-major (all
/// hidden rows of unit block 0, then of block 1, ...), so a step streams one block's rows contiguously and a
/// batch keeps them in L1 while every sequence uses them. Padding is zeros, so padded units stay zero.
/// The generator packs small tensors at build time with this same file (linked into it); large tensors read
/// from the weight file embedded in the assembly are packed with it at type initialization, by code compiled optimized
/// at once (AggressiveOptimization: it runs once, over millions of values, too few calls to leave tier 0 in time).
/// </summary>
/// <remarks>Public only so generated code in user assemblies can call it; not a supported API.</remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class WeightPacking
{
    /// <summary>Units per block, as the kernels read them (PackedLayout.Block in the runtime).</summary>
    public const int Block = 16;

    /// <summary><paramref name="units"/> rounded up to whole blocks.</summary>
    public static int Padded(int units) => (units + Block - 1) / Block * Block;

    /// <summary>The packed column of gate <paramref name="gate"/> of unit <paramref name="unit"/>.</summary>
    public static int Column(int gate, int unit, int gates) => (unit / Block * gates + gate) * Block + unit % Block;

    /// <summary>[gates × hidden, inputs] → [inputs][gates × padded hidden], gate-interleaved.</summary>
#if NET
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
#endif
    public static float[] GateMatrix(float[] weights, int gates, int hidden, int inputs)
    {
        var columns = gates * Padded(hidden);
        var packed = new float[inputs * columns];
        for (var gate = 0; gate < gates; gate++)
        {
            for (var unit = 0; unit < hidden; unit++)
            {
                var row = (gate * hidden + unit) * inputs;
                var column = Column(gate, unit, gates);
                for (var j = 0; j < inputs; j++)
                    packed[j * columns + column] = weights[row + j];
            }
        }
        return packed;
    }

    /// <summary>W_hh [gates × hidden, hidden] → block-major: for each block of 16 units, its hidden rows of
    /// gates × 16 gate-interleaved columns, one block after another.</summary>
#if NET
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
#endif
    public static float[] RecurrentMatrix(float[] weights, int gates, int hidden)
    {
        var blockSize = hidden * gates * Block;
        var packed = new float[Padded(hidden) / Block * blockSize];
        for (var gate = 0; gate < gates; gate++)
        {
            for (var unit = 0; unit < hidden; unit++)
            {
                var row = (gate * hidden + unit) * hidden;
                var start = unit / Block * blockSize + gate * Block + unit % Block;
                for (var j = 0; j < hidden; j++)
                    packed[start + j * gates * Block] = weights[row + j];
            }
        }
        return packed;
    }

    /// <summary>[gates × hidden] → [gates × padded hidden], gate-interleaved.</summary>
    public static float[] GateVector(float[] values, int gates, int hidden)
    {
        var packed = new float[gates * Padded(hidden)];
        for (var gate = 0; gate < gates; gate++)
        {
            for (var unit = 0; unit < hidden; unit++)
                packed[Column(gate, unit, gates)] = values[gate * hidden + unit];
        }
        return packed;
    }

    /// <summary>A Keras kernel [inputs, gates × units] → the canonical [gates × units, inputs], with a GRU's gate
    /// blocks reordered from Keras's z, r, h to PyTorch's r, z, n (LSTM and SimpleRNN gates keep their order).</summary>
#if NET
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
#endif
    public static float[] FromKeras(float[] kernel, int inputs, int units, int gates, bool gruGateOrder)
    {
        var columns = gates * units;
        var canonical = new float[columns * inputs];
        for (var gate = 0; gate < gates; gate++)
        {
            var from = gruGateOrder && gate < 2 ? 1 - gate : gate;
            for (var unit = 0; unit < units; unit++)
            {
                var row = (gate * units + unit) * inputs;
                var column = from * units + unit;
                for (var j = 0; j < inputs; j++)
                    canonical[row + j] = kernel[j * columns + column];
            }
        }
        return canonical;
    }

    /// <summary>A dense layer's [units, inputs] → [inputs][padded units].</summary>
    public static float[] DenseMatrix(float[] weights, int units, int inputs) => GateMatrix(weights, 1, units, inputs);

    /// <summary>[units] (or none) → [padded units].</summary>
    public static float[] DenseBias(float[]? bias, int units) => bias is null ? new float[Padded(units)] : GateVector(bias, 1, units);
}
