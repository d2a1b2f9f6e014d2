namespace Enclave.Airlock.Bundles;

/// <summary>
/// Reads the parts of a split bundle (<c>FILE.000</c>, <c>FILE.001</c>...) as one forward-only stream,
/// holding one part open at a time.
/// </summary>
public sealed class SplitPartsStream : Stream
{
    private readonly IReadOnlyList<string> _parts;
    private int _index;
    private FileStream? _current;

    private SplitPartsStream(IReadOnlyList<string> parts) => _parts = parts;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <summary>
    /// Opens <paramref name="path"/> as a bundle: the file itself when it exists and is not a <c>.000</c> part,
    /// otherwise the contiguous parts <c>BASE.000</c>, <c>BASE.001</c>... where BASE is the path without
    /// its <c>.000</c> suffix.
    /// </summary>
    public static Stream Open(string path, int maxParts)
    {
        var parts = Parts(path, maxParts);
        return parts.Count == 1 && string.Equals(parts[0], path, StringComparison.Ordinal) && !path.EndsWith(".000", StringComparison.Ordinal)
            ? OpenPart(path)
            : new SplitPartsStream(parts);
    }

    /// <summary>
    /// The files that make up the bundle at <paramref name="path"/>, in order (see <see cref="Open"/>): the file itself,
    /// or its contiguous parts. A later part beyond a gap, or more than <paramref name="maxParts"/> parts, is refused.
    /// </summary>
    /// <exception cref="FileNotFoundException">Neither the file nor its first part exists.</exception>
    /// <exception cref="BundleRejectedException">Too many parts, or a part missing before a later one.</exception>
    public static IReadOnlyList<string> Parts(string path, int maxParts)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string basePath;
        if (path.EndsWith(".000", StringComparison.Ordinal))
        {
            basePath = path[..^4];
        }
        else if (File.Exists(path))
        {
            return [path];
        }
        else if (File.Exists(path + ".000"))
        {
            basePath = path;
        }
        else
        {
            throw new FileNotFoundException($"bundle {path} not found (nor its first part {path}.000)", path);
        }

        var parts = new List<string>();
        while (File.Exists(PartName(basePath, parts.Count)))
        {
            if (parts.Count >= maxParts)
            {
                throw new BundleRejectedException(BundleRejection.TooManyEntries, $"bundle {basePath} has more than {maxParts} parts");
            }

            parts.Add(PartName(basePath, parts.Count));
        }

        if (parts.Count == 0)
        {
            throw new FileNotFoundException($"bundle part {path} not found", path);
        }

        // A later part beyond a gap means a part is missing from the media.
        var directory = Path.GetDirectoryName(Path.GetFullPath(basePath))!;
        var prefix = Path.GetFileName(basePath) + ".";
        foreach (var file in Directory.EnumerateFiles(directory, prefix + "*"))
        {
            var suffix = Path.GetFileName(file)[prefix.Length..];
            if (suffix.Length >= 3 && suffix.All(char.IsAsciiDigit)
                && int.TryParse(suffix, System.Globalization.CultureInfo.InvariantCulture, out var index) && index >= parts.Count)
            {
                throw new BundleRejectedException(
                    BundleRejection.Truncated,
                    $"bundle part {Path.GetFileName(file)} is present but part {PartName(Path.GetFileName(basePath), parts.Count)} is missing; copy every part from the media");
            }
        }

        return parts;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        while (_index < _parts.Count)
        {
            _current ??= OpenPart(_parts[_index]);
            var read = _current.Read(buffer);
            if (read > 0)
            {
                return read;
            }

            _current.Dispose();
            _current = null;
            _index++;
        }

        return 0;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _current?.Dispose();
            _current = null;
        }

        base.Dispose(disposing);
    }

    private static string PartName(string basePath, int index) =>
        basePath + "." + index.ToString("D3", System.Globalization.CultureInfo.InvariantCulture);

    private static FileStream OpenPart(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 64 * 1024, FileOptions.SequentialScan);
}
