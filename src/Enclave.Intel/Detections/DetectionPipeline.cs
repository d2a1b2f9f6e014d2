using System.Globalization;
using Enclave.Intel.Alerts;
using Enclave.Intel.Insider;
using Enclave.Intel.Sigma;
using Enclave.Core.Audit;
using Enclave.State.Detections;

namespace Enclave.Intel.Detections;

/// <summary>
/// The live detections: the one consumer of the ledger's append feed that scores every entry, in ledger order, through
/// the Sigma engine (the live rules of <see cref="LiveSigmaRules"/>, selections and correlations) and the
/// <see cref="InsiderEngine"/>, and raises an alert (<see cref="AlertService"/>) for each Sigma match and insider
/// signal. Where it is in the ledger is persisted (<see cref="IDetectionStore"/>, consumer <see cref="Consumer"/>)
/// at most every <see cref="DetectionOptions.CursorInterval"/> while entries flow, when the feed goes quiet and on stop, so
/// a restart resumes at or shortly before the first entry not processed; alerts carry deduplication keys (rule or
/// principal and ledger index), so an entry processed again after a crash raises nothing twice. Entries written by
/// the detections themselves (<c>alert.*</c>, <c>detections.*</c>) are not scored: no feedback loops.
/// </summary>
/// <remarks>
/// At <see cref="Start"/> the engines' state is rebuilt by replaying, with alerts suppressed, at most
/// <see cref="InsiderDetectionOptions.ReplayEntries"/> entries before the cursor (only those within
/// <see cref="InsiderDetectionOptions.WindowDays"/> of now reach the insider engine). A first start (no cursor) begins
/// at the ledger's end: history before it only warms the baselines. Not thread-safe: one caller (a hosted service).
/// </remarks>
public sealed class DetectionPipeline
{
    /// <summary>The consumer name of the cursor in <c>detection_cursors</c>.</summary>
    public const string Consumer = "detections";

    private readonly LedgerFeed _feed;
    private readonly IDetectionStore _store;
    private readonly AlertService _alerts;
    private readonly LiveSigmaRules _rules;
    private readonly DetectionOptions _options;
    private readonly TimeProvider _clock;
    private InsiderEngine _insider;
    private SigmaEngine? _sigma;
    private AuditEntryReader? _reader;
    private int _sigmaVersion = -1;
    private long _next = -1;
    private long _persisted = -1;
    private DateTimeOffset _persistedAt = DateTimeOffset.MinValue;
    private long _processed;
    private long _skippedOwn;
    private long _unreadable;
    private long _sigmaAlerts;
    private long _insiderAlerts;
    private long _alertFailures;
    private long _replayed;
    private DateTimeOffset? _lastEntryTime;

    /// <summary>A pipeline over <paramref name="feed"/>.</summary>
    public DetectionPipeline(LedgerFeed feed, IDetectionStore store, AlertService alerts, LiveSigmaRules rules, DetectionOptions options, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(feed);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(alerts);
        ArgumentNullException.ThrowIfNull(rules);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(clock);
        _feed = feed;
        _store = store;
        _alerts = alerts;
        _rules = rules;
        _options = options;
        _clock = clock;
        _insider = new InsiderEngine(options.Insider.EngineOptions());
    }

    /// <summary>A failure to raise one alert (the entry is still counted as processed).</summary>
    public event Action<Exception>? AlertFailed;

    /// <summary>The next ledger index to process (-1 before <see cref="Start"/>).</summary>
    public long NextIndex => Interlocked.Read(ref _next);

    /// <summary>What the pipeline has done since it started.</summary>
    public DetectionStatus Status()
    {
        var next = NextIndex;
        var size = _feed.LedgerSize;
        return new DetectionStatus
        {
            Enabled = true,
            SigmaEnabled = _options.Sigma.Enabled,
            InsiderEnabled = _options.Insider.Enabled,
            RuleSets = _rules.Sets,
            LiveRules = _rules.Sets.Sum(s => s.Rules),
            NextIndex = next,
            LedgerSize = size,
            Lag = next < 0 ? size : Math.Max(0, size - next),
            Processed = Interlocked.Read(ref _processed),
            Replayed = Interlocked.Read(ref _replayed),
            SkippedOwn = Interlocked.Read(ref _skippedOwn),
            Unreadable = Interlocked.Read(ref _unreadable),
            SigmaAlerts = Interlocked.Read(ref _sigmaAlerts),
            InsiderAlerts = Interlocked.Read(ref _insiderAlerts),
            AlertFailures = Interlocked.Read(ref _alertFailures),
            FeedDropped = _feed.Dropped,
            FeedFromStore = _feed.FromStore,
        };
    }

