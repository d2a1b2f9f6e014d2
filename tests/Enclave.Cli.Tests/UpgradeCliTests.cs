using System.Text.Json.Nodes;
using Enclave.Core.Audit;
using Enclave.Ledger;
using Enclave.Policy.Identity;
using Enclave.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;

namespace Enclave.Cli.Tests;

/// <summary>
/// <c>enclave upgrade</c> against a real server on loopback with nothing to upgrade from: what it shows, and each step
/// refused with its exit code and reason (and an <c>upgrade.failed</c> entry). The whole path with two real builds of
/// Enclave is <c>tests/Enclave.EndToEnd.Tests/Upgrade/UpgradeEndToEndTests.cs</c>.
/// </summary>
public sealed class UpgradeCliTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("enclave-upgrade-cli-").FullName;
    private WebApplication? _app;
    private string _url = "";
    private string _keyFile = "";

    private string Data => Path.Combine(_dir, "data");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Data);
        SqliteLedger.Initialize(Data, "test.example/upgrade-cli", postQuantum: false, TimeProvider.System);
        _keyFile = Path.Combine(_dir, "admin.key");
        await File.WriteAllTextAsync(_keyFile, new ApiKeyStore(Data, TimeProvider.System).Create("cli admin", "admin").Key);
        _app = EnclaveHost.Create(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Server:DataDirectory"] = Data,
            ["Server:Urls:0"] = "http://127.0.0.1:0",
        }).Build());
        await _app.StartAsync();
        _url = _app.Urls.First();
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Status_ShowsTheDefaultInstallRootBesideTheDataDirectory_AndNoUpdate()
    {
        var json = await RunAsync("upgrade", "status", "--json");
        var table = await RunAsync("upgrade", "status");

        Assert.Equal(0, json.ExitCode);
        var answer = JsonNode.Parse(json.Out)!;
        Assert.Equal(Path.Combine(_dir, "enclave-install"), answer["installRoot"]!.GetValue<string>());
        Assert.Null(answer["current"]);
        Assert.Empty(answer["available"]!.AsArray());
        Assert.Contains("available     no activated update bundle", table.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Steps_WithNothingToDo_AreRefusedWithTheirReason_AndRecorded()
    {
        var stage = await RunAsync("upgrade", "stage", "9.9.9");
        var apply = await RunAsync("upgrade", "apply");
        var rollback = await RunAsync("upgrade", "rollback");

        Assert.Equal((int)ExitCode.NotFound, stage.ExitCode);
        Assert.Contains("no activated update bundle of version 9.9.9", stage.Error, StringComparison.Ordinal);
        Assert.Equal((int)ExitCode.InvalidInput, apply.ExitCode);
        Assert.Contains("no release is staged", apply.Error, StringComparison.Ordinal);
        Assert.Equal((int)ExitCode.InvalidInput, rollback.ExitCode);
        Assert.Contains("no previous release", rollback.Error, StringComparison.Ordinal);
        await _app!.StopAsync();
        using var reader = LedgerReader.Open(Data);
        var failed = Enumerable.Range(0, (int)reader.TreeSize()).Select(i => AuditEvent.Parse(reader.ReadEntry(i))).Where(e => e.Type == "upgrade.failed").ToList();
        Assert.Equal(["not-found", "nothing-staged", "no-previous"], failed.Select(e => e.Details!.Value.GetProperty("reason").GetString()));
    }

    [Theory]
    [InlineData]
    [InlineData("1.0.1", "--import", "imp_0123")]
    public async Task Stage_NeedsExactlyOneOfVersionAndImport_BeforeAnythingIsSent(params string[] args)
    {
        // No server runs at this address: the refusal must come from the command itself.
        var result = await CliRunner.RunAsync(["upgrade", "stage", .. args, "--server", "http://127.0.0.1:9", "--api-key-file", _keyFile]);

        Assert.Equal((int)ExitCode.InvalidInput, result.ExitCode);
        Assert.Contains("name the update by its VERSION or by --import ID", result.Error, StringComparison.Ordinal);
    }

    private Task<CliResult> RunAsync(params string[] args) => CliRunner.RunAsync([.. args, "--server", _url, "--api-key-file", _keyFile]);
}
