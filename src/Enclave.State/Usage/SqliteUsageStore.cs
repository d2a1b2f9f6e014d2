namespace Enclave.State.Usage;

/// <summary>The <c>usage_*</c> tables of <c>enclave.db</c>.</summary>
public sealed class SqliteUsageStore(StateConnectionFactory factory) : IUsageStore
{
    // The histogram's columns, in bucket order: in the upsert (each added) and the read.
    private static readonly string HistogramColumns = string.Join(", ", Enumerable.Range(0, LatencyHistogram.Count).Select(LatencyHistogram.Column));
    private static readonly string[] HistogramParameters = [.. Enumerable.Range(0, LatencyHistogram.Count).Select(i => "$h" + i.ToString(System.Globalization.CultureInfo.InvariantCulture))];
    private static readonly string HistogramValues = string.Join(", ", HistogramParameters);
    private static readonly string HistogramSums = string.Concat(Enumerable.Range(0, LatencyHistogram.Count).Select(i =>
        $",\n    {LatencyHistogram.Column(i)} = usage_buckets.{LatencyHistogram.Column(i)} + excluded.{LatencyHistogram.Column(i)}"));

    // An upsert that adds; the maximum latency is kept with CASE (portable, unlike max(a, b) or GREATEST).
    private static readonly string Upsert = $"""
        INSERT INTO usage_buckets (span, start, principal, model, backend, requests, denials, errors, prompt_tokens,
            completion_tokens, latency_ms_sum, latency_ms_max, {HistogramColumns})
        VALUES ($s, $t, $p, $m, $b, $r, $d, $e, $pt, $ct, $ls, $lm, {HistogramValues})
        ON CONFLICT (span, start, principal, model, backend) DO UPDATE SET
            requests = usage_buckets.requests + excluded.requests,
            denials = usage_buckets.denials + excluded.denials,
            errors = usage_buckets.errors + excluded.errors,
            prompt_tokens = usage_buckets.prompt_tokens + excluded.prompt_tokens,
            completion_tokens = usage_buckets.completion_tokens + excluded.completion_tokens,
            latency_ms_sum = usage_buckets.latency_ms_sum + excluded.latency_ms_sum,
            latency_ms_max = CASE WHEN excluded.latency_ms_max > usage_buckets.latency_ms_max THEN excluded.latency_ms_max ELSE usage_buckets.latency_ms_max END{HistogramSums}
        """;

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
        var parameters = new (string, object?)[12 + LatencyHistogram.Count];
        foreach (var d in deltas)
        {
            if (d.LatencyCounts.Count is not 0 and not LatencyHistogram.Count)
            {
                throw new ArgumentException($"a latency histogram has {LatencyHistogram.Count} counts, not {d.LatencyCounts.Count}", nameof(deltas));
            }

            parameters[0] = ("$s", SpanName(d.Span));
            parameters[1] = ("$t", d.Start.ToUnixTimeSeconds());
            parameters[2] = ("$p", d.Principal);
            parameters[3] = ("$m", d.Model);
            parameters[4] = ("$b", d.Backend);
            parameters[5] = ("$r", d.Requests);
            parameters[6] = ("$d", d.Denials);
            parameters[7] = ("$e", d.Errors);
            parameters[8] = ("$pt", d.PromptTokens);
            parameters[9] = ("$ct", d.CompletionTokens);
            parameters[10] = ("$ls", d.LatencyMsSum);
            parameters[11] = ("$lm", d.LatencyMsMax);
            for (var i = 0; i < LatencyHistogram.Count; i++)
            {
                parameters[12 + i] = (HistogramParameters[i], d.LatencyCounts.Count == 0 ? 0L : d.LatencyCounts[i]);
            }

            dialect.NonQuery(connection, transaction, Upsert, parameters);
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
            $"""
            SELECT start, principal, model, backend, requests, denials, errors, prompt_tokens, completion_tokens, latency_ms_sum, latency_ms_max,
                {HistogramColumns}
            FROM usage_buckets WHERE span = $s AND start >= $f ORDER BY start, principal, model, backend
            """,
            ("$s", SpanName(span)),
            ("$f", from.ToUnixTimeSeconds()));
        using var reader = command.ExecuteReader();
        var rows = new List<UsageBucket>();
        while (reader.Read())
        {
            long[]? counts = null;
            for (var i = 0; i < LatencyHistogram.Count; i++)
            {
                if (reader.GetInt64(11 + i) is var count and not 0)
                {
                    (counts ??= new long[LatencyHistogram.Count])[i] = count;
                }
            }

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
                LatencyCounts = counts ?? [],
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
