using System.Diagnostics.Metrics;
using System.Text.Json;
using Enclave.Core.Audit;
using Enclave.Intel.Alerts;
using Enclave.Ledger;
using Enclave.State;
using Enclave.State.Alerts;
using Microsoft.Extensions.Time.Testing;

namespace Enclave.Intel.Tests.Alerts;

/// <summary>
/// <see cref="AlertService"/> over a real ledger and the real alerts table in one temporary data directory: each
/// step is exactly one ledger entry, linked from the alert by index; refused steps write nothing.
/// </summary>
public sealed class AlertServiceTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.Parse("2027-03-04T05:06:07Z", System.Globalization.CultureInfo.InvariantCulture));
    private readonly string _dir = Directory.CreateTempSubdirectory("enclave-alerts-").FullName;
    private readonly TestMeterFactory _meters = new();
    private SqliteLedger _ledger = null!;
    private SqliteAlertStore _store = null!;
    private AlertService _alerts = null!;

    public async Task InitializeAsync()
    {
        SqliteLedger.Initialize(_dir, "test.example/alerts", postQuantum: false, _clock);
        _ledger = SqliteLedger.Open(new LedgerOptions { DataDirectory = _dir, CheckpointInterval = TimeSpan.Zero }, _clock);
        _store = new SqliteAlertStore(EnclaveState.Open(_dir, _clock));
        _alerts = new AlertService(_ledger, _store, _clock, new AlertMetrics(_meters, _store));
        // Two entries for evidence to cite.
        await _ledger.AppendAsync(new AuditEvent { Type = "import.verified", Time = _clock.GetUtcNow(), Actor = "user:imp", Subject = "import:i1" });
        await _ledger.AppendAsync(new AuditEvent { Type = "request.admitted", Time = _clock.GetUtcNow(), Actor = "user:bob", Subject = "model:m" });
    }

    public async Task DisposeAsync()
    {
        await _ledger.DisposeAsync();
        _meters.Dispose();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
            // Pooled SQLite connections may hold the file a moment longer; temp is cleaned by the OS.
        }
    }

    [Fact]
    public async Task Raise_AppendsAlertRaised_AndTheAlertLinksToItsIndex()
    {
        var before = _ledger.Size;

        var alert = await _alerts.RaiseAsync(Request(evidence: [1, 0]));

        Assert.Equal(before + 1, _ledger.Size);
        Assert.Equal(before, alert.RaisedIndex);
        Assert.Matches("^alert_[0-9a-f]{16}$", alert.Id);
        Assert.Equal((AlertState.Open, "system", _clock.GetUtcNow()), (alert.State, alert.RaisedBy, alert.Raised));
        Assert.Equal([0L, 1L], alert.Evidence.LedgerIndices);

        var entry = Entry(alert.RaisedIndex);
        Assert.Equal(("alert.raised", "system", "alert:" + alert.Id), (entry.Type, entry.Actor, entry.Subject));
        var details = entry.Details!.Value;
        Assert.Equal(alert.Id, details.GetProperty("alertId").GetString());
        Assert.Equal("intel", details.GetProperty("kind").GetString());
        Assert.Equal("high", details.GetProperty("severity").GetString());
        Assert.Equal("import:i1", details.GetProperty("subject").GetString());
        Assert.Equal("[0,1]", details.GetProperty("evidence").GetProperty("ledgerIndices").GetRawText());
        Assert.Equal("indicator--1", details.GetProperty("evidence").GetProperty("facts").GetProperty("indicator").GetString());

        Assert.Equal(alert, _alerts.Find(alert.Id));
    }

    [Fact]
    public async Task Lifecycle_OpenAcknowledgedResolved_EachStepOneEntryNamingTheRaisedIndex()
    {
        var alert = await _alerts.RaiseAsync(Request());
        _clock.Advance(TimeSpan.FromMinutes(5));

        var acked = await _alerts.AcknowledgeAsync(alert.Id, "user:alice", "looking into it");
        _clock.Advance(TimeSpan.FromMinutes(5));
        var resolved = await _alerts.ResolveAsync(alert.Id, "user:alice", falsePositive: false, "weights re-imported from the vendor");

        Assert.Equal((AlertState.Acknowledged, "user:alice", "looking into it"), (acked.State, acked.UpdatedBy, acked.Reason));
        Assert.Equal((AlertState.Resolved, "weights re-imported from the vendor"), (resolved.State, resolved.Reason));
        Assert.Equal(resolved, _alerts.Find(alert.Id));

        var ack = Entry(acked.UpdatedIndex!.Value);
        Assert.Equal(("alert.acknowledged", "user:alice", "alert:" + alert.Id), (ack.Type, ack.Actor, ack.Subject));
        Assert.Equal(alert.RaisedIndex, ack.Details!.Value.GetProperty("raisedIndex").GetInt64());
        Assert.Equal("looking into it", ack.Details!.Value.GetProperty("note").GetString());
        var res = Entry(resolved.UpdatedIndex!.Value);
        Assert.Equal("alert.resolved", res.Type);
        Assert.Equal("resolved", res.Details!.Value.GetProperty("resolution").GetString());
        Assert.Equal("acknowledged", res.Details!.Value.GetProperty("from").GetString());
        Assert.Equal("weights re-imported from the vendor", res.Details!.Value.GetProperty("reason").GetString());
        Assert.Equal(resolved.UpdatedIndex + 1, _ledger.Size);
    }

    [Fact]
    public async Task OpenAlert_CanBeMarkedFalsePositiveDirectly()
    {
        var alert = await _alerts.RaiseAsync(Request());

        var fp = await _alerts.ResolveAsync(alert.Id, "user:alice", falsePositive: true, "test traffic from the red team");

        Assert.Equal(AlertState.FalsePositive, fp.State);
        Assert.Equal("false-positive", Entry(fp.UpdatedIndex!.Value).Details!.Value.GetProperty("resolution").GetString());
    }

    [Fact]
    public async Task RefusedChanges_WriteNothing_AndSayWhy()
    {
        var alert = await _alerts.RaiseAsync(Request());
        await _alerts.ResolveAsync(alert.Id, "user:alice", falsePositive: false, "done");
        var size = _ledger.Size;

        var again = await Assert.ThrowsAsync<AlertException>(() => _alerts.AcknowledgeAsync(alert.Id, "user:bob", null));
        var twice = await Assert.ThrowsAsync<AlertException>(() => _alerts.ResolveAsync(alert.Id, "user:bob", true, "no"));
        var missing = await Assert.ThrowsAsync<AlertException>(() => _alerts.AcknowledgeAsync("alert_0000000000000000", "user:bob", null));
        var other = await _alerts.RaiseAsync(Request());
        size = _ledger.Size;
        var noReason = await Assert.ThrowsAsync<AlertException>(() => _alerts.ResolveAsync(other.Id, "user:bob", false, "  "));

        Assert.Equal(AlertError.InvalidTransition, again.Reason);
        Assert.Contains("is resolved; it cannot be marked acknowledged", again.Message, StringComparison.Ordinal);
        Assert.Equal(AlertError.InvalidTransition, twice.Reason);
        Assert.Equal(AlertError.NotFound, missing.Reason);
        Assert.Equal(AlertError.InvalidInput, noReason.Reason);
        Assert.Contains("a reason is required", noReason.Message, StringComparison.Ordinal);
        Assert.Equal(size, _ledger.Size);
        Assert.Equal(AlertState.Open, _alerts.Find(other.Id)!.State);
    }

    [Fact]
    public async Task Raise_WithBadRequest_ListsEveryProblem_AndWritesNothing()
    {
        var size = _ledger.Size;
        var request = Request(evidence: [0, 99, -1]) with
        {
            Title = new string('t', AlertService.MaxTitleLength + 1),
            Subject = "bad\nsubject",
            Evidence = new AlertEvidence
            {
                Summary = "s",
                LedgerIndices = [0, 99, -1],
                Facts = Enumerable.Range(0, AlertService.MaxFacts + 1).ToDictionary(i => "f" + i, i => "v"),
            },
        };

        var ex = await Assert.ThrowsAsync<AlertException>(() => _alerts.RaiseAsync(request));

        Assert.Equal(AlertError.InvalidInput, ex.Reason);
        Assert.Contains("title must be 1 to 256 characters", ex.Message, StringComparison.Ordinal);
        Assert.Contains("subject must be", ex.Message, StringComparison.Ordinal);
        Assert.Contains("indices 99, -1, not in the ledger (size 2)", ex.Message, StringComparison.Ordinal);
        Assert.Contains("33 facts; the limit is 32", ex.Message, StringComparison.Ordinal);
        Assert.Equal(size, _ledger.Size);
        Assert.Empty(_alerts.List(new AlertFilter()));
    }

    [Fact]
    public async Task Raise_WithADeduplicationKeyAlreadyUsed_ReturnsTheFirstAlert_AndWritesNothing()
    {
        var first = await _alerts.RaiseAsync(Request() with { DeduplicationKey = "vuln:model/a:pkg:pypi/x@1:CVE-1" });
        var size = _ledger.Size;

        var second = await _alerts.RaiseAsync(Request() with { DeduplicationKey = "vuln:model/a:pkg:pypi/x@1:CVE-1", Title = "again" });

        Assert.Equal(first, second);
        Assert.Equal(size, _ledger.Size);
        Assert.Single(_alerts.List(new AlertFilter()));
    }

    [Fact]
    public async Task ConcurrentAcknowledgements_OneWins_TheOtherIsRefused()
    {
        var alert = await _alerts.RaiseAsync(Request());
        var size = _ledger.Size;

        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(async i =>
        {
            try
            {
                await _alerts.AcknowledgeAsync(alert.Id, "user:u" + i, null);
                return true;
            }
            catch (AlertException ex) when (ex.Reason == AlertError.InvalidTransition)
            {
                return false;
            }
        }));

        Assert.Equal(1, results.Count(r => r));
        Assert.Equal(size + 1, _ledger.Size);
    }

    [Fact]
    public async Task List_FiltersByStateKindAndMinimumSeverity()
    {
        var low = await _alerts.RaiseAsync(Request() with { Severity = AlertSeverity.Low });
        _clock.Advance(TimeSpan.FromSeconds(1));
        var critical = await _alerts.RaiseAsync(Request() with { Severity = AlertSeverity.Critical, Kind = AlertKind.Vulnerability });
        _clock.Advance(TimeSpan.FromSeconds(1));
        var high = await _alerts.RaiseAsync(Request());
        await _alerts.AcknowledgeAsync(high.Id, "user:a", null);

        Assert.Equal([high.Id, critical.Id, low.Id], Ids(new AlertFilter()));
        Assert.Equal([high.Id, critical.Id], Ids(new AlertFilter { MinimumSeverity = AlertSeverity.High }));
        Assert.Equal([critical.Id, low.Id], Ids(new AlertFilter { States = [AlertState.Open] }));
        Assert.Equal([critical.Id], Ids(new AlertFilter { Kind = AlertKind.Vulnerability }));
        Assert.Equal([high.Id], Ids(new AlertFilter { Limit = 1 }));
        Assert.Equal(AlertError.InvalidInput, Assert.Throws<AlertException>(() => _alerts.List(new AlertFilter { Limit = 0 })).Reason);
    }

    [Fact]
    public async Task Metrics_CountRaisedAndChanged_AndTheGaugeShowsUnresolved()
    {
        using var listener = new MeterListener();
        var counters = new List<(string Name, long Value, string Tags)>();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == AlertMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            counters.Add((instrument.Name, value, string.Join(",", tags.ToArray().Select(t => $"{t.Key}={t.Value}")))));
        listener.Start();

        var a = await _alerts.RaiseAsync(Request() with { Severity = AlertSeverity.Critical, Kind = AlertKind.Vulnerability });
        await _alerts.RaiseAsync(Request());
        await _alerts.AcknowledgeAsync(a.Id, "user:a", null);
        listener.RecordObservableInstruments();

        Assert.Contains(("enclave.alerts.raised", 1L, "kind=vulnerability,severity=critical"), counters);
        Assert.Contains(("enclave.alerts.raised", 1L, "kind=intel,severity=high"), counters);
        Assert.Contains(("enclave.alerts.changed", 1L, "kind=vulnerability,state=acknowledged"), counters);
        Assert.Contains(("enclave.alerts.unresolved", 1L, "kind=vulnerability,severity=critical,state=acknowledged"), counters);
        Assert.Contains(("enclave.alerts.unresolved", 1L, "kind=intel,severity=high,state=open"), counters);
    }

    private string[] Ids(AlertFilter filter) => [.. _alerts.List(filter).Select(a => a.Id)];

    private AuditEvent Entry(long index) => AuditEvent.Parse(_ledger.ReadEntry(index));

    private static AlertRequest Request(long[]? evidence = null) => new()
    {
        Kind = AlertKind.Intel,
        Severity = AlertSeverity.High,
        Title = "import matched indicator 'bad weights'",
        Subject = "import:i1",
        Evidence = new AlertEvidence
        {
            Summary = "the artifact's SHA-256 is listed by indicator--1",
            LedgerIndices = evidence ?? [0],
            Facts = new Dictionary<string, string> { ["indicator"] = "indicator--1" },
        },
    };
}
