using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Enclave.Core;
using Enclave.Core.Artifacts;
using Enclave.Inference.Backends;
using Enclave.Inference.Upstream;
using Enclave.Intel.Alerts;
using Enclave.Intel.Live;
using Enclave.Ledger;
using Enclave.Server.Hosting;
using Enclave.State;
using Enclave.State.Alerts;
using Enclave.State.Intel;
using Microsoft.Extensions.Time.Testing;

namespace Enclave.EndToEnd.Tests.Intel;

/// <summary>
/// An upstream backend whose host matches a live indicator is taken out of routing with an alert, and returns when
/// the indicator is revoked by a newer bundle or expires: a real router, real stores and ledger, the real feed hook.
/// </summary>
public sealed class UpstreamIntelGuardTests : IAsyncLifetime
{
    private const string Indicator = "indicator--aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa";
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 6, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly string _dir = Directory.CreateTempSubdirectory("enclave-upstream-intel-").FullName;
    private SqliteLedger _ledger = null!;
    private int _bundles;

    public Task InitializeAsync()
    {
        SqliteLedger.Initialize(_dir, "test.example/upstream-intel", postQuantum: false, _clock);
        _ledger = SqliteLedger.Open(new LedgerOptions { DataDirectory = _dir, CheckpointInterval = TimeSpan.Zero }, _clock);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _ledger.DisposeAsync();
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
    public async Task BackendWhoseHostIsListed_IsOutOfRouting_WithAnAlert_AndReturnsWhenRevokedOrExpired()
    {
        var factory = EnclaveState.Open(_dir, _clock);
        var live = new LiveIndicators(new SqliteIndicatorStore(factory), _clock);
        var alerts = new AlertService(_ledger, new SqliteAlertStore(factory), _clock);
        var hook = new IndicatorFeedHook(new SqliteIndicatorStore(factory), _ledger, _clock, live);
        using var router = new UpstreamRouter(new UpstreamOptions
        {
            Backends =
            [
                new UpstreamBackendOptions { Name = "listed", BaseUrl = "http://bad.example.net:1/v1", Models = ["m1"], Labels = Labels },
                new UpstreamBackendOptions { Name = "clean", BaseUrl = "http://127.0.0.1:9/v1", Models = ["m2"], Labels = Labels },
            ],
        }, _clock);
        using var guard = new UpstreamIntelGuard(router, live, alerts);
        guard.Start(_clock);
        Assert.Empty(router.Withdrawn);

        // A zone listed with LIKE '%.example.net' covers the backend's host; valid for one hour.
        await hook.LoadAsync(Bundle(Stix(Indicator, "[domain-name:value LIKE '%.example.net']", "2026-01-01T00:00:00Z", validUntil: "2026-06-01T01:00:00Z")), default);
        var withdrawn = await EnclaveFixture.EventuallyAsync(() => router.Withdrawn.Count > 0 ? router.Withdrawn : null);
        Assert.Equal(["listed"], withdrawn.Keys);
        var error = await Assert.ThrowsAsync<BackendException>(() => router.ChatAsync(Chat("m1"), Call(), default));
        Assert.Equal(503, error.StatusCode);
        Assert.Contains("threat-intelligence indicator " + Indicator, error.Message, StringComparison.Ordinal);
        var alert = (await EnclaveFixture.EventuallyAsync(() => alerts.List(new AlertFilter { Kind = AlertKind.Intel }) is [var one] ? one : null));
        Assert.Equal(("upstream:listed", Indicator), (alert.Subject, alert.Evidence.Facts["indicator"]));

        // Revoked by a newer version: the backend returns.
        await hook.LoadAsync(Bundle(Stix(Indicator, "[domain-name:value LIKE '%.example.net']", "2026-02-01T00:00:00Z", revoked: true)), default);
        await EnclaveFixture.EventuallyAsync(() => router.Withdrawn.Count == 0 ? router : null);

        // Listed again (a new indicator id) until an hour from now; when it expires, the timer brings the backend back.
        await hook.LoadAsync(Bundle(Stix("indicator--bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb", "[url:value = 'http://bad.example.net:1/v1']", "2026-03-01T00:00:00Z", validUntil: "2026-06-01T01:00:00Z")), default);
        await EnclaveFixture.EventuallyAsync(() => router.Withdrawn.Count == 1 ? router : null);
        await EnclaveFixture.EventuallyAsync(() => alerts.List(new AlertFilter { Kind = AlertKind.Intel }).Count == 2 ? router : null); // raised after the withdrawal
        _clock.Advance(TimeSpan.FromHours(2));
        await EnclaveFixture.EventuallyAsync(() => router.Withdrawn.Count == 0 ? router : null);
        Assert.Equal(2, alerts.List(new AlertFilter { Kind = AlertKind.Intel }).Count);
    }

    private static UpstreamLabels Labels => new() { Classification = "UNCLASSIFIED", Jurisdiction = "local" };

    private static JsonObject Chat(string model) => new() { ["model"] = model, ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hi" }) };

    private static UpstreamCall Call() => new(_ => true, (_, body) => body);

    private static byte[] Stix(string id, string pattern, string modified, string? validUntil = null, bool revoked = false)
    {
        var indicator = new JsonObject
        {
            ["type"] = "indicator",
            ["spec_version"] = "2.1",
            ["id"] = id,
            ["created"] = "2025-01-01T00:00:00Z",
            ["modified"] = modified,
            ["pattern"] = pattern,
            ["pattern_type"] = "stix",
            ["valid_from"] = "2025-01-01T00:00:00Z",
        };
        if (validUntil is not null)
        {
            indicator["valid_until"] = validUntil;
        }

        if (revoked)
        {
            indicator["revoked"] = true;
        }

        return Encoding.UTF8.GetBytes(new JsonObject { ["type"] = "bundle", ["id"] = "bundle--" + Guid.NewGuid().ToString("D"), ["objects"] = new JsonArray(indicator) }.ToJsonString());
    }

    private ArtifactActivation Bundle(byte[] stix)
    {
        var id = "imp_up" + (++_bundles).ToString(CultureInfo.InvariantCulture);
        var folder = Path.Combine(_dir, "artifacts", id);
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(Path.Combine(folder, "stix.json"), stix);
        return new ArtifactActivation
        {
            Kind = "intel",
            Name = "feed",
            Version = _bundles.ToString(CultureInfo.InvariantCulture),
            ImportId = id,
            Folder = folder,
            Files = [new ArtifactFile("stix.json", new Sha256Digest(SHA256.HashData(stix)), stix.Length)],
            ActivatedBy = "user:approver",
        };
    }
}
