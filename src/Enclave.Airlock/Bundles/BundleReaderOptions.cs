namespace Enclave.Airlock.Bundles;

/// <summary>Bounds for reading an untrusted bundle archive.</summary>
public sealed record BundleReaderOptions
{
    /// <summary>Entries (files and directories, not counting pax or long-name headers) allowed in one archive.</summary>
    public int MaxEntries { get; init; } = 10_000;

    /// <summary>Size of one metadata entry, held in memory.</summary>
    public int MaxMetadataBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>Total size of all metadata entries together.</summary>
    public long MaxTotalMetadataBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Size of one pax extended header or GNU long-name entry.</summary>
    public int MaxPaxHeaderBytes { get; init; } = 64 * 1024;

    /// <summary>Length of an entry name in UTF-8 bytes.</summary>
    public int MaxNameBytes { get; init; } = 1024;

    /// <summary>Bytes after the end-of-archive marker (tar pads to its record size with zeros).</summary>
    public int MaxTrailingBytes { get; init; } = 1024 * 1024;

    /// <summary>Number of parts of a split bundle (<c>FILE.000</c>, <c>FILE.001</c>...).</summary>
    public int MaxParts { get; init; } = 1000;

    /// <summary>
    /// Entries under this folder whose name ends in <c>.json</c> are metadata: returned in memory, not
    /// checked against the expected entries (they are what the caller verifies to produce them).
    /// </summary>
    public string MetadataFolder { get; init; } = "metadata/";

    /// <summary>
    /// The metadata entry that ends the metadata (the bundle's selector, written last by every writer): any metadata
    /// entry after it is refused as <see cref="BundleRejection.UndeclaredEntry"/>. Null: no such entry.
    /// </summary>
    public string? LastMetadataEntry { get; init; } = "metadata/bundle.json";

    /// <summary>Whether targets and the completion marker are flushed to disk (off only in tests that import thousands of times).</summary>
    internal bool FlushToDisk { get; init; } = true;

    /// <summary>
    /// Whether large targets are written with <c>O_DIRECT</c> where the platform and filesystem allow it (Linux);
    /// off only in tests of the ordinary path, which is what a filesystem refusing <c>O_DIRECT</c> gets.
    /// </summary>
    internal bool DirectWrites { get; init; } = true;

    /// <summary>The default bounds.</summary>
    public static BundleReaderOptions Default { get; } = new();
}
