namespace Enclave.State.Changes;

/// <summary>The areas of state whose changes one replica announces to the others (<see cref="StateChanges"/>).</summary>
public static class StateTopics
{
    /// <summary>Principals and API keys: added, disabled, updated, created, revoked.</summary>
    public const string Principals = "principals";

    /// <summary>Airlock artifacts: one activated (a model to serve on every replica).</summary>
    public const string Artifacts = "artifacts";

    /// <summary>Airlock imports: one received (verified or rejected), approved or rejected (the operator console's live parts on every replica).</summary>
    public const string Imports = "imports";

    /// <summary>Alerts: one raised, acknowledged or resolved (the operator console's live Alerts page on every replica).</summary>
    public const string Alerts = "alerts";

    /// <summary>Every topic, each reloaded when the feed (re)connects.</summary>
    public static IReadOnlyList<string> All { get; } = [Principals, Artifacts, Imports, Alerts];
}
