using System.Data.Common;
using Enclave.State.Ledger;
using Npgsql;
using NpgsqlTypes;

namespace Enclave.State.Postgres;

/// <summary>
/// Sequencing on PostgreSQL (<see cref="ILedgerSequencer"/>): one statement per batch, run outside an explicit
/// transaction so that it is its own transaction. It moves the first coordination row (<c>next_index</c> in
/// <c>ledger_meta</c>) on by the batch's length and inserts the entries at the indexes it held, and PostgreSQL commits
/// it (<c>synchronous_commit = on</c>: flushed) before the client reads the end of the answer. The row is locked from
/// the statement's <c>UPDATE</c> to its commit, no client round trip in between, so replicas queue on it for one
/// insert and one flush each. A statement that fails or whose session dies (its replica killed mid-batch) is rolled
/// back whole: the row is not moved and no entry is stored, so indexes stay consecutive.
/// </summary>
internal sealed class PostgresLedgerSequencer(PostgresConnectionFactory factory) : ILedgerSequencer
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

    private NpgsqlConnection? _connection;
    private NpgsqlCommand? _sequence;
    private NpgsqlParameter<byte[][]>? _data;

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

            return first ?? throw new InvalidOperationException("the ledger has no next_index row in ledger_meta; nothing was stored (was the ledger created?)");
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
        NpgsqlCommand? command = null;
        try
        {
            using (var ensure = new NpgsqlCommand(EnsureRowSql, connection))
            {
                ensure.ExecuteNonQuery();
            }

            command = new NpgsqlCommand(SequenceSql, connection);
            var data = new NpgsqlParameter<byte[][]>("d", NpgsqlDbType.Array | NpgsqlDbType.Bytea);
            command.Parameters.Add(data);
            command.Prepare();
            _connection = connection;
            _sequence = command;
            _data = data;
            return command;
        }
        catch
        {
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
        _connection?.Dispose();
        _connection = null;
    }
}
