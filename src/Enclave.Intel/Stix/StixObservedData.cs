using System.Text.Json;

namespace Enclave.Intel.Stix;

/// <summary>
/// One observation: an <c>observed-data</c> object with the cyber-observable objects it holds (STIX 2.0-style
/// <c>objects</c> map, keys as given) or refers to (STIX 2.1 <c>object_refs</c>, keys = ids). References between the
/// objects (<c>from_ref</c>, <c>resolves_to_refs</c>) are resolved through <see cref="Objects"/>.
/// </summary>
public sealed record StixObservedData
{
    public required string Id { get; init; }
    public required DateTimeOffset FirstObserved { get; init; }
    public required DateTimeOffset LastObserved { get; init; }
    public int NumberObserved { get; init; } = 1;

    /// <summary>Key (the reference a <c>_ref</c> property holds) to cyber-observable object.</summary>
    public required IReadOnlyDictionary<string, JsonElement> Objects { get; init; }
}
