using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Enclave.Policy.Identity;

namespace Enclave.EndToEnd.Tests.Retention;

/// <summary>Retention on a real server: what is kept is exactly what the ledger's digests cover, and reading it is recorded.</summary>
public sealed class RetentionEndToEndTests(EnclaveFixture enclave) : IClassFixture<EnclaveFixture>
{
    private HttpClient Client(string key)
    {
        var http = new HttpClient { BaseAddress = new Uri(enclave.BaseUrl) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return http;
    }

    private static async Task<long> AdmittedIndexAsync(HttpResponseMessage response) =>
        long.Parse(response.Headers.GetValues("Enclave-Ledger-Index").Single(), System.Globalization.CultureInfo.InvariantCulture);

    private async Task<JsonObject> ReadRetainedAsync(HttpClient auditor, long index)
    {
        // Records are sealed off the request path; poll briefly until the writer has stored it.
        for (var attempt = 0; ; attempt++)
        {
            using var response = await auditor.GetAsync($"/admin/v1/retention/{index}");
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
            }

            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.True(attempt < 200, "the retained record never appeared");
            await Task.Delay(50);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_retained_prompt_and_answer_match_the_ledgers_digests_and_reading_them_is_recorded(bool stream)
    {
        var auditorKey = new ApiKeyStore(enclave.DataDirectory, TimeProvider.System).Create("retention auditor", "auditor").Key;
        using var user = Client(enclave.AdminKey);
        var body = $$"""{"model":"echo-chat","stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"the secret word is ZEBRA {{stream}}"}]}""";
        using var response = await user.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        _ = await response.Content.ReadAsStringAsync();
        var index = await AdmittedIndexAsync(response);

        using var auditor = Client(auditorKey);
        var record = await ReadRetainedAsync(auditor, index);
        Assert.Equal($"the secret word is ZEBRA {stream}", record["prompt"]![0]!["content"]!.GetValue<string>());
        Assert.Equal(enclave.Entry(index).Details!.Value.GetProperty("promptSha256").GetString(), record["promptSha256"]!.GetValue<string>());
        var completed = await EnclaveFixture.EventuallyAsync(() => enclave.CompletedEntry(index));
        Assert.Equal(completed.Details!.Value.GetProperty("answerSha256").GetString(), record["answerSha256"]!.GetValue<string>());

        var read = enclave.Entries().Last(e => e.Event.Type == "retention.read");
        Assert.Equal($"ledger:{index}", read.Event.Subject);
        Assert.StartsWith("user:", read.Event.Actor, StringComparison.Ordinal);

        // Nothing of the prompt's text is in the data directory's files: the ledger holds digests, retention ciphertext.
        foreach (var file in Directory.EnumerateFiles(enclave.DataDirectory, "*.db*"))
        {
            using var open = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var copy = new MemoryStream();
            await open.CopyToAsync(copy);
            Assert.Equal(-1, copy.ToArray().AsSpan().IndexOf("secret word is ZEBRA"u8));
        }
    }

    [Fact]
    public async Task A_user_may_not_read_retained_content_and_a_bad_index_is_400()
    {
        var userKey = new ApiKeyStore(enclave.DataDirectory, TimeProvider.System).Create("retention user", "user").Key;
        using var user = Client(userKey);
        using var forbidden = await user.GetAsync("/admin/v1/retention/0");
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        using var admin = Client(enclave.AdminKey);
        using var bad = await admin.GetAsync("/admin/v1/retention/-1");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        using var none = await admin.GetAsync("/admin/v1/retention/999999");
        Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);
    }
}
