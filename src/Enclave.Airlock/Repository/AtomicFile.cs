namespace Enclave.Airlock.Repository;

/// <summary>The repository's whole-file writes (<see cref="Core.Storage.AtomicFile"/>), refusing to overwrite with its own error.</summary>
internal static class AtomicFile
{
    /// <summary>Writes a file that must not exist yet.</summary>
    public static void WriteNew(string path, ReadOnlySpan<byte> content, bool privateFile)
    {
        if (!Core.Storage.AtomicFile.TryWriteNew(path, content, privateFile))
        {
            throw new TrustRepositoryException(TrustRepositoryError.OutputExists, $"{path} already exists; nothing was overwritten");
        }
    }

    /// <summary>Replaces (or creates) a file.</summary>
    public static void Replace(string path, ReadOnlySpan<byte> content) => Core.Storage.AtomicFile.Replace(path, content);
}
