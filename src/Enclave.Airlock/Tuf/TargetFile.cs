using Enclave.Core;

namespace Enclave.Airlock.Tuf;

/// <summary>
/// A target file as listed by verified targets metadata: what the streaming importer must check a file against.
/// </summary>
public sealed record TargetFile
{
    /// <summary>Target path, as listed.</summary>
    public required string Path { get; init; }

    /// <summary>Exact length in bytes.</summary>
    public required long Length { get; init; }

    /// <summary>Hex digests by algorithm name (at least one).</summary>
    public required IReadOnlyDictionary<string, string> Hashes { get; init; }

    /// <summary>The <c>custom</c> object as canonical JSON, or null.</summary>
    public string? CustomJson { get; init; }

    /// <summary>The role whose metadata listed this target.</summary>
    public string Role { get; init; } = "targets";

    /// <summary>
    /// The roles the lookup trusted on its way to <see cref="Role"/>, from top-level <c>targets</c> down to
    /// <see cref="Role"/> itself (set by <see cref="Updater.FindTarget"/>; empty on a target only parsed).
    /// </summary>
    public IReadOnlyList<string> DelegationChain { get; init; } = [];

    /// <summary>The SHA-256 digest, when listed.</summary>
    public Sha256Digest? Sha256 =>
        Hashes.TryGetValue("sha256", out var hex) && Sha256Digest.TryParseHex(hex, out var digest) ? digest : null;
}
