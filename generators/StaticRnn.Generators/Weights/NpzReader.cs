using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.IO.Compression;
using System.Text;

namespace StaticRnn.Generators.Weights;

/// <summary>
/// Reads a NumPy <c>.npz</c> file: a ZIP archive of <c>.npy</c> members, stored (<c>np.savez</c>) or deflated
/// (<c>np.savez_compressed</c>). Each member <c>name.npy</c> is one tensor named <c>name</c>, kept verbatim
/// (Keras weight paths such as <c>lstm/lstm_cell/kernel:0</c> included).
/// </summary>
/// <remarks>
/// <para>
/// The archive is read from its end-of-central-directory record (with the ZIP64 locator and record when present) and
/// its central directory, whose sizes, offsets and CRC-32s are authoritative; ZIP64 extra fields supply the values
/// the central directory marks 0xFFFFFFFF. Each member's local header is checked to name the same file; members
/// must lie before the central directory and not overlap. Only methods 0 (stored) and 8 (deflate) are read, never
/// encrypted members, and every member's CRC-32 is verified.
/// </para>
/// <para>
/// <see cref="Read"/> never throws. A member is never inflated past the size the central directory declares,
/// a declared size must be one deflate can produce from the compressed size (at most 1032 to 1), and all members
/// together are bounded by <see cref="MaxBufferLength"/>, so a hostile archive cannot make it allocate more than a
/// bounded multiple of its own size. When every tensor lies in the file verbatim (stored, little-endian) the file's
/// own bytes are the <see cref="WeightFile"/>'s buffer; otherwise the members are decoded into one new buffer.
/// </para>
/// </remarks>
internal static class NpzReader
{
    /// <summary>The largest byte array .NET allocates: the bound on all members' uncompressed bytes together.</summary>
    public const int MaxBufferLength = 0x7FFF_FFC7;

    /// <summary>Deflate's largest possible expansion: 258 bytes from one 2-bit-ish match code, about 1032 to 1.</summary>
    public const int DeflateMaxRatio = 1032;

    private const int EocdLength = 22;
    private const int Zip64LocatorLength = 20;
    private const int Zip64RecordLength = 56;
    private const int CentralHeaderLength = 46;
    private const int LocalHeaderLength = 30;
    private const uint EocdSignature = 0x0605_4B50;
    private const uint Zip64LocatorSignature = 0x0706_4B50;
    private const uint Zip64RecordSignature = 0x0606_4B50;
    private const uint CentralSignature = 0x0201_4B50;
    private const uint LocalSignature = 0x0403_4B50;
    private const string Expected = "expected a ZIP archive as np.savez writes";

    private const string Cp437High =
        "\u00C7\u00FC\u00E9\u00E2\u00E4\u00E0\u00E5\u00E7\u00EA\u00EB\u00E8\u00EF\u00EE\u00EC\u00C4\u00C5\u00C9\u00E6\u00C6\u00F4\u00F6\u00F2\u00FB\u00F9"
        + "\u00FF\u00D6\u00DC\u00A2\u00A3\u00A5\u20A7\u0192\u00E1\u00ED\u00F3\u00FA\u00F1\u00D1\u00AA\u00BA\u00BF\u2310\u00AC\u00BD\u00BC\u00A1\u00AB\u00BB"
        + "\u2591\u2592\u2593\u2502\u2524\u2561\u2562\u2556\u2555\u2563\u2551\u2557\u255D\u255C\u255B\u2510\u2514\u2534\u252C\u251C\u2500\u253C\u255E\u255F"
        + "\u255A\u2554\u2569\u2566\u2560\u2550\u256C\u2567\u2568\u2564\u2565\u2559\u2558\u2552\u2553\u256B\u256A\u2518\u250C\u2588\u2584\u258C\u2590\u2580"
        + "\u03B1\u00DF\u0393\u03C0\u03A3\u03C3\u00B5\u03C4\u03A6\u0398\u03A9\u03B4\u221E\u03C6\u03B5\u2229\u2261\u00B1\u2265\u2264\u2320\u2321\u00F7\u2248"
        + "\u00B0\u2219\u00B7\u221A\u207F\u00B2\u25A0\u00A0";

