using System.ClientModel;
using System.ClientModel.Primitives;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using OpenAI;
using OpenAI.Chat;

namespace Enclave.EndToEnd.Tests;

/// <summary>The real <c>enclave serve</c> process, configured from a JSON file, in front of a vLLM-like upstream.</summary>
public sealed class ServeProcessTests : IAsyncLifetime
{
    private readonly string _root = Directory.CreateTempSubdirectory("enclave-serve-").FullName;
    private VllmStub _upstream = null!;

    public async Task InitializeAsync() => _upstream = await VllmStub.StartAsync();

    [Fact]
    public async Task Serve_WithUpstreamConfig_AnswersTheOpenAiClient_AndPrintsAKeyOnce()
    {
        var config = ServeProcess.WriteEchoUpstreamConfig(Path.Combine(_root, "enclave.json"), _upstream.BaseUrl);
        var url = $"http://127.0.0.1:{FreePort()}";
        var data = Path.Combine(_root, "data");

        var key = await RunServerAsync(data, url, config, async key =>
        {
            var client = new OpenAIClient(new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(url + "/v1"), RetryPolicy = new ClientRetryPolicy(0) });
            var answer = await client.GetChatClient("echo-chat").CompleteChatAsync([new UserChatMessage("over the wire")]);
            Assert.Equal("echo: over the wire", answer.Value.Content[0].Text);
        });
        Assert.StartsWith("ek_", key, StringComparison.Ordinal);

