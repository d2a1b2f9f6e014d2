using Enclave.Intel.Vulnerabilities.Cvss;
using Enclave.Intel.Vulnerabilities.Kev;
using Enclave.Intel.Vulnerabilities.Osv;
using Enclave.Intel.Vulnerabilities.Vex;

namespace Enclave.Intel.Vulnerabilities.Matching;

/// <summary>
/// Adds severity, KEV flag and VEX status to findings. KEV is looked up by the advisory's id, aliases and related ids
/// (Go's vulndb lists the CVE of a multi-vendor issue such as HTTP/2 Rapid Reset under <c>related</c>).
/// </summary>
public static class FindingAssessor
{
    public static IReadOnlyList<AssessedFinding> Assess(IEnumerable<VulnerabilityFinding> findings, KevCatalog? kev, VexIndex? vex)
    {
        ArgumentNullException.ThrowIfNull(findings);
        var result = new List<AssessedFinding>();
        var scores = new Dictionary<string, CvssScore?>(StringComparer.Ordinal); // one score per distinct vector
        foreach (var finding in findings)
        {
            var advisory = finding.Advisory;
            var score = Severity(advisory, scores);

            var ids = new[] { advisory.Id }.Concat(advisory.Aliases).ToList();
            var statement = vex?.Find(finding.Component, finding.Version, ids);
            result.Add(new AssessedFinding
            {
                Finding = finding,
                Severity = score,
                Kev = kev is null ? null : ids.Concat(advisory.Related).Select(kev.Find).FirstOrDefault(e => e is not null),
                Status = statement?.Status ?? VexStatus.Affected,
                Vex = statement,
            });
        }

        return result;
    }

    /// <summary>The score of the newest scorable CVSS vector of the advisory (record-level, then per-package).</summary>
    public static CvssScore? Severity(OsvRecord advisory) => Severity(advisory, null);

    private static CvssScore? Severity(OsvRecord advisory, Dictionary<string, CvssScore?>? cache)
    {
        ArgumentNullException.ThrowIfNull(advisory);
        var all = advisory.Severity.Concat(advisory.Affected.SelectMany(a => a.Severity)).ToList();
        foreach (var type in new[] { "CVSS_V4", "CVSS_V3" })
        {
            foreach (var severity in all.Where(s => s.Type == type))
            {
                CvssScore? score;
                if (cache is null || !cache.TryGetValue(severity.Score, out score))
                {
                    score = CvssCalculator.TryScore(severity.Score);
                    cache?.TryAdd(severity.Score, score);
                }

                if (score is not null)
                {
                    return score;
                }
            }
        }

        return null;
    }
}
