using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace StaticRnn.Generators.Weights;

internal enum PyKind
{
    Str,
    Int,
    Bool,
    None,
    Tuple,
    List,
    Dict,
}

/// <summary>A parsed Python literal: a string, integer, bool, None, tuple, list or dict. Immutable once parsed.</summary>
internal sealed class PyValue
{
    public PyValue(PyKind kind, int start)
    {
        Kind = kind;
        Start = start;
    }

    public PyKind Kind { get; }

    /// <summary>Where the literal starts in the text, and where it ends (exclusive).</summary>
    public int Start { get; }

    public int End { get; set; }

    public string? Str { get; set; }

    /// <summary>The value of an <see cref="PyKind.Int"/>; saturated to long.MinValue or long.MaxValue when <see cref="IntOverflow"/>.</summary>
    public long Int { get; set; }

    /// <summary>The integer does not fit in a long (its text is still in the source).</summary>
    public bool IntOverflow { get; set; }

    public bool Bool { get; set; }

    /// <summary>The items of a tuple or list.</summary>
    public List<PyValue>? Items { get; set; }

    /// <summary>The entries of a dict, in source order; the keys are strings.</summary>
    public List<KeyValuePair<string, PyValue>>? Entries { get; set; }
}

/// <summary>
/// Parses the Python literal subset a .npy header uses: <c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (3, 4), }</c>.
/// </summary>
/// <remarks>
/// It accepts what <c>ast.literal_eval</c> accepts for these values and numpy writes or once wrote: strings in single
/// or double quotes (with a <c>u</c> prefix and the escapes <c>\\ \' \" \n \r \t \xhh \uhhhh</c>), integers with an
/// optional sign and the Python 2 <c>L</c> suffix, <c>True</c>, <c>False</c>, <c>None</c>, tuples (a parenthesised
/// single value without a comma is that value, as in Python), lists, and dicts with string keys; whitespace anywhere
/// between tokens and trailing commas. Duplicate dict keys are an error (Python would keep the last silently).
/// Nesting is limited to <see cref="MaxDepth"/> levels, so recursion is bounded. It never throws.
/// </remarks>
internal sealed class PythonLiteralParser
{
    public const int MaxDepth = 32;

    private readonly string _text;
    private int _pos;

    private PythonLiteralParser(string text)
    {
        _text = text;
    }

    /// <summary>Why parsing failed; null when it succeeded.</summary>
    public string? Error { get; private set; }

    /// <summary>Parses one literal that fills <paramref name="text"/> but for surrounding whitespace.</summary>
    public static PyValue? Parse(string text, out string? error)
    {
        var parser = new PythonLiteralParser(text);
        PyValue? value = parser.ParseDocument();
        error = parser.Error;
        return error is null ? value : null;
    }

    /// <summary>The source text of a value for a message: escaped, shortened past 60 characters.</summary>
    public static string Repr(string text, PyValue value)
    {
        string s = text.Substring(value.Start, value.End - value.Start);
        if (s.Length > 60)
        {
            int cut = char.IsHighSurrogate(s[59]) ? 59 : 60;
            s = s.Substring(0, cut) + "...";
        }

        return JsonReader.Escape(s);
    }

    private PyValue? ParseDocument()
    {
        SkipWhitespace();
        if (_pos >= _text.Length)
        {
            return Fail("expected a Python literal but the header is empty or blank");
        }

        PyValue? value = ParseValue(0);
        if (value is null)
        {
            return null;
        }

        SkipWhitespace();
        if (_pos < _text.Length)
        {
            return Fail($"expected only whitespace after the literal but found {Describe(_pos)}");
        }

        return value;
    }

    private PyValue? ParseValue(int depth)
    {
        if (_pos >= _text.Length)
        {
            return Fail("expected a value but the header ended");
        }

        char c = _text[_pos];
        switch (c)
        {
            case '{':
            case '(':
            case '[':
                if (depth >= MaxDepth)
                {
                    return Fail($"expected at most {MaxDepth} levels of nesting but found more");
                }

                return c == '{' ? ParseDict(depth + 1) : ParseSequence(depth + 1, c == '(');
            case '\'':
            case '"':
                return ParseString();
            case '+':
            case '-':
                return ParseInt();
            default:
                if (c >= '0' && c <= '9')
                {
                    return ParseInt();
                }

                if ((c == 'u' || c == 'U') && _pos + 1 < _text.Length && (_text[_pos + 1] == '\'' || _text[_pos + 1] == '"'))
                {
                    return ParseString();
                }

                if (IsNameChar(c))
                {
                    return ParseName();
                }

                return Fail($"expected a value but found {Describe(_pos)}");
        }
    }

