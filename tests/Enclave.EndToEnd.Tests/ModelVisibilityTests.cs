using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using OpenAI;
using OpenAI.Chat;

namespace Enclave.EndToEnd.Tests;

/// <summary>
/// A model whose label is above the caller's clearance is invisible to that caller: not listed, not found, and a
/// request naming it is answered exactly as one naming a model that does not exist, while the ledger's
/// <c>request.denied</c> entry names the real rule (<c>policy.clearance</c>). On the policy enclave: <c>chat-m</c> and
/// <c>embed-m</c> are labelled SECRET//NOFORN, <c>open-m</c> and <c>open-embed-m</c> the lowest level.
/// </summary>
public sealed class ModelVisibilityTests(PolicyEnclave enclave) : IClassFixture<PolicyEnclave>
{
    private OpenAIClient Client(string key) => new(
        new ApiKeyCredential(key),
        new OpenAIClientOptions { Endpoint = new Uri(enclave.BaseUrl + "/v1"), RetryPolicy = new ClientRetryPolicy(maxRetries: 0) });

    private async Task<List<string>> ListAsync(string key)
    {
        using var http = enclave.Client(key);
        using var response = await http.GetAsync("/v1/models");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return [.. JsonNode.Parse(await response.Content.ReadAsStringAsync())!["data"]!.AsArray().Select(m => m!["id"]!.GetValue<string>())];
    }