        // A second start finds the key store populated and prints no new key; the old key still works.
        var second = await RunServerAsync(data, url, config, async _ =>
        {
            using var http = new HttpClient();
            http.DefaultRequestHeaders.Authorization = new("Bearer", key);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(url + "/v1/models")).StatusCode);
        });
        Assert.Null(second);
    }

    [Fact]
    public async Task Up_Json_ServesTheDemoModels_ToTheOpenAiClient_TheRealEmbeddingModelIncluded()
    {
        var url = $"http://127.0.0.1:{FreePort()}";
        using var process = Start("up", "--data", Path.Combine(_root, "up-data"), "--urls", url, "--json");
        try
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            var line = await process.StandardOutput.ReadLineAsync(deadline.Token);
            if (line is null)
            {
                Assert.Fail("enclave up printed nothing: " + await process.StandardError.ReadToEndAsync());
            }

            var ready = JsonNode.Parse(line!)!.AsObject();
            Assert.Equal(url, ready["url"]!.GetValue<string>());
            var client = new OpenAIClient(new ApiKeyCredential(ready["apiKey"]!.GetValue<string>()), new OpenAIClientOptions { Endpoint = new Uri(url + "/v1"), RetryPolicy = new ClientRetryPolicy(0) });

            var chatModel = ready["chatModel"]!.GetValue<string>();
            var options = new ChatCompletionOptions { MaxOutputTokenCount = 8, Temperature = 0 };
            var first = (await client.GetChatClient(chatModel).CompleteChatAsync([new UserChatMessage("Hello")], options)).Value;
            var second = (await client.GetChatClient(chatModel).CompleteChatAsync([new UserChatMessage("Hello")], options)).Value;
            Assert.Equal(first.Content[0].Text, second.Content[0].Text); // greedy decoding of the same prompt is deterministic
            Assert.Equal(8, first.Usage.OutputTokenCount);

            // Structured outputs through the official client's helper: the built-in engine decodes under the schema
            // (constrained decoding), so even a random-weight model's answer deserialises.
            var schema = BinaryData.FromString("""
                {"type":"object","properties":{"name":{"type":"string","maxLength":20},"age":{"type":"integer","minimum":0,"maximum":150},
                 "tags":{"type":"array","items":{"enum":["red","blue"]},"maxItems":3}},"required":["name","age","tags"],"additionalProperties":false}
                """);
            var structured = new ChatCompletionOptions { ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat("person", schema, jsonSchemaIsStrict: true) };
            var person = (await client.GetChatClient(chatModel).CompleteChatAsync([new UserChatMessage("Describe a person")], structured)).Value;
            Assert.Equal(ChatFinishReason.Stop, person.FinishReason);
            var parsed = JsonSerializer.Deserialize<DemoPerson>(person.Content[0].Text, StrictJson)!;
            Assert.InRange(parsed.Age, 0, 150);
            Assert.True(parsed.Name.Length <= 20 && parsed.Tags.Length <= 3 && parsed.Tags.All(t => t is "red" or "blue"), person.Content[0].Text);
            var streamed = new System.Text.StringBuilder();
            await foreach (var update in client.GetChatClient(chatModel).CompleteChatStreamingAsync([new UserChatMessage("Another person")], structured))
            {
                foreach (var part in update.ContentUpdate)
                {
                    streamed.Append(part.Text);
                }
            }

            Assert.NotNull(JsonSerializer.Deserialize<DemoPerson>(streamed.ToString(), StrictJson));
            var unsupported = new ChatCompletionOptions { ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat("even", BinaryData.FromString("""{"type":"integer","multipleOf":2}""")) };
            var refused = await Assert.ThrowsAsync<ClientResultException>(() => client.GetChatClient(chatModel).CompleteChatAsync([new UserChatMessage("x")], unsupported));
            Assert.Equal(400, refused.Status);
            Assert.Equal("response_format.json_schema.schema.multipleOf", JsonNode.Parse(refused.GetRawResponse()!.Content)!["error"]!["param"]!.GetValue<string>());

            var vector = (await client.GetEmbeddingClient(ready["embeddingModel"]!.GetValue<string>()).GenerateEmbeddingAsync("Hello")).Value.ToFloats();
            Assert.Equal(1.0, Math.Sqrt(vector.ToArray().Sum(v => (double)v * v)), 3);

            // The demo embedding model is the real all-MiniLM-L6-v2: the similarities sbert.net's quickstart publishes.
            var sentences = (await client.GetEmbeddingClient(ready["embeddingModel"]!.GetValue<string>())
                .GenerateEmbeddingsAsync(["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."])).Value;
            var e = sentences.Select(s => s.ToFloats().ToArray()).ToArray();
            Assert.Equal(384, e[0].Length);
            Assert.Equal(0.6660, Cosine(e[0], e[1]), 0.001);
            Assert.Equal(0.1046, Cosine(e[0], e[2]), 0.001);
            Assert.Equal(0.1411, Cosine(e[1], e[2]), 0.001);

            var models = (await client.GetOpenAIModelClient().GetModelsAsync()).Value.Select(m => m.Id).ToList();
            Assert.Contains(chatModel, models);

            // The demo models came through the airlock: imported, approved by two demo approvers, activated; the server
            // serves the activated artifact (its source names the import).
            using var reader = Enclave.Ledger.LedgerReader.Open(Path.Combine(_root, "up-data"));
            var entries = Enumerable.Range(0, (int)reader.TreeSize()).Select(i => JsonNode.Parse(reader.ReadEntry(i))!).ToList();
            var activated = entries.Single(e => e["type"]!.GetValue<string>() == "import.activated" && e["details"]!["name"]!.GetValue<string>() == chatModel);
            var importId = activated["subject"]!.GetValue<string>()["import:".Length..];
            var approvals = entries.Where(e => e["type"]!.GetValue<string>() == "import.approved" && e["subject"]!.GetValue<string>() == "import:" + importId);
            Assert.Equal(["user:demo-approver-1", "user:demo-approver-2"], approvals.Select(e => e["actor"]!.GetValue<string>()).Order().ToArray());
            Assert.Contains(entries, e => e["type"]!.GetValue<string>() == "import.verified" && e["subject"]!.GetValue<string>() == "import:" + importId);
            var started = entries.First(e => e["type"]!.GetValue<string>() == "server.started");
            var served = started["details"]!["models"]!.AsArray();
            Assert.Contains(served, m => m!["id"]!.GetValue<string>() == chatModel && m["source"]!.GetValue<string>() == "airlock:" + importId && m["digest"]!.GetValue<string>().StartsWith("sha256:", StringComparison.Ordinal));
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    private static double Cosine(float[] a, float[] b) => a.Zip(b, (x, y) => (double)x * y).Sum();

    [Fact]
    public async Task Serve_WithAnInvalidConfig_ExitsInvalidInputListingEveryProblem()
    {
        var config = Path.Combine(_root, "bad.json");
        File.WriteAllText(config, """{"Upstream":{"Backends":[{"Name":"x","BaseUrl":"ftp://nowhere"}]}}""");
        using var process = Start("serve", "--data", Path.Combine(_root, "data"), "--config", config);
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.Equal(3, process.ExitCode);
        Assert.Contains("BaseUrl", stderr, StringComparison.Ordinal);
        Assert.Contains("Classification", stderr, StringComparison.Ordinal);
    }

    private static Task<string?> RunServerAsync(string data, string url, string config, Func<string, Task> whileRunning) =>
        ServeProcess.RunServerAsync(null, ["--data", data, "--urls", url, "--config", config], whileRunning, TimeSpan.FromSeconds(60));

    private static Process Start(params string[] args) => ServeProcess.Start(null, args);

    private static readonly JsonSerializerOptions StrictJson = new() { PropertyNameCaseInsensitive = true, UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow };

    private sealed record DemoPerson(string Name, int Age, string[] Tags);

    private static int FreePort() => ServeProcess.FreePort();

    public async Task DisposeAsync()
    {
        await _upstream.DisposeAsync();
        Directory.Delete(_root, true);
    }
}
