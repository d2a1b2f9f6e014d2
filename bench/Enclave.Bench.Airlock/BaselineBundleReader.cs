using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Enclave.Airlock.Bundles;
using Enclave.Core;

namespace Enclave.Bench.Airlock;

/// <summary>
/// The BundleReader before the parallel copy pipeline (commit cce6770), kept for A/B runs. Reads an uncompressed bundle tar (ustar, pax or GNU headers) in one streaming pass with constant memory:
/// metadata entries come back in memory, target entries stream into a fresh quarantine directory with
/// their length and SHA-256 checked while copying. Anything unexpected rejects the whole bundle and deletes
/// the quarantine directory.
/// </summary>
/// <remarks>
/// A hand-written header parser rather than <c>System.Formats.Tar</c>: it must see the entry type, name and
/// size before any data is read or buffered, refuse pax records by size, and never materialise link targets.
/// </remarks>
internal sealed class BaselineBundleReader
{
    private const int BlockSize = 512;
    private const int CopyBufferSize = 1024 * 1024;
    private const int MaxSegmentBytes = 255;

    /// <summary>Written last, after every target is in place: a quarantine directory without it is debris.</summary>
    internal const string CompleteMarker = ".read-complete";
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly BundleReaderOptions _options;

    public BaselineBundleReader(BundleReaderOptions? options = null) => _options = options ?? BundleReaderOptions.Default;

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
        private readonly List<QuarantinedTarget> _targets = [];
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

        public BundleContents Run()
        {
            Directory.CreateDirectory(_targetsRoot);
            Directory.CreateDirectory(_incoming);
            Dictionary<string, string>? pax = null;
            string? longName = null;
            var maxHeaders = checked((options.MaxEntries * 3) + 3);

            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
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
                    case (byte)'0':
                    case 0:
                    case (byte)'5':
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

                var isDirectory = type == (byte)'5';
                var name = ValidateName(rawName, isDirectory, headerOffset);
                if (!_names.Add(name))
                {
                    throw Reject(BundleRejection.DuplicateEntry, $"entry {name} appears twice (second at byte {headerOffset})");
                }

                if (isDirectory)
                {
                    if (size != 0)
                    {
                        throw Reject(BundleRejection.Malformed, $"directory entry {name} has size {size}");
                    }

                    continue;
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
                Targets = _targets,
                ArchiveBytes = _position,
            };
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

            var tempPath = Path.Combine(_incoming, _targets.Count.ToString(CultureInfo.InvariantCulture));
            var actual = CopyAndHash(name, size, tempPath);
            Span<byte> digest = stackalloc byte[Sha256Digest.Size];
            actual.CopyTo(digest);
            Span<byte> wanted = stackalloc byte[Sha256Digest.Size];
            expected.Sha256.CopyTo(wanted);
            if (!CryptographicOperations.FixedTimeEquals(digest, wanted))
            {
                throw Reject(BundleRejection.HashMismatch, $"entry {name} has SHA-256 {actual} but the targets metadata says {expected.Sha256}");
            }

            SkipPadding(size, name);
            Directory.CreateDirectory(Path.GetDirectoryName(finalPath)!);
            File.Move(tempPath, finalPath, overwrite: false);
            _targets.Add(new QuarantinedTarget { Name = name, Path = finalPath, Length = size, Sha256 = actual });
        }

        // Streams size bytes into tempPath while hashing them. Two buffers: the write of chunk k runs on the
        // thread pool while chunk k+1 is read and hashed here, so disk writes overlap hashing.
        private Sha256Digest CopyAndHash(string name, long size, string tempPath)
        {
            byte[][] buffers = [ArrayPool<byte>.Shared.Rent(CopyBufferSize), ArrayPool<byte>.Shared.Rent(CopyBufferSize)];
            Task? pendingWrite = null;
            try
            {
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                using var file = new FileStream(tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0);
                try
                {
                    file.SetLength(size);
                    var remaining = size;
                    var current = 0;
                    while (remaining > 0)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        var buffer = buffers[current];
                        var chunk = (int)Math.Min(remaining, CopyBufferSize);
                        var read = ReadFull(buffer.AsSpan(0, chunk));
                        if (read < chunk)
                        {
                            throw Reject(BundleRejection.Truncated, $"entry {name} is cut short: {size - remaining + read} of {size} bytes present");
                        }

                        hash.AppendData(buffer, 0, read);
                        pendingWrite?.GetAwaiter().GetResult();
                        pendingWrite = Task.Run(() => file.Write(buffer, 0, read), CancellationToken.None);
                        remaining -= read;
                        current ^= 1;
                        progress?.Report(_position);
                    }

                    pendingWrite?.GetAwaiter().GetResult();
                    pendingWrite = null;
                    file.Flush(flushToDisk: options.FlushToDisk);
                }
                finally
                {
                    WaitQuietly(pendingWrite);
                }

                Span<byte> digest = stackalloc byte[Sha256Digest.Size];
                hash.GetHashAndReset(digest);
                return new Sha256Digest(digest);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffers[0]);
                ArrayPool<byte>.Shared.Return(buffers[1]);
            }
        }

        // On the failure path only: the write must finish before the file is closed and the buffer returned;
        // its own error is secondary to the one already propagating.
        private static void WaitQuietly(Task? write)
        {
            if (write is null)
            {
                return;
            }

            try
            {
                write.GetAwaiter().GetResult();
            }
            catch (IOException)
            {
                // Secondary to the failure being propagated.
            }
            catch (ObjectDisposedException)
            {
                // As above.
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

        private string ValidateName(string name, bool isDirectory, long headerOffset)
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

            if (isDirectory && name.EndsWith('/'))
            {
                name = name[..^1];
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
                signedSum += (sbyte)b;
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

        private static bool IsZero(ReadOnlySpan<byte> block) => !block.ContainsAnyExcept((byte)0);

        private string Describe(Dictionary<string, string>? pax, string? longName, long headerOffset) =>
            Printable(pax is not null && pax.TryGetValue("path", out var p) ? p : longName ?? HeaderName(headerOffset));

        private static string Printable(string name) =>
            string.Concat(name.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));
    }
}
