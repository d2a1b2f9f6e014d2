using Enclave.Intel.Indicators;
using Enclave.Intel.Stix;
using Enclave.Intel.Stix.Patterns;
using Enclave.State.Intel;

namespace Enclave.Intel.Live;

/// <summary>
/// The indicators in force in the running enclave: an <see cref="IndicatorIndex"/> built from the indicator store,
/// rebuilt at start and after each intel activation, swapped atomically so lookups never lock. A hit counts only while
/// its indicator is live (not revoked, inside its validity window) at the time asked.
/// </summary>
public sealed class LiveIndicators
{
    [ThreadStatic]
    private static List<int>? t_slots;

    private readonly IIndicatorStore _store;
    private readonly TimeProvider _clock;
    private readonly StixPatternEvaluator _evaluator;
    private volatile Snapshot _snapshot = Snapshot.Empty;

    /// <summary>Indicators from <paramref name="store"/>; empty until <see cref="Reload"/>.</summary>
    public LiveIndicators(IIndicatorStore store, TimeProvider clock, StixPatternEvaluator? evaluator = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(clock);
        _store = store;
        _clock = clock;
        _evaluator = evaluator ?? new StixPatternEvaluator();
    }

    /// <summary>Raised after each <see cref="Reload"/> (e.g. to take upstream hosts out of routing).</summary>
    public event EventHandler? Changed;

    /// <summary>True when no indicator can match (nothing loaded, or nothing evaluable): callers skip all work.</summary>
    public bool IsEmpty => _snapshot.Index.Count == 0;

    /// <summary>When the store was last read into the index.</summary>
    public DateTimeOffset? LoadedAt => _snapshot.LoadedAt;

    /// <summary>Reads every stored indicator, assesses it and swaps in a new index.</summary>
    public void Reload()
    {
        var assessor = new IndicatorAssessor(_evaluator);
        var rows = _store.Indicators();
        var sources = _store.Sources();
        var assessments = new List<IndicatorAssessment>(rows.Count);
        var byId = new Dictionary<string, IndicatorRow>(rows.Count, StringComparer.Ordinal);
        var kinds = new Dictionary<string, string>(rows.Count, StringComparer.Ordinal);
        foreach (var row in rows)
        {
            byId[row.Id] = row;
            if (row.Status != StatusName(IndicatorStatus.NotEvaluable))
            {
                var assessment = assessor.Assess(ToStix(row), row.ImportId);
                assessments.Add(assessment);
                kinds[row.Id] = KindOf(assessment);
            }
        }

        var index = IndicatorIndex.Build(assessments, _evaluator);
        _snapshot = new Snapshot(index, byId, sources.ToDictionary(s => s.ImportId, s => s.ArrivedIndex, StringComparer.Ordinal), _clock.GetUtcNow(), kinds);
        Changed?.Invoke(this, EventArgs.Empty);
    }

    /// <summary>The live indicators matching <paramref name="value"/> of <paramref name="property"/> at <paramref name="at"/> (default now).</summary>
    public IReadOnlyList<IndicatorHit> Match(IndexedProperty property, string value, DateTimeOffset? at = null)
    {
        ArgumentNullException.ThrowIfNull(value);
        var snapshot = _snapshot;
        if (snapshot.Index.Count == 0 || value.Length == 0)
        {
            return [];
        }

        var slots = t_slots ??= [];
        slots.Clear();
        if (snapshot.Index.Match(property, value, at ?? _clock.GetUtcNow(), slots) == 0)
        {
            return [];
        }

        var hits = new IndicatorHit[slots.Count];
        for (var i = 0; i < slots.Count; i++)
        {
            var assessment = snapshot.Index[slots[i]];
            var indicator = assessment.Indicator;
            hits[i] = new IndicatorHit(indicator.Id, indicator.Name, assessment.Source, snapshot.Arrived.GetValueOrDefault(assessment.Source, 0), property, value);
        }

        return hits;
    }

    /// <summary>Counts by state at <paramref name="at"/> (default now).</summary>
    public IntelCounts Counts(DateTimeOffset? at = null)
    {
        var now = at ?? _clock.GetUtcNow();
        int live = 0, notEvaluable = 0, inactive = 0;
        foreach (var row in _snapshot.Rows.Values)
        {
            if (row.Status == StatusName(IndicatorStatus.NotEvaluable))
            {
                notEvaluable++;
            }
            else if (IsLive(row, now))
            {
                live++;
            }
            else
            {
                inactive++;
            }
        }

        return new IntelCounts(live, notEvaluable, inactive);
    }

