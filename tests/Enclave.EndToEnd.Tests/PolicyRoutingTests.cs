using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Cli;

namespace Enclave.EndToEnd.Tests;

/// <summary>Policy on the request path, asserted on what the real upstream servers actually received.</summary>
public sealed class PolicyRoutingTests(PolicyEnclave enclave) : IClassFixture<PolicyEnclave>
{
    // A syntactically real PKCS#8 block (random bytes, not a usable key).
    private static readonly string PrivateKeyBody = Convert.ToBase64String(Enumerable.Range(0, 120).Select(i => (byte)(i * 37)).ToArray());
    private static readonly string Pem = $"-----BEGIN PRIVATE KEY-----\n{PrivateKeyBody}\n-----END PRIVATE KEY-----";

    [Fact]
    public async Task SecretRequest_NeverReachesTheCloud_EvenWhenTheInternalBackendFails()
    {
        var cloudBefore = enclave.Cloud.Received.Count;
        var internalBefore = enclave.Internal.Received.Count;
        enclave.Internal.Failing = true;
        try
        {
            using var byHeader = await enclave.ChatAsync(enclave.SecretKey, "chat-m", "where are the ships", classification: "SECRET");
            using var byMarking = await enclave.ChatAsync(enclave.SecretKey, "chat-m", "(S) where are the ships");

            Assert.Equal(HttpStatusCode.InternalServerError, byHeader.StatusCode);
            Assert.Equal(HttpStatusCode.InternalServerError, byMarking.StatusCode);
        }
        finally
        {
            enclave.Internal.Failing = false;
        }

        Assert.Equal(cloudBefore, enclave.Cloud.Received.Count);
        // Both requests went to the internal backend (tried and retried there only).
        Assert.True(enclave.Internal.Received.Count >= internalBefore + 2);
        Assert.All(enclave.Internal.Received.Skip(internalBefore), b => Assert.Contains("where are the ships", Encoding.UTF8.GetString(b), StringComparison.Ordinal));
    }

    [Fact]
    public async Task SecretRequest_IsServedInside_AndTheAdmittedEntryCarriesTheDecision()
    {
        var cloudBefore = enclave.Cloud.Received.Count;

        using var response = await enclave.ChatAsync(enclave.SecretKey, "chat-m", "SECRET//NOFORN convoy at dawn");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(cloudBefore, enclave.Cloud.Received.Count);
        var admitted = enclave.Entry(response);
        Assert.Equal("request.admitted", admitted.Type);
        var policy = admitted.Details!.Value.GetProperty("policy");
        Assert.True(policy.GetProperty("allowed").GetBoolean());
        Assert.Equal("SECRET//NOFORN", policy.GetProperty("label").GetString());
        Assert.Equal("markings", policy.GetProperty("labelSource").GetString());
        Assert.Equal(["internal"], policy.GetProperty("backends").EnumerateArray().Select(b => b.GetString()));
        var excluded = policy.GetProperty("reasons").EnumerateArray().Where(r => r.GetProperty("backend").GetString() == "cloud-block").Select(r => r.GetProperty("rule").GetString()).ToList();
        Assert.Contains("policy.backend-accreditation", excluded);
        Assert.Contains("policy.jurisdiction", excluded);
    }

