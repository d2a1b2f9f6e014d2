namespace Enclave.Intel.Sigma;

/// <summary>
/// Evaluates a <see cref="SigmaRuleSet"/> online over a time-ordered event stream: <see cref="Observe"/> returns the
/// detection matches of the event and the correlation matches it completes. Correlation windows expire, so memory is
/// bounded by the windows' contents and <see cref="SigmaEngineOptions"/>. Not thread-safe: one caller (a sequencer).
/// </summary>
/// <remarks>
/// Conditions that only grow (<c>gt</c>, <c>gte</c>) are checked on a sliding window as each event arrives and fire as
/// soon as they hold; the group's window then starts afresh. Conditions that need the whole window (<c>lt</c>,
/// <c>lte</c>, <c>eq</c>, <c>neq</c>) are decided when the group's window (opened by its first event) closes, on a
/// later <see cref="Observe"/>, <see cref="Advance"/> or <see cref="Flush"/>. An event older than one already seen is
/// counted at the latest time seen.
/// </remarks>
public sealed class SigmaEngine
{
    private readonly SigmaRuleSet _rules;
    private readonly SigmaEngineOptions _options;
    private readonly bool[] _standalone;
    private readonly List<(CorrelationState State, int RuleRef)>[] _feeds;
    private readonly List<CorrelationState> _states;
    private DateTimeOffset _now = DateTimeOffset.MinValue;

    public SigmaEngine(SigmaRuleSet rules, SigmaEngineOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(rules);
        _rules = rules;
        _options = options ?? SigmaEngineOptions.Default;
        _standalone = new bool[rules.Rules.Count];
        _feeds = new List<(CorrelationState, int)>[rules.Rules.Count];
        _states = rules.Correlations.Select(c => new CorrelationState(c)).ToList();
        for (var i = 0; i < rules.Rules.Count; i++)
        {
            var rule = rules.Rules[i];
            _feeds[i] = [];
            var referenced = false;
            var generate = false;
            foreach (var state in _states)
            {
                for (var r = 0; r < state.Rule.Rules.Count; r++)
                {
                    var reference = state.Rule.Rules[r];
                    if (reference == rule.Id || reference == rule.Name)
                    {
                        referenced = true;
                        generate |= state.Rule.Generate;
                        _feeds[i].Add((state, r));
                        break;
                    }
                }
            }

            _standalone[i] = !referenced || generate;
        }

        // Correlations of correlations: a match of one feeds those that refer to it (SigmaRuleSet resolved the chain).
        foreach (var source in _states)
        {
            var generate = false;
            foreach (var target in _states)
            {
                var reference = IndexOfReference(target.Rule, source.Rule.Id, source.Rule.Name);
                if (reference >= 0)
                {
                    source.Feeds.Add((target, reference));
                    generate |= target.Rule.Generate;
                }
            }

            source.Standalone = source.Feeds.Count == 0 || generate;
        }
    }

    private static int IndexOfReference(SigmaCorrelationRule rule, string? id, string? name)
    {
        for (var r = 0; r < rule.Rules.Count; r++)
        {
            if ((id is not null && rule.Rules[r] == id) || (name is not null && rule.Rules[r] == name))
            {
                return r;
            }
        }

        return -1;
    }

    /// <summary>Events dropped from full windows (<see cref="SigmaEngineOptions.MaxEventsPerGroup"/>).</summary>
    public long DroppedEvents { get; private set; }

    /// <summary>Groups dropped because a correlation had too many (<see cref="SigmaEngineOptions.MaxGroupsPerCorrelation"/>).</summary>
    public long DroppedGroups { get; private set; }

    /// <summary>Open correlation groups now (all correlation rules together).</summary>
    public int OpenGroups => _states.Sum(s => s.Groups.Count);

    /// <summary>Evaluates one event; returns its detection matches and the correlation matches it completes or whose windows it closes.</summary>
    public IReadOnlyList<SigmaMatch> Observe(SigmaEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var matches = new List<SigmaMatch>();
        AdvanceTo(e.Time, matches);
        for (var i = 0; i < _rules.Rules.Count; i++)
        {
            var rule = _rules.Rules[i];
            if (!rule.Matches(e))
            {
                continue;
            }

            if (_standalone[i])
            {
                matches.Add(new SigmaMatch
                {
                    Kind = SigmaMatchKind.Detection,
                    RuleId = rule.Id,
                    Title = rule.Title,
                    Level = rule.Level,
                    Time = e.Time,
                    Evidence = e.Position is { } p ? [p] : [],
                });
            }

            foreach (var (state, reference) in _feeds[i])
            {
                Add(state, reference, rule.Name, e, e.Position is { } position ? [position] : [], matches);
            }
        }

        return matches;
    }

