using Enclave.Intel.Vulnerabilities.Osv;
using Enclave.Intel.Vulnerabilities.Versions;

namespace Enclave.Intel.Vulnerabilities.Matching;

/// <summary>
/// OSV's published evaluation of a version against an <c>affected[]</c> entry: the version is affected when it is listed
/// in <c>versions</c>, or when some SEMVER/ECOSYSTEM range affects it. Within a range the events are sorted by version
/// (<c>introduced: "0"</c> first); walking them, <c>introduced ≤ v</c> sets affected, <c>fixed ≤ v</c> clears it,
/// <c>last_affected &lt; v</c> clears it; when the range has <c>limit</c> events, v must be below one of them.
/// A range Enclave cannot order (unknown ecosystem, version or event the ecosystem does not define, unknown range
/// type) makes the answer unknown unless another range says affected. GIT ranges compare commits, not versions:
/// they are unknown when the entry has nothing else to decide with (no SEMVER/ECOSYSTEM range, no versions list).
/// An empty <c>fixed</c> (seen in real GHSA data) means "no fix" and is ignored.
/// </summary>
public static class OsvEvaluator
{
    public static AffectedEvaluation Evaluate(OsvAffected affected, string ecosystemBase, string version)
    {
        ArgumentNullException.ThrowIfNull(affected);
        ArgumentNullException.ThrowIfNull(version);
        if (IsListed(affected.Versions, ecosystemBase, version))
        {
            return new AffectedEvaluation(AffectedState.Affected, null, FixedVersions(affected));
        }

        string? unknown = null;
        var decidable = affected.Versions.Count > 0;
        var git = false;
        foreach (var range in affected.Ranges)
        {
            VersionScheme? scheme;
            switch (range.Type)
            {
                case OsvRangeType.Git:
                    git = true;
                    continue;
                case OsvRangeType.Other:
                    unknown ??= $"range type \"{range.TypeName}\" is not one Enclave evaluates";
                    continue;
                case OsvRangeType.Semver:
                    scheme = ecosystemBase == "Go" ? SemVerScheme.Go : SemVerScheme.Strict;
                    break;
                default:
                    scheme = Ecosystems.SchemeFor(ecosystemBase);
                    if (scheme is null)
                    {
                        unknown ??= $"Enclave has no version ordering for ecosystem \"{ecosystemBase}\"";
                        continue;
                    }

                    break;
            }

            decidable = true;
            var result = EvaluateRange(range, scheme, version);
            if (result.State == AffectedState.Affected)
            {
                return new AffectedEvaluation(AffectedState.Affected, null, FixedVersions(affected));
            }

            if (result.State == AffectedState.Unknown)
            {
                unknown ??= result.Reason;
            }
        }

        if (unknown is not null)
        {
            return AffectedEvaluation.Unknown(unknown);
        }

        return git && !decidable
            ? AffectedEvaluation.Unknown("only GIT ranges (commits), which cannot be compared with a package version")
            : AffectedEvaluation.NotAffected;
    }

    /// <summary>One SEMVER or ECOSYSTEM range.</summary>
    public static AffectedEvaluation EvaluateRange(OsvRange range, VersionScheme scheme, string version)
    {
        ArgumentNullException.ThrowIfNull(range);
        ArgumentNullException.ThrowIfNull(scheme);
        if (!scheme.TryParse(version, out var v))
        {
            return AffectedEvaluation.Unknown($"\"{OsvParser.Clip(version)}\" is not a {scheme.Name} version");
        }

        var events = new List<(Bound Bound, OsvEventKind Kind)>(range.Events.Count);
        foreach (var evt in range.Events)
        {
            if (evt.Kind == OsvEventKind.Introduced && evt.Version == "0")
            {
                events.Add((Bound.Min, evt.Kind));
                continue;
            }

            if (evt.Kind == OsvEventKind.Limit && evt.Version == "*")
            {
                events.Add((Bound.Max, evt.Kind));
                continue;
            }

            if (evt.Kind == OsvEventKind.Fixed && evt.Version.Length == 0)
            {
                continue; // "no fix"
            }

            if (!scheme.TryParse(evt.Version, out var parsed))
            {
                return AffectedEvaluation.Unknown($"event {Name(evt.Kind)} \"{OsvParser.Clip(evt.Version)}\" is not a {scheme.Name} version");
            }

            events.Add((new Bound(parsed, 0), evt.Kind));
        }

        var limits = events.Where(e => e.Kind == OsvEventKind.Limit).ToList();
        if (limits.Count > 0 && !limits.Any(l => l.Bound.CompareTo(v) > 0))
        {
            return AffectedEvaluation.NotAffected;
        }

        events.Sort((a, b) => a.Bound.CompareTo(b.Bound));
        var affected = false;
        foreach (var (bound, kind) in events)
        {
            var order = bound.CompareTo(v); // bound relative to v
            switch (kind)
            {
                case OsvEventKind.Introduced when order <= 0:
                    affected = true;
                    break;
                case OsvEventKind.Fixed when order <= 0:
                    affected = false;
                    break;
                case OsvEventKind.LastAffected when order < 0:
                    affected = false;
                    break;
                default:
                    break;
            }
        }

        return affected ? new AffectedEvaluation(AffectedState.Affected, null, []) : AffectedEvaluation.NotAffected;
    }

    private static bool IsListed(IReadOnlyList<string> versions, string ecosystemBase, string version)
    {
        if (versions.Count == 0)
        {
            return false;
        }

        var bare = ecosystemBase == "Go" && version.StartsWith('v') ? version[1..] : version;
        foreach (var listed in versions)
        {
            if (listed == version || listed == bare)
            {
                return true;
            }
        }

        return false;
    }

    private static List<string> FixedVersions(OsvAffected affected) =>
        affected.Ranges
            .Where(r => r.Type is OsvRangeType.Semver or OsvRangeType.Ecosystem)
            .SelectMany(r => r.Events)
            .Where(e => e.Kind == OsvEventKind.Fixed && e.Version.Length > 0)
            .Select(e => e.Version)
            .Distinct(StringComparer.Ordinal)
            .ToList();

    private static string Name(OsvEventKind kind) => kind switch
    {
        OsvEventKind.Introduced => "introduced",
        OsvEventKind.Fixed => "fixed",
        OsvEventKind.LastAffected => "last_affected",
        _ => "limit",
    };

    /// <summary>A version, or the "0"/"*" sentinels below and above every version.</summary>
    private readonly record struct Bound(IComparable? Value, int Sentinel)
    {
        public static Bound Min => new(null, -1);

        public static Bound Max => new(null, 1);

        public int CompareTo(Bound other)
        {
            if (Sentinel != 0 || other.Sentinel != 0)
            {
                return Sentinel.CompareTo(other.Sentinel);
            }

            return Value!.CompareTo(other.Value);
        }

        public int CompareTo(IComparable version) => Sentinel != 0 ? Sentinel : Math.Sign(Value!.CompareTo(version));
    }
}
