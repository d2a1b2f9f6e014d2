using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Core.Audit;
using Enclave.State.Alerts;

namespace Enclave.Intel.Alerts;

/// <summary>
/// Raises alerts and moves them through their lifecycle, every step a ledger entry: <c>alert.raised</c>,
/// <c>alert.acknowledged</c>, <c>alert.resolved</c> (see docs/audit-events.md). The ledger entry is written, and
/// durable, before the alert's row changes, so the ledger never lacks what the store shows; the row links back to the
/// entries by index (<see cref="Alert.RaisedIndex"/>, <see cref="Alert.UpdatedIndex"/>).
/// </summary>
/// <remarks>
/// For a source of alerts (intel matching, Sigma rules, insider analytics, vulnerability findings): build an
/// <see cref="AlertRequest"/> and call <see cref="RaiseAsync"/>; give a <see cref="AlertRequest.DeduplicationKey"/>
/// when the same condition may be seen again (a retro-hunt run twice, a finding re-evaluated) so it is raised once.
/// Changes are serialised here, so two people acknowledging at once give one entry and one refusal.
/// </remarks>
public sealed class AlertService
{
    /// <summary>Longest title, in characters.</summary>
    public const int MaxTitleLength = 256;

    /// <summary>Longest evidence summary, acknowledgement note or resolution reason, in characters.</summary>
    public const int MaxTextLength = 2048;

    /// <summary>Most ledger indices one alert's evidence cites.</summary>
    public const int MaxLedgerIndices = 256;

    /// <summary>Most named facts in one alert's evidence.</summary>
    public const int MaxFacts = 32;

    /// <summary>Longest fact name, value or deduplication key, in characters.</summary>
    public const int MaxFactLength = 512;

    private readonly ILedger _ledger;
    private readonly IAlertStore _store;
    private readonly TimeProvider _clock;
    private readonly AlertMetrics? _metrics;
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>Alerts kept in <paramref name="store"/>, recorded in <paramref name="ledger"/>.</summary>
    public AlertService(ILedger ledger, IAlertStore store, TimeProvider clock, AlertMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(ledger);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(clock);
        _ledger = ledger;
        _store = store;
        _clock = clock;
        _metrics = metrics;
    }

