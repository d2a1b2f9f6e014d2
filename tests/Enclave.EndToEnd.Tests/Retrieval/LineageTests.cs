using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Enclave.Cli;
using Enclave.Cli.Commands;

namespace Enclave.EndToEnd.Tests.Retrieval;

/// <summary>
/// Lineage of an answer with retrieval, on the policy enclave: the request's entries, the search that fed it and the
/// uploads of the documents it returned, each hop with an inclusion proof that verifies against the checkpoint named;
/// through the admin API and <c>enclave lineage</c>. (The airlock hops, import, bundle and approvers, are asserted by
/// the airlock end-to-end test on an imported model.)
/// </summary>
public sealed class LineageTests(PolicyEnclave enclave) : IClassFixture<PolicyEnclave>
{
    private const string Handbook = "UNCLASSIFIED\n\n(U) The canteen opens at eight and serves coffee all day long to staff.\n\n(U) Visitors sign in at the front desk and wear a badge at all times here.";

    private async Task<(string FileId, string RequestId, long Index)> ChatWithRetrievalAsync()
    {
        using var http = enclave.Client(enclave.SecretKey);
        using var form = new MultipartFormDataContent
        {
            { new StringContent("assistants"), "purpose" },
            { new ByteArrayContent(Encoding.UTF8.GetBytes(Handbook)), "file", "handbook.md" },
        };
        using var uploaded = await http.PostAsync("/v1/files", form);
        Assert.Equal(HttpStatusCode.OK, uploaded.StatusCode);
        var fileId = JsonNode.Parse(await uploaded.Content.ReadAsStringAsync())!["id"]!.GetValue<string>();
        using var created = await http.PostAsync("/v1/vector_stores", new StringContent(new JsonObject { ["name"] = "lineage", ["file_ids"] = new JsonArray(fileId) }.ToJsonString(), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        var storeId = JsonNode.Parse(await created.Content.ReadAsStringAsync())!["id"]!.GetValue<string>();
        var body = new JsonObject
        {
            ["model"] = "chat-m",
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "When does the canteen open?" }),
            ["tools"] = new JsonArray(new JsonObject { ["type"] = "file_search", ["file_search"] = new JsonObject { ["vector_store_ids"] = new JsonArray(storeId) } }),
        };
        using var chat = await http.PostAsync("/v1/chat/completions", new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
        return (fileId, chat.Headers.GetValues("X-Request-Id").Single(), long.Parse(chat.Headers.GetValues("Enclave-Ledger-Index").Single(), System.Globalization.CultureInfo.InvariantCulture));
    }

    private async Task<(HttpStatusCode Status, JsonNode? Body)> GetAsync(string key, string path)
    {
        using var http = enclave.Client(key);
        using var response = await http.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    [Fact]
    public async Task Lineage_OfAnAnswerWithRetrieval_NamesTheSearchAndTheDocuments_AndEveryHopVerifies()
    {
        var (fileId, requestId, admittedIndex) = await ChatWithRetrievalAsync();

        var (status, body) = await GetAsync(enclave.AuditorKey, "/admin/v1/lineage/requests/" + requestId);

        Assert.Equal(HttpStatusCode.OK, status);
        var lineage = body!.AsObject();
        Assert.Equal(requestId, lineage["requestId"]!.GetValue<string>());
        Assert.Equal("chat-m", lineage["model"]!.GetValue<string>());
        Assert.Equal("user:secret-analyst", lineage["actor"]!.GetValue<string>());
        Assert.Null(lineage["import"]); // an upstream model configured, not imported
        var document = Assert.Single(lineage["documents"]!.AsArray())!;
        Assert.Equal(fileId, document["fileId"]!.GetValue<string>());
        Assert.Equal("handbook.md", document["filename"]!.GetValue<string>());
        Assert.Equal("user:secret-analyst", document["uploadedBy"]!.GetValue<string>());
        var hops = lineage["hops"]!.AsArray().Select(h => (Hop: h!["hop"]!.GetValue<string>(), Index: h["index"]!.GetValue<long>())).ToList();
        Assert.Equal(["request.completed", "request.admitted", "retrieval.searched", "file.uploaded"], hops.Select(h => h.Hop));
        Assert.Equal(admittedIndex, hops[1].Index);
        Assert.True(hops[2].Index < admittedIndex && hops[3].Index < hops[2].Index);
        Assert.Equal(document["uploadIndex"]!.GetValue<long>(), hops[3].Index);
        Assert.True(lineage["checkpoint"]!["size"]!.GetValue<long>() > hops[0].Index);
        Assert.Empty(LineageCommand.Verify(lineage));
        var admitted = enclave.Entries().Single(e => e.Index == admittedIndex).Event;
        Assert.Equal(hops[2].Index, admitted.Details!.Value.GetProperty("retrieval")[0].GetInt64());

        // The same lineage from the index of either request entry.
        var (byCompleted, fromCompleted) = await GetAsync(enclave.AdminKey, $"/admin/v1/lineage/entries/{hops[0].Index}");
        var (byAdmitted, fromAdmitted) = await GetAsync(enclave.AdminKey, $"/admin/v1/lineage/entries/{admittedIndex}");
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (byCompleted, byAdmitted));
        Assert.Equal(hops, fromCompleted!["hops"]!.AsArray().Select(h => (h!["hop"]!.GetValue<string>(), h["index"]!.GetValue<long>())));
        Assert.Equal(hops, fromAdmitted!["hops"]!.AsArray().Select(h => (h!["hop"]!.GetValue<string>(), h["index"]!.GetValue<long>())));
    }

    [Fact]
    public async Task Lineage_WithATamperedEntryOrProof_DoesNotVerify()
    {
        var (_, requestId, _) = await ChatWithRetrievalAsync();
        var (_, body) = await GetAsync(enclave.AuditorKey, "/admin/v1/lineage/requests/" + requestId);

        var entry = body!.DeepClone().AsObject();
        var bytes = Convert.FromBase64String(entry["hops"]![2]!["entry"]!.GetValue<string>());
        bytes[bytes.Length / 2] ^= 0x01;
        entry["hops"]![2]!["entry"] = Convert.ToBase64String(bytes);
        var proof = body.DeepClone().AsObject();
        proof["hops"]![0]!["inclusionProof"]!.AsArray().RemoveAt(0);
        var index = body.DeepClone().AsObject();
        index["hops"]![1]!["index"] = index["hops"]![1]!["index"]!.GetValue<long>() + 1;
        var checkpoint = body.DeepClone().AsObject();
        checkpoint["checkpoint"]!["note"] = "not a checkpoint";

        Assert.Contains("retrieval.searched", Assert.Single(LineageCommand.Verify(entry)), StringComparison.Ordinal);
        Assert.Contains("request.completed", Assert.Single(LineageCommand.Verify(proof)), StringComparison.Ordinal);
        Assert.Contains("request.admitted", Assert.Single(LineageCommand.Verify(index)), StringComparison.Ordinal);
        Assert.Contains("checkpoint", Assert.Single(LineageCommand.Verify(checkpoint)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Lineage_RefusesOtherRoles_UnknownRequests_AndEntriesThatAreNoRequest()
    {
        var (_, requestId, _) = await ChatWithRetrievalAsync();

        Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync(enclave.SecretKey, "/admin/v1/lineage/requests/" + requestId)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync(enclave.UserKey, "/admin/v1/lineage/entries/0")).Status);
        var (unknown, unknownBody) = await GetAsync(enclave.AuditorKey, "/admin/v1/lineage/requests/req_000000000000000000000000");
        var (notRequest, notRequestBody) = await GetAsync(enclave.AuditorKey, "/admin/v1/lineage/entries/0");
        var (beyond, _) = await GetAsync(enclave.AuditorKey, "/admin/v1/lineage/entries/99999999");
        var (notIndex, _) = await GetAsync(enclave.AuditorKey, "/admin/v1/lineage/entries/-1");

        Assert.Equal(HttpStatusCode.NotFound, unknown);
        Assert.Contains("req_000000000000000000000000", unknownBody!["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, notRequest);
        Assert.Contains("not a request.completed or request.admitted entry", notRequestBody!["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, beyond);
        Assert.Equal(HttpStatusCode.BadRequest, notIndex);
    }

    [Fact]
    public async Task LineageCommand_PrintsEveryHop_AndItsJsonSaysVerified()
    {
        var (fileId, requestId, admittedIndex) = await ChatWithRetrievalAsync();
        var keyFile = Path.Combine(enclave.DataDirectory, "lineage-auditor.key");
        await File.WriteAllTextAsync(keyFile, enclave.AuditorKey);
        using var output = new StringWriter();
        using var errors = new StringWriter();
        var context = new CliContext { Out = output, Error = errors, In = TextReader.Null, OpenStandardOutput = () => Stream.Null };

        var code = await EnclaveCli.RunAsync(["lineage", requestId, "--server", enclave.BaseUrl, "--api-key-file", keyFile], context);
        var text = output.ToString();
        output.GetStringBuilder().Clear();
        var jsonCode = await EnclaveCli.RunAsync(["lineage", "--index", admittedIndex.ToString(System.Globalization.CultureInfo.InvariantCulture), "--server", enclave.BaseUrl, "--api-key-file", keyFile, "--json"], context);
        var both = await EnclaveCli.RunAsync(["lineage", requestId, "--index", "3", "--server", enclave.BaseUrl, "--api-key-file", keyFile], context);

        Assert.True(code == 0, errors.ToString());
        Assert.Equal(0, jsonCode);
        Assert.Contains($"request   {requestId} by user:secret-analyst", text, StringComparison.Ordinal);
        Assert.Contains($"document  {fileId} handbook.md", text, StringComparison.Ordinal);
        Assert.Contains("retrieval.searched", text, StringComparison.Ordinal);
        Assert.Contains("import    none", text, StringComparison.Ordinal);
        var json = JsonNode.Parse(output.ToString())!;
        Assert.True(json["verified"]!.GetValue<bool>());
        Assert.Equal(requestId, json["requestId"]!.GetValue<string>());
        Assert.Equal((int)ExitCode.InvalidInput, both);
    }
}
