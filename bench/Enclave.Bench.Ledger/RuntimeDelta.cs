using System.Diagnostics;

namespace Enclave.Bench.Ledger;

/// <summary>What happened between two <see cref="RuntimeSnapshot"/>s.</summary>
internal sealed record RuntimeDelta
{
    public required double WallSeconds { get; init; }

    /// <summary>Process CPU time as a share of all cores (1.0 = every core busy the whole window).</summary>
    public required double ProcessCpuShare { get; init; }

    /// <summary>Share of the window the sequencer thread was on a CPU; NaN when it could not be found.</summary>
    public required double SequencerOnCpu { get; init; }

    /// <summary>Share of the window the sequencer thread was runnable but waiting for a CPU.</summary>
    public required double SequencerRunQueue { get; init; }

    /// <summary>Runnable-but-waiting time summed over all threads, per second of wall time.</summary>
    public required double AllThreadsRunQueuePerSecond { get; init; }

    /// <summary>CPU used by other processes on the machine, as a share of all cores (noise from neighbours).</summary>
    public required double OtherProcessesCpuShare { get; init; }

    /// <summary>Bytes passed to write system calls in the window; -1 when unknown.</summary>
    public required long WriteSyscallBytes { get; init; }

    public required int Gen0 { get; init; }
    public required int Gen1 { get; init; }
    public required int Gen2 { get; init; }
    public required double GcPauseShare { get; init; }
    public required long AllocatedBytes { get; init; }

    public static RuntimeDelta Between(RuntimeSnapshot start, RuntimeSnapshot end)
    {
        ArgumentNullException.ThrowIfNull(start);
        ArgumentNullException.ThrowIfNull(end);
        var wall = (end.Timestamp - start.Timestamp) / (double)Stopwatch.Frequency;
        var wallNs = wall * 1e9;
        var haveSequencer = start.SequencerRunNs >= 0 && end.SequencerRunNs >= 0;
        return new RuntimeDelta
        {
            WallSeconds = wall,
            ProcessCpuShare = (end.ProcessCpu - start.ProcessCpu).TotalSeconds / wall / Environment.ProcessorCount,
            SequencerOnCpu = haveSequencer ? (end.SequencerRunNs - start.SequencerRunNs) / wallNs : double.NaN,
            SequencerRunQueue = haveSequencer ? (end.SequencerWaitNs - start.SequencerWaitNs) / wallNs : double.NaN,
            AllThreadsRunQueuePerSecond = (end.AllThreadsWaitNs - start.AllThreadsWaitNs) / wallNs,
            OtherProcessesCpuShare = start.MachineBusySeconds < 0 || end.MachineBusySeconds < 0
                ? double.NaN
                : Math.Max(0, (end.MachineBusySeconds - start.MachineBusySeconds - (end.ProcessCpu - start.ProcessCpu).TotalSeconds) / wall / Environment.ProcessorCount),
            WriteSyscallBytes = start.WriteSyscallBytes < 0 || end.WriteSyscallBytes < 0 ? -1 : end.WriteSyscallBytes - start.WriteSyscallBytes,
            Gen0 = end.Gen0 - start.Gen0,
            Gen1 = end.Gen1 - start.Gen1,
            Gen2 = end.Gen2 - start.Gen2,
            GcPauseShare = (end.GcPause - start.GcPause).TotalSeconds / wall,
            AllocatedBytes = end.AllocatedBytes - start.AllocatedBytes,
        };
    }
}
