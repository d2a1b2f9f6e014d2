namespace Enclave.State.Intel;

/// <summary>
/// Threat-intelligence indicators brought in through the airlock (<c>intel_*</c> in <c>enclave.db</c>): each indicator
/// once by STIX id (the newest <c>modified</c> in force, revoked and expired ones kept so they stop matching), with
/// whether Enclave can evaluate it, and the bundles they came from.
/// </summary>
public interface IIndicatorStore
{
    /// <summary>
    /// Applies one bundle's indicators in one transaction, all or nothing: an indicator replaces the stored one only when
    /// its <c>modified</c> is newer. Returns what changed.
    /// </summary>
    IndicatorApplyResult Apply(IndicatorSourceRow source, IReadOnlyList<IndicatorRow> indicators);

    /// <summary>Whether the bundle of this import was applied.</summary>
    bool HasSource(string importId);

    /// <summary>The bundles applied, newest first.</summary>
    IReadOnlyList<IndicatorSourceRow> Sources();

    /// <summary>Every indicator in force (newest version of each id), by id.</summary>
    IReadOnlyList<IndicatorRow> Indicators();
}

/// <summary>One applied bundle: the import, when, the ledger size when it arrived, and its counts.</summary>
public sealed record IndicatorSourceRow(
    string ImportId, string Name, string Version, DateTimeOffset Loaded, long ArrivedIndex, int Indicators, int NotEvaluable, int Skipped);

/// <summary>One stored indicator (a STIX 2.1 indicator's fields) with Enclave's assessment.</summary>
public sealed record IndicatorRow
{
    public required string Id { get; init; }
    public required DateTimeOffset Modified { get; init; }
    public required string ImportId { get; init; }

    /// <summary>The file (or MISP event) inside the bundle it came from.</summary>
    public required string Source { get; init; }
    public string? Name { get; init; }
    public required string Pattern { get; init; }
    public required string PatternType { get; init; }
    public required DateTimeOffset ValidFrom { get; init; }
    public DateTimeOffset? ValidUntil { get; init; }
    public bool Revoked { get; init; }
    public int? Confidence { get; init; }
    public required DateTimeOffset Created { get; init; }

    /// <summary><c>evaluable</c>, <c>partial</c>, <c>observed-data-only</c> or <c>not-evaluable</c>.</summary>
    public required string Status { get; init; }

    /// <summary>Why it is not (fully) evaluable; null when it is.</summary>
    public string? Reason { get; init; }
}

/// <summary>What one apply changed: new ids, newer versions that replaced stored ones, and older or equal versions ignored.</summary>
public sealed record IndicatorApplyResult(int Added, int Replaced, int KeptNewer);
