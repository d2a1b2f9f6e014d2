namespace Enclave.Cli.Tests;

/// <summary><c>enclave up</c> is the embedded start: its state is SQLite in the data directory, whatever the configuration says.</summary>
public sealed class UpCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("enclave-up-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Up_WithAStateSectionForPostgres_IsRefusedPointingAtServe_AndWritesNothing()
    {
        var config = Path.Combine(_dir, "enclave.json");
        File.WriteAllText(config, """{"State":{"Provider":"postgres","ConnectionString":"Host=127.0.0.1;Database=enclave"}}""");
        var data = Path.Combine(_dir, "data");

        var result = await CliRunner.RunAsync("up", "--data", data, "--urls", "http://127.0.0.1:0", "--config", config);

        Assert.Equal(3, result.ExitCode);
        Assert.Contains("enclave serve", result.Error, StringComparison.Ordinal);
        Assert.Contains("docs/state.md", result.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(data));
    }
}
