using System.Formats.Tar;
using Enclave.Airlock.Bundles;

namespace Enclave.Airlock.Tests.Bundles;

/// <summary>
/// Every single-byte flip and every truncation of a valid bundle either imports exactly the declared
/// content or is rejected with a <see cref="BundleRejectedException"/> and no quarantine left behind.
/// </summary>
public sealed class BundleReaderTamperTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "enclave-bundle-tamper", Guid.NewGuid().ToString("N"));

    public BundleReaderTamperTests() => Directory.CreateDirectory(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Theory]
    [InlineData(TarEntryFormat.Pax)]
    [InlineData(TarEntryFormat.Ustar)]
    [InlineData(TarEntryFormat.Gnu)]
    public void Read_OnEveryFlippedByteAndTruncation_RejectsCleanlyOrImportsExactContent(TarEntryFormat format)
    {
        var archive = new BundleTestArchive(format).Metadata("metadata/root.json", "{}").Target("models/a.bin", 700).Target("b.bin", 3);
        var original = archive.ToArray();
        var data = Path.Combine(_root, "data");
        var reader = new BundleReader(new BundleReaderOptions { FlushToDisk = false });

        // Every other byte for pax (the default writer), every fourth for the others, to keep the suite quick.
        var stride = format == TarEntryFormat.Pax ? 2 : 4;
        for (var i = 0; i < original.Length; i += stride)
        {
            foreach (var tampered in new[] { Flip(original, i), original[..i] })
            {
                try
                {
                    using var stream = new MemoryStream(tampered, writable: false);
                    var contents = reader.Read(stream, _ => archive.Expected, data);
                    foreach (var target in contents.Targets)
                    {
                        Assert.Equal(archive.Expected[target.Name].Sha256, Enclave.Core.Sha256Digest.Compute(File.ReadAllBytes(target.Path)));
                    }

                    Directory.Delete(contents.QuarantineDirectory, recursive: true);
                }
                catch (BundleRejectedException)
                {
                    var quarantine = Path.Combine(data, "quarantine");
                    Assert.True(!Directory.Exists(quarantine) || !Directory.EnumerateFileSystemEntries(quarantine).Any());
                }
            }
        }
    }

    // Found by the bundle fuzz harness (fuzz/): a header byte of 128 or more made the checksum's signed sum throw
    // OverflowException (checked arithmetic) instead of being read, so a ustar name in UTF-8 crashed the import.
    [Theory]
    [InlineData(TarEntryFormat.Ustar)]
    [InlineData(TarEntryFormat.Gnu)]
    public void Read_HeaderWithNonAsciiName_ImportsIt(TarEntryFormat format)
    {
        var archive = new BundleTestArchive(format).Metadata("metadata/root.json", "{}").Target("models/modèle-ü.bin", 10);
        var reader = new BundleReader(new BundleReaderOptions { FlushToDisk = false });

        using var stream = new MemoryStream(archive.ToArray(), writable: false);
        var contents = reader.Read(stream, _ => archive.Expected, Path.Combine(_root, "data"));

        var target = Assert.Single(contents.Targets);
        Assert.Equal("models/modèle-ü.bin", target.Name);
        Directory.Delete(contents.QuarantineDirectory, recursive: true);
    }

    [Fact]
    public void Read_HeaderByteFlippedAbove127_IsRejectedForItsChecksum()
    {
        var archive = new BundleTestArchive(TarEntryFormat.Ustar).Metadata("metadata/root.json", "{}").Target("models/a.bin", 10);
        var tampered = archive.ToArray();
        tampered[1] ^= 0x80; // 'e' of "metadata/root.json" becomes 0xE5

        using var stream = new MemoryStream(tampered, writable: false);
        var e = Assert.Throws<BundleRejectedException>(() => new BundleReader(new BundleReaderOptions { FlushToDisk = false }).Read(stream, _ => archive.Expected, Path.Combine(_root, "data")));

        Assert.Equal(BundleRejection.Malformed, e.Reason);
        Assert.Contains("checksum", e.Detail, StringComparison.Ordinal);
    }

    private static byte[] Flip(byte[] original, int index)
    {
        var copy = (byte[])original.Clone();
        copy[index] ^= 0x5A;
        return copy;
    }
}
