using System;
using System.ComponentModel;
using System.Diagnostics.CodeAnalysis;

namespace StaticRnn.Runtime;

/// <summary>Argument checks for generated members; each failure names the expected and the actual size.</summary>
/// <remarks>Public only so generated code in user assemblies can call it; not a supported API.</remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Guard
{
    /// <summary>Throws unless <paramref name="actual"/> == <paramref name="expected"/>.</summary>
    public static void Length(int actual, int expected, string what, string parameterName)
    {
        if (actual != expected)
            ThrowLength(actual, expected, what, parameterName);
    }

    /// <summary>Throws unless <paramref name="actual"/> ≥ <paramref name="minimum"/>.</summary>
    public static void AtLeast(int actual, int minimum, string what, string parameterName)
    {
        if (actual < minimum)
            throw new ArgumentException($"{parameterName} must hold at least {what} = {minimum} values; it holds {actual}.", parameterName);
    }

    /// <summary>Checks a batch: the input holds a whole number of sequences and the output room for all of them.
    /// Returns the number of sequences.</summary>
    public static int Batch(int inputLength, int sequenceSize, string inputName, int outputLength, int outputSize, string outputName)
    {
        var count = inputLength / sequenceSize;
        if (count * sequenceSize != inputLength)
        {
            throw new ArgumentException(
                $"{inputName} must hold a whole number of sequences of {sequenceSize} values each; it holds {inputLength} " +
                $"({count} sequences and {inputLength - count * sequenceSize} values left over).", inputName);
        }
        if ((long)count * outputSize != outputLength)
        {
            throw new ArgumentException(
                $"{outputName} must hold {count} × {outputSize} = {(long)count * outputSize} floats for the {count} sequences in {inputName}; it holds {outputLength}.",
                outputName);
        }
        return count;
    }

    /// <summary>Throws unless every token is in [0, <paramref name="vocabularySize"/>).</summary>
    public static void Tokens(ReadOnlySpan<int> tokens, int vocabularySize, string parameterName)
    {
        for (var i = 0; i < tokens.Length; i++)
        {
            if ((uint)tokens[i] >= (uint)vocabularySize)
                ThrowToken(tokens[i], i, vocabularySize, parameterName);
        }
    }

    /// <summary>Throws unless <paramref name="lengths"/> holds one length per sequence, each from 1 to <paramref name="maximum"/>.</summary>
    public static void Lengths(ReadOnlySpan<int> lengths, int count, int maximum, string parameterName)
    {
        if (lengths.Length != count)
            throw new ArgumentException($"{parameterName} must hold one length per sequence, {count}; it holds {lengths.Length}.", parameterName);
        for (var i = 0; i < lengths.Length; i++)
        {
            if ((uint)(lengths[i] - 1) >= (uint)maximum)
                throw new ArgumentOutOfRangeException(parameterName, lengths[i], $"{parameterName}[{i}] is {lengths[i]}; expected 1 to {maximum} (SequenceLength).");
        }
    }

    /// <summary>Throws unless each sequence's first <c>lengths[s]</c> tokens are in [0, <paramref name="vocabularySize"/>);
    /// the padding after them is not read.</summary>
    public static void Tokens(ReadOnlySpan<int> tokens, ReadOnlySpan<int> lengths, int sequenceLength, int vocabularySize, string parameterName)
    {
        for (var s = 0; s < lengths.Length; s++)
        {
            for (var t = 0; t < lengths[s]; t++)
            {
                var token = tokens[s * sequenceLength + t];
                if ((uint)token >= (uint)vocabularySize)
                    ThrowToken(token, s * sequenceLength + t, vocabularySize, parameterName);
            }
        }
    }

    /// <summary>Throws unless <paramref name="token"/> is in [0, <paramref name="vocabularySize"/>).</summary>
    public static void Token(int token, int vocabularySize, string parameterName)
    {
        if ((uint)token >= (uint)vocabularySize)
            ThrowToken(token, -1, vocabularySize, parameterName);
    }

    [DoesNotReturn]
    private static void ThrowLength(int actual, int expected, string what, string parameterName) =>
        throw new ArgumentException($"{parameterName} must hold {what} = {expected} values; it holds {actual}.", parameterName);

    [DoesNotReturn]
    private static void ThrowToken(int token, int position, int vocabularySize, string parameterName) =>
        throw new ArgumentOutOfRangeException(parameterName, token,
            $"Token {token}{(position >= 0 ? $" at position {position}" : "")} is outside the vocabulary: expected 0 to {vocabularySize - 1}.");
}
