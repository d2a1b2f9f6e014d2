using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using Enclave.Inference.Backends;
using Enclave.Inference.Onnx;
using Enclave.Inference.Text;

namespace Enclave.Inference.Tests.Onnx;

public sealed class OnnxInferenceBackendTests(ForgedModelsFixture models) : IClassFixture<ForgedModelsFixture>
{
    private OnnxInferenceBackend Backend => new(
        "local",
        new LocalChatModel(models.Decoder, models.Tokenizer, new ChatMlTemplate()),
        new LocalEmbeddingModel(models.Encoder, models.Tokenizer));

    [Fact]
    public async Task Chat_ReturnsAChatCompletion_WithUsage()
    {
        var response = await Backend.ChatAsync(Chat(maxTokens: 6), CancellationToken.None);
        var body = response.Body;
        Assert.Equal("chat.completion", (string?)body["object"]);
        Assert.StartsWith("chatcmpl-", (string?)body["id"], StringComparison.Ordinal);
        Assert.Equal("forged", (string?)body["model"]);
        var choice = body["choices"]![0]!;
        Assert.Equal("assistant", (string?)choice["message"]!["role"]);
        Assert.Equal("length", (string?)choice["finish_reason"]);
        var expectedPrompt = models.Tokenizer.Encode(new ChatMlTemplate().Render([new ChatMessage("user", "Hello")], true), false).Count;
        Assert.Equal(new TokenUsage(expectedPrompt, 6), response.Usage);
        Assert.Equal(expectedPrompt + 6, (int)body["usage"]!["total_tokens"]!);
    }

    [Fact]
    public async Task ChatStream_WithIncludeUsage_MatchesTheNonStreamingAnswer_AndEndsWithAUsageChunk()
    {
        var whole = await Backend.ChatAsync(Chat(maxTokens: 12), CancellationToken.None);
        var request = Chat(maxTokens: 12);
        request["stream"] = true;
        request["stream_options"] = new JsonObject { ["include_usage"] = true };
        var chunks = new List<JsonObject>();
        await foreach (var chunk in Backend.ChatStreamAsync(request, CancellationToken.None))
        {
            chunks.Add(chunk);
        }

        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", (string?)c["object"]));
        Assert.Single(chunks.Select(c => (string?)c["id"]).Distinct());
        Assert.Equal("assistant", (string?)chunks[0]["choices"]![0]!["delta"]!["role"]);
        var text = string.Concat(chunks.Where(c => c["choices"]!.AsArray().Count > 0).Select(c => (string?)c["choices"]![0]!["delta"]!["content"] ?? string.Empty));
        Assert.Equal((string?)whole.Body["choices"]![0]!["message"]!["content"], text);
        Assert.Equal("length", (string?)chunks[^2]["choices"]![0]!["finish_reason"]);
        Assert.Empty(chunks[^1]["choices"]!.AsArray());
        Assert.Equal(12, (int)chunks[^1]["usage"]!["completion_tokens"]!);
        Assert.All(chunks[..^1], c => Assert.Null(c["usage"]));
    }

    [Fact]
    public async Task Completion_WithTokenIds_AndAStopSequence()
    {
        var request = new JsonObject
        {
            ["model"] = "forged",
            ["prompt"] = new JsonArray(12, 40, 7, 301),
            ["temperature"] = 0,
            ["max_tokens"] = 30,
            ["ignore_eos"] = true,
        };
        var plain = await Backend.CompletionAsync(request, CancellationToken.None);
        var text = (string)plain.Body["choices"]![0]!["text"]!;
        Assert.Equal("text_completion", (string?)plain.Body["object"]);
        var stop = text[Enumerable.Range(3, text.Length - 3).First(i => text[i] != '\uFFFD' && !char.IsSurrogate(text[i]))].ToString();

        request["stop"] = stop;
        var stopped = await Backend.CompletionAsync(request, CancellationToken.None);
        Assert.Equal(text[..text.IndexOf(stop, StringComparison.Ordinal)], (string?)stopped.Body["choices"]![0]!["text"]);
        Assert.Equal("stop", (string?)stopped.Body["choices"]![0]!["finish_reason"]);
    }

