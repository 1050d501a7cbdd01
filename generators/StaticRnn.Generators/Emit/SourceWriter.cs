using System.Text;

namespace StaticRnn.Generators.Emit;

/// <summary>A StringBuilder that indents: Open/Close write braces and change the indent.</summary>
internal sealed class SourceWriter
{
    private readonly StringBuilder _text = new();
    private int _indent;

    public SourceWriter Line(string line = "")
    {
        if (line.Length > 0)
            _text.Append(' ', _indent * 4).Append(line);
        _text.Append('\n');
        return this;
    }

    public SourceWriter Open(string? header = null)
    {
        if (header is not null)
            Line(header);
        Line("{");
        _indent++;
        return this;
    }

    public SourceWriter Close(string closing = "}")
    {
        _indent--;
        return Line(closing);
    }

    /// <summary>Writes a comment line; the text is made safe for a single-line comment whatever it holds.</summary>
    public SourceWriter Comment(string text) => Line("// " + Text.ForComment(text));

    public override string ToString() => _text.ToString();
}

/// <summary>Turns untrusted text (tensor names, file paths) into something that cannot change the meaning of
/// the generated code.</summary>
internal static class Text
{
    /// <summary>Keeps printable ASCII and letters; writes everything else as \uXXXX. A line comment can only be
    /// ended by a line break, and control, bidirectional-override and invisible characters could hide text from a
    /// reader, so those are the characters this escapes.</summary>
    public static string ForComment(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var ch in text)
        {
            var safe = ch >= 0x20 && ch < 0x7F
                || ch >= 0xA0 && !char.IsSurrogate(ch) && char.GetUnicodeCategory(ch) is not (
                    System.Globalization.UnicodeCategory.Control or System.Globalization.UnicodeCategory.Format
                    or System.Globalization.UnicodeCategory.LineSeparator or System.Globalization.UnicodeCategory.ParagraphSeparator
                    or System.Globalization.UnicodeCategory.OtherNotAssigned or System.Globalization.UnicodeCategory.PrivateUse);
            if (safe)
                builder.Append(ch);
            else
                builder.Append("\\u").Append(((int)ch).ToString("X4", System.Globalization.CultureInfo.InvariantCulture));
        }
        return builder.ToString();
    }

    /// <summary>Keeps ASCII letters, digits, '_' and '.', for generated file names.</summary>
    public static string ForHintName(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var ch in text)
            builder.Append(ch < 128 && (char.IsLetterOrDigit(ch) || ch is '_' or '.') ? ch : '_');
        return builder.ToString();
    }
}
