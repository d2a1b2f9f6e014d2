using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using OpenAI;
using OpenAI.Responses;

#pragma warning disable OPENAI001 // the Responses client is marked experimental in the OpenAI package

namespace Enclave.EndToEnd.Tests;

/// <summary>
/// The official OpenAI .NET client's Responses support against <c>/v1/responses</c> on a real enclave on loopback: the
/// request goes the chat path (auth, policy, ledger) to the fixture's vLLM-like upstream; responses are stored in the
/// state layer, chained with <c>previous_response_id</c>, retrieved and deleted by their owner only.
/// </summary>
public sealed class ResponsesApiTests(EnclaveFixture enclave) : IClassFixture<EnclaveFixture>
{
    private ResponsesClient Client(string? key = null) => new OpenAIClient(
        new ApiKeyCredential(key ?? enclave.AdminKey),
        new OpenAIClientOptions { Endpoint = new Uri(enclave.BaseUrl + "/v1"), RetryPolicy = new ClientRetryPolicy(maxRetries: 0) }).GetResponsesClient();

    private HttpClient Http(string? key = null)
    {
        var http = new HttpClient { BaseAddress = new Uri(enclave.BaseUrl) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key ?? enclave.AdminKey);
        return http;
    }

    private static CreateResponseOptions Options(string text, string? previous = null)
    {
        var options = new CreateResponseOptions { Model = "echo-chat", PreviousResponseId = previous };
        options.InputItems.Add(ResponseItem.CreateUserMessageItem(text));
        return options;
    }

    [Fact]
    public async Task Create_IsAnsweredThroughTheChatPath_StoredAndRecorded()
    {
        var before = enclave.Entries().Count;
        var options = Options("hello responses");
        options.Instructions = "Be brief.";

        var response = (await Client().CreateResponseAsync(options)).Value;

        Assert.StartsWith("resp_", response.Id, StringComparison.Ordinal);
        Assert.Equal("echo: hello responses", response.GetOutputText());
        Assert.Equal(ResponseStatus.Completed, response.Status);
        Assert.True(response.Usage.InputTokenCount > 0);
        Assert.True(response.Usage.OutputTokenCount > 0);
        var sent = enclave.Upstream.LastChatRequest!;
        Assert.Equal("system", (string?)sent["messages"]![0]!["role"]);
        Assert.Equal("Be brief.", (string?)sent["messages"]![0]!["content"]);

        var entries = enclave.Entries().Skip(before).ToList();
        var admitted = entries.Single(e => e.Event.Type == "request.admitted");
        Assert.Equal("/v1/responses", admitted.Event.Details!.Value.GetProperty("endpoint").GetString());
        var completed = await EnclaveFixture.EventuallyAsync(() => enclave.CompletedEntry(admitted.Index));
        Assert.Equal("ok", completed.Details!.Value.GetProperty("outcome").GetString());
        var stored = enclave.Entries().Skip(before).Single(e => e.Event.Type == "response.stored").Event;
        Assert.Equal("response:" + response.Id, stored.Subject);
        Assert.Equal("user:admin", stored.Actor);
        Assert.Equal(admitted.Index, stored.Details!.Value.GetProperty("admittedIndex").GetInt64());
        Assert.Equal("UNCLASSIFIED", stored.Details!.Value.GetProperty("label").GetString());
    }

    [Fact]
    public async Task Stream_DeliversTheDocumentedEvents_InOrder_AndStoresTheResponse()
    {
        var types = new List<string>();
        var text = new StringBuilder();
        ResponseResult? final = null;
        var options = Options("one two three");
        options.StreamingEnabled = true;
        await foreach (var update in await Client().CreateResponseStreamingAsync(options))
        {
            types.Add(update switch
            {
                StreamingResponseCreatedUpdate => "response.created",
                StreamingResponseInProgressUpdate => "response.in_progress",
                StreamingResponseOutputItemAddedUpdate => "response.output_item.added",
                StreamingResponseContentPartAddedUpdate => "response.content_part.added",
                StreamingResponseOutputTextDeltaUpdate => "response.output_text.delta",
                StreamingResponseOutputTextDoneUpdate => "response.output_text.done",
                StreamingResponseContentPartDoneUpdate => "response.content_part.done",
                StreamingResponseOutputItemDoneUpdate => "response.output_item.done",
                StreamingResponseCompletedUpdate => "response.completed",
                _ => update.GetType().Name,
            });
            if (update is StreamingResponseOutputTextDeltaUpdate delta)
            {
                text.Append(delta.Delta);
            }

            if (update is StreamingResponseCompletedUpdate completed)
            {
                final = completed.Response;
            }
        }

        Assert.Equal("echo: one two three", text.ToString());
        Assert.Equal(
            ["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added"],
            types.Take(4));
        Assert.All(types.Skip(4).Take(4), t => Assert.Equal("response.output_text.delta", t));
        Assert.Equal(["response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed"], types.TakeLast(4));
        Assert.NotNull(final);
        Assert.Equal("echo: one two three", final.GetOutputText());
        Assert.True(final.Usage.OutputTokenCount > 0);

        var retrieved = (await Client().GetResponseAsync(final.Id)).Value;
        Assert.Equal("echo: one two three", retrieved.GetOutputText());
    }

