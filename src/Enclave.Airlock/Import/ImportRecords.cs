using System.Text.Json.Serialization;
using Enclave.Core;

namespace Enclave.Airlock.Import;

/// <summary>One import that passed verification: what it carries, who signed and imported it, and where it stands.</summary>
public sealed record ImportRecord
{
    /// <summary>Import ID, e.g. <c>imp_3f9a…</c>; the ledger subject is <c>import:ID</c>.</summary>
    public required string Id { get; init; }

    /// <summary><c>model</c>, <c>update</c>, <c>intel</c> or <c>dataset</c>.</summary>
    public required string Kind { get; init; }

    /// <summary>Artifact name.</summary>
    public required string Name { get; init; }

    /// <summary>Artifact version.</summary>
    public required string Version { get; init; }

    /// <summary>Classification label every target carries.</summary>
    public required string Label { get; init; }

    /// <summary><c>chat</c> or <c>embedding</c> for models; null for other kinds.</summary>
    public string? Task { get; init; }

    /// <summary>Current state.</summary>
    public required ImportState State { get; init; }

    /// <summary>Principal that imported the bundle.</summary>
    public required string Importer { get; init; }

    /// <summary>Every target (content and attestations) with its digest.</summary>
    public required IReadOnlyList<ImportedTarget> Targets { get; init; }

    /// <summary>Key IDs whose signatures verified on the role that lists the artifact's targets.</summary>
    public required IReadOnlyList<string> SignerKeyIds { get; init; }

    /// <summary>
    /// Every TUF role that took part in verifying the import (root, timestamp, snapshot, targets, then each delegated role
    /// on the path to its files), with its version, threshold and the keys whose signatures verified; null when the
    /// import was made before this was recorded (not known, never guessed).
    /// </summary>
    public IReadOnlyList<ImportRoleSigners>? RoleSigners { get; init; }

    /// <summary>SHA-256 of the SBOM target, if the bundle carries one.</summary>
    public Sha256Digest? SbomSha256 { get; init; }

    /// <summary>SHA-256 of the provenance target, if the bundle carries one.</summary>
    public Sha256Digest? ProvenanceSha256 { get; init; }

    /// <summary>SHA-256 over the sorted lines <c>PATH SHA256 LENGTH\n</c> of every target: the artifact's identity.</summary>
    public required Sha256Digest ManifestSha256 { get; init; }

    /// <summary>Bytes read from the bundle archive.</summary>
    public required long ArchiveBytes { get; init; }

    /// <summary>Trusted TUF versions by role after this import verified.</summary>
    public required IReadOnlyDictionary<string, int> TufVersions { get; init; }

    /// <summary>Distinct approvers so far.</summary>
    public required IReadOnlyList<string> Approvers { get; init; }

    /// <summary>Distinct approvers the kind requires.</summary>
    public required int RequiredApprovals { get; init; }

    /// <summary>Why it was rejected (by an approver or by recovery); empty otherwise.</summary>
    public required IReadOnlyList<string> Reasons { get; init; }

    /// <summary>When the bundle was received.</summary>
    public required DateTimeOffset Received { get; init; }

    /// <summary>When it verified.</summary>
    public required DateTimeOffset Verified { get; init; }

    /// <summary>When it was activated or rejected.</summary>
    public DateTimeOffset? Decided { get; init; }

    /// <summary>Who activated (the last approver) or rejected it.</summary>
    public string? DecidedBy { get; init; }

    /// <summary>The materialised folder once activated (<c>DATA/artifacts/KIND/NAME/VERSION</c>).</summary>
    public string? Folder { get; init; }
}

/// <summary>One TUF role that took part in verifying an import, as the verifier trusted it.</summary>
public sealed record ImportRoleSigners
{
    /// <summary><c>root</c>, <c>timestamp</c>, <c>snapshot</c>, <c>targets</c> or a delegated role's name.</summary>
    [JsonPropertyName("role")]
    public required string Role { get; init; }

    /// <summary>The version of the role's metadata that was trusted (for root: the root in force).</summary>
    [JsonPropertyName("version")]
    public required int Version { get; init; }

    /// <summary>How many distinct authorised keys had to sign it.</summary>
    [JsonPropertyName("threshold")]
    public required int Threshold { get; init; }

    /// <summary>
    /// The authorised key IDs whose signatures verified (one per distinct key, ordinal order); a signature by a key the
    /// role does not authorise, or one that does not verify, is not here.
    /// </summary>
    [JsonPropertyName("key_ids")]
    public required IReadOnlyList<string> KeyIds { get; init; }
}

/// <summary>One target file of an artifact.</summary>
public sealed record ImportedTarget
{
    /// <summary>TUF target path, <c>KIND/NAME/VERSION/FILE</c>.</summary>
    public required string Path { get; init; }

