namespace Enclave.Airlock.Repository;

/// <summary>
/// Where a bundle is written: a staging folder beside the output, holding one file or parts <c>NAME.000</c>,
/// <c>NAME.001</c>... of a fixed size; <see cref="Commit"/> moves them into place. Disposed without a commit, the
/// staging folder is removed and nothing appears at the output.
/// </summary>
internal sealed class BundleOutput : IDisposable
{
    /// <summary>Most parts a split bundle may have (the reader's default bound).</summary>
    public const int MaxParts = 1000;

    /// <summary>Smallest part size accepted.</summary>
    public const long MinSplitSize = 64 * 1024;

    private readonly string _output;
    private readonly string _staging;
    private readonly PartStream _stream;
    private bool _committed;

    /// <summary>Prepares to write <paramref name="output"/>; refuses when it (or any part of it) exists, unless <paramref name="replace"/>.</summary>
    public BundleOutput(string output, long? splitSize, bool replace = false)
    {
        _output = Path.GetFullPath(output);
        if (splitSize is { } size && size < MinSplitSize)
        {
            throw new TrustRepositoryException(TrustRepositoryError.InvalidArgument, $"--split-size {size} is too small; at least {MinSplitSize} bytes");
        }

        if (!replace && ExistingFiles(_output).FirstOrDefault() is { } existing)
        {
            throw new TrustRepositoryException(TrustRepositoryError.OutputExists, $"{existing} already exists; choose another --out or remove it (nothing was overwritten)");
        }

        var directory = Path.GetDirectoryName(_output)!;
        Directory.CreateDirectory(directory);
        _staging = Path.Combine(directory, $".{Path.GetFileName(_output)}.{Guid.NewGuid():N}.partial");
        Directory.CreateDirectory(_staging);
        _stream = new PartStream(Path.Combine(_staging, Path.GetFileName(_output)), splitSize);
    }

    /// <summary>The stream to write the archive to.</summary>
    public Stream Stream => _stream;

    /// <summary>Bytes written so far.</summary>
    public long Length => _stream.Written;

    /// <summary>Files that make up a bundle at <paramref name="output"/> now: the file itself, or its parts.</summary>
    public static IEnumerable<string> ExistingFiles(string output)
    {
        if (File.Exists(output))
        {
            yield return output;
        }

        for (var i = 0; File.Exists(PartName(output, i)); i++)
        {
            yield return PartName(output, i);
        }
    }

    public static string PartName(string basePath, int index) => $"{basePath}.{index:000}";

    /// <summary>Flushes to disk and moves the files to the output; with <c>replace</c>, the old files are removed first.</summary>
    public IReadOnlyList<string> Commit(bool replace = false)
    {
        _stream.Complete();
        var staged = _stream.Files;
        var finals = staged.Select(f => Path.Combine(Path.GetDirectoryName(_output)!, Path.GetFileName(f))).ToList();
        if (replace)
        {
            var keep = finals.ToHashSet(StringComparer.Ordinal);
            foreach (var old in ExistingFiles(_output).ToList())
            {
                if (!keep.Contains(old))
                {
                    File.Delete(old);
                }
            }
        }

        for (var i = 0; i < staged.Count; i++)
        {
            File.Move(staged[i], finals[i], overwrite: replace);
        }

        _committed = true;
        Directory.Delete(_staging, recursive: true);
        return finals;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _stream.Dispose();
        if (!_committed && Directory.Exists(_staging))
        {
            Directory.Delete(_staging, recursive: true);
        }
    }

    /// <summary>A forward-only write stream over one file or consecutive parts of a fixed size.</summary>
    private sealed class PartStream(string basePath, long? partSize) : Stream
    {
        private readonly List<string> _files = [];
        private FileStream? _current;
        private long _inPart;

        public long Written { get; private set; }

        public IReadOnlyList<string> Files => _files;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => Written;
            set => throw new NotSupportedException();
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            while (buffer.Length > 0)
            {
                if (_current is null || (partSize is { } size && _inPart == size))
                {
                    Next();
                }

                var n = partSize is { } limit ? (int)Math.Min(buffer.Length, limit - _inPart) : buffer.Length;
                _current!.Write(buffer[..n]);
                _inPart += n;
                Written += n;
                buffer = buffer[n..];
            }
        }

        public void Complete()
        {
            if (_current is null)
            {
                Next();
            }

            _current!.Flush(flushToDisk: true);
            _current.Dispose();
            _current = null;
        }

        public override void Flush() => _current?.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _current?.Dispose();
                _current = null;
            }

            base.Dispose(disposing);
        }

        private void Next()
        {
            if (_current is not null)
            {
                _current.Flush(flushToDisk: true);
                _current.Dispose();
            }

            if (partSize is not null && _files.Count >= MaxParts)
            {
                throw new TrustRepositoryException(TrustRepositoryError.InvalidArgument, $"with --split-size {partSize} the bundle needs more than {MaxParts} parts, more than an enclave accepts; choose a larger --split-size");
            }

            var name = partSize is null ? basePath : PartName(basePath, _files.Count);
            _current = new FileStream(name, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1024 * 1024);
            _files.Add(name);
            _inPart = 0;
        }
    }
}
