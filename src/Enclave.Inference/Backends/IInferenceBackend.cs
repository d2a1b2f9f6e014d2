using System.Text.Json.Nodes;

namespace Enclave.Inference.Backends;

/// <summary>
/// Something that answers OpenAI-shaped requests: the built-in ONNX engine, or an upstream OpenAI-compatible server
/// (vLLM, llama.cpp, Ollama, a cloud vendor). Requests and responses are the OpenAI JSON bodies, so fields this
/// gateway does not interpret (tools, response_format, logprobs, ...) pass through to engines that support them.
/// The <c>model</c> field of a request is already the backend's own model name. A request carries the client's bytes
/// while the gateway has not changed it (<see cref="InferenceRequest.ClientBytes"/>): an OpenAI-compatible upstream
/// forwards those rather than writing the body out again; engines read <see cref="InferenceRequest.Body"/>.
/// </summary>
public interface IInferenceBackend
{
    /// <summary>Configured name, used in audit entries and errors.</summary>
    string Name { get; }

    /// <summary><c>POST /v1/chat/completions</c> without streaming.</summary>
    Task<BackendResponse> ChatAsync(InferenceRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// <c>POST /v1/chat/completions</c> with <c>stream: true</c>: each <c>chat.completion.chunk</c> object as it arrives.
    /// When the request asks for <c>stream_options.include_usage</c>, the last chunk has <c>choices: []</c> and usage.
    /// </summary>
    IAsyncEnumerable<JsonObject> ChatStreamAsync(InferenceRequest request, CancellationToken cancellationToken);

    /// <summary><c>POST /v1/completions</c> without streaming.</summary>
    Task<BackendResponse> CompletionAsync(InferenceRequest request, CancellationToken cancellationToken);

    /// <summary><c>POST /v1/completions</c> with <c>stream: true</c>.</summary>
    IAsyncEnumerable<JsonObject> CompletionStreamAsync(InferenceRequest request, CancellationToken cancellationToken);

    /// <summary><c>POST /v1/embeddings</c>.</summary>
    Task<BackendResponse> EmbeddingsAsync(InferenceRequest request, CancellationToken cancellationToken);
}

/// <summary>A backend's answer: the OpenAI response body and what the audit needs to know about it.</summary>
public sealed record BackendResponse
{
    public required JsonObject Body { get; init; }

    /// <summary>Token counts, from the backend's <c>usage</c> or counted locally.</summary>
    public TokenUsage? Usage { get; init; }
}

/// <summary>OpenAI usage counts.</summary>
public readonly record struct TokenUsage(int PromptTokens, int CompletionTokens)
{
    public int TotalTokens => PromptTokens + CompletionTokens;
}

/// <summary>
/// A backend could not answer. <see cref="StatusCode"/> and <see cref="ErrorType"/> follow the OpenAI error object
/// (400 invalid_request_error, 429 rate_limit_exceeded, 503 overloaded...); <see cref="RetryAfter"/> is passed on.
/// </summary>
public sealed class BackendException : Exception
{
    public BackendException(int statusCode, string errorType, string message, TimeSpan? retryAfter = null, Exception? innerException = null)
        : base(message, innerException)
    {
        StatusCode = statusCode;
        ErrorType = errorType;
        RetryAfter = retryAfter;
    }

    public BackendException()
    {
        ErrorType = "server_error";
    }

    public BackendException(string message)
        : base(message)
    {
        ErrorType = "server_error";
    }

    public BackendException(string message, Exception innerException)
        : base(message, innerException)
    {
        ErrorType = "server_error";
    }

    public int StatusCode { get; } = 500;

    public string ErrorType { get; }

    public TimeSpan? RetryAfter { get; }

    /// <summary>The request parameter at fault (the OpenAI error object's <c>param</c>), when one is.</summary>
    public string? Param { get; init; }

    /// <summary>Whether another attempt (this or another backend) may succeed: 429, 5xx, connection failures.</summary>
    public bool Retryable => StatusCode is 429 or >= 500;
}
