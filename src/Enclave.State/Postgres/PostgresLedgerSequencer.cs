using System.Data.Common;
using Enclave.State.Ledger;
using Npgsql;
using NpgsqlTypes;

namespace Enclave.State.Postgres;

/// <summary>
/// Sequencing on PostgreSQL (<see cref="ILedgerSequencer"/>): one statement per batch, run outside an explicit
/// transaction so that it is its own transaction. It moves the first coordination row (<c>next_index</c> in
/// <c>ledger_meta</c>) on by the batch's length and inserts the entries at the indexes it held. A statement that fails
/// or whose session dies (its replica killed mid-batch) is rolled back whole: the row is not moved and no entry is
/// stored, so indexes stay consecutive.
/// <para>
/// Durability without holding the row through a flush: the statement commits with <c>synchronous_commit = off</c>, so
/// the row is free once its commit record is written, not flushed (replicas queue on it for one insert each, not one
/// disk flush each). The batch is acknowledged only after a second, synchronous commit on another session (an update
/// of this writer's own row, <c>flush:WRITER</c>) has returned: its commit record comes after the batch's in the WAL, and
/// PostgreSQL flushes the WAL in order, so the batch is on disk (and on a synchronous standby) when it returns; the
/// flushes of several replicas are made together. A crash before that flush loses the batch with every later one that
/// read its <c>next_index</c> (their commit records come after it), so no gap appears; nothing lost was acknowledged.
/// Readers never see an unflushed entry: they serve only the integrated tree, whose integration commits synchronously.
/// </para>
/// </summary>
internal sealed class PostgresLedgerSequencer(PostgresConnectionFactory factory, string writer) : ILedgerSequencer
{
    /// <summary>
    /// The batch in one statement. Data-modifying <c>WITH</c> parts run exactly once and to completion whether or not
    /// the outer query reads them; the outer query returns the first index of the range.
    /// </summary>
    private const string SequenceSql = """
        WITH seq AS (
            UPDATE ledger_meta SET value = (value::bigint + cardinality(@d))::text WHERE key = 'next_index'
            RETURNING value::bigint - cardinality(@d) AS first_index),
        stored AS (
            INSERT INTO ledger_entries (idx, data)
            SELECT seq.first_index + entry.n - 1, entry.data FROM seq, unnest(@d) WITH ORDINALITY AS entry(data, n))
        SELECT first_index FROM seq
        """;

    /// <summary>
    /// The first coordination row, made once from the tree size where it is missing (a ledger created or migrated from
    /// SQLite before sequencing was split from integration, whose every entry is integrated).
    /// </summary>
    private const string EnsureRowSql = "INSERT INTO ledger_meta (key, value) SELECT 'next_index', value FROM ledger_meta WHERE key = 'tree_size' ON CONFLICT (key) DO NOTHING";

    private const string EnsureFlushRowSql = "INSERT INTO ledger_meta (key, value) VALUES (@k, '0') ON CONFLICT (key) DO NOTHING";

    /// <summary>A write that commits synchronously (the session's default), flushing the WAL up to its commit record.</summary>
    private const string FlushSql = "UPDATE ledger_meta SET value = value WHERE key = @k";

    private readonly string _flushKey = "flush:" + writer;
    private NpgsqlConnection? _connection;
    private NpgsqlCommand? _sequence;
    private NpgsqlParameter<byte[][]>? _data;
    private NpgsqlConnection? _flushConnection;
    private NpgsqlCommand? _flush;

    /// <inheritdoc/>
    public long Sequence(IReadOnlyList<byte[]> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (entries.Count == 0)
        {
            throw new ArgumentException("a batch to sequence holds at least one entry", nameof(entries));
        }

        try
        {
            var command = Prepare();
            _data!.TypedValue = entries as byte[][] ?? [.. entries];
            long? first = null;
            using (var reader = command.ExecuteReader())
            {
                if (reader.Read() && !reader.IsDBNull(0))
                {
                    first = reader.GetInt64(0);
                }

                // Reading to the end of the answer (ReadyForQuery) is what says the implicit transaction committed: an
                // error in the commit arrives before it and is thrown here.
                reader.Close();
            }

            var index = first ?? throw new InvalidOperationException("the ledger has no next_index row in ledger_meta; nothing was stored (was the ledger created?)");
            if (_flush!.ExecuteNonQuery() != 1)
            {
                throw new InvalidOperationException($"the ledger writer's row '{_flushKey}' is missing from ledger_meta; its batch at {index} may not be durable and is not acknowledged");
            }

            return index;
        }
        catch (Exception ex) when (ex is DbException or IOException or TimeoutException or InvalidOperationException)
        {
            Reset(); // a broken session is not reused: the next batch opens a fresh one
            throw;
        }
    }

    /// <inheritdoc/>
    public void Dispose() => Reset();

    private NpgsqlCommand Prepare()
    {
        if (_sequence is not null)
        {
            return _sequence;
        }

        var connection = factory.OpenWriter(StateDatabase.Enclave);
        NpgsqlConnection? flushConnection = null;
        NpgsqlCommand? command = null;
        NpgsqlCommand? flush = null;
        try
        {
            using (var ensure = new NpgsqlCommand(EnsureRowSql + "; " + EnsureFlushRowSql + "; SET synchronous_commit = off", connection))
            {
                ensure.Parameters.AddWithValue("k", _flushKey);
                ensure.ExecuteNonQuery();
            }

            command = new NpgsqlCommand(SequenceSql, connection);
            var data = new NpgsqlParameter<byte[][]>("d", NpgsqlDbType.Array | NpgsqlDbType.Bytea);
            command.Parameters.Add(data);
            command.Prepare();

            flushConnection = factory.OpenWriter(StateDatabase.Enclave); // synchronous_commit = on, as every enclave session
            flush = new NpgsqlCommand(FlushSql, flushConnection);
            flush.Parameters.AddWithValue("k", _flushKey);
            flush.Prepare();

            _connection = connection;
            _sequence = command;
            _data = data;
            _flushConnection = flushConnection;
            _flush = flush;
            return command;
        }
        catch
        {
            flush?.Dispose();
            flushConnection?.Dispose();
            command?.Dispose();
            connection.Dispose();
            throw;
        }
    }

    private void Reset()
    {
        _sequence?.Dispose();
        _sequence = null;
        _data = null;
        _connection?.Dispose(); // a pooled session is reset (synchronous_commit back to on) before it is reused
        _connection = null;
        _flush?.Dispose();
        _flush = null;
        _flushConnection?.Dispose();
        _flushConnection = null;
    }
}
