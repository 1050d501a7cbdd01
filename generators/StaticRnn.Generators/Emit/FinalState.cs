using System.Collections.Generic;
using StaticRnn.Generators.Model;
using StaticRnn.Runtime;

namespace StaticRnn.Generators.Emit;

/// <summary>
/// The final state of a model whose last layer is recurrent, in PyTorch's order: h of each direction (forward, then
/// backward), then, for an LSTM, c of each direction (<c>h_n</c>, <c>c_n</c> of the top level). The decoder of an
/// encoder–decoder starts from it. Models that mask token 0 have none (their forward pass runs compacted sequences).
/// </summary>
internal sealed record FinalState(RecurrentLayer Layer)
{
    public int Directions => Layer.Bidirectional ? 2 : 1;
    public int Hidden => Layer.HiddenSize;
    /// <summary>Floats of h of every direction; c of every direction follows for an LSTM.</summary>
    public int HiddenPart => Directions * Hidden;
    public int Size => HiddenPart * (Layer.HasCellState ? 2 : 1);

    public string Description =>
        (Directions == 2 ? $"h of the forward and the backward direction ({Hidden} each)" : $"h ({Hidden})")
        + (Layer.HasCellState ? (Directions == 2 ? ", then c of each" : ", then c") : "");

    public static FinalState? Of(Network network)
    {
        var last = NetworkEmitter.LastComputingLayer(network);
        return last >= 0 && network.Layers[last] is RecurrentLayer recurrent && !network.MaskZero ? new FinalState(recurrent) : null;
    }

    /// <summary>Where the forward pass leaves each piece in its scratch (one sequence), and where it goes: the layer's
    /// temporaries start with the gates of every step, then one state region per direction (see
    /// <c>NetworkEmitter.WriteRecurrent</c>), each h then, after its two halves, c.</summary>
    public IEnumerable<(int From, int To, int Width)> Copies(ScratchLayout layout, int steps)
    {
        var padded = WeightPacking.Padded(Hidden);
        var states = layout.TempOffset + ScratchLayout.Blocks(steps * Layer.Gates * padded);
        for (var d = 0; d < Directions; d++)
        {
            var state = states + d * ScratchLayout.Blocks(ScratchLayout.StateSize(Layer));
            yield return (state, d * Hidden, Hidden);
            if (Layer.HasCellState)
                yield return (state + 2 * padded, HiddenPart + d * Hidden, Hidden);
        }
    }
}
