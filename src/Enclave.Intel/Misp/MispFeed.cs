using Enclave.Intel.Stix;

namespace Enclave.Intel.Misp;

/// <summary>A MISP feed as read: attributes with <c>to_ids</c> as STIX indicators, every other attribute listed with why not.</summary>
public sealed record MispFeed
{
    public required int Events { get; init; }
    public required IReadOnlyList<StixIndicator> Indicators { get; init; }
    public required IReadOnlyList<MispSkippedAttribute> Skipped { get; init; }

    /// <summary>Said when the folder had no <c>manifest.json</c> and every event file in it was read instead.</summary>
    public string? Note { get; init; }
}

/// <summary>An attribute that did not become an indicator, and why.</summary>
public sealed record MispSkippedAttribute(string EventUuid, string? AttributeUuid, string Type, string Reason);
