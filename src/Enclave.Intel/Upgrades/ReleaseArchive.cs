using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using Enclave.Core;
using Enclave.Core.Artifacts;

namespace Enclave.Intel.Upgrades;

/// <summary>
/// The release an <c>update</c> bundle carries: one tar archive (<c>.tar</c>, <c>.tar.gz</c> or <c>.tgz</c>) of the
/// <c>dotnet publish</c> output, because a publish folder is deeper than the two levels a bundle's targets may have. It is
/// read with the BCL's <see cref="TarReader"/>; this class adds what an installer must refuse: any entry that is not a
/// regular file or a folder (links, devices), a name that is absolute, climbs with <c>..</c>, repeats, or holds a
/// backslash or a control character, and more than <see cref="MaxEntries"/> entries or <see cref="MaxBytes"/> bytes. The
/// archive's bytes are hashed while they are read and must match the SHA-256 the airlock verified.
/// </summary>
public static class ReleaseArchive
{
    /// <summary>Most entries in a release archive.</summary>
    public const int MaxEntries = 100_000;

    /// <summary>Most bytes of all files of a release.</summary>
    public const long MaxBytes = 16L * 1024 * 1024 * 1024;

    /// <summary>Longest entry name.</summary>
    public const int MaxNameLength = 1024;

    /// <summary>The update's release archive: its one top-level <c>.tar</c>, <c>.tar.gz</c> or <c>.tgz</c> file.</summary>
    /// <exception cref="UpgradeException"><see cref="UpgradeFailure.InvalidRelease"/> when there is none or more than one.</exception>
    public static ArtifactFile Find(UpdateArtifact artifact)
    {
        ArgumentNullException.ThrowIfNull(artifact);
        var archives = artifact.Files.Where(f => !f.RelativePath.Contains('/', StringComparison.Ordinal) && IsArchive(f.RelativePath)).ToList();
        return archives.Count == 1
            ? archives[0]
            : throw new UpgradeException(UpgradeFailure.InvalidRelease, $"update {artifact.Version} ({artifact.ImportId}) carries {(archives.Count == 0 ? "no" : archives.Count.ToString(System.Globalization.CultureInfo.InvariantCulture))} release archive{(archives.Count == 0 ? "" : "s")}; it must carry exactly one .tar, .tar.gz or .tgz of the publish output (tar -C PUBLISH -czf enclave-VERSION.tar.gz .); nothing was staged");
    }

