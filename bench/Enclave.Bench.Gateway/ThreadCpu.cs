using System.Runtime.InteropServices;

namespace Enclave.Bench.Gateway;

/// <summary>
/// CPU time of the calling thread (Linux <c>CLOCK_THREAD_CPUTIME_ID</c>), so that micro-measurements on a shared
/// machine count the work done, not the time other processes held the core.
/// </summary>
internal static class ThreadCpu
{
    private const int ClockThreadCpuTimeId = 3;

    /// <summary>Nanoseconds of CPU this thread has used; -1 where the clock is unavailable.</summary>
    public static long Nanoseconds()
    {
        try
        {
            return ClockGetTime(ClockThreadCpuTimeId, out var now) == 0 ? (now.Seconds * 1_000_000_000) + now.Nanoseconds : -1;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return -1;
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc.so.6", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out Timespec time);
}
