using System.Runtime.ExceptionServices;
using System.Security.Cryptography;
using System.Text;

namespace Enclave.Airlock.Bundles;

/// <summary>
/// Reads an uncompressed bundle tar (ustar, pax or GNU headers) in one streaming pass with constant memory:
/// metadata entries come back in memory, target entries stream into a fresh quarantine directory with
/// their length and SHA-256 checked while copying. Anything unexpected rejects the whole bundle and deletes
/// the quarantine directory.
/// </summary>
/// <remarks>
/// A hand-written header parser rather than <c>System.Formats.Tar</c>: it must see the entry type, name and
/// size before any data is read or buffered, refuse pax records by size, and never materialise link targets.
/// Each target is copied by a three-stage pipeline (read, SHA-256, write) with a few chunks in flight, so that
/// hashing (the bottleneck, one core per file) never waits for I/O. When the archive is one seekable file, the
/// header walk seeks past each large target's data and several targets are copied at once, each reading its own
/// byte range: a bundle of several large files uses several cores. Memory stays bounded by the chunks in flight.
/// Failures are reported in archive order, as a sequential reader would: a bad earlier target wins over
/// whatever is wrong after it.
/// <para>
/// One reading session, three files: this one walks the entries (metadata in memory, targets handed on);
/// <c>BundleReader.TarHeaders.cs</c> is the tar header reader; <c>BundleReader.CopyPipeline.cs</c> copies targets into
/// quarantine. They are parts of one private session class because they share its position in the archive.
/// </para>
/// </remarks>
public sealed partial class BundleReader
{
    private const int BlockSize = 512;
    private const int MaxSegmentBytes = 255;

    /// <summary>Bytes per read, hash and write step of a target copy.</summary>
    private const int ChunkSize = 2 * 1024 * 1024;

    /// <summary>Chunks in flight per target copy (read ahead of hashing, hashed ahead of writing): bounds its memory.</summary>
    private const int ChunksPerCopy = 8;

    /// <summary>Most targets copied at once when the archive is one seekable file (memory: this × ChunksPerCopy × ChunkSize).</summary>
    private static readonly int MaxParallelCopies = Math.Clamp(Environment.ProcessorCount, 1, 4);

    /// <summary>Aligned full-size chunk buffers kept for the next copy (at most the chunks of all parallel copies).</summary>
    private static readonly System.Collections.Concurrent.ConcurrentBag<Memory<byte>> AlignedChunks = [];

    /// <summary>Written last, after every target is in place: a quarantine directory without it is debris.</summary>
    internal const string CompleteMarker = ".read-complete";
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly BundleReaderOptions _options;

    public BundleReader(BundleReaderOptions? options = null) => _options = options ?? BundleReaderOptions.Default;

    /// <summary>Reads the bundle at <paramref name="bundlePath"/> (or its parts <c>.000</c>, <c>.001</c>...).</summary>
    public BundleContents Read(
        string bundlePath,
        IReadOnlyDictionary<string, ExpectedEntry> expectedEntries,
        string dataDirectory,
        IProgress<long>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(expectedEntries);
        return Read(bundlePath, _ => expectedEntries, dataDirectory, progress, cancellationToken);
    }

    /// <summary>
    /// Reads the bundle at <paramref name="bundlePath"/>, asking <paramref name="resolveExpected"/> for the
    /// expected targets once all metadata entries (which must precede the targets) have been read, so that
    /// the caller can verify the metadata within the same single pass. An exception from the resolver
    /// deletes the quarantine directory and propagates.
    /// </summary>
    public BundleContents Read(
        string bundlePath,
        Func<IReadOnlyDictionary<string, ReadOnlyMemory<byte>>, IReadOnlyDictionary<string, ExpectedEntry>> resolveExpected,
        string dataDirectory,
        IProgress<long>? progress = null,
        CancellationToken cancellationToken = default)
    {
        using var stream = SplitPartsStream.Open(bundlePath, _options.MaxParts);
        return Read(stream, resolveExpected, dataDirectory, progress, cancellationToken);
    }

    /// <summary>Reads a bundle archive from <paramref name="archive"/> (read forward only).</summary>
    public BundleContents Read(
        Stream archive,
        Func<IReadOnlyDictionary<string, ReadOnlyMemory<byte>>, IReadOnlyDictionary<string, ExpectedEntry>> resolveExpected,
        string dataDirectory,
        IProgress<long>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(archive);
        ArgumentNullException.ThrowIfNull(resolveExpected);
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);

