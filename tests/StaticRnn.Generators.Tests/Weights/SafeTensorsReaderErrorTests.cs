using System;
using System.Text;
using StaticRnn.Generators.Weights;
using Xunit;

namespace StaticRnn.Generators.Tests.Weights;

public class SafeTensorsReaderErrorTests
{
    private static WeightFileError ReadError(byte[] bytes, WeightFileErrorKind kind)
    {
        WeightFile? file = SafeTensorsReader.Read(bytes, out WeightFileError? error);
        Assert.Null(file);
        Assert.NotNull(error);
        Assert.True(kind == error!.Kind, $"expected {kind} but got {error}");
        Assert.False(string.IsNullOrWhiteSpace(error.Message));
        Assert.DoesNotContain('\n', error.Message);
        return error;
    }

    private static WeightFileError HeaderError(string header, WeightFileErrorKind kind, byte[]? data = null) =>
        ReadError(SafeTensorsBuilder.Raw(header, data), kind);

    private static string Entry(string dtype, string shape, string offsets) =>
        $"{{\"dtype\":{dtype},\"shape\":{shape},\"data_offsets\":{offsets}}}";

    // ---- Truncated / HeaderLength -------------------------------------------------------------

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(7)]
    public void ShorterThanThePrefix_IsTruncated(int length)
    {
        WeightFileError e = ReadError(new byte[length], WeightFileErrorKind.Truncated);
        Assert.Contains($"{length} bytes", e.Message);
        Assert.Contains("8", e.Message);
        Assert.Null(e.TensorName);
    }

    [Fact]
    public void NullInput_IsAnErrorNotAnException()
    {
        Assert.Null(SafeTensorsReader.Read(null!, out WeightFileError? error));
        Assert.Equal(WeightFileErrorKind.Truncated, error!.Kind);
    }

    [Fact]
    public void ZeroHeaderLength()
    {
        WeightFileError e = ReadError(new byte[8], WeightFileErrorKind.HeaderLength);
        Assert.Contains("0 bytes", e.Message);
        ReadError(SafeTensorsBuilder.RawBytes(new byte[0], new byte[16], declaredLength: 0), WeightFileErrorKind.HeaderLength);
    }

    [Fact]
    public void HeaderLongerThanTheFile()
    {
        byte[] bytes = SafeTensorsBuilder.RawBytes(new byte[120], declaredLength: 4000);
        WeightFileError e = ReadError(bytes, WeightFileErrorKind.HeaderLength);
        Assert.Equal("the header length says 4000 bytes but only 120 follow the 8-byte prefix", e.Message);

        // One byte too many.
        byte[] ok = SafeTensorsBuilder.Raw("{}");
        ok[0]++;
        Assert.Contains("but only 8 follow", ReadError(ok, WeightFileErrorKind.HeaderLength).Message);
    }

    [Theory]
    [InlineData(100_000_001UL)]
    [InlineData(4_294_967_296UL)]
    [InlineData(ulong.MaxValue)]
    [InlineData(9_223_372_036_854_775_808UL)]
    public void HeaderLengthAboveTheLimit(ulong declared)
    {
        WeightFileError e = ReadError(SafeTensorsBuilder.RawBytes(new byte[16], declaredLength: declared), WeightFileErrorKind.HeaderLength);
        Assert.Contains(declared.ToString(), e.Message);
        Assert.Contains("100000000", e.Message);
    }

    // ---- InvalidJson ------------------------------------------------------------------------

    [Theory]
    [InlineData("[]")]
    [InlineData("\"a string\"")]
    [InlineData("42")]
    [InlineData("null")]
    [InlineData("true")]
    public void TopLevelNotAnObject(string header)
    {
        WeightFileError e = HeaderError(header, WeightFileErrorKind.InvalidJson);
        Assert.Contains("expected a JSON object", e.Message);
    }

    [Theory]
    [InlineData("{", "ended")]
    [InlineData("{\"a\"", "':'")]
    [InlineData("{\"a\":", "ended")]
    [InlineData("{\"a\":{}", "ended")]
    [InlineData("{}x", "'x'")]
    [InlineData("{}{}", "'{'")]
    [InlineData("{},", "','")]
    [InlineData("{\"a\":{},}", "'}'")]
    [InlineData("{,}", "','")]
    [InlineData("{\"a\" {}}", "'{'")]
    [InlineData("{'a':{}}", "'''")]
    [InlineData("{a:{}}", "'a'")]
    [InlineData("{\"a\":[1,]}", "']'")]
    [InlineData("{\"a\":[1 2]}", "'2'")]
    [InlineData("{\"a\":tru}", "'t'")]
    [InlineData("{\"a\":nul}", "'n'")]
    [InlineData("{\"a\":True}", "'T'")]
    [InlineData("{\"a\":01}", "leading zeros")]
    [InlineData("{\"a\":1.}", "decimal point")]
    [InlineData("{\"a\":.5}", "'.'")]
    [InlineData("{\"a\":+1}", "'+'")]
    [InlineData("{\"a\":-}", "digit")]
    [InlineData("{\"a\":1e}", "exponent")]
    [InlineData("{\"a\":1e+}", "exponent")]
    [InlineData("{\"a\":NaN}", "'N'")]
    [InlineData("{\"a\":Infinity}", "'I'")]
    [InlineData("{\"a\":0x10}", "'x'")]
    [InlineData("{\"a\":\"unterminated}", "close a string")]
    [InlineData("{\"a\":\"bad \\x escape\"}", "'x'")]
    [InlineData("{\"a\":\"\\u12\"}", "hexadecimal")]
    [InlineData("{\"a\":\"\\u12G4\"}", "hexadecimal")]
    [InlineData("{\"a\":\"tab\there\"}", "control characters")]
    [InlineData("{\"a\":\"new\nline\"}", "control characters")]
    [InlineData("{\"\\ud83d\":{}}", "low surrogate")]
    [InlineData("{\"\\ude00\":{}}", "high surrogate")]
    [InlineData("{\"\\ud83d\\u0041\":{}}", "low surrogate")]
    [InlineData("{\"\\ud83d\\ud83d\":{}}", "low surrogate")]
    [InlineData("{\"\\ud83dx\":{}}", "low surrogate")]
    [InlineData("{/* comment */}", "'/'")]
    [InlineData("{}\u000b", "0x0B")]
    [InlineData("{}\u00a0", "0xC2")]
    [InlineData("   ", "ended")]
    public void MalformedJson(string header, string mentions)
    {
        WeightFileError e = HeaderError(header, WeightFileErrorKind.InvalidJson);
        Assert.Contains("not valid JSON", e.Message);
        Assert.Contains(mentions, e.Message);
    }

    [Fact]
    public void MalformedJson_ReportsTheOffset()
    {
        WeightFileError e = HeaderError("{\"a\":[1,2 3]}", WeightFileErrorKind.InvalidJson);
        Assert.Contains("expected ',' or ']' but found '3' at offset 10", e.Message);
    }

    [Theory]
    [InlineData(new byte[] { 0xC0, 0x80 })]             // overlong NUL
    [InlineData(new byte[] { 0xC1, 0xBF })]             // overlong
    [InlineData(new byte[] { 0xE0, 0x80, 0x80 })]       // overlong 3-byte
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })]       // encoded surrogate U+D800
    [InlineData(new byte[] { 0xF0, 0x80, 0x80, 0x80 })] // overlong 4-byte
    [InlineData(new byte[] { 0xF4, 0x90, 0x80, 0x80 })] // above U+10FFFF
    [InlineData(new byte[] { 0xF5, 0x80, 0x80, 0x80 })]
    [InlineData(new byte[] { 0xFF })]
    [InlineData(new byte[] { 0x80 })]                   // stray continuation byte
    [InlineData(new byte[] { 0xC3 })]                   // truncated sequence
    [InlineData(new byte[] { 0xE2, 0x82 })]
    [InlineData(new byte[] { 0xC3, 0x28 })]             // bad continuation
    public void InvalidUtf8InAName(byte[] sequence)
    {
        byte[] prefix = Encoding.ASCII.GetBytes("{\"a");
        byte[] suffix = Encoding.ASCII.GetBytes("\":{}}");
        var header = new byte[prefix.Length + sequence.Length + suffix.Length];
        prefix.CopyTo(header, 0);
        sequence.CopyTo(header, prefix.Length);
        suffix.CopyTo(header, prefix.Length + sequence.Length);

        WeightFileError e = ReadError(SafeTensorsBuilder.RawBytes(header), WeightFileErrorKind.InvalidJson);
        Assert.Contains("UTF-8", e.Message);
    }

    [Fact]
    public void ByteOrderMark_IsNotJsonWhitespace()
    {
        byte[] header = { 0xEF, 0xBB, 0xBF, (byte)'{', (byte)'}' };
        ReadError(SafeTensorsBuilder.RawBytes(header), WeightFileErrorKind.InvalidJson);
    }

    [Fact]
    public void NulPaddingIsNotWhitespace()
    {
        byte[] header = { (byte)'{', (byte)'}', 0, 0, 0, 0, 0, 0 };
        Assert.Contains("0x00", ReadError(SafeTensorsBuilder.RawBytes(header), WeightFileErrorKind.InvalidJson).Message);
    }

    [Fact]
    public void NestingDeeperThan64_IsRejectedWithoutCrashing()
    {
        // 64 levels (the top-level object counts as one) is fine, 65 is not.
        string ok = "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0],\"x\":" + new string('[', 62) + new string(']', 62) + "}}";
        Assert.NotNull(SafeTensorsReader.Read(SafeTensorsBuilder.Raw(ok), out _));

        string deep = "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0],\"x\":" + new string('[', 63) + new string(']', 63) + "}}";
        Assert.Contains("64", HeaderError(deep, WeightFileErrorKind.InvalidJson).Message);

        // Far deeper than any stack could take recursively.
        string huge = "{\"a\":" + new string('[', 1_000_000) + new string(']', 1_000_000) + "}";
        HeaderError(huge, WeightFileErrorKind.InvalidJson);
        string hugeObjects = new StringBuilder().Insert(0, "{\"a\":", 500_000).ToString();
        HeaderError(hugeObjects, WeightFileErrorKind.InvalidJson);
    }

    [Fact]
    public void DuplicateKeys()
    {
        string entry = Entry("\"F32\"", "[1]", "[0,4]");
        WeightFileError e = HeaderError("{\"a\":" + entry + ",\"a\":" + entry + "}", WeightFileErrorKind.DuplicateName, new byte[4]);
        Assert.Equal("a", e.TensorName);
        Assert.Contains("'a' twice", e.Message);

        // A duplicate key inside an entry or inside metadata is malformed JSON.
        Assert.Contains("\"dtype\" occurs twice", HeaderError(
            "{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,4]}}",
            WeightFileErrorKind.InvalidJson,
            new byte[4]).Message);
        HeaderError("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", WeightFileErrorKind.InvalidJson);
        HeaderError("{\"__metadata__\":{},\"__metadata__\":{}}", WeightFileErrorKind.InvalidJson);

        // Keys that differ only after decoding escapes are the same key.
        HeaderError("{\"a\":" + entry + ",\"\\u0061\":" + entry + "}", WeightFileErrorKind.DuplicateName, new byte[4]);

        // Duplicates are checked in the whole document, even after a semantic error would be found.
        HeaderError("{\"a\":5,\"b\":{\"x\":1,\"x\":2}}", WeightFileErrorKind.InvalidJson);
    }

    // ---- InvalidEntry -----------------------------------------------------------------------

    [Theory]
    [InlineData("5", "the number 5")]
    [InlineData("\"F32\"", "the string 'F32'")]
    [InlineData("[1,2]", "an array")]
    [InlineData("null", "null")]
    [InlineData("true", "true")]
    public void EntryNotAnObject(string value, string found)
    {
        WeightFileError e = HeaderError("{\"fc.weight\":" + value + "}", WeightFileErrorKind.InvalidEntry);
        Assert.Equal("fc.weight", e.TensorName);
        Assert.Equal($"tensor 'fc.weight' is {found}; expected an object with dtype, shape and data_offsets", e.Message);
    }

    [Theory]
    [InlineData("{\"shape\":[1],\"data_offsets\":[0,4]}", "has no dtype")]
    [InlineData("{\"dtype\":\"F32\",\"data_offsets\":[0,4]}", "has no shape")]
    [InlineData("{\"dtype\":\"F32\",\"shape\":[1]}", "has no data_offsets")]
    [InlineData("{}", "has no dtype")]
    [InlineData("{\"DType\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}", "has no dtype")]
    [InlineData("{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}", "dtype that is the number 32")]
    [InlineData("{\"dtype\":null,\"shape\":[1],\"data_offsets\":[0,4]}", "dtype that is null")]
    [InlineData("{\"dtype\":\"F32\",\"shape\":1,\"data_offsets\":[0,4]}", "shape that is the number 1")]
    [InlineData("{\"dtype\":\"F32\",\"shape\":{},\"data_offsets\":[0,4]}", "shape that is an object")]
    [InlineData("{\"dtype\":\"F32\",\"shape\":[\"1\"],\"data_offsets\":[0,4]}", "shape element 0 that is the string '1'")]
    [InlineData("{\"dtype\":\"F32\",\"shape\":[1,[1]],\"data_offsets\":[0,4]}", "shape element 1 that is an array")]
    [InlineData("{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}", "the number -1; expected a non-negative integer")]
    [InlineData("{\"dtype\":\"F32\",\"shape\":[-0],\"data_offsets\":[0,4]}", "the number -0; expected a non-negative integer")]
    [InlineData("{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}", "the number 1.5; expected a non-negative integer")]
    [InlineData("{\"dtype\":\"F32\",\"shape\":[1.0],\"data_offsets\":[0,4]}", "the number 1.0; expected")]
    [InlineData("{\"dtype\":\"F32\",\"shape\":[1e0],\"data_offsets\":[0,4]}", "the number 1e0; expected")]
    [InlineData("{\"dtype\":\"F32\",\"shape\":[1e400],\"data_offsets\":[0,4]}", "the number 1e400; expected")]
    [InlineData("{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}", "rank more than 8")]
    [InlineData("{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":\"0,4\"}", "data_offsets that are the string '0,4'")]
    [InlineData("{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4]}", "data_offsets with 1 elements; expected two")]
    [InlineData("{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[]}", "data_offsets with 0 elements")]
    [InlineData("{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}", "data_offsets with 3 elements")]
    [InlineData("{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,-4]}", "data_offsets element 1 that is the number -4")]
    [InlineData("{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0.0,4]}", "data_offsets element 0 that is the number 0.0")]
    [InlineData("{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4e0]}", "data_offsets element 1 that is the number 4e0")]
    [InlineData("{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":{\"begin\":0,\"end\":4}}", "data_offsets that are an object")]
    public void MalformedEntries(string entry, string mentions)
    {
        WeightFileError e = HeaderError("{\"rnn.weight_ih_l0\":" + entry + "}", WeightFileErrorKind.InvalidEntry, new byte[8]);
        Assert.Equal("rnn.weight_ih_l0", e.TensorName);
        Assert.StartsWith("tensor 'rnn.weight_ih_l0' ", e.Message);
        Assert.Contains(mentions, e.Message);
    }

    [Theory]
    [InlineData("{\"__metadata__\":\"pt\"}", "__metadata__ is the string 'pt'; expected an object whose values are strings")]
    [InlineData("{\"__metadata__\":[]}", "__metadata__ is an array")]
    [InlineData("{\"__metadata__\":null}", "__metadata__ is null")]
    [InlineData("{\"__metadata__\":{\"format\":1}}", "__metadata__ key 'format' has the number 1; expected a string value")]
    [InlineData("{\"__metadata__\":{\"a\":\"x\",\"b\":{}}}", "__metadata__ key 'b' has an object")]
    [InlineData("{\"__metadata__\":{\"a\":null}}", "__metadata__ key 'a' has null")]
    public void MalformedMetadata(string header, string message)
    {
        WeightFileError e = HeaderError(header, WeightFileErrorKind.InvalidEntry);
        Assert.StartsWith(message, e.Message);
        Assert.Null(e.TensorName);
    }

    // ---- UnsupportedDType ---------------------------------------------------------------------

    [Theory]
    [InlineData("I64")]
    [InlineData("I8")]
    [InlineData("U8")]
    [InlineData("BOOL")]
    [InlineData("F8_E4M3")]
    [InlineData("f32")]
    [InlineData("F32 ")]
    [InlineData("")]
    public void UnsupportedDTypes(string dtype)
    {
        WeightFileError e = HeaderError(
            "{\"rnn.weight_ih_l0\":" + Entry(SafeTensorsBuilder.Json(dtype), "[1]", "[0,8]") + "}",
            WeightFileErrorKind.UnsupportedDType,
            new byte[8]);
        Assert.Equal("rnn.weight_ih_l0", e.TensorName);
        Assert.Equal($"tensor 'rnn.weight_ih_l0' has dtype '{dtype}'; expected one of F32, F64, F16, BF16", e.Message);
    }

    // ---- ShapeMismatch ----------------------------------------------------------------------

    [Fact]
    public void ShapeDoesNotMatchTheOffsets()
    {
        WeightFileError e = HeaderError("{\"fc.bias\":" + Entry("\"F32\"", "[3,4]", "[0,40]") + "}", WeightFileErrorKind.ShapeMismatch, new byte[64]);
        Assert.Equal("fc.bias", e.TensorName);
        Assert.Equal("tensor 'fc.bias' has shape [3, 4] (12 elements of 4 bytes = 48 bytes) but its data_offsets span 40 bytes", e.Message);

        e = HeaderError("{\"h\":" + Entry("\"F16\"", "[]", "[0,4]") + "}", WeightFileErrorKind.ShapeMismatch, new byte[8]);
        Assert.Equal("tensor 'h' has shape [] (1 elements of 2 bytes = 2 bytes) but its data_offsets span 4 bytes", e.Message);

        e = HeaderError("{\"z\":" + Entry("\"F64\"", "[0,5]", "[0,8]") + "}", WeightFileErrorKind.ShapeMismatch, new byte[8]);
        Assert.Contains("0 elements of 8 bytes = 0 bytes", e.Message);
        Assert.Contains("span 8 bytes", e.Message);
    }

    // ---- OffsetsOutOfRange ------------------------------------------------------------------

    [Fact]
    public void OffsetsReversed()
    {
        WeightFileError e = HeaderError("{\"w\":" + Entry("\"F32\"", "[0]", "[8,4]") + "}", WeightFileErrorKind.OffsetsOutOfRange, new byte[16]);
        Assert.Equal("tensor 'w' has data_offsets [8, 4]; expected begin <= end", e.Message);
        Assert.Equal("w", e.TensorName);
    }

    [Fact]
    public void OffsetsPastTheData()
    {
        WeightFileError e = HeaderError("{\"w\":" + Entry("\"F32\"", "[2]", "[12,20]") + "}", WeightFileErrorKind.OffsetsOutOfRange, new byte[16]);
        Assert.Equal("tensor 'w' has data_offsets [12, 20] but the data section is only 16 bytes long", e.Message);

        e = HeaderError("{\"w\":" + Entry("\"F32\"", "[0]", "[99999999999999999999999,99999999999999999999999]") + "}", WeightFileErrorKind.OffsetsOutOfRange, new byte[16]);
        Assert.Contains("[99999999999999999999999, 99999999999999999999999]", e.Message);

        e = HeaderError("{\"w\":" + Entry("\"F32\"", "[1]", "[18446744073709551615,18446744073709551619]") + "}", WeightFileErrorKind.OffsetsOutOfRange, new byte[16]);
        Assert.Contains("18446744073709551619", e.Message);

        // An empty tensor still has to lie inside the data section.
        HeaderError("{\"w\":" + Entry("\"F32\"", "[0]", "[17,17]") + "}", WeightFileErrorKind.OffsetsOutOfRange, new byte[16]);
    }

    // ---- OffsetsOverlap ---------------------------------------------------------------------

    [Fact]
    public void OverlappingTensors()
    {
        WeightFileError e = HeaderError(
            "{\"a\":" + Entry("\"F32\"", "[12]", "[0,48]") + ",\"b\":" + Entry("\"F32\"", "[12]", "[40,88]") + "}",
            WeightFileErrorKind.OffsetsOverlap,
            new byte[88]);
        Assert.Equal("tensors 'a' (data bytes [0, 48)) and 'b' (data bytes [40, 88)) overlap; expected disjoint byte ranges", e.Message);
        Assert.Equal("b", e.TensorName);

        // One inside another, listed out of order; then two identical ranges.
        HeaderError(
            "{\"small\":" + Entry("\"F16\"", "[2]", "[20,24]") + ",\"big\":" + Entry("\"F32\"", "[10]", "[0,40]") + "}",
            WeightFileErrorKind.OffsetsOverlap,
            new byte[40]);
        HeaderError(
            "{\"a\":" + Entry("\"F32\"", "[1]", "[4,8]") + ",\"b\":" + Entry("\"BF16\"", "[2]", "[4,8]") + "}",
            WeightFileErrorKind.OffsetsOverlap,
            new byte[8]);

        // Overlap is found even when the overlapping pair is not adjacent in the header.
        HeaderError(
            "{\"a\":" + Entry("\"F32\"", "[1]", "[0,4]") + ",\"b\":" + Entry("\"F32\"", "[1]", "[8,12]")
            + ",\"c\":" + Entry("\"F32\"", "[1]", "[16,20]") + ",\"d\":" + Entry("\"F64\"", "[1]", "[6,14]") + "}",
            WeightFileErrorKind.OffsetsOverlap,
            new byte[20]);
    }

    [Fact]
    public void AdjacentAndEmptyTensorsDoNotOverlap()
    {
        byte[] bytes = SafeTensorsBuilder.Raw(
            "{\"a\":" + Entry("\"F32\"", "[2]", "[0,8]") + ",\"b\":" + Entry("\"F32\"", "[2]", "[8,16]")
            + ",\"e1\":" + Entry("\"F32\"", "[0]", "[4,4]") + ",\"e2\":" + Entry("\"F16\"", "[0,3]", "[4,4]")
            + ",\"e3\":" + Entry("\"F64\"", "[0]", "[16,16]") + "}",
            new byte[16]);
        Assert.Equal(5, SafeTensorsReaderTests.ReadValid(bytes).Tensors.Count);
    }

    // ---- TooLarge ---------------------------------------------------------------------------

    [Fact]
    public void ElementCountOverflowingInt()
    {
        WeightFileError e = HeaderError("{\"w\":" + Entry("\"F32\"", "[100000,100000,100000]", "[0,4]") + "}", WeightFileErrorKind.TooLarge, new byte[4]);
        Assert.Equal("w", e.TensorName);
        Assert.Contains("[100000, 100000, 100000]", e.Message);
        Assert.Contains("2147483647", e.Message);

        HeaderError("{\"w\":" + Entry("\"F16\"", "[46341,46341]", "[0,4]") + "}", WeightFileErrorKind.TooLarge, new byte[4]);
        HeaderError("{\"w\":" + Entry("\"F16\"", "[2147483647,2147483647,2147483647,2147483647,2147483647,2147483647,2147483647,2147483647]", "[0,4]") + "}", WeightFileErrorKind.TooLarge, new byte[4]);
    }

    [Fact]
    public void ByteLengthOverflowingInt()
    {
        WeightFileError e = HeaderError("{\"w\":" + Entry("\"F64\"", "[600000000]", "[0,8]") + "}", WeightFileErrorKind.TooLarge, new byte[8]);
        Assert.Contains("600000000 elements of 8 bytes = 4800000000 bytes", e.Message);
    }

    [Fact]
    public void DimensionBeyondInt()
    {
        WeightFileError e = HeaderError("{\"w\":" + Entry("\"F32\"", "[1,2147483648]", "[0,4]") + "}", WeightFileErrorKind.TooLarge, new byte[4]);
        Assert.Contains("shape element 1 = 2147483648", e.Message);
        e = HeaderError("{\"w\":" + Entry("\"F32\"", "[123456789012345678901234567890]", "[0,4]") + "}", WeightFileErrorKind.TooLarge, new byte[4]);
        Assert.Contains("123456789012345678901234567890", e.Message);
    }

    [Fact]
    public void ShapeLargerThanTheDataSection()
    {
        WeightFileError e = HeaderError("{\"w\":" + Entry("\"F32\"", "[1000,1000]", "[0,40]") + "}", WeightFileErrorKind.TooLarge, new byte[40]);
        Assert.Equal("tensor 'w' has shape [1000, 1000] (1000000 elements of 4 bytes = 4000000 bytes) but the data section holds only 40 bytes", e.Message);
    }

    [Fact]
    public void AbsurdShapes_AllocateNothingSizedByThem()
    {
        string[] headers =
        {
            "{\"w\":" + Entry("\"F32\"", "[536870911]", "[0,2147483644]") + "}",
            "{\"w\":" + Entry("\"F64\"", "[268435455]", "[0,2147483640]") + "}",
            "{\"w\":" + Entry("\"F32\"", "[1]", "[0,9223372036854775807]") + "}",
        };
        foreach (string header in headers)
        {
            byte[] bytes = SafeTensorsBuilder.Raw(header, new byte[16]);
            SafeTensorsReader.Read(bytes, out _); // warm up
            long before = GC.GetAllocatedBytesForCurrentThread();
            Assert.Null(SafeTensorsReader.Read(bytes, out WeightFileError? error));
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.NotNull(error);
            Assert.True(allocated < 64 * 1024, $"{allocated} bytes allocated for a {bytes.Length}-byte file ({error})");
        }
    }

    // ---- Messages ---------------------------------------------------------------------------

    [Fact]
    public void NamesInMessages_AreEscapedAndShortened_ButTensorNameIsVerbatim()
    {
        string name = "bad\nname \"q\"";
        WeightFileError e = HeaderError("{" + SafeTensorsBuilder.Json(name) + ":" + Entry("\"I8\"", "[1]", "[0,1]") + "}", WeightFileErrorKind.UnsupportedDType, new byte[1]);
        Assert.Equal(name, e.TensorName);
        Assert.Contains("tensor 'bad\\nname \\\"q\\\"'", e.Message);

        string longName = new string('x', 5000);
        e = HeaderError("{\"" + longName + "\":" + Entry("\"I8\"", "[1]", "[0,1]") + "}", WeightFileErrorKind.UnsupportedDType, new byte[1]);
        Assert.Equal(longName, e.TensorName);
        Assert.True(e.Message.Length < 400, e.Message);
        Assert.Contains("5000 characters", e.Message);
    }

    [Fact]
    public void FirstErrorWins_InHeaderOrder()
    {
        WeightFileError e = HeaderError(
            "{\"ok\":" + Entry("\"F32\"", "[1]", "[0,4]") + ",\"bad1\":" + Entry("\"I32\"", "[1]", "[4,8]")
            + ",\"bad2\":" + Entry("\"F32\"", "[9]", "[8,12]") + "}",
            WeightFileErrorKind.UnsupportedDType,
            new byte[12]);
        Assert.Equal("bad1", e.TensorName);
    }
}
