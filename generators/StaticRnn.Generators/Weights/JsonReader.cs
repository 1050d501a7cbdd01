using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace StaticRnn.Generators.Weights;

internal enum JsonTokenType
{
    None,
    StartObject,
    EndObject,
    StartArray,
    EndArray,
    PropertyName,
    String,
    Number,
    True,
    False,
    Null,
}

/// <summary>
/// A minimal, strict, forward-only JSON reader over a UTF-8 byte range (RFC 8259).
/// </summary>
/// <remarks>
/// <para>
/// It accepts exactly the JSON grammar: objects, arrays, strings with every escape (including
/// <c>\uXXXX</c> surrogate pairs; lone surrogates are rejected), numbers, <c>true</c>, <c>false</c>,
/// <c>null</c> and the four whitespace characters. The input must be well-formed UTF-8 (no overlong
/// forms, no encoded surrogates, nothing above U+10FFFF), control characters inside strings must be
/// escaped, duplicate keys within one object are rejected, and nothing but whitespace may follow
/// the top-level value.
/// </para>
/// <para>
/// It never recurses and never throws: a malformed input makes <see cref="Read"/> return
/// <see langword="false"/> with <see cref="Error"/> set. Nesting deeper than
/// <see cref="MaxDepth"/> containers is an error. Memory is proportional to what the caller
/// materialises (strings, keys kept for the duplicate check), so it is bounded by the input size.
/// </para>
/// <para>
/// Numbers are validated against the grammar but not converted; <see cref="TryGetNonNegativeInteger"/>
/// interprets the plain-integer subset (no sign, fraction or exponent).
/// </para>
/// </remarks>
internal sealed class JsonReader
{
    public const int DefaultMaxDepth = 64;

    private enum State
    {
        ExpectValue,          // start of the document, after ':' or after ',' in an array
        ExpectValueOrEnd,     // just after '['
        ExpectKeyOrEnd,       // just after '{'
        ExpectKey,            // after ',' in an object
        AfterValue,           // after a complete value inside a container
        Done,                 // the top-level value is complete
    }

    private readonly byte[] _bytes;
    private readonly int _start;
    private readonly int _end;
    private readonly bool[] _isObject;             // per open container: object (true) or array (false)
    private readonly List<HashSet<string>?> _keys; // per open container: keys seen so far (objects only)
    private readonly StringBuilder _builder = new();

    private int _pos;
    private int _depth;
    private State _state;
    private bool _failed;
    private bool _finished;
    private string? _string;
    private int _numberStart;
    private int _numberLength;

    public JsonReader(byte[] bytes, int start, int length, int maxDepth = DefaultMaxDepth)
    {
        _bytes = bytes;
        _start = start;
        _end = start + length;
        _pos = start;
        MaxDepth = maxDepth;
        _isObject = new bool[maxDepth];
        _keys = new List<HashSet<string>?>();
        _state = State.ExpectValue;
    }

    public int MaxDepth { get; }

    public JsonTokenType TokenType { get; private set; }

    /// <summary>Number of containers open after the current token (a StartObject at the top level has depth 1).</summary>
    public int Depth => _depth;

    /// <summary>Offset of the current token relative to the start of the range.</summary>
    public int TokenOffset { get; private set; }

    /// <summary>Why reading stopped, when the input is malformed; otherwise null.</summary>
    public string? Error { get; private set; }

    /// <summary>The key that occurred twice, when that is the error.</summary>
    public string? DuplicateKey { get; private set; }

    /// <summary>The depth of the object holding <see cref="DuplicateKey"/> (1 for the top-level object).</summary>
    public int DuplicateKeyDepth { get; private set; }

    /// <summary>The decoded text of the current <see cref="JsonTokenType.PropertyName"/> or <see cref="JsonTokenType.String"/>.</summary>
    public string GetString() => _string ??= _builder.ToString();

    /// <summary>The raw text of the current <see cref="JsonTokenType.Number"/>.</summary>
    public string GetNumberText() => Encoding.ASCII.GetString(_bytes, _numberStart, _numberLength);

