using System.Text.Json.Nodes;
using Enclave.Inference.Backends;
using Enclave.Inference.Upstream;
using static Enclave.Inference.Tests.Upstream.UpstreamTestKit;

namespace Enclave.Inference.Tests.Upstream;

public sealed class OpenAiUpstreamBackendTests
{
    [Fact]
    public async Task Chat_ReturnsTheUpstreamBodyAndItsUsage_AndSendsNoStreamFields()
    {
        await using var stub = await VllmStub.StartAsync("vllm-a");
        using var backend = new OpenAiUpstreamBackend(OptionsFor(stub), apiKey: null);
        var request = ChatRequest();
        request["stream"] = false;
        request["stream_options"] = new JsonObject { ["include_usage"] = true };
        var before = request.DeepClone();

        var response = await backend.ChatAsync(request, CancellationToken.None);

        Assert.True(JsonNode.DeepEquals(stub.LastBody, response.Body));
        Assert.Equal("Hello from vllm-a", ContentOf(response.Body));
        Assert.Equal(new TokenUsage(7, 3), response.Usage);
        var received = Assert.Single(stub.Received);
        Assert.Equal("/v1/chat/completions", received.Path);
        Assert.False(received.Body.ContainsKey("stream"));
        Assert.False(received.Body.ContainsKey("stream_options"));
        Assert.True(JsonNode.DeepEquals(request["messages"], received.Body["messages"]));
        Assert.True(JsonNode.DeepEquals(before, request), "the caller's request object must not be modified");
        Assert.Null(received.Authorization);
    }

    [Fact]
    public async Task Chat_WithoutUpstreamUsage_LeavesUsageNullForLocalCounting()
    {
        await using var stub = await VllmStub.StartAsync("vllm-a");
        stub.OmitUsage = true;
        using var backend = new OpenAiUpstreamBackend(OptionsFor(stub), apiKey: null);

        var response = await backend.ChatAsync(ChatRequest(), CancellationToken.None);

        Assert.Null(response.Usage);
        Assert.Equal("Hello from vllm-a", ContentOf(response.Body));
    }

