using Enclave.Airlock.Import;
using Enclave.Airlock.Tuf;

namespace Enclave.Server.Hosting;

/// <summary>
/// The server's airlock policy (configuration section <c>Airlock</c>): how many distinct approvers each kind needs, and
/// whether imports must carry ML-DSA-65 signatures besides the classical ones, and whether attestations are required.
/// </summary>
public sealed record AirlockSettings
{
    /// <summary>Approvals per kind, overriding the defaults (model 2, update 2, intel 1, dataset 1); 1 to 16 each.</summary>
    public Dictionary<string, int> RequiredApprovals { get; init; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Every role's metadata must also be signed with ML-DSA-65 (a post-quantum signature) by a key the role lists.
    /// Turn on only after pinning a root made with <c>enclave trust init --post-quantum</c>.
    /// </summary>
    public bool RequirePostQuantumSignature { get; init; }

    /// <summary>Refuse bundles without an SBOM attestation.</summary>
    public bool RequireSbom { get; init; }

    /// <summary>Refuse bundles without a provenance attestation.</summary>
    public bool RequireProvenance { get; init; }

    /// <summary>The import pipeline's options for <paramref name="dataDirectory"/> under these settings.</summary>
    public AirlockImportOptions ToImportOptions(string dataDirectory)
    {
        var defaults = new AirlockImportOptions { DataDirectory = dataDirectory };
        var approvals = new Dictionary<string, int>(defaults.RequiredApprovals, StringComparer.Ordinal);
        foreach (var (kind, count) in RequiredApprovals)
        {
            approvals[kind] = count;
        }

        return defaults with
        {
            RequiredApprovals = approvals,
            RequireSbom = RequireSbom,
            RequireProvenance = RequireProvenance,
            Tuf = TufUpdaterOptions.Default with { RequirePostQuantumSignature = RequirePostQuantumSignature },
        };
    }

    /// <summary>Every problem with these settings (empty when valid).</summary>
    public IReadOnlyList<string> Validate() =>
        [.. ToImportOptions("validation").Validate().Select(p => "Airlock: " + p)];
}
