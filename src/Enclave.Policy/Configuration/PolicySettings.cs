using Enclave.Policy.Egress;

namespace Enclave.Policy.Configuration;

/// <summary>
/// The <c>Policy</c> configuration section. Every property is optional; absent ones take the documented defaults.
/// Lists replace the defaults rather than adding to them.
/// </summary>
public sealed record PolicySettings
{
    /// <summary>The label scheme; default UNCLASSIFIED &lt; CUI &lt; SECRET &lt; TOP SECRET (see <see cref="Enclave.Policy.Labels.LabelScheme.Default"/>).</summary>
    public LabelSchemeSettings? Labels { get; init; }

    /// <summary>The label of a request with no <c>Enclave-Classification</c> header and no marking; default the lowest level.</summary>
    public string? DefaultRequestLabel { get; init; }

    /// <summary>
    /// Level name to the jurisdictions allowed to process data of that level. Absent: <c>local</c> (inside the
    /// enclave) at every level and nothing else. A level missing from a configured map allows no jurisdiction.
    /// </summary>
    public IReadOnlyDictionary<string, string[]>? Jurisdictions { get; init; }

    /// <summary>What the built-in engine is accredited for, in marking syntax; default the top of the lattice (it runs inside the enclave).</summary>
    public string? LocalAccreditation { get; init; }

    /// <summary>The egress guard for backends that leave the enclave.</summary>
    public EgressSettings? Egress { get; init; }
}

/// <summary>The <c>Policy:Labels</c> section: the ordered levels, compartments and releasability codes.</summary>
public sealed record LabelSchemeSettings
{
    /// <summary>Levels, lowest first, each with a banner name and a portion abbreviation.</summary>
    public IReadOnlyList<LevelSettings>? Levels { get; init; }

    /// <summary>Known compartments (at most 64).</summary>
    public IReadOnlyList<string>? Compartments { get; init; }

    /// <summary>Known REL TO codes (at most 64).</summary>
    public IReadOnlyList<string>? ReleasabilityCodes { get; init; }

    /// <summary>The code NOFORN stands for (one of <see cref="ReleasabilityCodes"/>).</summary>
    public string? Owner { get; init; }
}

/// <summary>One level of the scheme.</summary>
public sealed record LevelSettings
{
    /// <summary>Banner name, e.g. <c>TOP SECRET</c>.</summary>
    public string Name { get; init; } = "";

    /// <summary>Portion abbreviation, e.g. <c>TS</c>.</summary>
    public string Abbreviation { get; init; } = "";
}

/// <summary>The <c>Policy:Egress</c> section.</summary>
public sealed record EgressSettings
{
    /// <summary>The action for routes with no entry in <see cref="Routes"/>; default <see cref="EgressAction.Block"/>.</summary>
    public EgressAction? Action { get; init; }

    /// <summary>Per backend that leaves the enclave (by name): <c>Block</c> or <c>Redact</c>.</summary>
    public IReadOnlyDictionary<string, EgressAction>? Routes { get; init; }

    /// <summary>PII detectors (rule IDs starting with <c>pii.</c>); absent: email, North American phone, US SSN.</summary>
    public IReadOnlyList<PiiDetectorSettings>? PiiDetectors { get; init; }

    /// <summary>The highest label whose markings may leave; default the lowest level.</summary>
    public string? MaxEgressLabel { get; init; }
}

/// <summary>One configured PII pattern.</summary>
public sealed record PiiDetectorSettings
{
    /// <summary>Rule ID, e.g. <c>pii.uk-nino</c>.</summary>
    public string RuleId { get; init; } = "";

    /// <summary>A .NET regular expression.</summary>
    public string Pattern { get; init; } = "";
}
