using Enclave.Airlock.Bundles;
using Enclave.Airlock.Scanners;
using Enclave.Airlock.Tuf;

namespace Enclave.Airlock.Import;

/// <summary>Settings of the import pipeline.</summary>
public sealed record AirlockImportOptions
{
    /// <summary>The data directory: <c>enclave.db</c>, <c>quarantine/</c>, <c>blobs/</c>, <c>artifacts/</c>.</summary>
    public required string DataDirectory { get; init; }

    /// <summary>
    /// A directory every replica mounts at the same path (replicas on one PostgreSQL database): <c>blobs/</c>,
    /// <c>artifacts/</c> and each replica's quarantine (<c>replicas/ID/quarantine/</c>) live there instead of in
    /// <see cref="DataDirectory"/>, so that an import read by one replica can be approved on another and a model
    /// activated by one is served by all. Null (the default): everything in the data directory. What the volume must
    /// guarantee is in docs/cluster.md.
    /// </summary>
    public string? SharedDirectory { get; init; }

    /// <summary>The enclave's state opened by the host (a PostgreSQL database); null: <c>enclave.db</c> in <see cref="DataDirectory"/>.</summary>
    public Enclave.State.StateConnectionFactory? State { get; init; }

    /// <summary>
    /// Distinct approvers (none of them the importer) each kind needs before activation. Kinds not listed need
    /// <see cref="DefaultRequiredApprovals"/>. Defaults: model and update 2, intel and dataset 1.
    /// </summary>
    public IReadOnlyDictionary<string, int> RequiredApprovals { get; init; } = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        ["model"] = 2,
        ["update"] = 2,
        ["intel"] = 1,
        ["dataset"] = 1,
    };

    /// <summary>Approvals for a kind missing from <see cref="RequiredApprovals"/>.</summary>
    public int DefaultRequiredApprovals { get; init; } = 2;

    /// <summary>Known-bad content digests, refused by the scan step.</summary>
    public DigestDenyListScanner DenyList { get; init; } = new([]);

    /// <summary>Bounds for the TUF metadata.</summary>
    public TufUpdaterOptions Tuf { get; init; } = TufUpdaterOptions.Default;

    /// <summary>Bounds for the archive.</summary>
    public BundleReaderOptions Bundle { get; init; } = BundleReaderOptions.Default;

    /// <summary>Bounds for the content scanners.</summary>
    public ContentScanOptions Scan { get; init; } = ContentScanOptions.Default;

    /// <summary>Largest SBOM or provenance attestation parsed.</summary>
    public long MaxAttestationBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>Refuse bundles without an SBOM attestation.</summary>
    public bool RequireSbom { get; init; }

    /// <summary>Refuse bundles without a provenance attestation.</summary>
    public bool RequireProvenance { get; init; }

    /// <summary>Largest <c>model.onnx</c> header walked to detect the task (protobuf fields, not bytes).</summary>
    public long MaxOnnxFields { get; init; } = 10_000_000;

    /// <summary>Called at each named step; tests throw from it to inject a failure there (never set in production).</summary>
    internal Action<string>? FaultPoint { get; init; }

    /// <summary>The approvals <paramref name="kind"/> needs.</summary>
    public int ApprovalsFor(string kind) => RequiredApprovals.TryGetValue(kind, out var n) ? n : DefaultRequiredApprovals;

    /// <summary>Every problem with these settings (empty when valid).</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(DataDirectory))
        {
            problems.Add("DataDirectory is required");
        }

        foreach (var (kind, count) in RequiredApprovals)
        {
            if (count < 1 || count > 16)
            {
                problems.Add($"RequiredApprovals[{kind}] is {count}; it must be 1 to 16 (activation without approval is not supported)");
            }
        }

        if (DefaultRequiredApprovals is < 1 or > 16)
        {
            problems.Add($"DefaultRequiredApprovals is {DefaultRequiredApprovals}; it must be 1 to 16");
        }

        if (SharedDirectory is not null && !Path.IsPathFullyQualified(SharedDirectory))
        {
            problems.Add($"SharedDirectory '{SharedDirectory}' must be an absolute path (every replica mounts it at the same path; the registry stores paths inside it)");
        }

        if (MaxAttestationBytes <= 0)
        {
            problems.Add("MaxAttestationBytes must be positive");
        }

        return problems;
    }
}
