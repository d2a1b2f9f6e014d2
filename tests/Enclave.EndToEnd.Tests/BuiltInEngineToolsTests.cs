using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using OpenAI;
using OpenAI.Chat;

namespace Enclave.EndToEnd.Tests;

/// <summary>
/// The official OpenAI .NET client against <c>enclave up</c>'s demo chat model (random weights, the Qwen2.5 chat
/// template with tools) on the built-in engine: a tool-calling round trip made deterministic by a named or required
/// <c>tool_choice</c> (constrained decoding), streamed tool calls, <c>n</c> choices and logprobs.
/// </summary>
public sealed class BuiltInEngineToolsTests : IDisposable
{
    private const string WeatherSchema = """
        {"type":"object","properties":{"city":{"type":"string","minLength":1,"maxLength":12},"unit":{"type":"string","enum":["c","f"]}},"required":["city","unit"],"additionalProperties":false}
        """;

    private static readonly ChatTool Weather = ChatTool.CreateFunctionTool("get_weather", "Weather in a city.", BinaryData.FromString(WeatherSchema), functionSchemaIsStrict: true);
    private static readonly ChatTool Now = ChatTool.CreateFunctionTool("now", "The time.");

    private readonly string _root = Directory.CreateTempSubdirectory("enclave-tools-").FullName;

    [Fact]
    public async Task OfficialClient_ToolRoundTrip_StreamedCalls_N_AndLogprobs_OnTheBuiltInEngine()
    {
        var url = $"http://127.0.0.1:{ServeProcess.FreePort()}";
        using var process = ServeProcess.Start(null, "up", "--data", Path.Combine(_root, "up-data"), "--urls", url, "--json");
        try
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            var line = await process.StandardOutput.ReadLineAsync(deadline.Token);
            Assert.True(line is not null, "enclave up printed nothing: " + (line is null ? await process.StandardError.ReadToEndAsync() : string.Empty));
            var ready = JsonNode.Parse(line!)!.AsObject();
            var client = new OpenAIClient(new ApiKeyCredential(ready["apiKey"]!.GetValue<string>()), new OpenAIClientOptions { Endpoint = new Uri(url + "/v1"), RetryPolicy = new ClientRetryPolicy(0) });
            var model = ready["chatModel"]!.GetValue<string>();
            var chat = client.GetChatClient(model);

            await RoundTrip(chat);
            await RequiredChoice(chat);
            await StreamedCall(chat);
            await Choices(chat, model);
            await Logprobs(chat);
            await AnthropicMessagesToolUse(url, ready["apiKey"]!.GetValue<string>(), model);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    public void Dispose() => Directory.Delete(_root, true);

    /// <summary>
    /// The same forced call through <c>/v1/messages</c> as a client written for Claude sends it (Anthropic tools,
    /// <c>tool_choice</c> of type tool, the key in <c>x-api-key</c>): a <c>tool_use</c> block whose input the schema
    /// admits, whole and as streamed <c>input_json_delta</c> events.
    /// </summary>
    private static async Task AnthropicMessagesToolUse(string url, string apiKey, string model)
    {
        using var http = new HttpClient { BaseAddress = new Uri(url) };
        JsonObject Request(bool stream) => new()
        {
            ["model"] = model,
            ["max_tokens"] = 100,
            ["stream"] = stream,
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "Weather in Oslo?" }),
            ["tools"] = new JsonArray(new JsonObject { ["name"] = "get_weather", ["description"] = "Weather in a city.", ["input_schema"] = JsonNode.Parse(WeatherSchema) }),
            ["tool_choice"] = new JsonObject { ["type"] = "tool", ["name"] = "get_weather" },
        };
        HttpRequestMessage Post(bool stream)
        {
            var message = new HttpRequestMessage(HttpMethod.Post, "/v1/messages") { Content = new StringContent(Request(stream).ToJsonString(), Encoding.UTF8, "application/json") };
            message.Headers.Add("x-api-key", apiKey);
            message.Headers.Add("anthropic-version", "2023-06-01");
            return message;
        }

        using var whole = await http.SendAsync(Post(stream: false));
        var body = await whole.Content.ReadAsStringAsync();
        Assert.True(whole.IsSuccessStatusCode, body);
        var answer = JsonNode.Parse(body)!.AsObject();
        Assert.Equal("tool_use", answer["stop_reason"]!.GetValue<string>());
        var use = Assert.Single(answer["content"]!.AsArray(), b => b!["type"]!.GetValue<string>() == "tool_use")!;
        Assert.Equal("get_weather", use["name"]!.GetValue<string>());
        AssertWeatherArguments(use["input"]!.ToJsonString());

