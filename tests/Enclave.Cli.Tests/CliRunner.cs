using System.Diagnostics;
using System.Text;
using Enclave.Cli;

namespace Enclave.Cli.Tests;

internal sealed record CliResult(int ExitCode, string Out, string Error, byte[] RawOut);

/// <summary>Runs <c>enclave</c> in-process (fast) or as a real child process.</summary>
internal static class CliRunner
{
    public static async Task<CliResult> RunWithInputAsync(string stdin, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var raw = new MemoryStream();
        var context = new CliContext
        {
            Out = output,
            Error = error,
            In = new StringReader(stdin),
            OpenStandardOutput = () => raw,
        };
        var code = await EnclaveCli.RunAsync(args, context);
        return new CliResult(code, output.ToString(), error.ToString(), raw.ToArray());
    }

    public static Task<CliResult> RunAsync(params string[] args) => RunWithInputAsync(string.Empty, args);

    /// <summary>Starts the real <c>enclave</c> executable (enclave.dll beside the tests) with redirected streams.</summary>
    public static Process Start(params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "enclave.dll");
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
        };
        info.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return Process.Start(info) ?? throw new InvalidOperationException("could not start enclave");
    }
}
