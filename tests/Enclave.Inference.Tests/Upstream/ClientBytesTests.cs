using System.Text;
using System.Text.Json.Nodes;
using Enclave.Inference.Backends;
using Enclave.Inference.Upstream;
using static Enclave.Inference.Tests.Upstream.UpstreamTestKit;

namespace Enclave.Inference.Tests.Upstream;

/// <summary>
/// A request the gateway did not change goes to an OpenAI-compatible upstream as the client's own bytes; one it changed,
/// or whose <c>stream</c> fields the call must rewrite, is written from the object as before.
/// </summary>
public sealed class ClientBytesTests
{
    // Whitespace, an escaped non-ASCII letter and a number with a trailing zero: writing the object out again would
    // give other bytes, so the tests tell forwarding from re-serialising.
    private const string ChatText = """{ "model" : "stub-model", "messages" : [ { "role" : "user", "content" : "Say h\u00e9llo" } ], "max_tokens" : 16, "temperature" : 1.50 }""";

    private static readonly Func<UpstreamBackendOptions, bool> AnyBackend = _ => true;

    [Fact]
    public async Task Chat_ClientRequestUnchanged_GoesOutByteForByte()
    {
        await using var stub = await VllmStub.StartAsync("vllm-a");
        using var backend = new OpenAiUpstreamBackend(OptionsFor(stub), apiKey: null);
        var bytes = Encoding.UTF8.GetBytes(ChatText);

        var response = await backend.ChatAsync(FromClient(bytes), CancellationToken.None);

        Assert.Equal("Hello from vllm-a", ContentOf(response.Body));
        Assert.Equal(bytes, Assert.Single(stub.Received).Raw);
    }

    [Fact]
    public async Task Chat_TheSameRequestWithoutClientBytes_IsWrittenFromTheObject()
    {
        await using var stub = await VllmStub.StartAsync("vllm-a");
        using var backend = new OpenAiUpstreamBackend(OptionsFor(stub), apiKey: null);
        var bytes = Encoding.UTF8.GetBytes(ChatText);

        await backend.ChatAsync(new InferenceRequest(Parse(bytes)), CancellationToken.None);

        var received = Assert.Single(stub.Received);
        Assert.NotEqual(bytes, received.Raw);
        Assert.True(JsonNode.DeepEquals(Parse(bytes), received.Body));
    }

    [Theory]
    [InlineData("\"stream\" : false")]
    [InlineData("\"stream_options\" : { \"include_usage\" : true }")]
    public async Task Chat_ClientRequestWithStreamFields_IsWrittenWithoutThem(string field)
    {
        await using var stub = await VllmStub.StartAsync("vllm-a");
        using var backend = new OpenAiUpstreamBackend(OptionsFor(stub), apiKey: null);
        var bytes = Encoding.UTF8.GetBytes(ChatText[..^1] + ", " + field + " }");

        await backend.ChatAsync(FromClient(bytes), CancellationToken.None);

        var received = Assert.Single(stub.Received);
        Assert.NotEqual(bytes, received.Raw);
        Assert.False(received.Body.ContainsKey("stream"));
        Assert.False(received.Body.ContainsKey("stream_options"));
        Assert.Equal("Say h\u00e9llo", (string?)received.Body["messages"]![0]!["content"]);
    }

    [Fact]
    public async Task ChatStream_ClientRequestWithStreamTrue_GoesOutByteForByte()
    {
        await using var stub = await VllmStub.StartAsync("vllm-a");
        using var backend = new OpenAiUpstreamBackend(OptionsFor(stub), apiKey: null);
        var bytes = Encoding.UTF8.GetBytes(ChatText[..^1] + ", \"stream\" : true, \"stream_options\" : { \"include_usage\" : true } }");

        var chunks = await ToListAsync(backend.ChatStreamAsync(FromClient(bytes), CancellationToken.None));

        Assert.Equal(stub.SentChunks.Count, chunks.Count);
        Assert.Equal(bytes, Assert.Single(stub.Received).Raw);
    }

    [Fact]
    public async Task ChatStream_ClientRequestWithoutStreamField_IsWrittenWithStreamTrue()
    {
        await using var stub = await VllmStub.StartAsync("vllm-a");
        using var backend = new OpenAiUpstreamBackend(OptionsFor(stub), apiKey: null);
        var bytes = Encoding.UTF8.GetBytes(ChatText);

        await ToListAsync(backend.ChatStreamAsync(FromClient(bytes), CancellationToken.None));

        var received = Assert.Single(stub.Received);
        Assert.NotEqual(bytes, received.Raw);
        Assert.True((bool)received.Body["stream"]!);
    }

    [Fact]
    public async Task Embeddings_ClientRequest_GoesOutByteForByte()
    {
        await using var stub = await VllmStub.StartAsync("vllm-a");
        using var backend = new OpenAiUpstreamBackend(OptionsFor(stub), apiKey: null);
        var bytes = Encoding.UTF8.GetBytes("""{ "model" : "stub-model", "input" : "t\u00e9xt" }""");

        await backend.EmbeddingsAsync(FromClient(bytes), CancellationToken.None);

        Assert.Equal(bytes, Assert.Single(stub.Received).Raw);
    }

    [Fact]
    public async Task Router_BodyPreparedForTheBackend_IsWrittenFromThePreparedObject_NeverTheClientBytes()
    {
        await using var stub = await VllmStub.StartAsync("vllm-a");
        using var router = new UpstreamRouter(RouterOptions(OptionsFor(stub)));
        var bytes = Encoding.UTF8.GetBytes(ChatText);
        var redacted = Parse(bytes);
        redacted["messages"]![0]!["content"] = "[REDACTED]";
        var call = new UpstreamCall(AnyBackend, (_, _) => redacted);

        await router.ChatAsync(FromClient(bytes), call, CancellationToken.None);

        var received = Assert.Single(stub.Received);
        Assert.Equal("[REDACTED]", (string?)received.Body["messages"]![0]!["content"]);
        Assert.DoesNotContain("llo", Encoding.UTF8.GetString(received.Raw), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Router_BodyPreparedUnchanged_KeepsTheClientBytes()
    {
        await using var stub = await VllmStub.StartAsync("vllm-a");
        using var router = new UpstreamRouter(RouterOptions(OptionsFor(stub)));
        var bytes = Encoding.UTF8.GetBytes(ChatText);
        var call = new UpstreamCall(AnyBackend, (_, body) => body);

        await router.ChatAsync(FromClient(bytes), call, CancellationToken.None);

        Assert.Equal(bytes, Assert.Single(stub.Received).Raw);
        Assert.Equal("vllm-a", call.Backend);
    }

    [Fact]
    public void FromClient_RefusesNulls_AndAGatewayRequestHasNoClientBytes()
    {
        Assert.Throws<ArgumentNullException>(() => InferenceRequest.FromClient(null!, []));
        Assert.Throws<ArgumentNullException>(() => InferenceRequest.FromClient([], null!));
        InferenceRequest built = new JsonObject { ["model"] = "m" };
        Assert.False(built.HasClientBytes);
        Assert.True(built.ClientBytes.IsEmpty);
        Assert.True(FromClient("{}"u8.ToArray()).HasClientBytes);
    }

    private static JsonObject Parse(byte[] bytes) => (JsonObject)JsonNode.Parse(bytes)!;

    private static InferenceRequest FromClient(byte[] bytes) => InferenceRequest.FromClient(Parse(bytes), bytes);
}