    private PyValue? ParseDict(int depth)
    {
        var dict = new PyValue(PyKind.Dict, _pos) { Entries = new List<KeyValuePair<string, PyValue>>() };
        var keys = new HashSet<string>(System.StringComparer.Ordinal);
        _pos++; // '{'
        while (true)
        {
            SkipWhitespace();
            if (_pos >= _text.Length)
            {
                return Fail("expected a key or '}' but the header ended");
            }

            if (_text[_pos] == '}')
            {
                _pos++;
                dict.End = _pos;
                return dict;
            }

            char c = _text[_pos];
            bool stringStart = c == '\'' || c == '"'
                || ((c == 'u' || c == 'U') && _pos + 1 < _text.Length && (_text[_pos + 1] == '\'' || _text[_pos + 1] == '"'));
            if (!stringStart)
            {
                return Fail($"expected a string key or '}}' but found {Describe(_pos)}");
            }

            PyValue? key = ParseString();
            if (key is null)
            {
                return null;
            }

            if (!keys.Add(key.Str!))
            {
                return Fail($"the key '{JsonReader.Escape(key.Str!)}' occurs twice");
            }

            SkipWhitespace();
            if (_pos >= _text.Length)
            {
                return Fail("expected ':' after a key but the header ended");
            }

            if (_text[_pos] != ':')
            {
                return Fail($"expected ':' after a key but found {Describe(_pos)}");
            }

            _pos++;
            SkipWhitespace();
            PyValue? value = ParseValue(depth);
            if (value is null)
            {
                return null;
            }

            dict.Entries!.Add(new KeyValuePair<string, PyValue>(key.Str!, value));
            SkipWhitespace();
            if (_pos >= _text.Length)
            {
                return Fail("expected ',' or '}' but the header ended");
            }

            if (_text[_pos] == ',')
            {
                _pos++;
                continue;
            }

            if (_text[_pos] != '}')
            {
                return Fail($"expected ',' or '}}' but found {Describe(_pos)}");
            }
        }
    }

    private PyValue? ParseSequence(int depth, bool tuple)
    {
        char close = tuple ? ')' : ']';
        var seq = new PyValue(tuple ? PyKind.Tuple : PyKind.List, _pos) { Items = new List<PyValue>() };
        _pos++; // '(' or '['
        bool sawComma = false;
        while (true)
        {
            SkipWhitespace();
            if (_pos >= _text.Length)
            {
                return Fail($"expected a value or '{close}' but the header ended");
            }

            if (_text[_pos] == close)
            {
                _pos++;
                seq.End = _pos;

                // (x) is x in Python; only (x,) is a one-element tuple.
                return tuple && seq.Items!.Count == 1 && !sawComma ? seq.Items[0] : seq;
            }

            PyValue? item = ParseValue(depth);
            if (item is null)
            {
                return null;
            }

            seq.Items!.Add(item);
            SkipWhitespace();
            if (_pos >= _text.Length)
            {
                return Fail($"expected ',' or '{close}' but the header ended");
            }

            if (_text[_pos] == ',')
            {
                sawComma = true;
                _pos++;
                continue;
            }

            if (_text[_pos] != close)
            {
                return Fail($"expected ',' or '{close}' but found {Describe(_pos)}");
            }
        }
    }

