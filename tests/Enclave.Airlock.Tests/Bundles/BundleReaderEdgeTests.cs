using System.Formats.Tar;
using System.Globalization;
using System.Text;
using Enclave.Airlock.Bundles;

namespace Enclave.Airlock.Tests.Bundles;

/// <summary>
/// The bundle reader and its tar header reader at their edges, written from the mutants Stryker left alive (docs/testing.md): hand-made
/// headers at each bound and one past it, every number encoding, pax records of every shape, and the exact reason and
/// message of each refusal (where in the archive, and what), read from a forward-only stream.
/// </summary>
public sealed class BundleReaderEdgeTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "enclave-bundle-edge-tests", Guid.NewGuid().ToString("N"));

    public BundleReaderEdgeTests() => Directory.CreateDirectory(_root);

    private string DataDirectory => Path.Combine(_root, "data");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    // ---- helpers: a tar made block by block ----

    private static byte[] Header(string name, char type = '0', long size = 0) =>
        BundleTestArchive.UstarHeader(Encoding.UTF8.GetBytes(name), type, size);

    private static byte[] Header(byte[] nameField, char type = '0', long size = 0) =>
        BundleTestArchive.UstarHeader(nameField, type, size);

    private static byte[] Edit(byte[] header, Action<byte[]> edit)
    {
        edit(header);
        BundleTestArchive.FixChecksum(header);
        return header;
    }

    private static byte[] Padded(byte[] data)
    {
        var padded = new byte[(data.Length + 511) / 512 * 512];
        data.CopyTo(padded, 0);
        return padded;
    }

    private static byte[] Pax(char type, params string[] records)
    {
        var data = Encoding.UTF8.GetBytes(string.Concat(records));
        return [.. Header("PaxHeaders/x", type, data.Length), .. Padded(data)];
    }

    private static string Record(string keyValue)
    {
        var body = " " + keyValue + "\n";
        var length = body.Length + 1;
        while ((length.ToString(CultureInfo.InvariantCulture) + body).Length != length)
        {
            length++;
        }

        return length.ToString(CultureInfo.InvariantCulture) + body;
    }

    private static byte[] Tar(params byte[][] blocks) => [.. blocks.SelectMany(b => b), .. new byte[1024]];

    private static byte[] Entry(string name, byte[] content) => [.. Header(name, '0', content.Length), .. Padded(content)];

    private static Dictionary<string, ExpectedEntry> Expect(params (string Name, byte[] Content)[] entries) =>
        entries.ToDictionary(e => e.Name, e => BundleTestArchive.ExpectedFor(e.Content), StringComparer.Ordinal);

    private BundleContents Read(byte[] tar, IReadOnlyDictionary<string, ExpectedEntry> expected, BundleReaderOptions? options = null)
    {
        using var stream = new MemoryStream(tar, writable: false);
        return new BundleReader(options ?? new BundleReaderOptions { FlushToDisk = false }).Read(stream, _ => expected, DataDirectory);
    }

    private BundleRejectedException Refused(BundleRejection reason, byte[] tar, IReadOnlyDictionary<string, ExpectedEntry> expected, BundleReaderOptions? options = null)
    {
        var quarantine = Path.Combine(DataDirectory, "quarantine");
        string[] Kept() => Directory.Exists(quarantine) ? [.. Directory.EnumerateFileSystemEntries(quarantine).Order(StringComparer.Ordinal)] : [];
        var before = Kept(); // the quarantines of bundles this test read successfully
        var e = Assert.Throws<BundleRejectedException>(() => Read(tar, expected, options));
        Assert.True(reason == e.Reason, $"expected {reason}, got {e.Reason}: {e.Detail}");
        Assert.True(before.SequenceEqual(Kept()), "quarantine directory left behind");
        return e;
    }

    private static readonly byte[] Ten = "0123456789"u8.ToArray();

    private static readonly byte[] None = [];

    // ---- names ----

    [Fact]
    public void EntryNames_MayBeExactlyTheByteBound_AndNotOneMore()
    {
        var options = new BundleReaderOptions { FlushToDisk = false, MaxNameBytes = 20 };
        var atBound = "models/abcdefghijklm"; // 20 bytes
        Assert.Single(Read(Tar(Entry(atBound, Ten)), Expect((atBound, Ten)), options).Targets);

        var e = Refused(BundleRejection.TooLarge, Tar(Entry(atBound + "n", Ten)), Expect((atBound + "n", Ten)), options);
        Assert.Equal("entry name at byte 0 is longer than 20 bytes", e.Detail);
    }

    [Fact]
    public void EntryNames_CountBytesNotCharacters()
    {
        var options = new BundleReaderOptions { FlushToDisk = false, MaxNameBytes = 20 };
        var name = "models/abcdefghijkl\u00e9"; // 20 characters, 21 bytes

        Refused(BundleRejection.TooLarge, Tar(Entry(name, Ten)), Expect((name, Ten)), options);
    }

    [Fact]
    public void EntryNames_MayHaveSegmentsOf255Bytes_AndNotMore()
    {
        var longest = "models/" + new string('a', 255);
        var archive = new BundleTestArchive().File(longest, Ten, declare: true);
        Assert.Single(Read(archive.ToArray(), archive.Expected).Targets);

        var tooLong = "models/" + new string('a', 256);
        archive = new BundleTestArchive().File(tooLong, Ten, declare: true);
        var e = Refused(BundleRejection.Malformed, archive.ToArray(), archive.Expected);
        Assert.EndsWith(" has a segment longer than 255 bytes", e.Detail, StringComparison.Ordinal);
        Assert.StartsWith($"entry name {tooLong} at byte ", e.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void EmptyName_IsRefused_SayingWhere()
    {
        var e = Refused(BundleRejection.Malformed, Tar(Entry("a", Ten), Header(Array.Empty<byte>())), Expect(("a", Ten)));

        Assert.Equal("entry at byte 1024 has an empty name", e.Detail);
    }

    [Theory]
    [InlineData("models/a\u0001.bin", "models/a\\u0001.bin")]
    [InlineData("models/a\u007f.bin", "models/a\\u007f.bin")]
    [InlineData("models\\a.bin", "models\\a.bin")]
    public void NamesWithControlCharactersOrBackslashes_AreRefused_PrintablyNamed(string name, string printed)
    {
        var e = Refused(BundleRejection.PathTraversal, Tar(Entry(name, Ten)), Expect((name, Ten)));

        Assert.Equal($"entry name {printed} at byte 0 contains a backslash, NUL or control character", e.Detail);
    }

    [Theory]
    [InlineData("/models/a.bin")]
    [InlineData("c:")]
    [InlineData("Z:models")]
    public void AbsoluteNames_AreRefused(string name)
    {
        var e = Refused(BundleRejection.AbsolutePath, Tar(Entry(name, Ten)), Expect((name, Ten)));

        Assert.Equal($"entry name {name} at byte 0 is absolute", e.Detail);
    }

    [Theory]
    [InlineData("1:/a.bin")]
    [InlineData("models/c:d.bin")]
    [InlineData("c")]
    public void AColonAfterAnythingButALeadingLetter_IsAnOrdinaryName(string name)
    {
        Assert.Equal(name, Assert.Single(Read(Tar(Entry(name, Ten)), Expect((name, Ten))).Targets).Name);
    }

    [Theory]
    [InlineData("models/../a.bin")]
    [InlineData("./a.bin")]
    [InlineData("models/")]
    public void DotAndEmptySegments_AreRefused_SayingSo(string name)
    {
        var e = Refused(BundleRejection.PathTraversal, Tar(Entry(name, Ten)), Expect((name, Ten)));

        Assert.Equal($"entry name {name} at byte 0 has an empty, '.' or '..' segment", e.Detail);
    }

    [Fact]
    public void NameFields_FilledToTheLastByte_AreReadWhole()
    {
        var name = "models/" + new string('n', 93); // exactly the 100 bytes of the name field, no NUL
        Assert.Equal(100, Encoding.UTF8.GetByteCount(name));

        Assert.Equal(name, Assert.Single(Read(Tar(Entry(name, Ten)), Expect((name, Ten))).Targets).Name);
    }

    [Fact]
    public void UstarPrefix_IsJoinedToTheName()
    {
        var header = Edit(Header("a.bin", '0', Ten.Length), h => Encoding.ASCII.GetBytes("models/deep").CopyTo(h, 345));

        Assert.Equal("models/deep/a.bin", Assert.Single(Read(Tar(header, Padded(Ten)), Expect(("models/deep/a.bin", Ten))).Targets).Name);
    }

    [Fact]
    public void GnuHeaders_HaveNoPrefix_WhateverTheirBytesThere()
    {
        var header = Edit(Header("a.bin", '0', Ten.Length), h =>
        {
            Encoding.ASCII.GetBytes("ustar  \0").CopyTo(h, 257);
            Encoding.ASCII.GetBytes("15000000000").CopyTo(h, 345); // a GNU access time
        });

        Assert.Equal("a.bin", Assert.Single(Read(Tar(header, Padded(Ten)), Expect(("a.bin", Ten))).Targets).Name);
    }

    [Fact]
    public void NulInsideTheNameOrPrefixField_IsRefused_NamingTheField()
    {
        var e = Refused(BundleRejection.PathTraversal, Tar(Header("a.bin\0x"u8.ToArray())), Expect(("a.bin", None)));
        Assert.Equal("the name field at byte 0 has a NUL inside it", e.Detail);

        var prefixed = Edit(Header("a.bin"), h => "models\0x"u8.ToArray().CopyTo(h, 345));
        e = Refused(BundleRejection.PathTraversal, Tar(prefixed), Expect(("models/a.bin", None)));
        Assert.Equal("the prefix field at byte 0 has a NUL inside it", e.Detail);
    }

    [Fact]
    public void NameThatIsNotUtf8_IsRefused()
    {
        var e = Refused(BundleRejection.Malformed, Tar(Header(new byte[] { (byte)'a', 0xFF })), Expect(("a", None)));

        Assert.Equal("the name at byte 0 is not valid UTF-8", e.Detail);
    }

    [Fact]
    public void FileAndFolderConflicts_AreRefused_InEitherOrder_AtAnyDepth()
    {
        var e = Refused(BundleRejection.DuplicateEntry, Tar(Entry("x/y", Ten), Entry("x/y/z/w", Ten)), Expect(("x/y", Ten), ("x/y/z/w", Ten)));
        Assert.Equal("entry x/y/z/w lies under x/y, which is a file", e.Detail);

        e = Refused(BundleRejection.DuplicateEntry, Tar(Entry("x/y/z", Ten), Entry("x/y", Ten)), Expect(("x/y/z", Ten), ("x/y", Ten)));
        Assert.Equal("entry x/y is both a file and a folder of other entries", e.Detail);

        e = Refused(BundleRejection.DuplicateEntry, Tar(Entry("x/y", Ten), Entry("x/y", Ten)), Expect(("x/y", Ten)));
        Assert.Equal("entry x/y appears twice (second at byte 1024)", e.Detail);
    }

    [Fact]
    public void SiblingsSharingAFolder_AreFine()
    {
        var contents = Read(Tar(Entry("x/y/a", Ten), Entry("x/y/b", Ten), Entry("x/z", Ten)), Expect(("x/y/a", Ten), ("x/y/b", Ten), ("x/z", Ten)));

        Assert.Equal(3, contents.Targets.Count);
    }

    // ---- the header itself ----

    [Fact]
    public void HeaderWithoutUstarMagic_IsRefused()
    {
        var v7 = Edit(Header("a.bin"), h => h.AsSpan(257, 8).Clear());

        var e = Refused(BundleRejection.Malformed, Tar(v7), Expect(("a.bin", None)));

        Assert.Equal("header at byte 0 is not a ustar, pax or GNU tar header", e.Detail);
    }

    [Fact]
    public void Checksum_IsRefusedWithBothSums_AndTheSignedSumOfOldWritersIsAccepted()
    {
        var name = "models/\u00e9t\u00e9.bin";
        var header = Header(name, '0', Ten.Length);
        header.AsSpan(148, 8).Fill((byte)' ');
        long unsignedSum = 0;
        long signedSum = 0;
        foreach (var b in header)
        {
            unsignedSum += b;
            signedSum += unchecked((sbyte)b);
        }

        Encoding.ASCII.GetBytes(Convert.ToString(signedSum, 8).PadLeft(6, '0') + "\0 ").CopyTo(header, 148);
        Assert.Equal(name, Assert.Single(Read(Tar(header, Padded(Ten)), Expect((name, Ten))).Targets).Name);

        Encoding.ASCII.GetBytes(Convert.ToString(signedSum + 1, 8).PadLeft(6, '0') + "\0 ").CopyTo(header, 148);
        var e = Refused(BundleRejection.Malformed, Tar(header, Padded(Ten)), Expect((name, Ten)));
        Assert.Equal($"header at byte 0 fails its checksum (stored {signedSum + 1}, computed {unsignedSum})", e.Detail);
    }

    // ---- numbers ----

    private static byte[] WithSize(byte[] sizeField, string name = "a.bin") =>
        Edit(Header(name, '0', 0), h =>
        {
            h.AsSpan(124, 12).Clear();
            sizeField.CopyTo(h, 124);
        });

    [Fact]
    public void Size_InGnuBase256_IsRead()
    {
        var field = new byte[12];
        field[0] = 0x80;
        field[11] = (byte)Ten.Length;

        Assert.Equal(10, Assert.Single(Read(Tar(WithSize(field), Padded(Ten)), Expect(("a.bin", Ten))).Targets).Length);
    }

    [Fact]
    public void Size_InBase256_MayUseTheSixLowBitsOfItsFirstByte()
    {
        var field = new byte[12];
        field[0] = 0x80 | 0x01; // 2^88: more than a long holds
        var e = Refused(BundleRejection.Malformed, Tar(WithSize(field)), Expect(("a.bin", None)));
        Assert.Equal("the size at byte 0 overflows", e.Detail);

        field = new byte[12];
        field[0] = 0x80;
        field[4] = 0x01; // 2^56 bytes: read as a number, then refused as larger than declared
        e = Refused(BundleRejection.TooLarge, Tar(WithSize(field)), Expect(("a.bin", None)));
        Assert.Equal($"entry a.bin is {1L << 56} bytes in the archive but the targets metadata says 0", e.Detail);
    }

    [Fact]
    public void Size_InBase256_UpToTheLargestLong_IsRead_AndOneBitMoreOverflows()
    {
        var field = new byte[12];
        field[0] = 0x80;
        field[4] = 0x7F;
        field.AsSpan(5).Fill(0xFF); // long.MaxValue
        var e = Refused(BundleRejection.TooLarge, Tar(WithSize(field)), Expect(("a.bin", None)));
        Assert.Equal($"entry a.bin is {long.MaxValue} bytes in the archive but the targets metadata says 0", e.Detail);

        field[4] = 0xFF; // 2^64 - 1
        e = Refused(BundleRejection.Malformed, Tar(WithSize(field)), Expect(("a.bin", None)));
        Assert.Equal("the size at byte 0 overflows", e.Detail);
    }

    [Fact]
    public void Size_InBase256_Negative_IsRefused()
    {
        var field = new byte[12];
        field[0] = 0xFF;
        field[11] = 0xF6; // -10

        var e = Refused(BundleRejection.Malformed, Tar(WithSize(field)), Expect(("a.bin", None)));

        Assert.Equal("the size at byte 0 is negative", e.Detail);
    }

    [Theory]
    [InlineData("12")] // ten, octal
    [InlineData("   12")] // leading spaces
    [InlineData("00000000012")] // the usual form
    [InlineData("12 ")] // a trailing space
    [InlineData("12\0\0")] // trailing NULs
    public void Size_InOctal_AcceptsThePaddingWritersUse(string text)
    {
        var field = Encoding.ASCII.GetBytes(text);

        Assert.Single(Read(Tar(WithSize(field), Padded(Ten)), Expect(("a.bin", Ten))).Targets);
    }

    [Theory]
    [InlineData("18", "is not an octal number")]
    [InlineData("1 2", "is not an octal number")]
    [InlineData("1x", "is not an octal number")]
    [InlineData("   ", "is empty")]
    [InlineData("", "is empty")]
    public void Size_ThatIsNotOctal_IsRefused_SayingSo(string text, string what)
    {
        var e = Refused(BundleRejection.Malformed, Tar(WithSize(Encoding.ASCII.GetBytes(text)), Padded(Ten)), Expect(("a.bin", Ten)));

        Assert.Equal($"the size at byte 0 {what}", e.Detail);
    }

    // ---- pax records ----

    [Fact]
    public void PaxSize_OverridesTheHeaderSize()
    {
        var tar = Tar(Pax('x', Record("size=10")), Header("a.bin", '0', 0), Padded(Ten));

        Assert.Equal(10, Assert.Single(Read(tar, Expect(("a.bin", Ten))).Targets).Length);
    }

    [Theory]
    [InlineData("00000000000000000010")] // 20 digits: zero-padded, still refused
    [InlineData("10\0")] // long.TryParse accepts trailing NULs
    [InlineData("+10")]
    [InlineData("1e1")]
    [InlineData("")]
    public void PaxSize_ThatIsNotAPlainDecimalOfAtMost19Digits_IsRefused(string size)
    {
        var tar = Tar(Pax('x', Record("size=" + size)), Header("a.bin", '0', 0), Padded(Ten));

        var e = Refused(BundleRejection.Malformed, tar, Expect(("a.bin", Ten)));

        Assert.Equal("the pax size before byte 1024 is not a decimal number", e.Detail);
    }

    [Fact]
    public void PaxSize_Of19Digits_IsANumber()
    {
        var tar = Tar(Pax('x', Record("size=0000000000000000010")), Header("a.bin", '0', 0), Padded(Ten));

        Assert.Single(Read(tar, Expect(("a.bin", Ten))).Targets);
    }

    [Theory]
    [InlineData("a=b\n", "pax record at byte 0 has no length")]
    [InlineData(" 6 a=b\n", "pax record at byte 0 has no length")]
    [InlineData("00000000017 a=bc\n", "pax record at byte 0 has no length")]
    [InlineData("1a a=b\n", "pax record length at byte 0 is not decimal")]
    [InlineData("7: a=b\n", "pax record length at byte 0 is not decimal")]
    [InlineData("/7 a=b\n", "pax record length at byte 0 is not decimal")]
    [InlineData("5 a=b\n", "pax record at byte 0 has a wrong length")]
    [InlineData("7 a=b\n", "pax record at byte 0 has a wrong length")]
    [InlineData("9999999999 a=b\n", "pax record at byte 0 has a wrong length")] // more than an int holds: an OverflowException escaped before
    [InlineData("6 a=b\n9 c=d\n", "pax record at byte 0 has a wrong length")] // the second too long by less than its offset
    [InlineData("0 a=b\n", "pax record at byte 0 has a wrong length")]
    [InlineData("3 \n", "pax record at byte 0 has no key")]
    [InlineData("4 =\n", "pax record at byte 0 has no key")]
    [InlineData("6 =bc\n", "pax record at byte 0 has no key")]
    [InlineData("6 abc\n", "pax record at byte 0 has no key")]
    public void PaxRecords_OfTheWrongShape_AreRefused_SayingHow(string records, string message)
    {
        var tar = Tar(Pax('x', records), Entry("a.bin", Ten));

        var e = Refused(BundleRejection.Malformed, tar, Expect(("a.bin", Ten)));

        Assert.Equal(message, e.Detail);
    }

    [Theory]
    [InlineData("0000000016 a=bc\n")] // a length of ten digits
    [InlineData("5 a=\n")] // an empty value
    [InlineData("9 ab=c=d\n")] // '=' in the value
    public void PaxRecords_AtTheEdgesOfTheirShape_AreRead(string records)
    {
        Assert.Single(Read(Tar(Pax('x', records), Entry("a.bin", Ten)), Expect(("a.bin", Ten))).Targets);
    }

    [Fact]
    public void PaxRecords_AreReadOneAfterAnother()
    {
        var tar = Tar(Pax('x', Record("comment=first"), Record("path=models/a.bin"), Record("mtime=1")), Header("ignored", '0', Ten.Length), Padded(Ten));

        Assert.Equal("models/a.bin", Assert.Single(Read(tar, Expect(("models/a.bin", Ten))).Targets).Name);
    }

    [Fact]
    public void PaxRefusals_NameTheKey()
    {
        var e = Refused(BundleRejection.Malformed, Tar(Pax('x', Record("path=a"), Record("path=b")), Entry("a", Ten)), Expect(("a", Ten)));
        Assert.Equal("pax header at byte 0 repeats the key path", e.Detail);

        e = Refused(BundleRejection.Malformed, Tar(Pax('x', Record("GNU.sparse.size=10")), Entry("a", Ten)), Expect(("a", Ten)));
        Assert.Equal("pax header at byte 0 describes a sparse file", e.Detail);
    }

    [Theory]
    [InlineData("path")]
    [InlineData("size")]
    [InlineData("linkpath")]
    public void GlobalPaxHeaders_MayNotSetNamesSizesOrLinks(string key)
    {
        var e = Refused(BundleRejection.Malformed, Tar(Pax('g', Record(key + "=10")), Entry("a", Ten)), Expect(("a", Ten)));

        Assert.Equal($"global pax header at byte 0 sets {key}", e.Detail);
    }

    [Fact]
    public void GlobalPaxHeaders_WithOtherKeys_AreSkipped_AndLocalOnesMayNameLinks()
    {
        var tar = Tar(Pax('g', Record("comment=x"), Record("mtime=1")), Pax('x', Record("linkpath=ignored")), Entry("a", Ten));

        Assert.Single(Read(tar, Expect(("a", Ten))).Targets);
    }

    [Fact]
    public void PaxHeaders_MayBeExactlyTheBound_AndNotOneByteMore()
    {
        var record = Record("comment=" + new string('c', 100));
        var options = new BundleReaderOptions { FlushToDisk = false, MaxPaxHeaderBytes = record.Length };
        Assert.Single(Read(Tar(Pax('x', record), Entry("a", Ten)), Expect(("a", Ten)), options).Targets);

        options = options with { MaxPaxHeaderBytes = record.Length - 1 };
        var e = Refused(BundleRejection.TooLarge, Tar(Pax('x', record), Entry("a", Ten)), Expect(("a", Ten)), options);
        Assert.Equal($"pax header at byte 0 is {record.Length} bytes; the limit is {record.Length - 1}", e.Detail);
    }

    [Fact]
    public void ExtensionHeaders_CutShort_AreTruncated()
    {
        var data = Encoding.ASCII.GetBytes(Record("path=models/a.bin"));
        var header = Header("PaxHeaders/x", 'x', data.Length);

        var e = Refused(BundleRejection.Truncated, [.. header, .. data.AsSpan(0, 5)], Expect(("a", Ten)));
        Assert.Equal("pax header at byte 0 is cut short", e.Detail);

        e = Refused(BundleRejection.Truncated, [.. header, .. data, 0, 0], Expect(("a", Ten)));
        Assert.Equal("padding after pax header is cut short", e.Detail);

        e = Refused(BundleRejection.Truncated, [.. Header("a", '0', Ten.Length), .. Ten], Expect(("a", Ten)));
        Assert.Equal("padding after a is cut short", e.Detail);
    }

    // ---- GNU long names ----

    [Fact]
    public void GnuLongName_WithOrWithoutItsNul_NamesTheNextEntry()
    {
        var name = "models/" + new string('l', 120);
        foreach (var data in new[] { Encoding.ASCII.GetBytes(name + "\0"), Encoding.ASCII.GetBytes(name) })
        {
            var tar = Tar(Header("././@LongLink", 'L', data.Length), Padded(data), Header("truncated", '0', Ten.Length), Padded(Ten));

            Assert.Equal(name, Assert.Single(Read(tar, Expect((name, Ten))).Targets).Name);
        }
    }

    [Fact]
    public void GnuLongName_StartingWithANul_IsRefused_AndOneOfOnlyNulsIsEmpty()
    {
        var leading = "\0models/a.bin"u8.ToArray();
        var e = Refused(BundleRejection.PathTraversal, Tar(Header("././@LongLink", 'L', leading.Length), Padded(leading), Entry("models/a.bin", Ten)), Expect(("models/a.bin", Ten)));
        Assert.Equal("GNU long name at byte 0 has a NUL inside it", e.Detail);

        var nuls = new byte[5];
        e = Refused(BundleRejection.Malformed, Tar(Header("././@LongLink", 'L', nuls.Length), Padded(nuls), Entry("models/a.bin", Ten)), Expect(("models/a.bin", Ten)));
        Assert.Equal("entry at byte 1024 has an empty name", e.Detail);
    }

    [Fact]
    public void Checksum_ThatIsNotOctal_IsRefused_NamingTheField()
    {
        var header = Header("a", '0', 0);
        Encoding.ASCII.GetBytes("12x4567\0").CopyTo(header, 148);

        var e = Refused(BundleRejection.Malformed, Tar(header), Expect(("a", None)));

        Assert.Equal("the checksum at byte 0 is not an octal number", e.Detail);
    }

    [Fact]
    public void GnuLongName_CutShort_IsTruncated_NamingIt()
    {
        var name = "models/a.bin"u8.ToArray();

        var e = Refused(BundleRejection.Truncated, [.. Header("././@LongLink", 'L', name.Length), .. name.AsSpan(0, 3)], Expect(("models/a.bin", Ten)));

        Assert.Equal("GNU long name at byte 0 is cut short", e.Detail);
    }

    [Fact]
    public void GnuLongName_WithANulInside_IsRefused()
    {
        var data = "models/a.bin\0.sh\0"u8.ToArray();
        var tar = Tar(Header("././@LongLink", 'L', data.Length), Padded(data), Entry("models/a.bin", Ten));

        var e = Refused(BundleRejection.PathTraversal, tar, Expect(("models/a.bin", Ten)));

        Assert.Equal("GNU long name at byte 0 has a NUL inside it", e.Detail);
    }

    [Fact]
    public void ExtensionHeadersInARow_OrDescribingNothing_AreRefused()
    {
        var longName = "models/a.bin"u8.ToArray();
        byte[] l = [.. Header("././@LongLink", 'L', longName.Length), .. Padded(longName)];

        var e = Refused(BundleRejection.Malformed, Tar(l, l, Entry("x", Ten)), Expect(("models/a.bin", Ten)));
        Assert.Equal("two GNU long-name headers in a row at byte 1024", e.Detail);

        e = Refused(BundleRejection.Malformed, Tar(Pax('x', Record("comment=a")), Pax('x', Record("comment=b")), Entry("x", Ten)), Expect(("x", Ten)));
        Assert.Equal("two pax headers in a row at byte 1024", e.Detail);

        e = Refused(BundleRejection.Malformed, Tar(Entry("x", Ten), l), Expect(("x", Ten)));
        Assert.Equal("a pax or long-name header before byte 2048 describes no entry", e.Detail);

        e = Refused(BundleRejection.Malformed, Tar(Entry("x", Ten), Pax('x', Record("comment=a"))), Expect(("x", Ten)));
        Assert.Equal("a pax or long-name header before byte 2048 describes no entry", e.Detail);
    }

    [Fact]
    public void APaxPathAndALongName_TogetherNameTheEntryByThePaxPath()
    {
        var longName = "models/long.bin"u8.ToArray();
        var tar = Tar(Header("././@LongLink", 'L', longName.Length), Padded(longName), Pax('x', Record("path=models/pax.bin")), Entry("models/ustar.bin", Ten));

        Assert.Equal("models/pax.bin", Assert.Single(Read(tar, Expect(("models/pax.bin", Ten))).Targets).Name);
    }

    // ---- entry types ----

    [Theory]
    [InlineData('1', BundleRejection.Link, "a hard link")]
    [InlineData('2', BundleRejection.Link, "a symbolic link")]
    [InlineData('K', BundleRejection.Link, "a long-named link")]
    [InlineData('3', BundleRejection.DeviceFile, "a device file")]
    [InlineData('4', BundleRejection.DeviceFile, "a device file")]
    [InlineData('6', BundleRejection.DeviceFile, "a FIFO")]
    public void LinksDevicesAndFifos_AreRefused_NamingWhatTheyAre(char type, BundleRejection reason, string what)
    {
        var e = Refused(reason, Tar(Entry("a", Ten), Header("models/x", type)), Expect(("a", Ten)));

        Assert.Equal($"entry models/x at byte 1024 is {what}; bundles hold regular files only", e.Detail);
    }

    [Fact]
    public void RefusedEntries_AreNamedByTheirPaxPathOrLongName()
    {
        var e = Refused(BundleRejection.DirectoryEntry, Tar(Pax('x', Record("path=models/pax")), Header("ustar", '5')), Expect(("a", Ten)));
        Assert.Equal("entry models/pax at byte 1024 is a directory; bundles hold regular files only", e.Detail);

        var longName = "models/long\u0001"u8.ToArray();
        e = Refused(BundleRejection.Link, Tar(Header("././@LongLink", 'L', longName.Length), Padded(longName), Header("ustar", '2')), Expect(("a", Ten)));
        Assert.Equal("entry models/long\\u0001 at byte 1024 is a symbolic link; bundles hold regular files only", e.Detail);
    }

    [Theory]
    [InlineData('7')]
    [InlineData('S')]
    [InlineData('V')]
    public void OtherEntryTypes_AreRefused(char type)
    {
        var e = Refused(BundleRejection.Malformed, Tar(Header("a", type)), Expect(("a", None)));

        Assert.Equal($"entry a at byte 0 has unsupported type '{type}'", e.Detail);
    }

    [Fact]
    public void TypeNul_IsARegularFile_AsOldWritersMarkIt()
    {
        Assert.Single(Read(Tar(Header("a", '\0', Ten.Length), Padded(Ten)), Expect(("a", Ten))).Targets);
    }

    // ---- counts and the end of the archive ----

    [Fact]
    public void Entries_MayBeExactlyTheBound_AndNotOneMore()
    {
        var options = new BundleReaderOptions { FlushToDisk = false, MaxEntries = 2 };
        Assert.Equal(2, Read(Tar(Entry("a", Ten), Entry("b", Ten)), Expect(("a", Ten), ("b", Ten)), options).Targets.Count);

        var e = Refused(BundleRejection.TooManyEntries, Tar(Entry("a", Ten), Entry("b", Ten), Entry("c", Ten)), Expect(("a", Ten), ("b", Ten), ("c", Ten)), options);
        Assert.Equal("archive has more than 2 entries", e.Detail);
    }

    [Fact]
    public void Headers_AreBoundedToo_ThreePerEntryAndThree()
    {
        var options = new BundleReaderOptions { FlushToDisk = false, MaxEntries = 1 };
        var global = Pax('g', Record("comment=x"));
        Assert.Single(Read(Tar(global, global, global, global, global, Entry("a", Ten)), Expect(("a", Ten)), options).Targets);

        var e = Refused(BundleRejection.TooManyEntries, Tar(global, global, global, global, global, global, Entry("a", Ten)), Expect(("a", Ten)), options);
        Assert.Equal("more than 6 headers", e.Detail);
    }

    [Fact]
    public void TheArchive_MustEndWithItsMarker()
    {
        var e = Refused(BundleRejection.Truncated, Entry("a", Ten), Expect(("a", Ten)));
        Assert.Equal("archive ends at byte 1024 without its end-of-archive marker", e.Detail);

        e = Refused(BundleRejection.Truncated, [.. Entry("a", Ten), .. new byte[100]], Expect(("a", Ten)));
        Assert.Equal("header at byte 1024 is cut short (100 of 512 bytes)", e.Detail);

        e = Refused(BundleRejection.Truncated, [.. Entry("a", Ten), .. new byte[512 + 100]], Expect(("a", Ten)));
        Assert.Equal("end-of-archive marker at byte 1024 is cut short", e.Detail);

        e = Refused(BundleRejection.Malformed, [.. Entry("a", Ten), .. new byte[512], .. Entry("b", Ten)], Expect(("a", Ten), ("b", Ten)));
        Assert.Equal("a lone zero block at byte 1024 is followed by data", e.Detail);
    }

    [Fact]
    public void ZerosAfterTheMarker_AreAcceptedUpToTheBound_AndNothingElse()
    {
        var options = new BundleReaderOptions { FlushToDisk = false, MaxTrailingBytes = 1024 };
        byte[] archive = [.. Entry("a", Ten), .. new byte[1024]];
        Assert.Single(Read([.. archive, .. new byte[1024]], Expect(("a", Ten)), options).Targets);
        Assert.Single(Read([.. archive, .. new byte[700]], Expect(("a", Ten)), options).Targets);

        var e = Refused(BundleRejection.Malformed, [.. archive, .. new byte[1025]], Expect(("a", Ten)), options);
        Assert.Equal("data follows the end-of-archive marker at byte 1024", e.Detail);

        var trailing = new byte[600];
        trailing[599] = 1;
        e = Refused(BundleRejection.Malformed, [.. archive, .. trailing], Expect(("a", Ten)), options);
        Assert.Equal("data follows the end-of-archive marker at byte 1024", e.Detail);
    }

    [Fact]
    public void Read_FromTarWriterGnuHeaders_NamesLongEntriesThroughLongLink()
    {
        var name = "models/" + new string('g', 150);
        var archive = new BundleTestArchive(TarEntryFormat.Gnu).File(name, Ten, declare: true);

        Assert.Equal(name, Assert.Single(Read(archive.ToArray(), archive.Expected).Targets).Name);
    }

    // ---- metadata and targets ----

    private static byte[] Json(int length) => Encoding.ASCII.GetBytes("{" + new string(' ', length - 2) + "}");

    [Fact]
    public void MetadataEntries_MayBeExactlyTheBounds_AndNotOneByteMore()
    {
        var options = new BundleReaderOptions { FlushToDisk = false, MaxMetadataBytes = 10, MaxTotalMetadataBytes = 20 };
        var contents = Read(Tar(Entry("metadata/a.json", Json(10)), Entry("metadata/b.json", Json(10)), Entry("t", Ten)), Expect(("t", Ten)), options);
        Assert.Equal(["metadata/a.json", "metadata/b.json"], contents.Metadata.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(Json(10), contents.Metadata["metadata/b.json"].ToArray());

        var e = Refused(BundleRejection.TooLarge, Tar(Entry("metadata/a.json", Json(11))), Expect(), options);
        Assert.Equal("metadata entry metadata/a.json is 11 bytes; the limit is 10", e.Detail);

        e = Refused(BundleRejection.TooLarge, Tar(Entry("metadata/a.json", Json(10)), Entry("metadata/b.json", Json(10)), Entry("metadata/c.json", Json(2))), Expect(), options);
        Assert.Equal("metadata entries total more than 20 bytes", e.Detail);
    }

    [Fact]
    public void MetadataEntry_CutShort_IsTruncated()
    {
        byte[] tar = [.. Header("metadata/a.json", '0', 10), .. "{   "u8];

        var e = Refused(BundleRejection.Truncated, tar, Expect());

        Assert.Equal("metadata entry metadata/a.json is cut short", e.Detail);
    }

    [Theory]
    [InlineData("metadata/readme.txt")]
    [InlineData("models/config.json")]
    [InlineData("metadata.json")]
    public void OnlyJsonFilesUnderTheMetadataFolder_AreMetadata(string name)
    {
        var contents = Read(Tar(Entry(name, Ten)), Expect((name, Ten)));

        Assert.Empty(contents.Metadata);
        Assert.Equal(name, Assert.Single(contents.Targets).Name);
    }

    [Fact]
    public void MetadataAfterATarget_OrAfterTheSelector_IsRefused_SayingWhy()
    {
        var e = Refused(BundleRejection.Malformed, Tar(Entry("t", Ten), Entry("metadata/root.json", Json(2))), Expect(("t", Ten)));
        Assert.Equal("metadata entry metadata/root.json follows a target; metadata must come first", e.Detail);

        e = Refused(BundleRejection.UndeclaredEntry, Tar(Entry("metadata/bundle.json", Json(2)), Entry("metadata/extra.json", Json(2))), Expect());
        Assert.Equal("metadata entry metadata/extra.json follows metadata/bundle.json, which ends the metadata; a bundle holds no other metadata files", e.Detail);
    }

    [Fact]
    public void WithoutASelector_MetadataMayFollowBundleJson()
    {
        var options = new BundleReaderOptions { FlushToDisk = false, LastMetadataEntry = null };

        var contents = Read(Tar(Entry("metadata/bundle.json", Json(2)), Entry("metadata/extra.json", Json(2))), Expect(), options);

        Assert.Equal(2, contents.Metadata.Count);
    }

    [Fact]
    public void MetadataBeforeTheSelector_IsRead()
    {
        var contents = Read(Tar(Entry("metadata/root.json", Json(2)), Entry("metadata/targets.json", Json(3)), Entry("metadata/bundle.json", Json(4))), Expect());

        Assert.Equal(3, contents.Metadata.Count);
    }

    [Fact]
    public void TargetRefusals_SayWhatDiffers()
    {
        var e = Refused(BundleRejection.TooLarge, Tar(Entry("a", [.. Ten, 1])), Expect(("a", Ten)));
        Assert.Equal("entry a is 11 bytes in the archive but the targets metadata says 10", e.Detail);

        e = Refused(BundleRejection.LengthMismatch, Tar(Entry("a", Ten[..9])), Expect(("a", Ten)));
        Assert.Equal("entry a is 9 bytes in the archive but the targets metadata says 10", e.Detail);

        e = Refused(BundleRejection.UndeclaredEntry, Tar(Entry("a", Ten), Entry("b", Ten)), Expect(("a", Ten)));
        Assert.Equal("entry b is not named by the targets metadata", e.Detail);

        var other = "0123456780"u8.ToArray();
        e = Refused(BundleRejection.HashMismatch, Tar(Entry("a", other)), Expect(("a", Ten)));
        Assert.Equal($"entry a has SHA-256 {Enclave.Core.Sha256Digest.Compute(other)} but the targets metadata says {Enclave.Core.Sha256Digest.Compute(Ten)}", e.Detail);

        e = Refused(BundleRejection.Truncated, [.. Header("a", '0', 10), .. "01234"u8], Expect(("a", Ten)));
        Assert.Equal("entry a is cut short: 5 of 10 bytes present", e.Detail);
    }

    [Fact]
    public void MissingTargets_AreNamed_FiveAtMostInOrder()
    {
        var expected = Expect(("a", Ten), ("m6", Ten), ("m2", Ten), ("m5", Ten), ("m1", Ten), ("m3", Ten), ("m4", Ten));

        var e = Refused(BundleRejection.MissingEntry, Tar(Entry("a", Ten)), expected);

        Assert.Equal("the targets metadata names 6 target(s) the archive lacks: m1, m2, m3, m4, m5", e.Detail);
        e = Refused(BundleRejection.MissingEntry, Tar(Entry("metadata/root.json", Json(2))), Expect(("a", Ten)));
        Assert.Equal("the targets metadata names 1 target(s) the archive lacks: a", e.Detail);
    }

    [Fact]
    public void AResolverReturningNull_IsAProgrammingError_AndLeavesNothing()
    {
        using var stream = new MemoryStream(Tar(Entry("metadata/root.json", Json(2))), writable: false);

        var e = Assert.Throws<InvalidOperationException>(() => new BundleReader().Read(stream, _ => null!, DataDirectory));

        Assert.Equal("the expected-entries resolver returned null", e.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(DataDirectory, "quarantine")));
    }

    [Fact]
    public void Read_NamesItsMissingArguments()
    {
        var reader = new BundleReader();
        using var stream = new MemoryStream(Tar());

        Assert.Equal("archive", Assert.Throws<ArgumentNullException>(() => reader.Read((Stream)null!, _ => Expect(), DataDirectory)).ParamName);
        Assert.Equal("resolveExpected", Assert.Throws<ArgumentNullException>(() => reader.Read(stream, null!, DataDirectory)).ParamName);
        Assert.Equal("dataDirectory", Assert.Throws<ArgumentNullException>(() => reader.Read(stream, _ => Expect(), null!)).ParamName);
        Assert.Equal("dataDirectory", Assert.Throws<ArgumentException>(() => reader.Read(stream, _ => Expect(), "")).ParamName);
        Assert.Equal("expectedEntries", Assert.Throws<ArgumentNullException>(() => reader.Read("bundle.tar", (IReadOnlyDictionary<string, ExpectedEntry>)null!, DataDirectory)).ParamName);
        Assert.Equal("dataDirectory", Assert.Throws<ArgumentException>(() => BundleReader.SweepIncomplete("")).ParamName);
        Assert.False(Directory.Exists(DataDirectory));
        Assert.Empty(BundleReader.SweepIncomplete(DataDirectory));
    }

    [Fact]
    public void AnEmptyArchive_OfOnlyItsMarker_HoldsNothing()
    {
        var contents = Read(Tar(), Expect());

        Assert.Empty(contents.Targets);
        Assert.Empty(contents.Metadata);
        Assert.Equal(1024, contents.ArchiveBytes);
        Assert.True(File.Exists(Path.Combine(contents.QuarantineDirectory, ".read-complete")));
    }

    [Fact]
    public void SizeFields_FilledToTheLastByte_AreReadWithinTheField()
    {
        var e = Refused(BundleRejection.Malformed, Tar(WithSize(Encoding.ASCII.GetBytes(new string(' ', 12)))), Expect(("a.bin", None)));
        Assert.Equal("the size at byte 0 is empty", e.Detail);

        Assert.Single(Read(Tar(WithSize(Encoding.ASCII.GetBytes("000000000012")), Padded(Ten)), Expect(("a.bin", Ten))).Targets);
    }

    [Fact]
    public void PaxKeysValuesAndLongNames_ThatAreNotUtf8_AreRefused_NamingWhich()
    {
        foreach (var (data, what) in new[] { ((byte[])[.. "6 "u8, 0xFF, .. "=b\n"u8], "pax key"), ((byte[])[.. "6 a="u8, 0xFF, .. "\n"u8], "pax value") })
        {
            var e = Refused(BundleRejection.Malformed, Tar([.. Header("PaxHeaders/x", 'x', data.Length), .. Padded(data)], Entry("a", Ten)), Expect(("a", Ten)));
            Assert.Equal($"the {what} at byte 0 is not valid UTF-8", e.Detail);
        }

        byte[] longName = [(byte)'a', 0xFF];
        var longNameRefusal = Refused(BundleRejection.Malformed, Tar([.. Header("././@LongLink", 'L', longName.Length), .. Padded(longName)], Entry("a", Ten)), Expect(("a", Ten)));
        Assert.Equal("the GNU long name at byte 0 is not valid UTF-8", longNameRefusal.Detail);
    }

    [Fact]
    public void Targets_GoUnderTheQuarantinesTargetsFolder_AndTheResolverIsAskedOnce()
    {
        var calls = 0;
        using var stream = new MemoryStream(Tar(Entry("metadata/root.json", Json(2)), Entry("x/a", Ten), Entry("b", Ten)), writable: false);

        var contents = new BundleReader(new BundleReaderOptions { FlushToDisk = false }).Read(stream, _ => { calls++; return Expect(("x/a", Ten), ("b", Ten)); }, DataDirectory);

        Assert.Equal(1, calls);
        Assert.Equal(Path.Combine(contents.QuarantineDirectory, "targets", "x", "a"), contents.Targets[0].Path);
        Assert.True(Directory.Exists(Path.Combine(Read(Tar(), Expect()).QuarantineDirectory, "targets")));
    }
}
