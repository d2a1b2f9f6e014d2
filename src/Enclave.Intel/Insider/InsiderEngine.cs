using System.Collections.Frozen;
using System.Globalization;

namespace Enclave.Intel.Insider;

/// <summary>
/// Online insider-threat scoring over the audit stream. Feed it every ledger entry in ledger order with
/// <see cref="Observe"/>; it keeps per-principal daily counts over a rolling window (median and MAD of the past
/// days), peer-group distributions by role and by clearance (log-bucketed histograms, quartiles), an hour-of-day and
/// day-of-week profile, the highest label touched, API-key owners (for failed authentications) and approver-importer
/// pairs. A feature raises a signal when its robust z-score against both the principal's own and its peers' baseline
/// (the lower of the two, so behaviour must be unusual for both) crosses <see cref="InsiderOptions.Threshold"/>,
/// and again the same day only when the score grew by <see cref="InsiderOptions.RaiseAgainFactor"/>.
/// Not thread-safe: the caller serialises calls (the ledger's sequencer is one thread). Memory is bounded by
/// <see cref="InsiderOptions.MaxPrincipals"/>, <see cref="InsiderOptions.MaxPeerGroups"/>,
/// <see cref="InsiderOptions.MaxApprovalPairs"/>, <see cref="InsiderOptions.MaxOpenImports"/> and <see cref="InsiderOptions.MaxKeys"/>.
/// </summary>
public sealed class InsiderEngine
{
    /// <summary>Features kept as daily counts per principal (<see cref="InsiderFeature.RequestsPerHour"/> .. <see cref="InsiderFeature.AuthFailures"/>).</summary>
    public const int CountedFeatures = (int)InsiderFeature.AuthFailures + 1;

    internal const int AllFeatures = (int)InsiderFeature.ApprovalPair + 1;
    private const int WindowFeature = CountedFeatures;
    private static readonly IReadOnlyList<InsiderSignal> None = [];