    /// <summary>Moves the clock on without an event: closes the windows that ended by <paramref name="now"/>.</summary>
    public IReadOnlyList<SigmaMatch> Advance(DateTimeOffset now)
    {
        var matches = new List<SigmaMatch>();
        AdvanceTo(now, matches);
        return matches;
    }

    /// <summary>End of the stream: decides every open window whose condition needs the window's end, and forgets all windows.</summary>
    public IReadOnlyList<SigmaMatch> Flush()
    {
        var matches = new List<SigmaMatch>();
        foreach (var state in _states)
        {
            if (state.Rule.DecidedAtWindowEnd)
            {
                foreach (var (key, group) in state.Groups.OrderBy(g => g.Value.Start))
                {
                    Decide(state, group, group.Start + state.Rule.Timespan, matches);
                }
            }

            state.Groups.Clear();
        }

        return matches;
    }

    private void AdvanceTo(DateTimeOffset time, List<SigmaMatch> matches)
    {
        if (time > _now)
        {
            _now = time;
        }

        foreach (var state in _states)
        {
            if (_now < state.NextSweep)
            {
                continue;
            }

            // Sliding windows are swept every eighth of their span; windows decided at their end when the earliest one closes.
            state.NextSweep = state.Rule.DecidedAtWindowEnd ? DateTimeOffset.MaxValue : _now + (state.Rule.Timespan / 8);
            List<string>? closed = null;
            foreach (var (key, group) in state.Groups)
            {
                if (state.Rule.DecidedAtWindowEnd)
                {
                    if (group.Start + state.Rule.Timespan <= _now)
                    {
                        Decide(state, group, group.Start + state.Rule.Timespan, matches);
                        (closed ??= []).Add(key);
                    }
                    else if (group.Start + state.Rule.Timespan < state.NextSweep)
                    {
                        state.NextSweep = group.Start + state.Rule.Timespan;
                    }
                }
                else
                {
                    Expire(state, group);
                    if (group.Entries.Count == 0)
                    {
                        (closed ??= []).Add(key);
                    }
                }
            }

            foreach (var key in closed ?? [])
            {
                state.Groups.Remove(key);
            }
        }
    }

    private void Expire(CorrelationState state, Group group)
    {
        var horizon = _now - state.Rule.Timespan;
        while (group.Entries.Count > 0 && group.Entries.Peek().Time <= horizon)
        {
            group.Entries.Dequeue();
        }
    }

    private void Add(CorrelationState state, int reference, string? sourceName, SigmaEvent e, IReadOnlyList<long> evidence, List<SigmaMatch> matches)
    {
        var correlation = state.Rule;
        var values = new string?[correlation.GroupBy.Count];
        for (var g = 0; g < values.Length; g++)
        {
            values[g] = First(e, FieldFor(correlation, correlation.GroupBy[g], sourceName));
        }

        var key = string.Join('\u001f', values.Select(v => v ?? "\u0000"));
        if (!state.Groups.TryGetValue(key, out var group))
        {
            if (state.Groups.Count >= _options.MaxGroupsPerCorrelation)
            {
                var oldest = state.Groups.MinBy(g => g.Value.LastSeen);
                state.Groups.Remove(oldest.Key);
                DroppedGroups++;
            }

            group = new Group(values, _now);
            state.Groups[key] = group;
            if (correlation.DecidedAtWindowEnd && _now + correlation.Timespan < state.NextSweep)
            {
                state.NextSweep = _now + correlation.Timespan;
            }
        }

        group.LastSeen = _now;
        if (!correlation.DecidedAtWindowEnd)
        {
            Expire(state, group);
        }

        if (group.Entries.Count >= _options.MaxEventsPerGroup)
        {
            group.Entries.Dequeue();
            DroppedEvents++;
        }

        var field = correlation.Field is null ? null : First(e, FieldFor(correlation, correlation.Field, sourceName));
        group.Entries.Enqueue(new Entry(_now, reference, field, evidence));
        if (!correlation.DecidedAtWindowEnd && Value(correlation, group) is { } value && correlation.Holds(value))
        {
            var match = Match(correlation, group, value, _now);
            group.Entries.Clear();
            Emit(state, match, matches);
        }
    }