    /// <summary>
    /// Raises an alert: <c>alert.raised</c> is appended (durable) and the alert stored, open. With a deduplication key
    /// already used, returns that alert and writes nothing.
    /// </summary>
    /// <exception cref="AlertException"><see cref="AlertError.InvalidInput"/>: every problem of the request, listed.</exception>
    public async Task<Alert> RaiseAsync(AlertRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var problems = Validate(request);
        if (problems.Count > 0)
        {
            throw new AlertException(AlertError.InvalidInput, "alert not raised: " + string.Join("; ", problems));
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (request.DeduplicationKey is { } key && _store.FindByDedupKey(key) is { } existing)
            {
                return ToAlert(existing);
            }

            var id = "alert_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
            var now = _clock.GetUtcNow();
            var evidence = EvidenceJson(request.Evidence);
            var details = new AlertRaisedDetails
            {
                AlertId = id,
                Kind = request.Kind.Name(),
                Severity = request.Severity.Name(),
                Title = request.Title,
                Subject = request.Subject,
                Evidence = evidence,
                DedupKey = request.DeduplicationKey,
            };
            var index = await _ledger.AppendAsync(AuditEvent.Create(now, request.Actor, "alert:" + id, details), CancellationToken.None).ConfigureAwait(false);
            var row = new AlertRow
            {
                Id = id,
                Kind = request.Kind.Name(),
                Severity = request.Severity.Name(),
                Title = request.Title,
                Subject = request.Subject,
                Evidence = evidence.ToJsonString(),
                DedupKey = request.DeduplicationKey,
                State = AlertState.Open.Name(),
                Raised = now,
                RaisedBy = request.Actor,
                RaisedIndex = index,
            };
            _store.Add(row);
            _metrics?.Raised(request.Kind, request.Severity);
            return ToAlert(row);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Moves an open alert to acknowledged (<c>alert.acknowledged</c>), with an optional note.</summary>
    /// <exception cref="AlertException">Not found, not open, or the note too long; nothing was written.</exception>
    public Task<Alert> AcknowledgeAsync(string id, string actor, string? note, CancellationToken cancellationToken = default) =>
        ChangeAsync(id, actor, AlertState.Acknowledged, note, null, cancellationToken);

    /// <summary>As <see cref="AcknowledgeAsync(string, string, string?, CancellationToken)"/>, naming where it was done (<c>via</c>, e.g. <c>console</c>) in the entry.</summary>
    public Task<Alert> AcknowledgeAsync(string id, string actor, string? note, string? via, CancellationToken cancellationToken) =>
        ChangeAsync(id, actor, AlertState.Acknowledged, note, via, cancellationToken);

    /// <summary>
    /// Resolves an open or acknowledged alert (<c>alert.resolved</c>) as <see cref="AlertState.Resolved"/>, or as
    /// <see cref="AlertState.FalsePositive"/> when <paramref name="falsePositive"/>; a reason is required.
    /// </summary>
    /// <exception cref="AlertException">Not found, already resolved, or no reason; nothing was written.</exception>
    public Task<Alert> ResolveAsync(string id, string actor, bool falsePositive, string reason, CancellationToken cancellationToken = default) =>
        ChangeAsync(id, actor, falsePositive ? AlertState.FalsePositive : AlertState.Resolved, reason, null, cancellationToken);

    /// <summary>As <see cref="ResolveAsync(string, string, bool, string, CancellationToken)"/>, naming where it was done (<c>via</c>, e.g. <c>console</c>) in the entry.</summary>
    public Task<Alert> ResolveAsync(string id, string actor, bool falsePositive, string reason, string? via, CancellationToken cancellationToken) =>
        ChangeAsync(id, actor, falsePositive ? AlertState.FalsePositive : AlertState.Resolved, reason, via, cancellationToken);

    /// <summary>The alert with this ID, or null.</summary>
    public Alert? Find(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        return _store.Find(id) is { } row ? ToAlert(row) : null;
    }

    /// <summary>Alerts matching <paramref name="filter"/>, newest first.</summary>
    /// <exception cref="AlertException"><see cref="AlertError.InvalidInput"/> for a limit outside 1 to <see cref="AlertFilter.MaxLimit"/>.</exception>
    public IReadOnlyList<Alert> List(AlertFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        if (filter.Limit is < 1 or > AlertFilter.MaxLimit)
        {
            throw new AlertException(AlertError.InvalidInput, $"limit {filter.Limit} is outside 1 to {AlertFilter.MaxLimit}");
        }

        var query = new AlertQuery
        {
            States = filter.States?.Select(s => s.Name()).ToList(),
            Kind = filter.Kind?.Name(),
            Severities = filter.MinimumSeverity is { } min ? [.. Enum.GetValues<AlertSeverity>().Where(s => s >= min).Select(s => s.Name())] : null,
            Since = filter.Since,
            Limit = filter.Limit,
        };
        return [.. _store.List(query).Select(ToAlert)];
    }

    private async Task<Alert> ChangeAsync(string id, string actor, AlertState target, string? reason, string? via, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentException.ThrowIfNullOrEmpty(actor);
        reason = string.IsNullOrWhiteSpace(reason) ? null : reason.Trim();
        if (target is AlertState.Resolved or AlertState.FalsePositive && reason is null)
        {
            throw new AlertException(AlertError.InvalidInput, $"alert {id} not changed: a reason is required to mark it {target.Name()}");
        }

        if (reason is { Length: > MaxTextLength })
        {
            throw new AlertException(AlertError.InvalidInput, $"alert {id} not changed: the reason is {reason.Length} characters; the limit is {MaxTextLength}");
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var row = _store.Find(id) ?? throw new AlertException(AlertError.NotFound, $"no alert has ID '{Shorten(id)}'");
            var current = ToAlert(row);
            var allowed = target == AlertState.Acknowledged
                ? current.State == AlertState.Open
                : current.State is AlertState.Open or AlertState.Acknowledged;
            if (!allowed)
            {
                throw new AlertException(
                    AlertError.InvalidTransition,
                    $"alert {id} is {current.State.Name()}; it cannot be marked {target.Name()} (open → acknowledged → resolved or false-positive)");
            }

            var now = _clock.GetUtcNow();
            var (type, entry) = target == AlertState.Acknowledged
                ? (AuditEventTypes.AlertAcknowledged, AuditEvent.Create(now, actor, "alert:" + id, new AlertAcknowledgedDetails
                {
                    AlertId = id,
                    RaisedIndex = row.RaisedIndex,
                    From = current.State.Name(),
                    Note = reason,
                    Via = via,
                }))
                : (AuditEventTypes.AlertResolved, AuditEvent.Create(now, actor, "alert:" + id, new AlertResolvedDetails
                {
                    AlertId = id,
                    RaisedIndex = row.RaisedIndex,
                    From = current.State.Name(),
                    Resolution = target.Name(),
                    Reason = reason,
                    Via = via,
                }));
            var index = await _ledger.AppendAsync(entry, CancellationToken.None).ConfigureAwait(false);
            if (!_store.ChangeState(id, row.State, new AlertStateChange(target.Name(), now, actor, index, reason)))
            {
                // Only this service changes alerts and it holds the gate: a miss means the store was changed behind it.
                throw new InvalidOperationException($"alert {id} changed in the store while its {type} entry (ledger index {index}) was written");
            }

            _metrics?.Changed(current.Kind, target);
            return current with { State = target, Updated = now, UpdatedBy = actor, UpdatedIndex = index, Reason = reason };
        }
        finally
        {
            _gate.Release();
        }
    }

    private List<string> Validate(AlertRequest request)
    {
        var problems = new List<string>();
        if (!Enum.IsDefined(request.Kind))
        {
            problems.Add($"kind {(int)request.Kind} is not one of {string.Join(", ", AlertNames.Kinds)}");
        }

        if (!Enum.IsDefined(request.Severity))
        {
            problems.Add($"severity {(int)request.Severity} is not one of {string.Join(", ", AlertNames.Severities)}");
        }

        CheckText(problems, "title", request.Title, MaxTitleLength);
        CheckText(problems, "subject", request.Subject, AuditEvent.MaxFieldLength);
        CheckText(problems, "actor", request.Actor, AuditEvent.MaxFieldLength);
        if (request.DeduplicationKey is { } key)
        {
            CheckText(problems, "deduplication key", key, MaxFactLength);
        }

        var evidence = request.Evidence;
        if (evidence is null)
        {
            problems.Add("evidence is missing");
            return problems;
        }

        CheckText(problems, "evidence summary", evidence.Summary, MaxTextLength);
        var indices = evidence.LedgerIndices ?? [];
        if (indices.Count > MaxLedgerIndices)
        {
            problems.Add($"evidence cites {indices.Count} ledger entries; the limit is {MaxLedgerIndices}");
        }

        var size = _ledger.Size;
        var outside = indices.Where(i => i < 0 || i >= size).Take(5).ToList();
        if (outside.Count > 0)
        {
            problems.Add($"evidence cites ledger {(outside.Count == 1 ? "index" : "indices")} {string.Join(", ", outside)}, not in the ledger (size {size})");
        }

        var facts = evidence.Facts ?? new Dictionary<string, string>();
        if (facts.Count > MaxFacts)
        {
            problems.Add($"evidence has {facts.Count} facts; the limit is {MaxFacts}");
        }

        foreach (var (name, value) in facts.Take(MaxFacts))
        {
            CheckText(problems, "fact name", name, MaxFactLength);
            if (value is null || value.Length > MaxFactLength)
            {
                problems.Add($"fact '{Shorten(name)}' must have a value of at most {MaxFactLength} characters");
            }
        }

        return problems;
    }

    private static void CheckText(List<string> problems, string name, string? value, int max)
    {
        if (string.IsNullOrWhiteSpace(value) || value.Length > max || value.Any(char.IsControl) && name != "evidence summary")
        {
            problems.Add($"{name} must be 1 to {max} characters{(name == "evidence summary" ? string.Empty : " without control characters")}");
        }
    }

    private static JsonObject EvidenceJson(AlertEvidence evidence)
    {
        var facts = new JsonObject();
        foreach (var (name, value) in (evidence.Facts ?? new Dictionary<string, string>()).OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            facts[name] = value;
        }

        return new JsonObject
        {
            ["summary"] = evidence.Summary,
            ["ledgerIndices"] = new JsonArray([.. (evidence.LedgerIndices ?? []).Distinct().Order().Select(i => JsonValue.Create(i))]),
            ["facts"] = facts,
        };
    }

    private static Alert ToAlert(AlertRow row)
    {
        using var evidence = JsonDocument.Parse(row.Evidence);
        var root = evidence.RootElement;
        return new Alert
        {
            Id = row.Id,
            Kind = AlertNames.TryParseKind(row.Kind, out var kind) ? kind : throw StoredValue(row, "kind", row.Kind),
            Severity = AlertNames.TryParseSeverity(row.Severity, out var severity) ? severity : throw StoredValue(row, "severity", row.Severity),
            Title = row.Title,
            Subject = row.Subject,
            Evidence = new AlertEvidence
            {
                Summary = root.GetProperty("summary").GetString() ?? string.Empty,
                LedgerIndices = [.. root.GetProperty("ledgerIndices").EnumerateArray().Select(i => i.GetInt64())],
                Facts = root.GetProperty("facts").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? string.Empty, StringComparer.Ordinal),
            },
            DeduplicationKey = row.DedupKey,
            State = AlertNames.TryParseState(row.State, out var state) ? state : throw StoredValue(row, "state", row.State),
            Raised = row.Raised,
            RaisedBy = row.RaisedBy,
            RaisedIndex = row.RaisedIndex,
            Updated = row.Updated,
            UpdatedBy = row.UpdatedBy,
            UpdatedIndex = row.UpdatedIndex,
            Reason = row.Reason,
        };
    }

    private static InvalidDataException StoredValue(AlertRow row, string field, string value) =>
        new(string.Create(CultureInfo.InvariantCulture, $"alert {row.Id} has {field} '{Shorten(value)}' in the store, which this release does not know"));

    private static string Shorten(string? s) => s is null ? "(none)" : s.Length <= 64 ? s : s[..64] + "…";
}
