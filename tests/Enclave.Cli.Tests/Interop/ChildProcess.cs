using System.Diagnostics;
using System.Text;

namespace Enclave.Cli.Tests.Interop;

/// <summary>What a finished child process wrote and returned.</summary>
internal sealed record ProcessResult
{
    public required string CommandLine { get; init; }

    public required int ExitCode { get; init; }

    /// <summary>Standard output, byte for byte (an entry from <c>ledger get</c> is exact bytes).</summary>
    public required byte[] Stdout { get; init; }

    public required string Stderr { get; init; }

    public string StdoutText => Encoding.UTF8.GetString(Stdout);

    public IReadOnlyList<string> StdoutLines => StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Everything a failed assertion should show.</summary>
    public string Describe() => $"$ {CommandLine}\nexit code {ExitCode}\n--- stdout ---\n{StdoutText}\n--- stderr ---\n{Stderr}";
}

/// <summary>Runs a real process to completion with a deadline; no sleeps, no polling.</summary>
internal static class ChildProcess
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(3);

    public static async Task<ProcessResult> RunAsync(
        string fileName,
        IEnumerable<string> arguments,
        string? standardInput = null,
        string? workingDirectory = null,
        IReadOnlyDictionary<string, string?>? environment = null,
        TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
            StandardInputEncoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false),
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            start.Environment[name] = value;
        }

        var commandLine = string.Join(' ', [fileName, .. start.ArgumentList.Select(a => a.Contains(' ', StringComparison.Ordinal) ? $"'{a}'" : a)]);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {commandLine}");
        using var deadline = new CancellationTokenSource(timeout ?? DefaultTimeout);

        var stdout = new MemoryStream();
        var readOut = process.StandardOutput.BaseStream.CopyToAsync(stdout, deadline.Token);
        var readErr = process.StandardError.ReadToEndAsync(deadline.Token);
        try
        {
            if (standardInput is not null)
            {
                await process.StandardInput.WriteAsync(standardInput.AsMemory(), deadline.Token);
            }

            process.StandardInput.Close();
            await process.WaitForExitAsync(deadline.Token);
            await readOut;
            var stderr = await readErr;
            return new ProcessResult { CommandLine = commandLine, ExitCode = process.ExitCode, Stdout = stdout.ToArray(), Stderr = stderr };
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{commandLine} did not finish within {timeout ?? DefaultTimeout}; it was killed");
        }
    }
}
