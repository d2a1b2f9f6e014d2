namespace Enclave.Cli.Tests.Interop;

/// <summary>Runs the real <c>enclave</c> CLI as a child process: <c>dotnet enclave.dll ...</c>.</summary>
internal static class EnclaveProcess
{
    private static readonly string EnclaveDll = typeof(EnclaveCli).Assembly.Location;

    /// <summary>The dotnet host running these tests (set by the SDK), or the one on PATH.</summary>
    private static readonly string DotnetHost = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    public static Task<ProcessResult> RunAsync(string[] arguments, string? standardInput = null) =>
        ChildProcess.RunAsync(DotnetHost, [EnclaveDll, .. arguments], standardInput);

    /// <summary>Runs the CLI and fails the test, showing its output, unless it exits 0.</summary>
    public static async Task<ProcessResult> RunCheckedAsync(string[] arguments, string? standardInput = null)
    {
        var result = await RunAsync(arguments, standardInput);
        Assert.True(result.ExitCode == 0, "enclave failed:\n" + result.Describe());
        return result;
    }
}
