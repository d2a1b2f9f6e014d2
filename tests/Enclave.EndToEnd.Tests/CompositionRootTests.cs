using System.Net;
using Enclave.Core.Audit;
using Enclave.Ledger;
using Enclave.Server.Hosting;
using Enclave.Server.Hosting.Startup;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace Enclave.EndToEnd.Tests;

/// <summary>The composition root (<see cref="EnclaveServices.AddEnclave"/> through <see cref="EnclaveHost.Create"/>) on a real data directory and loopback port.</summary>
public sealed class CompositionRootTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("enclave-root-").FullName;

    private static IConfiguration Configuration(Dictionary<string, string?> values) => new ConfigurationBuilder().AddInMemoryCollection(values).Build();

    [Fact]
    public async Task Start_WithAnInvalidConfiguration_FailsListingEveryProblem_AndOpensNothing()
    {
        var data = Path.Combine(_root, "data");
        await using var app = EnclaveHost.Create(Configuration(new()
        {
            ["Server:DataDirectory"] = data,
            ["Server:Urls:0"] = "http://10.1.2.3:8080",
            ["Server:MaxRequestBytes"] = "many",
            ["Retention:Enabled"] = "true",
            ["Retention:Days"] = "30",
            ["Upstream:Backends:0:Name"] = "x",
            ["Upstream:Backends:0:BaseUrl"] = "ftp://nowhere",
        }));

        var failure = await Assert.ThrowsAnyAsync<Exception>(() => app.StartAsync());
        var problems = EnclaveHost.Problems(failure);

        Assert.Contains(problems, p => p.Contains("non-loopback", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("Server:MaxRequestBytes 'many'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("Retention:KeyFile", StringComparison.Ordinal));
        Assert.False(Directory.Exists(data), "nothing may be created in the data directory before the configuration is valid");
    }

    [Fact]
    public async Task Start_WithOnlyTheUpstreamSectionInvalid_FailsBeforeTheLedgerIsCreated()
    {
        var data = Path.Combine(_root, "upstream");
        await using var app = EnclaveHost.Create(Configuration(new()
        {
            ["Server:DataDirectory"] = data,
            ["Server:Urls:0"] = "http://127.0.0.1:0",
            ["Upstream:Backends:0:Name"] = "x",
            ["Upstream:Backends:0:BaseUrl"] = "ftp://nowhere",
        }));

        var problems = EnclaveHost.Problems(await Assert.ThrowsAnyAsync<Exception>(() => app.StartAsync()));

        Assert.Contains(problems, p => p.Contains("BaseUrl", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("Classification", StringComparison.Ordinal));
        Assert.False(Directory.Exists(data), "the ledger must not be created for a configuration that cannot start");
    }

    [Fact]
    public async Task Start_WithInvalidDetections_FailsListingEveryProblem_BeforeTheLedgerIsCreated()
    {
        var data = Path.Combine(_root, "detections");
        await using var app = EnclaveHost.Create(Configuration(new()
        {
            ["Server:DataDirectory"] = data,
            ["Server:Urls:0"] = "http://127.0.0.1:0",
            ["Detections:FeedCapacity"] = "0",
            ["Detections:CursorInterval"] = "00:05:00",
            ["Detections:Insider:WindowDays"] = "1",
            ["Detections:Insider:Threshold"] = "-2",
        }));

        var problems = EnclaveHost.Problems(await Assert.ThrowsAnyAsync<Exception>(() => app.StartAsync()));

        Assert.Contains(problems, p => p.Contains("Detections:FeedCapacity must be 1 to 1048576 entries, not 0", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("Detections:Insider:WindowDays must be 2 to 90, not 1", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("Detections:CursorInterval must be between 00:00:00 and 00:01:00, not 00:05:00", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("Detections:Insider:Threshold", StringComparison.Ordinal));
        Assert.False(Directory.Exists(data), "the ledger must not be created for a configuration that cannot start");
    }

    [Fact]
    public async Task Start_WithInvalidOnnxEngineOptions_FailsListingEveryProblem_BeforeTheLedgerIsCreated()
    {
        var data = Path.Combine(_root, "engine-onnx");
        await using var app = EnclaveHost.Create(Configuration(new()
        {
            ["Server:DataDirectory"] = data,
            ["Server:Urls:0"] = "http://127.0.0.1:0",
            ["Engine:Onnx:PrefillChunkTokens"] = "0",
            ["Engine:Onnx:MaxConcurrentSequences"] = "0",
            ["Engine:Onnx:ContinuousBatching"] = "false",
        }));

        var problems = EnclaveHost.Problems(await Assert.ThrowsAnyAsync<Exception>(() => app.StartAsync()));

        Assert.Contains(problems, p => p.Contains("Engine:Onnx: PrefillChunkTokens must be 1..1048576 (was 0)", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("Engine:Onnx: MaxConcurrentSequences must be at least 1 (was 0)", StringComparison.Ordinal));
        Assert.False(Directory.Exists(data), "the ledger must not be created for a configuration that cannot start");
    }

    [Fact]
    public async Task Start_WithInvalidResponsesOptions_FailsListingEveryProblem_BeforeTheLedgerIsCreated()
    {
        var data = Path.Combine(_root, "responses");
        await using var app = EnclaveHost.Create(Configuration(new()
        {
            ["Server:DataDirectory"] = data,
            ["Server:Urls:0"] = "http://127.0.0.1:0",
            ["Responses:RetentionDays"] = "0",
            ["Responses:PurgeInterval"] = "00:00:10",
            ["Responses:MaxBackground"] = "5000",
        }));

        var problems = EnclaveHost.Problems(await Assert.ThrowsAnyAsync<Exception>(() => app.StartAsync()));

        Assert.Contains(problems, p => p.Contains("Responses:RetentionDays must be between 1 and 3650 (was 0)", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("Responses:PurgeInterval must be between 00:01:00 and 1.00:00:00 (was 00:00:10)", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("Responses:MaxBackground must be between 1 and 1024 (was 5000)", StringComparison.Ordinal));
        Assert.False(Directory.Exists(data), "the ledger must not be created for a configuration that cannot start");
    }

    [Fact]
    public async Task Start_WithAnUnparsableResponsesValue_NamesIt()
    {
        var data = Path.Combine(_root, "responses-bad");
        await using var app = EnclaveHost.Create(Configuration(new()
        {
            ["Server:DataDirectory"] = data,
            ["Server:Urls:0"] = "http://127.0.0.1:0",
            ["Responses:RetentionDays"] = "a month",
        }));

        var problems = EnclaveHost.Problems(await Assert.ThrowsAnyAsync<Exception>(() => app.StartAsync()));

        Assert.Contains(problems, p => p.StartsWith("Responses:", StringComparison.Ordinal) && p.Contains("a month", StringComparison.Ordinal));
        Assert.False(Directory.Exists(data), "the ledger must not be created for a configuration that cannot start");
    }

    [Fact]
    public async Task Start_WithAnUnparsableDetectionsValue_NamesIt()
    {
        var data = Path.Combine(_root, "detections-bad");
        await using var app = EnclaveHost.Create(Configuration(new()
        {
            ["Server:DataDirectory"] = data,
            ["Server:Urls:0"] = "http://127.0.0.1:0",
            ["Detections:Enabled"] = "perhaps",
        }));

        var problems = EnclaveHost.Problems(await Assert.ThrowsAnyAsync<Exception>(() => app.StartAsync()));

        Assert.Contains(problems, p => p.StartsWith("Detections:", StringComparison.Ordinal) && p.Contains("perhaps", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Start_WithUnparsableUpgradeAndVulnsValues_ListsBoth_BeforeTheLedgerIsCreated()
    {
        // Both sections are read and validated by Enclave.Intel's own registrations (AddEnclaveUpgrade, AddEnclaveVulnerabilities).
        var data = Path.Combine(_root, "intel-bad");
        await using var app = EnclaveHost.Create(Configuration(new()
        {
            ["Server:DataDirectory"] = data,
            ["Server:Urls:0"] = "http://127.0.0.1:0",
            ["Upgrade:SelfCheckTimeout"] = "soon",
            ["Vulns:MaxDataAge"] = "old",
        }));

        var problems = EnclaveHost.Problems(await Assert.ThrowsAnyAsync<Exception>(() => app.StartAsync()));

        Assert.Contains(problems, p => p.StartsWith("Upgrade:SelfCheckTimeout 'soon'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Vulns:MaxDataAge 'old'", StringComparison.Ordinal));
        Assert.False(Directory.Exists(data), "the ledger must not be created for a configuration that cannot start");
    }

    [Fact]
    public async Task Start_OnAFreshDataDirectory_RunsTheStagesInOrder_BeforeListening()
    {
        var data = Path.Combine(_root, "fresh");
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 6, 12, 0, 0, TimeSpan.Zero));
        await using var app = EnclaveHost.Create(
            Configuration(new() { ["Server:DataDirectory"] = data, ["Server:Urls:0"] = "http://127.0.0.1:0" }),
            services => services.AddSingleton<TimeProvider>(clock));

        await app.StartAsync();
        try
        {
            Assert.Equal(
                ["LedgerStartup", "AirlockRecoveryStartup", "ModelLoadingStartup", "IdentityBootstrapStartup", "ServerStartedStartup", "IntelIndexStartup"],
                app.Services.GetServices<IHostedService>().Select(s => s.GetType().Name).Where(n => n.EndsWith("Startup", StringComparison.Ordinal)));
            var report = app.Services.GetRequiredService<EnclaveStartupReport>();
            Assert.Contains(report.Notices, n => n.StartsWith("initialised a new ledger in " + data, StringComparison.Ordinal));
            var adminKey = report.AdminKey?.Key;
            Assert.NotNull(report.AdminKey?.Created);

            using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
            http.DefaultRequestHeaders.Authorization = new("Bearer", adminKey);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/v1/models")).StatusCode);
        }
        finally
        {
            await app.StopAsync();
        }

        await app.DisposeAsync();
        using var reader = LedgerReader.Open(data);
        var entries = Enumerable.Range(0, (int)reader.TreeSize()).Select(i => AuditEvent.Parse(reader.ReadEntry(i))).ToList();
        Assert.Equal(["user.added", "key.created", "server.started"], entries.Select(e => e.Type));
        // The clock the test registered is the one every stage used: it replaced that one service and nothing else.
        Assert.All(entries, e => Assert.Equal(clock.GetUtcNow(), e.Time));
    }

    [Fact]
    public async Task Dispose_ReleasesTheDataDirectory_SoASecondHostOpensIt()
    {
        var data = Path.Combine(_root, "twice");
        var configuration = Configuration(new() { ["Server:DataDirectory"] = data, ["Server:Urls:0"] = "http://127.0.0.1:0" });
        await using (var first = EnclaveHost.Create(configuration))
        {
            await first.StartAsync();
            await first.StopAsync();
        }

        await using var second = EnclaveHost.Create(configuration);
        await second.StartAsync();
        var report = second.Services.GetRequiredService<EnclaveStartupReport>();
        Assert.Null(report.AdminKey!.Created); // the admin of the first start still holds a usable key
        Assert.Equal(4, second.Services.GetRequiredService<SqliteLedger>().Size); // user.added, key.created, server.started twice
        await second.StopAsync();
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
