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
    /// <summary>Evaluates one version against one affected entry.</summary>
    public static AffectedEvaluation Evaluate(OsvAffected affected, string ecosystemBase, string version)
    {
        ArgumentNullException.ThrowIfNull(affected);
        ArgumentNullException.ThrowIfNull(version);
        var cache = new ComponentVersion(version);
        return PreparedAffected.Create(affected, ecosystemBase).Evaluate(ref cache);
    }

    /// <summary>One SEMVER or ECOSYSTEM range.</summary>
    public static AffectedEvaluation EvaluateRange(OsvRange range, VersionScheme scheme, string version)
    {
        ArgumentNullException.ThrowIfNull(range);
        ArgumentNullException.ThrowIfNull(scheme);
        var cache = new ComponentVersion(version);
        return PreparedRange.Create(range, scheme).Evaluate(ref cache);
    }
}

/// <summary>A component's version, parsed at most once per scheme while its candidates are evaluated.</summary>
internal struct ComponentVersion(string text)
{
    private VersionScheme? _scheme;
    private IComparable? _parsed;

    public string Text { get; } = text;

    public IComparable? Parse(VersionScheme scheme)
    {
        if (!ReferenceEquals(scheme, _scheme))
        {
            _scheme = scheme;
            _parsed = scheme.TryParse(Text, out var parsed) ? parsed : null;
        }

        return _parsed;
    }
}

/// <summary>An affected entry with its ranges parsed and sorted once.</summary>
internal sealed class PreparedAffected
{
    private readonly OsvAffected _affected;
    private readonly string _ecosystemBase;
    private readonly PreparedRange[] _ranges;
    private readonly string? _otherRange;
    private readonly bool _git;
    private readonly bool _decidable;
    private IReadOnlyList<string>? _fixed;

    private PreparedAffected(OsvAffected affected, string ecosystemBase, PreparedRange[] ranges, string? otherRange, bool git)
    {
        _affected = affected;
        _ecosystemBase = ecosystemBase;
        _ranges = ranges;
        _otherRange = otherRange;
        _git = git;
        _decidable = affected.Versions.Count > 0 || ranges.Length > 0;
    }

    public static PreparedAffected Create(OsvAffected affected, string ecosystemBase)
    {
        ArgumentNullException.ThrowIfNull(affected);
        ArgumentNullException.ThrowIfNull(ecosystemBase);
        var ranges = new List<PreparedRange>();
        string? other = null;
        var git = false;
        foreach (var range in affected.Ranges)
        {
            switch (range.Type)
            {
                case OsvRangeType.Git:
                    git = true;
                    break;
                case OsvRangeType.Other:
                    other ??= $"range type \"{range.TypeName}\" is not one Enclave evaluates";
                    break;
                case OsvRangeType.Semver:
                    ranges.Add(PreparedRange.Create(range, ecosystemBase == "Go" ? SemVerScheme.Go : SemVerScheme.Strict));
                    break;
                default:
                    var scheme = Ecosystems.SchemeFor(ecosystemBase);
                    ranges.Add(scheme is null
                        ? PreparedRange.Unorderable($"Enclave has no version ordering for ecosystem \"{ecosystemBase}\"")
                        : PreparedRange.Create(range, scheme));
                    break;
            }
        }

        return new PreparedAffected(affected, ecosystemBase, [.. ranges], other, git);
    }

