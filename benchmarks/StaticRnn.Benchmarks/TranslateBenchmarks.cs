using System;
using System.IO;
using BenchmarkDotNet.Attributes;
using Microsoft.ML.OnnxRuntime;

namespace StaticRnn.Benchmarks;

// The Translator sample's date model (samples/Translator/models/dates.safetensors): PyTorch's translation tutorial,
// EncoderRNN + AttnDecoderRNN with Bahdanau attention, hidden 64, trained to write dates as ISO dates.

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

/// <summary>
/// Translating one date, per source sentence (the 16 sentences of Models/dates_sentences.tsv, every format the model
/// was trained on; each call runs all 16: OperationsPerInvoke = 16). StaticRnn: greedy <c>Translate</c>, the same with the attention weights,
/// and beam search of width 4. ONNX Runtime: the same model exported by tools/export_seq2seq_onnx.py as the tutorial
/// evaluates it, the encoder graph once, then the decoder-step graph (AttnDecoderRNN.forward_step) once per token,
/// the argmax in C#, stopping at EOS or after 12 tokens as <c>Translate</c> does (<see cref="OrtTranslator"/>).
/// GlobalSetup throws unless ONNX Runtime's tokens equal StaticRnn's (and the ISO date) for every sentence and the
/// attention weights of every step agree within 1e-4.
/// </summary>
[BenchmarkCategory("dates")]
public class TranslateBenchmarks : IAgreementReport
{
    public const int BeamWidth = 4;

    private const int Count = 16;
    private const int Length = DateDecoder.SourceLength;

    private readonly int[] _sources = new int[Count * Length];
    private readonly int[] _target = new int[DateDecoder.MaxLength];
    private readonly float[] _attention = new float[DateDecoder.MaxLength * Length];
    private OrtTranslator? _ort;

    public string Model => "dates";
    public float MaxAbsDiff { get; private set; }

    /// <summary>Tokens written, summed (keeps the results alive).</summary>
    public int Written { get; private set; }

    [GlobalSetup]
    public void Setup()
    {
        var sentences = DateVocabulary.Sentences();
        if (sentences.Length != Count)
            throw new InvalidOperationException($"dates_sentences.tsv has {sentences.Length} sentences, not {Count}.");
        for (var i = 0; i < Count; i++)
            DateVocabulary.EncodeSource(sentences[i].Text, _sources.AsSpan(i * Length, Length));
        _ort = new OrtTranslator(_sources, Count);

        var max = 0f;
        var staticRnn = new int[DateDecoder.MaxLength];
        var ortTokens = new int[DateDecoder.MaxLength];
        var ortAttention = new float[DateDecoder.MaxLength * Length];
        for (var i = 0; i < Count; i++)
        {
            var text = sentences[i].Text;
            var expected = DateVocabulary.EncodeTarget(sentences[i].Iso);
            var source = _sources.AsSpan(i * Length, Length);
            var n = DateDecoder.Translate(source, staticRnn, _attention);
            var m = _ort.Translate(i, ortTokens, ortAttention);
            if (!staticRnn.AsSpan(0, n).SequenceEqual(ortTokens.AsSpan(0, m)))
                throw new InvalidOperationException(
                    $"'{text}': StaticRnn translates to [{string.Join(", ", staticRnn[..n])}], ONNX Runtime to [{string.Join(", ", ortTokens[..m])}].");
            if (!staticRnn.AsSpan(0, n).SequenceEqual(expected))
                throw new InvalidOperationException(
                    $"'{text}': StaticRnn translates to [{string.Join(", ", staticRnn[..n])}], not to {sentences[i].Iso} [{string.Join(", ", expected)}].");
            if (DateDecoder.Translate(source, staticRnn) != n || !staticRnn.AsSpan(0, n).SequenceEqual(expected))
                throw new InvalidOperationException($"'{text}': Translate without attention weights differs.");
            max = MathF.Max(max, Agreement.Check($"dates, attention weights of '{text}'", _attention.AsSpan(0, n * Length), ortAttention.AsSpan(0, n * Length)));
            n = DateDecoder.Translate(source, staticRnn, beamWidth: BeamWidth);
            if (!staticRnn.AsSpan(0, n).SequenceEqual(expected))
                throw new InvalidOperationException($"'{text}': beam search of width {BeamWidth} translates to [{string.Join(", ", staticRnn[..n])}].");
        }
        MaxAbsDiff = max;
    }

