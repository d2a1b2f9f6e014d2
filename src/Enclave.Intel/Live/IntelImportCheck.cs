using System.Globalization;
using Enclave.Core.Artifacts;
using Enclave.Intel.Alerts;

namespace Enclave.Intel.Live;

/// <summary>
/// The airlock's admission check for threat intelligence: an import whose artifact digest (its manifest's SHA-256) or
/// any file's SHA-256 matches a live indicator (<c>file:hashes.'SHA-256'</c>, <c>x-enclave-artifact:digest</c>, and for
/// models <c>x-enclave-model:digest</c>) is refused with reason <c>intel</c>; each hit raises an alert naming the
/// indicator, the digest and the import's <c>import.received</c> entry.
/// </summary>
public sealed class IntelImportCheck(LiveIndicators live, AlertService alerts) : IImportAdmissionCheck
{
    /// <summary>Most hits named in one refusal (all raise alerts).</summary>
    public const int MaxFindings = 20;

    /// <inheritdoc/>
    public async ValueTask<ImportAdmissionRefusal?> CheckAsync(ImportCandidate candidate, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        if (live.IsEmpty)
        {
            return null;
        }

        var isModel = string.Equals(candidate.Kind, "model", StringComparison.Ordinal);
        var found = new List<(IndicatorHit Hit, string What)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        void Look(string digest, string what)
        {
            foreach (var (property, value) in LedgerObservations.Lookups(LedgerObservations.Category.Digest, digest, isModel))
            {
                foreach (var hit in live.Match(property, value))
                {
                    if (seen.Add(hit.IndicatorId + "|" + what))
                    {
                        found.Add((hit, what));
                    }
                }
            }
        }

        Look(candidate.ArtifactDigest.ToHex(), "artifact digest " + candidate.ArtifactDigest.ToHex());
        foreach (var file in candidate.Files)
        {
            Look(file.Sha256.ToHex(), $"file {file.RelativePath} sha256 {file.Sha256.ToHex()}");
        }

        if (found.Count == 0)
        {
            return null;
        }

        foreach (var (hit, what) in found)
        {
            await alerts.RaiseAsync(
                new AlertRequest
                {
                    Kind = AlertKind.Intel,
                    Severity = AlertSeverity.High,
                    Title = Clip($"import of {candidate.Kind} {candidate.Name} {candidate.Version} matched indicator {hit.Name ?? hit.IndicatorId}; rejected", AlertService.MaxTitleLength),
                    Subject = "import:" + candidate.ImportId,
                    Evidence = new AlertEvidence
                    {
                        Summary = Clip($"The {what} of import {candidate.ImportId} matches live indicator {hit.IndicatorId} (from import {hit.ImportId}); the import was rejected with reason intel.", AlertService.MaxTextLength),
                        LedgerIndices = [candidate.ReceivedIndex],
                        Facts = new Dictionary<string, string>(StringComparer.Ordinal)
                        {
                            ["indicator"] = hit.IndicatorId,
                            ["indicatorImport"] = hit.ImportId,
                            ["matched"] = Clip(what, AlertService.MaxFactLength),
                            ["importer"] = candidate.Importer,
                        },
                    },
                    DeduplicationKey = Clip($"intel:{hit.IndicatorId}:{candidate.ReceivedIndex.ToString(CultureInfo.InvariantCulture)}:{what}", AlertService.MaxFactLength),
                },
                cancellationToken).ConfigureAwait(false);
        }

        var findings = found.Take(MaxFindings).Select(f => $"{f.What} matches indicator {f.Hit.IndicatorId}{(f.Hit.Name is { } n ? $" ('{n}')" : string.Empty)}").ToList();
        return new ImportAdmissionRefusal(
            "intel",
            $"{candidate.Kind} {candidate.Name} {candidate.Version}: {found.Count} digest match(es) with live threat-intelligence indicators ({findings[0]}); nothing was imported. If the indicator is wrong, revoke it in a newer intel bundle, then import again",
            findings);
    }

    private static string Clip(string s, int max) => AlertText.Clip(s, max);
}
