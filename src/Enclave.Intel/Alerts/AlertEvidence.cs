namespace Enclave.Intel.Alerts;

/// <summary>
/// Why an alert was raised: a sentence a person reads, the ledger entries that are its evidence (an import's
/// <c>import.verified</c>, the requests of a burst), and named facts (an indicator's ID, a digest, a feature's value
/// and baseline). Bounded: see <see cref="AlertService.MaxLedgerIndices"/> and <see cref="AlertService.MaxFacts"/>.
/// </summary>
public sealed record AlertEvidence
{
    /// <summary>What was seen, in one or two sentences.</summary>
    public required string Summary { get; init; }

    /// <summary>Indices of the ledger entries that show it (each must be an entry of the ledger), ascending.</summary>
    public IReadOnlyList<long> LedgerIndices { get; init; } = [];

    /// <summary>Named facts, e.g. <c>indicator</c> → <c>indicator--…</c>, <c>sha256</c> → a digest.</summary>
    public IReadOnlyDictionary<string, string> Facts { get; init; } = new Dictionary<string, string>();

    /// <summary>Equal when the summary, the indices (in order) and the facts are.</summary>
    public bool Equals(AlertEvidence? other) =>
        other is not null
        && string.Equals(Summary, other.Summary, StringComparison.Ordinal)
        && (LedgerIndices ?? []).SequenceEqual(other.LedgerIndices ?? [])
        && (Facts ?? new Dictionary<string, string>()).Count == (other.Facts ?? new Dictionary<string, string>()).Count
        && (Facts ?? new Dictionary<string, string>()).All(f => other.Facts!.TryGetValue(f.Key, out var v) && string.Equals(v, f.Value, StringComparison.Ordinal));

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Summary, LedgerIndices?.Count ?? 0, Facts?.Count ?? 0);
}
