using System.Globalization;
using System.Data;
using System.Data.Common;

namespace Enclave.State.Ledger;

/// <summary>The ledger's tables in <c>enclave.db</c>: <c>ledger_meta</c>, <c>ledger_entries</c>, <c>ledger_tiles</c>, <c>ledger_checkpoint</c>.</summary>
public sealed class SqliteLedgerStore : ILedgerStore
{
    /// <summary>The ledger storage format written in <c>ledger_meta</c> (independent of the schema version).</summary>
    public const int FormatVersion = 1;

    private const string ReadTileSql = "SELECT hashes FROM ledger_tiles WHERE level = $l AND idx = $i";
    private const string SequencedSizeSql = "SELECT COALESCE((SELECT value FROM ledger_meta WHERE key = 'next_index'), (SELECT value FROM ledger_meta WHERE key = 'tree_size'))";
    private const string SetMetaSql = "INSERT INTO ledger_meta (key, value) VALUES ($k, $v) ON CONFLICT (key) DO UPDATE SET value = excluded.value";
    private readonly StateConnectionFactory _factory;

    /// <summary>A store over the factory's <c>enclave.db</c>; the caller has migrated it (<see cref="EnclaveState"/>).</summary>
    public SqliteLedgerStore(StateConnectionFactory factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        _factory = factory;
    }

    /// <inheritdoc/>
    public bool Exists() => Origin() is not null;

    /// <inheritdoc/>
    public string? Origin()
    {
        using var connection = _factory.OpenReader(StateDatabase.Enclave);
        return connection is null ? null : ReadOrigin(_factory.Dialect, connection);
    }

    /// <inheritdoc/>
    public void Create(string origin)
    {
        ArgumentException.ThrowIfNullOrEmpty(origin);
        using var connection = _factory.OpenWriter(StateDatabase.Enclave);
        using var transaction = connection.BeginTransaction();
        if (GetMeta(_factory.Dialect, connection, transaction, "origin") is { } existing)
        {
            throw new InvalidOperationException($"the data directory already holds a ledger (origin {existing})");
        }

        SetMeta(_factory.Dialect, connection, transaction, "schema_version", FormatVersion.ToString(CultureInfo.InvariantCulture));
        SetMeta(_factory.Dialect, connection, transaction, "origin", origin);
        SetMeta(_factory.Dialect, connection, transaction, "tree_size", "0");
        transaction.Commit();
    }

    /// <inheritdoc/>
    public ILedgerWriter OpenWriter() => new Writer(_factory.Dialect, _factory.OpenWriter(StateDatabase.Enclave));