    private PyValue? ParseString()
    {
        var value = new PyValue(PyKind.Str, _pos);
        if (_text[_pos] == 'u' || _text[_pos] == 'U')
        {
            _pos++;
        }

        char quote = _text[_pos++];
        var sb = new StringBuilder();
        while (true)
        {
            if (_pos >= _text.Length)
            {
                return Fail("a string is not closed before the header ends");
            }

            char c = _text[_pos];
            if (c == quote)
            {
                _pos++;
                break;
            }

            if (c == '\n' || c == '\r')
            {
                return Fail("a string runs into a line break");
            }

            if (c != '\\')
            {
                sb.Append(c);
                _pos++;
                continue;
            }

            if (_pos + 1 >= _text.Length)
            {
                return Fail("a string is not closed before the header ends");
            }

            char e = _text[_pos + 1];
            _pos += 2;
            switch (e)
            {
                case '\\': sb.Append('\\'); break;
                case '\'': sb.Append('\''); break;
                case '"': sb.Append('"'); break;
                case 'n': sb.Append('\n'); break;
                case 'r': sb.Append('\r'); break;
                case 't': sb.Append('\t'); break;
                case 'x':
                case 'u':
                {
                    int digits = e == 'x' ? 2 : 4;
                    if (!TryHex(_pos, digits, out int code))
                    {
                        return Fail($"the escape '\\{e}' needs {digits} hexadecimal digits");
                    }

                    sb.Append((char)code);
                    _pos += digits;
                    break;
                }

                default:
                    return Fail($"a string has the escape '\\{JsonReader.Escape(e.ToString())}'; expected one of \\\\ \\' \\\" \\n \\r \\t \\x \\u");
            }
        }

        value.Str = sb.ToString();
        value.End = _pos;
        return value;
    }

    private PyValue? ParseInt()
    {
        var value = new PyValue(PyKind.Int, _pos);
        bool negative = false;
        if (_text[_pos] == '+' || _text[_pos] == '-')
        {
            negative = _text[_pos] == '-';
            _pos++;
            while (_pos < _text.Length && (_text[_pos] == ' ' || _text[_pos] == '\t'))
            {
                _pos++;
            }
        }

        int start = _pos;
        while (_pos < _text.Length && (IsNameChar(_text[_pos]) || _text[_pos] == '.'))
        {
            _pos++;
        }

        string token = _text.Substring(start, _pos - start);
        string digits = token.Length > 1 && (token[token.Length - 1] == 'L' || token[token.Length - 1] == 'l')
            ? token.Substring(0, token.Length - 1) // Python 2 long
            : token;
        if (digits.Length == 0)
        {
            return Fail($"expected digits after the sign but found {Describe(start)}");
        }

        long result = 0;
        bool overflow = false;
        foreach (char d in digits)
        {
            if (d < '0' || d > '9')
            {
                _pos = start;
                return Fail($"expected an integer but found '{JsonReader.Escape(token)}'");
            }

            if (!overflow)
            {
                int digit = d - '0';
                if (result > (long.MaxValue - digit) / 10)
                {
                    overflow = true;
                }
                else
                {
                    result = (result * 10) + digit;
                }
            }
        }

        value.Int = overflow ? (negative ? long.MinValue : long.MaxValue) : negative ? -result : result;
        value.IntOverflow = overflow;
        value.End = _pos;
        return value;
    }

    private PyValue? ParseName()
    {
        int start = _pos;
        while (_pos < _text.Length && IsNameChar(_text[_pos]))
        {
            _pos++;
        }

        string name = _text.Substring(start, _pos - start);
        PyValue value;
        switch (name)
        {
            case "True": value = new PyValue(PyKind.Bool, start) { Bool = true }; break;
            case "False": value = new PyValue(PyKind.Bool, start) { Bool = false }; break;
            case "None": value = new PyValue(PyKind.None, start); break;
            default:
                _pos = start;
                return Fail($"found the name '{JsonReader.Escape(name.Length > 40 ? name.Substring(0, 40) + "..." : name)}'; expected a literal (a string, integer, True, False, None, tuple, list or dict)");
        }

        value.End = _pos;
        return value;
    }

    private bool TryHex(int at, int digits, out int code)
    {
        code = 0;
        if (at + digits > _text.Length)
        {
            return false;
        }

        for (int i = 0; i < digits; i++)
        {
            char c = _text[at + i];
            int v = c >= '0' && c <= '9' ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                : -1;
            if (v < 0)
            {
                return false;
            }

            code = (code << 4) | v;
        }

        return true;
    }

    private static bool IsNameChar(char c) =>
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';

    private void SkipWhitespace()
    {
        while (_pos < _text.Length)
        {
            char c = _text[_pos];
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v')
            {
                return;
            }

            _pos++;
        }
    }

    private string Describe(int pos)
    {
        if (pos >= _text.Length)
        {
            return "the end of the header";
        }

        char c = _text[pos];
        return c >= 0x20 && c < 0x7F
            ? $"'{c}' at character {pos}"
            : $"U+{((int)c).ToString("X4", CultureInfo.InvariantCulture)} at character {pos}";
    }

    private PyValue? Fail(string message)
    {
        Error ??= message;
        return null;
    }
}
