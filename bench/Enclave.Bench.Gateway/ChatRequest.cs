using System.Text;

namespace Enclave.Bench.Gateway;

/// <summary>
/// The one request every client of the throughput and latency runs sends, and the one answer the stub gives; beside
/// them the soak benchmark's streamed chat and embeddings requests and the stub's answers to those.
/// </summary>
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
        """{"object":"list","data":[{"id":"bench-chat","object":"model","created":1700000000,"owned_by":"bench"},{"id":"bench-embed","object":"model","created":1700000000,"owned_by":"bench"}]}""");

    public const string EmbeddingsPath = "/v1/embeddings";

    /// <summary>The embedding model the stub serves (the gateway's catalog routes it as <c>embedding</c>).</summary>
    public const string EmbeddingModel = "bench-embed";

    /// <summary>The same chat request as <see cref="Body"/>, streamed.</summary>
    public const string StreamBody =
        """{"model":"bench-chat","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Say hello in one short sentence."}],"max_tokens":16,"temperature":0,"stream":true}""";

    /// <summary>A small embeddings request.</summary>
    public const string EmbeddingBody = """{"model":"bench-embed","input":"The quick brown fox jumps over the lazy dog."}""";

    /// <summary>
    /// A streamed <c>chat.completion.chunk</c> answer as vLLM sends it with <c>include_usage</c>: the role, four content
    /// pieces, the finish reason, the usage chunk and <c>[DONE]</c>.
    /// </summary>
    public static readonly byte[] StreamEvents = Encoding.UTF8.GetBytes(string.Concat(
        Chunk("""{"role":"assistant","content":""}""", "null"),
        Chunk("""{"content":"Hello"}""", "null"),
        Chunk("""{"content":" from"}""", "null"),
        Chunk("""{"content":" the stub"}""", "null"),
        Chunk("""{"content":" upstream."}""", "null"),
        Chunk("{}", "\"stop\""),
        """data: {"id":"chatcmpl-bench0000000000000000","object":"chat.completion.chunk","created":1700000000,"model":"bench-chat","choices":[],"usage":{"prompt_tokens":24,"completion_tokens":7,"total_tokens":31}}""" + "\n\n",
        "data: [DONE]\n\n"));

    /// <summary>A fixed 16-dimensional embedding with usage, as an OpenAI-compatible server answers <c>/v1/embeddings</c> for one input.</summary>
    public static readonly byte[] Embedding = EmbeddingsAnswer(1);

    /// <summary>
    /// The answer to an embeddings request of <paramref name="count"/> inputs: the fixed embedding at each index (the
    /// one-input answer made once).
    /// </summary>
    public static byte[] Embeddings(int count) => count == 1 ? Embedding : EmbeddingsAnswer(Math.Max(count, 1));

    private static byte[] EmbeddingsAnswer(int count) => Encoding.UTF8.GetBytes(
        """{"object":"list","data":[""" +
        string.Join(',', Enumerable.Range(0, count).Select(i => $$"""{"object":"embedding","index":{{i}},"embedding":[0.125,-0.25,0.375,-0.5,0.625,-0.75,0.875,-1,0.0625,-0.125,0.1875,-0.25,0.3125,-0.375,0.4375,-0.5]}""")) +
        $$$"""],"model":"bench-embed","usage":{"prompt_tokens":{{{10 * count}}},"total_tokens":{{{10 * count}}}}}""");

    private static string Chunk(string delta, string finishReason) =>
        "data: {\"id\":\"chatcmpl-bench0000000000000000\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"bench-chat\",\"choices\":[{\"index\":0,\"delta\":" + delta + ",\"logprobs\":null,\"finish_reason\":" + finishReason + "}]}\n\n";
}
