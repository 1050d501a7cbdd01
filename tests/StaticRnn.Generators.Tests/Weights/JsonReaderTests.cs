using System.Collections.Generic;
using System.Text;
using StaticRnn.Generators.Weights;
using Xunit;

namespace StaticRnn.Generators.Tests.Weights;

public class JsonReaderTests
{
    private static JsonReader Reader(string json, int maxDepth = JsonReader.DefaultMaxDepth)
    {
        byte[] bytes = Encoding.UTF8.GetBytes("xx" + json + "yy"); // parse a sub-range
        return new JsonReader(bytes, 2, bytes.Length - 4, maxDepth);
    }

    private static List<string> Tokens(string json, out string? error)
    {
        JsonReader reader = Reader(json);
        var tokens = new List<string>();
        while (reader.Read())
        {
            tokens.Add(reader.TokenType switch
            {
                JsonTokenType.PropertyName => "K:" + reader.GetString(),
                JsonTokenType.String => "S:" + reader.GetString(),
                JsonTokenType.Number => "N:" + reader.GetNumberText(),
                _ => reader.TokenType.ToString(),
            });
        }

        error = reader.Error;
        return tokens;
    }

    private static bool IsValid(string json)
    {
        Tokens(json, out string? error);
        return error is null;
    }

    [Fact]
    public void TokenisesADocument()
    {
        List<string> tokens = Tokens(" {\"a\" : [1, -2.5e+3, true, false, null, \"s\", {}, []], \"b\":{\"c\":\"\"}} ", out string? error);
        Assert.Null(error);
        Assert.Equal(
            new[]
            {
                "StartObject", "K:a", "StartArray", "N:1", "N:-2.5e+3", "True", "False", "Null", "S:s", "StartObject", "EndObject",
                "StartArray", "EndArray", "EndArray", "K:b", "StartObject", "K:c", "S:", "EndObject", "EndObject",
            },
            tokens);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-0")]
    [InlineData("1e400")]
    [InlineData("-1E-400")]
    [InlineData("0.000001")]
    [InlineData("123456789012345678901234567890")]
    [InlineData("\"\"")]
    [InlineData("[]")]
    [InlineData("{}")]
    [InlineData("[[],[[]],{}]")]
    [InlineData("\"\\u0000\\uFFFF\\uD800\\uDC00\\uDBFF\\uDFFF\"")]
    [InlineData("\"\u007f\"")]
    public void ValidDocuments(string json)
    {
        Assert.True(IsValid(json));
    }

    [Theory]
    [InlineData("-01")]
    [InlineData("1.e5")]
    [InlineData("1e")]
    [InlineData("- 1")]
    [InlineData("[1,,2]")]
    [InlineData("[,]")]
    [InlineData("{\"a\":1,}")]
    [InlineData("{\"a\"}")]
    [InlineData("{1:2}")]
    [InlineData("]")]
    [InlineData("[}")]
    [InlineData("{]")]
    [InlineData("1 2")]
    [InlineData("\"\\uD800\"")]
    [InlineData("\"\\uDFFF\"")]
    [InlineData("\"\\U0041\"")]
    [InlineData("\"\\'\"")]
    [InlineData("\"")]
    [InlineData("\"\\")]
    [InlineData("\"\\u")]
    [InlineData("")]
    [InlineData("  ")]
    public void InvalidDocuments(string json)
    {
        Assert.False(IsValid(json));
    }

    [Fact]
    public void EscapesDecode()
    {
        JsonReader reader = Reader("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\u20AC\\uD83D\\uDE00\"");
        Assert.True(reader.Read());
        Assert.Equal("\"\\/\b\f\n\r\tAé€😀", reader.GetString());
    }

    [Fact]
    public void DepthLimit_CountsContainers()
    {
        Assert.True(IsValidWithDepth(new string('[', 3) + new string(']', 3), 3));
        Assert.False(IsValidWithDepth(new string('[', 4) + new string(']', 4), 3));
        Assert.True(IsValid(new string('[', 64) + new string(']', 64)));
        Assert.False(IsValid(new string('[', 65) + new string(']', 65)));
        Assert.False(IsValid(new string('[', 100_000)));

        static bool IsValidWithDepth(string json, int depth)
        {
            JsonReader reader = Reader(json, depth);
            while (reader.Read())
            {
            }

            return reader.Error is null;
        }
    }

    [Fact]
    public void DuplicateKeys_ReportKeyAndDepth()
    {
        JsonReader reader = Reader("{\"a\":{\"b\":1,\"c\":{\"b\":2},\"b\":3}}");
        while (reader.Read())
        {
        }

        Assert.Equal("b", reader.DuplicateKey);
        Assert.Equal(2, reader.DuplicateKeyDepth);

        // The same key in sibling objects is fine.
        Assert.True(IsValid("[{\"a\":1},{\"a\":2}]"));
        Assert.True(IsValid("{\"a\":{\"a\":{\"a\":1}}}"));
    }

    [Fact]
    public void Skip_SkipsWholeValues()
    {
        JsonReader reader = Reader("{\"x\":{\"y\":[1,{\"z\":[]}]},\"w\":2,\"v\":[3]}");
        Assert.True(reader.Read());
        Assert.True(reader.Read());
        Assert.Equal("x", reader.GetString());
        Assert.True(reader.Skip()); // from the property name
        Assert.True(reader.Read());
        Assert.Equal("w", reader.GetString());
        Assert.True(reader.Skip());
        Assert.True(reader.Read());
        Assert.Equal("v", reader.GetString());
        Assert.True(reader.Read());
        Assert.Equal(JsonTokenType.StartArray, reader.TokenType);
        Assert.True(reader.Skip()); // from the start of a container
        Assert.Equal(JsonTokenType.EndArray, reader.TokenType);
        Assert.True(reader.Read());
        Assert.Equal(JsonTokenType.EndObject, reader.TokenType);
        Assert.False(reader.Read());
        Assert.Null(reader.Error);
    }

    [Theory]
    [InlineData("0", true, 0L, false)]
    [InlineData("42", true, 42L, false)]
    [InlineData("9223372036854775807", true, long.MaxValue, false)]
    [InlineData("9223372036854775808", true, long.MaxValue, true)]
    [InlineData("99999999999999999999999999", true, long.MaxValue, true)]
    [InlineData("-0", false, 0L, false)]
    [InlineData("-1", false, 0L, false)]
    [InlineData("1.0", false, 0L, false)]
    [InlineData("1e2", false, 0L, false)]
    public void NonNegativeIntegers(string json, bool ok, long value, bool overflow)
    {
        JsonReader reader = Reader(json);
        Assert.True(reader.Read());
        Assert.Equal(ok, reader.TryGetNonNegativeInteger(out long v, out bool o));
        Assert.Equal(value, v);
        Assert.Equal(overflow, o);
    }

    [Fact]
    public void OnlyTheGivenRangeIsRead()
    {
        byte[] bytes = Encoding.ASCII.GetBytes("[1]garbage");
        var reader = new JsonReader(bytes, 0, 3);
        while (reader.Read())
        {
        }

        Assert.Null(reader.Error);
    }
}
