using System.Diagnostics;
using System.Globalization;

namespace Enclave.Bench.Gateway;

/// <summary>Runs wrk with <c>chat.lua</c> against one target and parses the line its <c>done()</c> prints.</summary>
internal sealed class WrkRunner(BenchSettings settings)
{
    private readonly string _script = Path.Combine(AppContext.BaseDirectory, "chat.lua");

    /// <summary>The command line, for the report (the key travels in the environment, not here).</summary>
    public string CommandLine(TimeSpan duration, string url) =>
        $"{settings.WrkPath} -t{settings.WrkThreads} -c{settings.WrkConnections} -d{duration.TotalSeconds:0}s -s chat.lua {url}{ChatRequest.Path}";

    /// <summary>
    /// Runs wrk for <paramref name="duration"/>. <paramref name="whileRunning"/> gets wrk's process ID once it has
    /// started and runs alongside it (to sample CPU in the middle of the run).
    /// </summary>
    public async Task<WrkResult> RunAsync(string url, string? apiKey, TimeSpan duration, Func<int, Task>? whileRunning = null)
    {
        var start = new ProcessStartInfo
        {
            FileName = settings.WrkPath,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            $"-t{settings.WrkThreads}", $"-c{settings.WrkConnections}", $"-d{duration.TotalSeconds.ToString("0", CultureInfo.InvariantCulture)}s",
            "--timeout", "5s", "-s", _script, url + ChatRequest.Path,
        })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["ENCLAVE_BENCH_BODY"] = ChatRequest.Body;
        start.Environment["ENCLAVE_BENCH_KEY"] = apiKey ?? string.Empty;
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("wrk did not start");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException($"cannot run '{settings.WrkPath}': {ex.Message}. Install it (Debian: apt-get install wrk) or pass --wrk PATH", ex);
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (whileRunning is not null)
            {
                await whileRunning(process.Id).ConfigureAwait(false);
            }

            await process.WaitForExitAsync().ConfigureAwait(false);
            var output = await stdout.ConfigureAwait(false);
            var errors = await stderr.ConfigureAwait(false);
            var line = output.Split('\n').FirstOrDefault(l => l.StartsWith("BENCH ", StringComparison.Ordinal));
            if (process.ExitCode != 0 || line is null)
            {
                throw new InvalidOperationException($"wrk failed (exit {process.ExitCode}) against {url}:\n{output}\n{errors}");
            }

            return Parse(line);
        }
    }

    internal static WrkResult Parse(string line)
    {
        var fields = line["BENCH ".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(f => f.Split('=', 2))
            .ToDictionary(kv => kv[0], kv => double.Parse(kv[1], CultureInfo.InvariantCulture), StringComparer.Ordinal);
        return new WrkResult
        {
            Requests = (long)fields["requests"],
            Seconds = fields["duration_us"] / 1e6,
            Errors = (long)(fields["status_errors"] + fields["connect_errors"] + fields["read_errors"] + fields["write_errors"] + fields["timeouts"]),
            MeanMs = fields["mean_us"] / 1000,
            P50Ms = fields["p50_us"] / 1000,
            P90Ms = fields["p90_us"] / 1000,
            P99Ms = fields["p99_us"] / 1000,
            P999Ms = fields["p999_us"] / 1000,
            MaxMs = fields["max_us"] / 1000,
        };
    }
}
