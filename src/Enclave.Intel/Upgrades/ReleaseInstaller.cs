using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Core;
using Enclave.Core.Artifacts;
using Enclave.Core.Storage;

namespace Enclave.Intel.Upgrades;

/// <summary>
/// The install root of Enclave releases: <c>releases/VERSION/</c> per release (the files of its update bundle's release
/// archive, <see cref="ReleaseArchive"/>, and its attestations, checked against the digests the airlock verified), and three symbolic links, each replaced with <c>rename(2)</c> so that a
/// reader sees the old or the new target and never neither: <c>current</c> (the release the service runs:
/// <c>current/enclave serve ...</c>), <c>previous</c> (kept for rollback) and <c>staged</c> (the next one). A release is
/// copied into a temporary folder, verified and self-checked (<c>enclave version --json</c> must print its version)
/// before it is renamed into place, so a failure leaves every link and every installed release as it was. The running
/// binary is never written: it keeps running from its own folder until the service restarts on the new <c>current</c>.
/// </summary>
public sealed class ReleaseInstaller
{
    public const string ReleasesFolder = "releases";
    public const string CurrentLink = "current";
    public const string PreviousLink = "previous";
    public const string StagedLink = "staged";

    /// <summary>The manifest written into each release folder (informative: verification uses the airlock's digests).</summary>
    public const string ManifestFile = ".enclave-release.json";

    /// <summary>The executable at the top of a release.</summary>
    public const string Executable = "enclave";

    /// <summary>Longest version (folder name).</summary>
    public const int MaxVersionLength = 64;

    /// <summary>Most bytes of a self-check's output read.</summary>
    private const int MaxSelfCheckOutput = 64 * 1024;

    private static readonly UnixFileMode ExecutableMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    private static readonly UnixFileMode DataFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    private readonly TimeSpan _selfCheckTimeout;
    private readonly Action<string>? _fault;

    /// <summary>An install root at <paramref name="root"/> (created when missing).</summary>
    /// <param name="root">The install root.</param>
    /// <param name="selfCheckTimeout">How long a release's <c>enclave version --json</c> may take.</param>
    /// <param name="fault">Test hook (a disk error injected): called at each named point of a step (<c>stage.copy</c>,
    /// <c>stage.rename</c>, <c>switch.rename</c>); what it throws is that step's failure.</param>
    public ReleaseInstaller(string root, TimeSpan selfCheckTimeout, Action<string>? fault = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        Root = Path.GetFullPath(root);
        _selfCheckTimeout = selfCheckTimeout;
        _fault = fault;
    }

    /// <summary>The install root (absolute).</summary>
    public string Root { get; }

    private string Releases => Path.Combine(Root, ReleasesFolder);

    /// <summary>The release <c>current</c> points at, or null.</summary>
    public InstalledRelease? Current => Read(CurrentLink);

    /// <summary>The release <c>previous</c> points at, or null.</summary>
    public InstalledRelease? Previous => Read(PreviousLink);

    /// <summary>The release <c>staged</c> points at, or null.</summary>
    public InstalledRelease? Staged => Read(StagedLink);

    /// <summary>Every release folder, by name.</summary>
    public IReadOnlyList<InstalledRelease> Installed() => Directory.Exists(Releases)
        ? [.. Directory.GetDirectories(Releases).Select(Path.GetFileName).Where(n => n is not null && !n.StartsWith('.')).Order(StringComparer.Ordinal).Select(n => Release(n!))]
        : [];