    /// <summary>
    /// True when the current number is a plain non-negative integer (digits only). Values above
    /// <see cref="long.MaxValue"/> saturate and set <paramref name="overflow"/>.
    /// </summary>
    public bool TryGetNonNegativeInteger(out long value, out bool overflow)
    {
        value = 0;
        overflow = false;
        if (TokenType != JsonTokenType.Number)
        {
            return false;
        }

        for (int i = 0; i < _numberLength; i++)
        {
            byte c = _bytes[_numberStart + i];
            if (c < (byte)'0' || c > (byte)'9')
            {
                value = 0;
                overflow = false;
                return false;
            }

            if (!overflow)
            {
                int digit = c - '0';
                if (value > (long.MaxValue - digit) / 10)
                {
                    overflow = true;
                    value = long.MaxValue;
                }
                else
                {
                    value = (value * 10) + digit;
                }
            }
        }

        return true;
    }

    /// <summary>
    /// Reads the next token. Returns false at the end of a well-formed document (with
    /// <see cref="Error"/> null) or on malformed input (with <see cref="Error"/> set).
    /// </summary>
    public bool Read()
    {
        if (_failed || _finished)
        {
            return false;
        }

        _string = null;
        while (true)
        {
            SkipWhitespace();
            if (_state == State.Done)
            {
                if (_pos < _end)
                {
                    return Fail($"expected only whitespace after the top-level value but found {Describe(_pos)}");
                }

                _finished = true;
                TokenType = JsonTokenType.None;
                return false;
            }

            if (_pos >= _end)
            {
                return Fail(_depth == 0 && _state == State.ExpectValue && _pos == _start
                    ? "expected a JSON value but the text is empty"
                    : $"expected {Expected()} but the text ended");
            }

            byte c = _bytes[_pos];
            TokenOffset = _pos - _start;
            switch (_state)
            {
                case State.ExpectValueOrEnd:
                    if (c == (byte)']')
                    {
                        return CloseContainer(isObject: false);
                    }

                    return ReadValue(c);

                case State.ExpectValue:
                    return ReadValue(c);

                case State.ExpectKeyOrEnd:
                    if (c == (byte)'}')
                    {
                        return CloseContainer(isObject: true);
                    }

                    return ReadKey(c);

                case State.ExpectKey:
                    return ReadKey(c);

                case State.AfterValue:
                    bool inObject = _isObject[_depth - 1];
                    if (c == (byte)',')
                    {
                        _pos++;
                        _state = inObject ? State.ExpectKey : State.ExpectValue;
                        continue;
                    }

                    if (c == (byte)(inObject ? '}' : ']'))
                    {
                        return CloseContainer(inObject);
                    }

                    return Fail($"expected {Expected()} but found {Describe(_pos)}");

                default:
                    return Fail("internal reader state error");
            }
        }
    }

    /// <summary>
    /// Skips the value that starts at the current token (a whole container when the token opens
    /// one, the property's value when it is a property name). Returns false on malformed input.
    /// </summary>
    public bool Skip()
    {
        if (TokenType == JsonTokenType.PropertyName)
        {
            if (!Read())
            {
                return false;
            }
        }

        if (TokenType == JsonTokenType.StartObject || TokenType == JsonTokenType.StartArray)
        {
            int depth = _depth;
            while (_depth >= depth)
            {
                if (!Read())
                {
                    return false;
                }
            }
        }

        return !_failed;
    }

    private string Expected() => _state switch
    {
        State.ExpectValue => "a value",
        State.ExpectValueOrEnd => "a value or ']'",
        State.ExpectKeyOrEnd => "a string key or '}'",
        State.ExpectKey => "a string key",
        State.AfterValue => _isObject[_depth - 1] ? "',' or '}'" : "',' or ']'",
        _ => "the end of the text",
    };

