using System;

namespace StaticRnn.Tests.Fixtures;

public delegate void FloatPredict(ReadOnlySpan<float> input, Span<float> output);
public delegate void TokenPredict(ReadOnlySpan<int> tokens, Span<float> output);

/// <summary>Feeds one whole sequence through <c>Step</c> from a default <c>State</c>, writing
/// <c>StepOutputSize</c> floats per step into <c>stepOutputs</c> (length SequenceLength * StepOutputSize).</summary>
public delegate void FloatStepRun(ReadOnlySpan<float> sequence, Span<float> stepOutputs);
public delegate void TokenStepRun(ReadOnlySpan<int> tokens, Span<float> stepOutputs);

/// <summary>One generated fixture model, as the tests see it. Exactly one of the float or token groups is set;
/// the step runner is null for bidirectional models (they have no <c>Step</c>), and StepOutputSize is then 0.</summary>
public sealed record FixtureModel(
    string Name,
    int SequenceLength,
    int InputSize,
    int OutputSize,
    int StepOutputSize,
    FloatPredict? Predict,
    FloatPredict? PredictBatch,
    FloatStepRun? StepRun,
    TokenPredict? PredictTokens,
    TokenPredict? PredictBatchTokens,
    TokenStepRun? StepRunTokens)
{
    public bool TakesTokens => PredictTokens is not null;
    public override string ToString() => Name;
}
