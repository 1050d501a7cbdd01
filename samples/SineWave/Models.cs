using StaticRnn;

namespace SineWave;

// The lecture notes' sine experiment: 100 samples of a sine wave in, the next 100 samples out. Each model is
// declared once for its weights trained on clean waves and once for the same network trained on noisy waves
// ("Treino com ruído"). tools/make_sine_models.py trains them all; the generator compiles them at build time.

/// <summary>The baseline: an MLP 100 → 100 (tanh) → 100 that sees the 100 samples at once (20,200 parameters).</summary>
[RnnModel("models/sine_mlp.safetensors", SequenceLength = 1, InputSize = 100)]
[Dense(100, Weights = "fc1", Activation = Activation.Tanh)]
[Dense(100, Weights = "fc2")]
public static partial class SineMlp { }

/// <summary>A simple (Elman) RNN, 8 tanh units, then Dense(100) on its last state (80 + 900 parameters).</summary>
[RnnModel("models/sine_rnn.safetensors", SequenceLength = 100, InputSize = 1)]
[SimpleRnn(8, Weights = "rnn")]
[Dense(100, Weights = "fc")]
public static partial class SineRnn { }

/// <summary>An LSTM of 8 units, then Dense(100) on its last state (320 + 900 parameters).</summary>
[RnnModel("models/sine_lstm.safetensors", SequenceLength = 100, InputSize = 1)]
[Lstm(8, Weights = "rnn")]
[Dense(100, Weights = "fc")]
public static partial class SineLstm { }

/// <summary>The GRU of Cho et al. (Keras' reset_after=False), 8 units, then Dense(100) (240 + 900 parameters).</summary>
[RnnModel("models/sine_gru.safetensors", SequenceLength = 100, InputSize = 1)]
[Gru(8, Weights = "rnn", ResetAfter = false)]
[Dense(100, Weights = "fc")]
public static partial class SineGru { }

/// <summary>The same GRU with 64 units (12,672 + 6,500 parameters).</summary>
[RnnModel("models/sine_gru64.safetensors", SequenceLength = 100, InputSize = 1)]
[Gru(64, Weights = "rnn", ResetAfter = false)]
[Dense(100, Weights = "fc")]
public static partial class SineGru64 { }

/// <summary><see cref="SineMlp"/> trained on noisy waves.</summary>
[RnnModel("models/sine_mlp_noisy.safetensors", SequenceLength = 1, InputSize = 100)]
[Dense(100, Weights = "fc1", Activation = Activation.Tanh)]
[Dense(100, Weights = "fc2")]
public static partial class SineMlpNoisy { }

/// <summary><see cref="SineRnn"/> trained on noisy waves.</summary>
[RnnModel("models/sine_rnn_noisy.safetensors", SequenceLength = 100, InputSize = 1)]
[SimpleRnn(8, Weights = "rnn")]
[Dense(100, Weights = "fc")]
public static partial class SineRnnNoisy { }

/// <summary><see cref="SineLstm"/> trained on noisy waves.</summary>
[RnnModel("models/sine_lstm_noisy.safetensors", SequenceLength = 100, InputSize = 1)]
[Lstm(8, Weights = "rnn")]
[Dense(100, Weights = "fc")]
public static partial class SineLstmNoisy { }

/// <summary><see cref="SineGru"/> trained on noisy waves.</summary>
[RnnModel("models/sine_gru_noisy.safetensors", SequenceLength = 100, InputSize = 1)]
[Gru(8, Weights = "rnn", ResetAfter = false)]
[Dense(100, Weights = "fc")]
public static partial class SineGruNoisy { }

/// <summary><see cref="SineGru64"/> trained on noisy waves.</summary>
[RnnModel("models/sine_gru64_noisy.safetensors", SequenceLength = 100, InputSize = 1)]
[Gru(64, Weights = "rnn", ResetAfter = false)]
[Dense(100, Weights = "fc")]
public static partial class SineGru64Noisy { }

/// <summary><see cref="SineLstm"/>'s weights in Keras layout, named as Keras 3 names them (<c>lstm/lstm_cell/kernel</c>, …):
/// tools/make_keras_sine_model.py converts the PyTorch-trained file (no Keras training), and the sample checks that
/// this declaration predicts what PyTorch's <see cref="SineLstm"/> does.</summary>
[RnnModel("models/sine_lstm_keras.npz", SequenceLength = 100, InputSize = 1, Convention = WeightConvention.Keras)]
[Lstm(8, Weights = "lstm")]
[Dense(100, Weights = "dense")]
public static partial class SineLstmKeras { }
