namespace Enclave.Server.Audit;

/// <summary>How the request trail is written (configuration section <c>Audit</c>).</summary>
public sealed record AuditOptions
{
    /// <summary>The default: an answer's <c>request.completed</c> entry is durable before the answer's last byte leaves.</summary>
    public const string BeforeAnswer = "before-answer";

    /// <summary>
    /// The faster option: the answer leaves without waiting for its <c>request.completed</c> entry (queued, written by
    /// the ledger's next group commit). Risk: a crash or SIGKILL between the two loses the completion records of answers
    /// that were delivered (only their <c>request.admitted</c> entries remain); the trials lost up to ~30 per kill.
    /// </summary>
    public const string AfterAnswer = "after-answer";

    /// <summary>
    /// <see cref="BeforeAnswer"/> (default; a non-streamed answer is held until its completion entry is durable, a
    /// stream's <c>data: [DONE]</c> likewise; when the ledger cannot write it the client gets a 503, or an error event
    /// instead of <c>[DONE]</c>) or <see cref="AfterAnswer"/>.
    /// </summary>
    public string CompletionDurability { get; init; } = BeforeAnswer;

    /// <summary>True unless <see cref="CompletionDurability"/> is <see cref="AfterAnswer"/>.</summary>
    public bool CompletionBeforeAnswer => !string.Equals(CompletionDurability, AfterAnswer, StringComparison.Ordinal);

    /// <summary>Every problem with these options (empty when valid).</summary>
    public IReadOnlyList<string> Validate() =>
        CompletionDurability is BeforeAnswer or AfterAnswer
            ? []
            : [$"Audit:CompletionDurability must be '{BeforeAnswer}' (default) or '{AfterAnswer}', not '{CompletionDurability}'"];
}
