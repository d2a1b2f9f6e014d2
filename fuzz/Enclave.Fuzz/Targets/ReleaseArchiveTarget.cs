using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Enclave.Core;
using Enclave.Core.Artifacts;
using Enclave.Intel.Upgrades;

namespace Enclave.Fuzz.Targets;

/// <summary>
/// The release archive an <c>update</c> bundle carries (<see cref="ReleaseArchive.Read"/>: tar or gzip-compressed tar,
/// read with the BCL's <see cref="TarReader"/>, refusing links, traversal, duplicates, truncation and overruns), as
/// staging reads it: the input is the archive file, with the digest the airlock would have verified, extracted into a
/// scratch folder that is removed after each run. <see cref="UpgradeException"/> is the rejection.
/// </summary>
internal static class ReleaseArchiveTarget
{
    public static Harness Harness { get; } = new()
    {
        Name = "release-archive",
        Parser = "Enclave.Intel.Upgrades.ReleaseArchive.Read (System.Formats.Tar, GZipStream)",
        Run = Run,
        Seeds = () =>
        [
            ("release.tar", Tar(gzip: false)),
            ("release.tar.gz", Tar(gzip: true)),
        ],
    };

    private static void Run(byte[] input)
    {
        var root = Directory.CreateTempSubdirectory("enclave-fuzz-release-").FullName;
        try
        {
            var gzip = input.Length >= 2 && input[0] == 0x1f && input[1] == 0x8b;
            var name = gzip ? "enclave-1.0.0.tar.gz" : "enclave-1.0.0.tar";
            var folder = Path.Combine(root, "artifact");
            Directory.CreateDirectory(folder);
            File.WriteAllBytes(Path.Combine(folder, name), input);
            var artifact = new UpdateArtifact
            {
                Name = "enclave",
                Version = "1.0.0",
                ImportId = "imp_fuzz",
                Activated = DateTimeOffset.UnixEpoch,
                Folder = folder,
                Files = [new ArtifactFile(name, new Sha256Digest(SHA256.HashData(input)), input.Length)],
            };
            try
            {
                _ = ReleaseArchive.Read(artifact, Path.Combine(root, "extract"));
            }
            catch (UpgradeException)
            {
                // refused: a clear reason, nothing staged
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static byte[] Tar(bool gzip)
    {
        using var output = new MemoryStream();
        using (var compressed = gzip ? new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true) : (Stream)output)
        {
            using var writer = new TarWriter(compressed, TarEntryFormat.Pax, leaveOpen: true);
            writer.WriteEntry(new PaxTarEntry(TarEntryType.Directory, "./"));
            var binary = new PaxTarEntry(TarEntryType.RegularFile, "./enclave") { DataStream = new MemoryStream(Encoding.UTF8.GetBytes("#!/bin/sh\necho enclave 1.0.0\n")), Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute };
            writer.WriteEntry(binary);
            writer.WriteEntry(new PaxTarEntry(TarEntryType.Directory, "./runtimes/linux-x64/native/"));
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "./runtimes/linux-x64/native/lib.so") { DataStream = new MemoryStream([1, 2, 3, 4]) });
        }

        return output.ToArray();
    }
}
