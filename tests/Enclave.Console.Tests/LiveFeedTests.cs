using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Core.Audit;
using Enclave.Ledger;
using Enclave.OperatorConsole.Live;
using Microsoft.Extensions.Time.Testing;

namespace Enclave.OperatorConsole.Tests;

/// <summary>
/// The console's live feed over a real ledger: each batch of new entries is read once, from where the last one
/// stopped, and gives the topics of all of its entries together (what one publication to the open pages carries).
/// </summary>
public sealed class LiveFeedTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("enclave-live-").FullName;
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.Parse("2026-12-07T10:15:30Z", System.Globalization.CultureInfo.InvariantCulture));

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task EachBatchOfNewEntries_GivesTheTopicsOfAll_AndTheNextBatchStartsWhereItStopped()
    {
        SqliteLedger.Initialize(_dir, "live.example/ledger", postQuantum: false, _clock);
        await using var ledger = SqliteLedger.Open(new LedgerOptions { DataDirectory = _dir }, _clock);
        var feed = new LedgerFeed(ledger);
        ledger.Subscribe(feed);
        var next = ledger.Size;

        Assert.Equal(LiveTopics.None, ConsoleLiveUpdates.Drain(feed, ref next));

        await AppendAsync(ledger, AuditEventTypes.KeyCreated, new JsonObject { ["principal"] = "user:uma" });
        Assert.Equal(LiveTopics.None, ConsoleLiveUpdates.Drain(feed, ref next));
        Assert.Equal(ledger.Size, next);

        await AppendAsync(ledger, AuditEventTypes.ImportApproved, new JsonObject { ["approvals"] = 1, ["required_approvals"] = 2 });
        await AppendAsync(ledger, AuditEventTypes.KeyCreated, new JsonObject { ["principal"] = "user:uma" });
        await AppendAsync(ledger, AuditEventTypes.KeyRevoked, new JsonObject { ["principal"] = "user:uma" });
        Assert.Equal(LiveTopics.Airlock | LiveTopics.Identity, ConsoleLiveUpdates.Drain(feed, ref next));
        Assert.Equal(ledger.Size, next);

        // Nothing new: nothing to publish, and the place is kept.
        Assert.Equal(LiveTopics.None, ConsoleLiveUpdates.Drain(feed, ref next));
        Assert.Equal(ledger.Size, next);

        // A reader that starts late (or lost entries from a full channel) reads them back from the ledger.
        var late = new LedgerFeed(ledger);
        var from = next - 3;
        Assert.Equal(LiveTopics.Airlock | LiveTopics.Identity, ConsoleLiveUpdates.Drain(late, ref from));
        Assert.Equal(next, from);
    }

    private async Task AppendAsync(SqliteLedger ledger, AuditEventType type, JsonObject details) =>
        await ledger.AppendAsync(new AuditEvent { Type = type.Name, Time = _clock.GetUtcNow(), Actor = "user:admin", Subject = "test", Details = JsonSerializer.SerializeToElement(details) });
}
