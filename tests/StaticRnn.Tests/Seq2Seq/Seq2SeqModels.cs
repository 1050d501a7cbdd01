namespace StaticRnn.Tests.Seq2Seq;

// The encoder-decoders of tools/make_seq2seq_fixtures.py, declared as users declare them. Source tokens: 39 (pad, EOS,
// 37 characters); target tokens: 13 (SOS, EOS, digits and '-').

/// <summary>PyTorch's translation tutorial: EncoderRNN (Embedding + GRU) ...</summary>
[RnnModel("Fixtures/Seq2Seq/tutorial_gru.safetensors", SequenceLength = 30)]
[Embedding(39, 16, Weights = "encoder.embedding")]
[Gru(16, ReturnSequences = true, Weights = "encoder.gru")]
public static partial class TutorialEncoder { }

/// <summary>... and AttnDecoderRNN, starting from the encoder's final h.</summary>
[RnnDecoder("Fixtures/Seq2Seq/tutorial_gru.safetensors", typeof(TutorialEncoder), MaxLength = 12, StartToken = 0, EndToken = 1)]
[Embedding(13, 16, Weights = "decoder.embedding")]
[Attention(16, Weights = "decoder.attention")]
[Gru(16, Weights = "decoder.gru")]
[Dense(13, Weights = "decoder.out")]
public static partial class TutorialDecoder { }

/// <summary>A stacked bidirectional LSTM encoder ...</summary>
[RnnModel("Fixtures/Seq2Seq/bilstm_bridge.safetensors", SequenceLength = 30)]
[Embedding(39, 12, Weights = "encoder.embedding")]
[Lstm(20, Layers = 2, Bidirectional = true, ReturnSequences = true, Weights = "encoder.lstm")]
public static partial class BiLstmEncoder { }

/// <summary>... and an LSTM decoder whose h and c start from tanh bridges over both directions' final states
/// (attention found without a Weights prefix: the file has one group of Wa, Ua and Va).</summary>
[RnnDecoder("Fixtures/Seq2Seq/bilstm_bridge.safetensors", typeof(BiLstmEncoder), MaxLength = 12, StartToken = 0, EndToken = 1)]
[Embedding(13, 10, Weights = "decoder.embedding")]
[Attention(24)]
[Bridge(Weights = "decoder.bridge")]
[Lstm(28, Weights = "decoder.lstm")]
[Dense(13, Weights = "decoder.out")]
public static partial class BiLstmDecoder { }

/// <summary>A unidirectional 2-layer LSTM encoder ...</summary>
[RnnModel("Fixtures/Seq2Seq/stacked_lstm.safetensors", SequenceLength = 30)]
[Embedding(39, 12, Weights = "encoder.embedding")]
[Lstm(24, Layers = 2, ReturnSequences = true, Weights = "encoder.lstm")]
public static partial class StackedLstmEncoder { }

/// <summary>... into an LSTM decoder started from the top level's h and c (no bridge), a hidden ReLU layer before the logits.</summary>
[RnnDecoder("Fixtures/Seq2Seq/stacked_lstm.safetensors", typeof(StackedLstmEncoder), MaxLength = 12, StartToken = 0, EndToken = 1)]
[Embedding(13, 10, Weights = "decoder.embedding")]
[Attention(18, Weights = "decoder.attention")]
[Lstm(24, Weights = "decoder.lstm")]
[Dense(20, Weights = "decoder.hidden", Activation = Activation.Relu)]
[Dense(13, Weights = "decoder.out")]
public static partial class StackedLstmDecoder { }

/// <summary>A bidirectional GRU encoder whose outputs sum the directions (keys 20 wide, final states 2 × 20) ...</summary>
[RnnModel("Fixtures/Seq2Seq/sum_gru_rnn.safetensors", SequenceLength = 30)]
[Embedding(39, 12, Weights = "encoder.embedding")]
[Gru(20, Bidirectional = true, MergeMode = MergeMode.Sum, ReturnSequences = true, Weights = "encoder.gru")]
public static partial class SumGruEncoder { }

/// <summary>... into an Elman RNN decoder started by a bridge without tanh.</summary>
[RnnDecoder("Fixtures/Seq2Seq/sum_gru_rnn.safetensors", typeof(SumGruEncoder), MaxLength = 12, StartToken = 0, EndToken = 1)]
[Embedding(13, 10, Weights = "decoder.embedding")]
[Attention(14, Weights = "decoder.attention")]
[Bridge(Weights = "decoder.bridge", Activation = Activation.None)]
[SimpleRnn(26, Weights = "decoder.rnn")]
[Dense(13, Weights = "decoder.out")]
public static partial class SumGruDecoder { }