    /// <summary>
    /// Reads the cursor (or starts at the ledger's end), rebuilds the engines' state from the replay window, and
    /// returns the first index to process.
    /// </summary>
    public long Start(CancellationToken cancellationToken = default)
    {
        var cursor = _store.ReadCursor(Consumer);
        var next = cursor ?? _feed.LedgerSize;
        if (cursor is null)
        {
            _store.WriteCursor(Consumer, next, _clock.GetUtcNow());
        }

        _persisted = next;

        _insider = new InsiderEngine(_options.Insider.EngineOptions());
        EnsureSigma();
        var from = Math.Max(0, next - _options.Insider.ReplayEntries);
        var oldest = _clock.GetUtcNow().AddDays(-_options.Insider.WindowDays);
        for (var index = from; index < next; index++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!_feed.TryNext(index, out var entry))
            {
                break;
            }

            Score(index, entry, raise: false, insiderFrom: oldest);
            _replayed++;
        }

        Interlocked.Exchange(ref _next, next);
        return next;
    }

    /// <summary>
    /// Processes up to <paramref name="maxEntries"/> durable entries from the cursor on, raising their alerts, then
    /// lets correlation windows that have closed by now decide, and persists the cursor. Returns the entries processed.
    /// </summary>
    public async Task<int> StepAsync(int maxEntries, CancellationToken cancellationToken)
    {
        if (_next < 0)
        {
            Start(cancellationToken);
        }

        EnsureSigma();
        var done = 0;
        var pending = new List<AlertRequest>();
        while (done < maxEntries && _feed.TryNext(_next, out var entry))
        {
            cancellationToken.ThrowIfCancellationRequested();
            pending.Clear();
            Score(_next, entry, raise: true, insiderFrom: DateTimeOffset.MinValue, pending);
            foreach (var request in pending)
            {
                await RaiseAsync(request).ConfigureAwait(false);
            }

            Interlocked.Increment(ref _next);
            Interlocked.Increment(ref _processed);
            done++;
        }

        if (_sigma is not null && _options.Sigma.Enabled)
        {
            var now = _clock.GetUtcNow();
            if (_lastEntryTime is null || now > _lastEntryTime)
            {
                foreach (var match in _sigma.Advance(now))
                {
                    await RaiseAsync(SigmaAlert(match)).ConfigureAwait(false);
                }
            }
        }

        if (done > 0 && _clock.GetUtcNow() - _persistedAt >= _options.CursorInterval)
        {
            PersistCursor();
        }

        return done;
    }

    /// <summary>
    /// Writes the cursor (the next index to process) when it moved since it was last written: <see cref="StepAsync"/>
    /// does so at most every <see cref="DetectionOptions.CursorInterval"/>; <see cref="RunAsync"/> also when the feed is
    /// quiet and when it stops.
    /// </summary>
    public void PersistCursor()
    {
        var next = Interlocked.Read(ref _next);
        if (next < 0 || next == _persisted)
        {
            return;
        }

        var now = _clock.GetUtcNow();
        _store.WriteCursor(Consumer, next, now);
        _persisted = next;
        _persistedAt = now;
    }

    /// <summary>Runs until <paramref name="cancellationToken"/> fires: start, then steps, waiting for the feed between them.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (_next < 0)
        {
            Start(cancellationToken);
        }

        try
        {
            var quiet = false;
            while (!cancellationToken.IsCancellationRequested)
            {
                if (await StepAsync(4096, cancellationToken).ConfigureAwait(false) > 0)
                {
                    quiet = false;
                    continue;
                }

                if (quiet)
                {
                    // A whole poll interval without entries: keep the place exactly.
                    PersistCursor();
                }

                await _feed.WaitAsync(_options.PollInterval, cancellationToken).ConfigureAwait(false);
                quiet = true;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            PersistCursor();
            throw;
        }

        PersistCursor();
    }

    /// <summary>Scores one entry; the alerts it calls for go to <paramref name="pending"/> when <paramref name="raise"/>.</summary>
    private void Score(long index, byte[] entry, bool raise, DateTimeOffset insiderFrom, List<AlertRequest>? pending = null)
    {
        // One parse for both engines: the insider event and the Sigma event from one pass, with only the fields the
        // loaded rules and the insider engine read (AuditEntryReader, its view valid until the next entry).
        AuditEntryView view;
        try
        {
            view = _reader!.Read(entry, index);
        }
        catch (FormatException)
        {
            _unreadable++;
            return;
        }

        var parsed = view.Insider;
        if (parsed.Type.StartsWith("alert.", StringComparison.Ordinal) || parsed.Type.StartsWith("detections.", StringComparison.Ordinal))
        {
            _skippedOwn++;
            return;
        }

        _lastEntryTime = parsed.Time;
        if (_options.Insider.Enabled && parsed.Time >= insiderFrom)
        {
            foreach (var signal in _insider.Observe(parsed, index))
            {
                if (raise)
                {
                    pending!.Add(InsiderAlert(signal));
                }
            }
        }

        if (_sigma is not null && _options.Sigma.Enabled)
        {
            if (view.Sigma is not { } e)
            {
                _unreadable++;
                return;
            }

            foreach (var match in _sigma.Observe(e))
            {
                if (raise)
                {
                    pending!.Add(SigmaAlert(match));
                }
            }
        }
    }

    private void EnsureSigma()
    {
        var version = _rules.Version;
        if (version == _sigmaVersion && _reader is not null)
        {
            return;
        }

        // New rules: a new engine (open correlation windows start afresh).
        var set = _rules.Current;
        _sigma = set.Rules.Count + set.Correlations.Count == 0 ? null : new SigmaEngine(set);
        _reader = new AuditEntryReader(_sigma is not null, _sigma is null ? null : set.FieldsRead(), InsiderEngine.DetailsRead);
        _sigmaVersion = version;
    }

    private async Task RaiseAsync(AlertRequest request)
    {
        try
        {
            await _alerts.RaiseAsync(request, CancellationToken.None).ConfigureAwait(false);
            if (request.Kind == AlertKind.Insider)
            {
                Interlocked.Increment(ref _insiderAlerts);
            }
            else
            {
                Interlocked.Increment(ref _sigmaAlerts);
            }
        }
        catch (Exception ex) when (ex is AlertException or InvalidOperationException or IOException or System.Data.Common.DbException or LedgerWriteException)
        {
            Interlocked.Increment(ref _alertFailures);
            AlertFailed?.Invoke(ex);
        }
    }

    /// <summary>The alert for one Sigma match: kind detection, the rule's level as severity, the evidence entries.</summary>
    public static AlertRequest SigmaAlert(SigmaMatch match)
    {
        ArgumentNullException.ThrowIfNull(match);
        var rule = match.RuleId ?? match.Title;
        var facts = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["rule"] = Clip(rule, 512),
            ["ruleTitle"] = Clip(match.Title, 512),
            ["match"] = match.Kind == SigmaMatchKind.Correlation ? "correlation" : "detection",
        };
        if (match.Level is { } level)
        {
            facts["level"] = Clip(level, 64);
        }

        if (match.Value is { } value)
        {
            facts["value"] = value.ToString(CultureInfo.InvariantCulture);
        }

        foreach (var (field, groupValue) in match.Group.Take(AlertService.MaxFacts - facts.Count))
        {
            facts["group." + Clip(field, 200)] = Clip(groupValue ?? "(null)", 512);
        }

        var evidence = match.Evidence.Count <= AlertService.MaxLedgerIndices ? match.Evidence : match.Evidence.Skip(match.Evidence.Count - AlertService.MaxLedgerIndices).ToList();
        var last = evidence.Count == 0 ? "none" : evidence[^1].ToString(CultureInfo.InvariantCulture);
        return new AlertRequest
        {
            Kind = AlertKind.Detection,
            Severity = Severity(match.Level),
            Title = Clip($"Sigma rule '{match.Title}' matched", AlertService.MaxTitleLength),
            Subject = Clip("sigma:" + rule, 512),
            Evidence = new AlertEvidence
            {
                Summary = Clip(
                    match.Kind == SigmaMatchKind.Correlation
                        ? $"correlation '{match.Title}' ({rule}) held over {evidence.Count} ledger entries ending at {last}{(match.Group.Count > 0 ? " for " + string.Join(", ", match.Group.Select(g => $"{g.Key}={g.Value}")) : string.Empty)}"
                        : $"detection rule '{match.Title}' ({rule}) matched ledger entry {last}",
                    AlertService.MaxTextLength),
                LedgerIndices = evidence,
                Facts = facts,
            },
            DeduplicationKey = Clip($"sigma:{rule}:{last}", AlertService.MaxFactLength),
        };
    }

    /// <summary>The alert for one insider signal: its features with value, baselines, score and evidence entries.</summary>
    public static AlertRequest InsiderAlert(InsiderSignal signal)
    {
        ArgumentNullException.ThrowIfNull(signal);
        var facts = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["principal"] = Clip(signal.Principal, 512),
            ["score"] = Number(signal.Score),
        };
        if (signal.Role is { } role)
        {
            facts["role"] = Clip(role, 512);
        }

        if (signal.Clearance is { } clearance)
        {
            facts["clearance"] = Clip(clearance, 512);
        }

        if (signal.Counterpart is { } counterpart)
        {
            facts["counterpart"] = Clip(counterpart, 512);
        }

        foreach (var feature in signal.Features.Take((AlertService.MaxFacts - facts.Count) / 4))
        {
            var name = feature.Feature.ToString();
            facts[name + ".value"] = Number(feature.Value);
            facts[name + ".baseline"] = feature.PrincipalBaseline is { } own ? Number(own) : "none";
            facts[name + ".peerBaseline"] = feature.PeerBaseline is { } peer ? Number(peer) : "none";
            facts[name + ".score"] = Number(feature.Score);
        }

        var indices = signal.Features.SelectMany(f => f.Evidence).Append(signal.LedgerIndex).Distinct().Order().ToList();
        if (indices.Count > AlertService.MaxLedgerIndices)
        {
            indices = indices.Skip(indices.Count - AlertService.MaxLedgerIndices).ToList();
        }

        var first = signal.Features.Count > 0 ? signal.Features[0] : null;
        var headline = first is null
            ? "unusual behaviour"
            : $"{first.Feature} {Number(first.Value)} (own baseline {(first.PrincipalBaseline is { } b ? Number(b) : "none")}, peers {(first.PeerBaseline is { } p ? Number(p) : "none")})";
        return new AlertRequest
        {
            Kind = AlertKind.Insider,
            Severity = signal.Score >= 8 ? AlertSeverity.High : AlertSeverity.Medium,
            Title = Clip($"Insider analytics: {signal.Principal}: {headline}", AlertService.MaxTitleLength),
            Subject = Clip(signal.Principal, 512),
            Evidence = new AlertEvidence
            {
                Summary = Clip(
                    $"{signal.Principal} scored {Number(signal.Score)} at ledger entry {signal.LedgerIndex}: " +
                    string.Join("; ", signal.Features.Select(f => $"{f.Feature} {Number(f.Value)} against own {(f.PrincipalBaseline is { } o ? Number(o) : "none")} and peers {(f.PeerBaseline is { } q ? Number(q) : "none")} (score {Number(f.Score)})")),
                    AlertService.MaxTextLength),
                LedgerIndices = indices,
                Facts = facts,
            },
            DeduplicationKey = Clip($"insider:{signal.Principal}:{signal.LedgerIndex}", AlertService.MaxFactLength),
        };
    }

    private static AlertSeverity Severity(string? level) => level?.ToLowerInvariant() switch
    {
        "informational" => AlertSeverity.Info,
        "low" => AlertSeverity.Low,
        "high" => AlertSeverity.High,
        "critical" => AlertSeverity.Critical,
        _ => AlertSeverity.Medium,
    };

    private static string Number(double value) => Math.Round(value, 2).ToString(CultureInfo.InvariantCulture);

    private static string Clip(string s, int max) => s.Length <= max ? s : s[..(max - 1)] + "…";
}