    internal AffectedEvaluation Evaluate(ref ComponentVersion version)
    {
        if (IsListed(version.Text))
        {
            return new AffectedEvaluation(AffectedState.Affected, null, FixedVersions());
        }

        var unknown = _otherRange;
        foreach (var range in _ranges)
        {
            var result = range.Evaluate(ref version);
            if (result.State == AffectedState.Affected)
            {
                return new AffectedEvaluation(AffectedState.Affected, null, FixedVersions());
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

        return _git && !_decidable
            ? AffectedEvaluation.Unknown("only GIT ranges (commits), which cannot be compared with a package version")
            : AffectedEvaluation.NotAffected;
    }

    private bool IsListed(string version)
    {
        var versions = _affected.Versions;
        if (versions.Count == 0)
        {
            return false;
        }

        var bare = _ecosystemBase == "Go" && version.StartsWith('v') ? version[1..] : version;
        foreach (var listed in versions)
        {
            if (listed == version || listed == bare)
            {
                return true;
            }
        }

        return false;
    }

    private IReadOnlyList<string> FixedVersions() => _fixed ??=
        _affected.Ranges
            .Where(r => r.Type is OsvRangeType.Semver or OsvRangeType.Ecosystem)
            .SelectMany(r => r.Events)
            .Where(e => e.Kind == OsvEventKind.Fixed && e.Version.Length > 0)
            .Select(e => e.Version)
            .Distinct(StringComparer.Ordinal)
            .ToList();
}

/// <summary>A SEMVER or ECOSYSTEM range with its events parsed and sorted (or the reason it cannot be ordered).</summary>
internal sealed class PreparedRange
{
    private readonly VersionScheme? _scheme;
    private readonly string? _unknown;
    private readonly (Bound Bound, OsvEventKind Kind)[] _events;
    private readonly Bound[] _limits;

    private PreparedRange(VersionScheme? scheme, string? unknown, (Bound, OsvEventKind)[] events, Bound[] limits)
    {
        _scheme = scheme;
        _unknown = unknown;
        _events = events;
        _limits = limits;
    }

    public static PreparedRange Unorderable(string reason) => new(null, reason, [], []);

    public static PreparedRange Create(OsvRange range, VersionScheme scheme)
    {
        var events = new List<(Bound Bound, OsvEventKind Kind)>(range.Events.Count);
        foreach (var evt in range.Events)
        {
            if (evt.Kind == OsvEventKind.Introduced && evt.Version == "0")
            {
                events.Add((Bound.Min, evt.Kind));
            }
            else if (evt.Kind == OsvEventKind.Limit && evt.Version == "*")
            {
                events.Add((Bound.Max, evt.Kind));
            }
            else if (evt.Kind == OsvEventKind.Fixed && evt.Version.Length == 0)
            {
                // "no fix"
            }
            else if (scheme.TryParse(evt.Version, out var parsed))
            {
                events.Add((new Bound(parsed, 0), evt.Kind));
            }
            else
            {
                return new PreparedRange(scheme, $"event {Name(evt.Kind)} \"{OsvParser.Clip(evt.Version)}\" is not a {scheme.Name} version", [], []);
            }
        }

        var limits = events.Where(e => e.Kind == OsvEventKind.Limit).Select(e => e.Bound).ToArray();
        var walk = events.Where(e => e.Kind != OsvEventKind.Limit).ToList();
        walk.Sort((a, b) => a.Bound.CompareTo(b.Bound)); // List.Sort is unstable; ties only reorder events at one version
        return new PreparedRange(scheme, null, [.. walk], limits);
    }

    public AffectedEvaluation Evaluate(ref ComponentVersion version)
    {
        if (_unknown is not null)
        {
            return AffectedEvaluation.Unknown(_unknown);
        }

        var v = version.Parse(_scheme!);
        if (v is null)
        {
            return AffectedEvaluation.Unknown($"\"{OsvParser.Clip(version.Text)}\" is not a {_scheme!.Name} version");
        }

        if (_limits.Length > 0)
        {
            var below = false;
            foreach (var limit in _limits)
            {
                below |= limit.CompareTo(v) > 0;
            }

            if (!below)
            {
                return AffectedEvaluation.NotAffected;
            }
        }

        var affected = false;
        foreach (var (bound, kind) in _events)
        {
            var order = bound.CompareTo(v); // the event's version relative to v
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

        return affected ? Affected : AffectedEvaluation.NotAffected;
    }

    private static readonly AffectedEvaluation Affected = new(AffectedState.Affected, null, []);

    private static string Name(OsvEventKind kind) => kind switch
    {
        OsvEventKind.Introduced => "introduced",
        OsvEventKind.Fixed => "fixed",
        OsvEventKind.LastAffected => "last_affected",
        _ => "limit",
    };

    /// <summary>A version, or the "0"/"*" sentinels below and above every version.</summary>
    internal readonly record struct Bound(IComparable? Value, int Sentinel)
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
