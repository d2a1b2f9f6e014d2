using System.Globalization;

namespace Enclave.Bench.Gateway.Soak;

/// <summary>
/// The gateway process at one moment: from <c>/proc/PID/status</c> (RSS, threads), <c>/proc/PID/fd</c> (open file
/// descriptors) and <c>/proc/PID/stat</c> (CPU), and from its own counters (GC heap, collections, ledger size); the
/// size of <c>enclave.db</c> with its WAL. RSS is also split by kind (<c>RssAnon</c>: the GC heap and native
/// allocations such as SQLite's page caches; <c>RssFile</c>: mapped files, among them the WAL index <c>enclave.db-shm</c>;
/// <c>RssShmem</c>: shared memory, here the runtime's double-mapped JIT code, <c>memfd:doublemapper</c>).
/// </summary>
internal sealed record SoakSample
{
    /// <summary>Minutes since the soak started (0: at the start).</summary>
    public required int Minute { get; init; }
    public required long Timestamp { get; init; }
    public required long RssBytes { get; init; }
    public required int Threads { get; init; }
    public required int OpenFiles { get; init; }

    /// <summary>Of <see cref="OpenFiles"/>, the sockets (listeners, client and upstream connections).</summary>
    public required int Sockets { get; init; }
    public required double CpuSeconds { get; init; }
    public required ChildStats Stats { get; init; }
    public required long DatabaseBytes { get; init; }

    /// <summary>Anonymous resident memory (<c>RssAnon</c>): the GC heap, thread stacks and native allocations.</summary>
    public long RssAnonBytes { get; init; } = -1;

    /// <summary>File-backed resident memory (<c>RssFile</c>): mapped assemblies and libraries, the WAL index.</summary>
    public long RssFileBytes { get; init; } = -1;

    /// <summary>Shared resident memory (<c>RssShmem</c>): the runtime's double-mapped (W^X) JIT-compiled code.</summary>
    public long RssShmemBytes { get; init; } = -1;

    /// <summary>The size of <c>enclave.db-wal</c> alone (0 when there is none).</summary>
    public long WalBytes { get; init; }

    /// <summary>The machine's CPU time by state (idle, steal, total), for the minute's shares.</summary>
    public MachineCpu Machine { get; init; }

    /// <summary>CPU seconds of the bed's own processes: this one (the client, its schedulers, the sampler) and the stub.</summary>
    public double BedCpuSeconds { get; init; }

    /// <summary>Requests the gateway had answered (or failed) by now, all kinds (<see cref="SoakRecorder.Answered"/>).</summary>
    public long Answered { get; init; }

    public static async Task<SoakSample> TakeAsync(int minute, BenchChild gateway, BenchChild stub, string dataDirectory, long answered)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        ArgumentNullException.ThrowIfNull(stub);
        var timestamp = System.Diagnostics.Stopwatch.GetTimestamp();
        var pid = gateway.Pid.ToString(CultureInfo.InvariantCulture);
        long rss = -1, rssAnon = -1, rssFile = -1, rssShmem = -1;
        var threads = -1;
        foreach (var line in await File.ReadAllLinesAsync($"/proc/{pid}/status").ConfigureAwait(false))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                rss = long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            }
            else if (line.StartsWith("RssAnon:", StringComparison.Ordinal))
            {
                rssAnon = long.Parse(line["RssAnon:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            }
            else if (line.StartsWith("RssFile:", StringComparison.Ordinal))
            {
                rssFile = long.Parse(line["RssFile:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            }
            else if (line.StartsWith("RssShmem:", StringComparison.Ordinal))
            {
                rssShmem = long.Parse(line["RssShmem:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            }
            else if (line.StartsWith("Threads:", StringComparison.Ordinal))
            {
                threads = int.Parse(line["Threads:".Length..].Trim(), CultureInfo.InvariantCulture);
            }
        }

        var files = 0;
        var sockets = 0;
        foreach (var fd in Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd"))
        {
            files++;
            try
            {
                if (new FileInfo(fd).LinkTarget?.StartsWith("socket:", StringComparison.Ordinal) == true)
                {
                    sockets++;
                }
            }
            catch (IOException)
            {
                // Closed between the listing and the read.
            }
        }

        return new SoakSample
        {
            Minute = minute,
            Timestamp = timestamp,
            RssBytes = rss,
            RssAnonBytes = rssAnon,
            RssFileBytes = rssFile,
            RssShmemBytes = rssShmem,
            WalBytes = new FileInfo(Path.Combine(dataDirectory, "enclave.db-wal")) is { Exists: true } wal ? wal.Length : 0,
            Threads = threads,
            OpenFiles = files,
            Sockets = sockets,
            CpuSeconds = gateway.CpuSeconds(),
            Machine = MachineCpu.Read(),
            BedCpuSeconds = ProcessCpu.Seconds(Environment.ProcessId) + stub.CpuSeconds(),
            Answered = answered,
            Stats = await gateway.StatsAsync().ConfigureAwait(false),
            DatabaseBytes = new[] { "enclave.db", "enclave.db-wal" }.Select(f => new FileInfo(Path.Combine(dataDirectory, f))).Where(f => f.Exists).Sum(f => f.Length),
        };
    }
}