        using var streamed = await http.SendAsync(Post(stream: true), HttpCompletionOption.ResponseHeadersRead);
        var events = await streamed.Content.ReadAsStringAsync();
        Assert.True(streamed.IsSuccessStatusCode, events);
        var data = events.Split('\n').Where(l => l.StartsWith("data: ", StringComparison.Ordinal)).Select(l => JsonNode.Parse(l["data: ".Length..])!.AsObject()).ToList();
        Assert.Contains(data, d => d["type"]!.GetValue<string>() == "content_block_start" && d["content_block"]!["type"]!.GetValue<string>() == "tool_use" && d["content_block"]!["name"]!.GetValue<string>() == "get_weather");
        var partial = string.Concat(data.Where(d => d["type"]!.GetValue<string>() == "content_block_delta" && d["delta"]!["type"]!.GetValue<string>() == "input_json_delta").Select(d => d["delta"]!["partial_json"]!.GetValue<string>()));
        AssertWeatherArguments(partial);
        Assert.Contains(data, d => d["type"]!.GetValue<string>() == "message_delta" && d["delta"]!["stop_reason"]!.GetValue<string>() == "tool_use");
    }

    /// <summary>Call (forced by name), tool result, final answer: the conversation goes back through the model's template.</summary>
    private static async Task RoundTrip(ChatClient chat)
    {
        List<ChatMessage> messages = [new UserChatMessage("Weather in Oslo?")];
        var options = new ChatCompletionOptions { Tools = { Weather, Now }, ToolChoice = ChatToolChoice.CreateFunctionChoice("get_weather"), MaxOutputTokenCount = 100 };
        var first = (await chat.CompleteChatAsync(messages, options)).Value;
        Assert.Equal(ChatFinishReason.Stop, first.FinishReason); // OpenAI's finish reason for a named function
        var call = Assert.Single(first.ToolCalls);
        Assert.Equal("get_weather", call.FunctionName);
        Assert.StartsWith("call_", call.Id, StringComparison.Ordinal);
        AssertWeatherArguments(call.FunctionArguments.ToString());

        messages.Add(new AssistantChatMessage(first));
        messages.Add(new ToolChatMessage(call.Id, "21 degrees and clear"));
        var none = new ChatCompletionOptions { Tools = { Weather, Now }, ToolChoice = ChatToolChoice.CreateNoneChoice(), MaxOutputTokenCount = 8 };
        var final = (await chat.CompleteChatAsync(messages, none)).Value;
        Assert.Empty(final.ToolCalls);
        Assert.Equal(ChatFinishReason.Length, final.FinishReason);
        var question = (await chat.CompleteChatAsync([new UserChatMessage("Weather in Oslo?")], none)).Value;
        Assert.True(final.Usage.InputTokenCount > question.Usage.InputTokenCount + 20, "the call and its result are in the prompt");
    }

    private static async Task RequiredChoice(ChatClient chat)
    {
        var options = new ChatCompletionOptions { Tools = { Weather, Now }, ToolChoice = ChatToolChoice.CreateRequiredChoice(), MaxOutputTokenCount = 100 };
        var answer = (await chat.CompleteChatAsync([new UserChatMessage("Anything")], options)).Value;
        Assert.Equal(ChatFinishReason.ToolCalls, answer.FinishReason);
        Assert.NotEmpty(answer.ToolCalls);
        foreach (var call in answer.ToolCalls)
        {
            if (call.FunctionName == "get_weather")
            {
                AssertWeatherArguments(call.FunctionArguments.ToString());
            }
            else
            {
                Assert.Equal("now", call.FunctionName);
                Assert.Equal("{}", call.FunctionArguments.ToString());
            }
        }
    }

    /// <summary>Streamed calls as the client reassembles them: an ID and name first, then argument pieces.</summary>
    private static async Task StreamedCall(ChatClient chat)
    {
        var options = new ChatCompletionOptions { Tools = { Weather }, ToolChoice = ChatToolChoice.CreateFunctionChoice("get_weather"), MaxOutputTokenCount = 100 };
        string? id = null, name = null;
        var arguments = new StringBuilder();
        var pieces = 0;
        ChatFinishReason? finish = null;
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("Weather in Bergen?")], options))
        {
            foreach (var call in update.ToolCallUpdates)
            {
                Assert.Equal(0, call.Index);
                id ??= call.ToolCallId;
                name ??= call.FunctionName;
                if (call.FunctionArgumentsUpdate is { } piece && !piece.ToMemory().IsEmpty)
                {
                    arguments.Append(piece.ToString());
                    pieces++;
                }
            }

            finish ??= update.FinishReason;
        }

        Assert.StartsWith("call_", id, StringComparison.Ordinal);
        Assert.Equal("get_weather", name);
        Assert.True(pieces > 1, "the arguments arrive in pieces");
        AssertWeatherArguments(arguments.ToString());
        Assert.Equal(ChatFinishReason.Stop, finish);
    }

    /// <summary><c>n</c> through the client's protocol method (its typed options have no n): that many choices, one usage.</summary>
    private static async Task Choices(ChatClient chat, string model)
    {
        var body = BinaryContent.Create(BinaryData.FromString($$"""
            {"model":"{{model}}","messages":[{"role":"user","content":"Hello"}],"n":3,"max_tokens":4,"seed":11,"ignore_eos":true}
            """));
        var result = await chat.CompleteChatAsync(body);
        var response = JsonNode.Parse(result.GetRawResponse().Content.ToString())!;
        Assert.Equal([0, 1, 2], response["choices"]!.AsArray().Select(c => (int)c!["index"]!));
        Assert.Equal(12, (int)response["usage"]!["completion_tokens"]!);
    }

    private static async Task Logprobs(ChatClient chat)
    {
        var options = new ChatCompletionOptions { IncludeLogProbabilities = true, TopLogProbabilityCount = 2, Temperature = 0, MaxOutputTokenCount = 5 };
        var answer = (await chat.CompleteChatAsync([new UserChatMessage("Hello")], options)).Value;
        Assert.Equal(answer.Usage.OutputTokenCount - (answer.FinishReason == ChatFinishReason.Stop ? 1 : 0), answer.ContentTokenLogProbabilities.Count);
        foreach (var token in answer.ContentTokenLogProbabilities)
        {
            Assert.True(token.LogProbability <= 0);
            Assert.Equal(2, token.TopLogProbabilities.Count);
            Assert.Equal(token.LogProbability, token.TopLogProbabilities[0].LogProbability, 4); // greedy takes the best
        }
    }

    private static void AssertWeatherArguments(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        Assert.Equal(2, root.EnumerateObject().Count());
        Assert.InRange(root.GetProperty("city").GetString()!.Length, 1, 12);
        Assert.Contains(root.GetProperty("unit").GetString(), new[] { "c", "f" });
    }
}
