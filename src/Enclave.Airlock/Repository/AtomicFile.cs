namespace Enclave.Airlock.Repository;

/// <summary>Whole-file writes that never leave a half-written file: write a temporary file beside, flush, rename.</summary>
internal static class AtomicFile
{
    private const UnixFileMode PrivateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Writes a file that must not exist yet.</summary>
    public static void WriteNew(string path, ReadOnlySpan<byte> content, bool privateFile)
    {
        if (File.Exists(path))
        {
            throw new TrustRepositoryException(TrustRepositoryError.OutputExists, $"{path} already exists; nothing was overwritten");
        }

        var temp = Write(path, content, privateFile);
        try
        {
            File.Move(temp, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path))
        {
            File.Delete(temp);
            throw new TrustRepositoryException(TrustRepositoryError.OutputExists, $"{path} already exists; nothing was overwritten");
        }
    }

    /// <summary>Replaces (or creates) a file.</summary>
    public static void Replace(string path, ReadOnlySpan<byte> content)
    {
        var temp = Write(path, content, privateFile: false);
        File.Move(temp, path, overwrite: true);
    }

    private static string Write(string path, ReadOnlySpan<byte> content, bool privateFile)
    {
        var temp = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (privateFile && !OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = PrivateMode;
        }

        try
        {
            using var stream = new FileStream(temp, options);
            stream.Write(content);
            stream.Flush(flushToDisk: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }

        return temp;
    }
}
