namespace Enclave.State.Detections;

/// <summary>The <c>detection_*</c> tables of <c>enclave.db</c>.</summary>
public sealed class SqliteDetectionStore(StateConnectionFactory factory) : IDetectionStore
{
    /// <inheritdoc/>
    public long? ReadCursor(string consumer)
    {
        ArgumentNullException.ThrowIfNull(consumer);
        using var connection = factory.OpenWriter(StateDatabase.Enclave, pooled: true);
        return factory.Dialect.Scalar(connection, null, "SELECT next_index FROM detection_cursors WHERE consumer = $c", ("$c", consumer)) is long next ? next : null;
    }

    /// <inheritdoc/>
    public void WriteCursor(string consumer, long nextIndex, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(consumer);
        ArgumentOutOfRangeException.ThrowIfNegative(nextIndex);
        using var connection = factory.OpenWriter(StateDatabase.Enclave, pooled: true);
        factory.Dialect.NonQuery(
            connection,
            null,
            """
            INSERT INTO detection_cursors (consumer, next_index, updated) VALUES ($c, $n, $u)
            ON CONFLICT (consumer) DO UPDATE SET next_index = excluded.next_index, updated = excluded.updated
            """,
            ("$c", consumer),
            ("$n", nextIndex),
            ("$u", SqlDialect.FormatTime(now)));
    }

    /// <inheritdoc/>
    public void PutRuleSet(DetectionRuleSetRow set, IReadOnlyList<DetectionRuleFileRow> files)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(files);
        var dialect = factory.Dialect;
        using var connection = factory.OpenWriter(StateDatabase.Enclave, pooled: true);
        using var transaction = connection.BeginTransaction();
        if (dialect.Scalar(connection, transaction, "SELECT import_id FROM detection_rule_sets WHERE name = $n", ("$n", set.Name)) is string old)
        {
            dialect.NonQuery(connection, transaction, "DELETE FROM detection_rule_files WHERE import_id = $i", ("$i", old));
            dialect.NonQuery(connection, transaction, "DELETE FROM detection_rule_sets WHERE name = $n", ("$n", set.Name));
        }

        dialect.NonQuery(
            connection,
            transaction,
            "INSERT INTO detection_rule_sets (name, import_id, version, loaded, rules, skipped) VALUES ($n, $i, $v, $l, $r, $s)",
            ("$n", set.Name),
            ("$i", set.ImportId),
            ("$v", set.Version),
            ("$l", SqlDialect.FormatTime(set.Loaded)),
            ("$r", set.Rules),
            ("$s", set.Skipped));
        foreach (var file in files)
        {
            if (!string.Equals(file.ImportId, set.ImportId, StringComparison.Ordinal))
            {
                throw new ArgumentException($"rule file {file.Path} belongs to import {file.ImportId}, not {set.ImportId}", nameof(files));
            }

            dialect.NonQuery(
                connection,
                transaction,
                "INSERT INTO detection_rule_files (import_id, path, sha256, content) VALUES ($i, $p, $h, $c)",
                ("$i", file.ImportId),
                ("$p", file.Path),
                ("$h", file.Sha256),
                ("$c", file.Content));
        }

        transaction.Commit();
    }

    /// <inheritdoc/>
    public bool HasRuleSet(string importId)
    {
        ArgumentNullException.ThrowIfNull(importId);
        using var connection = factory.OpenWriter(StateDatabase.Enclave, pooled: true);
        return factory.Dialect.Scalar(connection, null, "SELECT 1 FROM detection_rule_sets WHERE import_id = $i", ("$i", importId)) is not null;
    }

    /// <inheritdoc/>
    public IReadOnlyList<DetectionRuleSetRow> RuleSets()
    {
        using var connection = factory.OpenWriter(StateDatabase.Enclave, pooled: true);
        using var command = factory.Dialect.Command(connection, null, "SELECT name, import_id, version, loaded, rules, skipped FROM detection_rule_sets ORDER BY name");
        using var reader = command.ExecuteReader();
        var sets = new List<DetectionRuleSetRow>();
        while (reader.Read())
        {
            sets.Add(new DetectionRuleSetRow(reader.GetString(0), reader.GetString(1), reader.GetString(2), SqlDialect.ParseTime(reader.GetString(3)), reader.GetInt32(4), reader.GetInt32(5)));
        }

        return sets;
    }

    /// <inheritdoc/>
    public IReadOnlyList<DetectionRuleFileRow> RuleFiles(string importId)
    {
        ArgumentNullException.ThrowIfNull(importId);
        using var connection = factory.OpenWriter(StateDatabase.Enclave, pooled: true);
        using var command = factory.Dialect.Command(connection, null, "SELECT import_id, path, sha256, content FROM detection_rule_files WHERE import_id = $i ORDER BY path", ("$i", importId));
        using var reader = command.ExecuteReader();
        var files = new List<DetectionRuleFileRow>();
        while (reader.Read())
        {
            files.Add(new DetectionRuleFileRow(reader.GetString(0), reader.GetString(1), reader.GetString(2), (byte[])reader.GetValue(3)));
        }

        return files;
    }
}
