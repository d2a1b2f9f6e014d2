using System.Text.Json;

namespace Enclave.Intel.Stix;

/// <summary>A STIX object kept for context (malware, attack-pattern, relationship, sighting, an unknown type...), newest version of its id.</summary>
public sealed record StixObject
{
    public required string Type { get; init; }
    public required string Id { get; init; }
    public string? Name { get; init; }
    public DateTimeOffset? Modified { get; init; }

    /// <summary>For relationships: <c>source_ref</c>, <c>relationship_type</c>, <c>target_ref</c>; for sightings: <c>sighting_of_ref</c>.</summary>
    public string? SourceRef { get; init; }
    public string? RelationshipType { get; init; }
    public string? TargetRef { get; init; }

    /// <summary>The object as it came (an independent copy).</summary>
    public required JsonElement Json { get; init; }
}
