namespace Enclave.Cli.Tests;

/// <summary>`enclave airlock import` checks the media before it contacts the server.</summary>
public sealed class AirlockCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("enclave-airlock-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task A_split_bundle_with_a_missing_part_is_refused_before_anything_is_sent()
    {
        var basePath = Path.Combine(_dir, "model.tar");
        await File.WriteAllBytesAsync(basePath + ".000", new byte[512]);
        await File.WriteAllBytesAsync(basePath + ".002", new byte[512]); // .001 was not copied from the media

        // No server runs at this address: the refusal must come from the local check.
        var result = await CliRunner.RunAsync("airlock", "import", basePath + ".000", "--server", "http://127.0.0.1:9", "--api-key-file", basePath + ".000");

        Assert.Equal((int)ExitCode.InvalidInput, result.ExitCode);
        Assert.Contains("model.tar.001 is missing", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_bundle_is_not_found()
    {
        var result = await CliRunner.RunAsync("airlock", "import", Path.Combine(_dir, "nothing.tar"), "--server", "http://127.0.0.1:9", "--api-key-file", Path.Combine(_dir, "key"));
        Assert.Equal((int)ExitCode.NotFound, result.ExitCode);
        Assert.Contains("nothing.tar not found", result.Error, StringComparison.Ordinal);
    }
}
