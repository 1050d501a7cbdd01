using System.Collections.Generic;
using StaticRnn.Generators.Model;
using StaticRnn.Runtime;
using StaticRnn.Generators.Parsing;

namespace StaticRnn.Generators.Emit;

/// <summary>Where the forward pass keeps its intermediate values inside one scratch span, per sequence (the
/// generated code multiplies every offset by the number of sequences in the group): each layer's output
/// (except the last, which is written straight to the caller's span), then one region of temporaries that the
/// layers share, since each layer's temporaries die when it ends. Every region takes whole blocks of 16 floats,
/// so that on the 64-byte aligned scratch (<c>StaticRnn.Runtime.Scratch</c>) each one starts on a cache line.</summary>
internal sealed class ScratchLayout
{
    private readonly Dictionary<int, (int Offset, int Size)> _outputs = new();

    public int TempOffset { get; private set; }

    /// <summary>Floats of scratch per sequence.</summary>
    public int PerSequence { get; private set; }

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
                offset += Blocks(size);
            }
            temp = System.Math.Max(temp, TempSize(layer, network.SequenceLength));
        }
        layout.TempOffset = offset;
        layout.PerSequence = System.Math.Max(1, offset + temp);
        return layout;
    }

    /// <summary>Floats of state per sequence and direction the recurrent kernel works in: h twice (read and
    /// written alternately), then c for an LSTM, all padded to whole blocks.</summary>
    public static int StateSize(RecurrentLayer layer) => WeightPacking.Padded(layer.HiddenSize) * (layer.HasCellState ? 3 : 2);

    /// <summary><paramref name="floats"/> rounded up to whole blocks of 16.</summary>
    public static int Blocks(int floats) => WeightPacking.Padded(floats);

    /// <summary>What <see cref="NetworkEmitter"/> takes from the temporaries for a layer, per sequence (each piece whole
    /// blocks, as <see cref="Temp.Take"/> hands them out).</summary>
    public static int TempSize(NetworkLayer layer, int steps)
    {
        switch (layer)
        {
            case DenseLayer dense:
                return Blocks((dense.Input.IsSequence ? steps : 1) * WeightPacking.Padded(dense.Output.Width));
            case RecurrentLayer recurrent:
                var directions = recurrent.Bidirectional ? 2 : 1;
                var sequence = Blocks(steps * recurrent.HiddenSize * directions);
                var size = Blocks(steps * recurrent.Gates * WeightPacking.Padded(recurrent.HiddenSize)) + directions * Blocks(StateSize(recurrent));
                size += System.Math.Min(2, recurrent.Stack.Count - 1) * sequence;
                if (recurrent.ReturnSequences && recurrent.Bidirectional && recurrent.MergeMode != MergeMode.Concat)
                    size += sequence;
                return size;
            default:
                return 0;
        }
    }

    /// <summary>Hands out consecutive regions of the temporaries, for one layer.</summary>
    public sealed class Temp(int start)
    {
        private int _next = start;

        /// <summary>The offset of the next <paramref name="size"/> floats.</summary>
        public int Take(int size)
        {
            var offset = _next;
            _next += Blocks(size);
            return offset;
        }
    }
}
