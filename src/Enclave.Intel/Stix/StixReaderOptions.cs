namespace Enclave.Intel.Stix;

/// <summary>Bounds for reading an untrusted STIX bundle. Every loop and allocation the bundle drives stops at one of these.</summary>
public sealed record StixReaderOptions
{
    /// <summary>Largest bundle accepted, in bytes (default 64 MiB).</summary>
    public long MaxBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Most top-level objects in a bundle (default 2,000,000).</summary>
    public int MaxObjects { get; init; } = 2_000_000;

    /// <summary>Deepest JSON nesting (default 64).</summary>
    public int MaxDepth { get; init; } = 64;

    /// <summary>Longest JSON string, in UTF-8 bytes (default 1 MiB; patterns are strings too).</summary>
    public int MaxStringLength { get; init; } = 1024 * 1024;

    /// <summary>The defaults.</summary>
    public static StixReaderOptions Default { get; } = new();
}
