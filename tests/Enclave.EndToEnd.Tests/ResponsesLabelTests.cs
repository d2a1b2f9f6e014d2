using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace Enclave.EndToEnd.Tests;

/// <summary>
/// Labels on stored responses, against the policy enclave's real upstreams (an internal SECRET backend, an
/// UNCLASSIFIED cloud one): a chain keeps the label of every turn, and a stored response is hidden from those not
/// cleared for it, admins included.
/// </summary>
public sealed class ResponsesLabelTests(PolicyEnclave enclave) : IClassFixture<PolicyEnclave>
{
    private async Task<HttpResponseMessage> CreateAsync(string key, JsonObject body, string? classification = null)
    {
        using var http = enclave.Client(key);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/responses") { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };
        if (classification is not null)
        {
            request.Headers.Add("Enclave-Classification", classification);
        }

        return await http.SendAsync(request);
    }

    [Fact]
    public async Task AChainedRequest_KeepsThePreviousResponsesLabel_SoASecretConversationNeverReachesTheCloud()
    {
        using var secret = await CreateAsync(enclave.SecretKey, new JsonObject { ["model"] = "chat-m", ["input"] = "where are the ships" }, classification: "SECRET//NOFORN");
        Assert.Equal(HttpStatusCode.OK, secret.StatusCode);
        var secretId = (string)(await secret.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
        using var open = await CreateAsync(enclave.SecretKey, new JsonObject { ["model"] = "chat-m", ["input"] = "what is the weather" }, classification: "UNCLASSIFIED");
        Assert.Equal(HttpStatusCode.OK, open.StatusCode);
        var openId = (string)(await open.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
        var cloudBefore = enclave.Cloud.Received.Count;

        // Unmarked follow-ups to a model only the cloud serves: the open conversation may go, the secret one may not.
        using var fromOpen = await CreateAsync(enclave.SecretKey, new JsonObject { ["model"] = "cloud-block-m", ["input"] = "and tomorrow?", ["previous_response_id"] = openId });
        using var fromSecret = await CreateAsync(enclave.SecretKey, new JsonObject { ["model"] = "cloud-block-m", ["input"] = "and tomorrow?", ["previous_response_id"] = secretId });

        Assert.Equal(HttpStatusCode.OK, fromOpen.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, fromSecret.StatusCode);
        Assert.Equal(cloudBefore + 1, enclave.Cloud.Received.Count);
        Assert.DoesNotContain(enclave.Cloud.ReceivedText, t => t.Contains("where are the ships", StringComparison.Ordinal));
        var denied = enclave.Entry(fromSecret);
        Assert.Equal("request.denied", denied.Type);
        Assert.Equal("SECRET//NOFORN", denied.Details!.Value.GetProperty("policy").GetProperty("label").GetString());
        var stored = enclave.Entries().Single(e => e.Event.Type == "response.stored" && e.Event.Subject == "response:" + secretId).Event;
        Assert.Equal("SECRET//NOFORN", stored.Details!.Value.GetProperty("label").GetString());
    }

    [Fact]
    public async Task AStoredSecretResponse_IsHiddenFromAnAdminWithoutTheClearance_AndFromOtherUsers()
    {
        using var created = await CreateAsync(enclave.SecretKey, new JsonObject { ["model"] = "chat-m", ["input"] = "convoy route" }, classification: "SECRET//NOFORN");
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        var id = (string)(await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;

        using var owner = enclave.Client(enclave.SecretKey);
        using var admin = enclave.Client(enclave.AdminKey);
        using var user = enclave.Client(enclave.UserKey);
        Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync("/v1/responses/" + id)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync("/v1/responses/" + id)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.DeleteAsync("/v1/responses/" + id)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await user.GetAsync("/v1/responses/" + id)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync("/v1/responses/" + id)).StatusCode);
    }
}
