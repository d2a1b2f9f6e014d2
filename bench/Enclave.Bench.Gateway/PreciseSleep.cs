using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Enclave.Bench.Gateway;

/// <summary>
/// Sleeps until a <see cref="Stopwatch"/> timestamp with tens-of-microseconds precision and without spinning a core
/// (which, on two cores, would take CPU from the processes being measured): <c>Thread.Sleep</c> for whole
/// milliseconds, then <c>nanosleep(2)</c> for the rest (Linux timer slack is 50 µs for ordinary threads).
/// </summary>
internal static class PreciseSleep
{
    private static readonly long OneMs = Stopwatch.Frequency / 1000;
    private static bool _nanosleepMissing;

    public static void Until(long timestamp)
    {
        while (true)
        {
            var remaining = timestamp - Stopwatch.GetTimestamp();
            if (remaining <= 0)
            {
                return;
            }

            if (remaining > 2 * OneMs)
            {
                Thread.Sleep((int)((remaining - OneMs) / OneMs));
                continue;
            }

            if (_nanosleepMissing)
            {
                Thread.Yield();
                continue;
            }

            var nanoseconds = (long)(remaining * (1_000_000_000.0 / Stopwatch.Frequency));
            var request = new Timespec { Seconds = nanoseconds / 1_000_000_000, Nanoseconds = nanoseconds % 1_000_000_000 };
            try
            {
                _ = Nanosleep(ref request, IntPtr.Zero); // EINTR ends it early: the loop sleeps again
            }
            catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
            {
                _nanosleepMissing = true;
            }
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc.so.6", EntryPoint = "nanosleep")]
    private static extern int Nanosleep(ref Timespec request, IntPtr remaining);
}