    private async Task<HttpResponseMessage> PostAsync(string key, string path, JsonObject body)
    {
        using var http = enclave.Client(key);
        return await http.PostAsync(path, new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
    }

    /// <summary>Status, error object (with the model's name replaced) and the Enclave headers of an answer.</summary>
    private static async Task<string> ShapeAsync(HttpResponseMessage response, string model)
    {
        var body = (await response.Content.ReadAsStringAsync()).Replace(model, "MODEL", StringComparison.Ordinal);
        var headers = string.Join(",", response.Headers.Select(h => h.Key).Where(k => k.StartsWith("Enclave-", StringComparison.OrdinalIgnoreCase) || k.StartsWith("X-Request", StringComparison.OrdinalIgnoreCase)).Order(StringComparer.Ordinal));
        return $"{(int)response.StatusCode} {response.Content.Headers.ContentType} {headers} {body}";
    }

    [Fact]
    public async Task ModelsList_ShowsOnlyTheModelsTheCallersClearanceDominates()
    {
        var plain = await ListAsync(enclave.UserKey);
        var secret = await ListAsync(enclave.SecretKey);

        Assert.DoesNotContain("chat-m", plain);
        Assert.DoesNotContain("embed-m", plain);
        Assert.Contains("open-m", plain);
        Assert.Contains("open-embed-m", plain);
        Assert.Contains("cloud-block-m", plain);
        Assert.Contains("chat-m", secret);
        Assert.Contains("embed-m", secret);
        Assert.Contains("open-m", secret);
        Assert.Equal(secret.Where(m => m is not "chat-m" and not "embed-m"), plain);
    }

    [Fact]
    public async Task ModelById_AboveTheClearance_IsA404LikeAnUnknownModel()
    {
        using var http = enclave.Client(enclave.UserKey);
        using var hidden = await http.GetAsync("/v1/models/chat-m");
        using var unknown = await http.GetAsync("/v1/models/no-such-m");
        using var visible = await http.GetAsync("/v1/models/open-m");
        using var secret = enclave.Client(enclave.SecretKey);
        using var cleared = await secret.GetAsync("/v1/models/chat-m");

        Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
        Assert.Equal("model_not_found", JsonNode.Parse(await hidden.Content.ReadAsStringAsync())!["error"]!["code"]!.GetValue<string>());
        Assert.Equal(await ShapeAsync(unknown, "no-such-m"), await ShapeAsync(hidden, "chat-m"));
        Assert.Equal(HttpStatusCode.OK, visible.StatusCode);
        Assert.Equal(HttpStatusCode.OK, cleared.StatusCode);
        Assert.Equal("chat-m", JsonNode.Parse(await cleared.Content.ReadAsStringAsync())!["id"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("/v1/chat/completions", "chat-m")]
    [InlineData("/v1/embeddings", "embed-m")]
    [InlineData("/v1/completions", "chat-m")]
    public async Task Request_NamingAModelAboveTheClearance_IsAnsweredAsAnUnknownModel_AndTheLedgerNamesTheClearanceRule(string path, string model)
    {
        JsonObject Body(string m) => path switch
        {
            "/v1/chat/completions" => new JsonObject { ["model"] = m, ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hello" }) },
            "/v1/embeddings" => new JsonObject { ["model"] = m, ["input"] = "hello" },
            _ => new JsonObject { ["model"] = m, ["prompt"] = "hello" },
        };
        var (internalBefore, cloudBefore) = (enclave.Internal.Received.Count, enclave.Cloud.Received.Count);
        var ledgerBefore = enclave.Entries().Count;

        using var hidden = await PostAsync(enclave.UserKey, path, Body(model));
        using var unknown = await PostAsync(enclave.UserKey, path, Body("no-such-m"));

        Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
        Assert.Equal(await ShapeAsync(unknown, "no-such-m"), await ShapeAsync(hidden, model));
        Assert.False(hidden.Headers.Contains("Enclave-Ledger-Index"));
        Assert.Equal((internalBefore, cloudBefore), (enclave.Internal.Received.Count, enclave.Cloud.Received.Count));
        var denied = enclave.Entries().Skip(ledgerBefore).Single(e => e.Event.Type == "request.denied" && e.Event.Actor == "user:plain-user").Event;
        var details = denied.Details!.Value;
        Assert.Equal(model, details.GetProperty("model").GetString());
        Assert.Equal(path, details.GetProperty("endpoint").GetString());
        Assert.Equal("policy.clearance", details.GetProperty("rule").GetString());
        Assert.Equal(404, details.GetProperty("status").GetInt32());
        Assert.Equal("SECRET//NOFORN", details.GetProperty("policy").GetProperty("modelLabel").GetString());
        Assert.Equal("UNCLASSIFIED", details.GetProperty("policy").GetProperty("clearance").GetString());
    }

    [Fact]
    public async Task Request_FromACallerCleared_ForTheModel_IsServed()
    {
        using var chat = await PostAsync(enclave.SecretKey, "/v1/chat/completions", new JsonObject { ["model"] = "chat-m", ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hello" }) });
        using var embed = await PostAsync(enclave.SecretKey, "/v1/embeddings", new JsonObject { ["model"] = "embed-m", ["input"] = "hello" });
        using var open = await PostAsync(enclave.UserKey, "/v1/embeddings", new JsonObject { ["model"] = "open-embed-m", ["input"] = "hello" });

        Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
        Assert.Equal(HttpStatusCode.OK, embed.StatusCode);
        Assert.Equal(HttpStatusCode.OK, open.StatusCode);
    }

    [Fact]
    public async Task OfficialClient_SeesOnlyTheModelsItIsClearedFor_AndGetsNotFoundForTheOthers()
    {
        var plain = Client(enclave.UserKey);
        var secret = Client(enclave.SecretKey);

        var listed = (await plain.GetOpenAIModelClient().GetModelsAsync()).Value.Select(m => m.Id).ToList();
        var notFound = await Assert.ThrowsAsync<ClientResultException>(() => plain.GetOpenAIModelClient().GetModelAsync("chat-m"));
        var chatRefused = await Assert.ThrowsAsync<ClientResultException>(() => plain.GetChatClient("chat-m").CompleteChatAsync([new UserChatMessage("hello")]));
        var embedRefused = await Assert.ThrowsAsync<ClientResultException>(() => plain.GetEmbeddingClient("embed-m").GenerateEmbeddingAsync("hello"));
        var served = (await secret.GetChatClient("chat-m").CompleteChatAsync([new UserChatMessage("hello")])).Value;

        Assert.DoesNotContain("chat-m", listed);
        Assert.Contains("open-m", listed);
        Assert.Contains("chat-m", (await secret.GetOpenAIModelClient().GetModelsAsync()).Value.Select(m => m.Id));
        Assert.All(new[] { notFound, chatRefused, embedRefused }, e => Assert.Equal(404, e.Status));
        Assert.Contains("model_not_found", chatRefused.Message, StringComparison.Ordinal);
        Assert.NotNull(served.Content);
    }
}
