namespace Enclave.State.Airlock;

/// <summary>
/// The airlock's durable state: the TUF trusted state and its pins, imports with their targets and approvals,
/// activated artifacts, and the journal of promotions in flight. Writes that must be atomic together go through one
/// <see cref="IAirlockTransaction"/>; single-row writes and reads are one statement each. Lists and maps that the
/// airlock owns (signer key IDs, TUF versions, reasons, created blobs) are kept as the JSON text it gives.
/// </summary>
public interface IAirlockStore
{
    /// <summary>Starts a write transaction.</summary>
    IAirlockTransaction Begin();

    /// <summary>The persisted trusted metadata files.</summary>
    IReadOnlyList<TrustFileRow> TrustFiles();

    /// <summary>The trusted version of every role.</summary>
    IReadOnlyDictionary<string, int> TrustVersions();

    /// <summary>The most recent pin, or null when no root was ever pinned.</summary>
    TrustPinRow? CurrentPin();

    /// <summary>The import of this artifact version that is not rejected (verified or activated), or null.</summary>
    (string Id, string State)? FindLiveImport(string kind, string name, string version);

    /// <summary>Imports, newest first, optionally of one ID, one state and one kind; with their activated folder.</summary>
    IReadOnlyList<ImportRow> Imports(string? id = null, string? state = null, string? kind = null);

    /// <summary>The targets of an import, by path.</summary>
    IReadOnlyList<ImportTargetRow> Targets(string importId);

    /// <summary>The approvers of an import, in the order they approved.</summary>
    IReadOnlyList<string> Approvers(string importId);

    /// <summary>The quarantine folder of an import, or null.</summary>
    string? Quarantine(string importId);

    /// <summary>Whether an artifact was activated from this import.</summary>
    bool IsActivated(string importId);

    /// <summary>The SHA-256 (hex) of every target of every activated artifact.</summary>
    IReadOnlySet<string> ActivatedTargetDigests();

    /// <summary>The promotions in flight (started, neither committed nor undone).</summary>
    IReadOnlyList<PromotionRow> Promotions();

    /// <summary>Records an approval (approving twice counts once).</summary>
    void AddApproval(string importId, string approver, DateTimeOffset approved);

    /// <summary>Marks an import rejected with its reasons, dropping its quarantine.</summary>
    void MarkRejected(string importId, string actor, string reasonsJson, DateTimeOffset decided);

    /// <summary>Journals a promotion before its first file is written.</summary>
    void StartPromotion(PromotionRow promotion);

    /// <summary>Removes a promotion from the journal.</summary>
    void EndPromotion(string importId);
}

/// <summary>Writes that commit together or not at all. Disposing without <see cref="Commit"/> rolls back.</summary>
public interface IAirlockTransaction : IDisposable
{
    /// <summary>Replaces the whole trusted state with <paramref name="files"/>.</summary>
    void ReplaceTrust(IEnumerable<TrustFileRow> files, DateTimeOffset committed);

    /// <summary>Records a pin of a root.</summary>
    void RecordPin(TrustPinRow pin);

    /// <summary>Records a verified import and its targets.</summary>
    void InsertImport(ImportRow import, IEnumerable<ImportTargetRow> targets);

    /// <summary>Records an approval (approving twice counts once).</summary>
    void AddApproval(string importId, string approver, DateTimeOffset approved);

    /// <summary>Activates a verified import: its state, the artifact row, and the end of its promotion journal row.</summary>
    void Activate(ArtifactRow artifact, string actor);

    /// <summary>Commits.</summary>
    void Commit();
}

/// <summary>A trusted metadata file as it verified.</summary>
public sealed record TrustFileRow(string File, string Role, int Version, byte[] Bytes);

/// <summary>A root pinned out of band.</summary>
public sealed record TrustPinRow(string RootSha256, int RootVersion, string Actor, bool Forced, DateTimeOffset Pinned);

/// <summary>An import. <see cref="Folder"/> is the activated artifact's folder (null until activated).</summary>
public sealed record ImportRow
{
    public required string Id { get; init; }
    public required string Kind { get; init; }
    public required string Name { get; init; }
    public required string Version { get; init; }
    public required string Label { get; init; }
    public string? Task { get; init; }

    /// <summary><c>verified</c>, <c>rejected</c> or <c>activated</c>.</summary>
    public required string State { get; init; }
    public required string Importer { get; init; }
    public required string SignerKeyIdsJson { get; init; }

    /// <summary>Every TUF role that verified the import with its version, threshold and verified key IDs (a JSON array); null for imports made before schema version 13.</summary>
    public string? RoleSignersJson { get; init; }
    public string? SbomSha256 { get; init; }
    public string? ProvenanceSha256 { get; init; }
    public required string ManifestSha256 { get; init; }
    public required long ArchiveBytes { get; init; }
    public required string TufVersionsJson { get; init; }
    public string? Quarantine { get; init; }
    public required string ReasonsJson { get; init; }
    public required DateTimeOffset Received { get; init; }
    public required DateTimeOffset Verified { get; init; }
    public DateTimeOffset? Decided { get; init; }
    public string? DecidedBy { get; init; }
    public string? Folder { get; init; }
}

/// <summary>A target of an import: where it is quarantined (relative to the import's quarantine).</summary>
public sealed record ImportTargetRow(string Path, string Type, string Sha256, long Length, string Quarantined);

/// <summary>An activated artifact.</summary>
public sealed record ArtifactRow(string Kind, string Name, string Version, string Label, string? Task, string ImportId, string Folder, string ManifestSha256, DateTimeOffset Activated);

/// <summary>A promotion in flight: the folder it makes, its staging folder, and the blobs it adds (JSON list of hex digests).</summary>
public sealed record PromotionRow(string ImportId, string Folder, string Staging, string CreatedBlobsJson, DateTimeOffset Started);