    private bool ReadValue(byte c)
    {
        switch (c)
        {
            case (byte)'{':
                return OpenContainer(isObject: true);
            case (byte)'[':
                return OpenContainer(isObject: false);
            case (byte)'"':
                if (!ReadStringBody())
                {
                    return false;
                }

                TokenType = JsonTokenType.String;
                ValueDone();
                return true;
            case (byte)'t':
                return ReadLiteral("true", JsonTokenType.True);
            case (byte)'f':
                return ReadLiteral("false", JsonTokenType.False);
            case (byte)'n':
                return ReadLiteral("null", JsonTokenType.Null);
            default:
                if (c == (byte)'-' || (c >= (byte)'0' && c <= (byte)'9'))
                {
                    return ReadNumber();
                }

                return Fail($"expected {Expected()} but found {Describe(_pos)}");
        }
    }

    private bool ReadKey(byte c)
    {
        if (c != (byte)'"')
        {
            return Fail($"expected {Expected()} but found {Describe(_pos)}");
        }

        if (!ReadStringBody())
        {
            return false;
        }

        string key = GetString();
        HashSet<string>? seen = _keys[_depth - 1];
        if (seen is null)
        {
            seen = new HashSet<string>(System.StringComparer.Ordinal);
            _keys[_depth - 1] = seen;
        }

        if (!seen.Add(key))
        {
            DuplicateKey = key;
            DuplicateKeyDepth = _depth;
            return Fail($"the key \"{Escape(key)}\" occurs twice in the same object");
        }

        SkipWhitespace();
        if (_pos >= _end)
        {
            return Fail("expected ':' after a key but the text ended");
        }

        if (_bytes[_pos] != (byte)':')
        {
            return Fail($"expected ':' after a key but found {Describe(_pos)}");
        }

        _pos++;
        _state = State.ExpectValue;
        TokenType = JsonTokenType.PropertyName;
        return true;
    }

    private bool OpenContainer(bool isObject)
    {
        if (_depth >= MaxDepth)
        {
            return Fail($"expected at most {MaxDepth} levels of nesting but found more");
        }

        _isObject[_depth] = isObject;
        if (_keys.Count <= _depth)
        {
            _keys.Add(null);
        }
        else
        {
            _keys[_depth] = null;
        }

        _depth++;
        _pos++;
        _state = isObject ? State.ExpectKeyOrEnd : State.ExpectValueOrEnd;
        TokenType = isObject ? JsonTokenType.StartObject : JsonTokenType.StartArray;
        return true;
    }

    private bool CloseContainer(bool isObject)
    {
        _pos++;
        _depth--;
        _keys[_depth] = null;
        TokenType = isObject ? JsonTokenType.EndObject : JsonTokenType.EndArray;
        ValueDone();
        return true;
    }

    private void ValueDone()
    {
        _state = _depth == 0 ? State.Done : State.AfterValue;
    }

    private bool ReadLiteral(string literal, JsonTokenType type)
    {
        if (_end - _pos < literal.Length)
        {
            return Fail($"expected {Expected()} but found {Describe(_pos)}");
        }

        for (int i = 0; i < literal.Length; i++)
        {
            if (_bytes[_pos + i] != (byte)literal[i])
            {
                return Fail($"expected {Expected()} but found {Describe(_pos)}");
            }
        }

        _pos += literal.Length;
        TokenType = type;
        ValueDone();
        return true;
    }

