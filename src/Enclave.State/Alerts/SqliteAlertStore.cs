using System.Globalization;
using System.Text;
using System.Data.Common;

namespace Enclave.State.Alerts;

/// <summary>The <c>alerts</c> table of <c>enclave.db</c>.</summary>
public sealed class SqliteAlertStore(StateConnectionFactory factory) : IAlertStore
{
    private const string Columns = "id, kind, severity, title, subject, evidence, dedup_key, state, raised, raised_by, raised_index, updated, updated_by, updated_index, reason";

    /// <inheritdoc/>
    public bool Add(AlertRow alert)
    {
        ArgumentNullException.ThrowIfNull(alert);
        using var connection = factory.OpenWriter(StateDatabase.Enclave, pooled: true);
        using var transaction = factory.Dialect.BeginWrite(connection);
        var added = factory.Dialect.NonQuery(
            connection,
            transaction,
            $"""
            INSERT INTO alerts ({Columns})
            VALUES ($id, $kind, $sev, $title, $subject, $evidence, $dedup, $state, $raised, $raisedBy, $raisedIndex, $updated, $updatedBy, $updatedIndex, $reason)
            ON CONFLICT (dedup_key) DO NOTHING
            """,
            ("$id", alert.Id),
            ("$kind", alert.Kind),
            ("$sev", alert.Severity),
            ("$title", alert.Title),
            ("$subject", alert.Subject),
            ("$evidence", alert.Evidence),
            ("$dedup", alert.DedupKey),
            ("$state", alert.State),
            ("$raised", SqlDialect.FormatTime(alert.Raised)),
            ("$raisedBy", alert.RaisedBy),
            ("$raisedIndex", alert.RaisedIndex),
            ("$updated", alert.Updated is { } u ? SqlDialect.FormatTime(u) : null),
            ("$updatedBy", alert.UpdatedBy),
            ("$updatedIndex", alert.UpdatedIndex),
            ("$reason", alert.Reason)) > 0;
        return Commit(connection, transaction, added);
    }

    /// <inheritdoc/>
    public AlertRow? Find(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        return Single($"SELECT {Columns} FROM alerts WHERE id = $v", id);
    }

    /// <inheritdoc/>
    public AlertRow? FindByDedupKey(string dedupKey)
    {
        ArgumentNullException.ThrowIfNull(dedupKey);
        return Single($"SELECT {Columns} FROM alerts WHERE dedup_key = $v", dedupKey);
    }

    /// <inheritdoc/>
    public IReadOnlyList<AlertRow> List(AlertQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(query.Limit);
        var sql = new StringBuilder($"SELECT {Columns} FROM alerts WHERE 1 = 1");
        var parameters = new List<(string, object?)>();
        AddIn(sql, parameters, "state", "$s", query.States);
        AddIn(sql, parameters, "severity", "$v", query.Severities);
        if (query.Kind is { } kind)
        {
            sql.Append(" AND kind = $kind");
            parameters.Add(("$kind", kind));
        }

        if (query.Since is { } since)
        {
            sql.Append(" AND raised >= $since");
            parameters.Add(("$since", SqlDialect.FormatTime(since)));
        }

        sql.Append(" ORDER BY raised DESC, raised_index DESC LIMIT $limit");
        parameters.Add(("$limit", query.Limit));
        using var connection = factory.OpenWriter(StateDatabase.Enclave, pooled: true);
        using var command = factory.Dialect.Command(connection, null, sql.ToString(), [.. parameters]);
        return ReadAll(command);
    }

    /// <inheritdoc/>
    public bool ChangeState(string id, string expectedState, AlertStateChange change)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(expectedState);
        ArgumentNullException.ThrowIfNull(change);
        using var connection = factory.OpenWriter(StateDatabase.Enclave, pooled: true);
        using var transaction = factory.Dialect.BeginWrite(connection);
        var changed = factory.Dialect.NonQuery(
            connection,
            transaction,
            "UPDATE alerts SET state = $state, updated = $t, updated_by = $by, updated_index = $idx, reason = $reason WHERE id = $id AND state = $expected",
            ("$state", change.State),
            ("$t", SqlDialect.FormatTime(change.Time)),
            ("$by", change.Actor),
            ("$idx", change.LedgerIndex),
            ("$reason", change.Reason),
            ("$id", id),
            ("$expected", expectedState)) > 0;
        return Commit(connection, transaction, changed);
    }

    /// <summary>
    /// Commits a change, announcing it to the other replicas when it changed a row (<see cref="Changes.StateChanges"/>,
    /// topic <see cref="Changes.StateTopics.Alerts"/>: sent when the transaction commits).
    /// </summary>
    private bool Commit(DbConnection connection, DbTransaction transaction, bool changed)
    {
        if (changed)
        {
            Changes.StateChanges.Announce(factory.Dialect, connection, transaction, Changes.StateTopics.Alerts);
        }

        transaction.Commit();
        return changed;
    }

    /// <inheritdoc/>
    public IReadOnlyList<AlertCount> Count()
    {
        using var connection = factory.OpenWriter(StateDatabase.Enclave, pooled: true);
        using var command = factory.Dialect.Command(connection, null, "SELECT kind, severity, state, count(*) FROM alerts GROUP BY kind, severity, state ORDER BY kind, severity, state");
        using var reader = command.ExecuteReader();
        var counts = new List<AlertCount>();
        while (reader.Read())
        {
            counts.Add(new AlertCount(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3)));
        }

        return counts;
    }

    private static void AddIn(StringBuilder sql, List<(string, object?)> parameters, string column, string prefix, IReadOnlyList<string>? values)
    {
        if (values is null)
        {
            return;
        }

        if (values.Count == 0)
        {
            sql.Append(" AND 0 = 1");
            return;
        }

        sql.Append(CultureInfo.InvariantCulture, $" AND {column} IN (");
        for (var i = 0; i < values.Count; i++)
        {
            var name = prefix + i.ToString(CultureInfo.InvariantCulture);
            sql.Append(i == 0 ? name : ", " + name);
            parameters.Add((name, values[i]));
        }

        sql.Append(')');
    }

    private AlertRow? Single(string sql, string value)
    {
        using var connection = factory.OpenWriter(StateDatabase.Enclave, pooled: true);
        using var command = factory.Dialect.Command(connection, null, sql, ("$v", value));
        var rows = ReadAll(command);
        return rows.Count == 0 ? null : rows[0];
    }

    private static List<AlertRow> ReadAll(DbCommand command)
    {
        using var reader = command.ExecuteReader();
        var rows = new List<AlertRow>();
        while (reader.Read())
        {
            rows.Add(new AlertRow
            {
                Id = reader.GetString(0),
                Kind = reader.GetString(1),
                Severity = reader.GetString(2),
                Title = reader.GetString(3),
                Subject = reader.GetString(4),
                Evidence = reader.GetString(5),
                DedupKey = reader.IsDBNull(6) ? null : reader.GetString(6),
                State = reader.GetString(7),
                Raised = SqlDialect.ParseTime(reader.GetString(8)),
                RaisedBy = reader.GetString(9),
                RaisedIndex = reader.GetInt64(10),
                Updated = reader.IsDBNull(11) ? null : SqlDialect.ParseTime(reader.GetString(11)),
                UpdatedBy = reader.IsDBNull(12) ? null : reader.GetString(12),
                UpdatedIndex = reader.IsDBNull(13) ? null : reader.GetInt64(13),
                Reason = reader.IsDBNull(14) ? null : reader.GetString(14),
            });
        }

        return rows;
    }
}
