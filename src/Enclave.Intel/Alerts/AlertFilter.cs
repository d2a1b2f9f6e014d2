namespace Enclave.Intel.Alerts;

/// <summary>Which alerts <see cref="AlertService.List"/> returns; null members match everything.</summary>
public sealed record AlertFilter
{
    /// <summary>Most alerts one list returns.</summary>
    public const int MaxLimit = 1000;

    /// <summary>Only alerts in these states (null: all).</summary>
    public IReadOnlyList<AlertState>? States { get; init; }

    /// <summary>Only alerts of this kind.</summary>
    public AlertKind? Kind { get; init; }

    /// <summary>Only alerts at least this severe.</summary>
    public AlertSeverity? MinimumSeverity { get; init; }

    /// <summary>Only alerts raised at or after this time.</summary>
    public DateTimeOffset? Since { get; init; }

    /// <summary>At most this many, newest first (1 to <see cref="MaxLimit"/>).</summary>
    public int Limit { get; init; } = 100;
}
