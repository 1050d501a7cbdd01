using System;
using System.Text;
using StaticRnn.Generators.Weights;
using Xunit;

namespace StaticRnn.Generators.Tests.Weights;

public class NpzReaderErrorTests
{
    internal static WeightFileError ReadError(byte[] bytes, WeightFileErrorKind kind)
    {
        WeightFile? file = NpzReader.Read(bytes, out WeightFileError? error);
        Assert.Null(file);
        Assert.NotNull(error);
        Assert.True(kind == error!.Kind, $"expected {kind} but got {error}");
        Assert.False(string.IsNullOrWhiteSpace(error.Message));
        Assert.DoesNotContain('\n', error.Message);
        return error;
    }

    // Central directory entry fields.
    private const int CFlags = 8, CMethod = 10, CCrc = 16, CCompressed = 20, CSize = 24, CNameLength = 28, CExtraLength = 30, CDisk = 34, COffset = 42, CName = 46;

    // Local header fields.
    private const int LFlags = 6, LNameLength = 26, LExtraLength = 28, LName = 30;

    // End record fields.
    private const int EDisk = 4, EDirectoryDisk = 6, EEntriesHere = 8, EEntries = 10, ESize = 12, EOffset = 16, ECommentLength = 20;

    private static NpzBuilder Two(bool deflate = false) => new NpzBuilder()
        .Add("a.npy", NpyBuilder.F32("(2,)", 1f, 2f), deflate)
        .Add("b/c:0.npy", NpyBuilder.F32("(3,)", 1f, 2f, 3f), deflate);

    private static (NpzBuilder Builder, byte[] Bytes) Built(bool deflate = false, bool zip64 = false)
    {
        NpzBuilder builder = Two(deflate);
        builder.Zip64CentralExtra = zip64;
        builder.Zip64EndRecord = zip64;
        return (builder, builder.Build());
    }

    // ---- End records ------------------------------------------------------------------------