    private readonly InsiderOptions _options;
    private readonly int _window;
    private readonly Dictionary<string, PrincipalState> _principals = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PeerGroup> _groups = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _importers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _keys = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Approver, string Importer), PairState> _pairs = [];
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _labels;
    private long _sequence;

    public InsiderEngine(InsiderOptions? options = null)
    {
        _options = options ?? new InsiderOptions();
        _options.Validate();
        _window = _options.WindowDays;
        var labels = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < _options.LabelOrder.Count; i++)
        {
            labels[_options.LabelOrder[i]] = i;
        }

        _labels = labels.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>Principals tracked now (at most <see cref="InsiderOptions.MaxPrincipals"/>).</summary>
    public int TrackedPrincipals => _principals.Count;

    /// <summary>Approver-importer pairs tracked now (at most <see cref="InsiderOptions.MaxApprovalPairs"/>).</summary>
    public int TrackedApprovalPairs => _pairs.Count;

    /// <summary>Peer groups tracked now.</summary>
    public int TrackedPeerGroups => _groups.Count;

    /// <summary>Tells the engine a principal's role and clearance (also learnt from <c>user.added</c> and <c>user.updated</c>, and the clearance from request policy decisions).</summary>
    public void RegisterPrincipal(string principal, string? role, string? clearance)
    {
        ArgumentException.ThrowIfNullOrEmpty(principal);
        var state = Principal(principal);
        SetRole(state, role);
        SetClearance(state, clearance);
    }

    /// <summary>
    /// The flattened detail names <see cref="Observe"/> reads (<see cref="InsiderEvent.Details"/>): a reader of ledger
    /// entries may leave every other detail unread. Keep it in step with the engine: a test feeds the scenario traffic
    /// with its details cut to these names and expects the same signals.
    /// </summary>
    public static IReadOnlySet<string> DetailsRead { get; } = new[]
    {
        "principal", "roles.0", "clearance", "keyId", "policy.clearance", "policy.label", "policy.egress.0.action",
        "policy.egress.0.allowed", "promptTokens", "completionTokens",
    }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>Observes one ledger entry; returns the signals it raised (usually none). Entries come in ledger order.</summary>
    public IReadOnlyList<InsiderSignal> Observe(InsiderEvent entry, long ledgerIndex)
    {
        ArgumentNullException.ThrowIfNull(entry);
        _sequence++;
        switch (entry.Type)
        {
            case "request.admitted":
                return Request(entry, ledgerIndex, denied: false);
            case "request.denied":
                return Request(entry, ledgerIndex, denied: true);
            case "request.completed":
                return Completed(entry, ledgerIndex);
            case "retention.read":
                return Sensitive(entry, ledgerIndex, InsiderFeature.RetentionReads);
            case "ledger.exported":
                return Sensitive(entry, ledgerIndex, InsiderFeature.LedgerExports);
            case "key.created":
                if (entry.Subject.StartsWith("key:", StringComparison.Ordinal) && entry.Detail("principal") is { } owner && _keys.Count < _options.MaxKeys)
                {
                    _keys[entry.Subject[4..]] = owner.Contains(':', StringComparison.Ordinal) ? owner : "user:" + owner;
                }

                return CountOnActor(entry, ledgerIndex, InsiderFeature.KeysCreated);
            case "user.added":
            case "user.updated":
                if (IsPrincipal(entry.Subject))
                {
                    var subject = Principal(entry.Subject);
                    SetRole(subject, entry.Detail("roles.0"));
                    SetClearance(subject, entry.Detail("clearance"));
                }

                return CountOnActor(entry, ledgerIndex, InsiderFeature.AccountChanges);
            case "user.disabled":
            case "key.revoked":
                return CountOnActor(entry, ledgerIndex, InsiderFeature.AccountChanges);
            case "auth.failed":
                if (entry.Detail("keyId") is { } keyId && _keys.TryGetValue(keyId, out var holder))
                {
                    var state = Principal(holder);
                    Advance(state, entry.Time);
                    return Count(state, InsiderFeature.AuthFailures, ledgerIndex, entry.Time, 1);
                }

                return None;
            case "import.received":
                if (IsPrincipal(entry.Actor))
                {
                    if (_importers.Count >= _options.MaxOpenImports)
                    {
                        _importers.Clear();
                    }

                    _importers[entry.Subject] = entry.Actor;
                }

                return None;
            case "import.rejected":
                _importers.Remove(entry.Subject);
                return CountOnActor(entry, ledgerIndex, InsiderFeature.ImportRejects);
            case "import.activated":
                _importers.Remove(entry.Subject);
                return None;
            case "import.approved":
                return Approved(entry, ledgerIndex);
            default:
                return None;
        }
    }

    private static bool IsPrincipal(string actor) =>
        actor.StartsWith("user:", StringComparison.Ordinal) || actor.StartsWith("service:", StringComparison.Ordinal);

    private PrincipalState Principal(string name)
    {
        if (!_principals.TryGetValue(name, out var state))
        {
            if (_principals.Count >= _options.MaxPrincipals)
            {
                Evict();
            }

            state = new PrincipalState(name, _window);
            _principals[name] = state;
        }

        state.LastSeen = _sequence;
        return state;
    }

    private void Evict()
    {
        var victims = _principals.Values.OrderBy(p => p.LastSeen).Take(Math.Max(1, _principals.Count / 8)).Select(p => p.Name).ToList();
        foreach (var name in victims)
        {
            _principals.Remove(name);
        }
    }

    private PeerGroup? Group(string key)
    {
        if (!_groups.TryGetValue(key, out var group))
        {
            if (_groups.Count >= _options.MaxPeerGroups)
            {
                return null;
            }

            group = new PeerGroup(key, _window, CountedFeatures + 1);
            _groups[key] = group;
        }

        return group;
    }

    private void SetRole(PrincipalState state, string? role)
    {
        if (role is null || role == state.Role)
        {
            return;
        }

        state.Role = role;
        state.RoleGroup = Group("role:" + role);
    }

    private void SetClearance(PrincipalState state, string? clearance)
    {
        if (clearance is null || clearance == state.Clearance)
        {
            return;
        }

        state.Clearance = clearance;
        state.ClearanceRank = LabelRank(clearance);
        state.ClearanceGroup = Group("clearance:" + BannerLevel(clearance).ToString());
    }

    private static ReadOnlySpan<char> BannerLevel(string banner)
    {
        var span = banner.AsSpan();
        var cut = span.IndexOf("//", StringComparison.Ordinal);
        return (cut < 0 ? span : span[..cut]).Trim();
    }

    private int LabelRank(string banner) => _labels.TryGetValue(BannerLevel(banner), out var rank) ? rank : -1;

    private IReadOnlyList<InsiderSignal> CountOnActor(InsiderEvent entry, long index, InsiderFeature feature)
    {
        if (!IsPrincipal(entry.Actor))
        {
            return None;
        }

        var state = Principal(entry.Actor);
        Advance(state, entry.Time);
        return Count(state, feature, index, entry.Time, 1);
    }

    private IReadOnlyList<InsiderSignal> Request(InsiderEvent entry, long index, bool denied)
    {
        if (!IsPrincipal(entry.Actor))
        {
            return None;
        }

        var state = Principal(entry.Actor);
        Advance(state, entry.Time);
        List<InsiderSignal>? raised = null;
        var slot = Slot(state);

        // Requests per hour: the day's value is the busiest hour.
        state.HourRequests++;
        Evidence(state, InsiderFeature.RequestsPerHour).Add(index);
        if (state.HourRequests > state.Ring[slot + (int)InsiderFeature.RequestsPerHour])
        {
            state.Ring[slot + (int)InsiderFeature.RequestsPerHour] = state.HourRequests;
            Check(state, InsiderFeature.RequestsPerHour, state.HourRequests, index, entry.Time, ref raised);
        }

        // Hour of day and day of week against the principal's profile (its role's while it is new).
        var hour = entry.Time.UtcDateTime.Hour;
        var weekday = (int)entry.Time.UtcDateTime.DayOfWeek;
        if (OffHours(state, hour, weekday))
        {
            Increment(state, InsiderFeature.OffHoursRequests, index, entry.Time, 1, ref raised);
        }

        state.TodayHours[hour]++;
        state.TodayWeekdays[weekday]++;
        if (state.RoleGroup is { } roleGroup)
        {
            roleGroup.Hours[hour]++;
            roleGroup.Weekdays[weekday]++;
            roleGroup.HourTotal++;
            if (roleGroup.HourTotal >= 1 << 20)
            {
                roleGroup.HourTotal = Halve(roleGroup.Hours, roleGroup.Weekdays);
            }
        }

        if (entry.Detail("policy.clearance") is { } clearance)
        {
            SetClearance(state, clearance);
        }

        if (entry.Detail("policy.label") is { } label)
        {
            Label(state, LabelRank(label), index, entry.Time, ref raised);
        }

        if (denied)
        {
            Increment(state, InsiderFeature.PolicyDenials, index, entry.Time, 1, ref raised);
        }

        if (Egress(entry))
        {
            Increment(state, InsiderFeature.EgressBlocks, index, entry.Time, 1, ref raised);
        }

        return raised ?? None;
    }

    private static bool Egress(InsiderEvent entry)
    {
        if (!entry.Details.TryGetValue("policy.egress.0.action", out var action))
        {
            return false;
        }

        return action == "block" && entry.Detail("policy.egress.0.allowed") == "false";
    }

    /// <summary>An hour (or a day of the week) is off when it is rare for the role and, once the principal has a
    /// week of profile, rare for the principal too: one missed Monday does not make the next Monday unusual.</summary>
    private bool OffHours(PrincipalState state, int hour, int weekday)
    {
        if (state.RoleGroup is not { HourTotal: >= 1000 } group)
        {
            return false;
        }

        var groupHour = group.Hours[hour] * 100 < group.HourTotal;
        var groupDay = group.Weekdays[weekday] * 50 < group.HourTotal;
        if (!groupHour && !groupDay)
        {
            return false;
        }

        if (state.HistoryDays < 7 || state.HourTotal < 100)
        {
            return true;
        }

        return (groupHour && state.Hours[hour] * 100 < state.HourTotal) || (groupDay && state.Weekdays[weekday] * 50 < state.HourTotal);
    }

    private static int Halve(int[] hours, int[] weekdays)
    {
        var total = 0;
        for (var i = 0; i < hours.Length; i++)
        {
            hours[i] /= 2;
            total += hours[i];
        }

        for (var i = 0; i < weekdays.Length; i++)
        {
            weekdays[i] /= 2;
        }

        return total;
    }

    private void Label(PrincipalState state, int rank, long index, DateTimeOffset time, ref List<InsiderSignal>? raised)
    {
        if (rank < 0)
        {
            return;
        }

        var day = (int)(state.Day % _window);
        if (rank > state.LabelRing[day])
        {
            state.LabelRing[day] = (sbyte)rank;
        }

        var first = state.HistoryDays >= _options.MinHistoryDays && rank > state.WindowMaxLabel ? 2.0 * (rank - Math.Max(state.WindowMaxLabel, 0)) : 0;
        var above = state.ClearanceRank >= 0 && rank > state.ClearanceRank ? 3.0 : 0;
        if (first + above == 0)
        {
            return;
        }

        state.LabelAboveToday++;
        Evidence(state, InsiderFeature.LabelAboveUsual).Add(index);
        var score = first + above + (1.5 * Math.Log2(1 + state.LabelAboveToday));
        Raise(state, InsiderFeature.LabelAboveUsual, score, index, time, null, ref raised);
    }

    private IReadOnlyList<InsiderSignal> Completed(InsiderEvent entry, long index)
    {
        if (!IsPrincipal(entry.Actor))
        {
            return None;
        }

        var tokens = Tokens(entry.Detail("promptTokens")) + Tokens(entry.Detail("completionTokens"));
        if (tokens == 0)
        {
            return None;
        }

        var state = Principal(entry.Actor);
        Advance(state, entry.Time);
        state.HourTokens += tokens;
        Evidence(state, InsiderFeature.TokensPerHour).Add(index);
        var slot = Slot(state) + (int)InsiderFeature.TokensPerHour;
        List<InsiderSignal>? raised = null;
        if (state.HourTokens > state.Ring[slot])
        {
            state.Ring[slot] = (int)Math.Min(state.HourTokens, int.MaxValue);
            Check(state, InsiderFeature.TokensPerHour, state.Ring[slot], index, entry.Time, ref raised);
        }

        return raised ?? None;
    }

    private static long Tokens(string? text) =>
        text is not null && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? Math.Min(n, 1L << 32) : 0;

    private IReadOnlyList<InsiderSignal> Sensitive(InsiderEvent entry, long index, InsiderFeature feature)
    {
        if (!IsPrincipal(entry.Actor))
        {
            return None;
        }

        var state = Principal(entry.Actor);
        Advance(state, entry.Time);
        List<InsiderSignal>? raised = null;
        Increment(state, feature, index, entry.Time, 1, ref raised);
        Evidence(state, InsiderFeature.SensitiveReadsOverWindow).Add(index);
        if (state.HistoryDays < _options.MinHistoryDays)
        {
            return raised ?? None;
        }

        var score = PeerScore(state, WindowFeature, NormalizedWindowTotal(state), state.Day, out _);
        state.TodayScore[(int)InsiderFeature.SensitiveReadsOverWindow] = (float)score;
        if (Due(state, InsiderFeature.SensitiveReadsOverWindow, score))
        {
            Raise(state, InsiderFeature.SensitiveReadsOverWindow, score, index, entry.Time, null, ref raised);
        }

        return raised ?? None;
    }

    /// <summary>The window's retention reads and exports scaled to a full window (a principal with less history is
    /// compared at the same rate), so peers' sums pushed while their history grew stay comparable.</summary>
    private long NormalizedWindowTotal(PrincipalState state) =>
        (long)WindowTotal(state) * _window / Math.Min(state.HistoryDays + 1, _window);

    private int WindowTotal(PrincipalState state)
    {
        var slot = Slot(state);
        return state.WindowSensitive + state.Ring[slot + (int)InsiderFeature.RetentionReads] + state.Ring[slot + (int)InsiderFeature.LedgerExports];
    }

    private IReadOnlyList<InsiderSignal> Count(PrincipalState state, InsiderFeature feature, long index, DateTimeOffset time, int amount)
    {
        List<InsiderSignal>? raised = null;
        Increment(state, feature, index, time, amount, ref raised);
        return raised ?? None;
    }

    private void Increment(PrincipalState state, InsiderFeature feature, long index, DateTimeOffset time, int amount, ref List<InsiderSignal>? raised)
    {
        var at = Slot(state) + (int)feature;
        state.Ring[at] = (int)Math.Min((long)state.Ring[at] + amount, int.MaxValue);
        Evidence(state, feature).Add(index);
        Check(state, feature, state.Ring[at], index, time, ref raised);
    }

    private EvidenceRing Evidence(PrincipalState state, InsiderFeature feature) =>
        state.Evidence[(int)feature] ??= new EvidenceRing(_options.MaxEvidence);

    private int Slot(PrincipalState state) => (int)(state.Day % _window) * CountedFeatures;

    private void Check(PrincipalState state, InsiderFeature feature, long value, long index, DateTimeOffset time, ref List<InsiderSignal>? raised)
    {
        var score = Score(state, (int)feature, value);
        state.TodayScore[(int)feature] = (float)score;
        if (Due(state, feature, score))
        {
            Raise(state, feature, score, index, time, null, ref raised);
        }
    }

    private bool Due(PrincipalState state, InsiderFeature feature, double score) =>
        score >= _options.Threshold && score >= state.Emitted[(int)feature] * _options.RaiseAgainFactor;

    private static double Floor(double median) => Math.Max(1, 0.1 * median);

    /// <summary>Robust z-score of today's value: against the principal's own past days (median, 1.4826 MAD) and its
    /// peers' (median, IQR/1.349); the lower of the two, each where enough history exists.</summary>
    private double Score(PrincipalState state, int feature, long value)
    {
        double? own = null;
        if (state.HistoryDays >= _options.MinHistoryDays)
        {
            // Calibrated like the peers' score: a value at the principal's own maximum of the window scores 3.
            var median = state.Median[feature];
            own = 3 * (value - median) / Math.Max(Math.Max(state.Scale[feature], state.Max[feature] - median), Floor(median));
        }

        var peer = PeerScore(state, feature, value, state.Day, out var hasPeer);
        return (own, hasPeer) switch
        {
            (null, false) => 0,
            (null, true) => peer,
            ({ } o, false) => o,
            ({ } o, true) => Math.Min(o, peer),
        };
    }

    private double PeerScore(PrincipalState state, int feature, long value, long day, out bool hasPeer)
    {
        hasPeer = false;
        var best = double.MaxValue;
        // The role's group when the role is known (clearance groups mix roles whose normal work differs), else the clearance's.
        foreach (var group in (ReadOnlySpan<PeerGroup?>)[state.RoleGroup ?? state.ClearanceGroup])
        {
            if (group is not null && group.TryBaseline(feature, day, _options.MinPeerSamples, out var median, out var scale, out var tail))
            {
                // Calibrated on the group's tail: a value at the peers' 99th percentile scores 3, so features whose
                // benign bursts are common (audit review days) need a larger excess than ones that are rare (keys).
                hasPeer = true;
                best = Math.Min(best, 3 * (value - median) / Math.Max(Math.Max(tail - median, scale), Floor(median)));
            }
        }

        return hasPeer ? best : 0;
    }

    private double? PeerMedian(PrincipalState state, int feature)
    {
        double? best = null;
        foreach (var group in (ReadOnlySpan<PeerGroup?>)[state.RoleGroup ?? state.ClearanceGroup])
        {
            if (group is not null && group.TryBaseline(feature, state.Day, _options.MinPeerSamples, out var median, out _, out _))
            {
                best = best is null ? median : Math.Min(best.Value, median);
            }
        }

        return best;
    }

    /// <summary>Moves a principal to the event's day and hour: closes the days passed (into the peer groups),
    /// recomputes its baselines from the window, resets today's counters.</summary>
    private void Advance(PrincipalState state, DateTimeOffset time)
    {
        var ticks = time.UtcTicks;
        var day = ticks / TimeSpan.TicksPerDay;
        var hour = ticks / TimeSpan.TicksPerHour;
        if (state.Day == long.MinValue)
        {
            state.Day = day;
            state.Hour = hour;
            return;
        }

        if (day > state.Day)
        {
            Close(state, day);
        }

        if (hour > state.Hour)
        {
            state.Hour = hour;
            state.HourRequests = 0;
            state.HourTokens = 0;
        }
    }

    private void Close(PrincipalState state, long day)
    {
        var window = _window;
        var last = Math.Min(day, state.Day + window);

        // Closed days into the peer groups: the day's values, then zeros for days without activity.
        var sensitive = state.HistoryDays >= _options.MinHistoryDays ? NormalizedWindowTotal(state) : -1;
        for (var d = state.Day; d < last; d++)
        {
            var slot = (int)(d % window) * CountedFeatures;
            var actual = d == state.Day;
            for (var f = 0; f < CountedFeatures; f++)
            {
                var v = actual ? state.Ring[slot + f] : 0;
                state.RoleGroup?.Add(f, d, v);
                state.ClearanceGroup?.Add(f, d, v);
            }

            if (sensitive >= 0)
            {
                state.RoleGroup?.Add(WindowFeature, d, sensitive);
                state.ClearanceGroup?.Add(WindowFeature, d, sensitive);
            }
        }

        // Clear the slots of the new days.
        for (var d = state.Day + 1; d <= last; d++)
        {
            var slot = (int)(d % window);
            Array.Clear(state.Ring, slot * CountedFeatures, CountedFeatures);
            state.LabelRing[slot] = -1;
        }

        state.HistoryDays = (int)Math.Min(state.HistoryDays + (day - state.Day), window);
        state.Day = day;

        // The hour profile takes in yesterday's hours only now, so a burst cannot teach itself.
        for (var h = 0; h < 24; h++)
        {
            state.Hours[h] += state.TodayHours[h];
            state.HourTotal += state.TodayHours[h];
            state.TodayHours[h] = 0;
        }

        for (var w = 0; w < 7; w++)
        {
            state.Weekdays[w] += state.TodayWeekdays[w];
            state.TodayWeekdays[w] = 0;
        }

        if (state.HourTotal >= 1 << 14)
        {
            state.HourTotal = Halve(state.Hours, state.Weekdays);
        }

        // Baselines over the past days of the window (today excluded).
        var past = Math.Min(state.HistoryDays, window - 1);
        Span<float> values = stackalloc float[past];
        Span<float> deviations = stackalloc float[past];
        var todaySlot = (int)(day % window);
        for (var f = 0; f < CountedFeatures; f++)
        {
            for (var i = 0; i < past; i++)
            {
                var slot = (todaySlot - 1 - i + window) % window;
                values[i] = state.Ring[(slot * CountedFeatures) + f];
            }

            (state.Median[f], state.Scale[f]) = MedianAndScale(values, deviations);
            state.Max[f] = past == 0 ? 0 : values[past - 1];
        }

        var maxLabel = -1;
        var sum = 0;
        for (var i = 0; i < past; i++)
        {
            var slot = (todaySlot - 1 - i + window) % window;
            maxLabel = Math.Max(maxLabel, state.LabelRing[slot]);
            sum += state.Ring[(slot * CountedFeatures) + (int)InsiderFeature.RetentionReads] + state.Ring[(slot * CountedFeatures) + (int)InsiderFeature.LedgerExports];
        }

        state.WindowMaxLabel = maxLabel;
        state.WindowSensitive = sum;
        state.LabelAboveToday = 0;
        Array.Clear(state.Emitted);
        Array.Clear(state.TodayScore);
        foreach (var ring in state.Evidence)
        {
            ring?.Clear();
        }
    }

    internal static (float Median, float Scale) MedianAndScale(Span<float> values, Span<float> deviations)
    {
        if (values.Length == 0)
        {
            return (0, 0);
        }

        values.Sort();
        var median = Middle(values);
        for (var i = 0; i < values.Length; i++)
        {
            deviations[i] = Math.Abs(values[i] - median);
        }

        deviations[..values.Length].Sort();
        return (median, 1.4826f * Middle(deviations[..values.Length]));
    }

    private static float Middle(ReadOnlySpan<float> sorted) =>
        sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;

    private IReadOnlyList<InsiderSignal> Approved(InsiderEvent entry, long index)
    {
        if (!IsPrincipal(entry.Actor) || !_importers.TryGetValue(entry.Subject, out var importer) || importer == entry.Actor)
        {
            return None;
        }

        var approver = Principal(entry.Actor);
        Advance(approver, entry.Time);
        var other = Principal(importer);
        var day = approver.Day;
        if (!_pairs.TryGetValue((entry.Actor, importer), out var pair))
        {
            if (_pairs.Count >= _options.MaxApprovalPairs)
            {
                foreach (var weak in _pairs.OrderBy(p => p.Value.Weight).Take(_pairs.Count / 2).Select(p => p.Key).ToList())
                {
                    _pairs.Remove(weak);
                }
            }

            pair = new PairState(_options.MaxEvidence);
            _pairs[(entry.Actor, importer)] = pair;
        }

        pair.Add(day, index, _options.ApprovalHalfLifeDays);
        approver.Approvals = Decay(approver.Approvals, approver.ApprovalDay, day) + 1;
        approver.ApprovalDay = day;
        if (!_pairs.TryGetValue((importer, entry.Actor), out var reverse))
        {
            return None;
        }

        var reverseWeight = Decay(reverse.Weight, reverse.Day, day);
        var otherApprovals = Math.Max(Decay(other.Approvals, other.ApprovalDay, day), reverseWeight);
        var concentration = Math.Min(pair.Weight / approver.Approvals, reverseWeight / otherApprovals);
        var score = 3 * Math.Min(pair.Weight, reverseWeight) * concentration;
        approver.TodayScore[(int)InsiderFeature.ApprovalPair] = (float)score;
        if (!Due(approver, InsiderFeature.ApprovalPair, score))
        {
            return None;
        }

        approver.Emitted[(int)InsiderFeature.ApprovalPair] = (float)score;
        var evidence = pair.Evidence.ToArray().Concat(reverse.Evidence.ToArray()).Order().ToArray();
        return
        [
            new InsiderSignal
            {
                Principal = approver.Name,
                Role = approver.Role,
                Clearance = approver.Clearance,
                Time = entry.Time,
                LedgerIndex = index,
                Score = score,
                Counterpart = importer,
                Features =
                [
                    new InsiderFeatureValue
                    {
                        Feature = InsiderFeature.ApprovalPair,
                        Value = Math.Round(Math.Min(pair.Weight, reverseWeight), 2),
                        PrincipalBaseline = Math.Round(approver.Approvals, 2),
                        Score = score,
                        Evidence = evidence,
                    },
                ],
            },
        ];
    }

    private double Decay(double value, long fromDay, long toDay) =>
        toDay <= fromDay ? value : value * Math.Pow(0.5, (toDay - fromDay) / _options.ApprovalHalfLifeDays);

    private void Raise(PrincipalState state, InsiderFeature feature, double score, long index, DateTimeOffset time, string? counterpart, ref List<InsiderSignal>? raised)
    {
        state.TodayScore[(int)feature] = (float)score;
        if (!Due(state, feature, score))
        {
            return;
        }

        state.Emitted[(int)feature] = (float)score;
        var features = new List<InsiderFeatureValue> { Describe(state, feature) };
        var total = score;
        for (var f = 0; f < AllFeatures; f++)
        {
            if (f != (int)feature && f != (int)InsiderFeature.ApprovalPair && state.TodayScore[f] >= _options.Threshold / 2)
            {
                features.Add(Describe(state, (InsiderFeature)f));
                total += state.TodayScore[f] / 2;
            }
        }

        (raised ??= []).Add(new InsiderSignal
        {
            Principal = state.Name,
            Role = state.Role,
            Clearance = state.Clearance,
            Time = time,
            LedgerIndex = index,
            Score = total,
            Counterpart = counterpart,
            Features = features,
        });
    }

    private InsiderFeatureValue Describe(PrincipalState state, InsiderFeature feature)
    {
        var f = (int)feature;
        var evidence = state.Evidence[f]?.ToArray() ?? [];
        var todayLabel = state.LabelRing[(int)(state.Day % _window)];
        return feature switch
        {
            InsiderFeature.LabelAboveUsual => new InsiderFeatureValue
            {
                Feature = feature,
                Value = todayLabel,
                PrincipalBaseline = state.WindowMaxLabel,
                PeerBaseline = state.ClearanceRank >= 0 ? state.ClearanceRank : null,
                Score = state.TodayScore[f],
                Evidence = evidence,
            },
            InsiderFeature.SensitiveReadsOverWindow => new InsiderFeatureValue
            {
                Feature = feature,
                Value = NormalizedWindowTotal(state),
                PeerBaseline = PeerMedian(state, WindowFeature),
                Score = state.TodayScore[f],
                Evidence = evidence,
            },
            _ => new InsiderFeatureValue
            {
                Feature = feature,
                Value = state.Ring[Slot(state) + f],
                PrincipalBaseline = state.HistoryDays >= _options.MinHistoryDays ? state.Median[f] : null,
                PeerBaseline = PeerMedian(state, f),
                Score = state.TodayScore[f],
                Evidence = evidence,
            },
        };
    }

    private sealed class PairState(int evidence)
    {
        public double Weight { get; private set; }

        public long Day { get; private set; }

        public EvidenceRing Evidence { get; } = new(evidence);

        public void Add(long day, long index, double halfLife)
        {
            if (day > Day)
            {
                Weight *= Math.Pow(0.5, (day - Day) / halfLife);
                Day = day;
            }

            Weight++;
            Evidence.Add(index);
        }
    }
}
