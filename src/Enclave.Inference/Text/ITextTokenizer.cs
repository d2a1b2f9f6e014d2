using System.Text.Json.Nodes;

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
public sealed record ChatMessage(string Role, string Content)
{
    /// <summary>The calls an assistant message made (empty: none; the template then sees no <c>tool_calls</c> key).</summary>
    public IReadOnlyList<ChatToolCall> ToolCalls { get; init; } = [];

    /// <summary>The call a <c>tool</c> message answers.</summary>
    public string? ToolCallId { get; init; }
}

/// <summary>
/// A function call of an assistant message. <paramref name="Arguments"/> is the parsed JSON of the arguments (what
/// Hugging Face templates expect, as vLLM passes them), or their text as a JSON string when they do not parse.
/// </summary>
public sealed record ChatToolCall(string Id, string Name, JsonNode? Arguments);

/// <summary>How a model family writes its tool calls (read from its chat template).</summary>
public enum ToolCallFormat
{
    /// <summary>Qwen 2.5/3, Hermes: <c>&lt;tool_call&gt;\n{"name": ..., "arguments": {...}}\n&lt;/tool_call&gt;</c>, one block per call.</summary>
    Hermes,

    /// <summary>Llama 3.1+: the whole answer is <c>{"name": ..., "parameters": {...}}</c> (after an optional <c>&lt;|python_tag|&gt;</c>).</summary>
    Llama3Json,

    /// <summary>Mistral: <c>[TOOL_CALLS] [{"name": ..., "arguments": {...}}, ...]</c>.</summary>
    Mistral,
}

/// <summary>A model's chat template (the Jinja template in <c>tokenizer_config.json</c>).</summary>
public interface IChatTemplate
{
    /// <summary>The prompt text for <paramref name="messages"/>, ending with the assistant's turn opener when asked.</summary>
    string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt);

    /// <summary>How this model writes tool calls; null when its template does not take <c>tools</c>.</summary>
    ToolCallFormat? ToolCallFormat => null;

    /// <summary>
    /// The prompt text for <paramref name="messages"/> with <paramref name="tools"/> (the request's <c>tools</c>
    /// objects, or null) given to the template as its <c>tools</c> variable.
    /// </summary>
    /// <exception cref="NotSupportedException">Tools were given to a template that does not take them.</exception>
    string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt, JsonArray? tools) =>
        tools is null ? Render(messages, addGenerationPrompt) : throw new NotSupportedException("this chat template does not take tools");
}