    private sealed class Member
    {
        public Member(string name, int nameOffset, int nameLength)
        {
            Name = name;
            Shown = "member " + SafeTensorsReader.Quote(name);
            NameOffset = nameOffset;
            NameLength = nameLength;
        }

        public string Name { get; }

        /// <summary>"member 'name'", for messages.</summary>
        public string Shown { get; }

        public int NameOffset { get; }

        public int NameLength { get; }

        public string TensorName { get; set; } = "";

        public int Method { get; set; }

        public uint Crc { get; set; }

        public long CompressedSize { get; set; }

        public long UncompressedSize { get; set; }

        public long LocalHeaderOffset { get; set; }

        /// <summary>Absolute offset of the member's (compressed) data in the file.</summary>
        public int DataStart { get; set; }

        public NpyArray? Array { get; set; }
    }

    /// <summary>
    /// Parses <paramref name="bytes"/>. Returns the file (tensors in central-directory order) and a null
    /// <paramref name="error"/>, or null and the first problem found. Never throws.
    /// </summary>
    public static WeightFile? Read(byte[] bytes, out WeightFileError? error)
    {
        error = null;
        if (bytes is null)
        {
            error = new WeightFileError(WeightFileErrorKind.Truncated, $"no bytes were given; {Expected} of at least {EocdLength} bytes");
            return null;
        }

        List<Member>? members = ReadDirectory(bytes, out long directoryStart, out error);
        if (members is null)
        {
            return null;
        }

        var tensors = new List<Member>(members.Count);
        var names = new HashSet<string>(StringComparer.Ordinal);
        long total = 0;
        foreach (Member m in members)
        {
            if (m.Name.EndsWith("/", StringComparison.Ordinal) && m.UncompressedSize == 0)
            {
                continue; // a directory entry
            }

            if (!m.Name.EndsWith(".npy", StringComparison.Ordinal))
            {
                error = new WeightFileError(WeightFileErrorKind.InvalidEntry,
                    $"the archive holds {m.Shown}, which is not a .npy file; expected only .npy members as np.savez writes", m.Name);
                return null;
            }

            m.TensorName = m.Name.Substring(0, m.Name.Length - 4);
            if (!names.Add(m.TensorName))
            {
                error = new WeightFileError(WeightFileErrorKind.DuplicateName,
                    $"the archive holds two members named {SafeTensorsReader.Quote(m.Name)}; expected each tensor name once", m.TensorName);
                return null;
            }

            error = ReadLocalHeader(bytes, m, directoryStart);
            if (error is not null)
            {
                return null;
            }

            if (m.UncompressedSize > int.MaxValue)
            {
                error = Fail(WeightFileErrorKind.TooLarge, $"{m.Shown} declares {m.UncompressedSize} uncompressed bytes; expected at most {int.MaxValue}", m);
                return null;
            }

            if (m.Method == 8 && m.UncompressedSize > (m.CompressedSize * DeflateMaxRatio) + DeflateMaxRatio)
            {
                error = Fail(WeightFileErrorKind.InvalidArchive,
                    $"{m.Shown} declares {m.UncompressedSize} uncompressed bytes from {m.CompressedSize} compressed bytes; expected at most {DeflateMaxRatio} to 1, the most deflate can produce", m);
                return null;
            }

            total += m.UncompressedSize;
            if (total > MaxBufferLength)
            {
                error = Fail(WeightFileErrorKind.TooLarge,
                    $"the archive's members hold more than {MaxBufferLength} bytes uncompressed; expected at most that many in all", m);
                return null;
            }

            tensors.Add(m);
        }

        error = CheckOverlaps(tensors);
        if (error is not null)
        {
            return null;
        }

        // Stored members are checked and parsed where they lie.
        bool needBuffer = false;
        foreach (Member m in tensors)
        {
            if (m.Method != 0)
            {
                needBuffer = true;
                continue;
            }

            int length = (int)m.UncompressedSize;
            error = CheckCrc(bytes, m.DataStart, length, m);
            if (error is not null)
            {
                return null;
            }

            m.Array = NpyReader.Parse(bytes, m.DataStart, length, m.TensorName, m.Shown, out error);
            if (m.Array is null)
            {
                return null;
            }

            needBuffer |= m.Array.BigEndian;
        }

        var entries = new TensorEntry[tensors.Count];
        if (!needBuffer)
        {
            for (int i = 0; i < tensors.Count; i++)
            {
                NpyArray a = tensors[i].Array!;
                entries[i] = new TensorEntry(tensors[i].TensorName, a.DType, a.Shape, a.ElementCount, a.DataOffset, a.ByteLength, fileOffset: a.DataOffset);
            }

            return new WeightFile(bytes, entries);
        }

        // Some data is not in the file verbatim: decode every member into one buffer, each in its own slot.
        var buffer = new byte[total];
        int slot = 0;
        for (int i = 0; i < tensors.Count; i++)
        {
            Member m = tensors[i];
            int length = (int)m.UncompressedSize;
            long? fileOffset;
            if (m.Method == 0)
            {
                Buffer.BlockCopy(bytes, m.DataStart, buffer, slot, length);
                fileOffset = m.Array!.BigEndian ? null : m.Array.DataOffset;
                int header = m.Array.DataOffset - m.DataStart;
                m.Array = new NpyArray(m.Array.Descr, m.Array.DType, m.Array.BigEndian, m.Array.Shape, m.Array.ElementCount, slot + header, m.Array.ByteLength);
            }
            else
            {
                string? problem = Inflate(bytes, m.DataStart, (int)m.CompressedSize, buffer, slot, length);
                if (problem is not null)
                {
                    error = Fail(WeightFileErrorKind.InvalidArchive, $"{m.Shown} {problem}", m);
                    return null;
                }

                error = CheckCrc(buffer, slot, length, m);
                if (error is not null)
                {
                    return null;
                }

                m.Array = NpyReader.Parse(buffer, slot, length, m.TensorName, m.Shown, out error);
                if (m.Array is null)
                {
                    return null;
                }

                fileOffset = null;
            }

            NpyArray a = m.Array;
            if (a.BigEndian)
            {
                NpyReader.SwapBytes(buffer, a.DataOffset, a.ByteLength, FloatConversion.ElementSize(a.DType));
            }

            entries[i] = new TensorEntry(m.TensorName, a.DType, a.Shape, a.ElementCount, a.DataOffset, a.ByteLength, fileOffset);
            slot += length;
        }

        return new WeightFile(buffer, entries);
    }

