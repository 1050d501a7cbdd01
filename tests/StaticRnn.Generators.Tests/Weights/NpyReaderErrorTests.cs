using System;
using System.Text;
using StaticRnn.Generators.Weights;
using Xunit;

namespace StaticRnn.Generators.Tests.Weights;

public class NpyReaderErrorTests
{
    internal static WeightFileError ReadError(byte[] bytes, WeightFileErrorKind kind, string name = "w")
    {
        WeightFile? file = NpyReader.Read(bytes, name, out WeightFileError? error);
        Assert.Null(file);
        Assert.NotNull(error);
        Assert.True(kind == error!.Kind, $"expected {kind} but got {error}");
        Assert.False(string.IsNullOrWhiteSpace(error.Message));
        Assert.DoesNotContain('\n', error.Message);
        Assert.Equal(name, error.TensorName);
        return error;
    }

    private static WeightFileError HeaderError(string header, WeightFileErrorKind kind, byte[]? data = null) =>
        ReadError(NpyBuilder.Build(header, data ?? new byte[4]), kind);

    private static string Dict(string descr = "'<f4'", string fortran = "False", string shape = "(1,)") =>
        $"{{'descr': {descr}, 'fortran_order': {fortran}, 'shape': {shape}, }}";

    // ---- Prefix -----------------------------------------------------------------------------

    [Fact]
    public void NullInput_IsAnErrorNotAnException()
    {
        Assert.Null(NpyReader.Read(null!, "w", out WeightFileError? error));
        Assert.Equal(WeightFileErrorKind.Truncated, error!.Kind);
        Assert.NotNull(NpyReader.Read(NpyBuilder.F32("()", 1f), null!, out _)); // a null name reads as ""
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(6)]
    [InlineData(9)]
    public void ShorterThanThePrefix_IsTruncated(int length)
    {
        byte[] bytes = NpyBuilder.F32("(1,)", 1f).AsSpan(0, length).ToArray();
        WeightFileError e = ReadError(bytes, WeightFileErrorKind.Truncated);
        Assert.Equal($"the file is {length} bytes long; expected at least 10 bytes for the .npy magic, format version and header length", e.Message);
    }

    [Fact]
    public void Version2_ShorterThanItsPrefix_IsTruncated()
    {
        byte[] bytes = NpyBuilder.Build(Dict(), new byte[4], major: 2).AsSpan(0, 11).ToArray();
        Assert.Contains("4-byte header length of format 2.0", ReadError(bytes, WeightFileErrorKind.Truncated).Message);
    }

