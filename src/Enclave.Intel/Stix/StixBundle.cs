using System.Text.Json;

namespace Enclave.Intel.Stix;

/// <summary>A STIX 2.1 bundle as read: indicators, observations and context; newer <c>modified</c> versions replace older ones.</summary>
public sealed record StixBundle
{
    public required string Id { get; init; }
    public required IReadOnlyList<StixIndicator> Indicators { get; init; }
    public required IReadOnlyList<StixObservedData> ObservedData { get; init; }

    /// <summary>Every other SDO/SRO (malware, attack-pattern, relationship, sighting, unknown types), kept for context.</summary>
    public required IReadOnlyList<StixObject> Context { get; init; }

    /// <summary>Top-level cyber-observable objects (STIX 2.1 SCOs), by id.</summary>
    public required IReadOnlyDictionary<string, JsonElement> Observables { get; init; }

    /// <summary>Objects that could not be used, each with why.</summary>
    public required IReadOnlyList<StixSkippedObject> Skipped { get; init; }

    /// <summary>Versions replaced by a newer <c>modified</c> of the same id.</summary>
    public int SupersededVersions { get; init; }
}
