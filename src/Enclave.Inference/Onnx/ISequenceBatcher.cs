namespace Enclave.Inference.Onnx;

/// <summary>
/// Continuous batching of one model's sequences, whatever runs them (<see cref="ContinuousBatcher"/> for ONNX models,
/// <c>Gguf.GgufBatcher</c> for GGUF models): a prompt joins, its choices decode in the batch step by step, each reading
/// only its own logits, and a reader that leaves is dropped at the next step boundary.
/// </summary>
internal interface ISequenceBatcher
{
    /// <summary>The most choices of one prompt the batch takes; a request with more runs them one after another outside it.</summary>
    int MaxChoices { get; }

    /// <summary>
    /// Queues <paramref name="prompt"/> for prefill; once it is run, one sequence per decoder continues from it in the
    /// batch. Each returned member's tokens arrive on its channel, the last one with its finish reason; the reader calls
    /// <see cref="BatchMember.Leave"/> when it stops reading.
    /// </summary>
    BatchMember[] Join(IReadOnlyList<int> prompt, IReadOnlyList<SequenceDecoder> decoders, CancellationToken cancellationToken);

    /// <summary>Wakes the worker (a member left).</summary>
    void Wake();
}
