using System.Diagnostics;
using System.Globalization;

namespace Enclave.Bench.Ledger;

/// <summary>
/// Counters read at the start and end of a measured window, so a run can say where the time went without an
/// external profiler: process CPU, GC, allocation, and the ledger's sequencer thread from Linux
/// <c>/proc/self/task/*/schedstat</c> (time on a CPU and time runnable but waiting for one, in nanoseconds).
/// </summary>
internal sealed record RuntimeSnapshot
{
    // .NET names the native thread after Thread.Name, cut to the 15 bytes Linux allows.
    private const string SequencerComm = "enclave-ledger-";

    public required long Timestamp { get; init; }
    public required TimeSpan ProcessCpu { get; init; }
    public required int Gen0 { get; init; }
    public required int Gen1 { get; init; }
    public required int Gen2 { get; init; }
    public required TimeSpan GcPause { get; init; }
    public required long AllocatedBytes { get; init; }
    public required long SequencerRunNs { get; init; }
    public required long SequencerWaitNs { get; init; }
    public required long AllThreadsWaitNs { get; init; }

    /// <summary>Machine-wide busy CPU time (all processes) in seconds, from <c>/proc/stat</c>; -1 when unknown.</summary>
    public required double MachineBusySeconds { get; init; }

    /// <summary>Bytes this process passed to write system calls (<c>wchar</c> of <c>/proc/self/io</c>); -1 when unknown.</summary>
    public required long WriteSyscallBytes { get; init; }

    public static RuntimeSnapshot Take()
    {
        long seqRun = -1, seqWait = -1, allWait = 0;
        if (OperatingSystem.IsLinux())
        {
            foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
            {
                if (!TryReadSchedstat(task, out var run, out var wait))
                {
                    continue; // the thread exited meanwhile
                }

                allWait += wait;
                if (TryReadComm(task) == SequencerComm)
                {
                    seqRun = run;
                    seqWait = wait;
                }
            }
        }

        using var process = Process.GetCurrentProcess();
        return new RuntimeSnapshot
        {
            Timestamp = Stopwatch.GetTimestamp(),
            ProcessCpu = process.TotalProcessorTime,
            Gen0 = GC.CollectionCount(0),
            Gen1 = GC.CollectionCount(1),
            Gen2 = GC.CollectionCount(2),
            GcPause = GC.GetTotalPauseDuration(),
            AllocatedBytes = GC.GetTotalAllocatedBytes(precise: false),
            SequencerRunNs = seqRun,
            SequencerWaitNs = seqWait,
            AllThreadsWaitNs = allWait,
            MachineBusySeconds = ReadMachineBusySeconds(),
            WriteSyscallBytes = ReadIoField("wchar:"),
        };
    }

    // First line of /proc/stat: cpu user nice system idle iowait irq softirq steal ..., in USER_HZ (100 on Linux).
    private static double ReadMachineBusySeconds()
    {
        try
        {
            var line = File.ReadLines("/proc/stat").First();
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            var busy = f[0] + f[1] + f[2] + f[5] + f[6] + f[7];
            return busy / 100.0;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return -1;
        }
    }

    private static long ReadIoField(string name)
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/io"))
            {
                if (line.StartsWith(name, StringComparison.Ordinal))
                {
                    return long.Parse(line.AsSpan(name.Length).Trim(), CultureInfo.InvariantCulture);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            return -1;
        }

        return -1;
    }

    private static bool TryReadSchedstat(string task, out long run, out long wait)
    {
        run = wait = 0;
        try
        {
            var parts = File.ReadAllText(Path.Combine(task, "schedstat")).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return parts.Length >= 2
                && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out run)
                && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out wait);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static string? TryReadComm(string task)
    {
        try
        {
            return File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n');
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
