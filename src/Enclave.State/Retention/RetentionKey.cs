using System.Security.Cryptography;
using System.Text;

namespace Enclave.State.Retention;

/// <summary>The 256-bit content-retention key: a file with its base64 text (44 characters), readable by its owner only.</summary>
public static class RetentionKey
{
    /// <summary>Key size in bytes.</summary>
    public const int Size = 32;

    /// <summary>Writes a new random key to <paramref name="path"/> (mode 0600); refuses to overwrite an existing file.</summary>
    public static void Generate(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var key = RandomNumberGenerator.GetBytes(Size);
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using var file = new FileStream(path, options);
            file.Write(Encoding.ASCII.GetBytes(Convert.ToBase64String(key) + "\n"));
            file.Flush(flushToDisk: true);
        }
        catch (IOException) when (File.Exists(path))
        {
            throw new ArgumentException($"'{path}' already exists; a retention key is never overwritten (records encrypted with it would become unreadable)");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>Reads a key file; throws <see cref="ArgumentException"/> naming the problem.</summary>
    public static byte[] Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"retention key file '{path}' does not exist (create one with `enclave retention keygen --out FILE`)", path);
        }

        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & (UnixFileMode.GroupRead | UnixFileMode.OtherRead | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0)
        {
            throw new ArgumentException($"retention key file '{path}' is readable or writable by other users; chmod 600 it");
        }

        var info = new FileInfo(path);
        if (info.Length > 256)
        {
            throw new ArgumentException($"retention key file '{path}' is {info.Length} bytes; expected the base64 text of a 256-bit key");
        }

        var text = File.ReadAllText(path).Trim();
        var key = new byte[Size];
        if (!Convert.TryFromBase64String(text, key, out var written) || written != Size)
        {
            throw new ArgumentException($"retention key file '{path}' does not hold the base64 text of a 256-bit key");
        }

        return key;
    }

    /// <summary>A short public identifier of a key (first 8 bytes of its SHA-256, hex), stored beside each record.</summary>
    public static string Id(ReadOnlySpan<byte> key) => Convert.ToHexStringLower(SHA256.HashData(key)[..8]);
}
