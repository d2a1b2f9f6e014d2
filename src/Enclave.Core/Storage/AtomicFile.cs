namespace Enclave.Core.Storage;

/// <summary>Whole-file writes that never leave a half-written file: write a temporary file beside, flush, rename.</summary>
public static class AtomicFile
{
    private const UnixFileMode PrivateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>
    /// Writes a file that must not exist yet (mode 0600 when <paramref name="privateFile"/>); false, and nothing
    /// written, when it exists. The caller turns false into its own error ("already exists; nothing was overwritten").
    /// </summary>
    public static bool TryWriteNew(string path, ReadOnlySpan<byte> content, bool privateFile)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (File.Exists(path))
        {
            return false;
        }

        var temp = Write(path, content, privateFile);
        try
        {
            File.Move(temp, path, overwrite: false);
            return true;
        }
        catch (IOException) when (File.Exists(path))
        {
            File.Delete(temp);
            return false;
        }
    }

    /// <summary>Replaces (or creates) a file.</summary>
    public static void Replace(string path, ReadOnlySpan<byte> content)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
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
