using System.ClientModel;
using System.ClientModel.Primitives;
using System.Diagnostics;
using System.Net;
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
    public async Task Up_Json_ServesTheForgedDemoModels_ToTheOpenAiClient()
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

            var vector = (await client.GetEmbeddingClient(ready["embeddingModel"]!.GetValue<string>()).GenerateEmbeddingAsync("Hello")).Value.ToFloats();
            Assert.Equal(1.0, Math.Sqrt(vector.ToArray().Sum(v => (double)v * v)), 3);

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

    private static int FreePort() => ServeProcess.FreePort();

    public async Task DisposeAsync()
    {
        await _upstream.DisposeAsync();
        Directory.Delete(_root, true);
    }
}
