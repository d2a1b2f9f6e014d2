namespace Enclave.Intel.Vulnerabilities.Matching;

/// <summary>The three answers matching can give: affected, not affected, or unknown (with the reason).</summary>
public enum AffectedState
{
    NotAffected,
    Affected,
    Unknown,
}

/// <summary>The outcome of one advisory entry against one version.</summary>
public sealed record AffectedEvaluation(AffectedState State, string? Reason, IReadOnlyList<string> FixedVersions)
{
    public static AffectedEvaluation NotAffected { get; } = new(AffectedState.NotAffected, null, []);

    public static AffectedEvaluation Unknown(string reason) => new(AffectedState.Unknown, reason, []);
}
