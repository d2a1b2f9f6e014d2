namespace Enclave.Inference.Tests.Forge;

/// <summary>A fresh folder under the temp directory, deleted with the test.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "enclave-inference-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Sub(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A file still mapped by a session that a finalizer has not released yet; the temp folder is cleaned later.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