    [Fact]
    public async Task Embeddings_InFloatAndBase64_AreTheSameVectors()
    {
        var request = new JsonObject { ["model"] = "embed", ["input"] = new JsonArray("first text", "second") };
        var floats = await Backend.EmbeddingsAsync(request, CancellationToken.None);
        request["encoding_format"] = "base64";
        var base64 = await Backend.EmbeddingsAsync(request, CancellationToken.None);

        Assert.Equal("list", (string?)floats.Body["object"]);
        Assert.Equal(2, floats.Body["data"]!.AsArray().Count);
        for (var i = 0; i < 2; i++)
        {
            var vector = floats.Body["data"]![i]!["embedding"]!.AsArray().Select(v => (float)v!).ToArray();
            var bytes = Convert.FromBase64String((string)base64.Body["data"]![i]!["embedding"]!);
            var decoded = Enumerable.Range(0, bytes.Length / 4).Select(j => BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(j * 4))).ToArray();
            Assert.Equal(vector, decoded);
            Assert.Equal(64, vector.Length);
        }

        var tokens = Encoding.UTF8.GetByteCount("first text") + Encoding.UTF8.GetByteCount("second");
        Assert.Equal(new TokenUsage(tokens, 0), floats.Usage);
    }

    [Theory]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"n":17}""", "n")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":"hot"}""", "temperature")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function"}]}""", "tools[0].function")]
    [InlineData("""{"model":"m","messages":[]}""", "messages")]
    [InlineData("""{"model":"m","messages":[{"role":"tool","content":"x"}]}""", "messages")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{}}]}]}""", "messages")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"stop":["a","b","c","d","e"]}""", "stop")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"logprobs":"yes"}""", "logprobs")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"top_logprobs":2}""", "top_logprobs")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"logprobs":true,"top_logprobs":21}""", "top_logprobs")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"presence_penalty":2.5}""", "presence_penalty")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"frequency_penalty":"high"}""", "frequency_penalty")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"logit_bias":{"x":1}}""", "logit_bias")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"logit_bias":{"5":101}}""", "logit_bias")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"logit_bias":{"99999999":1}}""", "logit_bias")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"logit_bias":[1]}""", "logit_bias")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"user":5}""", "user")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"audio":{"voice":"alloy","format":"wav"}}""", "audio")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"modalities":["text","audio"]}""", "modalities")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"store":true}""", "store")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"metadata":{"a":"b"}}""", "metadata")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"prediction":{"type":"content","content":"x"}}""", "prediction")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"reasoning_effort":"low"}""", "reasoning_effort")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"web_search_options":{}}""", "web_search_options")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"service_tier":"flex"}""", "service_tier")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"temprature":0.5}""", "temprature")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"seed":"1"}""", "seed")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"max_completion_tokens":0}""", "max_completion_tokens")]
    public async Task InvalidChatRequests_Are400_NamingTheParameter(string json, string parameter)
    {
        var error = await Assert.ThrowsAsync<BackendException>(() => Backend.ChatAsync(JsonNode.Parse(json)!.AsObject(), CancellationToken.None));
        Assert.Equal(400, error.StatusCode);
        Assert.Equal("invalid_request_error", error.ErrorType);
        Assert.Contains($"'{parameter}'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnEmbeddingOnlyBackend_RefusesChat()
    {
        var backend = new OnnxInferenceBackend("embed-only", null, new LocalEmbeddingModel(models.Encoder, models.Tokenizer));
        var error = await Assert.ThrowsAsync<BackendException>(() => backend.ChatAsync(Chat(maxTokens: 1), CancellationToken.None));
        Assert.Equal(400, error.StatusCode);
    }

    private static JsonObject Chat(int maxTokens) => new()
    {
        ["model"] = "forged",
        ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "Hello" }),
        ["max_tokens"] = maxTokens,
        ["seed"] = 1234,
        ["ignore_eos"] = true,
    };

    /// <summary>ChatML as the forged tokenizer_config.json's template renders it (the Jinja renderer lives in Text).</summary>
    private sealed class ChatMlTemplate : IChatTemplate
    {
        public string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
        {
            var text = new StringBuilder();
            if (messages[0].Role != "system")
            {
                text.Append("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n");
            }

            foreach (var message in messages)
            {
                text.Append("<|im_start|>").Append(message.Role).Append('\n').Append(message.Content).Append("<|im_end|>\n");
            }

            return addGenerationPrompt ? text.Append("<|im_start|>assistant\n").ToString() : text.ToString();
        }
    }
}