    [Fact]
    public async Task UnchangedRequest_ReachesTheUpstreamAsTheClientsOwnBytes()
    {
        var internalBefore = enclave.Internal.Received.Count;
        // Whitespace and an escaped letter: the gateway writing the request out again would send other bytes.
        const string Text = """{ "model" : "chat-m", "messages" : [ { "role" : "user", "content" : "SECRET//NOFORN conv\u006fy at dawn" } ], "max_tokens" : 8 }""";
        using var http = enclave.Client(enclave.SecretKey);

        using var response = await http.PostAsync("/v1/chat/completions", new StringContent(Text, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Encoding.UTF8.GetBytes(Text), enclave.Internal.Received.Skip(internalBefore).Single());
        Assert.Equal("request.admitted", enclave.Entry(response).Type);
    }

    [Fact]
    public async Task StreamedAnswer_WhoseUsageCountsAreNotIntegers_StillEndsWithDone()
    {
        // Read with GetValue<int>, a count that is a string or too large for an int threw mid-stream, after the 200:
        // the client's stream broke off. Implausible counts are now ignored, as for a chunk without usage.
        enclave.Internal.StreamUsage = new JsonObject { ["prompt_tokens"] = "many", ["completion_tokens"] = 1e20, ["total_tokens"] = -1 };
        try
        {
            using var http = enclave.Client(enclave.SecretKey);
            const string Text = """{"model":"chat-m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"SECRET//NOFORN count me"}]}""";

            using var response = await http.PostAsync("/v1/chat/completions", new StringContent(Text, Encoding.UTF8, "application/json"));
            var body = await response.Content.ReadAsStringAsync();

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains("count me", body, StringComparison.Ordinal);
            Assert.EndsWith("data: [DONE]\n\n", body, StringComparison.Ordinal);
        }
        finally
        {
            enclave.Internal.StreamUsage = null;
        }
    }

    [Fact]
    public async Task UnclassifiedRequestWithAPrivateKey_IsBlockedBeforeItLeaves_AndTheDenialIsRecorded()
    {
        var cloudBefore = enclave.Cloud.Received.Count;

        using var response = await enclave.ChatAsync(enclave.AdminKey, "cloud-block-m", "please check this key:\n" + Pem);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal("policy_denied", error["code"]!.GetValue<string>());
        Assert.Equal("permission_error", error["type"]!.GetValue<string>());
        Assert.Contains("secret.private-key", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("messages[0].content", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.DoesNotContain(PrivateKeyBody, error["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(cloudBefore, enclave.Cloud.Received.Count);

        var denied = enclave.Entry(response);
        Assert.Equal("request.denied", denied.Type);
        Assert.Equal("secret.private-key", denied.Details!.Value.GetProperty("rule").GetString());
        Assert.Equal(403, denied.Details!.Value.GetProperty("status").GetInt32());
        var egress = denied.Details!.Value.GetProperty("policy").GetProperty("egress")[0];
        Assert.Equal("cloud-block", egress.GetProperty("backend").GetString());
        Assert.Equal("messages[0].content", egress.GetProperty("findings")[0].GetProperty("path").GetString());
        Assert.DoesNotContain(enclave.Entries(), e => JsonSerializer.Serialize(e.Event.Details).Contains(PrivateKeyBody, StringComparison.Ordinal));
    }

    [Fact]
    public async Task UnclassifiedRequestWithAPrivateKey_ArrivesRedacted_OnARedactRoute()
    {
        var cloudBefore = enclave.Cloud.Received.Count;

        using var response = await enclave.ChatAsync(enclave.AdminKey, "cloud-redact-m", "please check this key:\n" + Pem + "\nthanks");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = enclave.Cloud.ReceivedText.Skip(cloudBefore).Single();
        Assert.DoesNotContain("PRIVATE KEY", received, StringComparison.Ordinal);
        Assert.DoesNotContain(PrivateKeyBody[..40], received, StringComparison.Ordinal);
        var sent = JsonNode.Parse(received)!["messages"]![0]!["content"]!.GetValue<string>();
        Assert.Equal("please check this key:\n[REDACTED:secret.private-key]\nthanks", sent);
        var admitted = enclave.Entry(response);
        var egress = admitted.Details!.Value.GetProperty("policy").GetProperty("egress")[0];
        Assert.Equal("redact", egress.GetProperty("action").GetString());
        Assert.Equal("secret.private-key", egress.GetProperty("findings")[0].GetProperty("rule").GetString());
    }

    [Fact]
    public async Task UnclassifiedRequestWithAPrivateKey_DoesNotFailOverToTheCloud_WhenTheInternalBackendFails()
    {
        var cloudBefore = enclave.Cloud.Received.Count;
        enclave.Internal.Failing = true;
        try
        {
            using var response = await enclave.ChatAsync(enclave.SecretKey, "chat-m", "key follows " + Pem);
            Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        }
        finally
        {
            enclave.Internal.Failing = false;
        }

        Assert.Equal(cloudBefore, enclave.Cloud.Received.Count);
    }

    [Fact]
    public async Task ClearanceBelowTheRequestLabel_IsDenied403_NamingTheRule_AndNothingIsSent()
    {
        var (cloudBefore, internalBefore) = (enclave.Cloud.Received.Count, enclave.Internal.Received.Count);

        using var response = await enclave.ChatAsync(enclave.AdminKey, "open-m", "hello", classification: "SECRET");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal("policy_denied", error["code"]!.GetValue<string>());
        Assert.StartsWith("request denied by policy.clearance", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal((cloudBefore, internalBefore), (enclave.Cloud.Received.Count, enclave.Internal.Received.Count));
        var denied = enclave.Entry(response);
        Assert.Equal("request.denied", denied.Type);
        Assert.Equal("policy.clearance", denied.Details!.Value.GetProperty("rule").GetString());
        Assert.Equal("user:admin", denied.Actor);
        var reasons = denied.Details!.Value.GetProperty("policy").GetProperty("reasons").EnumerateArray().Select(r => r.GetProperty("rule").GetString()).ToList();
        Assert.Contains("policy.clearance", reasons);
    }

    [Fact]
    public async Task ModelLabelBelowTheRequestLabel_IsDenied()
    {
        using var response = await enclave.ChatAsync(enclave.SecretKey, "cloud-redact-m", "hello", classification: "SECRET");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("policy.model-label", enclave.Entry(response).Details!.Value.GetProperty("rule").GetString());
    }

    [Fact]
    public async Task MalformedClassificationHeader_Is400_AndRecorded()
    {
        using var response = await enclave.ChatAsync(enclave.AdminKey, "open-m", "hello", classification: "SECRET//BOGUS");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal("invalid_classification", error["code"]!.GetValue<string>());
        Assert.Equal("Enclave-Classification", error["param"]!.GetValue<string>());
        Assert.Equal("request.denied", enclave.Entry(response).Type);
    }

    [Fact]
    public async Task RateLimit_Answers429WithRetryAfterAndAnOpenAiError_AndRecordsTheDenial()
    {
        using var first = await enclave.ChatAsync(enclave.RateKey, "open-m", "one");
        using var second = await enclave.ChatAsync(enclave.RateKey, "open-m", "two");
        using var third = await enclave.ChatAsync(enclave.RateKey, "open-m", "three");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
        Assert.True(int.Parse(third.Headers.GetValues("Retry-After").Single(), CultureInfo.InvariantCulture) >= 1);
        var error = JsonNode.Parse(await third.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal("rate_limit_exceeded", error["type"]!.GetValue<string>());
        Assert.Contains("quota.requests-per-minute", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
        var denied = enclave.Entry(third);
        Assert.Equal("request.denied", denied.Type);
        Assert.Equal("quota.requests-per-minute", denied.Details!.Value.GetProperty("rule").GetString());
        Assert.Equal(429, denied.Details!.Value.GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task DayBudget_Answers429_AndSurvivesARestart()
    {
        using (var a = await enclave.ChatAsync(enclave.BudgetKey, "open-m", "a"))
        using (var b = await enclave.ChatAsync(enclave.BudgetKey, "open-m", "b"))
        {
            Assert.Equal(HttpStatusCode.OK, a.StatusCode);
            Assert.Equal(HttpStatusCode.OK, b.StatusCode);
        }

        using (var c = await enclave.ChatAsync(enclave.BudgetKey, "open-m", "c"))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, c.StatusCode);
            Assert.Equal("insufficient_quota", JsonNode.Parse(await c.Content.ReadAsStringAsync())!["error"]!["code"]!.GetValue<string>());
        }

        await enclave.RestartAsync();

        using var d = await enclave.ChatAsync(enclave.BudgetKey, "open-m", "d");
        Assert.Equal(HttpStatusCode.TooManyRequests, d.StatusCode);
        Assert.True(d.Headers.RetryAfter is not null);
        Assert.Equal("quota.requests-per-day", enclave.Entry(d).Details!.Value.GetProperty("rule").GetString());
    }

    [Fact]
    public async Task Explain_ShowsTheDecisionAndEveryReason_WithoutSendingARequest()
    {
        var (cloudBefore, internalBefore) = (enclave.Cloud.Received.Count, enclave.Internal.Received.Count);
        using var http = enclave.Client(enclave.AuditorKey);

        var allowed = await ExplainAsync(http, new JsonObject { ["user"] = "sam", ["model"] = "chat-m", ["label"] = "SECRET" });
        var denied = await ExplainAsync(http, new JsonObject { ["user"] = "user:una", ["model"] = "chat-m", ["label"] = "SECRET" });
        var disabled = await ExplainAsync(http, new JsonObject { ["user"] = "user:old", ["model"] = "chat-m" });
        var oneBackend = await ExplainAsync(http, new JsonObject { ["user"] = "user:sam", ["model"] = "chat-m", ["label"] = "SECRET", ["backend"] = "cloud-block" });

        Assert.True(allowed["allowed"]!.GetValue<bool>());
        Assert.Equal("SECRET//NOFORN", allowed["user"]!["clearance"]!.GetValue<string>());
        var backends = allowed["backends"]!.AsArray().ToDictionary(b => b!["name"]!.GetValue<string>(), b => b!["allowed"]!.GetValue<bool>());
        Assert.Equal(new Dictionary<string, bool> { ["internal"] = true, ["cloud-block"] = false }, backends);
        var rules = allowed["reasons"]!.AsArray().Select(r => r!["rule"]!.GetValue<string>()).ToList();
        Assert.Contains("policy.backend-accreditation", rules);
        Assert.Contains("policy.jurisdiction", rules);

        Assert.False(denied["allowed"]!.GetValue<bool>());
        Assert.Equal("policy.clearance", denied["rule"]!.GetValue<string>());
        Assert.Equal("identity.disabled", disabled["rule"]!.GetValue<string>());
        Assert.False(oneBackend["allowed"]!.GetValue<bool>());
        Assert.Equal("policy.no-backend", oneBackend["rule"]!.GetValue<string>());
        Assert.Equal((cloudBefore, internalBefore), (enclave.Cloud.Received.Count, enclave.Internal.Received.Count));
    }

    [Fact]
    public async Task Explain_RefusesOtherRoles_AndUnknownUsersAndModels()
    {
        using var user = enclave.Client(enclave.UserKey);
        using var auditor = enclave.Client(enclave.AuditorKey);

        using var forbidden = await user.PostAsync("/admin/v1/policy/explain", Json(new JsonObject { ["user"] = "sam", ["model"] = "chat-m" }));
        using var unknownUser = await auditor.PostAsync("/admin/v1/policy/explain", Json(new JsonObject { ["user"] = "nobody", ["model"] = "chat-m" }));
        using var unknownModel = await auditor.PostAsync("/admin/v1/policy/explain", Json(new JsonObject { ["user"] = "sam", ["model"] = "nope" }));
        using var badLabel = await auditor.PostAsync("/admin/v1/policy/explain", Json(new JsonObject { ["user"] = "sam", ["model"] = "chat-m", ["label"] = "SEKRET" }));

        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknownUser.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknownModel.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badLabel.StatusCode);
        Assert.Contains("SEKRET", await badLabel.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PolicyExplainCommand_PrintsTheDecision()
    {
        var keyFile = Path.Combine(enclave.DataDirectory, "auditor.key");
        await File.WriteAllTextAsync(keyFile, enclave.AuditorKey);
        using var output = new StringWriter();
        using var errors = new StringWriter();
        var context = new CliContext { Out = output, Error = errors, In = TextReader.Null, OpenStandardOutput = () => Stream.Null };

        var code = await EnclaveCli.RunAsync(["policy", "explain", "--user", "sam", "--model", "chat-m", "--label", "SECRET", "--server", enclave.BaseUrl, "--api-key-file", keyFile], context);
        var jsonCode = await EnclaveCli.RunAsync(["policy", "explain", "--user", "una", "--model", "chat-m", "--label", "SECRET", "--server", enclave.BaseUrl, "--api-key-file", keyFile, "--json"], context);

        Assert.Equal(0, code);
        Assert.Equal(0, jsonCode);
        var lines = output.ToString().Split('\n');
        Assert.Contains(lines, l => l.StartsWith("decision: ALLOW", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("excluded cloud-block", StringComparison.Ordinal));
        var json = JsonNode.Parse(lines.Last(l => l.StartsWith('{')))!;
        Assert.False(json["allowed"]!.GetValue<bool>());
        Assert.Equal("policy.clearance", json["rule"]!.GetValue<string>());
    }

    private static StringContent Json(JsonObject body) => new(body.ToJsonString(), Encoding.UTF8, "application/json");

    private static async Task<JsonObject> ExplainAsync(HttpClient http, JsonObject body)
    {
        using var response = await http.PostAsync("/admin/v1/policy/explain", Json(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonNode.Parse(text)!.AsObject();
    }
}
