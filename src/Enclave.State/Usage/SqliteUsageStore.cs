namespace Enclave.State.Usage;

/// <summary>The <c>usage_*</c> tables of <c>enclave.db</c>.</summary>
public sealed class SqliteUsageStore(StateConnectionFactory factory) : IUsageStore
{
    /// <inheritdoc/>
    public long? ReadCursor()
    {
        using var connection = factory.OpenWriter(StateDatabase.Enclave, pooled: true);
        return factory.Dialect.Scalar(connection, null, "SELECT next_index FROM usage_cursor WHERE id = 1") is long next ? next : null;
    }

    /// <inheritdoc/>
    public void Apply(IReadOnlyCollection<UsageBucket> deltas, long nextIndex, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(deltas);
        ArgumentOutOfRangeException.ThrowIfNegative(nextIndex);
        var dialect = factory.Dialect;
        using var connection = factory.OpenWriter(StateDatabase.Enclave, pooled: true);
        using var transaction = connection.BeginTransaction();
        foreach (var d in deltas)
        {
            // An upsert that adds; the maximum latency is kept with CASE (portable, unlike max(a, b) or GREATEST).
            dialect.NonQuery(
                connection,
                transaction,
                """
                INSERT INTO usage_buckets (span, start, principal, model, backend, requests, denials, errors, prompt_tokens,
                    completion_tokens, latency_ms_sum, latency_ms_max)
                VALUES ($s, $t, $p, $m, $b, $r, $d, $e, $pt, $ct, $ls, $lm)
                ON CONFLICT (span, start, principal, model, backend) DO UPDATE SET
                    requests = usage_buckets.requests + excluded.requests,
                    denials = usage_buckets.denials + excluded.denials,
                    errors = usage_buckets.errors + excluded.errors,
                    prompt_tokens = usage_buckets.prompt_tokens + excluded.prompt_tokens,
                    completion_tokens = usage_buckets.completion_tokens + excluded.completion_tokens,
                    latency_ms_sum = usage_buckets.latency_ms_sum + excluded.latency_ms_sum,
                    latency_ms_max = CASE WHEN excluded.latency_ms_max > usage_buckets.latency_ms_max THEN excluded.latency_ms_max ELSE usage_buckets.latency_ms_max END
                """,
                ("$s", SpanName(d.Span)),
                ("$t", d.Start.ToUnixTimeSeconds()),
                ("$p", d.Principal),
                ("$m", d.Model),
                ("$b", d.Backend),
                ("$r", d.Requests),
                ("$d", d.Denials),
                ("$e", d.Errors),
                ("$pt", d.PromptTokens),
                ("$ct", d.CompletionTokens),
                ("$ls", d.LatencyMsSum),
                ("$lm", d.LatencyMsMax));
        }

        dialect.NonQuery(
            connection,
            transaction,
            """
            INSERT INTO usage_cursor (id, next_index, updated) VALUES (1, $n, $u)
            ON CONFLICT (id) DO UPDATE SET next_index = excluded.next_index, updated = excluded.updated
            """,
            ("$n", nextIndex),
            ("$u", SqlDialect.FormatTime(now)));
        transaction.Commit();
    }

    /// <inheritdoc/>
    public IReadOnlyList<UsageBucket> Read(UsageSpan span, DateTimeOffset from)
    {
        using var connection = factory.OpenWriter(StateDatabase.Enclave, pooled: true);
        using var command = factory.Dialect.Command(
            connection,
            null,
            """
            SELECT start, principal, model, backend, requests, denials, errors, prompt_tokens, completion_tokens, latency_ms_sum, latency_ms_max
            FROM usage_buckets WHERE span = $s AND start >= $f ORDER BY start, principal, model, backend
            """,
            ("$s", SpanName(span)),
            ("$f", from.ToUnixTimeSeconds()));
        using var reader = command.ExecuteReader();
        var rows = new List<UsageBucket>();
        while (reader.Read())
        {
            rows.Add(new UsageBucket
            {
                Span = span,
                Start = DateTimeOffset.FromUnixTimeSeconds(reader.GetInt64(0)),
                Principal = reader.GetString(1),
                Model = reader.GetString(2),
                Backend = reader.GetString(3),
                Requests = reader.GetInt64(4),
                Denials = reader.GetInt64(5),
                Errors = reader.GetInt64(6),
                PromptTokens = reader.GetInt64(7),
                CompletionTokens = reader.GetInt64(8),
                LatencyMsSum = reader.GetDouble(9),
                LatencyMsMax = reader.GetDouble(10),
            });
        }

        return rows;
    }

    /// <inheritdoc/>
    public int Prune(UsageSpan span, DateTimeOffset before)
    {
        using var connection = factory.OpenWriter(StateDatabase.Enclave, pooled: true);
        return factory.Dialect.NonQuery(connection, null, "DELETE FROM usage_buckets WHERE span = $s AND start < $b", ("$s", SpanName(span)), ("$b", before.ToUnixTimeSeconds()));
    }

    private static string SpanName(UsageSpan span) => span switch
    {
        UsageSpan.Minute => "minute",
        UsageSpan.Hour => "hour",
        _ => "day",
    };
}