    [Fact]
    public async Task Chain_SendsTheEarlierTurns_AndRetrieveAndDelete_Work()
    {
        var client = Client();
        var first = (await client.CreateResponseAsync(Options("first question"))).Value;

        var second = (await client.CreateResponseAsync(Options("second question", previous: first.Id))).Value;

        Assert.Equal(first.Id, second.PreviousResponseId);
        Assert.Equal("echo: second question", second.GetOutputText());
        var messages = enclave.Upstream.LastChatRequest!["messages"]!.AsArray();
        Assert.Equal(
            ["user:first question", "assistant:echo: first question", "user:second question"],
            messages.Select(m => $"{(string?)m!["role"]}:{(string?)m["content"]}"));

        var retrieved = (await client.GetResponseAsync(second.Id)).Value;
        Assert.Equal(second.Id, retrieved.Id);
        Assert.Equal("echo: second question", retrieved.GetOutputText());

        var deleted = (await client.DeleteResponseAsync(first.Id)).Value;
        Assert.True(deleted.Deleted);
        var gone = await Assert.ThrowsAsync<ClientResultException>(() => client.GetResponseAsync(first.Id));
        Assert.Equal(404, gone.Status);
        var chainGone = await Assert.ThrowsAsync<ClientResultException>(() => client.CreateResponseAsync(Options("third", previous: first.Id)));
        Assert.Equal(404, chainGone.Status);
        Assert.Contains(enclave.Entries(), e => e.Event.Type == "response.deleted" && e.Event.Subject == "response:" + first.Id);
    }

