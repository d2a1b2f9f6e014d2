namespace Enclave.Intel.Vulnerabilities.Osv;

/// <summary>Bounds on untrusted OSV data.</summary>
public sealed record OsvParserOptions
{
    public static OsvParserOptions Default { get; } = new();

    /// <summary>The largest single record (osv.dev's largest Debian/Linux records are a few MiB).</summary>
    public long MaxRecordBytes { get; init; } = 16L * 1024 * 1024;

    public int MaxDepth { get; init; } = 64;

    public int MaxAffected { get; init; } = 10_000;

    public int MaxRangesPerAffected { get; init; } = 1_000;

    public int MaxEventsPerRange { get; init; } = 10_000;

    public int MaxVersionsPerAffected { get; init; } = 200_000;

    public int MaxAliases { get; init; } = 1_000;

    /// <summary>The most entries one zip may hold (osv.dev's largest ecosystem zips hold a few hundred thousand).</summary>
    public int MaxArchiveEntries { get; init; } = 2_000_000;

    /// <summary>The most uncompressed bytes one zip may expand to.</summary>
    public long MaxArchiveBytes { get; init; } = 16L * 1024 * 1024 * 1024;

    /// <summary>The most JSON files read from one directory.</summary>
    public int MaxDirectoryFiles { get; init; } = 2_000_000;
}
