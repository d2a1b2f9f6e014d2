using System.Buffers;
using System.Globalization;
using System.Runtime.ExceptionServices;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using Enclave.Core;

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
/// </remarks>
public sealed class BundleReader
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

    private sealed class Session(
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

        private void ReadTarget(string name, long size)
        {
            _expected ??= Resolve();
            if (!_expected.TryGetValue(name, out var expected))
            {
                throw Reject(BundleRejection.UndeclaredEntry, $"entry {name} is not named by the targets metadata");
            }

            if (size > expected.Length)
            {
                throw Reject(BundleRejection.TooLarge, $"entry {name} is {size} bytes in the archive but the targets metadata says {expected.Length}");
            }

            if (size != expected.Length)
            {
                throw Reject(BundleRejection.LengthMismatch, $"entry {name} is {size} bytes in the archive but the targets metadata says {expected.Length}");
            }

            var finalPath = Path.GetFullPath(Path.Combine(_targetsRoot, name.Replace('/', Path.DirectorySeparatorChar)));
            if (!finalPath.StartsWith(_targetsRoot + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                throw Reject(BundleRejection.PathTraversal, $"entry {name} resolves outside the quarantine directory");
            }

            var copy = new PendingCopy
            {
                Name = name,
                Size = size,
                Expected = expected.Sha256,
                TempPath = Path.Combine(_incoming, _copies.Count.ToString(CultureInfo.InvariantCulture)),
                FinalPath = finalPath,
            };
            _copies.Add(copy);
            if (_seekableHandle is { } handle && size > ChunkSize)
            {
                Dispatch(copy, handle);
                return;
            }

            // Small targets, or an archive that can only be read forward: copied here, in archive order.
            copy.Digest = size <= ChunkSize
                ? CopySmall(copy)
                : CopyAsync(copy, (buffer, _) => ReadFull(buffer.Span), reportProgress: true).GetAwaiter().GetResult();
            Finish(copy);
            SkipPadding(size, name);
            ReportProgress();
        }

        // The header walk seeks past the data; a worker copies it from its own byte range of the file.
        private void Dispatch(PendingCopy copy, Microsoft.Win32.SafeHandles.SafeFileHandle handle)
        {
            while (!_copySlots.Wait(100, cancellationToken))
            {
                ThrowIfACopyFailed();
                ReportProgress();
            }

            ThrowIfACopyFailed();
            var dataOffset = archive.Position;
            copy.Task = Task.Run(
                async () =>
                {
                    try
                    {
                        copy.Digest = await CopyAsync(copy, (buffer, offset) => ReadAt(handle, buffer.Span, dataOffset + offset), reportProgress: false).ConfigureAwait(false);
                        Finish(copy);
                    }
                    catch
                    {
                        _copyFailed = true;
                        throw;
                    }
                    finally
                    {
                        _copySlots.Release();
                    }
                },
                CancellationToken.None);
            var padded = checked(copy.Size + ((BlockSize - (copy.Size % BlockSize)) % BlockSize));
            archive.Seek(padded, SeekOrigin.Current);
            _position += padded;
            ReportProgress();
        }

        private static int ReadAt(Microsoft.Win32.SafeHandles.SafeFileHandle handle, Span<byte> buffer, long offset)
        {
            var total = 0;
            while (total < buffer.Length)
            {
                var read = RandomAccess.Read(handle, buffer[total..], offset + total);
                if (read == 0)
                {
                    break;
                }

                total += read;
            }

            return total;
        }

        private void Finish(PendingCopy copy)
        {
            Span<byte> digest = stackalloc byte[Sha256Digest.Size];
            copy.Digest!.Value.CopyTo(digest);
            Span<byte> wanted = stackalloc byte[Sha256Digest.Size];
            copy.Expected.CopyTo(wanted);
            if (!CryptographicOperations.FixedTimeEquals(digest, wanted))
            {
                throw Reject(BundleRejection.HashMismatch, $"entry {copy.Name} has SHA-256 {copy.Digest} but the targets metadata says {copy.Expected}");
            }

            Directory.CreateDirectory(Path.GetDirectoryName(copy.FinalPath)!);
            File.Move(copy.TempPath, copy.FinalPath, overwrite: false);
        }

        private void ThrowIfACopyFailed()
        {
            if (_copyFailed)
            {
                // Run reports the failed copy itself (the earliest in archive order).
                throw new OperationCanceledException("a target copy failed");
            }
        }

        // Waits for every dispatched copy; returns the failure of the earliest failed target, if any.
        private ExceptionDispatchInfo? WaitForCopies()
        {
            foreach (var copy in _copies)
            {
                if (copy.Task is null)
                {
                    continue;
                }

                try
                {
                    // Keep reporting while workers copy: the header walk ends long before a large target is done.
                    while (Task.WaitAny([copy.Task], TimeSpan.FromMilliseconds(100)) < 0)
                    {
                        ReportProgress();
                    }

                    copy.Task.GetAwaiter().GetResult();
                }
                catch (Exception e)
                {
                    copy.Failure ??= ExceptionDispatchInfo.Capture(e);
                }
            }

            return _copies.FirstOrDefault(c => c.Failure is not null)?.Failure;
        }

        // Progress counts bytes read here plus bytes the workers have hashed; only this thread reports, in order.
        private void ReportProgress()
        {
            if (progress is null)
            {
                return;
            }

            var pending = _copies.Where(c => c.Task is not null).Sum(c => c.Size - Interlocked.Read(ref c.Hashed));
            var done = _position - pending;
            if (done > _reported)
            {
                _reported = done;
                progress.Report(done);
            }
        }

        // A target of at most one chunk: read, hash and write here, without handing off.
        private Sha256Digest CopySmall(PendingCopy copy)
        {
            var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Max(copy.Size, 1));
            try
            {
                var length = (int)copy.Size;
                var read = ReadFull(buffer.AsSpan(0, length));
                if (read < length)
                {
                    throw Reject(BundleRejection.Truncated, $"entry {copy.Name} is cut short: {read} of {copy.Size} bytes present");
                }

                using (var file = new FileStream(copy.TempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0))
                {
                    file.Write(buffer, 0, length);
                    file.Flush(flushToDisk: options.FlushToDisk);
                }

                return new Sha256Digest(SHA256.HashData(buffer.AsSpan(0, length)));
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        // Streams copy.Size bytes into copy.TempPath in three stages with ChunksPerCopy chunks in flight: read (this
        // thread, through read(buffer, offsetInEntry)), SHA-256 and write (each its own task), so that the hash never
        // waits for a read or a write. Returns the digest; the file is complete (and flushed) when it returns.
        private async Task<Sha256Digest> CopyAsync(PendingCopy copy, Func<Memory<byte>, long, int> read, bool reportProgress)
        {
            var chunk = (int)Math.Min(ChunkSize, Math.Max(copy.Size, 1));
            var count = copy.Size <= ChunkSize ? 1 : ChunksPerCopy;

            // Aligned (pinned) buffers so that the writer can hand them to an O_DIRECT file; room for the padding
            // of a partial last chunk. Same number of chunks in flight as before: memory stays bounded.
            var capacity = checked((chunk + QuarantineFile.Alignment - 1) / QuarantineFile.Alignment * QuarantineFile.Alignment);
            var buffers = new Memory<byte>[count];
            for (var i = 0; i < count; i++)
            {
                buffers[i] = capacity == ChunkSize && AlignedChunks.TryTake(out var pooled) ? pooled : QuarantineFile.AllocateAligned(capacity);
            }

            var free = Channel.CreateUnbounded<Memory<byte>>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
            foreach (var buffer in buffers)
            {
                free.Writer.TryWrite(buffer);
            }

            var toHash = Channel.CreateUnbounded<(Memory<byte> Buffer, int Length)>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
            var toWrite = Channel.CreateUnbounded<(Memory<byte> Buffer, int Length)>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            Task? hashing = null;
            Task? writing = null;
            QuarantineFile? file = null;
            try
            {
                file = QuarantineFile.Create(copy.TempPath, copy.Size, options.DirectWrites);
                hashing = Task.Run(
                    async () =>
                    {
                        try
                        {
                            await foreach (var item in toHash.Reader.ReadAllAsync(stop.Token).ConfigureAwait(false))
                            {
                                hash.AppendData(item.Buffer.Span[..item.Length]);
                                Interlocked.Add(ref copy.Hashed, item.Length);
                                toWrite.Writer.TryWrite(item);
                            }
                        }
                        finally
                        {
                            toWrite.Writer.TryComplete();
                        }
                    },
                    CancellationToken.None);
                writing = Task.Run(
                    async () =>
                    {
                        try
                        {
                            await foreach (var item in toWrite.Reader.ReadAllAsync(stop.Token).ConfigureAwait(false))
                            {
                                file.Append(item.Buffer, item.Length);
                                free.Writer.TryWrite(item.Buffer);
                            }
                        }
                        catch
                        {
                            await stop.CancelAsync().ConfigureAwait(false);
                            throw;
                        }
                    },
                    CancellationToken.None);

                long done = 0;
                while (done < copy.Size)
                {
                    var buffer = await free.Reader.ReadAsync(stop.Token).ConfigureAwait(false);
                    var want = (int)Math.Min(chunk, copy.Size - done);
                    var got = read(buffer[..want], done);
                    if (got < want)
                    {
                        throw Reject(BundleRejection.Truncated, $"entry {copy.Name} is cut short: {done + got} of {copy.Size} bytes present");
                    }

                    toHash.Writer.TryWrite((buffer, got));
                    done += got;
                    if (reportProgress)
                    {
                        ReportProgress();
                    }
                }

                toHash.Writer.TryComplete();
                await hashing.ConfigureAwait(false);
                await writing.ConfigureAwait(false);
                file.Complete(options.FlushToDisk);
                return new Sha256Digest(hash.GetHashAndReset());
            }
            catch (OperationCanceledException) when (writing is { IsFaulted: true } && !cancellationToken.IsCancellationRequested)
            {
                // The write failed and stopped the other stages: its error is the one to report.
                await writing.ConfigureAwait(false);
                throw;
            }
            finally
            {
                // Every stage must be done with the buffers (and the file) before they go back.
                toHash.Writer.TryComplete();
                await stop.CancelAsync().ConfigureAwait(false);
                await WaitQuietly(hashing).ConfigureAwait(false);
                await WaitQuietly(writing).ConfigureAwait(false);
                file?.Dispose();
                foreach (var buffer in buffers)
                {
                    if (buffer.Length == ChunkSize && AlignedChunks.Count < MaxParallelCopies * ChunksPerCopy)
                    {
                        AlignedChunks.Add(buffer);
                    }
                }
            }
        }

        // On the failure path only: a stage must finish before the buffers are returned; its own error is
        // secondary to the one already propagating.
        private static async Task WaitQuietly(Task? stage)
        {
            if (stage is null)
            {
                return;
            }

            try
            {
                await stage.ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException or UnauthorizedAccessException)
            {
                // Secondary to the failure being propagated.
            }
        }

        private void CheckFileConflicts(string name)
        {
            if (_parentNames.Contains(name))
            {
                throw Reject(BundleRejection.DuplicateEntry, $"entry {name} is both a file and a folder of other entries");
            }

            for (var slash = name.IndexOf('/', StringComparison.Ordinal); slash >= 0; slash = name.IndexOf('/', slash + 1))
            {
                var parent = name[..slash];
                if (_fileNames.Contains(parent))
                {
                    throw Reject(BundleRejection.DuplicateEntry, $"entry {name} lies under {parent}, which is a file");
                }

                _parentNames.Add(parent);
            }

            _fileNames.Add(name);
        }

        private string ValidateName(string name, long headerOffset)
        {
            var where = $"at byte {headerOffset}";
            if (name.Length == 0)
            {
                throw Reject(BundleRejection.Malformed, $"entry {where} has an empty name");
            }

            if (Encoding.UTF8.GetByteCount(name) > options.MaxNameBytes)
            {
                throw Reject(BundleRejection.TooLarge, $"entry name {where} is longer than {options.MaxNameBytes} bytes");
            }

            foreach (var c in name)
            {
                if (c == '\0' || c == '\\' || char.IsControl(c))
                {
                    throw Reject(BundleRejection.PathTraversal, $"entry name {Printable(name)} {where} contains a backslash, NUL or control character");
                }
            }

            if (name[0] == '/' || (name.Length >= 2 && name[1] == ':' && char.IsAsciiLetter(name[0])))
            {
                throw Reject(BundleRejection.AbsolutePath, $"entry name {name} {where} is absolute");
            }

            foreach (var segment in name.Split('/'))
            {
                if (segment.Length == 0 || segment == "." || segment == "..")
                {
                    throw Reject(BundleRejection.PathTraversal, $"entry name {name} {where} has an empty, '.' or '..' segment");
                }

                if (Encoding.UTF8.GetByteCount(segment) > MaxSegmentBytes)
                {
                    throw Reject(BundleRejection.Malformed, $"entry name {name} {where} has a segment longer than {MaxSegmentBytes} bytes");
                }
            }

            return name;
        }

        private void VerifyHeader(long headerOffset)
        {
            var magic = _header.AsSpan(257, 8);
            if (!magic.SequenceEqual("ustar\000"u8) && !magic.SequenceEqual("ustar  \0"u8))
            {
                throw Reject(BundleRejection.Malformed, $"header at byte {headerOffset} is not a ustar, pax or GNU tar header");
            }

            var stored = ParseNumber(_header.AsSpan(148, 8), "checksum", headerOffset);
            long unsignedSum = 0;
            long signedSum = 0;
            for (var i = 0; i < BlockSize; i++)
            {
                var b = i is >= 148 and < 156 ? (byte)' ' : _header[i];
                unsignedSum += b;
                signedSum += unchecked((sbyte)b); // bytes 128-255 count negative here (old tar writers); not an overflow
            }

            if (stored != unsignedSum && stored != signedSum)
            {
                throw Reject(BundleRejection.Malformed, $"header at byte {headerOffset} fails its checksum (stored {stored}, computed {unsignedSum})");
            }
        }

        private string HeaderName(long headerOffset)
        {
            var name = Field(_header.AsSpan(0, 100), "name", headerOffset);
            var ustar = _header.AsSpan(257, 6).SequenceEqual("ustar\0"u8);
            if (ustar && _header[345] != 0)
            {
                var prefix = Field(_header.AsSpan(345, 155), "prefix", headerOffset);
                return prefix + "/" + name;
            }

            return name;
        }

        private string Field(ReadOnlySpan<byte> field, string what, long headerOffset)
        {
            var end = field.IndexOf((byte)0);
            if (end < 0)
            {
                end = field.Length;
            }
            else if (field[end..].ContainsAnyExcept((byte)0))
            {
                throw Reject(BundleRejection.PathTraversal, $"the {what} field at byte {headerOffset} has a NUL inside it");
            }

            return Decode(field[..end], what, headerOffset);
        }

        private static string Decode(ReadOnlySpan<byte> bytes, string what, long headerOffset)
        {
            try
            {
                return StrictUtf8.GetString(bytes);
            }
            catch (DecoderFallbackException)
            {
                throw Reject(BundleRejection.Malformed, $"the {what} at byte {headerOffset} is not valid UTF-8");
            }
        }

        private static long ParseNumber(ReadOnlySpan<byte> field, string what, long headerOffset)
        {
            if ((field[0] & 0x80) != 0)
            {
                // GNU base-256: big-endian, the top bit marks the encoding; negative values are refused.
                if ((field[0] & 0x40) != 0)
                {
                    throw Reject(BundleRejection.Malformed, $"the {what} at byte {headerOffset} is negative");
                }

                long value = field[0] & 0x3F;
                foreach (var b in field[1..])
                {
                    if (value > (long.MaxValue >> 8))
                    {
                        throw Reject(BundleRejection.Malformed, $"the {what} at byte {headerOffset} overflows");
                    }

                    value = (value << 8) | b;
                }

                return value;
            }

            var i = 0;
            while (i < field.Length && field[i] == (byte)' ')
            {
                i++;
            }

            long result = 0;
            var digits = 0;
            for (; i < field.Length && field[i] is >= (byte)'0' and <= (byte)'7'; i++, digits++)
            {
                if (result > (long.MaxValue >> 3))
                {
                    throw Reject(BundleRejection.Malformed, $"the {what} at byte {headerOffset} overflows");
                }

                result = (result << 3) | (long)(field[i] - '0');
            }

            for (; i < field.Length; i++)
            {
                if (field[i] is not (byte)' ' and not 0)
                {
                    throw Reject(BundleRejection.Malformed, $"the {what} at byte {headerOffset} is not an octal number");
                }
            }

            if (digits == 0)
            {
                throw Reject(BundleRejection.Malformed, $"the {what} at byte {headerOffset} is empty");
            }

            return result;
        }

        private static long ParsePaxSize(string value, long headerOffset)
        {
            if (value.Length == 0 || value.Length > 19 || !value.All(char.IsAsciiDigit)
                || !long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var size))
            {
                throw Reject(BundleRejection.Malformed, $"the pax size before byte {headerOffset} is not a decimal number");
            }

            return size;
        }

        private Dictionary<string, string> ReadPax(long size, long headerOffset, bool global)
        {
            var data = ReadExtension(size, headerOffset, "pax header");
            var records = new Dictionary<string, string>(StringComparer.Ordinal);
            var pos = 0;
            while (pos < data.Length)
            {
                var space = Array.IndexOf(data, (byte)' ', pos);
                if (space <= pos || space - pos > 10)
                {
                    throw Reject(BundleRejection.Malformed, $"pax record at byte {headerOffset} has no length");
                }

                var length = 0;
                for (var i = pos; i < space; i++)
                {
                    if (data[i] is < (byte)'0' or > (byte)'9')
                    {
                        throw Reject(BundleRejection.Malformed, $"pax record length at byte {headerOffset} is not decimal");
                    }

                    length = checked((length * 10) + (data[i] - '0'));
                }

                if (length <= space - pos + 1 || length > data.Length - pos || data[pos + length - 1] != (byte)'\n')
                {
                    throw Reject(BundleRejection.Malformed, $"pax record at byte {headerOffset} has a wrong length");
                }

                var record = data.AsSpan(space + 1, pos + length - space - 2);
                var equals = record.IndexOf((byte)'=');
                if (equals <= 0)
                {
                    throw Reject(BundleRejection.Malformed, $"pax record at byte {headerOffset} has no key");
                }

                var key = Decode(record[..equals], "pax key", headerOffset);
                var value = Decode(record[(equals + 1)..], "pax value", headerOffset);
                if (!records.TryAdd(key, value))
                {
                    throw Reject(BundleRejection.Malformed, $"pax header at byte {headerOffset} repeats the key {key}");
                }

                if (key.StartsWith("GNU.sparse", StringComparison.Ordinal))
                {
                    throw Reject(BundleRejection.Malformed, $"pax header at byte {headerOffset} describes a sparse file");
                }

                if (global && key is "path" or "size" or "linkpath")
                {
                    throw Reject(BundleRejection.Malformed, $"global pax header at byte {headerOffset} sets {key}");
                }

                pos += length;
            }

            return records;
        }

        private string ReadLongName(long size, long headerOffset)
        {
            var data = ReadExtension(size, headerOffset, "GNU long name");
            var end = Array.IndexOf(data, (byte)0);
            if (end >= 0 && data.AsSpan(end).ContainsAnyExcept((byte)0))
            {
                throw Reject(BundleRejection.PathTraversal, $"GNU long name at byte {headerOffset} has a NUL inside it");
            }

            return Decode(data.AsSpan(0, end < 0 ? data.Length : end), "GNU long name", headerOffset);
        }

        private byte[] ReadExtension(long size, long headerOffset, string what)
        {
            if (size > options.MaxPaxHeaderBytes)
            {
                throw Reject(BundleRejection.TooLarge, $"{what} at byte {headerOffset} is {size} bytes; the limit is {options.MaxPaxHeaderBytes}");
            }

            var data = new byte[size];
            if (ReadFull(data) < size)
            {
                throw Reject(BundleRejection.Truncated, $"{what} at byte {headerOffset} is cut short");
            }

            SkipPadding(size, what);
            return data;
        }

        private void SkipPadding(long size, string what)
        {
            var padding = (int)((BlockSize - (size % BlockSize)) % BlockSize);
            if (padding > 0 && ReadFull(_header.AsSpan(0, padding)) < padding)
            {
                throw Reject(BundleRejection.Truncated, $"padding after {what} is cut short");
            }
        }

        private void FinishEndOfArchive(long headerOffset, bool pending)
        {
            if (pending)
            {
                throw Reject(BundleRejection.Malformed, $"a pax or long-name header before byte {headerOffset} describes no entry");
            }

            var read = ReadFull(_header);
            if (read < BlockSize)
            {
                throw Reject(BundleRejection.Truncated, $"end-of-archive marker at byte {headerOffset} is cut short");
            }

            if (!IsZero(_header))
            {
                throw Reject(BundleRejection.Malformed, $"a lone zero block at byte {headerOffset} is followed by data");
            }

            // Writers pad to their record size with zeros; anything else after the marker is refused.
            long trailing = 0;
            while (true)
            {
                read = ReadFull(_header);
                if (read == 0)
                {
                    return;
                }

                trailing += read;
                if (trailing > options.MaxTrailingBytes || !IsZero(_header.AsSpan(0, read)))
                {
                    throw Reject(BundleRejection.Malformed, $"data follows the end-of-archive marker at byte {headerOffset}");
                }
            }
        }

        private int ReadFull(Span<byte> buffer)
        {
            var total = 0;
            while (total < buffer.Length)
            {
                var read = archive.Read(buffer[total..]);
                if (read == 0)
                {
                    break;
                }

                total += read;
            }

            _position += total;
            return total;
        }

        /// <summary>A target being copied into quarantine, in archive order.</summary>
        private sealed class PendingCopy
        {
            public required string Name { get; init; }

            public required long Size { get; init; }

            public required Sha256Digest Expected { get; init; }

            public required string TempPath { get; init; }

            public required string FinalPath { get; init; }

            public Sha256Digest? Digest { get; set; }

            public Task? Task { get; set; }

            public ExceptionDispatchInfo? Failure { get; set; }

            /// <summary>Bytes hashed so far by a worker (for progress; written with Interlocked).</summary>
            public long Hashed;
        }

        private static bool IsZero(ReadOnlySpan<byte> block) => !block.ContainsAnyExcept((byte)0);

        private string Describe(Dictionary<string, string>? pax, string? longName, long headerOffset) =>
            Printable(pax is not null && pax.TryGetValue("path", out var p) ? p : longName ?? HeaderName(headerOffset));

        private static string Printable(string name) =>
            string.Concat(name.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));
    }
}
