namespace Enclave.Airlock.Tuf;

/// <summary>
/// Reads metadata from a directory laid out as a TUF repository (<c>timestamp.json</c>, <c>3.root.json</c>,
/// <c>2.snapshot.json</c>…), as an unpacked bundle or a tuf-conformance metadata directory is.
/// Role names are percent-encoded into file names, so a delegated role name cannot leave the directory.
/// </summary>
public sealed class DirectoryMetadataSource : ITufMetadataSource
{
    private readonly string _directory;

    /// <summary>Reads from <paramref name="directory"/>.</summary>
    public DirectoryMetadataSource(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        _directory = Path.GetFullPath(directory);
    }

    /// <summary>The file name a role and version are stored under: <c>ROLE.json</c> or <c>VERSION.ROLE.json</c>.</summary>
    public static string FileName(string role, int? version)
    {
        ArgumentNullException.ThrowIfNull(role);
        var encoded = Uri.EscapeDataString(role);
        return version is null ? $"{encoded}.json" : $"{version}.{encoded}.json";
    }

    /// <inheritdoc />
    public byte[]? Fetch(string role, int? version, long maxLength)
    {
        var path = Path.Combine(_directory, FileName(role, version));
        if (!string.Equals(Path.GetDirectoryName(Path.GetFullPath(path)), _directory.TrimEnd(Path.DirectorySeparatorChar), StringComparison.Ordinal))
        {
            return null;
        }

        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }

        using (stream)
        {
            // Read at most maxLength + 1 bytes: enough for the updater to see that a file is too long.
            var limit = (int)Math.Min(checked(maxLength + 1), Array.MaxLength);
            var buffer = new byte[Math.Min(limit, Math.Max(stream.Length, 0) + 1)];
            var total = 0;
            while (total < buffer.Length)
            {
                var read = stream.Read(buffer, total, buffer.Length - total);
                if (read == 0)
                {
                    break;
                }

                total += read;
            }

            return buffer.AsSpan(0, total).ToArray();
        }
    }
}
