namespace Enclave.Inference.Text;

/// <summary>
/// Bounds on what a tokenizer may load and process. The defaults admit every current open-weight family
/// (Gemma 3's <c>tokenizer.json</c> is 33 MB with 262,144 tokens and 514,906 merges) with room to spare.
/// </summary>
public sealed record TokenizerLimits
{
    /// <summary>The defaults.</summary>
    public static TokenizerLimits Default { get; } = new();

    /// <summary>Largest <c>tokenizer.json</c> accepted, in bytes.</summary>
    public long MaxTokenizerJsonBytes { get; init; } = 128L * 1024 * 1024;

    /// <summary>Largest <c>tokenizer_config.json</c>, <c>chat_template.jinja</c> or <c>generation_config.json</c>, in bytes.</summary>
    public long MaxConfigJsonBytes { get; init; } = 16L * 1024 * 1024;

    /// <summary>Deepest JSON nesting accepted.</summary>
    public int MaxJsonDepth { get; init; } = 64;

    /// <summary>Most entries in <c>model.vocab</c>; also bounds the highest token ID (vocabulary plus added tokens).</summary>
    public int MaxVocabularySize { get; init; } = 1 << 20;

    /// <summary>Most entries in <c>model.merges</c>.</summary>
    public int MaxMerges { get; init; } = 2_000_000;

    /// <summary>Most entries in <c>added_tokens</c>.</summary>
    public int MaxAddedTokens { get; init; } = 1 << 16;

    /// <summary>Longest token string (in UTF-16 code units) in the vocabulary or the added tokens.</summary>
    public int MaxTokenLength { get; init; } = 4096;

    /// <summary>
    /// Highest <c>max_input_chars_per_word</c> a WordPiece model may set (BERT's is 100): a longer word is one unknown
    /// token, and the greedy longest-match search over a word costs the square of its length.
    /// </summary>
    public int MaxWordPieceInputChars { get; init; } = 1024;

    /// <summary>Longest text <see cref="ITextTokenizer.Encode"/> accepts, in UTF-16 code units.</summary>
    public int MaxEncodeChars { get; init; } = 16 * 1024 * 1024;

    /// <summary>Time one regular-expression match of a pre-tokenizer or normalizer may take.</summary>
    public TimeSpan RegexMatchTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Bounds on parsing and rendering the chat template.</summary>
    public ChatTemplateLimits ChatTemplate { get; init; } = ChatTemplateLimits.Default;
}
