namespace Enclave.Inference.Onnx;

/// <summary>Why generation ended, as OpenAI's <c>finish_reason</c>.</summary>
public enum FinishReason
{
    /// <summary>An EOS token or a stop sequence (<c>"stop"</c>).</summary>
    Stop,

    /// <summary>max_tokens or the context length was reached (<c>"length"</c>).</summary>
    Length,
}

/// <summary>One generated token; the last one of a generation carries the <see cref="FinishReason"/>.</summary>
/// <param name="Id">The token ID.</param>
/// <param name="FinishReason">Set on the last token only. With <see cref="FinishReason.Stop"/> the token is an EOS token.</param>
public readonly record struct GeneratedToken(int Id, FinishReason? FinishReason)
{
    /// <summary>The token's log probability and the most likely alternatives, when the request asked for logprobs.</summary>
    public TokenLogprob? Logprob { get; init; }
}

/// <summary>
/// A token's log probability under the distribution it was drawn from (the model's logits after logit_bias, the
/// penalties and any constraint, before temperature), with the <see cref="Top"/> most likely tokens at that step.
/// </summary>
public sealed record TokenLogprob(int Id, float Logprob, IReadOnlyList<TokenAlternative> Top);

/// <summary>One of the most likely tokens at a step.</summary>
public readonly record struct TokenAlternative(int Id, float Logprob);

/// <summary>
/// A piece of generated text. Pieces never split a character (a byte-level token that ends inside a UTF-8 sequence
/// waits for the rest) and never contain a stop sequence. The last chunk has <see cref="FinishReason"/> and the usage.
/// </summary>
public sealed record GenerationChunk
{
    public required string Text { get; init; }

    /// <summary>Which choice (of a request's <c>n</c>) the text belongs to.</summary>
    public int Index { get; init; }

    /// <summary>The tokens whose text this chunk completes, when the request asked for logprobs.</summary>
    public IReadOnlyList<TokenLogprob> Logprobs { get; init; } = [];

    public FinishReason? FinishReason { get; init; }

    public int PromptTokens { get; init; }

    /// <summary>Tokens generated so far (EOS included, as OpenAI-compatible servers count them).</summary>
    public int CompletionTokens { get; init; }
}
