namespace Enclave.State.Intel;

/// <summary>The <c>intel_*</c> tables of <c>enclave.db</c>.</summary>
public sealed class SqliteIndicatorStore(StateConnectionFactory factory) : IIndicatorStore
{
    /// <inheritdoc/>
    public IndicatorApplyResult Apply(IndicatorSourceRow source, IReadOnlyList<IndicatorRow> indicators)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(indicators);
        var dialect = factory.Dialect;
        using var connection = factory.OpenWriter(StateDatabase.Enclave, pooled: true);
        using var transaction = connection.BeginTransaction();
        int added = 0, replaced = 0, kept = 0;
        foreach (var row in indicators)
        {
            var stored = dialect.Scalar(connection, transaction, "SELECT modified FROM intel_indicators WHERE id = $id", ("$id", row.Id)) as string;
            var modified = SqlDialect.FormatTime(row.Modified);
            if (stored is not null && string.CompareOrdinal(stored, modified) >= 0)
            {
                kept++;
                continue;
            }

            dialect.NonQuery(
                connection,
                transaction,
                """
                INSERT INTO intel_indicators (id, modified, import_id, source, name, pattern, pattern_type, valid_from, valid_until, revoked, confidence, created, status, reason)
                VALUES ($id, $m, $imp, $src, $n, $p, $pt, $vf, $vu, $r, $c, $cr, $s, $why)
                ON CONFLICT (id) DO UPDATE SET modified = excluded.modified, import_id = excluded.import_id, source = excluded.source,
                    name = excluded.name, pattern = excluded.pattern, pattern_type = excluded.pattern_type, valid_from = excluded.valid_from,
                    valid_until = excluded.valid_until, revoked = excluded.revoked, confidence = excluded.confidence, created = excluded.created,
                    status = excluded.status, reason = excluded.reason
                """,
                ("$id", row.Id),
                ("$m", modified),
                ("$imp", row.ImportId),
                ("$src", row.Source),
                ("$n", row.Name),
                ("$p", row.Pattern),
                ("$pt", row.PatternType),
                ("$vf", SqlDialect.FormatTime(row.ValidFrom)),
                ("$vu", row.ValidUntil is { } until ? SqlDialect.FormatTime(until) : null),
                ("$r", row.Revoked ? 1 : 0),
                ("$c", row.Confidence),
                ("$cr", SqlDialect.FormatTime(row.Created)),
                ("$s", row.Status),
                ("$why", row.Reason));
            if (stored is null)
            {
                added++;
            }
            else
            {
                replaced++;
            }
        }

        dialect.NonQuery(
            connection,
            transaction,
            """
            INSERT INTO intel_sources (import_id, name, version, loaded, arrived_index, indicators, not_evaluable, skipped)
            VALUES ($imp, $n, $v, $l, $a, $i, $ne, $s)
            """,
            ("$imp", source.ImportId),
            ("$n", source.Name),
            ("$v", source.Version),
            ("$l", SqlDialect.FormatTime(source.Loaded)),
            ("$a", source.ArrivedIndex),
            ("$i", source.Indicators),
            ("$ne", source.NotEvaluable),
            ("$s", source.Skipped));
        transaction.Commit();
        return new IndicatorApplyResult(added, replaced, kept);
    }

    /// <inheritdoc/>
    public bool HasSource(string importId)
    {
        ArgumentNullException.ThrowIfNull(importId);
        using var connection = factory.OpenWriter(StateDatabase.Enclave, pooled: true);
        return factory.Dialect.Scalar(connection, null, "SELECT 1 FROM intel_sources WHERE import_id = $id", ("$id", importId)) is not null;
    }

    /// <inheritdoc/>
    public IReadOnlyList<IndicatorSourceRow> Sources()
    {
        using var connection = factory.OpenWriter(StateDatabase.Enclave, pooled: true);
        using var command = factory.Dialect.Command(connection, null, "SELECT import_id, name, version, loaded, arrived_index, indicators, not_evaluable, skipped FROM intel_sources ORDER BY loaded DESC, import_id");
        using var reader = command.ExecuteReader();
        var rows = new List<IndicatorSourceRow>();
        while (reader.Read())
        {
            rows.Add(new IndicatorSourceRow(
                reader.GetString(0),
                reader.GetString(1),
                reader.GetString(2),
                SqlDialect.ParseTime(reader.GetString(3)),
                reader.GetInt64(4),
                reader.GetInt32(5),
                reader.GetInt32(6),
                reader.GetInt32(7)));
        }

        return rows;
    }

    /// <inheritdoc/>
    public IReadOnlyList<IndicatorRow> Indicators()
    {
        using var connection = factory.OpenWriter(StateDatabase.Enclave, pooled: true);
        using var command = factory.Dialect.Command(
            connection,
            null,
            "SELECT id, modified, import_id, source, name, pattern, pattern_type, valid_from, valid_until, revoked, confidence, created, status, reason FROM intel_indicators ORDER BY id");
        using var reader = command.ExecuteReader();
        var rows = new List<IndicatorRow>();
        while (reader.Read())
        {
            rows.Add(new IndicatorRow
            {
                Id = reader.GetString(0),
                Modified = SqlDialect.ParseTime(reader.GetString(1)),
                ImportId = reader.GetString(2),
                Source = reader.GetString(3),
                Name = reader.IsDBNull(4) ? null : reader.GetString(4),
                Pattern = reader.GetString(5),
                PatternType = reader.GetString(6),
                ValidFrom = SqlDialect.ParseTime(reader.GetString(7)),
                ValidUntil = reader.IsDBNull(8) ? null : SqlDialect.ParseTime(reader.GetString(8)),
                Revoked = reader.GetInt64(9) != 0,
                Confidence = reader.IsDBNull(10) ? null : reader.GetInt32(10),
                Created = SqlDialect.ParseTime(reader.GetString(11)),
                Status = reader.GetString(12),
                Reason = reader.IsDBNull(13) ? null : reader.GetString(13),
            });
        }

        return rows;
    }
}