    /// <summary>The end records and the central directory: every entry, with ZIP64 values resolved and methods checked.</summary>
    private static List<Member>? ReadDirectory(byte[] bytes, out long directoryStart, out WeightFileError? error)
    {
        directoryStart = 0;
        error = null;
        if (bytes.Length < EocdLength)
        {
            error = new WeightFileError(WeightFileErrorKind.Truncated,
                $"the file is {bytes.Length} bytes long; {Expected}, at least {EocdLength} bytes for its end-of-central-directory record{NpyHint(bytes)}");
            return null;
        }

        int eocd = -1;
        int lowest = Math.Max(0, bytes.Length - EocdLength - 0xFFFF);
        for (int p = bytes.Length - EocdLength; p >= lowest; p--)
        {
            if (U32(bytes, p) == EocdSignature && p + EocdLength + U16(bytes, p + 20) == bytes.Length)
            {
                eocd = p;
                break;
            }
        }

        if (eocd < 0)
        {
            error = Archive($"the file has no ZIP end-of-central-directory record (50 4B 05 06 followed by a comment reaching the end of the file); {Expected}{NpyHint(bytes)}");
            return null;
        }

        long disk = U16(bytes, eocd + 4);
        long directoryDisk = U16(bytes, eocd + 6);
        ulong entriesHere = U16(bytes, eocd + 8);
        ulong entries = U16(bytes, eocd + 10);
        ulong directorySize = U32(bytes, eocd + 12);
        ulong directoryOffset = U32(bytes, eocd + 16);
        long recordStart = eocd;
        bool marked = disk == 0xFFFF || directoryDisk == 0xFFFF || entriesHere == 0xFFFF || entries == 0xFFFF
            || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF;

        int locator = eocd - Zip64LocatorLength;
        if (locator >= 0 && U32(bytes, locator) == Zip64LocatorSignature)
        {
            // As Python's zipfile does, a ZIP64 locator right before the end record means its values are the real ones.
            uint recordDisk = U32(bytes, locator + 4);
            ulong recordOffset = U64(bytes, locator + 8);
            uint disks = U32(bytes, locator + 16);
            if (recordDisk != 0 || disks > 1)
            {
                error = Archive($"the ZIP64 locator says the archive spans {disks} disks with its end record on disk {recordDisk}; expected a single-file archive");
                return null;
            }

            if (locator < Zip64RecordLength || recordOffset > (ulong)(locator - Zip64RecordLength))
            {
                error = Archive($"the ZIP64 locator points at byte {recordOffset} for the ZIP64 end record; expected a {Zip64RecordLength}-byte record that ends by byte {locator}, where the locator starts");
                return null;
            }

            int record = (int)recordOffset;
            ulong recordSize = U64(bytes, record + 4);
            if (U32(bytes, record) != Zip64RecordSignature || recordSize < Zip64RecordLength - 12 || recordSize != (ulong)(locator - record - 12))
            {
                error = Archive($"the ZIP64 locator points at byte {record}, where there is no ZIP64 end-of-central-directory record (50 4B 06 06) ending where the locator starts; {Expected}");
                return null;
            }

            disk = U32(bytes, record + 16);
            directoryDisk = U32(bytes, record + 20);
            entriesHere = U64(bytes, record + 24);
            entries = U64(bytes, record + 32);
            directorySize = U64(bytes, record + 40);
            directoryOffset = U64(bytes, record + 48);
            recordStart = record;
        }
        else if (marked)
        {
            error = Archive("the end-of-central-directory record marks values as ZIP64 (0xFFFF or 0xFFFFFFFF) but no ZIP64 locator precedes it; expected the locator and the ZIP64 end record");
            return null;
        }

        if (disk != 0 || directoryDisk != 0 || entriesHere != entries)
        {
            error = Archive($"the archive spans several disks (this is disk {disk}, the central directory starts on disk {directoryDisk}, {entriesHere} of {entries} entries are here); expected a single-file archive");
            return null;
        }

        if (directoryOffset > (ulong)recordStart || directorySize != (ulong)recordStart - directoryOffset)
        {
            error = Archive($"the central directory of {directorySize} bytes at byte {directoryOffset} does not end where the end record starts, at byte {recordStart}; {Expected}, with nothing before or after it");
            return null;
        }

        if (entries > directorySize / CentralHeaderLength)
        {
            error = Archive($"the archive declares {entries} entries but its central directory of {directorySize} bytes holds at most {directorySize / CentralHeaderLength}");
            return null;
        }

        directoryStart = (long)directoryOffset;
        var members = new List<Member>((int)entries);
        int pos = (int)directoryOffset;
        int end = (int)recordStart;
        for (int i = 0; i < (int)entries; i++)
        {
            if (end - pos < CentralHeaderLength)
            {
                error = Archive($"central directory entry {i} at byte {pos} runs past the end of the central directory at byte {end}; expected {entries} entries of at least {CentralHeaderLength} bytes");
                return null;
            }

            if (U32(bytes, pos) != CentralSignature)
            {
                error = Archive($"central directory entry {i} at byte {pos} starts with {Hex(bytes, pos, 4)}; expected the signature 50 4B 01 02");
                return null;
            }

            int flags = U16(bytes, pos + 8);
            int method = U16(bytes, pos + 10);
            uint crc = U32(bytes, pos + 16);
            ulong compressed = U32(bytes, pos + 20);
            ulong uncompressed = U32(bytes, pos + 24);
            int nameLength = U16(bytes, pos + 28);
            int extraLength = U16(bytes, pos + 30);
            int commentLength = U16(bytes, pos + 32);
            ulong startDisk = U16(bytes, pos + 34);
            ulong localOffset = U32(bytes, pos + 42);
            if (end - pos < CentralHeaderLength + nameLength + extraLength + commentLength)
            {
                error = Archive($"central directory entry {i} at byte {pos} has a name, extra field and comment that run past the end of the central directory at byte {end}");
                return null;
            }

            string? name = DecodeName(bytes, pos + CentralHeaderLength, nameLength, (flags & 0x800) != 0);
            if (name is null)
            {
                error = Archive($"central directory entry {i} at byte {pos} has a name that is not valid UTF-8 although its flags say UTF-8");
                return null;
            }

            var member = new Member(name, pos + CentralHeaderLength, nameLength);
            error = ReadZip64Extra(bytes, pos + CentralHeaderLength + nameLength, extraLength, member,
                ref uncompressed, ref compressed, ref localOffset, ref startDisk);
            if (error is not null)
            {
                return null;
            }

            if (startDisk != 0)
            {
                error = Fail(WeightFileErrorKind.InvalidArchive, $"{member.Shown} starts on disk {startDisk}; expected a single-file archive", member);
                return null;
            }

            if ((flags & 0x41) != 0 || (flags & 0x2000) != 0 || method == 99)
            {
                error = Fail(WeightFileErrorKind.UnsupportedCompression, $"{member.Shown} is encrypted; expected an unencrypted archive as np.savez writes", member);
                return null;
            }

            if (method != 0 && method != 8)
            {
                error = Fail(WeightFileErrorKind.UnsupportedCompression,
                    $"{member.Shown} is compressed with method {method} ({MethodName(method)}); expected 0 (stored, np.savez) or 8 (deflate, np.savez_compressed)", member);
                return null;
            }

            if (method == 0 && compressed != uncompressed)
            {
                error = Fail(WeightFileErrorKind.InvalidArchive,
                    $"{member.Shown} is stored uncompressed but the central directory gives it {compressed} compressed and {uncompressed} uncompressed bytes; expected equal sizes", member);
                return null;
            }

            // Each is below 2^64 and, once the local header is checked, below the file's length.
            member.Method = method;
            member.Crc = crc;
            member.CompressedSize = compressed > long.MaxValue ? long.MaxValue : (long)compressed;
            member.UncompressedSize = uncompressed > long.MaxValue ? long.MaxValue : (long)uncompressed;
            member.LocalHeaderOffset = localOffset > long.MaxValue ? long.MaxValue : (long)localOffset;
            members.Add(member);
            pos += CentralHeaderLength + nameLength + extraLength + commentLength;
        }

        if (pos != end)
        {
            error = Archive($"the central directory's {entries} entries end at byte {pos} but the directory ends at byte {end}; expected the entries to fill it");
            return null;
        }

        return members;
    }