    [GlobalCleanup]
    public void Cleanup() => _ort?.Dispose();

    [Benchmark(Description = "StaticRnn Translate", OperationsPerInvoke = Count)]
    [BenchmarkCategory("sentence")]
    public void StaticRnn_Greedy() => TranslateAll(Decoding.Greedy);

    [Benchmark(Description = "StaticRnn Translate + attention", OperationsPerInvoke = Count)]
    [BenchmarkCategory("sentence")]
    public void StaticRnn_GreedyAttention() => TranslateAll(Decoding.GreedyWithAttention);

    [Benchmark(Description = "StaticRnn Translate, beam 4", OperationsPerInvoke = Count)]
    [BenchmarkCategory("sentence")]
    public void StaticRnn_Beam4() => TranslateAll(Decoding.Beam);

    [Benchmark(Baseline = true, Description = "ONNX Runtime, step by step", OperationsPerInvoke = Count)]
    [BenchmarkCategory("sentence")]
    public void Ort_Greedy() => TranslateAll(Decoding.OnnxRuntime);

    private enum Decoding { Greedy, GreedyWithAttention, Beam, OnnxRuntime }

    /// <summary>Every sentence, one way.</summary>
    private void TranslateAll(Decoding how)
    {
        var written = 0;
        for (var i = 0; i < Count; i++)
        {
            var source = _sources.AsSpan(i * Length, Length);
            written += how switch
            {
                Decoding.Greedy => DateDecoder.Translate(source, _target),
                Decoding.GreedyWithAttention => DateDecoder.Translate(source, _target, _attention),
                Decoding.Beam => DateDecoder.Translate(source, _target, beamWidth: BeamWidth),
                _ => _ort!.Translate(i, _target, default),
            };
        }
        Written = written;
    }
}

/// <summary>The date model's vocabularies (tools/make_seq2seq_fixtures.py): source tokens 0 padding, 1 EOS, then
/// <see cref="SourceCharacters"/>; target tokens 0 SOS, 1 EOS, then '0'-'9' and '-'.</summary>
public static class DateVocabulary
{
    public const string SourceCharacters = " ,-./0123456789abcdefghijlmnoprstuvwy";
    public const string TargetCharacters = "0123456789-";

    /// <summary>The characters, EOS, then zeros to the end of <paramref name="source"/>.</summary>
    public static void EncodeSource(string text, Span<int> source)
    {
        source.Clear();
        for (var i = 0; i < text.Length; i++)
            source[i] = 2 + IndexOf(SourceCharacters, text[i]);
        source[text.Length] = 1;
    }

    /// <summary>The benchmark's sentences and their ISO dates, Models/dates_sentences.tsv (tools/export_seq2seq_onnx.py
    /// writes it and checks that PyTorch translates them).</summary>
    public static (string Text, string Iso)[] Sentences() =>
        Array.ConvertAll(File.ReadAllLines(ModelFiles.Find("dates_sentences.tsv")), line =>
            line.Split('\t') is [var text, var iso] ? (text, iso) : throw new FormatException($"'{line}' is not text<TAB>ISO date."));

    /// <summary>The characters, then EOS.</summary>
    public static int[] EncodeTarget(string text)
    {
        var tokens = new int[text.Length + 1];
        for (var i = 0; i < text.Length; i++)
            tokens[i] = 2 + IndexOf(TargetCharacters, text[i]);
        tokens[text.Length] = 1;
        return tokens;
    }

    private static int IndexOf(string characters, char c) =>
        characters.IndexOf(c) is var i and >= 0 ? i : throw new ArgumentException($"'{c}' is not in the vocabulary.");
}

/// <summary>
/// The date model through ONNX Runtime as the tutorial evaluates it: dates_encoder.onnx once per sentence, then
/// dates_decoder_step.onnx once per token, feeding back the argmax (the first maximum, as topk(1) and StaticRnn's
/// ArgMax), until EOS or 12 tokens. Single-threaded sessions (<see cref="OrtModel.CreateOptions"/>); every tensor is
/// an <see cref="OrtValue"/> over a managed array made once and bound once with an <see cref="OrtIoBinding"/>: one
/// encoder binding per sentence (its own source), and two decoder-step bindings that read the hidden state from one
/// buffer and write it to the other, used alternately, so a step is the token written into its buffer and one
/// <c>RunWithBinding</c>. The encoder's outputs buffer is the decoder's encoder_outputs input, so nothing is copied.
/// </summary>
public sealed class OrtTranslator : IDisposable
{
    private const int Length = DateDecoder.SourceLength;
    private const int Hidden = 64;

