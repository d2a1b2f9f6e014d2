using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Core;
using Enclave.Inference.Backends;
using Enclave.Inference.Upstream;
using static Enclave.Inference.Tests.Upstream.UpstreamTestKit;

namespace Enclave.Inference.Tests.Upstream;

/// <summary>
/// A client's request read as an element (<see cref="InferenceRequest.FromClient(JsonElement, byte[])"/>, what the
/// server's handler now makes): its <see cref="InferenceRequest.Body"/>, built only when asked for, is the object the
/// eager strict parse gave; its bytes still go out unchanged, and a pass-through upstream call never needs the object.
/// </summary>
public sealed class LazyBodyTests
{
    private const string ChatText = """{ "model" : "stub-model", "messages" : [ { "role" : "user", "content" : "Say h\u00e9llo" } ], "max_tokens" : 16, "temperature" : 1.50, "x" : { "n" : null, "a" : [ 1, "two", true ] } }""";

    private static readonly Func<UpstreamBackendOptions, bool> AnyBackend = _ => true;

    [Theory]
    [InlineData(ChatText)]
    [InlineData("""{"model":"m","input":["a","\ud83d\ude00",{"k":-0.0}],"user":"u"}""")]
    [InlineData("{}")]
    public void Body_BuiltLazily_IsTheObjectTheEagerStrictParseGave(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        var eager = (JsonObject)StrictJson.Parse(bytes, maxDepth: 64)!;

        var request = InferenceRequest.FromClient(StrictJson.ParseElement(bytes, maxDepth: 64), bytes);

        Assert.True(request.HasClientBytes);
        Assert.Equal(bytes, request.ClientBytes.ToArray());
        Assert.True(JsonNode.DeepEquals(eager, request.Body));
        Assert.Equal(eager.ToJsonString(), request.Body.ToJsonString());
        Assert.Equal(eager.Select(p => p.Key), request.Body.Select(p => p.Key));
        Assert.Same(request.Body, request.Body);
        Assert.Equal(CanonicalJson.Sha256Hex(eager), CanonicalJson.Sha256Hex(request.Root));
    }

    [Fact]
    public void WithModel_MakesANewBodyWithoutClientBytes_AndLeavesTheClientRequestAsItWas()
    {
        var bytes = Encoding.UTF8.GetBytes(ChatText);
        var request = InferenceRequest.FromClient(StrictJson.ParseElement(bytes), bytes);
        var body = request.Body;

        var rewritten = request.WithModel("backend-model");

        Assert.False(rewritten.HasClientBytes);
        Assert.Equal("backend-model", (string?)rewritten.Body["model"]);
        Assert.Equal("backend-model", rewritten.Root.GetProperty("model").GetString());
        Assert.Equal("stub-model", (string?)body["model"]);
        Assert.Equal("stub-model", request.Root.GetProperty("model").GetString());
        Assert.True(JsonNode.DeepEquals(rewritten.Body["messages"], body["messages"]));

        var built = new InferenceRequest(new JsonObject { ["model"] = "a", ["messages"] = new JsonArray() });
        var again = built.WithModel("b");
        Assert.Equal("a", (string?)built.Body["model"]);
        Assert.Equal("b", (string?)again.Body["model"]);
    }

    [Fact]
    public void Root_OfABuiltRequest_IsItsBodyWrittenOut()
    {
        var body = new JsonObject { ["model"] = "m", ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hé" }) };
        InferenceRequest request = body;

        Assert.Equal(JsonValueKind.Object, request.Root.ValueKind);
        Assert.True(JsonNode.DeepEquals(body, JsonNode.Parse(request.Root.GetRawText())));
        Assert.Same(body, request.Body);
    }

    [Fact]
    public void FromClient_RefusesAnElementThatIsNotAnObject()
    {
        Assert.Throws<ArgumentException>(() => InferenceRequest.FromClient(StrictJson.ParseElement("[1]"u8), "[1]"u8.ToArray()));
        Assert.Throws<ArgumentNullException>(() => InferenceRequest.FromClient(StrictJson.ParseElement("{}"u8), null!));
    }

    [Fact]
    public async Task Router_ElementRequestUnchanged_GoesOutByteForByte()
    {
        await using var stub = await VllmStub.StartAsync("vllm-a");
        using var router = new UpstreamRouter(RouterOptions(OptionsFor(stub)));
        var bytes = Encoding.UTF8.GetBytes(ChatText);
        var call = new UpstreamCall(AnyBackend, (_, body) => body);

        var response = await router.ChatAsync(InferenceRequest.FromClient(StrictJson.ParseElement(bytes), bytes), call, CancellationToken.None);

        Assert.Equal("Hello from vllm-a", ContentOf(response.Body));
        Assert.Equal(bytes, Assert.Single(stub.Received).Raw);
    }

    [Theory]
    [InlineData("\"stream\" : false")]
    [InlineData("\"stream\" : null")]
    [InlineData("\"stream_options\" : { \"include_usage\" : true }")]
    public async Task Router_ElementRequestWithStreamFields_IsWrittenWithoutThem(string field)
    {
        await using var stub = await VllmStub.StartAsync("vllm-a");
        using var router = new UpstreamRouter(RouterOptions(OptionsFor(stub)));
        var bytes = Encoding.UTF8.GetBytes(ChatText[..^1] + ", " + field + " }");

        await router.ChatAsync(InferenceRequest.FromClient(StrictJson.ParseElement(bytes), bytes), new UpstreamCall(AnyBackend), CancellationToken.None);

        var received = Assert.Single(stub.Received);
        Assert.NotEqual(bytes, received.Raw);
        Assert.False(received.Body.ContainsKey("stream"));
        Assert.False(received.Body.ContainsKey("stream_options"));
    }

    [Fact]
    public async Task Router_ElementRequestWithoutAModel_IsA400()
    {
        await using var stub = await VllmStub.StartAsync("vllm-a");
        using var router = new UpstreamRouter(RouterOptions(OptionsFor(stub)));
        var bytes = """{"model":5,"messages":[]}"""u8.ToArray();

        var error = await Assert.ThrowsAsync<BackendException>(() => router.ChatAsync(InferenceRequest.FromClient(StrictJson.ParseElement(bytes), bytes), new UpstreamCall(AnyBackend), CancellationToken.None));

        Assert.Equal(400, error.StatusCode);
        Assert.Equal(0, stub.Requests);
    }
}