    /// <summary>
    /// Walks an extra field; a ZIP64 record (tag 1) supplies, in this order, the uncompressed size, compressed size,
    /// local header offset and start disk, each only when the fixed field holds its 0xFFFF(FFFF) marker.
    /// </summary>
    private static WeightFileError? ReadZip64Extra(byte[] bytes, int start, int length, Member member,
        ref ulong uncompressed, ref ulong compressed, ref ulong localOffset, ref ulong startDisk)
    {
        bool seen = false;
        int p = start;
        int end = start + length;
        while (end - p >= 4)
        {
            int tag = U16(bytes, p);
            int size = U16(bytes, p + 2);
            if (end - p - 4 < size)
            {
                return Fail(WeightFileErrorKind.InvalidArchive,
                    $"{member.Shown} has an extra field record of {size} bytes at byte {p} that runs past the end of its extra field at byte {end}", member);
            }

            if (tag == 1 && !seen)
            {
                seen = true;
                int q = p + 4;
                int qEnd = q + size;
                if (!TakeZip64(bytes, ref q, qEnd, 8, ref uncompressed, 0xFFFF_FFFF)
                    || !TakeZip64(bytes, ref q, qEnd, 8, ref compressed, 0xFFFF_FFFF)
                    || !TakeZip64(bytes, ref q, qEnd, 8, ref localOffset, 0xFFFF_FFFF)
                    || !TakeZip64(bytes, ref q, qEnd, 4, ref startDisk, 0xFFFF))
                {
                    return Fail(WeightFileErrorKind.InvalidArchive,
                        $"{member.Shown} has a ZIP64 extra field of {size} bytes, too short for the values its central directory entry marks 0xFFFFFFFF", member);
                }
            }

            p += 4 + size;
        }

        string? field = uncompressed == 0xFFFF_FFFF && !seen ? "uncompressed size"
            : compressed == 0xFFFF_FFFF && !seen ? "compressed size"
            : localOffset == 0xFFFF_FFFF && !seen ? "local header offset"
            : null;
        return field is null
            ? null
            : Fail(WeightFileErrorKind.InvalidArchive, $"{member.Shown} marks its {field} 0xFFFFFFFF (ZIP64) but has no ZIP64 extra field; expected one holding the value", member);
    }