    /// <summary>Path inside the artifact folder (the target path without <c>KIND/NAME/VERSION/</c>).</summary>
    public required string RelativePath { get; init; }

    /// <summary><c>content</c>, <c>sbom</c> or <c>provenance</c>.</summary>
    public required string Type { get; init; }

    /// <summary>SHA-256 of the file (its blob address once activated).</summary>
    public required Sha256Digest Sha256 { get; init; }

    /// <summary>Length in bytes.</summary>
    public required long Length { get; init; }
}

/// <summary>An activated artifact: in the registry, its files in the blob store and its folder materialised.</summary>
public sealed record ActivatedArtifact
{
    /// <summary>Kind.</summary>
    public required string Kind { get; init; }

    /// <summary>Name.</summary>
    public required string Name { get; init; }

    /// <summary>Version.</summary>
    public required string Version { get; init; }

    /// <summary>Classification label.</summary>
    public required string Label { get; init; }

    /// <summary><c>chat</c> or <c>embedding</c> for models.</summary>
    public string? Task { get; init; }

    /// <summary>The import it came from.</summary>
    public required string ImportId { get; init; }

    /// <summary>Folder of read-only hard links to the blobs (<c>DATA/artifacts/KIND/NAME/VERSION</c>).</summary>
    public required string Folder { get; init; }

    /// <summary>Artifact identity (see <see cref="ImportRecord.ManifestSha256"/>).</summary>
    public required Sha256Digest ManifestSha256 { get; init; }

    /// <summary>Files, with their blob digests.</summary>
    public required IReadOnlyList<ImportedTarget> Files { get; init; }

    /// <summary>Signer key IDs.</summary>
    public required IReadOnlyList<string> SignerKeyIds { get; init; }

    /// <summary>SBOM digest, if any.</summary>
    public Sha256Digest? SbomSha256 { get; init; }

    /// <summary>Provenance digest, if any.</summary>
    public Sha256Digest? ProvenanceSha256 { get; init; }

    /// <summary>When it was activated.</summary>
    public required DateTimeOffset Activated { get; init; }
}

/// <summary>An activated model, as the server loads it.</summary>
public sealed record ActivatedModel
{
    /// <summary>Model name.</summary>
    public required string Name { get; init; }

    /// <summary>Model version.</summary>
    public required string Version { get; init; }

    /// <summary>Classification label.</summary>
    public required string Label { get; init; }

    /// <summary><c>chat</c> or <c>embedding</c>.</summary>
    public required string Task { get; init; }

    /// <summary>The model folder (model.onnx, tokenizer, config) to open.</summary>
    public required string Folder { get; init; }

    /// <summary>Artifact identity.</summary>
    public required Sha256Digest ManifestSha256 { get; init; }

    /// <summary>The import it came from.</summary>
    public required string ImportId { get; init; }
}

/// <summary>What <see cref="AirlockImporter.RecoverAsync"/> cleaned up after a crash.</summary>
public sealed record ImportRecoveryReport
{
    /// <summary>Quarantine directories removed (interrupted reads, or verified imports whose commit never happened).</summary>
    public required IReadOnlyList<string> QuarantinesRemoved { get; init; }

    /// <summary>Promotions that had started but not committed, undone.</summary>
    public required IReadOnlyList<string> PromotionsUndone { get; init; }

    /// <summary>Temporary blob files removed.</summary>
    public required int TemporaryBlobsRemoved { get; init; }

    /// <summary>Imports pending approval whose quarantine had disappeared, now rejected.</summary>
    public required IReadOnlyList<string> ImportsLost { get; init; }

    /// <summary>What recovery did, in one line for the operator; null when there was nothing to do.</summary>
    public string? Describe()
    {
        var parts = new List<string>();
        if (QuarantinesRemoved.Count > 0)
        {
            parts.Add($"{QuarantinesRemoved.Count} interrupted quarantine(s) removed");
        }

        if (PromotionsUndone.Count > 0)
        {
            parts.Add($"unfinished activation(s) undone: {string.Join(", ", PromotionsUndone)} (approve again to activate)");
        }

        if (TemporaryBlobsRemoved > 0)
        {
            parts.Add($"{TemporaryBlobsRemoved} temporary blob file(s) removed");
        }

        if (ImportsLost.Count > 0)
        {
            parts.Add($"pending import(s) rejected because their quarantine vanished: {string.Join(", ", ImportsLost)}");
        }

        return parts.Count == 0 ? null : "airlock recovery: " + string.Join("; ", parts);
    }
}

/// <summary>The result of pinning a root.</summary>
public sealed record TrustPinResult
{
    /// <summary>The pin now in force.</summary>
    public required TrustPin Pin { get; init; }

    /// <summary>False when the same root was already pinned (nothing changed).</summary>
    public required bool Changed { get; init; }

    /// <summary>The root it replaced, when forced.</summary>
    public Sha256Digest? Replaced { get; init; }
}
