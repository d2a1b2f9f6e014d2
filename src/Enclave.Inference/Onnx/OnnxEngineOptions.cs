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

    /// <summary>Every problem of these options, as the configuration names them (empty when they are valid).</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        void Check(bool valid, string problem)
        {
            if (!valid)
            {
                problems.Add(problem);
            }
        }

        Check(IntraOpThreads >= 0, $"IntraOpThreads must be 0 (ONNX Runtime's choice) or more (was {IntraOpThreads})");
        Check(MaxConcurrentSequences >= 1, $"MaxConcurrentSequences must be at least 1 (was {MaxConcurrentSequences})");
        Check(MaxQueuedSequences >= 0, $"MaxQueuedSequences must be 0 or more (was {MaxQueuedSequences})");
        Check(RetryAfter >= TimeSpan.Zero, $"RetryAfter must not be negative (was {RetryAfter})");
        Check(PrefillChunkTokens is >= 1 and <= 1 << 20, $"PrefillChunkTokens must be 1..1048576 (was {PrefillChunkTokens})");
        Check(MaxConfigBytes >= 1, $"MaxConfigBytes must be positive (was {MaxConfigBytes})");
        Check(MaxGraphBytes >= 1, $"MaxGraphBytes must be positive (was {MaxGraphBytes})");
        Check(MaxStopSequences >= 0, $"MaxStopSequences must be 0 or more (was {MaxStopSequences})");
        Check(MaxStopLength >= 1, $"MaxStopLength must be at least 1 (was {MaxStopLength})");
        Check(MaxEmbeddingBatch >= 1, $"MaxEmbeddingBatch must be at least 1 (was {MaxEmbeddingBatch})");
        return problems;
    }

    internal void Validate()
    {
        if (Problems() is { Count: > 0 } problems)
        {
            throw new ArgumentException($"invalid engine options: {string.Join("; ", problems)}");
        }
    }
}