    private static bool IsArchive(string name) =>
        name.EndsWith(".tar", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".tar.gz", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".tgz", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Reads the release archive of <paramref name="artifact"/> (checking it against the airlock's digest) and returns its
    /// files with their SHA-256 and length; with <paramref name="extractTo"/>, writes them there too (executable where the
    /// archive says so, and always <c>enclave</c>).
    /// </summary>
    /// <exception cref="UpgradeException"><see cref="UpgradeFailure.InvalidRelease"/> or <see cref="UpgradeFailure.Tampered"/>.</exception>
    public static IReadOnlyList<ReleaseFile> Read(UpdateArtifact artifact, string? extractTo, CancellationToken cancellationToken = default)
    {
        var archive = Find(artifact);
        var path = Path.Combine(artifact.Folder, archive.RelativePath);
        CheckDigest(artifact, archive, path); // before parsing: an altered archive is "tampered", whatever its parser makes of it
        var files = new List<ReleaseFile>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var fileNames = new HashSet<string>(StringComparer.Ordinal);
        var folders = new HashSet<string>(StringComparer.Ordinal);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long archiveLength;
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920);
            using var hashing = new HashingStream(file, hash);
            Stream tar = archive.RelativePath.EndsWith(".tar", StringComparison.OrdinalIgnoreCase) ? hashing : new GZipStream(hashing, CompressionMode.Decompress, leaveOpen: true);
            try
            {
                using var reader = new TarReader(tar, leaveOpen: true);
                long total = 0;
                while (reader.GetNextEntry() is { } entry)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    if (names.Count >= MaxEntries)
                    {
                        throw Invalid(artifact, $"it has more than {MaxEntries} entries");
                    }

                    var name = Normalise(artifact, entry.Name);
                    if (name is null)
                    {
                        continue; // "." or "./"
                    }

                    if (!names.Add(name))
                    {
                        throw Invalid(artifact, $"entry '{Printable(name)}' appears twice");
                    }

                    // A path cannot be a file and a folder: no entry under a file, no file where a folder was (found
                    // by the release-archive fuzz harness: extraction failed with an IOException instead of a refusal).
                    var isDirectory = entry.EntryType is TarEntryType.Directory;
                    for (var slash = name.IndexOf('/', StringComparison.Ordinal); slash > 0; slash = name.IndexOf('/', slash + 1))
                    {
                        var parent = name[..slash];
                        if (fileNames.Contains(parent))
                        {
                            throw Invalid(artifact, $"entry '{Printable(name)}' lies under the file '{Printable(parent)}'");
                        }

                        folders.Add(parent);
                    }

                    if (isDirectory ? fileNames.Contains(name) : folders.Contains(name))
                    {
                        throw Invalid(artifact, $"'{Printable(name)}' is both a file and a folder");
                    }

                    if (isDirectory)
                    {
                        folders.Add(name);
                    }
                    else
                    {
                        fileNames.Add(name);
                    }

                    if (entry.EntryType is TarEntryType.Directory)
                    {
                        if (extractTo is not null)
                        {
                            Directory.CreateDirectory(Target(extractTo, name));
                        }

                        continue;
                    }

                    if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile))
                    {
                        throw Invalid(artifact, $"entry '{Printable(name)}' is a {entry.EntryType}, not a file or a folder (links and devices are refused)");
                    }

                    total += entry.Length;
                    if (total > MaxBytes)
                    {
                        throw Invalid(artifact, $"its files exceed {MaxBytes} bytes");
                    }

                    var executable = (entry.Mode & UnixFileMode.UserExecute) != 0 || name == ReleaseInstaller.Executable;
                    var digest = Write(entry.DataStream, extractTo is null ? null : Target(extractTo, name), out var length);
                    if (length != entry.Length)
                    {
                        throw Invalid(artifact, $"entry '{Printable(name)}' is truncated ({length} of {entry.Length} bytes)");
                    }

                    files.Add(new ReleaseFile(name, digest, length, executable));
                }
            }
            finally
            {
                if (!ReferenceEquals(tar, hashing))
                {
                    tar.Dispose();
                }
            }

            hashing.CopyTo(Stream.Null); // the rest (tar padding, gzip trailer) counts towards the digest too
            archiveLength = hashing.BytesRead;
        }
        // TarReader reports malformed headers in several ways: InvalidOperationException (a PAX size field beyond the
        // block), OverflowException (a PAX mtime beyond Int64), FormatException, InvalidDataException; found by the
        // release-archive fuzz harness.
        catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException or ArgumentException or InvalidOperationException or OverflowException or NotSupportedException)
        {
            throw new UpgradeException(UpgradeFailure.InvalidRelease, $"the release archive {archive.RelativePath} of update {artifact.Version} cannot be read: {e.Message}; nothing was staged", e);
        }

        if (archiveLength != archive.Length || new Sha256Digest(hash.GetHashAndReset()) != archive.Sha256)
        {
            throw new UpgradeException(UpgradeFailure.Tampered, $"{archive.RelativePath} of update {artifact.Version} ({artifact.ImportId}) does not match the digest the airlock verified; the blob store may have been altered; nothing was changed");
        }

        if (!files.Any(f => f.RelativePath == ReleaseInstaller.Executable))
        {
            throw Invalid(artifact, $"it has no '{ReleaseInstaller.Executable}' executable at its top (archive the publish folder's contents: tar -C PUBLISH -czf ARCHIVE .)");
        }

        return files;
    }

    private static void CheckDigest(UpdateArtifact artifact, ArtifactFile archive, string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920);
        if (stream.Length != archive.Length || new Sha256Digest(SHA256.HashData(stream)) != archive.Sha256)
        {
            throw new UpgradeException(UpgradeFailure.Tampered, $"{archive.RelativePath} of update {artifact.Version} ({artifact.ImportId}) does not match the digest the airlock verified; the blob store may have been altered; nothing was changed");
        }
    }

    private static Sha256Digest Write(Stream? data, string? target, out long length)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        if (target is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        }

        using var output = target is null ? null : new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920);
        length = 0;
        if (data is not null)
        {
            var buffer = new byte[81920];
            int read;
            while ((read = data.Read(buffer)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                output?.Write(buffer, 0, read);
                length += read;
            }
        }

        output?.Flush(flushToDisk: true);
        return new Sha256Digest(hash.GetHashAndReset());
    }

    // "./a/b" → "a/b"; null for the archive's root; refused when it could land outside the release folder.
    private static string? Normalise(UpdateArtifact artifact, string raw)
    {
        var name = raw;
        while (name.StartsWith("./", StringComparison.Ordinal))
        {
            name = name[2..];
        }

        name = name.TrimEnd('/');
        if (name.Length == 0 || name == ".")
        {
            return null;
        }

        var segments = name.Split('/');
        if (raw.Length > MaxNameLength || name.StartsWith('/') || name.Contains('\\', StringComparison.Ordinal) || name.Any(char.IsControl)
            || segments.Any(s => s is "" or "." or ".."))
        {
            throw Invalid(artifact, $"entry '{Printable(raw)}' is absolute, climbs out with '..', or holds a backslash or a control character");
        }

        if (name == ReleaseInstaller.ManifestFile || segments[0] == ".attestations")
        {
            throw Invalid(artifact, $"entry '{Printable(raw)}' uses a name the installer reserves");
        }

        return name;
    }

    private static string Target(string root, string name)
    {
        var full = Path.GetFullPath(Path.Combine(root, name.Replace('/', Path.DirectorySeparatorChar)));
        return full.StartsWith(Path.GetFullPath(root) + Path.DirectorySeparatorChar, StringComparison.Ordinal)
            ? full
            : throw new UpgradeException(UpgradeFailure.InvalidRelease, $"entry '{Printable(name)}' resolves outside the release folder; nothing was staged");
    }

    private static UpgradeException Invalid(UpdateArtifact artifact, string why) =>
        new(UpgradeFailure.InvalidRelease, $"the release archive of update {artifact.Version} ({artifact.ImportId}) is refused: {why}; nothing was staged");

    private static string Printable(string s)
    {
        var clipped = s.Length > 80 ? s[..80] + "…" : s;
        return new string([.. clipped.Select(c => char.IsControl(c) ? '?' : c)]);
    }

    // Hashes what is read through it (the archive as stored), and counts it.
    private sealed class HashingStream(Stream inner, IncrementalHash hash) : Enclave.Core.Storage.ReadOnlyStream
    {
        public long BytesRead { get; private set; }

        public override long Position { get => BytesRead; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var read = inner.Read(buffer);
            hash.AppendData(buffer[..read]);
            BytesRead += read;
            return read;
        }
    }
}

/// <summary>One file of a release archive: path ('/'-separated), SHA-256, length, and whether it is executable.</summary>
public sealed record ReleaseFile(string RelativePath, Sha256Digest Sha256, long Length, bool Executable)
{
    /// <summary>As an <see cref="ArtifactFile"/>, for verification.</summary>
    public ArtifactFile ToArtifactFile() => new(RelativePath, Sha256, Length);
}