    [Fact]
    public void NullInput_IsAnErrorNotAnException()
    {
        Assert.Null(NpzReader.Read(null!, out WeightFileError? error));
        Assert.Equal(WeightFileErrorKind.Truncated, error!.Kind);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    [InlineData(21)]
    public void ShorterThanAnEndRecord_IsTruncated(int length)
    {
        WeightFileError e = ReadError(new byte[length], WeightFileErrorKind.Truncated);
        Assert.Equal($"the file is {length} bytes long; expected a ZIP archive as np.savez writes, at least 22 bytes for its end-of-central-directory record", e.Message);
    }

    [Fact]
    public void NoEndRecord()
    {
        var random = new Random(1);
        var bytes = new byte[300];
        random.NextBytes(bytes);
        WeightFileError e = ReadError(bytes, WeightFileErrorKind.InvalidArchive);
        Assert.Equal(
            "the file has no ZIP end-of-central-directory record (50 4B 05 06 followed by a comment reaching the end of the file); "
            + "expected a ZIP archive as np.savez writes",
            e.Message);
    }

    [Fact]
    public void ANpyFile_GetsAHint()
    {
        Assert.EndsWith("(the file starts with the .npy magic: name it .npy)",
            ReadError(NumPyFiles.Read("f4_5.npy"), WeightFileErrorKind.InvalidArchive).Message);
        Assert.EndsWith("(the file starts with the .npy magic: name it .npy)",
            ReadError(NpyBuilder.F32("()", 1f).AsSpan(0, 12).ToArray(), WeightFileErrorKind.Truncated).Message);
    }

    [Fact]
    public void BytesAfterTheEndRecord_OrACommentPastTheEnd()
    {
        var (_, bytes) = Built();
        byte[] longer = new byte[bytes.Length + 1];
        bytes.CopyTo(longer, 0);
        Assert.Contains("no ZIP end-of-central-directory record", ReadError(longer, WeightFileErrorKind.InvalidArchive).Message);

        var (builder, withComment) = Built();
        NpzBuilder.PutU16(withComment, builder.EocdOffset + ECommentLength, 1);
        ReadError(withComment, WeightFileErrorKind.InvalidArchive);
    }

    [Theory]
    [InlineData(EDisk, 1)]
    [InlineData(EDirectoryDisk, 1)]
    [InlineData(EEntriesHere, 1)]
    public void SpansSeveralDisks(int field, int value)
    {
        var (builder, bytes) = Built();
        NpzBuilder.PutU16(bytes, builder.EocdOffset + field, value);
        Assert.StartsWith("the archive spans several disks", ReadError(bytes, WeightFileErrorKind.InvalidArchive).Message);
    }

    [Theory]
    [InlineData(ESize, -1)]
    [InlineData(ESize, 1)]
    [InlineData(EOffset, -1)]
    [InlineData(EOffset, 1)]
    [InlineData(EOffset, 100000)]
    public void DirectoryNotEndingAtTheEndRecord(int field, int delta)
    {
        var (builder, bytes) = Built();
        uint value = BitConverter.ToUInt32(bytes, builder.EocdOffset + field);
        NpzBuilder.PutU32(bytes, builder.EocdOffset + field, (uint)(value + delta));
        WeightFileError e = ReadError(bytes, WeightFileErrorKind.InvalidArchive);
        Assert.Contains($"does not end where the end record starts, at byte {builder.EocdOffset}", e.Message);
    }

    [Fact]
    public void MoreEntriesThanTheDirectoryCanHold()
    {
        var (builder, bytes) = Built();
        NpzBuilder.PutU16(bytes, builder.EocdOffset + EEntries, 1000);
        NpzBuilder.PutU16(bytes, builder.EocdOffset + EEntriesHere, 1000);
        int size = builder.EocdOffset - builder.CentralDirectoryOffset;
        Assert.Equal($"the archive declares 1000 entries but its central directory of {size} bytes holds at most {size / 46}",
            ReadError(bytes, WeightFileErrorKind.InvalidArchive).Message);
    }

    [Fact]
    public void FewerOrMoreEntriesThanTheDirectoryHolds()
    {
        var (builder, bytes) = Built();
        NpzBuilder.PutU16(bytes, builder.EocdOffset + EEntries, 1);
        NpzBuilder.PutU16(bytes, builder.EocdOffset + EEntriesHere, 1);
        Assert.Equal($"the central directory's 1 entries end at byte {builder.CentralEntryOffsets[1]} but the directory ends at byte {builder.EocdOffset}; expected the entries to fill it",
            ReadError(bytes, WeightFileErrorKind.InvalidArchive).Message);

        // Long names leave room for a third entry in the count, but not in the bytes.
        var longNames = new NpzBuilder()
            .Add(new string('x', 60) + ".npy", NpyBuilder.F32("()", 1f))
            .Add(new string('y', 60) + ".npy", NpyBuilder.F32("()", 1f));
        bytes = longNames.Build();
        NpzBuilder.PutU16(bytes, longNames.EocdOffset + EEntries, 3);
        NpzBuilder.PutU16(bytes, longNames.EocdOffset + EEntriesHere, 3);
        Assert.StartsWith($"central directory entry 2 at byte {longNames.EocdOffset} runs past the end of the central directory",
            ReadError(bytes, WeightFileErrorKind.InvalidArchive).Message);
    }

    [Fact]
    public void Zip64MarkersWithoutALocator()
    {
        var (builder, bytes) = Built();
        NpzBuilder.PutU32(bytes, builder.EocdOffset + EOffset, 0xFFFFFFFF);
        Assert.Equal(
            "the end-of-central-directory record marks values as ZIP64 (0xFFFF or 0xFFFFFFFF) but no ZIP64 locator precedes it; expected the locator and the ZIP64 end record",
            ReadError(bytes, WeightFileErrorKind.InvalidArchive).Message);
    }

    [Theory]
    [InlineData(0UL, "there is no ZIP64 end-of-central-directory record")]
    [InlineData(1UL, "there is no ZIP64 end-of-central-directory record")]
    [InlineData(ulong.MaxValue, "expected a 56-byte record that ends by byte")]
    [InlineData(0x8000_0000UL, "expected a 56-byte record that ends by byte")]
    public void Zip64LocatorPointingElsewhere(ulong offset, string detail)
    {
        var (builder, bytes) = Built(zip64: true);
        NpzBuilder.PutU64(bytes, builder.EocdOffset - 20 + 8, offset);
        Assert.Contains(detail, ReadError(bytes, WeightFileErrorKind.InvalidArchive).Message);
    }

    [Fact]
    public void Zip64RecordOfTheWrongSize()
    {
        var (builder, bytes) = Built(zip64: true);
        NpzBuilder.PutU64(bytes, builder.Zip64RecordOffset + 4, 45);
        Assert.Contains("there is no ZIP64 end-of-central-directory record", ReadError(bytes, WeightFileErrorKind.InvalidArchive).Message);
    }

    [Fact]
    public void Zip64LocatorOnSeveralDisks()
    {
        var (builder, bytes) = Built(zip64: true);
        NpzBuilder.PutU32(bytes, builder.EocdOffset - 4, 2);
        Assert.Equal("the ZIP64 locator says the archive spans 2 disks with its end record on disk 0; expected a single-file archive",
            ReadError(bytes, WeightFileErrorKind.InvalidArchive).Message);
    }

    [Theory]
    [InlineData(16, 1UL)]       // this disk
    [InlineData(24, 1UL)]       // entries on this disk
    [InlineData(32, 1000UL)]    // entries
    [InlineData(40, 1UL)]       // directory size
    [InlineData(48, 0UL)]       // directory offset
    [InlineData(48, ulong.MaxValue)]
    public void Zip64RecordValuesChecked(int field, ulong value)
    {
        var (builder, bytes) = Built(zip64: true);
        if (field == 16)
        {
            NpzBuilder.PutU32(bytes, builder.Zip64RecordOffset + field, (uint)value);
        }
        else
        {
            NpzBuilder.PutU64(bytes, builder.Zip64RecordOffset + field, value);
        }

        ReadError(bytes, WeightFileErrorKind.InvalidArchive);
    }

    // ---- Central directory entries ----------------------------------------------------------

    [Fact]
    public void CentralSignature()
    {
        var (builder, bytes) = Built();
        bytes[builder.CentralEntryOffsets[1]] = (byte)'Q';
        Assert.Equal($"central directory entry 1 at byte {builder.CentralEntryOffsets[1]} starts with 51 4B 01 02; expected the signature 50 4B 01 02",
            ReadError(bytes, WeightFileErrorKind.InvalidArchive).Message);
    }

    [Fact]
    public void CentralNamePastTheDirectory()
    {
        var (builder, bytes) = Built();
        NpzBuilder.PutU16(bytes, builder.CentralEntryOffsets[1] + CNameLength, 500);
        Assert.Equal($"central directory entry 1 at byte {builder.CentralEntryOffsets[1]} has a name, extra field and comment that run past the end of the central directory at byte {builder.EocdOffset}",
            ReadError(bytes, WeightFileErrorKind.InvalidArchive).Message);
    }

    [Fact]
    public void InvalidUtf8Name()
    {
        byte[] bytes = new NpzBuilder().AddRawName(new byte[] { 0xC3, 0x28, (byte)'.', (byte)'n', (byte)'p', (byte)'y' }, utf8Flag: true, NpyBuilder.F32("()", 1f)).Build();
        Assert.EndsWith("has a name that is not valid UTF-8 although its flags say UTF-8", ReadError(bytes, WeightFileErrorKind.InvalidArchive).Message);
    }

    [Theory]
    [InlineData(0x0001)]
    [InlineData(0x0040)]
    [InlineData(0x2000)]
    public void Encrypted(int flag)
    {
        var (builder, bytes) = Built();
        NpzBuilder.PutU16(bytes, builder.CentralEntryOffsets[1] + CFlags, flag);
        WeightFileError e = ReadError(bytes, WeightFileErrorKind.UnsupportedCompression);
        Assert.Equal("member 'b/c:0.npy' is encrypted; expected an unencrypted archive as np.savez writes", e.Message);
        Assert.Equal("b/c:0.npy", e.TensorName);
    }

    [Fact]
    public void EncryptedInTheLocalHeaderOnly()
    {
        var (builder, bytes) = Built();
        NpzBuilder.PutU16(bytes, builder.LocalHeaderOffsets[0] + LFlags, 1);
        WeightFileError e = ReadError(bytes, WeightFileErrorKind.UnsupportedCompression);
        Assert.Equal("a", e.TensorName);
    }

    [Theory]
    [InlineData(99, null)]
    [InlineData(12, "bzip2")]
    [InlineData(14, "LZMA")]
    [InlineData(9, "deflate64")]
    [InlineData(93, "Zstandard")]
    [InlineData(1, "shrink")]
    [InlineData(7, "not one np.savez writes")]
    public void UnsupportedMethod(int method, string? name)
    {
        var (builder, bytes) = Built();
        NpzBuilder.PutU16(bytes, builder.CentralEntryOffsets[0] + CMethod, method);
        WeightFileError e = ReadError(bytes, WeightFileErrorKind.UnsupportedCompression);
        Assert.Equal(
            name is null
                ? "member 'a.npy' is encrypted; expected an unencrypted archive as np.savez writes"
                : $"member 'a.npy' is compressed with method {method} ({name}); expected 0 (stored, np.savez) or 8 (deflate, np.savez_compressed)",
            e.Message);
    }

    [Fact]
    public void StoredWithDifferentSizes()
    {
        var (builder, bytes) = Built();
        NpzBuilder.PutU32(bytes, builder.CentralEntryOffsets[0] + CCompressed, 10);
        Assert.StartsWith("member 'a.npy' is stored uncompressed but the central directory gives it 10 compressed and 136 uncompressed bytes",
            ReadError(bytes, WeightFileErrorKind.InvalidArchive).Message);
    }

    [Fact]
    public void StartsOnAnotherDisk()
    {
        var (builder, bytes) = Built();
        NpzBuilder.PutU16(bytes, builder.CentralEntryOffsets[0] + CDisk, 3);
        Assert.Equal("member 'a.npy' starts on disk 3; expected a single-file archive", ReadError(bytes, WeightFileErrorKind.InvalidArchive).Message);
    }

    [Theory]
    [InlineData(CSize, "uncompressed size")]
    [InlineData(CCompressed, "compressed size")]
    [InlineData(COffset, "local header offset")]
    public void Zip64MarkerWithoutExtraField(int field, string what)
    {
        var (builder, bytes) = Built(deflate: true);
        NpzBuilder.PutU32(bytes, builder.CentralEntryOffsets[0] + field, 0xFFFFFFFF);
        Assert.Equal($"member 'a.npy' marks its {what} 0xFFFFFFFF (ZIP64) but has no ZIP64 extra field; expected one holding the value",
            ReadError(bytes, WeightFileErrorKind.InvalidArchive).Message);
    }

    [Fact]
    public void Zip64ExtraFieldTooShort()
    {
        var (builder, bytes) = Built(zip64: true);
        int extra = builder.CentralEntryOffsets[0] + CName + "a.npy".Length;
        NpzBuilder.PutU16(bytes, extra + 2, 16); // holds two of the three marked values
        Assert.Equal("member 'a.npy' has a ZIP64 extra field of 16 bytes, too short for the values its central directory entry marks 0xFFFFFFFF",
            ReadError(bytes, WeightFileErrorKind.InvalidArchive).Message);
    }

    [Fact]
    public void ExtraFieldRecordPastItsEnd()
    {
        var (builder, bytes) = Built(zip64: true);
        int extra = builder.CentralEntryOffsets[0] + CName + "a.npy".Length;
        NpzBuilder.PutU16(bytes, extra + 2, 25);
        Assert.Contains("has an extra field record of 25 bytes", ReadError(bytes, WeightFileErrorKind.InvalidArchive).Message);
    }

    [Fact]
    public void Zip64ExtraFieldSaysTooLarge()
    {
        var (builder, bytes) = Built(deflate: true, zip64: true);
        int extra = builder.CentralEntryOffsets[1] + CName + "b/c:0.npy".Length;
        NpzBuilder.PutU64(bytes, extra + 4, 3_000_000_000);
        WeightFileError e = ReadError(bytes, WeightFileErrorKind.TooLarge);
        Assert.Equal("member 'b/c:0.npy' declares 3000000000 uncompressed bytes; expected at most 2147483647", e.Message);
        Assert.Equal("b/c:0", e.TensorName);
    }

    // ---- Names ------------------------------------------------------------------------------

    [Theory]
    [InlineData("readme.txt")]
    [InlineData("kernel")]
    [InlineData("kernel.NPY")]
    [InlineData("dir/")] // a directory entry with content
    public void MemberNotANpyFile(string name)
    {
        byte[] bytes = new NpzBuilder().Add("a.npy", NpyBuilder.F32("()", 1f)).Add(name, new byte[] { 1, 2, 3 }).Build();
        WeightFileError e = ReadError(bytes, WeightFileErrorKind.InvalidEntry);
        Assert.Equal($"the archive holds member '{name}', which is not a .npy file; expected only .npy members as np.savez writes", e.Message);
        Assert.Equal(name, e.TensorName);
    }

    [Fact]
    public void DuplicateNames()
    {
        byte[] bytes = new NpzBuilder()
            .Add("w:0.npy", NpyBuilder.F32("()", 1f))
            .Add("x.npy", NpyBuilder.F32("()", 1f))
            .Add("w:0.npy", NpyBuilder.F32("()", 2f), deflate: true)
            .Build();
        WeightFileError e = ReadError(bytes, WeightFileErrorKind.DuplicateName);
        Assert.Equal("the archive holds two members named 'w:0.npy'; expected each tensor name once", e.Message);
        Assert.Equal("w:0", e.TensorName);
    }

    // ---- Local headers and placement --------------------------------------------------------

    [Theory]
    [InlineData(1_000_000u)]
    [InlineData(0xFFFF_FFF0u)]
    public void LocalHeaderPastTheDirectory(uint offset)
    {
        var (builder, bytes) = Built();
        NpzBuilder.PutU32(bytes, builder.CentralEntryOffsets[1] + COffset, offset);
        Assert.Equal($"member 'b/c:0.npy' has its local header at byte {offset}; expected a 30-byte header before the central directory at byte {builder.CentralDirectoryOffset}",
            ReadError(bytes, WeightFileErrorKind.InvalidArchive).Message);
    }

    [Fact]
    public void LocalSignature()
    {
        var (builder, bytes) = Built();
        NpzBuilder.PutU32(bytes, builder.CentralEntryOffsets[1] + COffset, 1);
        Assert.Equal("member 'b/c:0.npy' has its local header at byte 1, which starts with 4B 03 04 2D; expected the signature 50 4B 03 04",
            ReadError(bytes, WeightFileErrorKind.InvalidArchive).Message);
    }

    [Fact]
    public void LocalNameDiffers()
    {
        var (builder, bytes) = Built();
        bytes[builder.LocalHeaderOffsets[1] + LName] = (byte)'x';
        Assert.Equal($"member 'b/c:0.npy' has a local header at byte {builder.LocalHeaderOffsets[1]} that names 'x/c:0.npy'; expected the central directory's name",
            ReadError(bytes, WeightFileErrorKind.InvalidArchive).Message);

        (builder, bytes) = Built();
        NpzBuilder.PutU16(bytes, builder.LocalHeaderOffsets[0] + LNameLength, 4);
        Assert.Contains("that names 'a.np'", ReadError(bytes, WeightFileErrorKind.InvalidArchive).Message);
    }

    [Fact]
    public void LocalExtraFieldIntoTheDirectory()
    {
        var (builder, bytes) = Built();
        NpzBuilder.PutU16(bytes, builder.LocalHeaderOffsets[1] + LExtraLength, 0xFFFF);
        Assert.Contains("whose name and extra field run into the central directory", ReadError(bytes, WeightFileErrorKind.InvalidArchive).Message);
    }

    [Fact]
    public void DataPastTheDirectory()
    {
        var (builder, bytes) = Built();
        uint size = BitConverter.ToUInt32(bytes, builder.CentralEntryOffsets[1] + CSize);
        NpzBuilder.PutU32(bytes, builder.CentralEntryOffsets[1] + CSize, size + 1);
        NpzBuilder.PutU32(bytes, builder.CentralEntryOffsets[1] + CCompressed, size + 1);
        Assert.Equal($"member 'b/c:0.npy' has {size + 1} bytes of data at byte {builder.DataOffsets[1]}, which run past the start of the central directory at byte {builder.CentralDirectoryOffset}",
            ReadError(bytes, WeightFileErrorKind.InvalidArchive).Message);
    }

    [Fact]
    public void MembersOverlap()
    {
        var (builder, bytes) = Built();
        uint size = BitConverter.ToUInt32(bytes, builder.CentralEntryOffsets[0] + CSize);
        NpzBuilder.PutU32(bytes, builder.CentralEntryOffsets[0] + CSize, size + 1);
        NpzBuilder.PutU32(bytes, builder.CentralEntryOffsets[0] + CCompressed, size + 1);
        WeightFileError e = ReadError(bytes, WeightFileErrorKind.OffsetsOverlap);
        Assert.Equal($"member 'a.npy' (bytes [0, {builder.LocalHeaderOffsets[1] + 1})) and member 'b/c:0.npy' (from byte {builder.LocalHeaderOffsets[1]}) overlap; expected disjoint members", e.Message);

        // Two entries for one local header.
        (builder, bytes) = Built();
        NpzBuilder.PutU32(bytes, builder.CentralEntryOffsets[1] + COffset, 0);
        ReadError(bytes, WeightFileErrorKind.InvalidArchive); // the names differ first
    }

    // ---- Sizes ------------------------------------------------------------------------------

    [Fact]
    public void DeclaredSizeBeyondWhatDeflateCanProduce()
    {
        var (builder, bytes) = Built(deflate: true);
        uint compressed = BitConverter.ToUInt32(bytes, builder.CentralEntryOffsets[0] + CCompressed);
        uint declared = (compressed * 1032) + 1033;
        NpzBuilder.PutU32(bytes, builder.CentralEntryOffsets[0] + CSize, declared);
        Assert.Equal($"member 'a.npy' declares {declared} uncompressed bytes from {compressed} compressed bytes; expected at most 1032 to 1, the most deflate can produce",
            ReadError(bytes, WeightFileErrorKind.InvalidArchive).Message);

        // One byte less passes that check, and inflating stops at the real end of the stream.
        NpzBuilder.PutU32(bytes, builder.CentralEntryOffsets[0] + CSize, declared - 1);
        Assert.StartsWith("member 'a.npy' inflates to 136 bytes; expected the", ReadError(bytes, WeightFileErrorKind.InvalidArchive).Message);
    }

    [Fact]
    public void TotalAboveTheBufferLimit_IsRejectedBeforeInflating()
    {
        // Three members whose declared sizes are each plausible but together exceed a .NET byte array.
        var random = new Random(5);
        var builder = new NpzBuilder();
        for (int i = 0; i < 3; i++)
        {
            var noise = new byte[800_000];
            random.NextBytes(noise);
            builder.Add($"m{i}.npy", noise, deflate: true);
        }

        byte[] bytes = builder.Build();
        for (int i = 0; i < 3; i++)
        {
            NpzBuilder.PutU32(bytes, builder.CentralEntryOffsets[i] + CSize, 750_000_000);
        }

        WeightFileError e = ReadError(bytes, WeightFileErrorKind.TooLarge);
        Assert.Equal("the archive's members hold more than 2147483591 bytes uncompressed; expected at most that many in all", e.Message);
        Assert.Equal("m2", e.TensorName);
    }

    // ---- Data -------------------------------------------------------------------------------

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void CrcMismatch(bool deflate)
    {
        var (builder, bytes) = Built(deflate);
        uint crc = BitConverter.ToUInt32(bytes, builder.CentralEntryOffsets[1] + CCrc);
        NpzBuilder.PutU32(bytes, builder.CentralEntryOffsets[1] + CCrc, crc ^ 0x10);
        WeightFileError e = ReadError(bytes, WeightFileErrorKind.ChecksumMismatch);
        Assert.Equal($"member 'b/c:0.npy' has CRC-32 0x{crc:X8} but the central directory records 0x{crc ^ 0x10:X8}; the archive is damaged", e.Message);
        Assert.Equal("b/c:0", e.TensorName);
    }

    [Fact]
    public void StoredDataDamaged_FailsItsCrc()
    {
        var (builder, bytes) = Built();
        bytes[builder.DataOffsets[0] + 130] ^= 1; // a float's bits: still a valid .npy
        ReadError(bytes, WeightFileErrorKind.ChecksumMismatch);
    }

    [Fact]
    public void DeflateDataDamaged()
    {
        var (builder, bytes) = Built(deflate: true);
        bytes[builder.DataOffsets[0]] = 0xFF; // block type 3 does not exist
        WeightFileError e = ReadError(bytes, WeightFileErrorKind.InvalidArchive);
        Assert.StartsWith("member 'a.npy' is not valid deflate data (", e.Message);
        Assert.EndsWith("); expected a stream np.savez_compressed writes", e.Message);
    }

    [Fact]
    public void DeflateShorterOrLongerThanDeclared()
    {
        var (builder, bytes) = Built(deflate: true);
        NpzBuilder.PutU32(bytes, builder.CentralEntryOffsets[1] + CSize, 141);
        Assert.Equal("member 'b/c:0.npy' inflates to 140 bytes; expected the 141 bytes the central directory declares",
            ReadError(bytes, WeightFileErrorKind.InvalidArchive).Message);

        NpzBuilder.PutU32(bytes, builder.CentralEntryOffsets[1] + CSize, 139);
        Assert.Equal("member 'b/c:0.npy' inflates to more than the 139 bytes the central directory declares; expected exactly that many",
            ReadError(bytes, WeightFileErrorKind.InvalidArchive).Message);
    }

    [Fact]
    public void TruncatedCompressedStream()
    {
        // The member's compressed bytes end early (the central directory says fewer); the rest of the file is intact.
        byte[] content = NpyBuilder.F32("(64,)", NpyBuilder.Seq(64));
        var builder = new NpzBuilder().Add("a.npy", content, deflate: true);
        byte[] bytes = builder.Build();
        uint compressed = BitConverter.ToUInt32(bytes, builder.CentralEntryOffsets[0] + CCompressed);
        NpzBuilder.PutU32(bytes, builder.CentralEntryOffsets[0] + CCompressed, compressed / 2);
        WeightFileError e = ReadError(bytes, WeightFileErrorKind.InvalidArchive);
        Assert.StartsWith("member 'a.npy' ", e.Message);
    }

    // ---- Members that are bad .npy files ----------------------------------------------------

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MemberErrors_NameTheMember(bool deflate)
    {
        (string Header, int DataLength, WeightFileErrorKind Kind, string Start)[] cases =
        {
            (NpyBuilder.Header("<i8", "(2,)"), 16, WeightFileErrorKind.UnsupportedDType, "member 'k/x:0.npy' has dtype '<i8' (64-bit signed integers)"),
            (NpyBuilder.Header("|O", "(2,)"), 40, WeightFileErrorKind.ObjectArray, "member 'k/x:0.npy' has dtype '|O'"),
            (NpyBuilder.Header("<f4", "(2, 3)", fortran: true), 24, WeightFileErrorKind.FortranOrder, "member 'k/x:0.npy' holds a Fortran-order"),
            (NpyBuilder.Header("<f4", "(2, 3)"), 20, WeightFileErrorKind.Truncated, "member 'k/x:0.npy' has shape (2, 3) of '<f4'"),
            (NpyBuilder.Header("<f4", "(2, 3)"), 28, WeightFileErrorKind.ShapeMismatch, "member 'k/x:0.npy' has shape (2, 3) of '<f4'"),
            ("{'descr': '<f4'}", 4, WeightFileErrorKind.InvalidHeader, "the .npy header of member 'k/x:0.npy' has no 'fortran_order' key"),
        };

        foreach (var (header, dataLength, kind, start) in cases)
        {
            byte[] bytes = new NpzBuilder()
                .Add("ok.npy", NpyBuilder.F32("()", 1f), deflate)
                .Add("k/x:0.npy", NpyBuilder.Build(header, new byte[dataLength]), deflate)
                .Build();
            WeightFileError e = ReadError(bytes, kind);
            Assert.StartsWith(start, e.Message);
            Assert.Equal("k/x:0", e.TensorName);
        }

        foreach (int length in new[] { 0, 5, 9 })
        {
            byte[] bytes = new NpzBuilder().Add("t.npy", NpyBuilder.F32("()", 1f).AsSpan(0, length).ToArray(), deflate).Build();
            Assert.Equal($"member 't.npy' is {length} bytes long; expected at least 10 bytes for the .npy magic, format version and header length",
                ReadError(bytes, WeightFileErrorKind.Truncated).Message);
        }

        byte[] notNpy = new NpzBuilder().Add("t.npy", Encoding.ASCII.GetBytes("hello, world"), deflate).Build();
        Assert.Equal("member 't.npy' starts with the bytes 68 65 6C 6C 6F 2C; expected the .npy magic 93 4E 55 4D 50 59 (\\x93NUMPY)",
            ReadError(notNpy, WeightFileErrorKind.InvalidHeader).Message);
    }

    [Fact]
    public void EveryTruncationOfARealArchive_IsAnError()
    {
        foreach (string name in new[] { "keras_stored.npz", "keras_deflated.npz" })
        {
            byte[] bytes = NumPyFiles.Read(name);
            for (int length = 0; length < bytes.Length; length++)
            {
                WeightFile? file = NpzReader.Read(bytes.AsSpan(0, length).ToArray(), out WeightFileError? error);
                Assert.Null(file);
                Assert.NotNull(error);
            }
        }
    }
}
