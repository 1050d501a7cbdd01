using System;
using System.Linq;
using System.Text;
using StaticRnn.Generators.Weights;
using Xunit;

namespace StaticRnn.Generators.Tests.Weights;

public class NpzReaderTests
{
    internal static WeightFile ReadValid(byte[] bytes)
    {
        WeightFile? file = NpzReader.Read(bytes, out WeightFileError? error);
        Assert.True(error is null, error?.ToString());
        Assert.NotNull(file);
        return file!;
    }

    /// <summary>What FileOffset promises: the file's bytes there, read as little-endian, are the tensor.</summary>
    internal static void AssertFileOffsetsHonest(byte[] original, WeightFile file)
    {
        foreach (TensorEntry t in file.Tensors)
        {
            if (t.FileOffset is long offset)
            {
                Assert.InRange(offset, 0, original.Length - t.ByteLength);
                NpyReaderTests.AssertBits(
                    FloatConversion.ToFloat32(original, (int)offset, t.ElementCount, t.DType), file.ReadFloat32(t));
            }
        }
    }

    private static readonly string[] s_kerasNames = { "lstm/lstm_cell/kernel:0", "lstm/lstm_cell/bias:0", "dense/kernel_be", "half" };

    private static void AssertKerasMembers(WeightFile file)
    {
        Assert.Equal(s_kerasNames, file.Tensors.Select(t => t.Name).ToArray());

        TensorEntry kernel = file.Find("lstm/lstm_cell/kernel:0")!;
        Assert.Equal(TensorDType.F32, kernel.DType);
        Assert.Equal(new[] { 3, 4 }, kernel.Shape);
        NpyReaderTests.AssertBits(NpyBuilder.Seq(12), file.ReadFloat32(kernel));

        TensorEntry bias = file.Find("lstm/lstm_cell/bias:0")!;
        Assert.Equal(TensorDType.F32, bias.DType);
        Assert.Equal(new[] { 4 }, bias.Shape);
        NpyReaderTests.AssertBits(NpyBuilder.Seq(4), file.ReadFloat32(bias));

        TensorEntry big = file.Find("dense/kernel_be")!;
        Assert.Equal(TensorDType.F64, big.DType);
        Assert.Equal(new[] { 2, 3 }, big.Shape);
        Assert.Null(big.FileOffset);
        NpyReaderTests.AssertBits(NpyBuilder.Seq(6), file.ReadFloat32(big));

        TensorEntry half = file.Find("half")!;
        Assert.Equal(TensorDType.F16, half.DType);
        Assert.Equal(new[] { 3 }, half.Shape);
        NpyReaderTests.AssertBits(NpyBuilder.Seq(3), file.ReadFloat32(half));
    }

    // ---- Files NumPy wrote ------------------------------------------------------------------

    [Fact]
    public void NumPy_Savez_Stored()
    {
        byte[] bytes = NumPyFiles.Read("keras_stored.npz");
        WeightFile file = ReadValid(bytes);
        AssertKerasMembers(file);

        // Stored little-endian members lie in the file verbatim; the big-endian one is swapped, so it does not.
        TensorEntry kernel = file.Find("lstm/lstm_cell/kernel:0")!;
        NpyReaderTests.AssertVerbatimAt(bytes, kernel, NpyBuilder.F32Bytes(NpyBuilder.Seq(12)));
        NpyReaderTests.AssertVerbatimAt(bytes, file.Find("lstm/lstm_cell/bias:0")!, NpyBuilder.F32Bytes(NpyBuilder.Seq(4)));
        NpyReaderTests.AssertVerbatimAt(bytes, file.Find("half")!, NpyBuilder.F16Bytes(NpyBuilder.Seq(3)));

        // The first member: a 30-byte local header, its 27-byte name, NumPy's 20-byte ZIP64 extra, the 128-byte .npy header.
        Assert.Equal(30 + 27 + 20 + 128, kernel.FileOffset);
        AssertFileOffsetsHonest(bytes, file);
    }

    [Fact]
    public void NumPy_SavezCompressed_Deflated()
    {
        byte[] bytes = NumPyFiles.Read("keras_deflated.npz");
        Assert.Equal(8, bytes[8]); // method of the first local header
        WeightFile file = ReadValid(bytes);
        AssertKerasMembers(file);
        Assert.All(file.Tensors, t => Assert.Null(t.FileOffset));
    }

