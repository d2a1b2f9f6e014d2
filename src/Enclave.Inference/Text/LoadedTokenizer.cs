namespace Enclave.Inference.Text;

/// <summary>What <see cref="TokenizerLoader"/> loads from a model directory.</summary>
public sealed record LoadedTokenizer
{
    /// <summary>The tokenizer from <c>tokenizer.json</c> (with the special tokens and decoding options of <c>tokenizer_config.json</c>).</summary>
    public required ITextTokenizer Tokenizer { get; init; }

    /// <summary>
    /// The chat template from <c>chat_template.jinja</c> or <c>tokenizer_config.json</c>'s <c>chat_template</c>
    /// (its <c>default</c> entry when there are several), or <see langword="null"/> for a model that has none.
    /// </summary>
    public IChatTemplate? ChatTemplate { get; init; }
}
