namespace Enclave.Intel.Vulnerabilities.Osv;

/// <summary>One OSV advisory (schema 1.x), reduced to what matching needs.</summary>
public sealed record OsvRecord
{
    public required string Id { get; init; }

    /// <summary>When the record last changed; a newer copy of the same id replaces an older one.</summary>
    public required DateTimeOffset Modified { get; init; }

    /// <summary>Set when the advisory was withdrawn: it must never raise a finding.</summary>
    public DateTimeOffset? Withdrawn { get; init; }

    public IReadOnlyList<string> Aliases { get; init; } = [];

    public IReadOnlyList<string> Related { get; init; } = [];

    public string? Summary { get; init; }

    public IReadOnlyList<OsvAffected> Affected { get; init; } = [];

    public IReadOnlyList<OsvSeverity> Severity { get; init; } = [];
}

/// <summary>One <c>affected[]</c> entry: a package and the versions of it the advisory affects.</summary>
public sealed record OsvAffected
{
    /// <summary>The OSV ecosystem (<c>npm</c>, <c>Debian:9</c>); null for entries that name no package (GIT-only).</summary>
    public string? Ecosystem { get; init; }

    public string? Name { get; init; }

    public string? Purl { get; init; }

    public IReadOnlyList<OsvRange> Ranges { get; init; } = [];

    /// <summary>Enumerated affected versions (exact strings).</summary>
    public IReadOnlyList<string> Versions { get; init; } = [];

    /// <summary>Severity given for this package only (overrides the record's).</summary>
    public IReadOnlyList<OsvSeverity> Severity { get; init; } = [];
}

/// <summary>The kind of an OSV range.</summary>
public enum OsvRangeType
{
    /// <summary>SemVer 2.0 versions, whatever the ecosystem.</summary>
    Semver,

    /// <summary>Versions ordered by the package's ecosystem.</summary>
    Ecosystem,

    /// <summary>Commit hashes: cannot be compared with a package version.</summary>
    Git,

    /// <summary>A type this schema version does not define.</summary>
    Other,
}

/// <summary>One <c>ranges[]</c> entry.</summary>
public sealed record OsvRange
{
    public required OsvRangeType Type { get; init; }

    /// <summary>The type as written (for messages about <see cref="OsvRangeType.Other"/>).</summary>
    public required string TypeName { get; init; }

    public required IReadOnlyList<OsvEvent> Events { get; init; }
}

/// <summary>The kind of a range event.</summary>
public enum OsvEventKind
{
    Introduced,
    Fixed,
    LastAffected,
    Limit,
}

/// <summary>One range event: <c>{"introduced": "1.0"}</c>.</summary>
public readonly record struct OsvEvent(OsvEventKind Kind, string Version);

/// <summary>One <c>severity[]</c> entry: <c>CVSS_V3</c>, <c>CVSS_V4</c> (a vector) or another type.</summary>
public sealed record OsvSeverity(string Type, string Score);
