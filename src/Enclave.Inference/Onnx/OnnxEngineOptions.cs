namespace Enclave.Inference.Onnx;

/// <summary>How the built-in engine runs a model, and the bounds it holds untrusted input to.</summary>
public sealed record OnnxEngineOptions
{
    /// <summary>ONNX Runtime intra-op threads per session; 0 lets ONNX Runtime choose (one per physical core).</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>
    /// Whether idle ONNX Runtime worker threads spin. Spinning lowers latency on a dedicated machine and burns the
    /// cores of a shared one; off by default.
    /// </summary>
    public bool AllowSpinning { get; init; }

    /// <summary>Sequences of one model that generate at the same time.</summary>
    public int MaxConcurrentSequences { get; init; } = 4;

    /// <summary>Requests that may wait for a sequence slot; beyond that the engine answers 503 with Retry-After.</summary>
    public int MaxQueuedSequences { get; init; } = 16;

    /// <summary>The Retry-After given with a 503.</summary>
    public TimeSpan RetryAfter { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Largest <c>config.json</c>-like file read.</summary>
    public long MaxConfigBytes { get; init; } = 1 << 20;

    /// <summary>Largest <c>model.onnx</c> (the graph; the weights are in external data). Protobuf's own limit is 2 GiB.</summary>
    public long MaxGraphBytes { get; init; } = int.MaxValue;

    /// <summary>
    /// Longest piece of a prompt run at once. An export computes logits for every position it is given, so a prompt
    /// of n tokens run whole needs n × vocabulary floats (32k tokens of a 152k vocabulary: 19 GiB); in pieces it needs
    /// this many rows at most, and the KV cache makes the result the same. With <see cref="ContinuousBatching"/> it is
    /// also the longest a new prompt holds up the sequences already decoding: one piece runs between two of their steps.
    /// </summary>
    public int PrefillChunkTokens { get; init; } = 256;

    /// <summary>
    /// Whether a model's running sequences decode together, one ONNX Runtime run per step over all of them
    /// (<see cref="ContinuousBatcher"/>); off, each sequence runs the model on its own. A graph without
    /// <c>position_ids</c> always runs sequences on their own.
    /// </summary>
    public bool ContinuousBatching { get; init; } = true;

    /// <summary>Most stop sequences a request may give (OpenAI allows 4).</summary>
    public int MaxStopSequences { get; init; } = 4;

    /// <summary>Longest stop sequence, in characters.</summary>
    public int MaxStopLength { get; init; } = 256;

    /// <summary>Most inputs in one embeddings call.</summary>
    public int MaxEmbeddingBatch { get; init; } = 256;

    internal void Validate()
    {
        if (IntraOpThreads < 0 || MaxConcurrentSequences < 1 || MaxQueuedSequences < 0 || RetryAfter < TimeSpan.Zero
            || PrefillChunkTokens is < 1 or > 1 << 20 || MaxConfigBytes < 1 || MaxGraphBytes < 1 || MaxStopSequences < 0 || MaxStopLength < 1 || MaxEmbeddingBatch < 1)
        {
            throw new ArgumentException($"invalid engine options: {this}");
        }
    }
}
