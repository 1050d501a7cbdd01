using StaticRnn;

namespace CharRnn;

/// <summary>The lecture notes' character-level language model: each character in, the logits of the next one out.
/// Embedding(67, 32) → LSTM(256) → Dense(67), trained by tools/make_charrnn.py on public-domain text from the World
/// English Bible; the generator compiles it at build time. Used one <c>Step</c> at a time, so SequenceLength
/// (which only <c>Predict</c> uses) is just the training window.</summary>
[RnnModel("models/char_lstm.safetensors", SequenceLength = 100)]
[Embedding(67, 32, Weights = "embedding")]
[Lstm(256, Weights = "rnn")]
[Dense(67, Weights = "fc")]
public static partial class CharLstm { }
