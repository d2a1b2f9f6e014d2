namespace Enclave.Inference.Forge;

/// <summary>
/// Shape of a forged model. The defaults make a model of about 100k parameters that ONNX Runtime runs in
/// milliseconds; <c>Layers = 6, Hidden = 384, Heads = 6, KvHeads = 2, IntermediateSize = 1024</c> is about 10M.
/// </summary>
public sealed record ForgeOptions
{
    /// <summary>Transformer blocks.</summary>
    public int Layers { get; init; } = 2;

    /// <summary>Model width (<c>hidden_size</c>).</summary>
    public int Hidden { get; init; } = 64;

    /// <summary>Attention heads; <see cref="Hidden"/> / <see cref="Heads"/> is the head size and must be even.</summary>
    public int Heads { get; init; } = 4;

    /// <summary>Key/value heads (grouped-query attention); divides <see cref="Heads"/>. Default: half the heads (or all of them when odd).</summary>
    public int? KvHeads { get; init; }

    /// <summary>MLP width; default about 8/3 of <see cref="Hidden"/>, rounded up to a multiple of 8.</summary>
    public int? IntermediateSize { get; init; }

    /// <summary>
    /// Rows of the embedding and logits (<c>vocab_size</c>). The tokenizer's BPE learns merges from a built-in corpus
    /// up to <c>Vocab - 3</c> tokens (3 special tokens follow); when the corpus runs out of merges first, the model's
    /// vocabulary is larger than the tokenizer's, as with Qwen2.5 (151936 rows for 151665 tokens).
    /// </summary>
    public int Vocab { get; init; } = 512;

    /// <summary>Seed of the weights: the same options give the same bytes.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Context length (<c>max_position_embeddings</c>).</summary>
    public int MaxPositions { get; init; } = 512;

    internal int EffectiveKvHeads => KvHeads ?? (Heads % 2 == 0 ? Heads / 2 : Heads);

    internal int EffectiveIntermediate => IntermediateSize ?? ((Hidden * 8 / 3) + 7) / 8 * 8;

    internal int HeadDim => Hidden / Heads;

    internal void Validate()
    {
        var problems = new List<string>();
        if (Layers is < 1 or > 256)
        {
            problems.Add($"Layers must be 1..256 (was {Layers})");
        }

        if (Hidden < 2 || Heads < 1 || Hidden % Heads != 0 || Hidden / Heads % 2 != 0)
        {
            problems.Add($"Hidden ({Hidden}) must be a multiple of Heads ({Heads}) with an even head size");
        }

        if (EffectiveKvHeads < 1 || Heads % EffectiveKvHeads != 0)
        {
            problems.Add($"KvHeads ({EffectiveKvHeads}) must divide Heads ({Heads})");
        }

        if (EffectiveIntermediate < 1)
        {
            problems.Add($"IntermediateSize must be positive (was {EffectiveIntermediate})");
        }

        if (Vocab is < 259 or > 1_000_000)
        {
            problems.Add($"Vocab must be 259..1000000: 256 byte tokens and 3 special tokens at least (was {Vocab})");
        }

        if (MaxPositions is < 2 or > 1_048_576)
        {
            problems.Add($"MaxPositions must be 2..1048576 (was {MaxPositions})");
        }

        if (problems.Count > 0)
        {
            throw new ArgumentException("invalid forge options: " + string.Join("; ", problems));
        }
    }
}
