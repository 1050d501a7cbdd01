using System;
using StaticRnn;

namespace StaticRnn.Benchmarks;

// The seeds' Keras sentiment model: Embedding(10000, 256) + LSTM(128) + Dense(1, sigmoid), T = 200.
// 2.76M weights (2.56M of them the embedding table): the costliest model here to generate and compile.
// This file is left out of the build with -p:StaticRnnBenchSentiment=false (see the .csproj and README.md).

[RnnModel("Models/sentiment.safetensors", SequenceLength = 200)]
[Embedding(10000, 256, Weights = "embedding")]
[Lstm(128, Weights = "rnn")]
[Dense(1, Activation = Activation.Sigmoid, Weights = "fc")]
public static partial class Sentiment { }

public readonly struct SentimentModel : ITokenModel
{
    public static string FileName => "sentiment";
    public static int SequenceLength => Sentiment.SequenceLength;
    public static int InputSize => Sentiment.InputSize;
    public static int OutputSize => Sentiment.OutputSize;
    public static int VocabularySize => Sentiment.VocabularySize;
    // The embedding is a row copy per step (no flops).
    public static long FlopsPerSequence => Flops.Recurrent(4, 256, 128, 200) + Flops.Dense(128, 1);
    public static void Predict(ReadOnlySpan<int> tokens, Span<float> output) => Sentiment.Predict(tokens, output);
    public static void PredictBatch(ReadOnlySpan<int> tokens, Span<float> outputs) => Sentiment.PredictBatch(tokens, outputs);
}

[BenchmarkDotNet.Attributes.BenchmarkCategory("sentiment")]
public class SentimentBenchmarks : TokenModelBenchmarks<SentimentModel> { }
