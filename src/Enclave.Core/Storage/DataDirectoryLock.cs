using System.Diagnostics;
using System.Text.Json;

namespace Enclave.Core.Storage;

/// <summary>
/// The single-writer lock of a data directory: an exclusive advisory lock (flock) on <c>enclave.lock</c>,
/// held for the life of the process that writes, with a description of the holder beside it so that a
/// refused second writer can say who holds it. The operating system drops the lock when the holder dies.
/// </summary>
public sealed class DataDirectoryLock : IDisposable
{
    /// <summary>File name of the lock inside the data directory.</summary>
    public const string LockFileName = "enclave.lock";

    /// <summary>File name of the holder description inside the data directory.</summary>
    public const string HolderFileName = "enclave.lock.holder.json";

    private readonly FileStream _lockFile;
    private readonly string _holderPath;

    private DataDirectoryLock(FileStream lockFile, string holderPath)
    {
        _lockFile = lockFile;
        _holderPath = holderPath;
    }

    /// <summary>Takes the lock or throws <see cref="DataDirectoryLockedException"/> naming the current holder.</summary>
    public static DataDirectoryLock Acquire(string dataDirectory, string purpose, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(clock);
        Directory.CreateDirectory(dataDirectory);
        var lockPath = Path.Combine(dataDirectory, LockFileName);
        var holderPath = Path.Combine(dataDirectory, HolderFileName);
        FileStream stream;
        try
        {
            // On Unix, FileShare.None makes .NET take flock(LOCK_EX | LOCK_NB) on the file.
            stream = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex)
        {
            throw new DataDirectoryLockedException(dataDirectory, ReadHolder(holderPath), ex);
        }

        var holder = new LockHolder
        {
            ProcessId = Environment.ProcessId,
            ProcessName = Process.GetCurrentProcess().ProcessName,
            Host = Environment.MachineName,
            Purpose = purpose,
            Since = clock.GetUtcNow(),
        };
        File.WriteAllText(holderPath, JsonSerializer.Serialize(holder, LockHolderJson.Default.LockHolder));
        return new DataDirectoryLock(stream, holderPath);
    }

    /// <summary>Who holds the lock of <paramref name="dataDirectory"/> now, or null when nobody does.</summary>
    public static LockHolder? CurrentHolder(string dataDirectory)
    {
        var lockPath = Path.Combine(dataDirectory, LockFileName);
        if (!File.Exists(lockPath))
        {
            return null;
        }

        try
        {
            using var probe = new FileStream(lockPath, FileMode.Open, FileAccess.Read, FileShare.None);
            return null;
        }
        catch (IOException)
        {
            return ReadHolder(Path.Combine(dataDirectory, HolderFileName));
        }
    }

    private static LockHolder? ReadHolder(string holderPath)
    {
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(holderPath), LockHolderJson.Default.LockHolder);
        }
        catch (Exception ex) when (ex is IOException or JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        try
        {
            File.Delete(_holderPath);
        }
        catch (IOException)
        {
            // The description is advisory; the lock itself is released below.
        }

        _lockFile.Dispose();
    }
}

/// <summary>Describes the process holding a data directory.</summary>
public sealed record LockHolder
{
    public required int ProcessId { get; init; }
    public required string ProcessName { get; init; }
    public required string Host { get; init; }
    public required string Purpose { get; init; }
    public required DateTimeOffset Since { get; init; }

    /// <inheritdoc/>
    public override string ToString() => $"{Purpose} (process {ProcessId} '{ProcessName}' on {Host}, since {Since:u})";
}

[System.Text.Json.Serialization.JsonSerializable(typeof(LockHolder))]
internal sealed partial class LockHolderJson : System.Text.Json.Serialization.JsonSerializerContext;

/// <summary>Another process writes this data directory.</summary>
public sealed class DataDirectoryLockedException : Exception
{
    public DataDirectoryLockedException(string dataDirectory, LockHolder? holder, Exception innerException)
        : base($"data directory '{dataDirectory}' is in use by {holder?.ToString() ?? "another process"}; " +
               "stop it first, or use a read-only command (get, prove, consistency, export)", innerException)
    {
        DataDirectory = dataDirectory;
        Holder = holder;
    }

    public DataDirectoryLockedException()
    {
        DataDirectory = string.Empty;
    }

    public DataDirectoryLockedException(string message)
        : base(message)
    {
        DataDirectory = string.Empty;
    }

    public DataDirectoryLockedException(string message, Exception innerException)
        : base(message, innerException)
    {
        DataDirectory = string.Empty;
    }

    public string DataDirectory { get; }

    public LockHolder? Holder { get; }
}