    private static bool TakeZip64(byte[] bytes, ref int q, int end, int width, ref ulong value, ulong marker)
    {
        if (value != marker)
        {
            return true;
        }

        if (end - q < width)
        {
            return false;
        }

        value = width == 8 ? U64(bytes, q) : U32(bytes, q);
        q += width;
        return true;
    }

    /// <summary>The member's local header: signature, the same name, not encrypted; its data must end before the central directory.</summary>
    private static WeightFileError? ReadLocalHeader(byte[] bytes, Member m, long directoryStart)
    {
        if (m.LocalHeaderOffset > directoryStart - LocalHeaderLength)
        {
            return Fail(WeightFileErrorKind.InvalidArchive,
                $"{m.Shown} has its local header at byte {m.LocalHeaderOffset}; expected a {LocalHeaderLength}-byte header before the central directory at byte {directoryStart}", m);
        }

        int p = (int)m.LocalHeaderOffset;
        if (U32(bytes, p) != LocalSignature)
        {
            return Fail(WeightFileErrorKind.InvalidArchive,
                $"{m.Shown} has its local header at byte {p}, which starts with {Hex(bytes, p, 4)}; expected the signature 50 4B 03 04", m);
        }

        int flags = U16(bytes, p + 6);
        int nameLength = U16(bytes, p + 26);
        int extraLength = U16(bytes, p + 28);
        long dataStart = (long)p + LocalHeaderLength + nameLength + extraLength;
        if (dataStart > directoryStart)
        {
            return Fail(WeightFileErrorKind.InvalidArchive,
                $"{m.Shown} has a local header at byte {p} whose name and extra field run into the central directory at byte {directoryStart}", m);
        }

        bool sameName = nameLength == m.NameLength;
        for (int i = 0; sameName && i < nameLength; i++)
        {
            sameName = bytes[p + LocalHeaderLength + i] == bytes[m.NameOffset + i];
        }

        if (!sameName)
        {
            string local = DecodeName(bytes, p + LocalHeaderLength, nameLength, (flags & 0x800) != 0) ?? "(invalid UTF-8)";
            return Fail(WeightFileErrorKind.InvalidArchive,
                $"{m.Shown} has a local header at byte {p} that names {SafeTensorsReader.Quote(local)}; expected the central directory's name", m);
        }

        if ((flags & 0x41) != 0)
        {
            return Fail(WeightFileErrorKind.UnsupportedCompression, $"{m.Shown} is encrypted; expected an unencrypted archive as np.savez writes", m);
        }

        if (m.CompressedSize > directoryStart - dataStart)
        {
            return Fail(WeightFileErrorKind.InvalidArchive,
                $"{m.Shown} has {m.CompressedSize} bytes of data at byte {dataStart}, which run past the start of the central directory at byte {directoryStart}", m);
        }

        m.DataStart = (int)dataStart;
        return null;
    }

