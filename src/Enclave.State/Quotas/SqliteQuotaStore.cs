using System.Data;

namespace Enclave.State.Quotas;

/// <summary>The <c>quota_usage</c> table of <c>enclave.db</c>.</summary>
public sealed class SqliteQuotaStore(StateConnectionFactory factory) : IQuotaStore
{
    /// <inheritdoc/>
    public IReadOnlyList<QuotaCounter> Load(IReadOnlyCollection<string> periods)
    {
        ArgumentNullException.ThrowIfNull(periods);
        var result = new List<QuotaCounter>();
        using var connection = factory.OpenWriter(StateDatabase.Enclave, pooled: true);
        foreach (var period in periods)
        {
            using var command = factory.Dialect.Command(connection, null, "SELECT principal, requests, tokens FROM quota_usage WHERE period = $p", ("$p", period));
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                result.Add(new QuotaCounter(reader.GetString(0), period, reader.GetInt64(1), reader.GetInt64(2)));
            }
        }

        return result;
    }

    /// <inheritdoc/>
    public void Add(IReadOnlyCollection<QuotaCounter> increments)
    {
        ArgumentNullException.ThrowIfNull(increments);
        if (increments.Count == 0)
        {
            return;
        }

        using var connection = factory.OpenWriter(StateDatabase.Enclave, pooled: true);
        using var transaction = connection.BeginTransaction();
        using var command = factory.Dialect.CreateCommand(connection, transaction, """
            INSERT INTO quota_usage (principal, period, requests, tokens) VALUES ($u, $p, $r, $t)
            ON CONFLICT (principal, period) DO UPDATE SET requests = quota_usage.requests + excluded.requests, tokens = quota_usage.tokens + excluded.tokens
            """);
        var u = factory.Dialect.Parameter(command, "$u", DbType.String);
        var p = factory.Dialect.Parameter(command, "$p", DbType.String);
        var r = factory.Dialect.Parameter(command, "$r", DbType.Int64);
        var t = factory.Dialect.Parameter(command, "$t", DbType.Int64);
        // One order for every writer: replicas flushing at once lock the rows they share in the same order, so they
        // wait for each other instead of deadlocking.
        foreach (var increment in increments.OrderBy(i => i.Principal, StringComparer.Ordinal).ThenBy(i => i.Period, StringComparer.Ordinal))
        {
            u.Value = increment.Principal;
            p.Value = increment.Period;
            r.Value = increment.Requests;
            t.Value = increment.Tokens;
            command.ExecuteNonQuery();
        }

        transaction.Commit();
    }
}