    [Theory]
    [InlineData(new byte[] { 0x50, 0x4B, 0x03, 0x04, 0x14, 0x00, 0, 0, 0, 0, 0, 0 }, "50 4B 03 04 14 00")]
    [InlineData(new byte[] { 0x93, 0x4E, 0x55, 0x4D, 0x50, 0x58, 1, 0, 0, 0 }, "93 4E 55 4D 50 58")]
    [InlineData(new byte[] { 0x94 }, "94")]
    public void WrongMagic(byte[] bytes, string shown)
    {
        WeightFileError e = ReadError(bytes, WeightFileErrorKind.InvalidHeader);
        Assert.Equal($"the file starts with the bytes {shown}; expected the .npy magic 93 4E 55 4D 50 59 (\\x93NUMPY)", e.Message);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 1)]
    [InlineData(4, 0)]
    [InlineData(255, 0)]
    public void UnknownFormatVersion(int major, int minor)
    {
        byte[] bytes = NpyBuilder.F32("(1,)", 1f);
        bytes[6] = (byte)major;
        bytes[7] = (byte)minor;
        WeightFileError e = ReadError(bytes, WeightFileErrorKind.InvalidHeader);
        Assert.Equal($"the file has .npy format version {major}.{minor}; expected 1.0, 2.0 or 3.0", e.Message);
    }

    [Fact]
    public void HeaderLongerThanTheFile()
    {
        byte[] header = Encoding.ASCII.GetBytes(Dict());
        WeightFileError e = ReadError(NpyBuilder.Raw(header, declaredLength: header.Length + 1), WeightFileErrorKind.HeaderLength);
        Assert.Equal($"the .npy header length of the file says {header.Length + 1} bytes but only {header.Length} follow the 10-byte prefix", e.Message);

        ReadError(NpyBuilder.Raw(header, major: 2, declaredLength: 0xFFFF_FFFF), WeightFileErrorKind.HeaderLength);
        ReadError(NpyBuilder.Raw(header, major: 1, declaredLength: 0xFFFF), WeightFileErrorKind.HeaderLength);
    }

    [Fact]
    public void HeaderLengthAboveTheLimit()
    {
        WeightFileError e = ReadError(NpyBuilder.Raw(new byte[16], major: 3, declaredLength: 100_000_001), WeightFileErrorKind.HeaderLength);
        Assert.Equal("the .npy header length of the file says 100000001 bytes; expected at most 100000000 bytes", e.Message);
    }

    [Fact]
    public void Version3_InvalidUtf8()
    {
        byte[] header = Encoding.ASCII.GetBytes(Dict(descr: "'<f4X'"));
        header[Array.IndexOf(header, (byte)'X')] = 0xFF;
        WeightFileError e = ReadError(NpyBuilder.Raw(header, new byte[4], major: 3), WeightFileErrorKind.InvalidHeader);
        Assert.Equal("the .npy header of the file is not valid UTF-8; expected UTF-8 text in format 3.0", e.Message);
    }

    // ---- The header dict --------------------------------------------------------------------

    [Theory]
    [InlineData("", "empty or blank")]
    [InlineData("   \n", "empty or blank")]
    [InlineData("{", "expected a key or '}' but the header ended")]
    [InlineData("{'descr': '<f4'", "expected ',' or '}' but the header ended")]
    [InlineData("{'descr' '<f4'}", "expected ':' after a key but found ''' at character 9")]
    [InlineData("{descr: '<f4'}", "expected a string key or '}' but found 'd' at character 1")]
    [InlineData("{1: '<f4'}", "expected a string key")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} x", "expected only whitespace after the literal but found 'x'")]
    [InlineData("{'descr': '<f4}", "a string runs into a line break")] // the padding ends in one
    [InlineData("{'descr': '<f4\n'}", "a string runs into a line break")]
    [InlineData("{'descr': '\\q'}", "the escape '\\q'")]
    [InlineData("{'descr': '\\x4'}", "needs 2 hexadecimal digits")]
    [InlineData("{'shape': (0x10,)}", "expected an integer but found '0x10'")]
    [InlineData("{'shape': (3.0,)}", "expected an integer but found '3.0'")]
    [InlineData("{'shape': (-,)}", "expected digits after the sign")]
    [InlineData("{'fortran_order': true}", "found the name 'true'")]
    [InlineData("{'descr': <f4}", "expected a value but found '<'")]
    [InlineData("{'shape': (1 2)}", "expected ',' or ')' but found '2'")]
    [InlineData("{'shape': [1,", "expected a value or ']' but the header ended")]
    [InlineData("{'descr': '<f4', 'descr': '<f4'}", "the key 'descr' occurs twice")]
    [InlineData("{'descr': '<f4'}\u0001", "U+0001 at character 16")]
    public void NotAPythonLiteral(string header, string detail)
    {
        WeightFileError e = HeaderError(header, WeightFileErrorKind.InvalidHeader);
        Assert.StartsWith("the .npy header of the file is not a Python literal (offsets count from the header's first character): ", e.Message);
        Assert.Contains(detail, e.Message);
    }

    [Theory]
    [InlineData("{'descr': '<f4}")]
    [InlineData("{'descr': '<f4\\")]
    public void StringNotClosedBeforeTheEnd(string header)
    {
        WeightFileError e = ReadError(NpyBuilder.Build(header, new byte[4], pad: false), WeightFileErrorKind.InvalidHeader);
        Assert.EndsWith("a string is not closed before the header ends", e.Message);
    }

    [Fact]
    public void NestingDeeperThanTheLimit()
    {
        string deep = "{'shape': " + new string('(', 40) + new string(')', 40) + "}";
        Assert.Contains("at most 32 levels of nesting", HeaderError(deep, WeightFileErrorKind.InvalidHeader).Message);
        string huge = "{'shape': " + new string('[', 100_000) + "}";
        Assert.Contains("at most 32 levels of nesting", HeaderError(huge, WeightFileErrorKind.InvalidHeader).Message);
    }

    [Theory]
    [InlineData("['descr', 'shape']", "['descr', 'shape']")]
    [InlineData("'<f4'", "'<f4'")]
    [InlineData("None", "None")]
    [InlineData("(1, 2)", "(1, 2)")]
    public void NotADict(string header, string shown)
    {
        WeightFileError e = HeaderError(header, WeightFileErrorKind.InvalidHeader);
        Assert.Equal($"the .npy header of the file is {shown}; expected a dict with exactly the keys 'descr', 'fortran_order' and 'shape'", e.Message);
    }

    [Theory]
    [InlineData("{'fortran_order': False, 'shape': (1,)}", "descr")]
    [InlineData("{'descr': '<f4', 'shape': (1,)}", "fortran_order")]
    [InlineData("{'descr': '<f4', 'fortran_order': False}", "shape")]
    [InlineData("{}", "descr")]
    public void MissingKey(string header, string key)
    {
        WeightFileError e = HeaderError(header, WeightFileErrorKind.InvalidHeader);
        Assert.Equal($"the .npy header of the file has no '{key}' key; expected exactly the keys 'descr', 'fortran_order' and 'shape'", e.Message);
    }

    [Fact]
    public void UnknownKey()
    {
        WeightFileError e = HeaderError("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'order': 'C'}", WeightFileErrorKind.InvalidHeader);
        Assert.Equal("the .npy header of the file has the key 'order'; expected exactly the keys 'descr', 'fortran_order' and 'shape'", e.Message);
    }

    // ---- descr ------------------------------------------------------------------------------

    [Theory]
    [InlineData("<i8", "64-bit signed integers")]
    [InlineData("<i4", "32-bit signed integers")]
    [InlineData("|u1", "8-bit unsigned integers")]
    [InlineData("|b1", "booleans")]
    [InlineData("<c8", "64-bit complex numbers")]
    [InlineData("<f16", "128-bit floats")]
    [InlineData("<U5", "Unicode strings")]
    [InlineData("|S3", "byte strings")]
    [InlineData("|V16", "raw void records")]
    [InlineData("<M8[ns]", "datetimes")]
    [InlineData("<m8[s]", "timedeltas")]
    [InlineData("<e", "an unknown type")]
    [InlineData("float32", "floats")]
    [InlineData("<", "no type")]
    [InlineData("", "no type")]
    public void UnsupportedDType(string descr, string words)
    {
        WeightFileError e = HeaderError(Dict(descr: $"'{descr}'"), WeightFileErrorKind.UnsupportedDType);
        Assert.Equal(
            $"the file has dtype '{descr}' ({words}); expected float32, float64 or float16 (descr '<f4', '<f8' or '<f2', "
            + "or '>f4', '>f8', '>f2' big-endian), e.g. by saving array.astype(np.float32)",
            e.Message);
    }

    [Theory]
    [InlineData("|O")]
    [InlineData("O")]
    [InlineData("<O8")]
    public void ObjectArray(string descr)
    {
        WeightFileError e = HeaderError(Dict(descr: $"'{descr}'"), WeightFileErrorKind.ObjectArray, new byte[100]);
        Assert.Equal(
            $"the file has dtype '{descr}' (Python objects, which NumPy stores as a pickle that only np.load(allow_pickle=True) reads); "
            + "expected float32, float64 or float16 (descr '<f4', '<f8' or '<f2', or '>f4', '>f8', '>f2' big-endian)",
            e.Message);
    }

    [Fact]
    public void StructuredDType()
    {
        WeightFileError e = HeaderError(Dict(descr: "[('x', '<f4'), ('y', '<f4', (2,))]"), WeightFileErrorKind.UnsupportedDType);
        Assert.StartsWith("the file has the structured dtype [('x', '<f4'), ('y', '<f4', (2,))]; expected float32", e.Message);
    }

    [Theory]
    [InlineData("5")]
    [InlineData("None")]
    [InlineData("('<f4',)")]
    public void DescrNotAString(string descr)
    {
        WeightFileError e = HeaderError(Dict(descr: descr), WeightFileErrorKind.InvalidHeader);
        Assert.Equal($"the .npy header of the file has 'descr' {descr}; expected a dtype string such as '<f4'", e.Message);
    }

    // ---- fortran_order ----------------------------------------------------------------------

    [Theory]
    [InlineData("(2, 3)")]
    [InlineData("(3, 1, 2)")]
    [InlineData("(2, 2, 2)")]
    public void FortranOrder(string shape)
    {
        WeightFileError e = HeaderError(Dict(fortran: "True", shape: shape), WeightFileErrorKind.FortranOrder, new byte[64]);
        Assert.Equal($"the file holds a Fortran-order (column-major) array of shape {shape}; expected C order: save np.ascontiguousarray(array) instead", e.Message);
    }

    [Theory]
    [InlineData("()", 1)]
    [InlineData("(5,)", 5)]
    [InlineData("(1, 5)", 5)]
    [InlineData("(5, 1, 1)", 5)]
    [InlineData("(0, 3)", 0)]
    public void FortranOrder_WhereItLaysOutLikeC_IsRead(string shape, int count)
    {
        byte[] bytes = NpyBuilder.Build(Dict(fortran: "True", shape: shape), new byte[count * 4]);
        Assert.NotNull(NpyReader.Read(bytes, "w", out WeightFileError? error));
        Assert.Null(error);
    }

    [Theory]
    [InlineData("'False'")]
    [InlineData("0")]
    [InlineData("None")]
    public void FortranOrderNotABool(string value)
    {
        WeightFileError e = HeaderError(Dict(fortran: value), WeightFileErrorKind.InvalidHeader);
        Assert.Equal($"the .npy header of the file has 'fortran_order' {value}; expected True or False", e.Message);
    }

    // ---- shape ------------------------------------------------------------------------------

    [Theory]
    [InlineData("[2, 3]")]
    [InlineData("5")]
    [InlineData("(5)")]
    [InlineData("((4))")]
    [InlineData("'(5,)'")]
    [InlineData("None")]
    public void ShapeNotATuple(string shape)
    {
        WeightFileError e = HeaderError(Dict(shape: shape), WeightFileErrorKind.InvalidHeader);
        Assert.Contains("has 'shape' ", e.Message);
        Assert.EndsWith("; expected a tuple of non-negative integers such as (3, 4), (5,) or ()", e.Message);
    }

    [Theory]
    [InlineData("(-1,)", 0, "-1")]
    [InlineData("(2, -3)", 1, "-3")]
    [InlineData("(2, '3')", 1, "'3'")]
    [InlineData("(True,)", 0, "True")]
    [InlineData("((2,),)", 0, "(2,)")]
    [InlineData("(-99999999999999999999,)", 0, "-99999999999999999999")]
    public void ShapeElementNotANonNegativeInteger(string shape, int index, string shown)
    {
        WeightFileError e = HeaderError(Dict(shape: shape), WeightFileErrorKind.InvalidHeader);
        Assert.Equal($"the .npy header of the file has shape element {index} = {shown}; expected a non-negative integer", e.Message);
    }

    [Theory]
    [InlineData("(2147483648,)", "2147483648")]
    [InlineData("(1, 99999999999999999999999)", "99999999999999999999999")]
    public void ShapeElementAboveInt32(string shape, string shown)
    {
        WeightFileError e = HeaderError(Dict(shape: shape), WeightFileErrorKind.TooLarge);
        Assert.Contains($"= {shown}; expected at most 2147483647", e.Message);
    }

    [Fact]
    public void RankAboveEight()
    {
        WeightFileError e = HeaderError(Dict(shape: "(1, 1, 1, 1, 1, 1, 1, 1, 1)"), WeightFileErrorKind.InvalidHeader);
        Assert.Equal("the file has a shape of 9 dimensions; expected at most 8", e.Message);
    }

    [Fact]
    public void MoreElementsThanInt32()
    {
        WeightFileError e = HeaderError(Dict(shape: "(65536, 65536)"), WeightFileErrorKind.TooLarge);
        Assert.Equal("the file has shape (65536, 65536), more than 2147483647 elements; expected an array that fits in the file", e.Message);
    }

    [Fact]
    public void MoreBytesThanInt32()
    {
        WeightFileError e = HeaderError(Dict(descr: "'<f8'", shape: "(1073741824,)"), WeightFileErrorKind.TooLarge);
        Assert.Equal("the file has shape (1073741824,) of '<f8' (1073741824 elements of 8 bytes = 8589934592 bytes); expected at most 2147483647 bytes", e.Message);
    }

    // ---- data -------------------------------------------------------------------------------

    [Fact]
    public void DataShorterThanTheShape()
    {
        WeightFileError e = HeaderError(Dict(shape: "(2, 3)"), WeightFileErrorKind.Truncated, new byte[20]);
        Assert.Equal("the file has shape (2, 3) of '<f4' (6 elements of 4 bytes = 24 bytes) but only 20 bytes follow the header", e.Message);

        // An absurd but representable shape is the same error.
        Assert.Contains("only 4 bytes follow", HeaderError(Dict(shape: "(100000000,)"), WeightFileErrorKind.Truncated).Message);
    }

    [Fact]
    public void DataLongerThanTheShape()
    {
        WeightFileError e = HeaderError(Dict(descr: "'<f2'", shape: "(3,)"), WeightFileErrorKind.ShapeMismatch, new byte[7]);
        Assert.Equal("the file has shape (3,) of '<f2' (3 elements of 2 bytes = 6 bytes) but 7 bytes follow the header; expected exactly the array's bytes", e.Message);
        HeaderError(Dict(shape: "(0,)"), WeightFileErrorKind.ShapeMismatch, new byte[1]);
        HeaderError(Dict(shape: "()"), WeightFileErrorKind.ShapeMismatch, new byte[8]);
    }

    [Fact]
    public void EveryTruncationOfARealFile_IsAnError()
    {
        byte[] bytes = NumPyFiles.Read("f4_2x3x4.npy");
        for (int length = 0; length < bytes.Length; length++)
        {
            WeightFile? file = NpyReader.Read(bytes.AsSpan(0, length).ToArray(), "w", out WeightFileError? error);
            Assert.Null(file);
            Assert.NotNull(error);
        }
    }
}
