using StaticRnn;

namespace SineWave;

/// <summary>The lecture notes' sine experiment: 100 samples of a wave in, the next 100 out.
/// Trained by tools/make_sample.py; the generator compiles it at build time.</summary>
[RnnModel("models/sine_lstm.safetensors", SequenceLength = 100, InputSize = 1)]
[Lstm(8, Weights = "rnn")]
[Dense(100, Weights = "fc")]
public static partial class SineLstm { }
