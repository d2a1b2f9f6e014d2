using Enclave.Core.Storage;

namespace Enclave.Airlock.Bundles;

/// <summary>
/// Reads the parts of a split bundle (<c>FILE.000</c>, <c>FILE.001</c>...) as one forward-only stream,
/// holding one part open at a time, and optionally reporting the bytes read so far (the CLI's upload progress).
/// </summary>
public sealed class SplitPartsStream : ReadOnlyStream
{
    private readonly IReadOnlyList<string> _parts;
    private readonly IProgress<long>? _progress;
    private int _index;
    private FileStream? _current;
    private long _read;

    private SplitPartsStream(IReadOnlyList<string> parts, IProgress<long>? progress)
    {
        _parts = parts;
        _progress = progress;
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
            : new SplitPartsStream(parts, progress: null);
    }

    /// <summary>
    /// <paramref name="parts"/> (as <see cref="Parts"/> lists them) read one after another as one forward-only stream;
    /// <paramref name="progress"/>, when given, is told the bytes read so far after every read that returns data.
    /// </summary>
    public static Stream OpenParts(IReadOnlyList<string> parts, IProgress<long>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(parts);
        return new SplitPartsStream(parts, progress);
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
                return Report(read);
            }

            _current.Dispose();
            _current = null;
            _index++;
        }

        return 0;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        while (_index < _parts.Count)
        {
            _current ??= OpenPart(_parts[_index]);
            var read = await _current.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (read > 0)
            {
                return Report(read);
            }

            await _current.DisposeAsync().ConfigureAwait(false);
            _current = null;
            _index++;
        }

        return 0;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _current?.Dispose();
            _current = null;
        }

        base.Dispose(disposing);
    }

    private int Report(int read)
    {
        _read += read;
        _progress?.Report(_read);
        return read;
    }

    private static string PartName(string basePath, int index) =>
        basePath + "." + index.ToString("D3", System.Globalization.CultureInfo.InvariantCulture);

    private static FileStream OpenPart(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 64 * 1024, FileOptions.SequentialScan);
}