    private bool ReadNumber()
    {
        int begin = _pos;
        int p = _pos;
        if (_bytes[p] == (byte)'-')
        {
            p++;
        }

        if (p >= _end || !IsDigit(_bytes[p]))
        {
            return FailAt(p, "expected a digit in a number");
        }

        if (_bytes[p] == (byte)'0')
        {
            p++;
            if (p < _end && IsDigit(_bytes[p]))
            {
                return FailAt(p, "expected no leading zeros in a number");
            }
        }
        else
        {
            while (p < _end && IsDigit(_bytes[p]))
            {
                p++;
            }
        }

        if (p < _end && _bytes[p] == (byte)'.')
        {
            p++;
            if (p >= _end || !IsDigit(_bytes[p]))
            {
                return FailAt(p, "expected a digit after the decimal point");
            }

            while (p < _end && IsDigit(_bytes[p]))
            {
                p++;
            }
        }

        if (p < _end && (_bytes[p] == (byte)'e' || _bytes[p] == (byte)'E'))
        {
            p++;
            if (p < _end && (_bytes[p] == (byte)'+' || _bytes[p] == (byte)'-'))
            {
                p++;
            }

            if (p >= _end || !IsDigit(_bytes[p]))
            {
                return FailAt(p, "expected a digit in the exponent");
            }

            while (p < _end && IsDigit(_bytes[p]))
            {
                p++;
            }
        }

        _numberStart = begin;
        _numberLength = p - begin;
        _pos = p;
        TokenType = JsonTokenType.Number;
        ValueDone();
        return true;
    }

    private bool FailAt(int p, string what)
    {
        return Fail(p < _end ? $"{what} but found {Describe(p)}" : $"{what} but the text ended");
    }

    /// <summary>Reads a string starting at the opening quote into <see cref="_builder"/>.</summary>
    private bool ReadStringBody()
    {
        _builder.Clear();
        _string = null;
        int p = _pos + 1;
        while (true)
        {
            if (p >= _end)
            {
                return Fail("expected '\"' to close a string but the text ended");
            }

            byte b = _bytes[p];
            if (b == (byte)'"')
            {
                _pos = p + 1;
                return true;
            }

            if (b == (byte)'\\')
            {
                if (p + 1 >= _end)
                {
                    return Fail("expected an escape character after '\\' but the text ended");
                }

                byte e = _bytes[p + 1];
                switch (e)
                {
                    case (byte)'"': _builder.Append('"'); p += 2; continue;
                    case (byte)'\\': _builder.Append('\\'); p += 2; continue;
                    case (byte)'/': _builder.Append('/'); p += 2; continue;
                    case (byte)'b': _builder.Append('\b'); p += 2; continue;
                    case (byte)'f': _builder.Append('\f'); p += 2; continue;
                    case (byte)'n': _builder.Append('\n'); p += 2; continue;
                    case (byte)'r': _builder.Append('\r'); p += 2; continue;
                    case (byte)'t': _builder.Append('\t'); p += 2; continue;
                    case (byte)'u':
                        if (!TryReadHex4(p + 2, out int unit))
                        {
                            return FailAt(p, "expected four hexadecimal digits after '\\u'");
                        }

                        p += 6;
                        if (unit >= 0xDC00 && unit <= 0xDFFF)
                        {
                            return Fail($"expected a high surrogate before the low surrogate \\u{unit:X4} in a string but found none");
                        }

                        if (unit >= 0xD800 && unit <= 0xDBFF)
                        {
                            if (p + 1 < _end && _bytes[p] == (byte)'\\' && _bytes[p + 1] == (byte)'u'
                                && TryReadHex4(p + 2, out int low) && low >= 0xDC00 && low <= 0xDFFF)
                            {
                                _builder.Append((char)unit).Append((char)low);
                                p += 6;
                                continue;
                            }

                            return Fail($"expected a low surrogate escape after the high surrogate \\u{unit:X4} in a string but found none");
                        }

                        _builder.Append((char)unit);
                        continue;
                    default:
                        return FailAt(p + 1, "expected one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u after a backslash");
                }
            }

            if (b < 0x20)
            {
                return FailAt(p, "expected control characters in a string to be escaped");
            }

            if (b < 0x80)
            {
                _builder.Append((char)b);
                p++;
                continue;
            }

            if (!TryDecodeUtf8(p, out int codePoint, out int length))
            {
                return Fail($"expected well-formed UTF-8 but found the invalid byte 0x{b:X2} at offset {p - _start}");
            }

            if (codePoint >= 0x10000)
            {
                int v = codePoint - 0x10000;
                _builder.Append((char)(0xD800 + (v >> 10))).Append((char)(0xDC00 + (v & 0x3FF)));
            }
            else
            {
                _builder.Append((char)codePoint);
            }

            p += length;
        }
    }

