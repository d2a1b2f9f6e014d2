using System.Security.Cryptography;

namespace Enclave.Core.Storage;

/// <summary>
/// The stable identity of a replica: a random ID kept in its data directory (<c>replica-id</c>), made on first use. A
/// replica names its own work in progress on a shared volume with it (quarantines, temporary blobs, staging folders), so
/// that its crash recovery removes its own debris and never another replica's.
/// </summary>
public static class ReplicaId
{
    /// <summary>The file in the data directory.</summary>
    public const string FileName = "replica-id";

    private const int Length = 16; // hex digits

    /// <summary>The ID of the replica whose data directory is <paramref name="dataDirectory"/>, created if it has none.</summary>
    /// <exception cref="InvalidDataException">The file holds something other than an ID this class wrote.</exception>
    public static string Of(string dataDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        var path = Path.Combine(Path.GetFullPath(dataDirectory), FileName);
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var temp = path + "." + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)) + ".tmp";
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                file.Write(System.Text.Encoding.ASCII.GetBytes(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(Length / 2)) + "\n"));
                file.Flush(flushToDisk: true);
            }

            try
            {
                File.Move(temp, path, overwrite: false);
                BlobStore.SyncDirectory(Path.GetDirectoryName(path)!);
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another process of this data directory made it first; theirs stands.
                File.Delete(temp);
            }
        }

        var id = File.ReadAllText(path).Trim();
        if (id.Length != Length || !id.All(char.IsAsciiHexDigitLower))
        {
            throw new InvalidDataException($"{path} does not hold a replica ID ({Length} lowercase hex digits); remove it and a new one is made");
        }

        return id;
    }
}
