using System.Data.Common;
using System.Globalization;
using Enclave.Core;
using Enclave.Core.Audit;
using Enclave.Ledger.Merkle;
using Enclave.Ledger.Storage;
using Enclave.Ledger.Tiles;
using Enclave.State;
using Enclave.State.Ledger;

namespace Enclave.Ledger;

/// <summary>
/// Read-only access to a ledger: entries, checkpoints, proofs and export. Takes no lock, so it works beside the
/// writer (another process or this one); every call reads one consistent snapshot of the database.
/// </summary>
public sealed class LedgerReader : ILedgerHistory
{
    private readonly ILedgerStore _store;
    private readonly Lock _gate = new();
    private ILedgerConnection _connection;

    // Interior hashes of full tiles, which never change: shared by every proof this reader serves.
    private readonly TileInteriorCache _interiors = new();

    private LedgerReader(ILedgerStore store, ILedgerConnection connection, string dataDirectory, string origin)
    {
        _store = store;
        _connection = connection;
        DataDirectory = dataDirectory;
        Origin = origin;
    }

    public string DataDirectory { get; }

    /// <summary>The log's origin line.</summary>
    public string Origin { get; }

    /// <summary>Opens the ledger of <paramref name="dataDirectory"/> read-only.</summary>
    public static LedgerReader Open(string dataDirectory) => Open(dataDirectory, new SqliteConnectionFactory(dataDirectory));

