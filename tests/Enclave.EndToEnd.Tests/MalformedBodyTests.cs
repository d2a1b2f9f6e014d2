using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Enclave.EndToEnd.Tests.Identity;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Enclave.EndToEnd.Tests;

/// <summary>
/// Malformed JSON against every endpoint of the running app that accepts a body (read from its
/// <see cref="EndpointDataSource"/>, as the authorization matrix does): duplicate keys at any depth, invalid UTF-8 and
/// lone surrogate escapes are a 400 in the form of the API called (the OpenAI error object on <c>/v1</c>, problem
/// details on <c>/admin/v1</c>), never a 500 with an empty body. A new body-reading endpoint must be listed here.
/// </summary>
public sealed class MalformedBodyTests(IdentityFixture enclave) : IClassFixture<IdentityFixture>
{
    /// <summary>Endpoints whose body is a JSON object: every malformed body is exactly a 400.</summary>
    private static readonly HashSet<string> JsonBodies = new(StringComparer.Ordinal)
    {
        "POST /v1/chat/completions",
        "POST /v1/completions",
        "POST /v1/embeddings",
        "POST /v1/messages",
        "POST /v1/responses",
        "POST /v1/vector_stores",
        "POST /v1/vector_stores/{id}/files",
        "POST /v1/vector_stores/{id}/file_batches",
        "POST /v1/vector_stores/{id}/search",
        "POST /admin/v1/users",
        "POST /admin/v1/keys",
        "POST /admin/v1/policy/explain",
        "POST /admin/v1/airlock/pulls",
        "POST /admin/v1/airlock/imports/{id}/reject",
        "POST /admin/v1/alerts/{id}/ack",
        "POST /admin/v1/alerts/{id}/resolve",
        "PATCH /admin/v1/users/{name}",
        "POST /admin/v1/intel/hunt",
        "POST /admin/v1/vulns/sboms",
        "POST /admin/v1/vulns/vex",
        "POST /admin/v1/ledger/exports",
        "POST /admin/v1/upgrade/stage",
        "POST /admin/v1/upgrade/apply",
        "POST /admin/v1/upgrade/rollback",
    };

    /// <summary>
    /// Endpoints that take another body or none (a TUF root, a bundle tar, nothing): a malformed JSON body is a client
    /// error in the API's form, whichever one.
    /// </summary>
    private static readonly HashSet<string> OtherBodies = new(StringComparer.Ordinal)
    {
        "POST /v1/files",
        "DELETE /v1/files/{id}",
        "DELETE /v1/vector_stores/{id}",
        "POST /admin/v1/airlock/trust",
        "POST /admin/v1/airlock/imports",
        "POST /admin/v1/airlock/imports/{id}/approve",
        "POST /admin/v1/users/{name}/disable",
        "DELETE /admin/v1/keys/{id}",
        "DELETE /v1/responses/{id}",
        "POST /v1/responses/{id}/cancel",
    };

    /// <summary>
    /// The operator console's form posts (HTML, not an API): a malformed body is a 4xx with a plain-text body (without
    /// a console session 401; with one, the antiforgery check or the form dispatch refuses it: tests/Enclave.Console.Tests).
    /// </summary>
    private static readonly HashSet<string> ConsoleForms = new(StringComparer.Ordinal)
    {
        "POST /console/signin",
        "POST /console/signout",
        "POST /console/models",
        "POST /console/models/chat",
        "POST /console/airlock/upload",
        "POST /console",
        "POST /console/usage",
        "POST /console/intel",
        "POST /console/vulnerabilities",
        "POST /console/audit",
        "POST /console/audit/{Index:long}",
        "POST /console/airlock",
        "POST /console/airlock/{Id}",
        "POST /console/users",
        "POST /console/alerts",
        "POST /console/settings",
        "POST /console/policy",
    };

    private const string Message = "{\"role\":\"user\",\"content\":\"hi\"}";

