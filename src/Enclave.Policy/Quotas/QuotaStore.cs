using Enclave.State;
using Enclave.State.Quotas;

namespace Enclave.Policy.Quotas;

/// <summary>
/// Durable day and month usage counters per principal in the data directory's database (<c>quota_usage</c>). The
/// request path never touches it: <see cref="QuotaService"/> counts in memory and adds the increments here in one
/// transaction per flush, so a flush that fails leaves the table as it was and is retried with the same increments.
/// </summary>
public sealed class QuotaStore
{
    private readonly IQuotaStore _store;

    /// <summary>Opens the counters of <paramref name="dataDirectory"/> (migrating its database when needed).</summary>
    public QuotaStore(string dataDirectory)
        : this(new SqliteQuotaStore(EnclaveState.Open(dataDirectory, TimeProvider.System)))
    {
    }

    /// <summary>Counters kept in <paramref name="store"/>.</summary>
    public QuotaStore(IQuotaStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
    }

    /// <summary>The counters of the given periods (e.g. today's <c>d:2026-03-01</c> and this month's <c>m:2026-03</c>).</summary>
    public IReadOnlyList<QuotaUsage> Load(IReadOnlyCollection<string> periods) =>
        [.. _store.Load(periods).Select(c => new QuotaUsage(c.Principal, c.Period, c.Requests, c.Tokens))];

    /// <summary>Adds the increments, all or none.</summary>
    public void Add(IReadOnlyCollection<QuotaUsage> increments)
    {
        ArgumentNullException.ThrowIfNull(increments);
        _store.Add([.. increments.Select(i => new QuotaCounter(i.Principal, i.Period, i.Requests, i.Tokens))]);
    }
}

/// <summary>A principal's usage (or an increment of it) in one period.</summary>
/// <param name="Principal">The principal ID.</param>
/// <param name="Period"><c>d:yyyy-MM-dd</c> or <c>m:yyyy-MM</c> (UTC).</param>
/// <param name="Requests">Requests admitted.</param>
/// <param name="Tokens">Tokens charged.</param>
public sealed record QuotaUsage(string Principal, string Period, long Requests, long Tokens);
