namespace Enclave.Core.Artifacts;

/// <summary>
/// A check the airlock runs on every import after it is verified (TUF, hashes, scanners) and before anything of it is
/// recorded as verified: a refusal rejects the import as any other rejection does (quarantine removed, trusted state
/// unchanged, <c>import.rejected</c> with the refusal's reason). It lives here so that the assemblies that implement
/// it (Intel: an artifact or file digest listed by a live indicator) and the airlock need not reference each other.
/// </summary>
public interface IImportAdmissionCheck
{
    /// <summary>Null to admit; a refusal to reject the import. Should not throw for a candidate it merely dislikes.</summary>
    ValueTask<ImportAdmissionRefusal?> CheckAsync(ImportCandidate candidate, CancellationToken cancellationToken);
}

/// <summary>A verified import as an admission check sees it, before it is recorded.</summary>
public sealed record ImportCandidate
{
    /// <summary>The airlock import (<c>imp_…</c>).</summary>
    public required string ImportId { get; init; }

    public required string Kind { get; init; }

    public required string Name { get; init; }

    public required string Version { get; init; }

    /// <summary>The artifact's digest: the SHA-256 of its manifest.</summary>
    public required Sha256Digest ArtifactDigest { get; init; }

    /// <summary>Its files (path inside the artifact, SHA-256, length).</summary>
    public required IReadOnlyList<ArtifactFile> Files { get; init; }

    /// <summary>The classification label every target carries, as a marking (checked against the enclave's scheme).</summary>
    public string Label { get; init; } = string.Empty;

    /// <summary>
    /// Opens one of <see cref="Files"/> by its path inside the artifact: the verified copy in quarantine (its length and
    /// digest already checked); null when the airlock cannot offer the files.
    /// </summary>
    public Func<string, Stream>? OpenFile { get; init; }

    /// <summary>Who imports it.</summary>
    public required string Importer { get; init; }

    /// <summary>The ledger index of the import's <c>import.received</c> entry (evidence for what the check raises).</summary>
    public required long ReceivedIndex { get; init; }
}

/// <summary>
/// Why an import is refused: a short machine reason (kebab case: <c>intel</c>, a digest listed by threat intelligence;
/// <c>dataset</c>, a dataset whose documents cannot be indexed), a sentence, and findings.
/// </summary>
public sealed record ImportAdmissionRefusal(string Reason, string Detail, IReadOnlyList<string> Findings);
