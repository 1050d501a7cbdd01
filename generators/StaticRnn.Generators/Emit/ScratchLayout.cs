using System.Collections.Generic;
using StaticRnn.Generators.Model;
using StaticRnn.Generators.Parsing;

namespace StaticRnn.Generators.Emit;

/// <summary>Where the forward pass keeps its intermediate values inside one scratch span: each layer's output
/// (except the last, which is written straight to the caller's span), then one region of temporaries that the
/// layers share, since each layer's temporaries die when it ends.</summary>
internal sealed class ScratchLayout
{
    private readonly Dictionary<int, (int Offset, int Size)> _outputs = new();

    public int TempOffset { get; private set; }
    public int Size { get; private set; }

    public int OutputOffset(NetworkLayer layer) => _outputs[layer.Number].Offset;
    public int OutputSize(NetworkLayer layer) => _outputs[layer.Number].Size;

    public static ScratchLayout ForForwardPass(Network network)
    {
        var layout = new ScratchLayout();
        var last = NetworkEmitter.LastComputingLayer(network);
        var offset = 0;
        var temp = 0;
        for (var i = 0; i < network.Layers.Count; i++)
        {
            var layer = network.Layers[i];
            if (layer is DropoutLayer)
                continue;
            if (i != last)
            {
                var size = layer.Output.IsSequence ? network.SequenceLength * layer.Output.Width : layer.Output.Width;
                layout._outputs[layer.Number] = (offset, size);
                offset += size;
            }
            if (layer is RecurrentLayer recurrent)
                temp = System.Math.Max(temp, RecurrentTempSize(recurrent, network.SequenceLength));
        }
        layout.TempOffset = offset;
        layout.Size = offset + temp;
        return layout;
    }

    /// <summary>What <see cref="NetworkEmitter"/> slices for a recurrent layer: h (and c) per direction, the gate
    /// work, up to two sequences passed between stacked layers, and the unmerged output of a per-step
    /// bidirectional layer that does not concatenate.</summary>
    public static int RecurrentTempSize(RecurrentLayer layer, int steps)
    {
        var directions = layer.Bidirectional ? 2 : 1;
        var sequence = steps * layer.HiddenSize * directions;
        var size = directions * layer.HiddenSize * (layer.HasCellState ? 2 : 1) + CellEmitter.WorkSize(layer);
        size += System.Math.Min(2, layer.Stack.Count - 1) * sequence;
        if (layer.ReturnSequences && layer.Bidirectional && layer.MergeMode != MergeMode.Concat)
            size += sequence;
        return size;
    }
}
