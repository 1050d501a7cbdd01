using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using Xunit;

namespace StaticRnn.Generators.Tests.Diagnostics;

/// <summary>Text that would change the meaning of generated code if it were pasted into it verbatim, and the checks
/// that it was not.</summary>
internal static class HostileText
{
    public static readonly string[] Names =
    [
        "\"",
        "quote\"inside",
        "new\nline",
        "carriage\rreturn",
        "crlf\r\nend",
        "*/ closes a block comment",
        "/* opens one",
        "line\u2028separator",
        "paragraph\u2029separator",
        "next\u0085line",
        "#error boom",
        "\n#error on its own line",
        "\"); }",
        "\"); } class Evil { //",
        "back\\slash",
        "trailing backslash\\",
        "right-to-left \u202E override",
        "zero\u200Bwidth",
        "nul\0char",
        "bell\u0007",
        "<summary>&amp;</summary>",
        "{0} {1}",
        "path/with/slashes",
        "..\\..\\windows\\path",
        "../../etc/passwd",
        "emoji 😀",
        "ü é 模型",
        new string('x', 3000),
        " ",
    ];

    /// <summary>Characters C# treats as line breaks, and others that must never appear raw in generated code.</summary>
    private static readonly char[] s_forbidden = ['\r', '\u2028', '\u2029', '\u0085', '\0', '\u202E', '\u200B', '\u0007'];

    /// <summary>Generated sources hold no raw line break other than '\n', no invisible or control characters, and
    /// every line that carries a fragment of hostile text is a comment.</summary>
    public static void AssertContained(IEnumerable<KeyValuePair<string, string>> sources)
    {
        foreach (var (hint, text) in sources)
        {
            var index = text.IndexOfAny(s_forbidden);
            Assert.True(index < 0, $"{hint} contains the raw character U+{(index < 0 ? 0 : text[index]):X4} near «{Around(text, index)}»");
            foreach (var line in text.Split('\n'))
            {
                var trimmed = line.TrimStart();
                if (trimmed.StartsWith("//", System.StringComparison.Ordinal))
                    continue;
                foreach (var fragment in new[] { "*/", "/*", "#error", "\"); }", "Evil", "😀", "模型", "passwd" })
                    Assert.False(line.Contains(fragment, System.StringComparison.Ordinal), $"{hint}: hostile text «{fragment}» outside a comment: «{line}»");
                if (trimmed.StartsWith('#'))
                {
                    // (#include is a line of the CUDA kernel's source, inside a C# verbatim string.)
                    Assert.True(trimmed is "#nullable enable" or "#nullable disable" or "#nullable restore"
                        || trimmed.StartsWith("#include \"\"staticrnn.cuh\"\"", System.StringComparison.Ordinal)
                        || trimmed.StartsWith("#pragma warning", System.StringComparison.Ordinal), $"{hint}: unexpected directive «{line}»");
                }
            }
        }
    }

    /// <summary>A C# string literal for any text: printable ASCII as is, everything else as \uXXXX.</summary>
    public static string CSharpLiteral(string text)
    {
        var builder = new StringBuilder("\"");
        foreach (var ch in text)
        {
            if (ch == '"' || ch == '\\')
                builder.Append('\\').Append(ch);
            else if (ch >= 0x20 && ch < 0x7F)
                builder.Append(ch);
            else
                builder.Append("\\u").Append(((int)ch).ToString("X4", CultureInfo.InvariantCulture));
        }
        return builder.Append('"').ToString();
    }

    private static string Around(string text, int index) =>
        index < 0 ? "" : text.Substring(System.Math.Max(0, index - 40), System.Math.Min(80, text.Length - System.Math.Max(0, index - 40)));

    public static IEnumerable<string> Lines(string text) => text.Split('\n').Select(l => l.TrimEnd());
}