    [Fact]
    public async Task ChatStream_YieldsEveryChunkInOrder_WithTheUsageChunk_AndStopsAtDone()
    {
        await using var stub = await VllmStub.StartAsync("vllm-a");
        using var backend = new OpenAiUpstreamBackend(OptionsFor(stub), apiKey: null);
        var request = ChatRequest();
        request["stream_options"] = new JsonObject { ["include_usage"] = true };

        var chunks = await ToListAsync(backend.ChatStreamAsync(request, CancellationToken.None));

        Assert.Equal(stub.SentChunks.Count, chunks.Count);
        Assert.All(stub.SentChunks.Zip(chunks), pair => Assert.True(JsonNode.DeepEquals(pair.First, pair.Second)));
        Assert.Equal("Hello from vllm-a", string.Concat(chunks.Select(c => c["choices"] is JsonArray { Count: > 0 } choices ? (string?)choices[0]!["delta"]!["content"] : null)));
        var last = chunks[^1];
        Assert.Empty(last["choices"]!.AsArray());
        Assert.Equal(new TokenUsage(7, 3), UpstreamUsage.Read(last));
        var received = Assert.Single(stub.Received);
        Assert.True(received.Body["stream"]!.GetValue<bool>(), "a streaming call sends stream: true");
        Assert.True(received.Body["stream_options"]!["include_usage"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Completion_ReturnsTheUpstreamBodyAndUsage()
    {
        await using var stub = await VllmStub.StartAsync("vllm-a");
        using var backend = new OpenAiUpstreamBackend(OptionsFor(stub), apiKey: null);

        var response = await backend.CompletionAsync(CompletionRequest(), CancellationToken.None);

        Assert.True(JsonNode.DeepEquals(stub.LastBody, response.Body));
        Assert.Equal(" world from vllm-a", response.Body["choices"]![0]!["text"]!.GetValue<string>());
        Assert.Equal(new TokenUsage(3, 5), response.Usage);
        Assert.Equal("/v1/completions", Assert.Single(stub.Received).Path);
    }

    [Fact]
    public async Task CompletionStream_YieldsTheTextChunksAndStopsAtDone()
    {
        await using var stub = await VllmStub.StartAsync("vllm-a");
        using var backend = new OpenAiUpstreamBackend(OptionsFor(stub), apiKey: null);

        var chunks = await ToListAsync(backend.CompletionStreamAsync(CompletionRequest(), CancellationToken.None));

        Assert.Equal(" world from vllm-a", string.Concat(chunks.Select(c => c["choices"]![0]!["text"]!.GetValue<string>())));
        Assert.Equal("length", chunks[^1]["choices"]![0]!["finish_reason"]!.GetValue<string>());
        Assert.Equal("/v1/completions", Assert.Single(stub.Received).Path);
    }

    [Fact]
    public async Task Embeddings_ReturnVectorsAndUsage_WithTheRequestPassedAsGiven()
    {
        await using var stub = await VllmStub.StartAsync("vllm-a");
        using var backend = new OpenAiUpstreamBackend(OptionsFor(stub), apiKey: null);
        var request = new JsonObject
        {
            ["model"] = "stub-model",
            ["input"] = new JsonArray("first text", "second, longer text"),
            ["encoding_format"] = "float",
        };

        var response = await backend.EmbeddingsAsync(request, CancellationToken.None);

        Assert.Equal(2, response.Body["data"]!.AsArray().Count);
        Assert.Equal(new TokenUsage(4, 0), response.Usage);
        var received = Assert.Single(stub.Received);
        Assert.Equal("/v1/embeddings", received.Path);
        Assert.True(JsonNode.DeepEquals(request, received.Body));
    }

    [Fact]
    public async Task Chat_ToolCallFieldsAndUnicode_PassThroughBothWaysUnchanged()
    {
        await using var stub = await VllmStub.StartAsync("vllm-a");
        using var backend = new OpenAiUpstreamBackend(OptionsFor(stub), apiKey: null);
        var request = ToolRequest();

        var response = await backend.ChatAsync(request, CancellationToken.None);

        var received = Assert.Single(stub.Received).Body;
        foreach (var field in new[] { "messages", "tools", "tool_choice", "parallel_tool_calls", "response_format", "logprobs", "seed" })
        {
            Assert.True(JsonNode.DeepEquals(request[field], received[field]), $"{field} must reach the upstream unchanged");
        }

        Assert.True(JsonNode.DeepEquals(stub.LastBody, response.Body));
        var call = response.Body["choices"]![0]!["message"]!["tool_calls"]![0]!;
        Assert.Equal("get_weather", call["function"]!["name"]!.GetValue<string>());
        Assert.Equal("{\"city\": \"Paris\", \"unit\": \"celsius\"}", call["function"]!["arguments"]!.GetValue<string>());
    }

    [Fact]
    public async Task ChatStream_ToolCallDeltas_PassThroughUnchanged()
    {
        await using var stub = await VllmStub.StartAsync("vllm-a");
        using var backend = new OpenAiUpstreamBackend(OptionsFor(stub), apiKey: null);
        var request = ToolRequest();

        var chunks = await ToListAsync(backend.ChatStreamAsync(request, CancellationToken.None));

        Assert.Equal(stub.SentChunks.Count, chunks.Count);
        Assert.All(stub.SentChunks.Zip(chunks), pair => Assert.True(JsonNode.DeepEquals(pair.First, pair.Second)));
        var arguments = string.Concat(chunks
            .Select(c => c["choices"]![0]!["delta"]!["tool_calls"]?[0]?["function"]?["arguments"])
            .Select(a => a?.GetValue<string>()));
        Assert.Equal("{\"city\": \"Paris\"}", arguments);
        Assert.True(JsonNode.DeepEquals(request["tools"], Assert.Single(stub.Received).Body["tools"]));
    }

    [Fact]
    public async Task ChatStream_YieldsTheFirstChunkBeforeTheUpstreamHasFinished()
    {
        await using var stub = await VllmStub.StartAsync("vllm-a");
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        stub.StreamGate = gate.Task;
        using var backend = new OpenAiUpstreamBackend(OptionsFor(stub), apiKey: null);

        await using var stream = backend.ChatStreamAsync(ChatRequest(), CancellationToken.None).GetAsyncEnumerator();

        // The stub sends one chunk and then waits for the gate, which opens only once that chunk has arrived here:
        // a backend that buffered the response would never get past this line.
        Assert.True(await Within(stream.MoveNextAsync()));
        Assert.Equal("assistant", stream.Current["choices"]![0]!["delta"]!["role"]!.GetValue<string>());
        Assert.Single(stub.SentChunks);
        gate.SetResult();
        var rest = new List<JsonObject>();
        while (await Within(stream.MoveNextAsync()))
        {
            rest.Add(stream.Current);
        }

        Assert.Equal(stub.SentChunks.Count - 1, rest.Count);
    }

    [Fact]
    public async Task ChatStream_SlowUpstream_StillDeliversEveryChunk()
    {
        await using var stub = await VllmStub.StartAsync("vllm-a");
        stub.ChunkDelay = TimeSpan.FromMilliseconds(20);
        using var backend = new OpenAiUpstreamBackend(OptionsFor(stub), apiKey: null);

        var chunks = await ToListAsync(backend.ChatStreamAsync(StreamingChatRequest(), CancellationToken.None));

        Assert.Equal(stub.SentChunks.Count, chunks.Count);
    }

    [Fact]
    public async Task ChatStream_DroppedConnectionAfterPartialOutput_ThrowsStreamInterrupted()
    {
        await using var stub = await VllmStub.StartAsync("vllm-a");
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        stub.StreamGate = gate.Task;
        stub.Faults.Enqueue(new StubFault(FaultKind.DropMidStream, AfterChunks: 2));
        using var backend = new OpenAiUpstreamBackend(OptionsFor(stub), apiKey: null);
        var received = new List<JsonObject>();

        var error = await Assert.ThrowsAsync<BackendException>(async () =>
        {
            await foreach (var chunk in backend.ChatStreamAsync(ChatRequest(), CancellationToken.None))
            {
                received.Add(chunk);
                if (received.Count == 2)
                {
                    gate.SetResult();
                }
            }
        });

        Assert.Equal(2, received.Count);
        Assert.Equal("stream_interrupted", error.ErrorType);
        Assert.Contains("after 2 chunk(s)", error.Message, StringComparison.Ordinal);
        Assert.Contains("vllm-a", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChatStream_ErrorEventMidStream_ThrowsStreamInterruptedWithTheUpstreamMessage()
    {
        await using var stub = await VllmStub.StartAsync("vllm-a");
        stub.Faults.Enqueue(new StubFault(FaultKind.StreamErrorEvent, AfterChunks: 1));
        using var backend = new OpenAiUpstreamBackend(OptionsFor(stub), apiKey: null);
        var received = 0;

        var error = await Assert.ThrowsAsync<BackendException>(async () =>
        {
            await foreach (var chunk in backend.ChatStreamAsync(ChatRequest(), CancellationToken.None))
            {
                received++;
            }
        });

        Assert.Equal(1, received);
        Assert.Equal("stream_interrupted", error.ErrorType);
        Assert.Contains("ran out of KV cache", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChatStream_EndWithoutDone_IsAnErrorNotASilentTruncation()
    {
        await using var stub = await VllmStub.StartAsync("vllm-a");
        stub.Faults.Enqueue(new StubFault(FaultKind.EndWithoutDone));
        using var backend = new OpenAiUpstreamBackend(OptionsFor(stub), apiKey: null);

        var error = await Assert.ThrowsAsync<BackendException>(() => ToListAsync(backend.ChatStreamAsync(ChatRequest(), CancellationToken.None)));

        Assert.Equal("stream_interrupted", error.ErrorType);
        Assert.Contains("without data: [DONE]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChatStream_AnsweredWithPlainJson_IsABadGatewayBeforeAnyChunk()
    {
        await using var stub = await VllmStub.StartAsync("vllm-a");
        stub.Faults.Enqueue(new StubFault(FaultKind.Malformed));
        using var backend = new OpenAiUpstreamBackend(OptionsFor(stub), apiKey: null);

        var error = await Assert.ThrowsAsync<BackendException>(() => ToListAsync(backend.ChatStreamAsync(ChatRequest(), CancellationToken.None)));

        Assert.Equal(502, error.StatusCode);
        Assert.True(error.Retryable);
        Assert.Contains("not text/event-stream", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChatStream_OversizedSseLine_IsRejectedWithoutBuffering()
    {
        await using var stub = await VllmStub.StartAsync("vllm-a");
        stub.Faults.Enqueue(new StubFault(FaultKind.OversizedSseLine, Bytes: 256 * 1024, AfterChunks: 0));
        using var backend = new OpenAiUpstreamBackend(OptionsFor(stub) with { MaxSseLineBytes = 64 * 1024 }, apiKey: null);

        var error = await Assert.ThrowsAsync<BackendException>(() => ToListAsync(backend.ChatStreamAsync(ChatRequest(), CancellationToken.None)));

        Assert.Equal(502, error.StatusCode);
        Assert.True(error.Retryable, "nothing was passed on yet, so another backend may be tried");
        Assert.Contains("MaxSseLineBytes", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(FaultKind.Oversized)]
    [InlineData(FaultKind.OversizedWithLength)]
    public async Task Chat_OversizedUpstreamBody_IsRejected(FaultKind kind)
    {
        await using var stub = await VllmStub.StartAsync("vllm-a");
        stub.Faults.Enqueue(new StubFault(kind, Bytes: 2 * 1024 * 1024));
        using var backend = new OpenAiUpstreamBackend(OptionsFor(stub) with { MaxResponseBytes = 256 * 1024 }, apiKey: null);

        var error = await Assert.ThrowsAsync<BackendException>(() => backend.ChatAsync(ChatRequest(), CancellationToken.None));

        Assert.Equal(502, error.StatusCode);
        Assert.Equal("upstream_error", error.ErrorType);
        Assert.Contains("MaxResponseBytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Chat_MalformedJson_IsABadGateway()
    {
        await using var stub = await VllmStub.StartAsync("vllm-a");
        stub.Faults.Enqueue(new StubFault(FaultKind.Malformed));
        using var backend = new OpenAiUpstreamBackend(OptionsFor(stub), apiKey: null);

        var error = await Assert.ThrowsAsync<BackendException>(() => backend.ChatAsync(ChatRequest(), CancellationToken.None));

        Assert.Equal(502, error.StatusCode);
        Assert.Contains("not a JSON object", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Chat_AnErrorObjectWithInvalidUtf8_IsABadGateway_NotAnInvalidOperation()
    {
        await using var stub = await VllmStub.StartAsync("vllm-a");
        stub.Faults.Enqueue(new StubFault(FaultKind.InvalidUtf8Error));
        using var backend = new OpenAiUpstreamBackend(OptionsFor(stub), apiKey: null);

        var error = await Assert.ThrowsAsync<BackendException>(() => backend.ChatAsync(ChatRequest(), CancellationToken.None));

        Assert.Equal(502, error.StatusCode);
        Assert.Contains("not a JSON object", error.Message, StringComparison.Ordinal);
        Assert.Contains("not valid text", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChatStream_AnEventWithInvalidUtf8_EndsTheStreamAsABadGateway_AfterTheChunksBefore()
    {
        await using var stub = await VllmStub.StartAsync("vllm-a");
        stub.Faults.Enqueue(new StubFault(FaultKind.InvalidUtf8Error, AfterChunks: 1));
        using var backend = new OpenAiUpstreamBackend(OptionsFor(stub), apiKey: null);

        var chunks = 0;
        var error = await Assert.ThrowsAsync<BackendException>(async () =>
        {
            await foreach (var _ in backend.ChatStreamAsync(StreamingChatRequest(), CancellationToken.None))
            {
                chunks++;
            }
        });

        Assert.Equal(1, chunks);
        Assert.Equal(502, error.StatusCode);
        Assert.Contains("not a JSON object", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Chat_UpstreamBadRequest_KeepsStatusAndMessage_AndIsNotRetryable()
    {
        await using var stub = await VllmStub.StartAsync("vllm-a");
        stub.Faults.Enqueue(new StubFault(FaultKind.BadRequest));
        using var backend = new OpenAiUpstreamBackend(OptionsFor(stub), apiKey: null);

        var error = await Assert.ThrowsAsync<BackendException>(() => backend.ChatAsync(ChatRequest(), CancellationToken.None));

        Assert.Equal(400, error.StatusCode);
        Assert.Equal("invalid_request_error", error.ErrorType);
        Assert.Contains("max_tokens must be at least 1", error.Message, StringComparison.Ordinal);
        Assert.False(error.Retryable);
    }

    [Fact]
    public async Task Chat_RateLimited_Is429WithTheRetryAfter()
    {
        await using var stub = await VllmStub.StartAsync("vllm-a");
        stub.Faults.Enqueue(new StubFault(FaultKind.RateLimited, RetryAfter: "7"));
        using var backend = new OpenAiUpstreamBackend(OptionsFor(stub), apiKey: null);

        var error = await Assert.ThrowsAsync<BackendException>(() => backend.ChatAsync(ChatRequest(), CancellationToken.None));

        Assert.Equal(429, error.StatusCode);
        Assert.Equal("rate_limit_exceeded", error.ErrorType);
        Assert.Equal(TimeSpan.FromSeconds(7), error.RetryAfter);
        Assert.True(error.Retryable);
    }

    [Fact]
    public async Task Chat_ServerError_Is500AndRetryable()
    {
        await using var stub = await VllmStub.StartAsync("vllm-a");
        stub.Faults.Enqueue(new StubFault(FaultKind.ServerError));
        using var backend = new OpenAiUpstreamBackend(OptionsFor(stub), apiKey: null);

        var error = await Assert.ThrowsAsync<BackendException>(() => backend.ChatAsync(ChatRequest(), CancellationToken.None));

        Assert.Equal(500, error.StatusCode);
        Assert.Equal("server_error", error.ErrorType);
        Assert.Contains("the engine crashed", error.Message, StringComparison.Ordinal);
        Assert.True(error.Retryable);
    }

    [Fact]
    public async Task Chat_SendsTheApiKeyFromTheEnvironmentVariableAsBearer()
    {
        await using var stub = await VllmStub.StartAsync("vllm-a");
        const string key = "sk-upstream-test-0123456789";
        stub.RequiredKey = key;
        var variable = "ENCLAVE_TEST_UPSTREAM_KEY_" + Guid.NewGuid().ToString("N").ToUpperInvariant();
        Environment.SetEnvironmentVariable(variable, key);
        try
        {
            var options = OptionsFor(stub) with { ApiKeyReference = "env:" + variable };
            using var backend = OpenAiUpstreamBackend.Create(options);

            var response = await backend.ChatAsync(ChatRequest(), CancellationToken.None);
            var healthy = await backend.CheckHealthAsync(CancellationToken.None);

            Assert.Equal("Hello from vllm-a", ContentOf(response.Body));
            Assert.Equal("Bearer " + key, Assert.Single(stub.Received).Authorization);
            Assert.True(healthy, "health checks carry the key too");
            Assert.DoesNotContain(key, options.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    public async Task Chat_UpstreamRefusesTheGatewayKey_IsBadGatewayNamingTheReference_NotTheKey()
    {
        await using var stub = await VllmStub.StartAsync("vllm-a");
        stub.RequiredKey = "sk-the-right-one";
        using var backend = new OpenAiUpstreamBackend(OptionsFor(stub), apiKey: "sk-a-wrong-one");

        var error = await Assert.ThrowsAsync<BackendException>(() => backend.ChatAsync(ChatRequest(), CancellationToken.None));

        Assert.Equal(502, error.StatusCode);
        Assert.Equal("upstream_authentication_error", error.ErrorType);
        Assert.Contains("ApiKeyReference", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("sk-a-wrong-one", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Chat_UnreachableUpstream_IsARetryableBadGateway()
    {
        string baseUrl;
        await using (var stub = await VllmStub.StartAsync("gone"))
        {
            baseUrl = stub.BaseUrl;
        }

        var options = new UpstreamBackendOptions
        {
            Name = "gone",
            BaseUrl = baseUrl,
            Models = ["stub-model"],
            Labels = new UpstreamLabels { Classification = "UNCLASSIFIED", Jurisdiction = "FR" },
        };
        using var backend = new OpenAiUpstreamBackend(options, apiKey: null);

        var error = await Assert.ThrowsAsync<BackendException>(() => backend.ChatAsync(ChatRequest(), CancellationToken.None));
        var healthy = await backend.CheckHealthAsync(CancellationToken.None);

        Assert.Equal(502, error.StatusCode);
        Assert.Equal("upstream_unavailable", error.ErrorType);
        Assert.True(error.Retryable);
        Assert.False(healthy);
    }

    [Fact]
    public async Task Chat_SlowerThanTheTimeout_Is504()
    {
        await using var stub = await VllmStub.StartAsync("vllm-a");
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        stub.Hold = hold.Task;
        var time = new ManualTimeProvider();
        using var backend = new OpenAiUpstreamBackend(OptionsFor(stub) with { Timeout = TimeSpan.FromSeconds(30) }, apiKey: null, time);

        var call = backend.ChatAsync(ChatRequest(), CancellationToken.None);
        await EventuallyAsync(() => stub.ChatRequests == 1, "the stub holds the request");
        time.Advance(TimeSpan.FromSeconds(30));
        var error = await Assert.ThrowsAsync<BackendException>(() => Within(call));
        hold.SetResult();

        Assert.Equal(504, error.StatusCode);
        Assert.Equal("timeout", error.ErrorType);
        Assert.True(error.Retryable);
    }

    [Fact]
    public async Task Chat_CancelledByTheCaller_IsCancellationNotABackendError()
    {
        await using var stub = await VllmStub.StartAsync("vllm-a");
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        stub.Hold = hold.Task;
        using var backend = new OpenAiUpstreamBackend(OptionsFor(stub), apiKey: null);
        using var cancel = new CancellationTokenSource();

        var call = backend.ChatAsync(ChatRequest(), cancel.Token);
        await EventuallyAsync(() => stub.ChatRequests == 1, "the stub holds the request");
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Within(call));
        hold.SetResult();
    }

    [Fact]
    public async Task HealthCheck_FollowsTheConfiguredPath()
    {
        await using var stub = await VllmStub.StartAsync("vllm-a");
        using var viaModels = new OpenAiUpstreamBackend(OptionsFor(stub), apiKey: null);
        using var viaRoot = new OpenAiUpstreamBackend(OptionsFor(stub) with { HealthCheckPath = "/health" }, apiKey: null);

        Assert.True(await viaModels.CheckHealthAsync(CancellationToken.None));
        Assert.Equal(1, stub.ModelRequests);
        Assert.True(await viaRoot.CheckHealthAsync(CancellationToken.None));
        Assert.Equal(1, stub.ModelRequests);

        stub.Down = true;

        Assert.False(await viaModels.CheckHealthAsync(CancellationToken.None));
        Assert.False(await viaRoot.CheckHealthAsync(CancellationToken.None));
    }

    [Fact]
    public void Handler_NeverUsesAProxyFromTheEnvironment_NorFollowsRedirects()
    {
        var options = new UpstreamBackendOptions
        {
            Name = "a",
            BaseUrl = "http://127.0.0.1:9/v1",
            Models = ["m"],
            Labels = new UpstreamLabels { Classification = "UNCLASSIFIED", Jurisdiction = "FR" },
        };

        using var handler = OpenAiUpstreamBackend.CreateHandler(options);

        Assert.False(handler.UseProxy);
        Assert.Null(handler.Proxy);
        Assert.False(handler.AllowAutoRedirect);
        Assert.False(handler.UseCookies);
    }

    [Fact]
    public void Constructor_RejectsInvalidOptions_WithEveryProblem()
    {
        var error = Assert.Throws<UpstreamConfigurationException>(() => new OpenAiUpstreamBackend(new UpstreamBackendOptions(), apiKey: null));

        Assert.True(error.Problems.Count >= 4, string.Join("\n", error.Problems));
    }

    private static JsonObject ToolRequest() => new()
    {
        ["model"] = "stub-model",
        ["messages"] = new JsonArray(
            new JsonObject { ["role"] = "system", ["content"] = "Réponds en français 🇫🇷; use tools." },
            new JsonObject { ["role"] = "user", ["content"] = "Quel temps fait-il à Paris ? 天气" },
            new JsonObject
            {
                ["role"] = "assistant",
                ["content"] = null,
                ["tool_calls"] = new JsonArray(new JsonObject
                {
                    ["id"] = "call_0",
                    ["type"] = "function",
                    ["function"] = new JsonObject { ["name"] = "get_weather", ["arguments"] = "{\"city\":\"Lyon\"}" },
                }),
            },
            new JsonObject { ["role"] = "tool", ["tool_call_id"] = "call_0", ["content"] = "{\"temp\": 21.5}" }),
        ["tools"] = new JsonArray(new JsonObject
        {
            ["type"] = "function",
            ["function"] = new JsonObject
            {
                ["name"] = "get_weather",
                ["description"] = "Current weather for a city",
                ["parameters"] = new JsonObject
                {
                    ["type"] = "object",
                    ["properties"] = new JsonObject
                    {
                        ["city"] = new JsonObject { ["type"] = "string" },
                        ["unit"] = new JsonObject { ["type"] = "string", ["enum"] = new JsonArray("celsius", "fahrenheit") },
                    },
                    ["required"] = new JsonArray("city"),
                },
                ["strict"] = true,
            },
        }),
        ["tool_choice"] = new JsonObject { ["type"] = "function", ["function"] = new JsonObject { ["name"] = "get_weather" } },
        ["parallel_tool_calls"] = false,
        ["response_format"] = new JsonObject { ["type"] = "text" },
        ["logprobs"] = false,
        ["seed"] = 42,
    };
}