    public static TheoryData<string, byte[]> Bodies()
    {
        static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);
        static byte[] Join(params object[] parts) => [.. parts.SelectMany(p => p is string s ? Utf8(s) : (byte[])p)];
        return new TheoryData<string, byte[]>
        {
            { "duplicate top-level key", Utf8("{\"model\":\"echo-chat\",\"model\":\"echo-chat\",\"user\":\"admin\",\"messages\":[" + Message + "]}") },
            { "duplicate nested key", Utf8("{\"model\":\"echo-chat\",\"user\":\"admin\",\"messages\":[{\"role\":\"user\",\"role\":\"user\",\"content\":\"hi\"}]}") },
            { "duplicate key inside an unknown field", Utf8("{\"model\":\"echo-chat\",\"user\":\"admin\",\"messages\":[" + Message + "],\"x\":{\"a\":{\"b\":1,\"b\":2}}}") },
            { "lone surrogate escape", Utf8("{\"model\":\"echo-chat\",\"user\":\"admin\",\"messages\":[{\"role\":\"user\",\"content\":\"\\ud800x\"}]}") },
            { "lone surrogate in an unknown field", Utf8("{\"model\":\"echo-chat\",\"user\":\"admin\",\"messages\":[" + Message + "],\"x\":[\"\\udfff\"]}") },
            { "invalid UTF-8 in a string", Join("{\"model\":\"echo-chat\",\"user\":\"admin\",\"messages\":[{\"role\":\"user\",\"content\":\"a", new byte[] { 0xFF, 0xFE }, "\"}]}") },
            { "invalid UTF-8 in a member name", Join("{\"model\":\"echo-chat\",\"user\":\"admin\",\"messages\":[" + Message + "],\"", new byte[] { 0xC3 }, "\":1}") },
        };
    }

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task EveryBodyReadingEndpoint_AnswersMalformedJson_WithA400InTheFormOfItsApi(string why, byte[] body)
    {
        using var http = enclave.Client(enclave.AdminKey);
        var failures = new List<string>();
        var before = enclave.Entries().Count(e => e.Type == "request.admitted");
        foreach (var (key, method, path) in BodyEndpoints())
        {
            var isJson = JsonBodies.Contains(key);
            var isConsole = ConsoleForms.Contains(key);
            if (!isJson && !isConsole && !OtherBodies.Contains(key))
            {
                failures.Add($"{key} accepts a body but is not listed in {nameof(JsonBodies)} or {nameof(OtherBodies)}");
                continue;
            }

            using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            using var response = await http.SendAsync(request);
            var status = (int)response.StatusCode;
            var text = await response.Content.ReadAsStringAsync();
            if (isJson ? status != 400 : status is < 400 or >= 500)
            {
                failures.Add($"{key}: expected {(isJson ? "400" : "a 4xx")}, got {status} '{text}'");
                continue;
            }

            if (isConsole)
            {
                if (text.Length == 0 || response.Content.Headers.ContentType?.MediaType != "text/plain")
                {
                    failures.Add($"{key}: expected a plain-text explanation, got '{response.Content.Headers.ContentType}' '{text}'");
                }

                continue;
            }

            if (Shape(path, response, text) is { } problem)
            {
                failures.Add($"{key}: {problem}");
            }
        }

        Assert.True(failures.Count == 0, $"{why}:\n" + string.Join("\n", failures));
        Assert.Equal(before, enclave.Entries().Count(e => e.Type == "request.admitted"));
    }

    [Theory]
    [InlineData("GET", "/v1/chat/completions")]
    [InlineData("PUT", "/v1/embeddings")]
    [InlineData("GET", "/v1/messages")]
    [InlineData("DELETE", "/v1/models")]
    [InlineData("GET", "/admin/v1/policy/explain")]
    [InlineData("POST", "/admin/v1/lineage/entries/0")]
    [InlineData("DELETE", "/admin/v1/lineage/requests/req_0")]
    public async Task A_wrong_method_is_a_405_with_the_error_body_of_its_api(string method, string path)
    {
        using var http = enclave.Client(enclave.AdminKey);
        using var response = await http.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Null(Shape(path, response, text));
        Assert.Contains(method, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_v1_path_is_a_404_with_the_openai_error_object()
    {
        using var http = enclave.Client(enclave.AdminKey);
        using var response = await http.GetAsync("/v1/no-such-thing");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal("unknown_url", error["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_request_too_large_for_the_label_scan_says_so_rather_than_blaming_clearance()
    {
        using var http = enclave.Client(enclave.AdminKey);
        // More messages than the label scanner reads (1024): the request is labelled at the top of the lattice.
        var messages = string.Join(",", Enumerable.Repeat(Message, 1100));
        using var response = await http.PostAsync("/v1/chat/completions", new StringContent("{\"model\":\"echo-chat\",\"messages\":[" + messages + "]}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var message = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!["message"]!.GetValue<string>();
        Assert.Contains("could not be scanned for classification markings", message, StringComparison.Ordinal);
        Assert.Contains("over the scanning limit of 1024", message, StringComparison.Ordinal);
        Assert.Contains("Enclave-Classification", message, StringComparison.Ordinal);
    }

    /// <summary>Null when the answer has the error form of its API; otherwise what is wrong.</summary>
    private static string? Shape(string path, HttpResponseMessage response, string text)
    {
        JsonNode? json;
        try
        {
            json = JsonNode.Parse(text);
        }
        catch (System.Text.Json.JsonException)
        {
            return $"the body is not JSON: '{text}'";
        }

        if (path == "/v1/messages")
        {
            // The Anthropic Messages API answers in Anthropic's error form.
            return json?["type"]?.GetValue<string>() == "error" && json["error"]?["message"] is JsonValue am && am.GetValue<string>().Length > 0 && json["error"]!["type"] is JsonValue
                ? null
                : $"not an Anthropic error object: '{text}'";
        }

        if (path.StartsWith("/v1/", StringComparison.Ordinal))
        {
            var error = json?["error"];
            return error?["message"] is JsonValue m && m.GetValue<string>().Length > 0 && error["type"] is JsonValue
                ? null
                : $"not an OpenAI error object: '{text}'";
        }

        return response.Content.Headers.ContentType?.MediaType == "application/problem+json"
            && json?["status"]?.GetValue<int>() == (int)response.StatusCode
            && json["title"] is JsonValue
            ? null
            : $"not problem details: '{text}'";
    }

    /// <summary>Endpoints whose method may carry a body, as (key, method, concrete path).</summary>
    private List<(string Key, string Method, string Path)> BodyEndpoints()
    {
        var source = enclave.App.Services.GetRequiredService<EndpointDataSource>();
        var result = new List<(string, string, string)>();
        foreach (var endpoint in source.Endpoints.OfType<RouteEndpoint>())
        {
            var pattern = "/" + endpoint.RoutePattern.RawText!.TrimStart('/');
            var path = string.Join('/', pattern.Split('/').Select(segment => segment.StartsWith('{') ? "malformed-probe" : segment));
            foreach (var method in endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? [])
            {
                if (method is "POST" or "PUT" or "PATCH" or "DELETE")
                {
                    result.Add(($"{method} {pattern}", method, path));
                }
            }
        }

        return result;
    }
}

/// <summary>How <c>policy explain</c> shows a backend's accreditation.</summary>
public sealed class AccreditationBannerTests
{
    [Fact]
    public void TheTopOfTheLattice_ReadsAsAnyReleasability_NotRelToNone()
    {
        var scheme = Enclave.Policy.Labels.LabelScheme.Default;
        var shown = Enclave.Server.Admin.PolicyAdminEndpoints.Accreditation(scheme, scheme.Highest);
        Assert.DoesNotContain("REL TO (NONE)", shown, StringComparison.Ordinal);
        Assert.EndsWith("(any releasability)", shown, StringComparison.Ordinal);
        Assert.StartsWith(scheme.Levels[^1].Name, shown, StringComparison.Ordinal);
    }

    [Fact]
    public void AnyOtherAccreditation_IsItsBanner()
    {
        var scheme = Enclave.Policy.Labels.LabelScheme.Default;
        Assert.Equal(scheme.FormatBanner(scheme.Lowest), Enclave.Server.Admin.PolicyAdminEndpoints.Accreditation(scheme, scheme.Lowest));
    }
}