    /// <summary>Opens the ledger kept in <paramref name="state"/> (a PostgreSQL database, or the SQLite files of <paramref name="dataDirectory"/>) read-only.</summary>
    public static LedgerReader Open(string dataDirectory, StateConnectionFactory state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var store = new SqliteLedgerStore(state);
        var connection = store.OpenReader() ?? throw new LedgerNotFoundException(dataDirectory);
        try
        {
            var origin = store.Origin() ?? throw new LedgerNotFoundException(dataDirectory);
            return new LedgerReader(store, connection, dataDirectory, origin);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Number of durable entries integrated into the tree (the entries, proofs and tiles this reader serves).</summary>
    public long TreeSize() => Snapshot(ReadTreeSize);

    /// <summary>
    /// Number of entries sequenced: stored and acknowledged, integrated into the tree or not yet (on a PostgreSQL database
    /// shared by replicas, entries beyond <see cref="TreeSize"/> wait for the integrator; on SQLite the two are equal).
    /// </summary>
    public long SequencedSize() => Snapshot(view => view.SequencedSize());

    /// <summary>The exact bytes of entry <paramref name="index"/> as hashed into the tree.</summary>
    public byte[] ReadEntry(long index) => Snapshot(tx =>
    {
        var size = ReadTreeSize(tx);
        if (index < 0 || index >= size)
        {
            throw new LedgerArgumentException($"index {index} is outside the log (size {size})");
        }

        var entries = tx.ReadEntries(index, 1);
        return entries.Count == 1 ? entries[0] : throw new LedgerVerificationException(LedgerFailure.EntryMismatch, $"entry {index} is missing from storage");
    });

    /// <summary>Most entries one <see cref="ReadEntries"/> call returns.</summary>
    public const int MaxEntriesPerRead = 4096;

    /// <summary>
    /// Up to <paramref name="count"/> (at most <see cref="MaxEntriesPerRead"/>) consecutive entries from
    /// <paramref name="start"/>, fewer at the end of the log: for reading the whole history in bounded batches.
    /// </summary>
    public IReadOnlyList<byte[]> ReadEntries(long start, int count) => Snapshot(tx =>
    {
        var size = ReadTreeSize(tx);
        if (start < 0 || count < 0)
        {
            throw new LedgerArgumentException($"start {start} and count {count} must not be negative");
        }

        var wanted = (int)Math.Min(Math.Min(count, MaxEntriesPerRead), Math.Max(0, size - start));
        return wanted == 0 ? [] : tx.ReadEntries(start, wanted);
    });

    /// <summary>The latest signed checkpoint (a signed note), or null before the first one.</summary>
    public SignedCheckpoint? LatestCheckpoint() => Snapshot(ReadCheckpoint);

    /// <summary>Root hash of the tree of <paramref name="size"/> entries.</summary>
    public Sha256Digest RootHash(long size) => Snapshot(tx =>
    {
        CheckSize(size, ReadTreeSize(tx));
        return MerkleProofs.Root(size, new TileHashSource(new StoreTileReader(tx), size, _interiors));
    });

    /// <summary>RFC 9162 inclusion proof of entry <paramref name="index"/> in the tree of <paramref name="size"/> entries.</summary>
    public IReadOnlyList<Sha256Digest> ProveInclusion(long index, long size) => Snapshot(tx =>
    {
        CheckSize(size, ReadTreeSize(tx));
        if (index < 0 || index >= size)
        {
            throw new LedgerArgumentException($"index {index} is not in a tree of size {size}");
        }

        return MerkleProofs.Inclusion(index, size, new TileHashSource(new StoreTileReader(tx), size, _interiors));
    });

    /// <summary>RFC 9162 consistency proof from the tree of <paramref name="oldSize"/> entries to that of <paramref name="newSize"/>.</summary>
    public IReadOnlyList<Sha256Digest> ProveConsistency(long oldSize, long newSize) => Snapshot(tx =>
    {
        CheckSize(newSize, ReadTreeSize(tx));
        if (oldSize < 0 || oldSize > newSize)
        {
            throw new LedgerArgumentException($"old size {oldSize} must be between 0 and the new size {newSize}");
        }

        return MerkleProofs.Consistency(oldSize, newSize, new TileHashSource(new StoreTileReader(tx), newSize, _interiors));
    });

    /// <summary>
    /// Writes the log as C2SP tlog-tiles static files under <paramref name="outputDirectory"/>: every tile and entry bundle
    /// of the latest checkpoint's tree, then the checkpoint itself (last, so a reader never sees a checkpoint before its tiles).
    /// Full tiles already present are kept (they are immutable); files are written to a temporary name and renamed.
    /// </summary>
    public ExportResult Export(string outputDirectory, IProgress<long>? progress = null) => Snapshot(tx =>
    {
        var checkpoint = ReadCheckpoint(tx)
            ?? throw new LedgerArgumentException("the ledger has no checkpoint yet; append an entry or run 'enclave ledger checkpoint'");
        var size = checkpoint.Size;
        var reader = new StoreTileReader(tx);
        long written = 0, kept = 0;
        Directory.CreateDirectory(outputDirectory);
        for (var level = 0; (size >> (TilePath.TileHeight * level)) > 0; level++)
        {
            var full = TilePath.FullTiles(level, size);
            var partial = TilePath.PartialWidth(level, size);
            for (long n = 0; n <= full; n++)
            {
                var width = n < full ? TilePath.TileWidth : partial;
                if (width == 0)
                {
                    continue;
                }

                var tile = reader.ReadTile(level, n, width)
                    ?? throw new LedgerVerificationException(LedgerFailure.TileMissing, $"tile {TilePath.Tile(level, n, width)} is missing from storage");
                if (WriteResource(outputDirectory, TilePath.Tile(level, n, width), tile, immutable: width == TilePath.TileWidth)) { written++; } else { kept++; }
                if (level == 0)
                {
                    var bundle = reader.ReadEntryBundle(n, width)
                        ?? throw new LedgerVerificationException(LedgerFailure.EntryMismatch, $"entries of bundle {n} are missing from storage");
                    if (WriteResource(outputDirectory, TilePath.EntryBundle(n, width), bundle, immutable: width == TilePath.TileWidth)) { written++; } else { kept++; }
                    progress?.Report(Math.Min(size, (n + 1) * TilePath.TileWidth));
                }
            }
        }

        WriteResource(outputDirectory, "checkpoint", System.Text.Encoding.UTF8.GetBytes(checkpoint.Note), immutable: false);
        return new ExportResult { TreeSize = size, FilesWritten = written + 1, FilesKept = kept, Checkpoint = checkpoint.Note };
    });

    private static bool WriteResource(string root, string relative, byte[] content, bool immutable)
    {
        var path = Path.Combine(root, relative);
        if (immutable && File.Exists(path) && new FileInfo(path).Length == content.Length)
        {
            return false;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + ".tmp-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        File.WriteAllBytes(temp, content);
        File.Move(temp, path, overwrite: true);
        return true;
    }

    /// <summary>
    /// A tile reader over the database for an audit (<see cref="LedgerAuditor.VerifyTiles"/>). It reads whatever is
    /// committed, so audit a size no larger than the latest checkpoint's.
    /// </summary>
    public ITileReader OpenTileReader() => new StoreTileReader(_connection);

    internal static SignedCheckpoint? ReadCheckpoint(ILedgerView view) =>
        view.ReadCheckpoint() is { } stored ? new SignedCheckpoint { Size = stored.Size, Note = stored.Note } : null;

    private static long ReadTreeSize(ILedgerView view) => view.TreeSize();

    private static void CheckSize(long size, long treeSize)
    {
        if (size < 1 || size > treeSize)
        {
            throw new LedgerArgumentException($"tree size {size} must be between 1 and the log's size {treeSize}");
        }
    }

    private T Snapshot<T>(Func<ILedgerSnapshot, T> read)
    {
        // One connection, one snapshot transaction at a time: the server shares this reader between threads (request
        // handlers, the detections' and the usage rollup's feeds reading back from the store), and a connection refuses
        // a second transaction while one is open.
        lock (_gate)
        {
            if (!_connection.IsOpen)
            {
                Reconnect();
            }

            try
            {
                using var snapshot = _connection.BeginSnapshot();
                return read(snapshot);
            }
            catch (DbException) when (!_connection.IsOpen)
            {
                // The database ended the connection (on PostgreSQL: a restart, a failover, the session terminated, the
                // network cut). A read changes nothing, so it is read again once on a new connection; without this the
                // reader of a long-running server would fail every read from then on. A second failure is thrown.
                Reconnect();
                using var snapshot = _connection.BeginSnapshot();
                return read(snapshot);
            }
        }
    }

    /// <summary>Replaces a connection the database ended with a new one (under <see cref="_gate"/>).</summary>
    private void Reconnect()
    {
        _connection.Dispose();
        _connection = _store.OpenReader() ?? throw new LedgerNotFoundException(DataDirectory);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        lock (_gate)
        {
            _connection.Dispose();
        }
    }
}

/// <summary>What an export wrote.</summary>
public sealed record ExportResult
{
    public required long TreeSize { get; init; }
    public required long FilesWritten { get; init; }
    public required long FilesKept { get; init; }
    public required string Checkpoint { get; init; }
}

/// <summary>A request named an index or size the ledger does not have.</summary>
public sealed class LedgerArgumentException : Exception, IEnclaveError<LedgerError>
{
    public LedgerArgumentException(string message)
        : base(message)
    {
    }

    public LedgerArgumentException()
    {
    }

    public LedgerArgumentException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Always <see cref="LedgerError.InvalidArgument"/>.</summary>
    public LedgerError Reason => LedgerError.InvalidArgument;
}
