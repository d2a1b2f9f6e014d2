using System.Globalization;
using Enclave.Core.Audit;
using Enclave.Intel.Alerts;

namespace Enclave.Intel.Live;

/// <summary>
/// Matches the live indicators against the ledger's history: past imports' digests, past requests' client addresses,
/// <c>user</c> fields and principals. Entries are streamed in batches of <see cref="BatchSize"/> from a read-only
/// reader beside the writer, so memory stays flat however long the ledger is. Each past hit is an alert
/// (deduplicated: a hunt run twice raises nothing new) that says whether the entry was there before the indicator
/// arrived; the run is recorded as <c>intel.hunted</c>. One hunt at a time.
/// </summary>
public sealed class RetroHunter
{
    /// <summary>Entries read per batch.</summary>
    public const int BatchSize = 4096;

    /// <summary>Most alerts one hunt raises (every hit is counted).</summary>
    public const int MaxAlertsPerHunt = 1000;

    private readonly LiveIndicators _live;
    private readonly AlertService _alerts;
    private readonly ILedger _ledger;
    private readonly Func<ILedgerHistory> _openReader;
    private readonly TimeProvider _clock;
    private readonly Action<string, Exception>? _onFailure;
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>Hunts with <paramref name="live"/>, reading entries through <paramref name="openReader"/>, raising through <paramref name="alerts"/>.</summary>
    public RetroHunter(LiveIndicators live, AlertService alerts, ILedger ledger, Func<ILedgerHistory> openReader, TimeProvider clock, Action<string, Exception>? onFailure = null)
    {
        ArgumentNullException.ThrowIfNull(live);
        ArgumentNullException.ThrowIfNull(alerts);
        ArgumentNullException.ThrowIfNull(ledger);
        ArgumentNullException.ThrowIfNull(openReader);
        ArgumentNullException.ThrowIfNull(clock);
        _live = live;
        _alerts = alerts;
        _ledger = ledger;
        _openReader = openReader;
        _clock = clock;
        _onFailure = onFailure;
    }

    /// <summary>Starts a hunt in the background; a failure goes to the failure callback (the server logs it) and faults the task, never thrown at the caller.</summary>
    public Task<HuntResult?> StartAsync(string trigger, string actor, long from, long? to)
    {
        return Task.Run(async () =>
        {
            try
            {
                return (HuntResult?)await HuntAsync(trigger, actor, from, to, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                _onFailure?.Invoke(trigger, e);
                throw;
            }
        });
    }

    /// <summary>
    /// Hunts entries <paramref name="from"/> (inclusive) to <paramref name="to"/> (exclusive; default the ledger's size
    /// now). Returns what was scanned and found; <c>intel.hunted</c> is in the ledger when it returns.
    /// </summary>
    public async Task<HuntResult> HuntAsync(string trigger, string actor, long from = 0, long? to = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(trigger);
        ArgumentNullException.ThrowIfNull(actor);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var end = Math.Min(to ?? _ledger.Size, _ledger.Size);
            var start = Math.Clamp(from, 0, end);
            var result = _live.IsEmpty ? new HuntResult(start, end, 0, 0, 0) : await ScanAsync(start, end, cancellationToken).ConfigureAwait(false);
            await _ledger.AppendAsync(AuditEvent.Create(_clock.GetUtcNow(), actor, "intel", new IntelHuntedDetails
            {
                Trigger = trigger,
                From = result.From,
                To = result.To,
                Entries = result.Entries,
                Hits = result.Hits,
                Alerts = result.Alerts,
            }), CancellationToken.None).ConfigureAwait(false);
            return result;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<HuntResult> ScanAsync(long start, long end, CancellationToken cancellationToken)
    {
        var now = _clock.GetUtcNow();
        long entries = 0, hits = 0;
        var alerts = 0;
        var observations = new List<(LedgerObservations.Category Category, string Value)>();
        using var reader = _openReader();
        for (var next = start; next < end;)
        {
            var batch = reader.ReadEntries(next, (int)Math.Min(BatchSize, end - next));
            if (batch.Count == 0)
            {
                break;
            }

            for (var i = 0; i < batch.Count; i++)
            {
                var index = next + i;
                observations.Clear();
                var type = LedgerObservations.Read(batch[i], observations);
                foreach (var (category, value) in observations)
                {
                    foreach (var (property, lookup) in LedgerObservations.Lookups(category, value))
                    {
                        foreach (var hit in _live.Match(property, lookup, now))
                        {
                            hits++;
                            if (alerts < MaxAlertsPerHunt && await RaiseAsync(hit, category, value, type!, index, cancellationToken).ConfigureAwait(false))
                            {
                                alerts++;
                            }
                        }
                    }
                }
            }

            entries += batch.Count;
            next += batch.Count;
        }

        return new HuntResult(start, end, entries, hits, alerts);
    }

    private async Task<bool> RaiseAsync(IndicatorHit hit, LedgerObservations.Category category, string value, string type, long index, CancellationToken cancellationToken)
    {
        var before = index < hit.ArrivedIndex;
        var when = before ? "seen before the indicator arrived" : "seen after the indicator arrived";
        var what = category switch
        {
            LedgerObservations.Category.Digest => "digest",
            LedgerObservations.Category.Address => "client address",
            LedgerObservations.Category.User => "user",
            _ => "principal",
        };
        var key = $"intel:{hit.IndicatorId}:{index.ToString(CultureInfo.InvariantCulture)}:{what}";
        var request = new AlertRequest
        {
            Kind = AlertKind.Intel,
            Severity = AlertSeverity.High,
            Title = Clip($"retro-hunt: {type} at ledger index {index} matched indicator {hit.Name ?? hit.IndicatorId} ({when})", AlertService.MaxTitleLength),
            Subject = "ledger:" + index.ToString(CultureInfo.InvariantCulture),
            Evidence = new AlertEvidence
            {
                Summary = Clip($"{when}: the {what} {value} of {type} entry {index} matches indicator {hit.IndicatorId}, loaded from import {hit.ImportId} when the ledger had {hit.ArrivedIndex} entries.", AlertService.MaxTextLength),
                LedgerIndices = [index],
                Facts = new Dictionary<string, string>(StringComparer.Ordinal)
                {
                    ["indicator"] = hit.IndicatorId,
                    ["indicatorImport"] = hit.ImportId,
                    ["matched"] = Clip(what + " " + value, AlertService.MaxFactLength),
                    ["entryType"] = type,
                    ["seen"] = before ? "before-indicator" : "after-indicator",
                    ["retroHunt"] = "true",
                },
            },
            DeduplicationKey = Clip(key, AlertService.MaxFactLength),
        };
        var sizeBefore = _ledger.Size;
        var raised = await _alerts.RaiseAsync(request, cancellationToken).ConfigureAwait(false);
        return raised.RaisedIndex >= sizeBefore; // an older index: raised by an earlier hunt (deduplicated)
    }

    private static string Clip(string s, int max) => AlertText.Clip(s, max);
}

/// <summary>One retro-hunt: the range of ledger indices scanned (<c>[From, To)</c>), entries read, indicator hits, alerts raised (new ones).</summary>
public sealed record HuntResult(long From, long To, long Entries, long Hits, int Alerts);
