using System;
using System.Linq;
using System.Text;
using StaticRnn.Generators.Weights;
using Xunit;

namespace StaticRnn.Generators.Tests.Weights;

public class NpyReaderTests
{
    internal static WeightFile ReadValid(byte[] bytes, string name = "w")
    {
        WeightFile? file = NpyReader.Read(bytes, name, out WeightFileError? error);
        Assert.True(error is null, error?.ToString());
        Assert.NotNull(file);
        return file!;
    }

    internal static void AssertBits(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(
                BitConverter.SingleToUInt32Bits(expected[i]) == BitConverter.SingleToUInt32Bits(actual[i]),
                $"element {i}: expected {expected[i]:R} but got {actual[i]:R}");
        }
    }

    /// <summary>The bytes at FileOffset in the original file are the tensor's little-endian data.</summary>
    internal static void AssertVerbatimAt(byte[] original, TensorEntry t, byte[] littleEndianData)
    {
        Assert.NotNull(t.FileOffset);
        Assert.Equal(littleEndianData.Length, t.ByteLength);
        Assert.Equal(littleEndianData, original.AsSpan(checked((int)t.FileOffset!.Value), t.ByteLength).ToArray());
    }

    // ---- Files NumPy wrote ------------------------------------------------------------------

    [Theory]
    [InlineData("f4_2x3x4.npy")]
    [InlineData("f4_2x3x4_v2.npy")]
    [InlineData("f4_2x3x4_v3.npy")]
    public void NumPy_F32_ThreeDimensions_AllFormatVersions(string fileName)
    {
        byte[] bytes = NumPyFiles.Read(fileName);
        Assert.Equal(fileName.Contains("_v") ? fileName[^5] - '0' : 1, bytes[6]);
        WeightFile file = ReadValid(bytes, "kernel");

        TensorEntry t = Assert.Single(file.Tensors);
        Assert.Equal("kernel", t.Name);
        Assert.Equal(TensorDType.F32, t.DType);
        Assert.Equal(new[] { 2, 3, 4 }, t.Shape);
        Assert.Equal(24, t.ElementCount);
        Assert.Equal(96, t.ByteLength);
        Assert.Equal(bytes.Length - 96, t.DataOffset);
        Assert.Equal(bytes.Length - 96, t.FileOffset);
        Assert.Equal(0, t.FileOffset!.Value % 64); // NumPy aligns the data to 64 bytes
        AssertBits(NpyBuilder.Seq(24), file.ReadFloat32(t));
        AssertVerbatimAt(bytes, t, NpyBuilder.F32Bytes(NpyBuilder.Seq(24)));
    }

    [Fact]
    public void NumPy_BigEndianF64_IsSwapped_AndHasNoFileOffset()
    {
        byte[] bytes = NumPyFiles.Read("f8_be_5.npy");
        WeightFile file = ReadValid(bytes);
        TensorEntry t = Assert.Single(file.Tensors);
        Assert.Equal(TensorDType.F64, t.DType);
        Assert.Equal(new[] { 5 }, t.Shape);
        Assert.Equal(40, t.ByteLength);
        Assert.Null(t.FileOffset);
        AssertBits(NpyBuilder.Seq(5), file.ReadFloat32(t));

        // The file really holds big-endian data: its last 40 bytes are the values' bytes reversed per element.
        Assert.Equal(NpyBuilder.F64Bytes(NpyBuilder.SeqF64(5), bigEndian: true), bytes.AsSpan(bytes.Length - 40).ToArray());
    }

    [Fact]
    public void NumPy_F16_TwoDimensions()
    {
        byte[] bytes = NumPyFiles.Read("f2_2x3.npy");
        WeightFile file = ReadValid(bytes);
        TensorEntry t = Assert.Single(file.Tensors);
        Assert.Equal(TensorDType.F16, t.DType);
        Assert.Equal(new[] { 2, 3 }, t.Shape);
        Assert.Equal(12, t.ByteLength);
        Assert.Equal(bytes.Length - 12, t.FileOffset);
        AssertBits(NpyBuilder.Seq(6), file.ReadFloat32(t));
        AssertVerbatimAt(bytes, t, NpyBuilder.F16Bytes(NpyBuilder.Seq(6)));
    }

    [Fact]
    public void NumPy_ZeroDimensional_IsAScalar()
    {
        byte[] bytes = NumPyFiles.Read("f4_scalar.npy");
        Assert.Contains("'shape': ()", Encoding.ASCII.GetString(bytes));
        WeightFile file = ReadValid(bytes);
        TensorEntry t = Assert.Single(file.Tensors);
        Assert.Empty(t.Shape);
        Assert.Equal(1, t.ElementCount);
        Assert.Equal(4, t.ByteLength);
        AssertBits(new[] { 42.5f }, file.ReadFloat32(t));
        AssertVerbatimAt(bytes, t, NpyBuilder.F32Bytes(new[] { 42.5f }));
    }

    [Fact]
    public void NumPy_OneDimensional()
    {
        byte[] bytes = NumPyFiles.Read("f4_5.npy");
        Assert.Contains("'shape': (5,)", Encoding.ASCII.GetString(bytes));
        WeightFile file = ReadValid(bytes);
        TensorEntry t = Assert.Single(file.Tensors);
        Assert.Equal(new[] { 5 }, t.Shape);
        AssertBits(NpyBuilder.Seq(5), file.ReadFloat32(t));
        AssertVerbatimAt(bytes, t, NpyBuilder.F32Bytes(NpyBuilder.Seq(5)));
    }

    [Fact]
    public void NumPy_NoElements()
    {
        byte[] bytes = NumPyFiles.Read("f4_0x3.npy");
        WeightFile file = ReadValid(bytes);
        TensorEntry t = Assert.Single(file.Tensors);
        Assert.Equal(new[] { 0, 3 }, t.Shape);
        Assert.Equal(0, t.ElementCount);
        Assert.Equal(0, t.ByteLength);
        Assert.Equal(bytes.Length, t.FileOffset);
        Assert.Empty(file.ReadFloat32(t));
    }

    [Fact]
    public void NumPy_FortranOrder_IsRejected()
    {
        WeightFileError e = NpyReaderErrorTests.ReadError(NumPyFiles.Read("fortran_2x3.npy"), WeightFileErrorKind.FortranOrder);
        Assert.Equal("the file holds a Fortran-order (column-major) array of shape (2, 3); expected C order: save np.ascontiguousarray(array) instead", e.Message);
        Assert.Equal("w", e.TensorName);
    }

    [Fact]
    public void NumPy_ObjectArray_IsRejected()
    {
        WeightFileError e = NpyReaderErrorTests.ReadError(NumPyFiles.Read("object.npy"), WeightFileErrorKind.ObjectArray);
        Assert.Contains("'|O'", e.Message);
        Assert.Contains("allow_pickle", e.Message);
    }

    [Fact]
    public void NumPy_Int64_IsRejected()
    {
        WeightFileError e = NpyReaderErrorTests.ReadError(NumPyFiles.Read("i8_4.npy"), WeightFileErrorKind.UnsupportedDType);
        Assert.Equal(
            "the file has dtype '<i8' (64-bit signed integers); expected float32, float64 or float16 (descr '<f4', '<f8' or '<f2', "
            + "or '>f4', '>f8', '>f2' big-endian), e.g. by saving array.astype(np.float32)",
            e.Message);
    }

    // ---- Files built here -------------------------------------------------------------------

    [Fact]
    public void F32_SpecialValues_RoundTripBitExactly()
    {
        float[] values =
        {
            0f, -0f, float.Epsilon, float.MaxValue, float.MinValue, float.PositiveInfinity, float.NegativeInfinity,
            BitConverter.UInt32BitsToSingle(0x7FA0_0001), BitConverter.UInt32BitsToSingle(0xFFC0_1234),
        };
        byte[] bytes = NpyBuilder.F32("(9,)", values);
        WeightFile file = ReadValid(bytes);
        AssertBits(values, file.ReadFloat32(file.Tensors[0]));
        AssertVerbatimAt(bytes, file.Tensors[0], NpyBuilder.F32Bytes(values));
    }

    [Theory]
    [InlineData(">f4")]
    [InlineData(">f8")]
    [InlineData(">f2")]
    public void BigEndian_IsSwapped(string descr)
    {
        TensorDType dtype = descr[2] switch { '4' => TensorDType.F32, '8' => TensorDType.F64, _ => TensorDType.F16 };
        float[] values = { 1f, -2.5f, 0.125f, 65504f, -0f, float.NegativeInfinity };
        byte[] data = dtype switch
        {
            TensorDType.F32 => NpyBuilder.F32Bytes(values, bigEndian: true),
            TensorDType.F64 => NpyBuilder.F64Bytes(Array.ConvertAll(values, v => (double)v), bigEndian: true),
            _ => NpyBuilder.F16Bytes(values, bigEndian: true),
        };
        byte[] bytes = NpyBuilder.Build(NpyBuilder.Header(descr, "(2, 3)"), data);
        byte[] copy = (byte[])bytes.Clone();

        WeightFile file = ReadValid(bytes);
        TensorEntry t = file.Tensors[0];
        Assert.Equal(dtype, t.DType);
        Assert.Null(t.FileOffset);
        Assert.Equal(0, t.DataOffset);
        AssertBits(values, file.ReadFloat32(t));
        Assert.Equal(copy, bytes); // the input is not swapped in place
    }

    [Theory]
    [InlineData("<f4")]
    [InlineData("=f4")] // native: read as little-endian
    [InlineData("|f4")] // "not applicable": NumPy reads it as native
    [InlineData("f4")]
    public void LittleEndianAndNativeForms(string descr)
    {
        byte[] bytes = NpyBuilder.Build(NpyBuilder.Header(descr, "(2,)"), NpyBuilder.F32Bytes(new[] { 1.5f, -3f }));
        WeightFile file = ReadValid(bytes);
        Assert.Equal(TensorDType.F32, file.Tensors[0].DType);
        Assert.Equal(bytes.Length - 8, file.Tensors[0].FileOffset);
        AssertBits(new[] { 1.5f, -3f }, file.ReadFloat32(file.Tensors[0]));
    }

    [Theory]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }")]   // NumPy's layout
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2)}")]     // no trailing comma
    [InlineData("{'shape': (2, 2), 'fortran_order': False, 'descr': '<f4'}")]     // any key order
    [InlineData("{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2, 2)}")] // double quotes
    [InlineData("{u'descr': u'<f4', u'fortran_order': False, u'shape': (2L, 2L), }")] // Python 2
    [InlineData("{'descr':'<f4','fortran_order':False,'shape':(2,2,),}")]          // no spaces, trailing commas
    [InlineData("\t{ 'descr' :\n'<f4' ,\r\n 'fortran_order' : False , 'shape' : ( 2 , 2 ) , } \n")]
    [InlineData("{'descr': '\\x3cf4', 'fortran_order': False, 'shape': (2, +2)}")] // escapes, a sign
    [InlineData("{'descr': '<f4', 'fortran_order': True, 'shape': (1, 4), }")]     // one long axis: orders coincide
    public void HeaderSpellings(string header)
    {
        byte[] bytes = NpyBuilder.Build(header, NpyBuilder.F32Bytes(new[] { 1f, 2f, 3f, 4f }));
        WeightFile file = ReadValid(bytes);
        Assert.Equal(4, file.Tensors[0].ElementCount);
        AssertBits(new[] { 1f, 2f, 3f, 4f }, file.ReadFloat32(file.Tensors[0]));
    }

    [Fact]
    public void UnpaddedHeader_WithoutLineBreak_IsAccepted()
    {
        byte[] bytes = NpyBuilder.Build(NpyBuilder.Header("<f4", "()"), NpyBuilder.F32Bytes(new[] { 7f }), pad: false);
        Assert.Equal(10 + NpyBuilder.Header("<f4", "()").Length + 4, bytes.Length);
        WeightFile file = ReadValid(bytes);
        Assert.Equal(bytes.Length - 4, file.Tensors[0].FileOffset);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void FormatVersions_PutTheDataAfterTheirPrefix(int major)
    {
        byte[] bytes = NpyBuilder.Build(NpyBuilder.Header("<f8", "(3,)"), NpyBuilder.F64Bytes(new[] { 1.0, 0.1, -1e300 }), major);
        Assert.Equal(0, (bytes.Length - 24) % 64);
        WeightFile file = ReadValid(bytes);
        TensorEntry t = file.Tensors[0];
        Assert.Equal(bytes.Length - 24, t.FileOffset);
        AssertBits(new[] { 1f, (float)0.1, float.NegativeInfinity }, file.ReadFloat32(t));
    }

    [Fact]
    public void Version3_HeaderIsUtf8()
    {
        // Only the descr of a structured dtype could hold non-ASCII text; a UTF-8 key shows the header is decoded.
        byte[] bytes = NpyBuilder.Build("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'é': 1}", new byte[4], major: 3);
        WeightFileError e = NpyReaderErrorTests.ReadError(bytes, WeightFileErrorKind.InvalidHeader);
        Assert.Contains("the key 'é'", e.Message);

        // The same bytes under format 1.0 are Latin-1: two characters.
        byte[] latin = NpyBuilder.Build("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'é': 1}", new byte[4], major: 1);
        Assert.Contains("the key 'é'", NpyReaderErrorTests.ReadError(latin, WeightFileErrorKind.InvalidHeader).Message);
    }

    [Fact]
    public void TheNameIsTakenVerbatim()
    {
        foreach (string name in new[] { "lstm.kernel", "dense/bias:0", "", "模型" })
        {
            WeightFile file = ReadValid(NpyBuilder.F32("(1,)", 1f), name);
            Assert.Equal(name, file.Tensors[0].Name);
            Assert.Same(file.Tensors[0], file.Find(name));
        }
    }

    [Fact]
    public void ReadFloat32_RejectsAnotherFilesTensor()
    {
        WeightFile a = ReadValid(NpyBuilder.F32("(1,)", 1f));
        WeightFile b = ReadValid(NpyBuilder.F32("(1,)", 1f));
        Assert.Throws<ArgumentException>(() => a.ReadFloat32(b.Tensors[0]));
    }

    [Fact]
    public void Dimensions_UpToRank8()
    {
        byte[] bytes = NpyBuilder.F32("(1, 1, 1, 1, 1, 1, 1, 2)", 1f, 2f);
        Assert.Equal(8, ReadValid(bytes).Tensors[0].Shape.Count);
        Assert.Equal(new[] { 1, 1, 1, 1, 1, 1, 1, 2 }, ReadValid(bytes).Tensors[0].Shape.ToArray());
    }
}
