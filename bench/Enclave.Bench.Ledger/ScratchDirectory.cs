using System.Globalization;

namespace Enclave.Bench.Ledger;

/// <summary>A fresh data directory under the benchmark root (a real disk, not tmpfs), removed on dispose unless kept.</summary>
internal sealed class ScratchDirectory : IDisposable
{
    private readonly bool _keep;

    public ScratchDirectory(string root, string name, bool keep)
    {
        _keep = keep;
        Path = System.IO.Path.Combine(root, $"{name}-{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}-{Guid.NewGuid().ToString("N")[..8]}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose()
    {
        if (!_keep && Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}