    private static WeightFileError? CheckOverlaps(List<Member> members)
    {
        var order = new List<Member>(members);
        order.Sort((a, b) => a.LocalHeaderOffset.CompareTo(b.LocalHeaderOffset));
        for (int i = 1; i < order.Count; i++)
        {
            Member prev = order[i - 1];
            Member next = order[i];
            long prevEnd = prev.DataStart + prev.CompressedSize;
            if (next.LocalHeaderOffset < prevEnd)
            {
                return Fail(WeightFileErrorKind.OffsetsOverlap,
                    $"{prev.Shown} (bytes [{prev.LocalHeaderOffset}, {prevEnd})) and {next.Shown} (from byte {next.LocalHeaderOffset}) overlap; expected disjoint members", next);
            }
        }

        return null;
    }

    private static WeightFileError? CheckCrc(byte[] buffer, int offset, int length, Member m)
    {
        uint crc = Crc32.Compute(buffer, offset, length);
        return crc == m.Crc
            ? null
            : Fail(WeightFileErrorKind.ChecksumMismatch,
                $"{m.Shown} has CRC-32 0x{crc:X8} but the central directory records 0x{m.Crc:X8}; the archive is damaged", m);
    }

    /// <summary>Inflates exactly <paramref name="expected"/> bytes into the target; a problem (as a predicate) or null.</summary>
    private static string? Inflate(byte[] source, int offset, int count, byte[] target, int targetOffset, int expected)
    {
        try
        {
            using var input = new MemoryStream(source, offset, count, writable: false);
            using var inflater = new DeflateStream(input, CompressionMode.Decompress);
            int total = 0;
            while (total < expected)
            {
                int n = inflater.Read(target, targetOffset + total, expected - total);
                if (n == 0)
                {
                    break;
                }

                total += n;
            }

            if (total < expected)
            {
                return $"inflates to {total} bytes; expected the {expected} bytes the central directory declares";
            }

            var probe = new byte[1];
            if (inflater.Read(probe, 0, 1) != 0)
            {
                return $"inflates to more than the {expected} bytes the central directory declares; expected exactly that many";
            }

            return null;
        }
        catch (Exception e) when (e is InvalidDataException or IOException or NotSupportedException or ArgumentException)
        {
            return "is not valid deflate data (" + e.Message.Replace("\r", " ").Replace("\n", " ").Trim() + "); expected a stream np.savez_compressed writes";
        }
    }