    private bool TryReadHex4(int p, out int value)
    {
        value = 0;
        if (_end - p < 4)
        {
            return false;
        }

        for (int i = 0; i < 4; i++)
        {
            byte c = _bytes[p + i];
            int d;
            if (c >= (byte)'0' && c <= (byte)'9')
            {
                d = c - '0';
            }
            else if (c >= (byte)'a' && c <= (byte)'f')
            {
                d = c - 'a' + 10;
            }
            else if (c >= (byte)'A' && c <= (byte)'F')
            {
                d = c - 'A' + 10;
            }
            else
            {
                return false;
            }

            value = (value << 4) | d;
        }

        return true;
    }

    /// <summary>Decodes one multi-byte UTF-8 sequence strictly (lead byte at <paramref name="p"/> is >= 0x80).</summary>
    private bool TryDecodeUtf8(int p, out int codePoint, out int length)
    {
        codePoint = 0;
        length = 0;
        byte b0 = _bytes[p];
        int min2 = 0x80, max2 = 0xBF;
        if (b0 >= 0xC2 && b0 <= 0xDF)
        {
            length = 2;
            codePoint = b0 & 0x1F;
        }
        else if (b0 >= 0xE0 && b0 <= 0xEF)
        {
            length = 3;
            codePoint = b0 & 0x0F;
            if (b0 == 0xE0)
            {
                min2 = 0xA0; // no overlong forms
            }
            else if (b0 == 0xED)
            {
                max2 = 0x9F; // no UTF-16 surrogates
            }
        }
        else if (b0 >= 0xF0 && b0 <= 0xF4)
        {
            length = 4;
            codePoint = b0 & 0x07;
            if (b0 == 0xF0)
            {
                min2 = 0x90; // no overlong forms
            }
            else if (b0 == 0xF4)
            {
                max2 = 0x8F; // nothing above U+10FFFF
            }
        }
        else
        {
            return false;
        }

        if (_end - p < length)
        {
            return false;
        }

        for (int i = 1; i < length; i++)
        {
            byte b = _bytes[p + i];
            int min = i == 1 ? min2 : 0x80;
            int max = i == 1 ? max2 : 0xBF;
            if (b < min || b > max)
            {
                return false;
            }

            codePoint = (codePoint << 6) | (b & 0x3F);
        }

        return true;
    }

    private void SkipWhitespace()
    {
        while (_pos < _end)
        {
            byte c = _bytes[_pos];
            if (c == (byte)' ' || c == (byte)'\t' || c == (byte)'\n' || c == (byte)'\r')
            {
                _pos++;
            }
            else
            {
                break;
            }
        }
    }

    private bool Fail(string message)
    {
        if (!_failed)
        {
            _failed = true;
            Error = message;
            TokenType = JsonTokenType.None;
        }

        return false;
    }

    private string Describe(int p)
    {
        byte c = _bytes[p];
        string what = c >= 0x21 && c <= 0x7E
            ? "'" + (char)c + "'"
            : "byte 0x" + c.ToString("X2", CultureInfo.InvariantCulture);
        return $"{what} at offset {p - _start}";
    }

    private static bool IsDigit(byte c) => c >= (byte)'0' && c <= (byte)'9';

    /// <summary>Escapes quotes, backslashes and control characters so a key reads on one line.</summary>
    internal static string Escape(string text)
    {
        StringBuilder? sb = null;
        for (int i = 0; i < text.Length; i++)
        {
            char ch = text[i];
            string? rep = ch switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ => ch < 0x20 || ch == 0x7F || ch == '\u2028' || ch == '\u2029'
                    ? "\\u" + ((int)ch).ToString("X4", CultureInfo.InvariantCulture)
                    : null,
            };

            if (rep is null)
            {
                sb?.Append(ch);
                continue;
            }

            sb ??= new StringBuilder(text, 0, i, text.Length + 8);
            sb.Append(rep);
        }

        return sb?.ToString() ?? text;
    }
}
