using System;
using System.Linq;
using System.Text;

namespace Translator;

/// <summary>Characters to tokens and back, as tools/make_seq2seq_fixtures.py numbers them: source tokens 0 (padding),
/// 1 (EOS), then characters; target tokens 0 (SOS), 1 (EOS), then digits and '-'.</summary>
internal sealed class Vocabulary(string[] source, string[] target)
{
    private const int EndToken = 1;

    /// <summary>The source sentence as the encoder reads it: the characters, EOS, then padding.</summary>
    public int[] Encode(string text)
    {
        var tokens = new int[DateEncoder.SequenceLength];
        if (text.Length + 1 > tokens.Length)
            throw new ArgumentException($"'{text}' is longer than the {tokens.Length - 1} characters the encoder reads.");
        for (var i = 0; i < text.Length; i++)
        {
            var token = Array.IndexOf(source, char.ToLowerInvariant(text[i]).ToString());
            tokens[i] = token >= 2 ? token : throw new ArgumentException($"'{text[i]}' is not among the characters the model was trained on.");
        }
        tokens[text.Length] = EndToken;
        return tokens;
    }

    public string SourceCharacter(int token) => token == EndToken ? "EOS" : token == 0 ? "" : source[token];

    public string TargetCharacter(int token) => token == EndToken ? "EOS" : target[token];

    /// <summary>The target tokens as text, without the end token.</summary>
    public string Decode(ReadOnlySpan<int> tokens)
    {
        var text = new StringBuilder();
        foreach (var token in tokens)
        {
            if (token != EndToken)
                text.Append(target[token]);
        }
        return text.ToString();
    }
}
