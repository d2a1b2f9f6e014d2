namespace Enclave.Airlock.Tests.Scanners;

/// <summary>A temporary folder for scanner inputs.</summary>
public sealed class ScannerTestFiles : IDisposable
{
    public ScannerTestFiles()
    {
        Root = Path.Combine(Path.GetTempPath(), "enclave-scanner-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    public string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(Root, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
