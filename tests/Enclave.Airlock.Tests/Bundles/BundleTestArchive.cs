using System.Formats.Tar;
using System.Text;
using Enclave.Airlock.Bundles;
using Enclave.Core;

namespace Enclave.Airlock.Tests.Bundles;

/// <summary>Builds bundle tars in memory for tests: well-formed ones with TarWriter, malformed ones by hand.</summary>
internal sealed class BundleTestArchive
{
    private readonly MemoryStream _stream = new();
    private readonly TarWriter _writer;

    public BundleTestArchive(TarEntryFormat format = TarEntryFormat.Pax)
    {
        Format = format;
        _writer = new TarWriter(_stream, format, leaveOpen: true);
    }

    public TarEntryFormat Format { get; }

    public Dictionary<string, ExpectedEntry> Expected { get; } = new(StringComparer.Ordinal);

    public static byte[] Content(string name, int length)
    {
        var bytes = new byte[length];
        var seed = Encoding.UTF8.GetBytes(name);
        for (var i = 0; i < length; i++)
        {
            bytes[i] = (byte)(seed[i % seed.Length] + (i / seed.Length));
        }

        return bytes;
    }

    public static ExpectedEntry ExpectedFor(byte[] content) =>
        new() { Length = content.Length, Sha256 = Sha256Digest.Compute(content) };

    public BundleTestArchive Metadata(string name, string json)
    {
        File(name, Encoding.UTF8.GetBytes(json), declare: false);
        return this;
    }

    public BundleTestArchive Target(string name, int length) => File(name, Content(name, length), declare: true);

    public BundleTestArchive File(string name, byte[] content, bool declare)
    {
        var entry = NewEntry(TarEntryType.RegularFile, name);
        entry.DataStream = new MemoryStream(content);
        _writer.WriteEntry(entry);
        if (declare)
        {
            Expected[name] = ExpectedFor(content);
        }

        return this;
    }

    public BundleTestArchive Entry(TarEntryType type, string name, Action<TarEntry>? configure = null)
    {
        var entry = NewEntry(type, name);
        configure?.Invoke(entry);
        _writer.WriteEntry(entry);
        return this;
    }

    /// <summary>Appends raw bytes (hand-made headers) before the end-of-archive marker.</summary>
    public BundleTestArchive Raw(byte[] bytes)
    {
        _stream.Write(bytes);
        return this;
    }

    public byte[] ToArray()
    {
        _writer.Dispose();
        return _stream.ToArray();
    }

    /// <summary>A ustar header with a correct checksum, for shapes TarWriter will not produce.</summary>
    public static byte[] UstarHeader(byte[] nameField, char type, long size)
    {
        var header = new byte[512];
        nameField.AsSpan(0, Math.Min(100, nameField.Length)).CopyTo(header);
        Encoding.ASCII.GetBytes("0000644\0").CopyTo(header, 100);
        Encoding.ASCII.GetBytes("0000000\0").CopyTo(header, 108);
        Encoding.ASCII.GetBytes("0000000\0").CopyTo(header, 116);
        Encoding.ASCII.GetBytes(Convert.ToString(size, 8).PadLeft(11, '0') + "\0").CopyTo(header, 124);
        Encoding.ASCII.GetBytes("00000000000\0").CopyTo(header, 136);
        header[156] = (byte)type;
        Encoding.ASCII.GetBytes("ustar\0" + "00").CopyTo(header, 257);
        FixChecksum(header);
        return header;
    }

    public static void FixChecksum(byte[] header, int offset = 0)
    {
        var block = header.AsSpan(offset, 512);
        block.Slice(148, 8).Fill((byte)' ');
        var sum = 0;
        foreach (var b in block)
        {
            sum += b;
        }

        Encoding.ASCII.GetBytes(Convert.ToString(sum, 8).PadLeft(6, '0') + "\0 ").CopyTo(block[148..]);
    }

    private TarEntry NewEntry(TarEntryType type, string name) => Format switch
    {
        TarEntryFormat.Pax => new PaxTarEntry(type, name),
        TarEntryFormat.Gnu => new GnuTarEntry(type, name),
        _ => new UstarTarEntry(type, name),
    };
}
