using System.Buffers;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Enclave.Core.Storage;

/// <summary>
/// Content-addressed, write-once file store under the data directory: <c>blobs/sha256/ab/cd/&lt;hex digest&gt;</c>.
/// A blob is written to a temporary file beside the store, hashed while it is written, flushed to disk, made
/// read-only and renamed into place atomically, so a reader never sees a partial blob and a crash leaves at most a
/// temporary file (removed by <see cref="SweepTemporary"/>). Writing content that is already stored changes nothing.
/// </summary>
public sealed class BlobStore
{
    /// <summary>Folder of the store inside the data directory.</summary>
    public const string FolderName = "blobs";

    private const string TempFolderName = ".tmp";
    private const int CopyBufferSize = 1024 * 1024;

    /// <summary>Opens (and creates, if needed) the store in <paramref name="dataDirectory"/>.</summary>
    public BlobStore(string dataDirectory)
        : this(dataDirectory, writer: null)
    {
    }

    /// <summary>
    /// Opens the store in <paramref name="directory"/>, shared by several writers (replicas mounting one volume): each
    /// keeps its temporary files under <c>blobs/.tmp/WRITER</c>, so that <see cref="SweepTemporary"/> removes only its
    /// own. The blobs themselves are content-addressed and renamed into place without replacing, so concurrent writers
    /// of the same content are safe: the first rename wins and the others find the blob stored.
    /// </summary>
    /// <param name="directory">The folder holding <c>blobs/</c>.</param>
    /// <param name="writer">This writer's ID (letters, digits, '-'); null: the store has one writer.</param>
    public BlobStore(string directory, string? writer)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (writer is not null && (writer.Length is 0 or > 64 || !writer.All(c => char.IsAsciiLetterOrDigit(c) || c == '-')))
        {
            throw new ArgumentException($"writer ID '{writer}' must be 1 to 64 letters, digits or '-'", nameof(writer));
        }