    private void Decide(CorrelationState state, Group group, DateTimeOffset end, List<SigmaMatch> matches)
    {
        if (Value(state.Rule, group) is { } value && state.Rule.Holds(value))
        {
            Emit(state, Match(state.Rule, group, value, end), matches);
        }
    }

    private void Emit(CorrelationState state, SigmaMatch match, List<SigmaMatch> matches)
    {
        if (state.Standalone)
        {
            matches.Add(match);
        }

        if (state.Feeds.Count == 0)
        {
            return;
        }

        // The chained correlation sees the match as an event whose fields are the group-by values.
        var e = SigmaEvent.FromFields(match.Time, new SigmaLogSource(), match.Group);
        foreach (var (target, reference) in state.Feeds)
        {
            Add(target, reference, state.Rule.Name, e, match.Evidence, matches);
        }
    }

    private SigmaMatch Match(SigmaCorrelationRule correlation, Group group, decimal value, DateTimeOffset time)
    {
        var groupValues = new Dictionary<string, string?>(StringComparer.Ordinal);
        for (var g = 0; g < correlation.GroupBy.Count; g++)
        {
            groupValues[correlation.GroupBy[g]] = group.Values[g];
        }

        return new SigmaMatch
        {
            Kind = SigmaMatchKind.Correlation,
            RuleId = correlation.Id,
            Title = correlation.Title,
            Level = correlation.Level,
            Time = time,
            Evidence = group.Entries.SelectMany(x => x.Evidence).Distinct().Order().Take(_options.MaxEvidence).ToList(),
            Group = groupValues,
            Value = value,
        };
    }

    private static decimal? Value(SigmaCorrelationRule correlation, Group group)
    {
        var entries = group.Entries;
        switch (correlation.Type)
        {
            case SigmaCorrelationType.EventCount:
                return entries.Count;
            case SigmaCorrelationType.ValueCount:
                return entries.Where(x => x.Field is not null).Select(x => x.Field).Distinct(StringComparer.Ordinal).Count();
            case SigmaCorrelationType.Temporal:
                return entries.Select(x => x.Reference).Distinct().Count();
            case SigmaCorrelationType.TemporalOrdered:
                {
                    var next = 0;
                    foreach (var entry in entries)
                    {
                        if (next < correlation.Rules.Count && entry.Reference == next)
                        {
                            next++;
                        }
                    }

                    return next;
                }

            default:
                {
                    var numbers = entries.Select(x => x.Field is not null && SigmaValueTest.TryNumber(x.Field, out var n) ? n : (decimal?)null).Where(n => n is not null).Select(n => n!.Value).ToList();
                    if (numbers.Count == 0)
                    {
                        return null;
                    }

                    var sum = numbers.Sum();
                    return correlation.Type == SigmaCorrelationType.ValueSum ? sum : sum / numbers.Count;
                }
        }
    }

    private static string FieldFor(SigmaCorrelationRule correlation, string name, string? sourceName) =>
        correlation.Aliases.TryGetValue(name, out var perRule) && sourceName is not null && perRule.TryGetValue(sourceName, out var field) ? field : name;

    private static string? First(SigmaEvent e, string field) =>
        e.Fields.TryGetValue(field, out var values) && values.Count > 0 ? values[0] : null;

    private sealed class CorrelationState(SigmaCorrelationRule rule)
    {
        public SigmaCorrelationRule Rule { get; } = rule;

        public Dictionary<string, Group> Groups { get; } = new(StringComparer.Ordinal);

        public DateTimeOffset NextSweep { get; set; } = DateTimeOffset.MinValue;

        /// <summary>The correlations that refer to this one, with the place of the reference in their rule list.</summary>
        public List<(CorrelationState Target, int Reference)> Feeds { get; } = [];

        /// <summary>Whether its matches are reported (not hidden by a referring correlation without <c>generate</c>).</summary>
        public bool Standalone { get; set; } = true;
    }

    private sealed class Group(string?[] values, DateTimeOffset start)
    {
        public string?[] Values { get; } = values;

        public DateTimeOffset Start { get; } = start;

        public DateTimeOffset LastSeen { get; set; } = start;

        public Queue<Entry> Entries { get; } = new();
    }

    private readonly record struct Entry(DateTimeOffset Time, int Reference, string? Field, IReadOnlyList<long> Evidence);
}
