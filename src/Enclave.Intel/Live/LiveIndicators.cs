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
        foreach (var row in rows)
        {
            byId[row.Id] = row;
            if (row.Status != StatusName(IndicatorStatus.NotEvaluable))
            {
                assessments.Add(assessor.Assess(ToStix(row), row.ImportId));
            }
        }

        var index = IndicatorIndex.Build(assessments, _evaluator);
        _snapshot = new Snapshot(index, byId, sources.ToDictionary(s => s.ImportId, s => s.ArrivedIndex, StringComparer.Ordinal), _clock.GetUtcNow());
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
            else if (!row.Revoked && row.ValidFrom <= now && (row.ValidUntil is null || now < row.ValidUntil))
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

    private sealed record Snapshot(IndicatorIndex Index, IReadOnlyDictionary<string, IndicatorRow> Rows, IReadOnlyDictionary<string, long> Arrived, DateTimeOffset? LoadedAt)
    {
        public static Snapshot Empty { get; } = new(
            IndicatorIndex.Build([], new StixPatternEvaluator()),
            new Dictionary<string, IndicatorRow>(StringComparer.Ordinal),
            new Dictionary<string, long>(StringComparer.Ordinal),
            null);
    }
}

/// <summary>
/// A live indicator that matched: its id and name, the import it came from, the ledger size when that import's
/// indicators arrived (entries below it were there before the indicator), and what matched.
/// </summary>
public sealed record IndicatorHit(string IndicatorId, string? Name, string ImportId, long ArrivedIndex, IndexedProperty Property, string Value);

/// <summary>Stored indicators: live now, not evaluable (listed with their reason), and evaluable but revoked or outside their validity.</summary>
public sealed record IntelCounts(int Live, int NotEvaluable, int Inactive);
