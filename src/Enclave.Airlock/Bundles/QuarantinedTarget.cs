using Enclave.Core;

namespace Enclave.Airlock.Bundles;

/// <summary>A target that was streamed into quarantine with its length and hash checked.</summary>
public sealed record QuarantinedTarget
{
    /// <summary>The entry name in the bundle and in the targets metadata.</summary>
    public required string Name { get; init; }

    /// <summary>Full path of the file inside the quarantine directory.</summary>
    public required string Path { get; init; }

    /// <summary>Length in bytes (equal to the expected length).</summary>
    public required long Length { get; init; }

    /// <summary>SHA-256 (equal to the expected digest).</summary>
    public required Sha256Digest Sha256 { get; init; }
}
