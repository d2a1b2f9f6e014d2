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
    /// llama.cpp's flash attention (one fused operation per layer instead of six) for chat models: on by default, as
    /// llama.cpp's own default (auto) has it on the CPU. Off, attention is computed as separate matrix products and a
    /// softmax (slower for small and quantised models, the same tokens batched or not with any <see cref="CacheType"/>).
    /// </summary>
    public bool FlashAttention { get; init; } = true;

    /// <summary>
    /// The type of the KV cache of chat models: <see cref="GgufCacheType.BF16"/> (default), <see cref="GgufCacheType.F16"/>
    /// (llama.cpp's default) or <see cref="GgufCacheType.Q8_0"/> (half the memory; needs flash attention and a head size
    /// that is a multiple of 32). With flash attention on, an F16 cache gives a sequence other logits alone in a step than
    /// beside others (llama.cpp splits a lone sequence's attention across threads once its cache holds more than 256
    /// tokens), so that pair is refused unless <see cref="ExactBatching"/> is false.
    /// </summary>
    public GgufCacheType CacheType { get; init; } = GgufCacheType.BF16;

    /// <summary>
    /// Whether a batched sequence must draw the tokens it draws alone (true, the default): false allows flash attention
    /// with an F16 cache, llama.cpp's own default, whose logits depend on what else runs in a step once a sequence holds
    /// more than 256 tokens.
    /// </summary>
    public bool ExactBatching { get; init; } = true;

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

        if (!Enum.IsDefined(CacheType))
        {
            problems.Add($"CacheType must be BF16, F16 or Q8_0 (was {CacheType})");
        }
        else if (CacheType == GgufCacheType.Q8_0 && !FlashAttention)
        {
            problems.Add("CacheType Q8_0 needs FlashAttention (llama.cpp quantises the V cache only with flash attention)");
        }
        else if (CacheType == GgufCacheType.F16 && FlashAttention && ExactBatching)
        {
            problems.Add("CacheType F16 with FlashAttention gives a sequence other tokens batched than alone: set ExactBatching false to allow it, or use BF16, or turn FlashAttention off");
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

/// <summary>The type of a GGUF chat model's KV cache in llama.cpp (<see cref="GgufEngineOptions.CacheType"/>).</summary>
public enum GgufCacheType
{
    /// <summary>bfloat16: as much memory as F16; with flash attention the same tokens batched or not.</summary>
    BF16,

    /// <summary>float16, llama.cpp's default.</summary>
    F16,

    /// <summary>8-bit blocks of 32 with a scale: half the memory of F16.</summary>
    Q8_0,
}
