using System.Text;

namespace Enclave.Bench.Gateway;

/// <summary>The one request every client sends, and the one answer the stub gives.</summary>
internal static class ChatRequest
{
    public const string Path = "/v1/chat/completions";

    /// <summary>A small non-streaming chat request (the shape the OpenAI .NET client sends).</summary>
    public const string Body =
        """{"model":"bench-chat","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Say hello in one short sentence."}],"max_tokens":16,"temperature":0}""";

    /// <summary>A fixed <c>chat.completion</c> with usage, as vLLM answers it (whitespace-free, 330 bytes or so).</summary>
    public static readonly byte[] Completion = Encoding.UTF8.GetBytes(
        """{"id":"chatcmpl-bench0000000000000000","object":"chat.completion","created":1700000000,"model":"bench-chat","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from the stub upstream."},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":24,"completion_tokens":7,"total_tokens":31}}""");

    /// <summary>The answer to <c>GET /v1/models</c> (the router's health check path).</summary>
    public static readonly byte[] Models = Encoding.UTF8.GetBytes(
        """{"object":"list","data":[{"id":"bench-chat","object":"model","created":1700000000,"owned_by":"bench"}]}""");
}
