namespace StaticRnn.Generators.Emit;

/// <summary>
/// Packs canonical weights (PyTorch layouts: [gates × hidden, inputs] row-major, gate blocks in the cell's
/// order) into the layout the runtime kernels read (StaticRnn.Runtime.PackedLayout): transposed, units padded
/// to blocks of 16, gates interleaved per block. Padding is zeros, so padded units stay zero.
/// </summary>
internal static class WeightPacking
{
    /// <summary>Must equal StaticRnn.Runtime.PackedLayout.Block.</summary>
    public const int Block = 16;

    public static int Padded(int units) => (units + Block - 1) / Block * Block;

    public static int Column(int gate, int unit, int gates) => (unit / Block * gates + gate) * Block + unit % Block;

    /// <summary>[gates × hidden, inputs] → [inputs][gates × padded hidden], gate-interleaved.</summary>
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

    /// <summary>A dense layer's [units, inputs] → [inputs][padded units].</summary>
    public static float[] DenseMatrix(float[] weights, int units, int inputs) => GateMatrix(weights, 1, units, inputs);

    /// <summary>[units] (or none) → [padded units].</summary>
    public static float[] DenseBias(float[]? bias, int units) => bias is null ? new float[Padded(units)] : GateVector(bias, 1, units);
}