        var quarantine = Path.Combine(
            Path.GetFullPath(dataDirectory), "quarantine", Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)));
        if (Directory.Exists(quarantine))
        {
            throw new IOException($"quarantine directory {quarantine} already exists");
        }

        Directory.CreateDirectory(quarantine);
        var completed = false;
        try
        {
            var session = new Session(_options, archive, quarantine, resolveExpected, progress, cancellationToken);
            var contents = session.Run();
            completed = true;
            return contents;
        }
        finally
        {
            if (!completed)
            {
                DeleteQuarantine(quarantine);
            }
        }
    }

    /// <summary>
    /// Deletes quarantine directories that a reader did not finish (the process was killed while copying), so
    /// that nothing of an interrupted bundle survives a restart. Call at startup while holding the data
    /// directory lock, before any import runs. Returns the directories removed.
    /// </summary>
    public static IReadOnlyList<string> SweepIncomplete(string dataDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        var root = Path.Combine(Path.GetFullPath(dataDirectory), "quarantine");
        if (!Directory.Exists(root))
        {
            return [];
        }

        var removed = new List<string>();
        foreach (var directory in Directory.EnumerateDirectories(root))
        {
            if (!File.Exists(Path.Combine(directory, CompleteMarker)))
            {
                Directory.Delete(directory, recursive: true);
                removed.Add(directory);
            }
        }

        return removed;
    }

    private static void DeleteQuarantine(string quarantine)
    {
        try
        {
            if (Directory.Exists(quarantine))
            {
                Directory.Delete(quarantine, recursive: true);
            }
        }
        catch (IOException)
        {
            // The original failure is what the caller must see; a leftover is removed by the next sweep.
        }
        catch (UnauthorizedAccessException)
        {
            // As above.
        }
    }

    private static BundleRejectedException Reject(BundleRejection reason, string detail) => new(reason, detail);

    private sealed partial class Session(
        BundleReaderOptions options,
        Stream archive,
        string quarantine,
        Func<IReadOnlyDictionary<string, ReadOnlyMemory<byte>>, IReadOnlyDictionary<string, ExpectedEntry>> resolveExpected,
        IProgress<long>? progress,
        CancellationToken cancellationToken)
    {
        private readonly byte[] _header = new byte[BlockSize];
        private readonly Dictionary<string, ReadOnlyMemory<byte>> _metadata = new(StringComparer.Ordinal);
        private readonly List<PendingCopy> _copies = [];
        private readonly SemaphoreSlim _copySlots = new(MaxParallelCopies, MaxParallelCopies);
        private readonly Microsoft.Win32.SafeHandles.SafeFileHandle? _seekableHandle = archive is FileStream { CanSeek: true } file ? file.SafeFileHandle : null;
        private readonly HashSet<string> _names = new(StringComparer.Ordinal);
        private readonly HashSet<string> _fileNames = new(StringComparer.Ordinal);
        private readonly HashSet<string> _parentNames = new(StringComparer.Ordinal);
        private readonly string _targetsRoot = Path.Combine(quarantine, "targets");
        private readonly string _incoming = Path.Combine(quarantine, ".incoming");
        private IReadOnlyDictionary<string, ExpectedEntry>? _expected;
        private long _position;
        private long _metadataBytes;
        private int _entries;
        private int _headers;
        private long _reported;
        private volatile bool _copyFailed;
        private bool _metadataClosed;

        public BundleContents Run()
        {
            Directory.CreateDirectory(_targetsRoot);
            Directory.CreateDirectory(_incoming);
            ExceptionDispatchInfo? failure = null;
            try
            {
                ReadEntries();
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }

            // Copies still running must end before the caller may delete the quarantine directory.
            var copyFailure = WaitForCopies();
            var cancelled = failure?.SourceException is OperationCanceledException && cancellationToken.IsCancellationRequested;
            if (copyFailure is not null && !cancelled)
            {
                copyFailure.Throw();
            }

            failure?.Throw();
            Directory.Delete(_incoming);
            using (var marker = new FileStream(Path.Combine(quarantine, CompleteMarker), FileMode.CreateNew, FileAccess.Write))
            {
                marker.Flush(flushToDisk: options.FlushToDisk);
            }

            progress?.Report(_position);
            return new BundleContents
            {
                QuarantineDirectory = quarantine,
                Metadata = _metadata,
                Targets = _copies.Select(c => new QuarantinedTarget { Name = c.Name, Path = c.FinalPath, Length = c.Size, Sha256 = c.Digest!.Value }).ToList(),
                ArchiveBytes = _position,
            };
        }

        private void ReadEntries()
        {
            Dictionary<string, string>? pax = null;
            string? longName = null;
            var maxHeaders = checked((options.MaxEntries * 3) + 3);

            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                ThrowIfACopyFailed();
                var headerOffset = _position;
                var read = ReadFull(_header);
                if (read == 0)
                {
                    throw Reject(BundleRejection.Truncated, $"archive ends at byte {headerOffset} without its end-of-archive marker");
                }

                if (read < BlockSize)
                {
                    throw Reject(BundleRejection.Truncated, $"header at byte {headerOffset} is cut short ({read} of {BlockSize} bytes)");
                }

                if (IsZero(_header))
                {
                    FinishEndOfArchive(headerOffset, pax is not null || longName is not null);
                    break;
                }

                if (++_headers > maxHeaders)
                {
                    throw Reject(BundleRejection.TooManyEntries, $"more than {maxHeaders} headers");
                }

                VerifyHeader(headerOffset);
                var type = _header[156];
                var size = ParseNumber(_header.AsSpan(124, 12), "size", headerOffset);

                switch (type)
                {
                    case (byte)'x':
                        if (pax is not null)
                        {
                            throw Reject(BundleRejection.Malformed, $"two pax headers in a row at byte {headerOffset}");
                        }

                        pax = ReadPax(size, headerOffset, global: false);
                        continue;
                    case (byte)'g':
                        ReadPax(size, headerOffset, global: true);
                        continue;
                    case (byte)'L':
                        if (longName is not null)
                        {
                            throw Reject(BundleRejection.Malformed, $"two GNU long-name headers in a row at byte {headerOffset}");
                        }

                        longName = ReadLongName(size, headerOffset);
                        continue;
                    case (byte)'1':
                    case (byte)'2':
                    case (byte)'K':
                        throw Reject(BundleRejection.Link, $"entry {Describe(pax, longName, headerOffset)} at byte {headerOffset} is a {(type == (byte)'1' ? "hard" : type == (byte)'2' ? "symbolic" : "long-named")} link; bundles hold regular files only");
                    case (byte)'3':
                    case (byte)'4':
                    case (byte)'6':
                        throw Reject(BundleRejection.DeviceFile, $"entry {Describe(pax, longName, headerOffset)} at byte {headerOffset} is a {(type == (byte)'6' ? "FIFO" : "device file")}; bundles hold regular files only");
                    case (byte)'5':
                        throw Reject(BundleRejection.DirectoryEntry, $"entry {Describe(pax, longName, headerOffset)} at byte {headerOffset} is a directory; bundles hold regular files only");
                    case (byte)'0':
                    case 0:
                        break;
                    default:
                        throw Reject(BundleRejection.Malformed, $"entry {Describe(pax, longName, headerOffset)} at byte {headerOffset} has unsupported type '{(char)type}'");
                }

                if (++_entries > options.MaxEntries)
                {
                    throw Reject(BundleRejection.TooManyEntries, $"archive has more than {options.MaxEntries} entries");
                }

                if (pax is not null && pax.TryGetValue("size", out var paxSize))
                {
                    size = ParsePaxSize(paxSize, headerOffset);
                }

                var rawName = pax is not null && pax.TryGetValue("path", out var paxPath) ? paxPath : longName ?? HeaderName(headerOffset);
                pax = null;
                longName = null;

                var name = ValidateName(rawName, headerOffset);
                if (!_names.Add(name))
                {
                    throw Reject(BundleRejection.DuplicateEntry, $"entry {name} appears twice (second at byte {headerOffset})");
                }

                CheckFileConflicts(name);
                if (IsMetadata(name))
                {
                    ReadMetadata(name, size);
                }
                else
                {
                    ReadTarget(name, size);
                }
            }

            _expected ??= Resolve();
            var missing = _expected.Keys.Where(k => !_fileNames.Contains(k)).Order(StringComparer.Ordinal).ToList();
            if (missing.Count > 0)
            {
                throw Reject(
                    BundleRejection.MissingEntry,
                    $"the targets metadata names {missing.Count} target(s) the archive lacks: {string.Join(", ", missing.Take(5))}");
            }
        }

        private IReadOnlyDictionary<string, ExpectedEntry> Resolve() =>
            resolveExpected(_metadata) ?? throw new InvalidOperationException("the expected-entries resolver returned null");

        private bool IsMetadata(string name) =>
            name.StartsWith(options.MetadataFolder, StringComparison.Ordinal) && name.EndsWith(".json", StringComparison.Ordinal);

        private void ReadMetadata(string name, long size)
        {
            if (_expected is not null)
            {
                throw Reject(BundleRejection.Malformed, $"metadata entry {name} follows a target; metadata must come first");
            }

            if (_metadataClosed)
            {
                throw Reject(BundleRejection.UndeclaredEntry, $"metadata entry {name} follows {options.LastMetadataEntry}, which ends the metadata; a bundle holds no other metadata files");
            }

            if (name == options.LastMetadataEntry)
            {
                _metadataClosed = true;
            }

            if (size > options.MaxMetadataBytes)
            {
                throw Reject(BundleRejection.TooLarge, $"metadata entry {name} is {size} bytes; the limit is {options.MaxMetadataBytes}");
            }

            _metadataBytes = checked(_metadataBytes + size);
            if (_metadataBytes > options.MaxTotalMetadataBytes)
            {
                throw Reject(BundleRejection.TooLarge, $"metadata entries total more than {options.MaxTotalMetadataBytes} bytes");
            }

            var data = new byte[size];
            if (ReadFull(data) < size)
            {
                throw Reject(BundleRejection.Truncated, $"metadata entry {name} is cut short");
            }

            SkipPadding(size, name);
            _metadata.Add(name, data);
        }
    }
}
