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
public readonly record struct GeneratedToken(int Id, FinishReason? FinishReason);

/// <summary>
/// A piece of generated text. Pieces never split a character (a byte-level token that ends inside a UTF-8 sequence
/// waits for the rest) and never contain a stop sequence. The last chunk has <see cref="FinishReason"/> and the usage.
/// </summary>
public sealed record GenerationChunk
{
    public required string Text { get; init; }

    public FinishReason? FinishReason { get; init; }

    public int PromptTokens { get; init; }

    /// <summary>Tokens generated so far (EOS included, as OpenAI-compatible servers count them).</summary>
    public int CompletionTokens { get; init; }
}
