namespace Enclave.Inference.Text;

/// <summary>A model's tokenizer, loaded from its <c>tokenizer.json</c> (and <c>tokenizer_config.json</c>).</summary>
public interface ITextTokenizer
{
    /// <summary>Number of token IDs the tokenizer can produce (including added/special tokens).</summary>
    int VocabularySize { get; }

    /// <summary>
    /// Token IDs of <paramref name="text"/>. Special tokens written in the text (e.g. <c>&lt;|im_start|&gt;</c>) are
    /// recognised as such, as Hugging Face tokenizers do; <paramref name="addSpecialTokens"/> adds the post-processor's
    /// tokens (e.g. a BOS) the way <c>tokenizer.encode(text)</c> does.
    /// </summary>
    IReadOnlyList<int> Encode(string text, bool addSpecialTokens);

    /// <summary>Text of <paramref name="ids"/>; special tokens are dropped when <paramref name="skipSpecialTokens"/>.</summary>
    string Decode(IReadOnlyList<int> ids, bool skipSpecialTokens);

    /// <summary>IDs that end generation (EOS and the chat template's end-of-turn tokens).</summary>
    IReadOnlySet<int> EndOfSequenceIds { get; }
}

/// <summary>One chat message as the OpenAI API gives it.</summary>
public sealed record ChatMessage(string Role, string Content);

/// <summary>A model's chat template (the Jinja template in <c>tokenizer_config.json</c>).</summary>
public interface IChatTemplate
{
    /// <summary>The prompt text for <paramref name="messages"/>, ending with the assistant's turn opener when asked.</summary>
    string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt);
}
