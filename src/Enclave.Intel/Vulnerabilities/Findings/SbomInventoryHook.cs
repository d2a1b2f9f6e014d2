using Enclave.Core.Artifacts;
using Enclave.State.Vulnerabilities;

namespace Enclave.Intel.Vulnerabilities.Findings;

/// <summary>
/// Airlock post-activation hook (one per kind: <c>model</c>, <c>dataset</c>, <c>intel</c>): takes the SBOMs an activated
/// artifact carries into the vulnerability inventory and evaluates them. For <c>intel</c>, registered after
/// <c>VulnerabilityFeedHook</c>: when the bundle brought vulnerability data, the inventory entries its records can change
/// are re-evaluated (<see cref="VulnerabilityFindingsService.EvaluateAfterFeedAsync"/>).
/// </summary>
public sealed class SbomInventoryHook(string kind, VulnerabilityFindingsService findings, IVulnerabilityStore data) : IArtifactActivationHook
{
    /// <inheritdoc/>
    public string Kind { get; } = kind;

    /// <inheritdoc/>
    public async Task OnActivatedAsync(ArtifactActivation activation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(activation);
        var sboms = activation.Files
            .Where(f => VulnerabilityFindingsService.IsSbomFile(activation.Kind, f.RelativePath))
            .Select(f => (f.RelativePath, Path.Combine(activation.Folder, f.RelativePath.Replace('/', Path.DirectorySeparatorChar))))
            .ToList();
        var ids = findings.AddArtifact(activation.Kind, activation.Name, activation.Version, activation.ImportId, sboms, activation.ActivatedBy);
        if (activation.Kind == "intel" && data.HasFeed(activation.ImportId))
        {
            _ = await findings.EvaluateAfterFeedAsync(activation.ImportId, cancellationToken).ConfigureAwait(false);
        }
        else if (ids.Count > 0)
        {
            _ = await findings.EvaluateAsync(ids, cancellationToken).ConfigureAwait(false);
        }
    }
}
