namespace Enclave.Bench.Gateway;

/// <summary>
/// Says on stderr which process of the benchmark died of an unhandled exception, with the exception and the process's
/// threads, resident memory, memory maps and open descriptors. The runtime itself prints only "Out of memory." for an
/// unhandled <see cref="OutOfMemoryException"/>, which in a 64-bit process with memory free usually means a thread
/// that could not be created or a mapping refused (<c>vm.max_map_count</c>), not a full heap: these counts tell which.
/// Installed by every mode (the driver and each child; a child's stderr reaches the driver's with its name before it).
/// </summary>
internal static class CrashReport
{
    public static void Install(string mode) =>
        AppDomain.CurrentDomain.UnhandledException += (_, e) =>
        {
            try
            {
                Console.Error.WriteLine($"unhandled exception in the {mode} process (pid {Environment.ProcessId}): {Describe()}");
                Console.Error.WriteLine(e.ExceptionObject);
            }
            catch (Exception ex) when (ex is IOException or OutOfMemoryException or UnauthorizedAccessException)
            {
                // Nothing more can be said; the runtime's own message follows.
            }
        };

    /// <summary>Threads, VmRSS and VmSize from <c>/proc/self/status</c>, memory maps and open descriptors.</summary>
    public static string Describe()
    {
        var status = File.ReadAllLines("/proc/self/status")
            .Where(l => l.StartsWith("Threads:", StringComparison.Ordinal) || l.StartsWith("VmRSS:", StringComparison.Ordinal) || l.StartsWith("VmSize:", StringComparison.Ordinal))
            .Select(l => string.Join(' ', l.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)));
        var maps = File.ReadLines("/proc/self/maps").Count();
        var fds = Directory.EnumerateFileSystemEntries("/proc/self/fd").Count();
        return $"{string.Join(", ", status)}, {maps} memory maps, {fds} open descriptors";
    }
}
