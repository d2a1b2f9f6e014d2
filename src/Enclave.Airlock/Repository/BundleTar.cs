using System.Formats.Tar;

namespace Enclave.Airlock.Repository;

/// <summary>Entries of a bundle tar: pax headers, regular files only, mode 0644, owner 0, a fixed modification time.</summary>
internal static class BundleTar
{
    public const string MetadataFolder = "metadata/";
    public const string TargetsFolder = "targets/";

    /// <summary>The unsigned selector naming the artifact a bundle carries.</summary>
    public const string SelectorFile = "bundle.json";

    public const string Format = "enclave-bundle/v1";

    public static void WriteFile(TarWriter writer, string name, Stream content, DateTimeOffset time)
    {
        var entry = new PaxTarEntry(TarEntryType.RegularFile, name, new Dictionary<string, string>(StringComparer.Ordinal))
        {
            ModificationTime = time,
            Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
            Uid = 0,
            Gid = 0,
            DataStream = content,
        };
        writer.WriteEntry(entry);
    }

    public static void WriteMetadata(TarWriter writer, string file, byte[] bytes, DateTimeOffset time)
    {
        using var content = new MemoryStream(bytes, writable: false);
        WriteFile(writer, MetadataFolder + file, content, time);
    }
}
