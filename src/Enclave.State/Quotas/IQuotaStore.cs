namespace Enclave.State.Quotas;

/// <summary>Durable request and token counters per principal and period (<c>d:yyyy-MM-dd</c>, <c>m:yyyy-MM</c>).</summary>
public interface IQuotaStore
{
    /// <summary>The counters of the given periods.</summary>
    IReadOnlyList<QuotaCounter> Load(IReadOnlyCollection<string> periods);

    /// <summary>Adds the increments to the counters, all or none (one transaction).</summary>
    void Add(IReadOnlyCollection<QuotaCounter> increments);
}

/// <summary>A principal's counters (or an increment of them) in one period.</summary>
public sealed record QuotaCounter(string Principal, string Period, long Requests, long Tokens);
