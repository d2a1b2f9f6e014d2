namespace Enclave.State.Alerts;

/// <summary>
/// Alerts and their current lifecycle state (<c>alerts</c> in <c>enclave.db</c>). The ledger holds each alert's history;
/// a row names the ledger indices of the entries that raised it and last changed it.
/// </summary>
public interface IAlertStore
{
    /// <summary>
    /// Adds an alert. Returns false, adding nothing, when an alert with the same <see cref="AlertRow.DedupKey"/> exists.
    /// </summary>
    bool Add(AlertRow alert);

    /// <summary>The alert with this ID, or null.</summary>
    AlertRow? Find(string id);

    /// <summary>The alert raised with this deduplication key, or null.</summary>
    AlertRow? FindByDedupKey(string dedupKey);

    /// <summary>Alerts matching <paramref name="query"/>, newest first.</summary>
    IReadOnlyList<AlertRow> List(AlertQuery query);

    /// <summary>
    /// Moves an alert from <paramref name="expectedState"/> to the state in <paramref name="change"/>; false, changing
    /// nothing, when the alert is missing or no longer in <paramref name="expectedState"/>.
    /// </summary>
    bool ChangeState(string id, string expectedState, AlertStateChange change);

    /// <summary>How many alerts are in each state, per kind and severity.</summary>
    IReadOnlyList<AlertCount> Count();
}

/// <summary>One alert as stored. <see cref="Evidence"/> is the JSON the service wrote; the store does not read it.</summary>
public sealed record AlertRow
{
    public required string Id { get; init; }
    public required string Kind { get; init; }
    public required string Severity { get; init; }
    public required string Title { get; init; }
    public required string Subject { get; init; }
    public required string Evidence { get; init; }
    public string? DedupKey { get; init; }
    public required string State { get; init; }
    public required DateTimeOffset Raised { get; init; }
    public required string RaisedBy { get; init; }
    public required long RaisedIndex { get; init; }
    public DateTimeOffset? Updated { get; init; }
    public string? UpdatedBy { get; init; }
    public long? UpdatedIndex { get; init; }
    public string? Reason { get; init; }
}

/// <summary>A lifecycle change: the new state, when, by whom, its ledger entry and the reason given.</summary>
public sealed record AlertStateChange(string State, DateTimeOffset Time, string Actor, long LedgerIndex, string? Reason);

/// <summary>Filters for <see cref="IAlertStore.List"/>; a null filter matches everything.</summary>
public sealed record AlertQuery
{
    /// <summary>Only alerts in one of these states.</summary>
    public IReadOnlyList<string>? States { get; init; }

    /// <summary>Only alerts of this kind.</summary>
    public string? Kind { get; init; }

    /// <summary>Only alerts with one of these severities.</summary>
    public IReadOnlyList<string>? Severities { get; init; }

    /// <summary>Only alerts raised at or after this time.</summary>
    public DateTimeOffset? Since { get; init; }

    /// <summary>At most this many (newest first).</summary>
    public int Limit { get; init; } = 100;
}

/// <summary>How many alerts of a kind and severity are in a state.</summary>
public sealed record AlertCount(string Kind, string Severity, string State, long Count);
