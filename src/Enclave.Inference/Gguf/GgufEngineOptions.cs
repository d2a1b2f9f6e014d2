using Enclave.Inference.Onnx;

namespace Enclave.Inference.Gguf;

/// <summary>How the built-in engine runs a GGUF model through llama.cpp (section <c>Engine:Gguf</c>).</summary>
public sealed record GgufEngineOptions
{
    /// <summary>Context length of each sequence, in tokens; 0 takes the model's own (<c>llama.context_length</c>), capped at <see cref="MaxContextLength"/>.</summary>
    public int ContextLength { get; init; }

    /// <summary>Largest context this engine gives a sequence, whatever the model says (each costs KV-cache memory).</summary>
    public int MaxContextLength { get; init; } = 8192;

    /// <summary>llama.cpp threads per sequence for generation and for prompts; 0 lets llama.cpp choose.</summary>
    public int Threads { get; init; }

    /// <summary>Tokens of a prompt given to llama.cpp at once (its <c>n_batch</c> and <c>n_ubatch</c>).</summary>
    public int BatchSize { get; init; } = 512;

    /// <summary>Whether the model file is memory-mapped (llama.cpp's default) rather than read into memory.</summary>
    public bool MemoryMap { get; init; } = true;

    /// <summary>
    /// The engine's bounds shared with ONNX models: concurrent and queued sequences, Retry-After, stop sequences,
    /// embedding batch, and continuous batching (<c>Engine:Gguf:Bounds:ContinuousBatching</c>, on by default as for ONNX
    /// models; false gives each running sequence its own llama.cpp context).
    /// </summary>
    public OnnxEngineOptions Bounds { get; init; } = new();

    /// <summary>Every problem of these options, as the configuration names them (empty when they are valid).</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (ContextLength < 0 || MaxContextLength < 2 || ContextLength > MaxContextLength)
        {
            problems.Add($"ContextLength ({ContextLength}) must be 0 (the model's) or 1..MaxContextLength ({MaxContextLength})");
        }

        if (Threads is < 0 or > 1024)
        {
            problems.Add($"Threads must be 0..1024 (was {Threads})");
        }

        if (BatchSize is < 1 or > 65536)
        {
            problems.Add($"BatchSize must be 1..65536 (was {BatchSize})");
        }

        try
        {
            Bounds.Validate();
        }
        catch (ArgumentException e)
        {
            problems.Add(e.Message);
        }

        return [.. problems.Select(p => "Engine:Gguf: " + p)];
    }

    internal void ThrowIfInvalid()
    {
        if (Validate() is { Count: > 0 } problems)
        {
            throw new ArgumentException("invalid GGUF engine options: " + string.Join("; ", problems));
        }
    }
}
