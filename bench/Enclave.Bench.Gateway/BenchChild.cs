using System.Diagnostics;
using System.Text.Json;
using System.Threading.Channels;

namespace Enclave.Bench.Gateway;

/// <summary>
/// A child process of this benchmark running one mode (<c>stub</c>, <c>forwarder</c>, <c>gateway</c>): started with
/// its own executable, ready when it prints its <see cref="ChildReady"/> line, stopped by closing its stdin (killed,
/// by its own process ID, if it has not stopped 10 seconds later).
/// </summary>
internal sealed class BenchChild : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    private readonly Task _stdout;
    private readonly Task _stderr;

    private BenchChild(string name, Process process)
    {
        Name = name;
        _process = process;
        _stdout = PumpAsync(process.StandardOutput, line => _lines.Writer.TryWrite(line), () => _lines.Writer.TryComplete());
        _stderr = PumpAsync(process.StandardError, line => Console.Error.WriteLine($"[{name}] {line}"), () => { });
    }

    public string Name { get; }

    public int Pid => _process.Id;

    public ChildReady Ready { get; private set; } = null!;

    public static async Task<BenchChild> StartAsync(string name, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> environment, TimeSpan timeout)
    {
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("cannot find this benchmark's executable to start its child processes");
        var start = new ProcessStartInfo
        {
            FileName = self,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            start.ArgumentList.Add(typeof(BenchChild).Assembly.Location);
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start the {name} process");
        var child = new BenchChild(name, process);
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            var line = await child.NextJsonLineAsync(deadline.Token).ConfigureAwait(false);
            child.Ready = JsonSerializer.Deserialize<ChildReady>(line, ChildControl.Json)
                ?? throw new InvalidOperationException($"the {name} process printed an empty ready line");
            return child;
        }
        catch (Exception ex) when (ex is OperationCanceledException or ChannelClosedException)
        {
            await child.DisposeAsync().ConfigureAwait(false);
            throw new InvalidOperationException($"the {name} process did not report ready within {timeout.TotalSeconds:0} s; its stderr is above", ex);
        }
    }

    /// <summary>CPU seconds the child has used so far.</summary>
    public double CpuSeconds() => ProcessCpu.Seconds(_process.Id);

    /// <summary>Asks the child for its counters.</summary>
    public async Task<ChildStats> StatsAsync()
    {
        await _process.StandardInput.WriteLineAsync("stats").ConfigureAwait(false);
        await _process.StandardInput.FlushAsync().ConfigureAwait(false);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var line = await NextJsonLineAsync(deadline.Token).ConfigureAwait(false);
        return JsonSerializer.Deserialize<ChildStats>(line, ChildControl.Json)
            ?? throw new InvalidOperationException($"the {Name} process answered 'stats' with an empty line");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            _process.StandardInput.Close();
        }
        catch (IOException)
        {
            // It has gone already.
        }

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine($"the {Name} process (pid {_process.Id}) did not stop within 10 s of its stdin closing; killing it");
            _process.Kill(entireProcessTree: false);
            await _process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        }

        await Task.WhenAll(_stdout, _stderr).ConfigureAwait(false);
        _process.Dispose();
    }

    private async Task<string> NextJsonLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var line = await _lines.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (line.StartsWith('{'))
            {
                return line;
            }

            Console.Error.WriteLine($"[{Name}] {line}");
        }
    }

    private static async Task PumpAsync(StreamReader reader, Action<string> onLine, Action onEnd)
    {
        while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line)
        {
            onLine(line);
        }

        onEnd();
    }
}
