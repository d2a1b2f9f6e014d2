using Microsoft.Data.Sqlite;

namespace Enclave.Server.Policy;

/// <summary>
/// Durable day and month usage counters per principal in the data directory's database (<c>quota_usage</c>). The
/// request path never touches it: <see cref="QuotaService"/> counts in memory and adds the increments here in one
/// transaction per flush, so a flush that fails leaves the table as it was and is retried with the same increments.
/// </summary>
public sealed class QuotaStore
{
    private readonly string _connectionString;

    public QuotaStore(string dataDirectory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDirectory);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(dataDirectory, "enclave.db"),
            Mode = SqliteOpenMode.ReadWriteCreate,
            DefaultTimeout = 30,
        }.ToString();
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            CREATE TABLE IF NOT EXISTS quota_usage (
                principal TEXT NOT NULL, period TEXT NOT NULL,
                requests INTEGER NOT NULL CHECK (requests >= 0), tokens INTEGER NOT NULL CHECK (tokens >= 0),
                PRIMARY KEY (principal, period)) WITHOUT ROWID;
            """;
        command.ExecuteNonQuery();
    }

    /// <summary>The counters of the given periods (e.g. today's <c>d:2026-03-01</c> and this month's <c>m:2026-03</c>).</summary>
    public IReadOnlyList<QuotaUsage> Load(IReadOnlyCollection<string> periods)
    {
        ArgumentNullException.ThrowIfNull(periods);
        var result = new List<QuotaUsage>();
        using var connection = Open();
        foreach (var period in periods)
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT principal, requests, tokens FROM quota_usage WHERE period = $p";
            command.Parameters.AddWithValue("$p", period);
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                result.Add(new QuotaUsage(reader.GetString(0), period, reader.GetInt64(1), reader.GetInt64(2)));
            }
        }

        return result;
    }

    /// <summary>Adds the increments, all or none.</summary>
    public void Add(IReadOnlyCollection<QuotaUsage> increments)
    {
        ArgumentNullException.ThrowIfNull(increments);
        if (increments.Count == 0)
        {
            return;
        }

        using var connection = Open();
        using var transaction = connection.BeginTransaction();
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO quota_usage (principal, period, requests, tokens) VALUES ($u, $p, $r, $t)
            ON CONFLICT (principal, period) DO UPDATE SET requests = requests + excluded.requests, tokens = tokens + excluded.tokens
            """;
        var u = command.Parameters.Add("$u", SqliteType.Text);
        var p = command.Parameters.Add("$p", SqliteType.Text);
        var r = command.Parameters.Add("$r", SqliteType.Integer);
        var t = command.Parameters.Add("$t", SqliteType.Integer);
        foreach (var increment in increments)
        {
            u.Value = increment.Principal;
            p.Value = increment.Period;
            r.Value = increment.Requests;
            t.Value = increment.Tokens;
            command.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection;
    }
}

/// <summary>A principal's usage (or an increment of it) in one period.</summary>
/// <param name="Principal">The principal ID.</param>
/// <param name="Period"><c>d:yyyy-MM-dd</c> or <c>m:yyyy-MM</c> (UTC).</param>
/// <param name="Requests">Requests admitted.</param>
/// <param name="Tokens">Tokens charged.</param>
public sealed record QuotaUsage(string Principal, string Period, long Requests, long Tokens);