    [Fact]
    public async Task FunctionTools_ArePassedOnAsChatTools_AndTheCallResultChains()
    {
        var client = Client();
        var options = Options("weather in Oslo?");
        options.Tools.Add(ResponseTool.CreateFunctionTool(
            "get_weather",
            BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}"""),
            strictModeEnabled: false,
            functionDescription: "the weather"));

        var response = (await client.CreateResponseAsync(options)).Value;

        var tools = enclave.Upstream.LastChatRequest!["tools"]!.AsArray();
        Assert.Equal("get_weather", (string?)tools[0]!["function"]!["name"]);
        Assert.Equal("function", (string?)tools[0]!["type"]);
        var call = Assert.IsType<FunctionCallResponseItem>(Assert.Single(response.OutputItems));
        Assert.Equal("get_weather", call.FunctionName);
        Assert.Equal("""{"city":"Oslo"}""", call.FunctionArguments.ToString());

        var next = new CreateResponseOptions { Model = "echo-chat", PreviousResponseId = response.Id };
        next.InputItems.Add(ResponseItem.CreateFunctionCallOutputItem(call.CallId, "sunny"));
        var answer = (await client.CreateResponseAsync(next)).Value;

        Assert.Equal("echo: sunny", answer.GetOutputText());
        var messages = enclave.Upstream.LastChatRequest!["messages"]!.AsArray();
        Assert.Equal(call.CallId, (string?)messages[1]!["tool_calls"]![0]!["id"]);
        Assert.Equal("tool", (string?)messages[2]!["role"]);
        Assert.Equal(call.CallId, (string?)messages[2]!["tool_call_id"]);
    }

    [Fact]
    public async Task StreamedFunctionCall_ArrivesAsFunctionCallEvents_AndTheFinalResponseHoldsTheCall()
    {
        var options = Options("weather in Oslo?");
        options.StreamingEnabled = true;
        options.Tools.Add(ResponseTool.CreateFunctionTool("get_weather", BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}}}"""), strictModeEnabled: false));
        var types = new List<string>();
        var arguments = new StringBuilder();
        ResponseResult? final = null;

        await foreach (var update in await Client().CreateResponseStreamingAsync(options))
        {
            types.Add(update.GetType().Name);
            if (update is StreamingResponseFunctionCallArgumentsDeltaUpdate delta)
            {
                arguments.Append(delta.Delta);
            }

            if (update is StreamingResponseCompletedUpdate completed)
            {
                final = completed.Response;
            }
        }

        Assert.Equal(
            [
                nameof(StreamingResponseCreatedUpdate), nameof(StreamingResponseInProgressUpdate), nameof(StreamingResponseOutputItemAddedUpdate),
                nameof(StreamingResponseFunctionCallArgumentsDeltaUpdate), nameof(StreamingResponseFunctionCallArgumentsDeltaUpdate),
                nameof(StreamingResponseFunctionCallArgumentsDoneUpdate), nameof(StreamingResponseOutputItemDoneUpdate), nameof(StreamingResponseCompletedUpdate),
            ],
            types);
        Assert.Equal("""{"city":"Oslo"}""", arguments.ToString());
        var call = Assert.IsType<FunctionCallResponseItem>(Assert.Single(final!.OutputItems));
        Assert.Equal("get_weather", call.FunctionName);
        Assert.Equal("call_1", call.CallId);
        Assert.Equal("""{"city":"Oslo"}""", call.FunctionArguments.ToString());
        Assert.Equal("get_weather", (string?)enclave.Upstream.LastChatRequest!["tools"]![0]!["function"]!["name"]);
    }

    [Fact]
    public async Task TextFormat_JsonSchema_BecomesTheChatResponseFormat()
    {
        var options = Options("give me json");
        options.TextOptions = new ResponseTextOptions
        {
            TextFormat = ResponseTextFormat.CreateJsonSchemaFormat(
                "answer",
                BinaryData.FromString("""{"type":"object","properties":{"a":{"type":"string"}},"required":["a"],"additionalProperties":false}"""),
                jsonSchemaIsStrict: true),
        };

        await Client().CreateResponseAsync(options);

        var format = enclave.Upstream.LastChatRequest!["response_format"]!;
        Assert.Equal("json_schema", (string?)format["type"]);
        Assert.Equal("answer", (string?)format["json_schema"]!["name"]);
        Assert.True((bool?)format["json_schema"]!["strict"]);
        Assert.Equal("object", (string?)format["json_schema"]!["schema"]!["type"]);
    }

    [Fact]
    public async Task AResponse_IsVisibleOnlyToItsOwner_AndToAdmins()
    {
        var alice = await UserKeyAsync("resp-alice");
        var bob = await UserKeyAsync("resp-bob");
        var mine = (await Client(alice).CreateResponseAsync(Options("alice's secret"))).Value;

        using var asBob = Http(bob);
        Assert.Equal(HttpStatusCode.NotFound, (await asBob.GetAsync("/v1/responses/" + mine.Id)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await asBob.DeleteAsync("/v1/responses/" + mine.Id)).StatusCode);
        var chained = await asBob.PostAsync("/v1/responses", Json(new JsonObject { ["model"] = "echo-chat", ["input"] = "go on", ["previous_response_id"] = mine.Id }));
        Assert.Equal(HttpStatusCode.NotFound, chained.StatusCode);
        Assert.Equal("previous_response_id", (string?)(await chained.Content.ReadFromJsonAsync<JsonObject>())!["error"]!["param"]);

        Assert.Equal("echo: alice's secret", (await Client(alice).GetResponseAsync(mine.Id)).Value.GetOutputText());
        var before = enclave.Entries().Count;
        Assert.Equal("echo: alice's secret", (await Client().GetResponseAsync(mine.Id)).Value.GetOutputText());
        var read = enclave.Entries().Skip(before).Single(e => e.Event.Type == "response.read").Event;
        Assert.Equal("user:admin", read.Actor);
        Assert.Equal("user:resp-alice", read.Details!.Value.GetProperty("owner").GetString());
    }

    [Fact]
    public async Task UnsupportedParameters_Are400NamingThem_AndStoreFalseIsNotStored()
    {
        using var http = Http();
        var refused = await http.PostAsync("/v1/responses", Json(new JsonObject { ["model"] = "echo-chat", ["input"] = "x", ["reasoning"] = new JsonObject { ["effort"] = "high" }, ["conversation"] = "c" }));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var error = (await refused.Content.ReadFromJsonAsync<JsonObject>())!["error"]!;
        Assert.Equal("reasoning", (string?)error["param"]);
        Assert.Contains("'conversation'", (string?)error["message"], StringComparison.Ordinal);

        var webSearch = await http.PostAsync("/v1/responses", Json(new JsonObject { ["model"] = "echo-chat", ["input"] = "x", ["tools"] = new JsonArray(new JsonObject { ["type"] = "web_search" }) }));
        Assert.Equal(HttpStatusCode.BadRequest, webSearch.StatusCode);
        Assert.Equal("tools[0].type", (string?)(await webSearch.Content.ReadFromJsonAsync<JsonObject>())!["error"]!["param"]);

        var wrongType = await http.PostAsync("/v1/responses", Json(new JsonObject { ["model"] = "echo-chat", ["input"] = "x", ["store"] = "yes" }));
        Assert.Equal(HttpStatusCode.BadRequest, wrongType.StatusCode);
        Assert.Equal("store", (string?)(await wrongType.Content.ReadFromJsonAsync<JsonObject>())!["error"]!["param"]);

        var unstored = await http.PostAsync("/v1/responses", Json(new JsonObject { ["model"] = "echo-chat", ["input"] = "not kept", ["store"] = false }));
        Assert.Equal(HttpStatusCode.OK, unstored.StatusCode);
        var id = (string)(await unstored.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/v1/responses/" + id)).StatusCode);
    }

    [Theory]
    [InlineData("""{"model":"echo-chat","input":42}""", "input")]
    [InlineData("""{"model":"echo-chat","input":[]}""", "input")]
    [InlineData("""{"model":"echo-chat","input":[{"type":"message","content":"no role"}]}""", "input[0].role")]
    [InlineData("""{"model":"echo-chat","input":[{"role":"tool","content":"x"}]}""", "input[0].role")]
    [InlineData("""{"model":"echo-chat","input":[{"role":"user","content":[{"type":"input_file","file_id":"f"}]}]}""", "input[0].content[0].type")]
    [InlineData("""{"model":"echo-chat","input":[{"type":"item_reference","id":"msg_1"}]}""", "input[0].type")]
    [InlineData("""{"model":"echo-chat","input":[{"type":"function_call_output","output":"x"}]}""", "input[0].call_id")]
    [InlineData("""{"model":"echo-chat","input":"x","tool_choice":"sometimes"}""", "tool_choice")]
    [InlineData("""{"model":"echo-chat","input":"x","text":{"format":{"type":"json_schema","name":"a"}}}""", "text.format.schema")]
    [InlineData("""{"model":"echo-chat","input":"x","text":{"format":{"type":"xml"}}}""", "text.format.type")]
    [InlineData("""{"model":"echo-chat","input":"x","max_output_tokens":0}""", "max_output_tokens")]
    [InlineData("""{"model":"echo-chat","input":"x","metadata":{"a":1}}""", "metadata")]
    [InlineData("""{"model":"echo-chat","input":"x","truncation":"auto"}""", "truncation")]
    [InlineData("""{"model":"echo-chat","input":"x","previous_response_id":7}""", "previous_response_id")]
    [InlineData("""{"input":"x"}""", "model")]
    public async Task MalformedOrUnservableRequests_Are400NamingTheParameter_AndReachNoBackend(string body, string param)
    {
        using var http = Http();
        var before = enclave.Upstream.Requests;

        var response = await http.PostAsync("/v1/responses", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await response.Content.ReadFromJsonAsync<JsonObject>())!["error"]!;
        Assert.Equal(param, (string?)error["param"]);
        Assert.Equal("invalid_request_error", (string?)error["type"]);
        Assert.Equal(before, enclave.Upstream.Requests);
    }

    [Fact]
    public async Task ATruncatedBody_IsA400ErrorObject_NeverA500()
    {
        using var http = Http();

        var truncated = await http.PostAsync("/v1/responses", new StringContent("""{"model":"echo-chat","input":[{"role":"user","cont""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, truncated.StatusCode);
        Assert.Equal("invalid_request_error", (string?)(await truncated.Content.ReadFromJsonAsync<JsonObject>())!["error"]!["type"]);
    }

    private static StringContent Json(JsonObject body) => new(body.ToJsonString(), Encoding.UTF8, "application/json");

    private async Task<string> UserKeyAsync(string name)
    {
        using var http = Http();
        var added = await http.PostAsJsonAsync("/admin/v1/users", new JsonObject { ["name"] = name, ["roles"] = new JsonArray("user") });
        Assert.True(added.IsSuccessStatusCode, await added.Content.ReadAsStringAsync());
        var created = await http.PostAsJsonAsync("/admin/v1/keys", new JsonObject { ["user"] = name });
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        return (string)(await created.Content.ReadFromJsonAsync<JsonObject>())!["key"]!;
    }
}