    /// <summary>Whether <paramref name="version"/> can name a release folder: 1 to 64 letters, digits, <c>.-+_</c>, not <c>.</c> or <c>..</c>.</summary>
    public static bool ValidVersion(string version) =>
        version.Length is > 0 and <= MaxVersionLength && version.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '+' or '_') && version is not ("." or "..") && !version.StartsWith('.');

    /// <summary>
    /// Installs <paramref name="artifact"/> as <c>releases/VERSION/</c> (each file copied and hashed against the airlock's
    /// digest, the executable made executable, the release self-checked) and points <c>staged</c> at it. A failure leaves
    /// the install root as it was.
    /// </summary>
    /// <exception cref="UpgradeException">Invalid version, already current, tampered file, failed self-check, disk error.</exception>
    public InstalledRelease Stage(UpdateArtifact artifact, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(artifact);
        if (!ValidVersion(artifact.Version))
        {
            throw new UpgradeException(UpgradeFailure.InvalidVersion, $"version '{Printable(artifact.Version)}' cannot name a release folder (1 to {MaxVersionLength} letters, digits, '.', '-', '+', '_'); nothing was staged");
        }

        if (Current?.Version == artifact.Version)
        {
            throw new UpgradeException(UpgradeFailure.AlreadyCurrent, $"release {artifact.Version} is already the current release; nothing was staged");
        }

        var temporary = Path.Combine(Releases, $".staging-{artifact.Version}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}");
        var destination = Path.Combine(Releases, artifact.Version);
        try
        {
            Directory.CreateDirectory(temporary);
            var files = ReleaseArchive.Read(artifact, temporary, cancellationToken);
            if (!OperatingSystem.IsWindows())
            {
                foreach (var file in files)
                {
                    File.SetUnixFileMode(Path.Combine(temporary, file.RelativePath), file.Executable ? ExecutableMode : DataFileMode);
                }
            }

            CopyAttestations(artifact, temporary, cancellationToken);
            Fault("stage.copy");
            WriteManifest(artifact, [.. files.Select(f => f.ToArtifactFile()), .. Attestations(artifact)], temporary);
            _ = SelfCheck(temporary, artifact.Version, cancellationToken);
            Fault("stage.rename");
            string? replaced = null;
            if (Directory.Exists(destination))
            {
                // An earlier staging (or the previous release) of the same version: replaced by the verified copy.
                replaced = Path.Combine(Releases, $".replaced-{artifact.Version}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}");
                Directory.Move(destination, replaced);
            }

            Directory.Move(temporary, destination);
            BlobStore.SyncDirectory(Releases);
            if (replaced is not null)
            {
                TryDelete(replaced);
            }

            ReplaceLink(StagedLink, artifact.Version);
            return Release(artifact.Version);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UpgradeException(UpgradeFailure.DiskError, $"staging release {artifact.Version} in {Root} failed: {e.Message}; nothing was staged", e);
        }
        finally
        {
            TryDelete(temporary);
        }
    }

    /// <summary>
    /// What a release of <paramref name="artifact"/> must hold: the files of its archive (read again from the blob store and
    /// checked against the airlock's digest) and its attestations.
    /// </summary>
    /// <exception cref="UpgradeException"><see cref="UpgradeFailure.Tampered"/> or <see cref="UpgradeFailure.InvalidRelease"/>.</exception>
    public static IReadOnlyList<ArtifactFile> Expected(UpdateArtifact artifact, CancellationToken cancellationToken = default) =>
        [.. ReleaseArchive.Read(artifact, null, cancellationToken).Select(f => f.ToArtifactFile()), .. Attestations(artifact)];

    private static IEnumerable<ArtifactFile> Attestations(UpdateArtifact artifact) =>
        artifact.Files.Where(f => f.RelativePath.StartsWith(".attestations/", StringComparison.Ordinal));

    /// <summary>
    /// Checks that <paramref name="release"/>'s folder holds exactly <paramref name="expected"/> (same paths, lengths and
    /// SHA-256) besides its manifest.
    /// </summary>
    /// <exception cref="UpgradeException"><see cref="UpgradeFailure.Tampered"/>, naming every difference.</exception>
    public static void Verify(InstalledRelease release, IReadOnlyList<ArtifactFile> expected, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(release);
        ArgumentNullException.ThrowIfNull(expected);
        var problems = new List<string>();
        var wanted = expected.ToDictionary(f => f.RelativePath, StringComparer.Ordinal);
        var present = Directory.Exists(release.Path)
            ? Directory.EnumerateFileSystemEntries(release.Path, "*", SearchOption.AllDirectories)
                .Where(p => !Directory.Exists(p) || new FileInfo(p).LinkTarget is not null)
                .Select(p => Path.GetRelativePath(release.Path, p).Replace(Path.DirectorySeparatorChar, '/'))
                .Where(p => p != ManifestFile)
                .ToHashSet(StringComparer.Ordinal)
            : [];
        foreach (var extra in present.Where(p => !wanted.ContainsKey(p)).Order(StringComparer.Ordinal))
        {
            problems.Add($"{extra} was added");
        }

        foreach (var file in expected)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var path = Path.Combine(release.Path, file.RelativePath.Replace('/', Path.DirectorySeparatorChar));
            var info = new FileInfo(path);
            if (!present.Contains(file.RelativePath) || !info.Exists)
            {
                problems.Add($"{file.RelativePath} is missing");
            }
            else if (info.LinkTarget is not null)
            {
                problems.Add($"{file.RelativePath} was replaced by a link");
            }
            else if (info.Length != file.Length || Hash(path) != file.Sha256)
            {
                problems.Add($"{file.RelativePath} changed (SHA-256 differs from the one the airlock verified)");
            }
        }

        if (problems.Count > 0)
        {
            throw new UpgradeException(UpgradeFailure.Tampered, $"release {release.Version} in {release.Path} is not what the airlock verified: {string.Join("; ", problems.Take(20))}{(problems.Count > 20 ? $"; and {problems.Count - 20} more" : "")}");
        }
    }

    /// <summary>
    /// Runs <c>FOLDER/enclave version --json</c> and checks that it prints <paramref name="expectedVersion"/>; returns its output.
    /// </summary>
    /// <exception cref="UpgradeException"><see cref="UpgradeFailure.SelfCheckFailed"/>.</exception>
    public string SelfCheck(string folder, string expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        var executable = Path.Combine(folder, Executable);
        if (!File.Exists(executable))
        {
            throw new UpgradeException(UpgradeFailure.SelfCheckFailed, $"the release has no '{Executable}' executable at its top; an update bundle carries the publish output of src/Enclave.Cli");
        }

        var start = new ProcessStartInfo(executable)
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("version");
        start.ArgumentList.Add("--json");
        string output;
        string error;
        int code;
        try
        {
            using var process = Process.Start(start) ?? throw new UpgradeException(UpgradeFailure.SelfCheckFailed, $"{executable} could not be started");
            process.StandardInput.Close();
            var stdout = ReadBoundedAsync(process.StandardOutput, cancellationToken);
            var stderr = ReadBoundedAsync(process.StandardError, cancellationToken);
            if (!process.WaitForExit(_selfCheckTimeout))
            {
                process.Kill(entireProcessTree: true);
                throw new UpgradeException(UpgradeFailure.SelfCheckFailed, $"'{Executable} version --json' of the release did not finish within {_selfCheckTimeout.TotalSeconds:0} s");
            }

            output = stdout.GetAwaiter().GetResult();
            error = stderr.GetAwaiter().GetResult();
            code = process.ExitCode;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new UpgradeException(UpgradeFailure.SelfCheckFailed, $"{executable} could not be run: {e.Message}", e);
        }

        string? version = null;
        try
        {
            version = (JsonNode.Parse(output) as JsonObject)?["version"]?.GetValue<string>();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            // Reported below with the output.
        }

        if (code != 0 || version != expectedVersion)
        {
            throw new UpgradeException(
                UpgradeFailure.SelfCheckFailed,
                $"the release's self-check '{Executable} version --json' {(code != 0 ? $"exited with {code}" : $"printed version '{Printable(version ?? "(none)")}', not {expectedVersion}")}: {Printable((output + " " + error).Trim(), 300)}");
        }

        return output;
    }

    /// <summary>
    /// Points <c>current</c> at <paramref name="release"/> and <c>previous</c> at the release that was current (each link
    /// replaced with rename(2)); removes <c>staged</c> when it pointed at <paramref name="release"/>. The commit point is the
    /// rename of <c>current</c>; a failure before it changes nothing, a failure after it is undone.
    /// </summary>
    /// <returns>The release that was current before, or null.</returns>
    /// <exception cref="UpgradeException"><see cref="UpgradeFailure.DiskError"/>; the links are as they were.</exception>
    public InstalledRelease? SwitchTo(InstalledRelease release)
    {
        ArgumentNullException.ThrowIfNull(release);
        var before = Current;
        var staged = Staged;
        var oldCurrentTarget = LinkTarget(CurrentLink);
        var oldPreviousTarget = LinkTarget(PreviousLink);
        try
        {
            Fault("switch.rename");
            ReplaceLink(CurrentLink, release.Version);
            try
            {
                if (before is not null)
                {
                    ReplaceLink(PreviousLink, before.Version);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                RestoreLink(CurrentLink, oldCurrentTarget);
                RestoreLink(PreviousLink, oldPreviousTarget);
                throw;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UpgradeException(UpgradeFailure.DiskError, $"switching {Path.Combine(Root, CurrentLink)} to release {release.Version} failed: {e.Message}; the current release is unchanged", e);
        }

        if (staged?.Version == release.Version)
        {
            TryDeleteLink(StagedLink);
        }

        return before;
    }

    /// <summary>Undoes <see cref="SwitchTo"/>: <c>current</c> back to <paramref name="current"/>, <c>previous</c> to <paramref name="previous"/> (absent when null).</summary>
    public void Restore(InstalledRelease? current, InstalledRelease? previous)
    {
        RestoreLink(CurrentLink, current is null ? null : Path.Combine(ReleasesFolder, current.Version));
        RestoreLink(PreviousLink, previous is null ? null : Path.Combine(ReleasesFolder, previous.Version));
    }

    /// <summary>Removes the <c>staged</c> link (the release folder stays).</summary>
    public void Unstage() => TryDeleteLink(StagedLink);

    private InstalledRelease? Read(string link)
    {
        var target = LinkTarget(link);
        if (target is null)
        {
            return null;
        }

        var name = Path.GetFileName(target.TrimEnd('/'));
        return ValidVersion(name) && Directory.Exists(Path.Combine(Releases, name)) ? Release(name) : null;
    }

    private string? LinkTarget(string link)
    {
        var info = new FileInfo(Path.Combine(Root, link));
        return info.LinkTarget;
    }

    private InstalledRelease Release(string version)
    {
        var path = Path.Combine(Releases, version);
        string? importId = null;
        string? name = null;
        try
        {
            if (File.Exists(Path.Combine(path, ManifestFile)) && JsonNode.Parse(File.ReadAllBytes(Path.Combine(path, ManifestFile))) is JsonObject manifest)
            {
                importId = manifest["importId"]?.GetValue<string>();
                name = manifest["name"]?.GetValue<string>();
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            // The manifest is informative; a damaged one shows as an unknown import (verification fails later).
        }

        return new InstalledRelease(version, path, name, importId);
    }

    // The attestations (SBOM, provenance) beside the release, each hashed against the airlock's digest while copied.
    private static void CopyAttestations(UpdateArtifact artifact, string destination, CancellationToken cancellationToken)
    {
        var root = Path.GetFullPath(destination) + Path.DirectorySeparatorChar;
        foreach (var file in Attestations(artifact))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var target = Path.GetFullPath(Path.Combine(root, file.RelativePath.Replace('/', Path.DirectorySeparatorChar)));
            if (!target.StartsWith(root, StringComparison.Ordinal) || file.RelativePath == ManifestFile)
            {
                throw new UpgradeException(UpgradeFailure.Tampered, $"file '{Printable(file.RelativePath)}' of the update resolves outside its release folder or names the manifest; nothing was staged");
            }

            var source = Path.Combine(artifact.Folder, file.RelativePath.Replace('/', Path.DirectorySeparatorChar));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            using (var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, 81920))
            using (var output = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920))
            using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
            {
                var buffer = new byte[81920];
                long length = 0;
                int read;
                while ((read = input.Read(buffer)) > 0)
                {
                    hash.AppendData(buffer, 0, read);
                    output.Write(buffer, 0, read);
                    length += read;
                }

                output.Flush(flushToDisk: true);
                if (length != file.Length || new Sha256Digest(hash.GetHashAndReset()) != file.Sha256)
                {
                    throw new UpgradeException(UpgradeFailure.Tampered, $"{file.RelativePath} of update {artifact.Version} ({artifact.ImportId}) does not match the digest the airlock verified; the blob store may have been altered; nothing was staged");
                }
            }

            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(target, DataFileMode);
            }
        }
    }

    private static void WriteManifest(UpdateArtifact artifact, IReadOnlyList<ArtifactFile> files, string folder)
    {
        var manifest = new JsonObject
        {
            ["name"] = artifact.Name,
            ["version"] = artifact.Version,
            ["importId"] = artifact.ImportId,
            ["files"] = new JsonArray([.. files.Select(f => (JsonNode)new JsonObject { ["path"] = f.RelativePath, ["sha256"] = f.Sha256.ToHex(), ["length"] = f.Length })]),
        };
        File.WriteAllText(Path.Combine(folder, ManifestFile), manifest.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n"); // UTF-8 without a BOM
    }

    // Points ROOT/link at releases/VERSION: a new link beside it, renamed over it (rename(2) replaces the old link atomically).
    private void ReplaceLink(string link, string version) => RestoreLink(link, Path.Combine(ReleasesFolder, version));

    private void RestoreLink(string link, string? target)
    {
        var path = Path.Combine(Root, link);
        if (target is null)
        {
            TryDeleteLink(link);
            return;
        }

        Directory.CreateDirectory(Root);
        var temporary = Path.Combine(Root, $".{link}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}");
        File.CreateSymbolicLink(temporary, target);
        try
        {
            if (Native.Rename(temporary, path) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                throw new IOException($"rename({temporary}, {path}) failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
            }
        }
        catch (Exception)
        {
            TryDeleteLink(Path.GetFileName(temporary));
            throw;
        }

        BlobStore.SyncDirectory(Root);
    }

    private void TryDeleteLink(string link)
    {
        var path = Path.Combine(Root, link);
        if (new FileInfo(path).LinkTarget is not null)
        {
            File.Delete(path);
        }
    }

    private static void TryDelete(string folder)
    {
        try
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A leftover .staging- or .replaced- folder is ignored (names starting with '.' are not releases).
        }
    }

    private void Fault(string point) => _fault?.Invoke(point);

    private static Sha256Digest Hash(string path)
    {
        using var stream = File.OpenRead(path);
        return new Sha256Digest(SHA256.HashData(stream));
    }

    private static async Task<string> ReadBoundedAsync(StreamReader reader, CancellationToken cancellationToken)
    {
        var buffer = new char[MaxSelfCheckOutput];
        var total = 0;
        int read;
        while (total < buffer.Length && (read = await reader.ReadAsync(buffer.AsMemory(total), cancellationToken).ConfigureAwait(false)) > 0)
        {
            total += read;
        }

        return new string(buffer, 0, total);
    }

    private static string Printable(string s, int max = 64)
    {
        var clipped = s.Length > max ? s[..max] + "…" : s;
        return new string([.. clipped.Select(c => char.IsControl(c) ? '?' : c)]);
    }

    private static class Native
    {
#pragma warning disable SYSLIB1054 // LibraryImport needs unsafe code, which this assembly does not allow.
        [DllImport("libc", EntryPoint = "rename", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int Rename([MarshalAs(UnmanagedType.LPUTF8Str)] string oldPath, [MarshalAs(UnmanagedType.LPUTF8Str)] string newPath);
#pragma warning restore SYSLIB1054
    }
}

/// <summary>A release in the install root: its version (folder name), folder, and the update it came from (from its manifest).</summary>
public sealed record InstalledRelease(string Version, string Path, string? Name, string? ImportId);
