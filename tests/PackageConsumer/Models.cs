using StaticRnn;

namespace PackageConsumer;

// Copies of two fixtures of tests/StaticRnn.Tests (tools/make_fixtures.py): the files and the reference outputs.

/// <summary>PyTorch: nn.LSTM(3, 13) and nn.Linear(13, 4) with a sigmoid, from a safetensors file.</summary>
[RnnModel("models/lstm_uni_1l.safetensors", SequenceLength = 7, InputSize = 3)]
[Lstm(13, Weights = "rnn")]
[Dense(4, Weights = "fc", Activation = Activation.Sigmoid)]
public static partial class TorchLstm { }

/// <summary>Keras: LSTM(13) and Dense(4, sigmoid), by weight path from an np.savez archive.</summary>
[RnnModel("models/keras_lstm.npz", SequenceLength = 7, InputSize = 3, Convention = WeightConvention.Keras)]
[Lstm(13, Weights = "lstm")]
[Dense(4, Weights = "dense", Activation = Activation.Sigmoid)]
public static partial class KerasLstm { }
