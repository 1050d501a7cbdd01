using System;
using StaticRnn;

namespace StaticRnn.ColdStart;

// The benchmark models (benchmarks/StaticRnn.Benchmarks/Models.cs), declared again: this app is a user's app that
// compiles them in, and nothing else.

[RnnModel("../StaticRnn.Benchmarks/Models/sine_rnn.safetensors", SequenceLength = 100, InputSize = 1)]
[SimpleRnn(8, Weights = "rnn")]
[Dense(100, Weights = "fc")]
public static partial class SineRnn { }

[RnnModel("../StaticRnn.Benchmarks/Models/sine_lstm.safetensors", SequenceLength = 100, InputSize = 1)]
[Lstm(8, Weights = "rnn")]
[Dense(100, Weights = "fc")]
public static partial class SineLstm { }

[RnnModel("../StaticRnn.Benchmarks/Models/sine_gru.safetensors", SequenceLength = 100, InputSize = 1)]
[Gru(8, Weights = "rnn")]
[Dense(100, Weights = "fc")]
public static partial class SineGru { }

[RnnModel("../StaticRnn.Benchmarks/Models/lstm_16_64.safetensors", SequenceLength = 100, InputSize = 16)]
[Lstm(64, Weights = "rnn")]
[Dense(1, Weights = "fc")]
public static partial class Lstm16x64 { }

[RnnModel("../StaticRnn.Benchmarks/Models/gru_16_64.safetensors", SequenceLength = 100, InputSize = 16)]
[Gru(64, Weights = "rnn")]
[Dense(1, Weights = "fc")]
public static partial class Gru16x64 { }

[RnnModel("../StaticRnn.Benchmarks/Models/lstm_64_128.safetensors", SequenceLength = 100, InputSize = 64)]
[Lstm(128, Weights = "rnn")]
[Dense(1, Weights = "fc")]
public static partial class Lstm64x128 { }

[RnnModel("../StaticRnn.Benchmarks/Models/gru_64_128.safetensors", SequenceLength = 100, InputSize = 64)]
[Gru(128, Weights = "rnn")]
[Dense(1, Weights = "fc")]
public static partial class Gru64x128 { }

[RnnModel("../StaticRnn.Benchmarks/Models/sentiment.safetensors", SequenceLength = 200)]
[Embedding(10000, 256, Weights = "embedding")]
[Lstm(128, Weights = "rnn")]
[Dense(1, Activation = Activation.Sigmoid, Weights = "fc")]
public static partial class Sentiment { }

[RnnModel("../StaticRnn.Benchmarks/Models/char_lstm.safetensors", SequenceLength = 1)]
[Embedding(65, 32, Weights = "embedding")]
[Lstm(128, Layers = 2, Weights = "rnn")]
[Dense(65, Weights = "fc")]
public static partial class CharLstm { }

// The Translator sample's encoder-decoder (samples/Translator/Models.cs): its "predict" is Translate of one date,
// its "step" one DecodeStep.

[RnnModel("../../samples/Translator/models/dates.safetensors", SequenceLength = 30)]
[Embedding(39, 64, Weights = "encoder.embedding")]
[Gru(64, ReturnSequences = true, Weights = "encoder.gru")]
public static partial class DateEncoder { }

[RnnDecoder("../../samples/Translator/models/dates.safetensors", typeof(DateEncoder), MaxLength = 12, StartToken = 0, EndToken = 1)]
[Embedding(13, 64, Weights = "decoder.embedding")]
[Attention(64, Weights = "decoder.attention")]
[Gru(64, Weights = "decoder.gru")]
[Dense(13, Weights = "decoder.out")]
public static partial class DateDecoder { }
