using Enclave.Core;

namespace Enclave.Airlock.Bundles;

/// <summary>A target the verified TUF targets metadata promises: its exact length and SHA-256.</summary>
public sealed record ExpectedEntry
{
    /// <summary>Length in bytes.</summary>
    public required long Length { get; init; }

    /// <summary>SHA-256 of the content.</summary>
    public required Sha256Digest Sha256 { get; init; }
}