    /// <inheritdoc/>
    public ICheckpointSignerLease OpenSignerLease(TimeSpan interval)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        return _factory is Postgres.PostgresConnectionFactory postgres
            ? new Postgres.PostgresSignerLease(postgres, interval)
            : SoleWriterLease.Instance;
    }

    /// <inheritdoc/>
    public ILedgerSequencer? OpenSequencer(string writer) =>
        _factory is Postgres.PostgresConnectionFactory postgres ? new Postgres.PostgresLedgerSequencer(postgres, writer) : null;

    /// <inheritdoc/>
    public ILedgerConnection? OpenReader()
    {
        var connection = _factory.OpenReader(StateDatabase.Enclave);
        if (connection is null)
        {
            return null;
        }

        try
        {
            Migrations.StateMigrator.CheckReadable(_factory, StateDatabase.Enclave, connection);
            if (ReadOrigin(_factory.Dialect, connection) is null)
            {
                connection.Dispose();
                return null;
            }

            return new Connection(_factory.Dialect, connection);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private static string? ReadOrigin(SqlDialect dialect, DbConnection connection) =>
        dialect.TableExists(connection, null, "ledger_meta") ? GetMeta(dialect, connection, null, "origin") : null;

    private static string? GetMeta(SqlDialect dialect, DbConnection connection, DbTransaction? transaction, string key) =>
        dialect.Scalar(connection, transaction, "SELECT value FROM ledger_meta WHERE key = $k", ("$k", key)) as string;

    private static void SetMeta(SqlDialect dialect, DbConnection connection, DbTransaction transaction, string key, string value) =>
        dialect.NonQuery(connection, transaction, SetMetaSql, ("$k", key), ("$v", value));

    /// <summary>Reads over a connection and an optional snapshot transaction.</summary>
    private class View(SqlDialect dialect, DbConnection connection) : ILedgerView
    {
        protected SqlDialect Dialect { get; } = dialect;

        protected DbConnection Db { get; } = connection;

        protected DbTransaction? Snapshot { get; set; }

        public long TreeSize() =>
            long.Parse(GetMeta(Dialect, Db, Snapshot, "tree_size") ?? "0", CultureInfo.InvariantCulture);

        /// <summary><c>next_index</c> where replicas sequence (PostgreSQL), else the tree size: one statement either way.</summary>
        public long SequencedSize() =>
            long.Parse(
                Dialect.Scalar(Db, Snapshot, SequencedSizeSql) as string ?? "0",
                CultureInfo.InvariantCulture);

        /// <summary>Prepared statements of the connection this view reads through, when it keeps some.</summary>
        protected virtual PreparedReads? Prepared => null;

        public byte[]? ReadTile(int level, long index, int width)
        {
            object? read;
            if (Prepared is { } prepared)
            {
                read = prepared.ReadTile(Snapshot, level, index);
            }
            else
            {
                using var command = Dialect.Command(Db, Snapshot, ReadTileSql, ("$l", level), ("$i", index));
                read = command.ExecuteScalar();
            }

            const int hashSize = 32;
            if (read is not byte[] hashes || hashes.Length < width * hashSize)
            {
                return null;
            }

            return hashes.Length == width * hashSize ? hashes : hashes.AsSpan(0, width * hashSize).ToArray();
        }

        public List<byte[]> ReadEntries(long start, int count)
        {
            using var command = Dialect.Command(Db, Snapshot, "SELECT idx, data FROM ledger_entries WHERE idx >= $s AND idx < $e ORDER BY idx", ("$s", start), ("$e", start + count));
            using var reader = command.ExecuteReader();
            var entries = new List<byte[]>(count);
            var expected = start;
            while (reader.Read())
            {
                if (reader.GetInt64(0) != expected)
                {
                    break;
                }

                entries.Add((byte[])reader.GetValue(1));
                expected++;
            }

            return entries;
        }

        public StoredCheckpoint? ReadCheckpoint()
        {
            using var command = Dialect.Command(Db, Snapshot, "SELECT size, note FROM ledger_checkpoint WHERE id = 1");
            using var reader = command.ExecuteReader();
            return reader.Read() ? new StoredCheckpoint(reader.GetInt64(0), reader.GetString(1)) : null;
        }
    }

    private sealed class SnapshotView : View, ILedgerSnapshot
    {
        private readonly PreparedReads? _prepared;

        public SnapshotView(SqlDialect dialect, DbConnection connection, PreparedReads? prepared)
            : base(dialect, connection)
        {
            _prepared = prepared;
            Snapshot = dialect.BeginSnapshot(connection);
        }

        protected override PreparedReads? Prepared => _prepared;

        public void Dispose() => Snapshot?.Dispose();
    }

    private class Connection(SqlDialect dialect, DbConnection connection) : View(dialect, connection), ILedgerConnection
    {
        private readonly PreparedReads _prepared = new(dialect, connection);

        protected override PreparedReads? Prepared => _prepared;

        public bool IsOpen => Db.State == System.Data.ConnectionState.Open;

        public ILedgerSnapshot BeginSnapshot() => new SnapshotView(Dialect, Db, _prepared);

        public virtual void Dispose()
        {
            _prepared.Dispose();
            Db.Dispose();
        }
    }

    /// <summary>
    /// The tile read prepared once per connection and reused by its snapshots: a proof reads a few tiles, and preparing
    /// the statement again for each read cost about as much as the read. Used by one thread at a time, as the
    /// connection is (<c>LedgerReader</c> serialises its snapshots).
    /// </summary>
    private sealed class PreparedReads(SqlDialect dialect, DbConnection connection) : IDisposable
    {
        private DbCommand? _readTile;
        private DbParameter? _level;
        private DbParameter? _index;

        public object? ReadTile(DbTransaction? transaction, int level, long index)
        {
            if (_readTile is null)
            {
                _readTile = dialect.CreateCommand(connection, transaction, ReadTileSql);
                _level = dialect.Parameter(_readTile, "$l", DbType.Int64);
                _index = dialect.Parameter(_readTile, "$i", DbType.Int64);
                _readTile.Prepare();
            }

            _readTile.Transaction = transaction;
            _level!.Value = (long)level;
            _index!.Value = index;
            return _readTile.ExecuteScalar();
        }

        public void Dispose() => _readTile?.Dispose();
    }

    /// <summary>
    /// The writer: its four statements are created and prepared once and reused by every batch (the sequencer's hot
    /// path binds values and executes, nothing more). The batch object is reused too.
    /// </summary>
    private sealed class Writer : Connection, ILedgerWriter
    {
        private readonly DbCommand _insertEntry;
        private readonly DbParameter _entryIndex;
        private readonly DbParameter _entryData;
        private readonly DbCommand _upsertTile;
        private readonly DbParameter _tileLevel;
        private readonly DbParameter _tileIndex;
        private readonly DbParameter _tileHashes;
        private readonly DbCommand _setSize;
        private readonly DbParameter _size;
        private readonly DbCommand _putCheckpoint;
        private readonly DbParameter _checkpointSize;
        private readonly DbParameter _checkpointNote;
        private readonly Batch _batchView;
        private readonly Npgsql.NpgsqlConnection? _postgres;
        private readonly List<long> _entryIndexes = [];
        private readonly List<byte[]> _entryData2 = [];
        private readonly List<long> _tileLevels = [];
        private readonly List<long> _tileIndexes = [];
        private readonly List<byte[]> _tileHashes2 = [];
        private DbTransaction? _batch;

        public Writer(SqlDialect dialect, DbConnection connection)
            : base(dialect, connection)
        {
            _insertEntry = dialect.CreateCommand(connection, null, "INSERT INTO ledger_entries (idx, data) VALUES ($i, $d)");
            _entryIndex = dialect.Parameter(_insertEntry, "$i", DbType.Int64);
            _entryData = dialect.Parameter(_insertEntry, "$d", DbType.Binary);

            _upsertTile = dialect.CreateCommand(connection, null, "INSERT INTO ledger_tiles (level, idx, hashes) VALUES ($l, $i, $h) ON CONFLICT (level, idx) DO UPDATE SET hashes = excluded.hashes");
            _tileLevel = dialect.Parameter(_upsertTile, "$l", DbType.Int64);
            _tileIndex = dialect.Parameter(_upsertTile, "$i", DbType.Int64);
            _tileHashes = dialect.Parameter(_upsertTile, "$h", DbType.Binary);

            _setSize = dialect.CreateCommand(connection, null, SetMetaSql);
            dialect.Parameter(_setSize, "$k", DbType.String).Value = "tree_size";
            _size = dialect.Parameter(_setSize, "$v", DbType.String);

            _putCheckpoint = dialect.CreateCommand(connection, null, "INSERT INTO ledger_checkpoint (id, size, note) VALUES (1, $s, $n) ON CONFLICT (id) DO UPDATE SET size = excluded.size, note = excluded.note");
            _checkpointSize = dialect.Parameter(_putCheckpoint, "$s", DbType.Int64);
            _checkpointNote = dialect.Parameter(_putCheckpoint, "$n", DbType.String);

            foreach (var command in (DbCommand[])[_insertEntry, _upsertTile, _setSize, _putCheckpoint])
            {
                command.Prepare();
            }

            _batchView = new Batch(this);
            // On PostgreSQL a statement is a network round trip: a batch's entries and tiles are sent as arrays in two
            // statements at commit instead of one statement each (the batch reads nothing after its first write).
            _postgres = connection as Npgsql.NpgsqlConnection;
        }

        public ILedgerBatch BeginBatch()
        {
            if (_batch is not null)
            {
                throw new InvalidOperationException("a ledger batch is already open");
            }

            _batch = Db.BeginTransaction();
            _batchView.Bind(_batch);
            _insertEntry.Transaction = _batch;
            _upsertTile.Transaction = _batch;
            _setSize.Transaction = _batch;
            _putCheckpoint.Transaction = _batch;
            return _batchView;
        }

        public override void Dispose()
        {
            EndBatch();
            _insertEntry.Dispose();
            _upsertTile.Dispose();
            _setSize.Dispose();
            _putCheckpoint.Dispose();
            base.Dispose();
        }

        private long LockTreeSize()
        {
            var batch = _batch ?? throw new InvalidOperationException("no ledger batch is open");
            var size = Dialect.Scalar(Db, batch, "SELECT value FROM ledger_meta WHERE key = 'tree_size'" + Dialect.ForUpdate) as string;
            return long.Parse(size ?? "0", CultureInfo.InvariantCulture);
        }

        private long? TryLockTreeSize()
        {
            var batch = _batch ?? throw new InvalidOperationException("no ledger batch is open");
            var lockClause = _postgres is null ? string.Empty : " FOR UPDATE SKIP LOCKED";
            return Dialect.Scalar(Db, batch, "SELECT value FROM ledger_meta WHERE key = 'tree_size'" + lockClause) is string size
                ? long.Parse(size, CultureInfo.InvariantCulture)
                : null;
        }

        private void AppendEntry(long index, byte[] data)
        {
            if (_postgres is not null)
            {
                _entryIndexes.Add(index);
                _entryData2.Add(data);
                return;
            }

            _entryIndex.Value = index;
            _entryData.Value = data;
            _insertEntry.ExecuteNonQuery();
        }

        private void PutTile(int level, long index, byte[] hashes)
        {
            if (_postgres is not null)
            {
                _tileLevels.Add(level);
                _tileIndexes.Add(index);
                _tileHashes2.Add(hashes);
                return;
            }

            _tileLevel.Value = (long)level;
            _tileIndex.Value = index;
            _tileHashes.Value = hashes;
            _upsertTile.ExecuteNonQuery();
        }

        private void SetTreeSize(long size)
        {
            _size.Value = size.ToString(CultureInfo.InvariantCulture);
            _setSize.ExecuteNonQuery();
        }

        private void PutCheckpoint(long size, string note)
        {
            _checkpointSize.Value = size;
            _checkpointNote.Value = note;
            _putCheckpoint.ExecuteNonQuery();
        }

        private void Commit()
        {
            var batch = _batch ?? throw new InvalidOperationException("no ledger batch is open");
            WriteArrays((Npgsql.NpgsqlTransaction?)(_postgres is null ? null : batch));
            batch.Commit();
            EndBatch();
        }

        /// <summary>PostgreSQL: the batch's entries and tiles in one statement each (<c>unnest</c> over arrays).</summary>
        private void WriteArrays(Npgsql.NpgsqlTransaction? transaction)
        {
            if (_postgres is null)
            {
                return;
            }

            if (_entryIndexes.Count > 0)
            {
                using var entries = new Npgsql.NpgsqlCommand("INSERT INTO ledger_entries (idx, data) SELECT * FROM unnest(@i, @d)", _postgres, transaction);
                entries.Parameters.AddWithValue("i", _entryIndexes.ToArray());
                entries.Parameters.AddWithValue("d", _entryData2.ToArray());
                entries.ExecuteNonQuery();
            }

            if (_tileLevels.Count > 0)
            {
                using var tiles = new Npgsql.NpgsqlCommand("INSERT INTO ledger_tiles (level, idx, hashes) SELECT * FROM unnest(@l, @i, @h) ON CONFLICT (level, idx) DO UPDATE SET hashes = excluded.hashes", _postgres, transaction);
                tiles.Parameters.AddWithValue("l", _tileLevels.ToArray());
                tiles.Parameters.AddWithValue("i", _tileIndexes.ToArray());
                tiles.Parameters.AddWithValue("h", _tileHashes2.ToArray());
                tiles.ExecuteNonQuery();
            }
        }

        private void EndBatch()
        {
            _entryIndexes.Clear();
            _entryData2.Clear();
            _tileLevels.Clear();
            _tileIndexes.Clear();
            _tileHashes2.Clear();
            var batch = _batch;
            _batch = null;
            _batchView.Bind(null);
            _insertEntry.Transaction = null;
            _upsertTile.Transaction = null;
            _setSize.Transaction = null;
            _putCheckpoint.Transaction = null;
            batch?.Dispose();
        }

        private void DisposeWriter()
        {
            _insertEntry.Dispose();
            _upsertTile.Dispose();
            _setSize.Dispose();
            _putCheckpoint.Dispose();
            base.Dispose();
        }

        /// <summary>The writer's one batch handle (reused): binds values into the prepared statements.</summary>
        private sealed class Batch(Writer writer) : View(writer.Dialect, writer.Db), ILedgerBatch
        {
            public long LockTreeSize() => writer.LockTreeSize();

            public long? TryLockTreeSize() => writer.TryLockTreeSize();

            /// <summary>Reads through the open batch's transaction (null: none open).</summary>
            public void Bind(DbTransaction? transaction) => Snapshot = transaction;

            public void AppendEntry(long index, byte[] data) => writer.AppendEntry(index, data);

            public void PutTile(int level, long index, byte[] hashes) => writer.PutTile(level, index, hashes);

            public void SetTreeSize(long size) => writer.SetTreeSize(size);

            public void PutCheckpoint(long size, string note) => writer.PutCheckpoint(size, note);

            public void Commit() => writer.Commit();

            /// <summary>Rolls back an uncommitted batch; after <see cref="Commit"/> it does nothing.</summary>
            public void Dispose() => writer.EndBatch();
        }
    }
}
