using StaticRnn;

namespace Translator;

// PyTorch's translation tutorial (EncoderRNN + AttnDecoderRNN with BahdanauAttention), trained to turn dates as people
// write them into ISO dates, character by character (tools/make_seq2seq_fixtures.py --sample).

/// <summary>The encoder: a date's characters, then EOS, then padding to 30 tokens.</summary>
[RnnModel("models/dates.safetensors", SequenceLength = 30)]
[Embedding(39, 64, Weights = "encoder.embedding")]
[Gru(64, ReturnSequences = true, Weights = "encoder.gru")]
public static partial class DateEncoder { }

/// <summary>The decoder: writes the ISO date's characters and EOS, attending over the encoder's outputs.</summary>
[RnnDecoder("models/dates.safetensors", typeof(DateEncoder), MaxLength = 12, StartToken = 0, EndToken = 1)]
[Embedding(13, 64, Weights = "decoder.embedding")]
[Attention(64, Weights = "decoder.attention")]
[Gru(64, Weights = "decoder.gru")]
[Dense(13, Weights = "decoder.out")]
public static partial class DateDecoder { }