    /// <summary>
    /// The evaluable indicators (not <c>not-evaluable</c>) counted by kind (the STIX object types their pattern observes,
    /// e.g. <c>ipv4-addr</c>, <c>file</c>, joined with <c>+</c> when a pattern observes several) and by the import they
    /// came from, live and inactive at <paramref name="at"/> (default now). One pass over the index in memory: the
    /// store is not read.
    /// </summary>
    public IntelBreakdown Breakdown(DateTimeOffset? at = null)
    {
        var now = at ?? _clock.GetUtcNow();
        var snapshot = _snapshot;
        var byKind = new Dictionary<string, (int Live, int Inactive)>(StringComparer.Ordinal);
        var bySource = new Dictionary<string, (int Live, int Inactive)>(StringComparer.Ordinal);
        foreach (var row in snapshot.Rows.Values)
        {
            if (!snapshot.Kinds.TryGetValue(row.Id, out var kind))
            {
                continue; // not evaluable: listed by NotEvaluable with its reason
            }

            var live = IsLive(row, now);
            Count(byKind, kind, live);
            Count(bySource, row.ImportId, live);
        }

        return new IntelBreakdown(
            [.. byKind.OrderBy(k => k.Key, StringComparer.Ordinal).Select(k => new IntelCount(k.Key, k.Value.Live, k.Value.Inactive))],
            [.. bySource.OrderBy(k => k.Key, StringComparer.Ordinal).Select(k => new IntelCount(k.Key, k.Value.Live, k.Value.Inactive))]);

        static void Count(Dictionary<string, (int Live, int Inactive)> counts, string key, bool live)
        {
            var (l, i) = counts.GetValueOrDefault(key);
            counts[key] = live ? (l + 1, i) : (l, i + 1);
        }
    }

    /// <summary>
    /// Indicators Enclave cannot (fully) evaluate, with the reason stored when they were loaded: <c>not-evaluable</c>
    /// first, then <c>partial</c> and <c>observed-data-only</c>, by id; at most <paramref name="limit"/> of them, and how
    /// many there are in all.
    /// </summary>
    public (IReadOnlyList<IndicatorRow> Rows, int Total) NotEvaluable(int limit)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        var all = _snapshot.Rows.Values.Where(r => r.Status != StatusName(IndicatorStatus.Evaluable)).ToList();
        return ([.. all
            .OrderBy(r => r.Status == StatusName(IndicatorStatus.NotEvaluable) ? 0 : 1)
            .ThenBy(r => r.Id, StringComparer.Ordinal)
            .Take(limit)], all.Count);
    }

    /// <summary>The stored indicator with this id, or null.</summary>
    public IndicatorRow? Find(string id) => _snapshot.Rows.GetValueOrDefault(id);

    /// <summary>The store's name for <paramref name="status"/>: <c>evaluable</c>, <c>partial</c>, <c>observed-data-only</c>, <c>not-evaluable</c>.</summary>
    public static string StatusName(IndicatorStatus status) => status switch
    {
        IndicatorStatus.Evaluable => "evaluable",
        IndicatorStatus.Partial => "partial",
        IndicatorStatus.ObservedDataOnly => "observed-data-only",
        _ => "not-evaluable",
    };

    private static bool IsLive(IndicatorRow row, DateTimeOffset now) =>
        !row.Revoked && row.ValidFrom <= now && (row.ValidUntil is null || now < row.ValidUntil);

    private static string KindOf(IndicatorAssessment assessment) => assessment.Pattern is { } compiled
        ? string.Join('+', compiled.Pattern.Comparisons.Select(c => c.Path.ObjectType).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        : assessment.Indicator.PatternType;

    internal static StixIndicator ToStix(IndicatorRow row) => new()
    {
        Id = row.Id,
        Name = row.Name,
        Pattern = row.Pattern,
        PatternType = row.PatternType,
        ValidFrom = row.ValidFrom,
        ValidUntil = row.ValidUntil,
        Revoked = row.Revoked,
        Confidence = row.Confidence,
        Created = row.Created,
        Modified = row.Modified,
    };

    private sealed record Snapshot(
        IndicatorIndex Index, IReadOnlyDictionary<string, IndicatorRow> Rows, IReadOnlyDictionary<string, long> Arrived, DateTimeOffset? LoadedAt, IReadOnlyDictionary<string, string> Kinds)
    {
        public static Snapshot Empty { get; } = new(
            IndicatorIndex.Build([], new StixPatternEvaluator()),
            new Dictionary<string, IndicatorRow>(StringComparer.Ordinal),
            new Dictionary<string, long>(StringComparer.Ordinal),
            null,
            new Dictionary<string, string>(StringComparer.Ordinal));
    }
}

/// <summary>
/// A live indicator that matched: its id and name, the import it came from, the ledger size when that import's
/// indicators arrived (entries below it were there before the indicator), and what matched.
/// </summary>
public sealed record IndicatorHit(string IndicatorId, string? Name, string ImportId, long ArrivedIndex, IndexedProperty Property, string Value);

/// <summary>Stored indicators: live now, not evaluable (listed with their reason), and evaluable but revoked or outside their validity.</summary>
public sealed record IntelCounts(int Live, int NotEvaluable, int Inactive);

/// <summary>Evaluable indicators live and inactive, by kind (observed object types) and by source import.</summary>
public sealed record IntelBreakdown(IReadOnlyList<IntelCount> ByKind, IReadOnlyList<IntelCount> BySource);

/// <summary>One row of an <see cref="IntelBreakdown"/>: a kind or an import ID, with its live and inactive indicators.</summary>
public sealed record IntelCount(string Key, int Live, int Inactive);
