namespace Enclave.Fuzz;

/// <summary>
/// A per-process folder for the parsers that read files (scanners, bundles): under /dev/shm when it exists so that
/// each execution writes to memory, not to disk.
/// </summary>
internal static class Scratch
{
    private static readonly Lazy<string> Root = new(() =>
    {
        var parent = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        var root = Path.Combine(parent, $"enclave-fuzz-{Environment.ProcessId}");
        Directory.CreateDirectory(root);
        return root;
    });

    public static string Folder => Root.Value;

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="fileName"/> in the scratch folder and returns its path.</summary>
    public static string Write(string fileName, byte[] bytes)
    {
        var path = Path.Combine(Folder, fileName);
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
