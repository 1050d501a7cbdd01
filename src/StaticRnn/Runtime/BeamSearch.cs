using System;
using System.ComponentModel;

namespace StaticRnn.Runtime;

/// <summary>One decoding step of a generated decoder, for <see cref="BeamSearch"/>: reads the previous token, advances
/// the recurrent state in place, and writes the logits of the next token.</summary>
/// <remarks>Public only so generated code in user assemblies can call it; not a supported API.</remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface IDecoderStep
{
    /// <param name="memory">What the decoder keeps of the source sentence (the encoder's outputs and their projections).</param>
    /// <param name="state">One hypothesis's recurrent state.</param>
    /// <param name="token">The hypothesis's last token.</param>
    /// <param name="logits">Receives one logit per target token.</param>
    static abstract void Step(ReadOnlySpan<float> memory, Span<float> state, int token, Span<float> logits);
}

/// <summary>
/// Beam search over a generated decoder. Hypotheses are scored by the sum of their tokens' log-probabilities
/// (log-softmax of the logits, in double). Each step extends every live hypothesis by every token; a hypothesis
/// that writes the end token is finished (the best finished one is kept); the best <c>width</c> others live
/// on, ties going to the earlier hypothesis, then the smaller token. The search stops when the best finished
/// hypothesis scores at least as well as the best live one (scores only fall), when none lives, or after the
/// maximum length; it returns the best of the finished and live hypotheses. All memory is allocated by the
/// constructor, for searches of up to <see cref="Capacity"/> hypotheses: a search allocates nothing.
/// </summary>
/// <remarks>Public only so generated code in user assemblies can call it; not a supported API.</remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class BeamSearch
{
    private readonly int _stateSize;
    private readonly int _vocabularySize;
    private readonly int _maxLength;
    private float[] _states, _nextStates;
    private int[] _tokens, _nextTokens;
    private double[] _scores, _nextScores;
    private readonly int[] _parents, _choices;
    private readonly float[] _logits;
    private readonly int[] _finished;

    /// <summary>Room for searches of up to <paramref name="capacity"/> hypotheses.</summary>
    public BeamSearch(int capacity, int stateSize, int vocabularySize, int maxLength)
    {
        if (capacity < 1)
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "The beam width must be at least 1.");
        Capacity = capacity;
        var width = capacity;
        _stateSize = stateSize;
        _vocabularySize = vocabularySize;
        _maxLength = maxLength;
        _states = new float[width * stateSize];
        _nextStates = new float[width * stateSize];
        _tokens = new int[width * maxLength];
        _nextTokens = new int[width * maxLength];
        _scores = new double[width];
        _nextScores = new double[width];
        _parents = new int[width];
        _choices = new int[width];
        _logits = new float[vocabularySize];
        _finished = new int[maxLength];
    }

    /// <summary>The most hypotheses a search can keep alive.</summary>
    public int Capacity { get; }

    /// <summary>Searches with <paramref name="width"/> live hypotheses (1 to <see cref="Capacity"/>) from
    /// <paramref name="initialState"/> and the start token; writes the best hypothesis's tokens (the end token included,
    /// if it ended) to <paramref name="target"/> and returns how many.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public int Run<TStep>(int width, ReadOnlySpan<float> memory, ReadOnlySpan<float> initialState, int startToken, int endToken, Span<int> target)
        where TStep : IDecoderStep
    {
        if ((uint)(width - 1) >= (uint)Capacity)
            throw new ArgumentOutOfRangeException(nameof(width), width, $"The beam width must be 1 to {Capacity}.");
        initialState.CopyTo(_states);
        _scores[0] = 0;
        var alive = 1;
        var finishedScore = double.NegativeInfinity;
        var finishedLength = 0;
        var length = 0;   // tokens each live hypothesis has written
        while (length < _maxLength && alive > 0)
        {
            var chosen = 0;
            for (var b = 0; b < alive; b++)
            {
                var state = _states.AsSpan(b * _stateSize, _stateSize);
                TStep.Step(memory, state, length == 0 ? startToken : _tokens[b * _maxLength + length - 1], _logits);
                var normalizer = LogSumExp(_logits);
                for (var v = 0; v < _vocabularySize; v++)
                {
                    var score = _scores[b] + (_logits[v] - normalizer);
                    if (v == endToken)
                    {
                        if (score > finishedScore)
                        {
                            finishedScore = score;
                            finishedLength = length + 1;
                            _tokens.AsSpan(b * _maxLength, length).CopyTo(_finished);
                            _finished[length] = endToken;
                        }
                        continue;
                    }
                    // Insert into the best `chosen` candidates, sorted by score; equal scores keep their arrival order.
                    if (chosen == width && score <= _nextScores[width - 1])
                        continue;
                    var at = Math.Min(chosen, width - 1);
                    while (at > 0 && _nextScores[at - 1] < score)
                    {
                        _nextScores[at] = _nextScores[at - 1];
                        _parents[at] = _parents[at - 1];
                        _choices[at] = _choices[at - 1];
                        at--;
                    }
                    _nextScores[at] = score;
                    _parents[at] = b;
                    _choices[at] = v;
                    chosen = Math.Min(chosen + 1, width);
                }
            }
            for (var i = 0; i < chosen; i++)
            {
                var parent = _parents[i];
                _states.AsSpan(parent * _stateSize, _stateSize).CopyTo(_nextStates.AsSpan(i * _stateSize, _stateSize));
                _tokens.AsSpan(parent * _maxLength, length).CopyTo(_nextTokens.AsSpan(i * _maxLength, length));
                _nextTokens[i * _maxLength + length] = _choices[i];
            }
            (_states, _nextStates) = (_nextStates, _states);
            (_tokens, _nextTokens) = (_nextTokens, _tokens);
            (_scores, _nextScores) = (_nextScores, _scores);
            alive = chosen;
            length++;
            if (alive > 0 && finishedScore >= _scores[0])
                break;
        }
        if (alive == 0 || finishedScore >= _scores[0])
        {
            _finished.AsSpan(0, finishedLength).CopyTo(target);
            return finishedLength;
        }
        _tokens.AsSpan(0, length).CopyTo(target);
        return length;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static double LogSumExp(ReadOnlySpan<float> logits)
    {
        var max = double.NegativeInfinity;
        foreach (var x in logits)
            max = Math.Max(max, x);
        var sum = 0.0;
        foreach (var x in logits)
            sum += Math.Exp(x - max);
        return max + Math.Log(sum);
    }
}