    [Fact]
    public void NumPy_Savez_LittleEndianOnly_UsesTheFileItself()
    {
        byte[] bytes = NumPyFiles.Read("little_endian.npz");
        WeightFile file = ReadValid(bytes);
        Assert.Equal(new[] { "weight", "bias" }, file.Tensors.Select(t => t.Name).ToArray());
        TensorEntry weight = file.Tensors[0];
        Assert.Equal(new[] { 3, 2 }, weight.Shape);
        Assert.Equal(TensorDType.F32, weight.DType);
        NpyReaderTests.AssertBits(NpyBuilder.Seq(6), file.ReadFloat32(weight));
        NpyReaderTests.AssertVerbatimAt(bytes, weight, NpyBuilder.F32Bytes(NpyBuilder.Seq(6)));
        TensorEntry bias = file.Tensors[1];
        Assert.Equal(TensorDType.F64, bias.DType);
        NpyReaderTests.AssertVerbatimAt(bytes, bias, NpyBuilder.F64Bytes(NpyBuilder.SeqF64(2)));
        Assert.All(file.Tensors, t => Assert.Equal(t.FileOffset, t.DataOffset));
    }

    // ---- Archives built here ----------------------------------------------------------------

    private static NpzBuilder Mixed() => new NpzBuilder()
        .Add("stored/le:0.npy", NpyBuilder.F32("(2, 2)", 1f, -2f, 3.5f, float.NaN))
        .Add("deflated.npy", NpyBuilder.F32("(3,)", 0.25f, 0.5f, 0.75f), deflate: true)
        .Add("stored_be.npy", NpyBuilder.Build(NpyBuilder.Header(">f8", "(2,)"), NpyBuilder.F64Bytes(new[] { 1e-3, -7.0 }, bigEndian: true)))
        .Add("deflated_be.npy", NpyBuilder.Build(NpyBuilder.Header(">f2", "()"), NpyBuilder.F16Bytes(new[] { -0.5f }, bigEndian: true)), deflate: true)
        .Add("stored/f16.npy", NpyBuilder.Build(NpyBuilder.Header("<f2", "(2,)"), NpyBuilder.F16Bytes(new[] { 65504f, 6e-8f })));

    private static void AssertMixed(byte[] bytes, NpzBuilder builder)
    {
        WeightFile file = ReadValid(bytes);
        Assert.Equal(new[] { "stored/le:0", "deflated", "stored_be", "deflated_be", "stored/f16" }, file.Tensors.Select(t => t.Name).ToArray());
        NpyReaderTests.AssertBits(new[] { 1f, -2f, 3.5f, float.NaN }, file.ReadFloat32(file.Tensors[0]));
        NpyReaderTests.AssertBits(new[] { 0.25f, 0.5f, 0.75f }, file.ReadFloat32(file.Tensors[1]));
        NpyReaderTests.AssertBits(new[] { (float)1e-3, -7f }, file.ReadFloat32(file.Tensors[2]));
        NpyReaderTests.AssertBits(new[] { -0.5f }, file.ReadFloat32(file.Tensors[3]));
        NpyReaderTests.AssertBits(new[] { 65504f, (float)(Half)6e-8f }, file.ReadFloat32(file.Tensors[4]));

        Assert.Equal(builder.DataOffsets[0] + 128, file.Tensors[0].FileOffset);
        Assert.Null(file.Tensors[1].FileOffset);
        Assert.Null(file.Tensors[2].FileOffset);
        Assert.Null(file.Tensors[3].FileOffset);
        Assert.Equal(builder.DataOffsets[4] + 128, file.Tensors[4].FileOffset);
        NpyReaderTests.AssertVerbatimAt(bytes, file.Tensors[0], NpyBuilder.F32Bytes(new[] { 1f, -2f, 3.5f, float.NaN }));
        AssertFileOffsetsHonest(bytes, file);
    }

    [Fact]
    public void Mixed_StoredDeflatedBigEndian()
    {
        NpzBuilder builder = Mixed();
        AssertMixed(builder.Build(), builder);
    }

    [Fact]
    public void Zip64_CentralExtraFields_AndEndRecord()
    {
        NpzBuilder builder = Mixed();
        builder.Zip64CentralExtra = true;
        builder.Zip64EndRecord = true;
        byte[] bytes = builder.Build();
        Assert.Equal(0xFFFFFFFFu, BitConverter.ToUInt32(bytes, builder.CentralEntryOffsets[0] + 42));
        Assert.Equal(0xFFFFFFFFu, BitConverter.ToUInt32(bytes, builder.EocdOffset + 16));
        AssertMixed(bytes, builder);
    }

    [Fact]
    public void Zip64_EndRecordWithoutMarkers_IsUsed()
    {
        // Python's zipfile trusts a ZIP64 end record whenever its locator is there; so does the reader.
        NpzBuilder builder = Mixed();
        builder.Zip64EndRecord = true;
        byte[] bytes = builder.Build();
        NpzBuilder.PutU16(bytes, builder.EocdOffset + 8, 5);
        NpzBuilder.PutU16(bytes, builder.EocdOffset + 10, 5);
        NpzBuilder.PutU32(bytes, builder.EocdOffset + 12, 0);
        NpzBuilder.PutU32(bytes, builder.EocdOffset + 16, 0);
        AssertMixed(bytes, builder);
    }