        Root = Path.Combine(Path.GetFullPath(directory), FolderName);
        TempDirectory = writer is null ? Path.Combine(Root, TempFolderName) : Path.Combine(Root, TempFolderName, writer);
    }

    /// <summary>The store's root folder (<c>DATA/blobs</c>).</summary>
    public string Root { get; }

    private string TempDirectory { get; }

    /// <summary>Where the blob with <paramref name="digest"/> lives (whether or not it is stored).</summary>
    public string PathOf(Sha256Digest digest)
    {
        var hex = digest.ToHex();
        return Path.Combine(Root, "sha256", hex[..2], hex[2..4], hex);
    }

    /// <summary>Whether a blob with <paramref name="digest"/> is stored.</summary>
    public bool Contains(Sha256Digest digest) => File.Exists(PathOf(digest));

    /// <summary>Opens a stored blob for reading; throws <see cref="FileNotFoundException"/> when it is absent.</summary>
    public FileStream OpenRead(Sha256Digest digest) =>
        new(PathOf(digest), FileMode.Open, FileAccess.Read, FileShare.Read, 4096, FileOptions.SequentialScan);

    /// <summary>
    /// Stores <paramref name="content"/> (read to its end). When <paramref name="expected"/> is given, content with any
    /// other SHA-256 is refused with <see cref="BlobDigestMismatchException"/> and nothing is stored.
    /// </summary>
    public BlobPutResult Put(Stream content, Sha256Digest? expected = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        if (expected is { } known && Contains(known))
        {
            // Write-once: the stored blob was verified when it was written. Drain nothing; the caller's copy is redundant.
            return new BlobPutResult(known, new FileInfo(PathOf(known)).Length, Created: false);
        }

        Directory.CreateDirectory(TempDirectory);
        var temp = Path.Combine(TempDirectory, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)));
        var moved = false;
        try
        {
            var (digest, length) = WriteTemp(content, temp, cancellationToken);
            if (expected is { } wanted && digest != wanted)
            {
                throw new BlobDigestMismatchException(wanted, digest);
            }

            MakeReadOnly(temp);
            var final = PathOf(digest);
            var folder = Path.GetDirectoryName(final)!;
            Directory.CreateDirectory(folder);
            if (File.Exists(final))
            {
                return new BlobPutResult(digest, length, Created: false);
            }

            try
            {
                File.Move(temp, final, overwrite: false);
                moved = true;
            }
            catch (IOException) when (File.Exists(final))
            {
                // Another writer stored the same content first: the store already holds these bytes.
                return new BlobPutResult(digest, length, Created: false);
            }

            SyncDirectory(folder);
            return new BlobPutResult(digest, length, Created: true);
        }
        finally
        {
            if (!moved)
            {
                TryDelete(temp);
            }
        }
    }

    /// <summary>Stores the file at <paramref name="path"/>, which must hash to <paramref name="expected"/>.</summary>
    public BlobPutResult PutFile(string path, Sha256Digest expected, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (Contains(expected))
        {
            return new BlobPutResult(expected, new FileInfo(PathOf(expected)).Length, Created: false);
        }

        using var source = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 4096, FileOptions.SequentialScan);
        return Put(source, expected, cancellationToken);
    }

    /// <summary>
    /// Removes a stored blob (used to undo a promotion that did not complete, and by garbage collection of blobs
    /// nothing references). Returns false when it was not stored.
    /// </summary>
    public bool Delete(Sha256Digest digest)
    {
        var path = PathOf(digest);
        if (!File.Exists(path))
        {
            return false;
        }

        File.Delete(path);
        SyncDirectory(Path.GetDirectoryName(path)!);
        return true;
    }

    /// <summary>Every stored blob's digest (file names that are not a digest are ignored).</summary>
    public IEnumerable<Sha256Digest> Enumerate()
    {
        var root = Path.Combine(Root, "sha256");
        if (!Directory.Exists(root))
        {
            yield break;
        }

        foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
        {
            if (Sha256Digest.TryParseHex(Path.GetFileName(file), out var digest) && PathOf(digest) == file)
            {
                yield return digest;
            }
        }
    }

    /// <summary>
    /// Places the stored blob at <paramref name="destination"/> as a hard link (same inode, so read-only and no extra
    /// space), or, where the file system cannot link, as a read-only copy. The destination must not exist.
    /// </summary>
    public void Link(Sha256Digest digest, string destination)
    {
        ArgumentException.ThrowIfNullOrEmpty(destination);
        var source = PathOf(digest);
        if (!File.Exists(source))
        {
            throw new FileNotFoundException($"blob sha256:{digest.ToHex()} is not in the store", source);
        }

        if (File.Exists(destination) || Directory.Exists(destination))
        {
            throw new IOException($"cannot link blob sha256:{digest.ToHex()} to {destination}: it exists");
        }

        if (!OperatingSystem.IsWindows() && Native.Link(source, destination) == 0)
        {
            return;
        }

        File.Copy(source, destination, overwrite: false);
        using (var copy = new FileStream(destination, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
        {
            copy.Flush(flushToDisk: true);
        }

        MakeReadOnly(destination);
    }

    /// <summary>Removes temporary files left by a writer that was killed. Call at startup, before any write.</summary>
    public int SweepTemporary()
    {
        if (!Directory.Exists(TempDirectory))
        {
            return 0;
        }

        var removed = 0;
        foreach (var file in Directory.EnumerateFiles(TempDirectory))
        {
            File.Delete(file);
            removed++;
        }

        return removed;
    }

    /// <summary>
    /// Flushes a directory's entries to disk (fsync on the directory), so that a rename or link into it survives a
    /// power loss. A no-op where the platform has no such call.
    /// </summary>
    public static void SyncDirectory(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var fd = Native.Open(directory, Native.ReadOnly | Native.Directory);
        if (fd < 0)
        {
            throw new IOException($"cannot open directory {directory} to flush it (errno {Marshal.GetLastPInvokeError()})");
        }

        try
        {
            if (Native.Fsync(fd) != 0)
            {
                throw new IOException($"cannot flush directory {directory} (errno {Marshal.GetLastPInvokeError()})");
            }
        }
        finally
        {
            _ = Native.Close(fd);
        }
    }

    private static (Sha256Digest Digest, long Length) WriteTemp(Stream content, string temp, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long length = 0;
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0))
            {
                int read;
                while ((read = content.Read(buffer, 0, CopyBufferSize)) > 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    hash.AppendData(buffer, 0, read);
                    file.Write(buffer, 0, read);
                    length = checked(length + read);
                }

                file.Flush(flushToDisk: true);
            }

            Span<byte> digest = stackalloc byte[Sha256Digest.Size];
            hash.GetHashAndReset(digest);
            return (new Sha256Digest(digest), length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void MakeReadOnly(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            File.SetAttributes(path, File.GetAttributes(path) | FileAttributes.ReadOnly);
        }
        else
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // A leftover temporary file is removed by the next SweepTemporary; the original error matters more.
        }
        catch (UnauthorizedAccessException)
        {
            // As above.
        }
    }

    private static class Native
    {
        public const int ReadOnly = 0;
        public const int Directory = 0x10000; // O_DIRECTORY on Linux (x64 and arm64)

        [DllImport("libc", EntryPoint = "link", SetLastError = true)]
        public static extern int Link([MarshalAs(UnmanagedType.LPUTF8Str)] string oldPath, [MarshalAs(UnmanagedType.LPUTF8Str)] string newPath);

        [DllImport("libc", EntryPoint = "open", SetLastError = true)]
        public static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

        [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
        public static extern int Fsync(int fd);

        [DllImport("libc", EntryPoint = "close", SetLastError = true)]
        public static extern int Close(int fd);
    }
}

/// <summary>The outcome of storing a blob.</summary>
/// <param name="Digest">SHA-256 of the content.</param>
/// <param name="Length">Length in bytes.</param>
/// <param name="Created">False when the store already held the content.</param>
public readonly record struct BlobPutResult(Sha256Digest Digest, long Length, bool Created);

/// <summary>Content given to the blob store did not hash to the digest the caller expected; nothing was stored.</summary>
public sealed class BlobDigestMismatchException : IOException
{
    /// <summary>Creates the exception.</summary>
    public BlobDigestMismatchException(Sha256Digest expected, Sha256Digest actual)
        : base($"content hashes to sha256:{actual.ToHex()}, not the expected sha256:{expected.ToHex()}; it was not stored")
    {
        Expected = expected;
        Actual = actual;
    }

    /// <summary>The digest the caller expected.</summary>
    public Sha256Digest Expected { get; }

    /// <summary>The digest of the content given.</summary>
    public Sha256Digest Actual { get; }
}