    private readonly SessionOptions _options = OrtModel.CreateOptions();
    private readonly RunOptions _runOptions = new();
    private readonly InferenceSession _encoder;
    private readonly InferenceSession _step;
    private readonly OrtValue[] _sources;
    private readonly OrtIoBinding[] _encode;
    private readonly OrtIoBinding[] _decode = new OrtIoBinding[2];
    private readonly OrtValue[] _values;

    private readonly long[] _token = new long[1];
    private readonly float[] _memory = new float[Length * Hidden];
    private readonly float[][] _hidden = [new float[Hidden], new float[Hidden]];
    private readonly float[] _logits = new float[DateDecoder.VocabularySize];
    private readonly float[] _weights = new float[Length];

    /// <param name="sources">The sentences' source tokens, <paramref name="count"/> × 30.</param>
    public OrtTranslator(int[] sources, int count)
    {
        _encoder = new InferenceSession(ModelFiles.Onnx("dates_encoder"), _options);
        _step = new InferenceSession(ModelFiles.Onnx("dates_decoder_step"), _options);
        var memory = OrtValue.CreateTensorValueFromMemory(_memory, [1, Length, Hidden]);
        var hidden0 = OrtValue.CreateTensorValueFromMemory(_hidden[0], [1, 1, Hidden]);
        var hidden1 = OrtValue.CreateTensorValueFromMemory(_hidden[1], [1, 1, Hidden]);
        var token = OrtValue.CreateTensorValueFromMemory(_token, [1, 1]);
        var logits = OrtValue.CreateTensorValueFromMemory(_logits, [1, 1, DateDecoder.VocabularySize]);
        var weights = OrtValue.CreateTensorValueFromMemory(_weights, [1, 1, Length]);
        _values = [memory, hidden0, hidden1, token, logits, weights];

        _sources = new OrtValue[count];
        _encode = new OrtIoBinding[count];
        for (var i = 0; i < count; i++)
        {
            var source = new long[Length];
            for (var t = 0; t < Length; t++)
                source[t] = sources[i * Length + t];
            _sources[i] = OrtValue.CreateTensorValueFromMemory(source, [1, Length]);
            _encode[i] = _encoder.CreateIoBinding();
            _encode[i].BindInput("source", _sources[i]);
            _encode[i].BindOutput("outputs", memory);
            _encode[i].BindOutput("hidden", hidden0);   // the decoder starts from the encoder's final h
        }
        for (var k = 0; k < 2; k++)
        {
            var binding = _decode[k] = _step.CreateIoBinding();
            binding.BindInput("token", token);
            binding.BindInput("hidden", k == 0 ? hidden0 : hidden1);
            binding.BindInput("encoder_outputs", memory);
            binding.BindOutput("logits", logits);
            binding.BindOutput("new_hidden", k == 0 ? hidden1 : hidden0);
            binding.BindOutput("attention", weights);
        }
    }

    /// <summary>Greedy decoding of sentence <paramref name="sentence"/>; the attention weights of each step into
    /// <paramref name="attention"/> (12 × 30) unless it is empty. Returns the number of tokens written.</summary>
    public int Translate(int sentence, Span<int> target, Span<float> attention)
    {
        _encoder.RunWithBinding(_runOptions, _encode[sentence]);
        var token = DateDecoder.StartToken;
        var written = 0;
        while (written < DateDecoder.MaxLength)
        {
            _token[0] = token;
            _step.RunWithBinding(_runOptions, _decode[written & 1]);
            token = StaticRnn.Sampling.ArgMax(_logits);
            if (!attention.IsEmpty)
                _weights.CopyTo(attention.Slice(written * Length, Length));
            target[written++] = token;
            if (token == DateDecoder.EndToken)
                break;
        }
        return written;
    }

    public void Dispose()
    {
        foreach (var binding in _encode)
            binding.Dispose();
        foreach (var binding in _decode)
            binding.Dispose();
        foreach (var value in _sources)
            value.Dispose();
        foreach (var value in _values)
            value.Dispose();
        _runOptions.Dispose();
        _step.Dispose();
        _encoder.Dispose();
        _options.Dispose();
    }
}
