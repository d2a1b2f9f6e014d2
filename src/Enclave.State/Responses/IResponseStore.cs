namespace Enclave.State.Responses;

/// <summary>
/// Stored Responses API responses (<c>responses</c> in <c>enclave.db</c>, migrations 10 and 12): each response a client created
/// with <c>store</c> on, with its owner, the classification label it was admitted under and the conversation it closes,
/// so that <c>GET</c>, <c>DELETE</c> and <c>previous_response_id</c> are answered by any replica on the same state.
/// </summary>
public interface IResponseStore
{
    /// <summary>Stores a new response; an id already stored is refused with <see cref="ArgumentException"/> and changes nothing.</summary>
    void Put(StoredResponse response);

    /// <summary>The response stored under <paramref name="id"/>, or null when there is none (never stored, or deleted).</summary>
    StoredResponse? Get(string id);

    /// <summary>Deletes the response stored under <paramref name="id"/>; true when there was one.</summary>
    bool Delete(string id);

    /// <summary>
    /// Moves a background response that is still queued or in progress to <paramref name="status"/> with its response
    /// object (and, when not null, the conversation it now closes), in one conditional update: true when it was still
    /// running; false when it had already ended (completed, cancelled by any replica, failed) or is gone, and then
    /// nothing changes.
    /// </summary>
    bool Transition(string id, string status, string response, string? conversation = null);

    /// <summary>Deletes every response created before <paramref name="cutoff"/> (the retention purge); the number deleted.</summary>
    int DeleteCreatedBefore(DateTimeOffset cutoff);
}

/// <summary>
/// One stored response: who created it (<see cref="Owner"/>, the principal), the label its request was admitted under
/// (the marking, as the policy writes it), the request id and the ledger index of its <c>request.admitted</c> entry, the
/// response it answered after (<see cref="PreviousId"/>), the whole conversation up to and including its output as
/// chat messages (JSON array, what a chained request continues) and the response object as the API returned it (JSON).
/// </summary>
public sealed record StoredResponse
{
    public required string Id { get; init; }

    public required string Owner { get; init; }

    public required string Label { get; init; }

    public required string Model { get; init; }

    public required DateTimeOffset Created { get; init; }

    public string? PreviousId { get; init; }

    public required string RequestId { get; init; }

    public required long AdmittedIndex { get; init; }

    public required string Conversation { get; init; }

    public required string Response { get; init; }

    /// <summary>
    /// <c>completed</c>, <c>incomplete</c> or <c>failed</c> once done; a background response is <c>queued</c> or
    /// <c>in_progress</c> until it ends, or <c>cancelled</c>.
    /// </summary>
    public string Status { get; init; } = "completed";

    /// <summary>The request's input items in the Responses form, each with its id (JSON array).</summary>
    public string InputItems { get; init; } = "[]";
}
