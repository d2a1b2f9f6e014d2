namespace Enclave.Intel.Vulnerabilities.Findings;

/// <summary>
/// How fresh the enclave's vulnerability data is: the time of its newest data (the newest OSV <c>modified</c> of any
/// loaded bundle, or when a bundle without OSV records was loaded), its age, and whether that is beyond
/// <see cref="VulnerabilityOptions.MaxDataAge"/>. Without any data, <see cref="HasData"/> is false: "no data", never "0 findings".
/// </summary>
public sealed record DataFreshness
{
    public required bool HasData { get; init; }

    public DateTimeOffset? Newest { get; init; }

    public TimeSpan? Age { get; init; }

    public required TimeSpan MaxAge { get; init; }

    public bool Stale => Age is { } age && age > MaxAge;

    /// <summary>What a person reads: "no data …", "stale …" or the age.</summary>
    public string Describe() => !HasData
        ? "no vulnerability data: nothing can be said about the inventory (this is not \"0 findings\"); import an intel bundle of OSV and KEV data through the airlock"
        : Stale
            ? $"vulnerability data is stale: the newest is {Math.Floor(Age!.Value.TotalDays)} days old (limit {MaxAge.TotalDays} days); findings may be missing, import a newer intel bundle"
            : $"vulnerability data is {Math.Floor(Age!.Value.TotalDays)} days old";
}
