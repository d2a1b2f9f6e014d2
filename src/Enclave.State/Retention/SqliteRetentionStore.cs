using System.Data;

namespace Enclave.State.Retention;

/// <summary>The <c>retained</c> table of <c>retention.db</c> (secure delete on).</summary>
public sealed class SqliteRetentionStore(StateConnectionFactory factory) : IRetentionStore
{
    /// <inheritdoc/>
    public void Put(IEnumerable<RetainedRow> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        using var connection = factory.OpenWriter(StateDatabase.Retention, pooled: true);
        using var transaction = connection.BeginTransaction();
        using var command = factory.Dialect.CreateCommand(connection, transaction, """
            INSERT INTO retained (admitted_index, request_id, actor, created, expires, key_id, prompt, answer)
            VALUES ($i, $r, $a, $c, $e, $k, $p, $n)
            ON CONFLICT (admitted_index) DO UPDATE SET request_id = excluded.request_id, actor = excluded.actor, created = excluded.created,
                expires = excluded.expires, key_id = excluded.key_id, prompt = excluded.prompt, answer = excluded.answer
            """);
        var index = factory.Dialect.Parameter(command, "$i", DbType.Int64);
        var request = factory.Dialect.Parameter(command, "$r", DbType.String);
        var actor = factory.Dialect.Parameter(command, "$a", DbType.String);
        var created = factory.Dialect.Parameter(command, "$c", DbType.String);
        var expires = factory.Dialect.Parameter(command, "$e", DbType.String);
        var key = factory.Dialect.Parameter(command, "$k", DbType.String);
        var prompt = factory.Dialect.Parameter(command, "$p", DbType.Binary);
        var answer = factory.Dialect.Parameter(command, "$n", DbType.Binary);
        foreach (var record in records)
        {
            index.Value = record.AdmittedIndex;
            request.Value = record.RequestId;
            actor.Value = record.Actor;
            created.Value = SqlDialect.FormatTime(record.Created);
            expires.Value = SqlDialect.FormatTime(record.Expires);
            key.Value = record.KeyId;
            prompt.Value = record.Prompt;
            answer.Value = record.Answer is { } a ? a : DBNull.Value;
            command.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    /// <inheritdoc/>
    public RetainedRow? Find(long admittedIndex, DateTimeOffset now)
    {
        using var connection = factory.OpenWriter(StateDatabase.Retention, pooled: true);
        using var command = factory.Dialect.Command(
            connection,
            null,
            "SELECT request_id, actor, created, expires, key_id, prompt, answer FROM retained WHERE admitted_index = $i AND expires > $now",
            ("$i", admittedIndex),
            ("$now", SqlDialect.FormatTime(now)));
        using var reader = command.ExecuteReader();
        if (!reader.Read())
        {
            return null;
        }

        return new RetainedRow(
            admittedIndex,
            reader.GetString(0),
            reader.GetString(1),
            SqlDialect.ParseTime(reader.GetString(2)),
            SqlDialect.ParseTime(reader.GetString(3)),
            reader.GetString(4),
            (byte[])reader.GetValue(5),
            reader.IsDBNull(6) ? null : (byte[])reader.GetValue(6));
    }

    /// <inheritdoc/>
    public int Purge(DateTimeOffset now)
    {
        using var connection = factory.OpenWriter(StateDatabase.Retention, pooled: true);
        var deleted = factory.Dialect.NonQuery(connection, null, "DELETE FROM retained WHERE expires <= $now", ("$now", SqlDialect.FormatTime(now)));
        if (deleted > 0)
        {
            // Push the deleted pages out of the WAL into the (zero-overwritten) main file.
            factory.Dialect.CompactAfterPurge(connection);
        }

        return deleted;
    }

    /// <inheritdoc/>
    public long Count()
    {
        using var connection = factory.OpenWriter(StateDatabase.Retention, pooled: true);
        return Convert.ToInt64(factory.Dialect.Scalar(connection, null, "SELECT count(*) FROM retained"), System.Globalization.CultureInfo.InvariantCulture);
    }
}
