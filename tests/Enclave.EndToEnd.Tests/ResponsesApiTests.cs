using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Enclave.State.Responses;
using Microsoft.Extensions.DependencyInjection;
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

    [Fact]
    public async Task Background_IsAnsweredQueued_ThenRunsToCompletion_AndGetPollsIt()
    {
        var client = Client();
        var before = enclave.Entries().Count;
        var options = Options("in the background");
        options.BackgroundModeEnabled = true;

        var created = (await client.CreateResponseAsync(options)).Value;

        Assert.Equal(ResponseStatus.Queued, created.Status);
        Assert.True(created.BackgroundModeEnabled);
        Assert.Empty(created.OutputItems);
        var done = await PollAsync(client, created.Id);
        Assert.Equal(ResponseStatus.Completed, done.Status);
        Assert.Equal("echo: in the background", done.GetOutputText());
        Assert.True(done.Usage.OutputTokenCount > 0);

        var admitted = enclave.Entries().Skip(before).Single(e => e.Event.Type == "request.admitted");
        Assert.Equal("/v1/responses", admitted.Event.Details!.Value.GetProperty("endpoint").GetString());
        var stored = enclave.Entries().Skip(before).Single(e => e.Event.Type == "response.stored");
        Assert.Equal("response:" + created.Id, stored.Event.Subject);
        Assert.True(stored.Index > admitted.Index);
        var completed = await EnclaveFixture.EventuallyAsync(() => enclave.CompletedEntry(admitted.Index));
        Assert.Equal("ok", completed.Details!.Value.GetProperty("outcome").GetString());

        // Once completed it continues a chain like any response.
        var next = (await client.CreateResponseAsync(Options("and then", previous: created.Id))).Value;
        Assert.Equal(
            ["user:in the background", "assistant:echo: in the background", "user:and then"],
            enclave.Upstream.LastChatRequest!["messages"]!.AsArray().Select(m => $"{(string?)m!["role"]}:{(string?)m["content"]}"));
        Assert.Equal(ResponseStatus.Completed, next.Status);
    }

    [Fact]
    public async Task Cancel_StopsARunningBackgroundResponse_RecordsIt_AndASecondCancelChangesNothing()
    {
        var client = Client();
        var before = enclave.Entries().Count;
        var options = new CreateResponseOptions { Model = "slow", BackgroundModeEnabled = true };
        options.InputItems.Add(ResponseItem.CreateUserMessageItem("take your time"));
        var created = (await client.CreateResponseAsync(options)).Value;
        var admitted = enclave.Entries().Skip(before).Single(e => e.Event.Type == "request.admitted");

        var cancelled = (await client.CancelResponseAsync(created.Id)).Value;

        Assert.Equal(ResponseStatus.Cancelled, cancelled.Status);
        Assert.Equal(created.Id, cancelled.Id);
        Assert.Equal(ResponseStatus.Cancelled, (await client.GetResponseAsync(created.Id)).Value.Status);
        var entry = enclave.Entries().Skip(before).Single(e => e.Event.Type == "response.cancelled").Event;
        Assert.Equal("user:admin", entry.Actor);
        Assert.Equal("response:" + created.Id, entry.Subject);
        Assert.Contains(entry.Details!.Value.GetProperty("status").GetString(), new[] { "queued", "in_progress" });
        // The generation is stopped (the slow upstream would hold it for 30 seconds): its completion says cancelled.
        var completed = await EnclaveFixture.EventuallyAsync(() => enclave.CompletedEntry(admitted.Index));
        Assert.Equal("cancelled", completed.Details!.Value.GetProperty("outcome").GetString());
        Assert.Equal(499, completed.Details!.Value.GetProperty("status").GetInt32());

        var again = (await client.CancelResponseAsync(created.Id)).Value;
        Assert.Equal(ResponseStatus.Cancelled, again.Status);
        Assert.Single(enclave.Entries().Skip(before), e => e.Event.Type == "response.cancelled");
        Assert.Equal(ResponseStatus.Cancelled, (await client.GetResponseAsync(created.Id)).Value.Status);
    }

    [Fact]
    public async Task Cancel_OfAResponseNotInBackground_OrEnded_Is400AsOpenAiAnswers_AndOfAnUnknownOne404()
    {
        var client = Client();
        var foreground = (await client.CreateResponseAsync(Options("right now"))).Value;
        var options = Options("soon");
        options.BackgroundModeEnabled = true;
        var background = (await client.CreateResponseAsync(options)).Value;
        await PollAsync(client, background.Id);
        using var http = Http();

        var notBackground = await http.PostAsync($"/v1/responses/{foreground.Id}/cancel", null);
        var ended = await http.PostAsync($"/v1/responses/{background.Id}/cancel", null);
        var unknown = await http.PostAsync("/v1/responses/resp_unknown/cancel", null);

        Assert.Equal(HttpStatusCode.BadRequest, notBackground.StatusCode);
        Assert.Equal("Only responses created with background set to true can be cancelled.", (string?)(await notBackground.Content.ReadFromJsonAsync<JsonObject>())!["error"]!["message"]);
        Assert.Equal(HttpStatusCode.BadRequest, ended.StatusCode);
        var error = (await ended.Content.ReadFromJsonAsync<JsonObject>())!["error"]!;
        Assert.Equal("Cannot cancel a completed response.", (string?)error["message"]);
        Assert.Equal("invalid_request_error", (string?)error["type"]);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(ResponseStatus.Completed, (await client.GetResponseAsync(background.Id)).Value.Status);
        var thrown = await Assert.ThrowsAsync<ClientResultException>(() => client.CancelResponseAsync(foreground.Id));
        Assert.Equal(400, thrown.Status);
    }

    [Fact]
    public async Task Background_OfAFailingBackend_EndsFailedWithItsError()
    {
        var client = Client();
        var options = new CreateResponseOptions { Model = "broken", BackgroundModeEnabled = true };
        options.InputItems.Add(ResponseItem.CreateUserMessageItem("crash"));

        var created = (await client.CreateResponseAsync(options)).Value;
        var failed = await PollAsync(client, created.Id);

        Assert.Equal(ResponseStatus.Failed, failed.Status);
        using var http = Http();
        var raw = (await http.GetFromJsonAsync<JsonObject>("/v1/responses/" + created.Id))!;
        Assert.Equal("failed", (string?)raw["status"]);
        Assert.False(string.IsNullOrEmpty((string?)raw["error"]!["message"]));
        var chained = await http.PostAsync("/v1/responses", Json(new JsonObject { ["model"] = "echo-chat", ["input"] = "go on", ["previous_response_id"] = created.Id }));
        Assert.Equal(HttpStatusCode.BadRequest, chained.StatusCode);
        Assert.Equal("previous_response_id", (string?)(await chained.Content.ReadFromJsonAsync<JsonObject>())!["error"]!["param"]);
    }

    [Theory]
    [InlineData("""{"model":"echo-chat","input":"x","background":true,"stream":true}""", "stream")]
    [InlineData("""{"model":"echo-chat","input":"x","background":true,"store":false}""", "store")]
    [InlineData("""{"model":"echo-chat","input":"x","background":"yes"}""", "background")]
    public async Task Background_WithStreamOrWithoutStore_Is400NamingIt_AndReachesNoBackend(string body, string param)
    {
        using var http = Http();
        var before = enclave.Upstream.Requests;

        var response = await http.PostAsync("/v1/responses", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(param, (string?)(await response.Content.ReadFromJsonAsync<JsonObject>())!["error"]!["param"]);
        Assert.Equal(before, enclave.Upstream.Requests);
    }

    [Fact]
    public async Task InputItems_ListTheRequestsItems_WithIds_NewestFirst_AndPageThroughThem()
    {
        var client = Client();
        var options = new CreateResponseOptions { Model = "echo-chat" };
        options.InputItems.Add(ResponseItem.CreateDeveloperMessageItem("be terse"));
        options.InputItems.Add(ResponseItem.CreateUserMessageItem("one"));
        options.InputItems.Add(ResponseItem.CreateAssistantMessageItem("two"));
        options.InputItems.Add(ResponseItem.CreateUserMessageItem("three"));
        var response = (await client.CreateResponseAsync(options)).Value;

        // The official client pages with 'after' and 'has_more'.
        var listed = new List<ResponseItem>();
        await foreach (var item in client.GetResponseInputItemsAsync(new ResponseItemCollectionOptions(response.Id) { PageSizeLimit = 1 }))
        {
            listed.Add(item);
        }

        Assert.Equal(4, listed.Count);
        Assert.All(listed, i => Assert.False(string.IsNullOrEmpty(i.Id)));
        Assert.Equal(4, listed.Select(i => i.Id).Distinct().Count());
        Assert.Equal(["three", "two", "one", "be terse"], listed.Select(i => ((MessageResponseItem)i).Content[0].Text));

        using var http = Http();
        var first = (await http.GetFromJsonAsync<JsonObject>($"/v1/responses/{response.Id}/input_items?order=asc&limit=3"))!;
        Assert.Equal("list", (string?)first["object"]);
        Assert.True((bool)first["has_more"]!);
        var data = first["data"]!.AsArray();
        Assert.Equal(["developer:input_text:be terse", "user:input_text:one", "assistant:output_text:two"], data.Select(i => $"{i!["role"]}:{i["content"]![0]!["type"]}:{i["content"]![0]!["text"]}"));
        Assert.All(data, i => Assert.Equal("message", (string?)i!["type"]));
        Assert.Equal((string?)data[0]!["id"], (string?)first["first_id"]);
        Assert.Equal((string?)data[2]!["id"], (string?)first["last_id"]);

        var rest = (await http.GetFromJsonAsync<JsonObject>($"/v1/responses/{response.Id}/input_items?order=asc&limit=3&after={first["last_id"]}"))!;
        Assert.False((bool)rest["has_more"]!);
        Assert.Equal("three", (string?)Assert.Single(rest["data"]!.AsArray())!["content"]![0]!["text"]);

        var back = (await http.GetFromJsonAsync<JsonObject>($"/v1/responses/{response.Id}/input_items?order=asc&limit=1&before={first["last_id"]}"))!;
        Assert.Equal("one", (string?)Assert.Single(back["data"]!.AsArray())!["content"]![0]!["text"]);
        Assert.True((bool)back["has_more"]!);

        // A string input is one user message with one input_text part.
        var simple = (await http.PostAsync("/v1/responses", Json(new JsonObject { ["model"] = "echo-chat", ["input"] = "plain" }))).Content;
        var simpleId = (string)(await simple.ReadFromJsonAsync<JsonObject>())!["id"]!;
        var plain = (await http.GetFromJsonAsync<JsonObject>($"/v1/responses/{simpleId}/input_items"))!;
        var only = Assert.Single(plain["data"]!.AsArray())!;
        Assert.Equal(("user", "input_text", "plain"), ((string?)only["role"], (string?)only["content"]![0]!["type"], (string?)only["content"]![0]!["text"]));
        Assert.StartsWith("msg_", (string?)only["id"], StringComparison.Ordinal);
        Assert.False((bool)plain["has_more"]!);
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=101", "limit")]
    [InlineData("limit=ten", "limit")]
    [InlineData("order=sideways", "order")]
    [InlineData("after=msg_nothere", "after")]
    [InlineData("before=msg_nothere", "before")]
    [InlineData("include=message.input_image.image_url", "include")]
    [InlineData("limit=1&limit=2", "limit")]
    [InlineData("page=2", "page")]
    public async Task InputItems_WithABadQuery_Is400NamingTheParameter(string query, string param)
    {
        var response = (await Client().CreateResponseAsync(Options("listed"))).Value;
        using var http = Http();

        var listed = await http.GetAsync($"/v1/responses/{response.Id}/input_items?{query}");

        Assert.Equal(HttpStatusCode.BadRequest, listed.StatusCode);
        var error = (await listed.Content.ReadFromJsonAsync<JsonObject>())!["error"]!;
        Assert.Equal(param, (string?)error["param"]);
        Assert.Equal("invalid_request_error", (string?)error["type"]);
    }

    [Fact]
    public async Task InputItems_AndCancel_OfAnotherPrincipalsResponse_Are404()
    {
        var alice = await UserKeyAsync("resp-carol");
        var bob = await UserKeyAsync("resp-dave");
        var options = new CreateResponseOptions { Model = "slow", BackgroundModeEnabled = true };
        options.InputItems.Add(ResponseItem.CreateUserMessageItem("carol's"));
        var hers = (await Client(alice).CreateResponseAsync(options)).Value;
        using var asBob = Http(bob);

        Assert.Equal(HttpStatusCode.NotFound, (await asBob.GetAsync($"/v1/responses/{hers.Id}/input_items")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await asBob.PostAsync($"/v1/responses/{hers.Id}/cancel", null)).StatusCode);
        Assert.NotEqual(ResponseStatus.Cancelled, (await Client(alice).GetResponseAsync(hers.Id)).Value.Status);

        Assert.Equal(ResponseStatus.Cancelled, (await Client(alice).CancelResponseAsync(hers.Id)).Value.Status);
        Assert.Single(await ToListAsync(Client(alice).GetResponseInputItemsAsync(new ResponseItemCollectionOptions(hers.Id))));
    }

    [Fact]
    public async Task ExpiredResponses_Are404LikeUnknownOnes_AndThePurgeDeletesAndRecordsThem()
    {
        var store = enclave.Services.GetRequiredService<IResponseStore>();
        var fresh = (await Client().CreateResponseAsync(Options("still fresh"))).Value;
        var row = store.Get(fresh.Id)!;
        var expiredId = "resp_expired" + Guid.NewGuid().ToString("N");
        store.Put(row with { Id = expiredId, Created = DateTimeOffset.UtcNow - TimeSpan.FromDays(30) - TimeSpan.FromMinutes(1) });
        using var http = Http();

        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/v1/responses/" + expiredId)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"/v1/responses/{expiredId}/input_items")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.PostAsync($"/v1/responses/{expiredId}/cancel", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.DeleteAsync("/v1/responses/" + expiredId)).StatusCode);
        var chained = await http.PostAsync("/v1/responses", Json(new JsonObject { ["model"] = "echo-chat", ["input"] = "go on", ["previous_response_id"] = expiredId }));
        Assert.Equal(HttpStatusCode.NotFound, chained.StatusCode);
        Assert.NotNull(store.Get(expiredId));
        var before = enclave.Entries().Count;

        var purged = await enclave.Services.GetRequiredService<Enclave.Server.Responses.ResponseService>().PurgeAsync();

        Assert.True(purged >= 1);
        Assert.Null(store.Get(expiredId));
        Assert.NotNull(store.Get(fresh.Id));
        var entry = enclave.Entries().Skip(before).Single(e => e.Event.Type == "responses.purged").Event;
        Assert.Equal("system", entry.Actor);
        Assert.Equal(purged, entry.Details!.Value.GetProperty("count").GetInt32());
        Assert.Equal(30, entry.Details!.Value.GetProperty("retentionDays").GetInt32());
        Assert.Equal(0, await enclave.Services.GetRequiredService<Enclave.Server.Responses.ResponseService>().PurgeAsync());
        Assert.Single(enclave.Entries().Skip(before), e => e.Event.Type == "responses.purged");
        Assert.Equal("echo: still fresh", (await Client().GetResponseAsync(fresh.Id)).Value.GetOutputText());
    }

    private static async Task<ResponseResult> PollAsync(ResponsesClient client, string id)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var response = (await client.GetResponseAsync(id)).Value;
            if (response.Status != ResponseStatus.Queued && response.Status != ResponseStatus.InProgress)
            {
                return response;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"response {id} still {response.Status} after 10 seconds");
            }

            await Task.Delay(20);
        }
    }

    private static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (var item in items)
        {
            list.Add(item);
        }

        return list;
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