    private static string? DecodeName(byte[] bytes, int start, int length, bool utf8)
    {
        if (utf8)
        {
            try
            {
                return new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(bytes, start, length);
            }
            catch (DecoderFallbackException)
            {
                return null;
            }
        }

        // Without the UTF-8 flag ZIP names are code page 437, as Python's zipfile reads them (it writes ASCII names so).
        var chars = new char[length];
        for (int i = 0; i < length; i++)
        {
            byte b = bytes[start + i];
            chars[i] = b < 0x80 ? (char)b : Cp437High[b - 0x80];
        }

        return new string(chars);
    }

    private static string MethodName(int method) => method switch
    {
        1 => "shrink",
        6 => "implode",
        9 => "deflate64",
        12 => "bzip2",
        14 => "LZMA",
        93 => "Zstandard",
        95 => "xz",
        98 => "PPMd",
        _ => "not one np.savez writes",
    };

    private static string NpyHint(byte[] bytes) =>
        NpyReader.HasMagic(bytes, 0, bytes.Length) ? " (the file starts with the .npy magic: name it .npy)" : "";

    private static WeightFileError Archive(string message) => new(WeightFileErrorKind.InvalidArchive, message);

    private static WeightFileError Fail(WeightFileErrorKind kind, string message, Member m) =>
        new(kind, message, m.TensorName.Length > 0 ? m.TensorName : m.Name);

    private static string Hex(byte[] bytes, int start, int count)
    {
        var sb = new StringBuilder(count * 3);
        for (int i = 0; i < count; i++)
        {
            if (i > 0)
            {
                sb.Append(' ');
            }

            sb.Append(bytes[start + i].ToString("X2", CultureInfo.InvariantCulture));
        }

        return sb.ToString();
    }

    private static ushort U16(byte[] b, int p) => (ushort)(b[p] | (b[p + 1] << 8));

    private static uint U32(byte[] b, int p) => b[p] | ((uint)b[p + 1] << 8) | ((uint)b[p + 2] << 16) | ((uint)b[p + 3] << 24);

    private static ulong U64(byte[] b, int p) => U32(b, p) | ((ulong)U32(b, p + 4) << 32);
}
