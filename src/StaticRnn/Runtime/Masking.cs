using System;
using System.ComponentModel;

namespace StaticRnn.Runtime;

/// <summary>
/// Keras's <c>mask_zero</c> for generated models with <c>[Embedding(MaskZero = true)]</c>. A masked step (token 0) leaves
/// every state unchanged, so a sequence runs as the sequence of its other tokens: generated code compacts those to the
/// front (<see cref="Compact"/>), runs them as a sequence of that length, and puts each step's output back at its
/// position (<see cref="Expand"/>).
/// </summary>
/// <remarks>Public only so generated code in user assemblies can call it; not a supported API.</remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Masking
{
    /// <summary>Copies the tokens that are not 0, in order, to the front of <paramref name="compact"/>; returns how many.</summary>
    public static int Compact(ReadOnlySpan<int> tokens, Span<int> compact)
    {
        var length = 0;
        foreach (var token in tokens)
        {
            if (token != 0)
                compact[length++] = token;
        }
        return length;
    }

    /// <summary>
    /// Moves the per-step output rows of a compacted sequence (<paramref name="length"/> real rows, then rows computed past
    /// its end) to the positions of <paramref name="tokens"/> that are not 0, and fills the masked positions as Keras does:
    /// with the output of the last real step before them, or the output past the end (what the network gives for a zero
    /// state) where there is none (<paramref name="carry"/>, a unidirectional layer), or always with the latter (a
    /// Bidirectional layer, which zeroes its masked outputs). Steps past the end of <paramref name="tokens"/> (a sequence
    /// given a length) are padding, masked like token 0, and their tokens are not read.
    /// </summary>
    /// <param name="rows">The sequence's output: one row of <paramref name="width"/> floats per step (SequenceLength rows).</param>
    /// <param name="width">Floats per step.</param>
    /// <param name="tokens">The sequence's tokens up to its length, 0 for a masked step.</param>
    /// <param name="length">How many tokens are not 0: the real rows at the front of <paramref name="rows"/>.</param>
    /// <param name="carry">Whether a masked step repeats the last real step's row.</param>
    /// <param name="zeroRow">Room for one row.</param>
    public static void Expand(Span<float> rows, int width, ReadOnlySpan<int> tokens, int length, bool carry, Span<float> zeroRow)
    {
        var steps = rows.Length / width;
        if (length == steps)
            return;   // nothing masked: already in place
        rows.Slice(length * width, width).CopyTo(zeroRow);
        // From the last real step back: each row moves to a later or the same position, over rows already moved.
        var position = tokens.Length;
        for (var j = length - 1; j >= 0; j--)
        {
            do
                position--;
            while (tokens[position] == 0);
            if (position != j)
                rows.Slice(j * width, width).CopyTo(rows.Slice(position * width, width));
        }
        var last = -1;
        for (var t = 0; t < steps; t++)
        {
            if (t < tokens.Length && tokens[t] != 0)
                last = t;
            else if (carry && last >= 0)
                rows.Slice(last * width, width).CopyTo(rows.Slice(t * width, width));
            else
                zeroRow.CopyTo(rows.Slice(t * width, width));
        }
    }
}