    [Fact]
    public void WithoutLocalZip64Extra_AndWithAComment()
    {
        NpzBuilder builder = Mixed();
        builder.Zip64LocalExtra = false;
        builder.Comment = "written by hand \u0001 PK\u0005\u0006";
        AssertMixed(builder.Build(), builder);
    }

    [Fact]
    public void AllStoredLittleEndian_BufferIsTheFile()
    {
        var builder = new NpzBuilder()
            .Add("a.npy", NpyBuilder.F32("(2,)", 1f, 2f))
            .Add("b.npy", NpyBuilder.Build(NpyBuilder.Header("<f8", "(1,)"), NpyBuilder.F64Bytes(new[] { 0.1 })));
        byte[] bytes = builder.Build();
        WeightFile file = ReadValid(bytes);
        for (int i = 0; i < 2; i++)
        {
            Assert.Equal(builder.DataOffsets[i] + 128, file.Tensors[i].FileOffset);
            Assert.Equal(file.Tensors[i].FileOffset, file.Tensors[i].DataOffset);
        }

        NpyReaderTests.AssertBits(new[] { (float)0.1 }, file.ReadFloat32(file.Tensors[1]));
    }

    [Fact]
    public void LocalHeaderSizesAreNotTrusted_TheCentralDirectoryIs()
    {
        // With a data descriptor (flag bit 3) the local header's CRC and sizes are zero; the central directory has them.
        var builder = new NpzBuilder().Add("a.npy", NpyBuilder.F32("(2,)", 1f, 2f), deflate: true);
        byte[] bytes = builder.Build();
        int local = builder.LocalHeaderOffsets[0];
        NpzBuilder.PutU16(bytes, local + 6, 0x0008);
        NpzBuilder.PutU32(bytes, local + 14, 0);
        NpzBuilder.PutU32(bytes, local + 18, 0);
        NpzBuilder.PutU32(bytes, local + 22, 0);
        NpzBuilder.PutU16(bytes, builder.CentralEntryOffsets[0] + 8, 0x0008);
        WeightFile file = ReadValid(bytes);
        NpyReaderTests.AssertBits(new[] { 1f, 2f }, file.ReadFloat32(file.Tensors[0]));
    }

    [Fact]
    public void EmptyArchive_HasNoTensors()
    {
        byte[] bytes = new NpzBuilder().Build();
        Assert.Equal(22, bytes.Length);
        Assert.Empty(ReadValid(bytes).Tensors);
    }

    [Fact]
    public void DirectoryEntries_AreSkipped()
    {
        var builder = new NpzBuilder()
            .Add("lstm/", Array.Empty<byte>())
            .Add("lstm/kernel.npy", NpyBuilder.F32("(1,)", 5f));
        WeightFile file = ReadValid(builder.Build());
        Assert.Equal("lstm/kernel", Assert.Single(file.Tensors).Name);
    }

    [Fact]
    public void Names_AreKeptVerbatim()
    {
        string[] names = { "a/b/c:0", "dense_1/kernel:0", "模型/权重", "with space", "x.npy", "", "trailing/" };
        var builder = new NpzBuilder();
        foreach (string name in names)
        {
            builder.Add(name + ".npy", NpyBuilder.F32("()", 1f), deflate: name.Length % 2 == 0);
        }

        WeightFile file = ReadValid(builder.Build());
        Assert.Equal(names, file.Tensors.Select(t => t.Name).ToArray());
        Assert.All(names, n => Assert.NotNull(file.Find(n)));
    }

    [Fact]
    public void NamesWithoutTheUtf8Flag_AreCodePage437()
    {
        byte[] name = { 0x82, (byte)'t', 0xE1, 0x9B, (byte)'.', (byte)'n', (byte)'p', (byte)'y' };
        var builder = new NpzBuilder()
            .AddRawName(name, utf8Flag: false, NpyBuilder.F32("()", 1f))
            .AddRawName(Encoding.UTF8.GetBytes("\u00e9t\u00df\u00a2 utf8.npy"), utf8Flag: true, NpyBuilder.F32("()", 2f));
        WeightFile file = ReadValid(builder.Build());
        Assert.Equal(new[] { "\u00e9t\u00df\u00a2", "\u00e9t\u00df\u00a2 utf8" }, file.Tensors.Select(t => t.Name).ToArray());
    }

    [Fact]
    public void Crc32_IsTheZipOne()
    {
        byte[] check = Encoding.ASCII.GetBytes("123456789");
        Assert.Equal(0xCBF43926u, Crc32.Compute(check, 0, check.Length));
        Assert.Equal(0u, Crc32.Compute(check, 0, 0));
        var random = new Random(3);
        for (int i = 0; i < 50; i++)
        {
            var bytes = new byte[random.Next(300)];
            random.NextBytes(bytes);
            Assert.Equal(NpzBuilder.Crc(bytes), Crc32.Compute(bytes, 0, bytes.Length));
        }
    }
}
