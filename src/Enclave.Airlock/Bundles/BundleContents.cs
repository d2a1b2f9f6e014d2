namespace Enclave.Airlock.Bundles;

/// <summary>
/// What a bundle held: its metadata files in memory and its targets in a fresh quarantine directory.
/// The caller owns the quarantine directory: it promotes the targets or deletes it.
/// </summary>
public sealed record BundleContents
{
    /// <summary>The fresh directory under the data directory that holds the targets.</summary>
    public required string QuarantineDirectory { get; init; }

    /// <summary>Metadata entries by entry name (e.g. <c>metadata/root.json</c>).</summary>
    public required IReadOnlyDictionary<string, ReadOnlyMemory<byte>> Metadata { get; init; }

    /// <summary>Targets in archive order.</summary>
    public required IReadOnlyList<QuarantinedTarget> Targets { get; init; }

    /// <summary>Bytes read from the archive, headers and padding included.</summary>
    public required long ArchiveBytes { get; init; }
}
