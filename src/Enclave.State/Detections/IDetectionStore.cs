namespace Enclave.State.Detections;

/// <summary>
/// The detections' state in <c>enclave.db</c>: where each consumer of the ledger's append feed resumes
/// (<c>detection_cursors</c>), and which Sigma rule sets are live (<c>detection_rule_sets</c>, one per artifact name,
/// with their files in <c>detection_rule_files</c>).
/// </summary>
public interface IDetectionStore
{
    /// <summary>The next ledger index <paramref name="consumer"/> will process, or null when it never ran.</summary>
    long? ReadCursor(string consumer);

    /// <summary>Records that <paramref name="consumer"/> processed every entry before <paramref name="nextIndex"/>.</summary>
    void WriteCursor(string consumer, long nextIndex, DateTimeOffset now);

    /// <summary>
    /// Makes <paramref name="set"/> the live rule set of its name (replacing the one of an older import of that name,
    /// files included), in one transaction.
    /// </summary>
    void PutRuleSet(DetectionRuleSetRow set, IReadOnlyList<DetectionRuleFileRow> files);

    /// <summary>Whether the rules of this import were loaded (live or replaced since: false).</summary>
    bool HasRuleSet(string importId);

    /// <summary>The live rule sets, by name.</summary>
    IReadOnlyList<DetectionRuleSetRow> RuleSets();

    /// <summary>The rule files of one live import, by path.</summary>
    IReadOnlyList<DetectionRuleFileRow> RuleFiles(string importId);
}

/// <summary>A live Sigma rule set: the intel artifact it came from and what loading it found.</summary>
public sealed record DetectionRuleSetRow(string Name, string ImportId, string Version, DateTimeOffset Loaded, int Rules, int Skipped);

/// <summary>One Sigma rule file of a live set, as it crossed the airlock.</summary>
public sealed record DetectionRuleFileRow(string ImportId, string Path, string Sha256, byte[] Content);
