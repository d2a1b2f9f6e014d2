#pragma warning disable OPENAI001 // the vector store client is marked experimental by the OpenAI library
using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using OpenAI;
using OpenAI.Files;
using OpenAI.VectorStores;

namespace Enclave.EndToEnd.Tests.Retrieval;

/// <summary>
/// Files and vector stores through the official OpenAI client, on the policy enclave (principals with different
/// clearances): a SECRET portion inside an UNCLASSIFIED document never reaches an UNCLASSIFIED caller, through the
/// files API or a vector-store search, and every upload and search is a ledger entry naming digests and chunk IDs.
/// </summary>
public sealed class RetrievalTests(PolicyEnclave enclave) : IClassFixture<PolicyEnclave>
{
    private const string Secret = "(S//NF) Operation NIGHTJAR moves the convoy north on the fourth of May at dawn.";

    private static readonly string Handbook = string.Join("\n\n",
        "UNCLASSIFIED",
        "(U) The canteen opens at eight and serves coffee all day long to staff.",
        Secret,
        "(U) Visitors sign in at the front desk and wear a badge at all times here.");

    private static JsonNode Details(Enclave.Core.Audit.AuditEvent entry) => JsonNode.Parse(entry.Details?.GetRawText() ?? "{}")!;

    private OpenAIClient Client(string key) => new(
        new ApiKeyCredential(key),
        new OpenAIClientOptions { Endpoint = new Uri(enclave.BaseUrl + "/v1"), RetryPolicy = new ClientRetryPolicy(maxRetries: 0) });

    private async Task<(string FileId, string StoreId)> UploadHandbookAsync()
    {
        var client = Client(enclave.SecretKey);
        var file = (await client.GetOpenAIFileClient().UploadFileAsync(BinaryData.FromString(Handbook), "handbook.md", FileUploadPurpose.Assistants)).Value;
        var store = (await client.GetVectorStoreClient().CreateVectorStoreAsync(new VectorStoreCreationOptions { Name = "handbook", FileIds = { file.Id } })).Value;
        return (file.Id, store.Id);
    }

    private async Task<(HttpResponseMessage Response, JsonObject Body)> SearchAsync(string key, string storeId, string query)
    {
        using var http = enclave.Client(key);
        var response = await http.PostAsync($"/v1/vector_stores/{storeId}/search", new StringContent(new JsonObject { ["query"] = query, ["max_num_results"] = 10 }.ToJsonString(), Encoding.UTF8, "application/json"));
        return (response, JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject());
    }

    [Fact]
    public async Task Upload_LabelsEachChunk_AndASecretPortionIsNeverSearchedForAnUnclassifiedCaller()
    {
        var (fileId, storeId) = await UploadHandbookAsync();

        // The cleared analyst gets every chunk (the stub's embeddings carry no meaning), the SECRET paragraph among them.
        var (cleared, clearedBody) = await SearchAsync(enclave.SecretKey, storeId, Secret);
        Assert.Equal(HttpStatusCode.OK, cleared.StatusCode);
        var secret = Assert.Single(clearedBody["data"]!.AsArray(), r => r!["content"]![0]!["text"]!.GetValue<string>().Contains("NIGHTJAR", StringComparison.Ordinal))!;
        Assert.Equal(fileId, secret["file_id"]!.GetValue<string>());
        Assert.Equal("SECRET//NOFORN", secret["attributes"]!["enclave_label"]!.GetValue<string>());
        Assert.True(clearedBody["data"]!.AsArray().Any(r => r!["attributes"]!["enclave_label"]!.GetValue<string>() == "UNCLASSIFIED"), clearedBody.ToJsonString());

        // The plain user, asking the same, gets only UNCLASSIFIED chunks, none with the secret's words.
        var (plain, plainBody) = await SearchAsync(enclave.UserKey, storeId, Secret);
        Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
        var results = plainBody["data"]!.AsArray();
        Assert.NotEmpty(results);
        Assert.All(results, r =>
        {
            Assert.Equal("UNCLASSIFIED", r!["attributes"]!["enclave_label"]!.GetValue<string>());
            Assert.DoesNotContain("NIGHTJAR", r["content"]![0]!["text"]!.GetValue<string>(), StringComparison.Ordinal);
            // Nor a chunk that starts inside the SECRET paragraph, after its marking (the marking covers the paragraph).
            Assert.DoesNotContain("convoy", r["content"]![0]!["text"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.DoesNotContain("dawn", r["content"]![0]!["text"]!.GetValue<string>(), StringComparison.Ordinal);
        });

        // Its ledger entry names the chunks returned, by ID and digest, never their text; and the caller's clearance.
        var entry = enclave.Entry(plain);
        Assert.Equal("retrieval.searched", entry.Type);
        Assert.Equal("UNCLASSIFIED", Details(entry)["clearance"]!.GetValue<string>());
        Assert.Equal(results.Select(r => r!["attributes"]!["enclave_chunk_id"]!.GetValue<string>()), Details(entry)["results"]!.AsArray().Select(r => r!["chunkId"]!.GetValue<string>()));
        Assert.DoesNotContain("canteen", Details(entry).ToJsonString(), StringComparison.Ordinal);
        Assert.DoesNotContain("NIGHTJAR", enclave.Entries().Select(e => Details(e.Event).ToJsonString()).Aggregate(string.Empty, string.Concat), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AFileWithASecretChunk_DoesNotExistForAnUnclassifiedCaller_ButItsUploaderSeesIt()
    {
        var (fileId, storeId) = await UploadHandbookAsync();

        var uploader = Client(enclave.SecretKey).GetOpenAIFileClient();
        var file = (await uploader.GetFileAsync(fileId)).Value;
        Assert.Equal("handbook.md", file.Filename);
        Assert.Equal(Handbook, (await uploader.DownloadFileAsync(fileId)).Value.ToString());
        Assert.Contains((await uploader.GetFilesAsync()).Value, f => f.Id == fileId);

        var plain = Client(enclave.UserKey).GetOpenAIFileClient();
        Assert.DoesNotContain((await plain.GetFilesAsync()).Value, f => f.Id == fileId);
        var notFound = await Assert.ThrowsAsync<ClientResultException>(() => plain.GetFileAsync(fileId));
        Assert.Equal(404, notFound.Status);
        notFound = await Assert.ThrowsAsync<ClientResultException>(() => plain.DownloadFileAsync(fileId));
        Assert.Equal(404, notFound.Status);

        // The store exists for both; it counts only the files each may see.
        Assert.Equal(1, (await Client(enclave.SecretKey).GetVectorStoreClient().GetVectorStoreAsync(storeId)).Value.FileCounts.Completed);
        Assert.Equal(0, (await Client(enclave.UserKey).GetVectorStoreClient().GetVectorStoreAsync(storeId)).Value.FileCounts.Completed);
    }

    [Fact]
    public async Task Upload_IsRecordedWithItsDigestAndLabels_AndDeleteIsRecordedToo()
    {
        using var http = enclave.Client(enclave.SecretKey);
        using var form = new MultipartFormDataContent
        {
            { new StringContent("assistants"), "purpose" },
            { new ByteArrayContent(Encoding.UTF8.GetBytes(Handbook)), "file", "notes.txt" },
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/files") { Content = form };
        request.Headers.Add("Enclave-Classification", "CUI");
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("CUI", body["enclave_label"]!.GetValue<string>());
        Assert.Equal("SECRET//NOFORN", body["enclave_highest_label"]!.GetValue<string>());

        var uploaded = enclave.Entry(response);
        Assert.Equal("file.uploaded", uploaded.Type);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(Handbook))), Details(uploaded)["sha256"]!.GetValue<string>());
        Assert.Equal("CUI", Details(uploaded)["label"]!.GetValue<string>());
        Assert.Equal("SECRET//NOFORN", Details(uploaded)["highestLabel"]!.GetValue<string>());
        Assert.Equal("embed-m", Details(uploaded)["embeddingModel"]!.GetValue<string>());
        Assert.Equal("PlainText", Details(uploaded)["documentType"]!.GetValue<string>());

        var fileId = body["id"]!.GetValue<string>();
        var deleted = await Client(enclave.SecretKey).GetOpenAIFileClient().DeleteFileAsync(fileId);
        Assert.True(deleted.Value.Deleted);
        Assert.Contains(enclave.Entries(), e => e.Event.Type == "file.deleted" && Details(e.Event)["fileId"]!.GetValue<string>() == fileId);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"/v1/files/{fileId}")).StatusCode);
    }

    [Fact]
    public async Task Chat_WithFileSearch_PutsOnlyClearedChunksInThePrompt_AndCitesThem()
    {
        var (fileId, storeId) = await UploadHandbookAsync();
        async Task<(HttpResponseMessage Response, JsonNode Body)> ChatAsync(string key, string model)
        {
            using var http = enclave.Client(key);
            var body = new JsonObject
            {
                ["model"] = model,
                ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "When does the convoy move?" }),
                ["tools"] = new JsonArray(new JsonObject { ["type"] = "file_search", ["file_search"] = new JsonObject { ["vector_store_ids"] = new JsonArray(storeId), ["max_num_results"] = 10 } }),
            };
            var response = await http.PostAsync("/v1/chat/completions", new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
            return (response, JsonNode.Parse(await response.Content.ReadAsStringAsync())!);
        }

        enclave.Internal.Clear();
        enclave.Cloud.Clear();
        var (cleared, clearedBody) = await ChatAsync(enclave.SecretKey, "chat-m");
        Assert.Equal(HttpStatusCode.OK, cleared.StatusCode);
        var citations = clearedBody["enclave_citations"]!.AsArray();
        Assert.Contains(citations, c => c!["label"]!.GetValue<string>() == "SECRET//NOFORN" && c["file_id"]!.GetValue<string>() == fileId);
        Assert.All(citations, c => Assert.StartsWith(fileId + ":", c!["chunk_id"]!.GetValue<string>(), StringComparison.Ordinal));
        // The excerpts (one SECRET//NOFORN) raised the request's label: only the accredited internal backend saw them.
        Assert.Contains(enclave.Internal.ReceivedText, t => t.Contains("NIGHTJAR", StringComparison.Ordinal));
        Assert.DoesNotContain(enclave.Cloud.ReceivedText, t => t.Contains("NIGHTJAR", StringComparison.Ordinal) || t.Contains("canteen", StringComparison.Ordinal));
        Assert.DoesNotContain("tools", enclave.Internal.ReceivedText.Last(t => t.Contains("NIGHTJAR", StringComparison.Ordinal)), StringComparison.Ordinal);

        enclave.Internal.Clear();
        enclave.Cloud.Clear();
        var (plain, plainBody) = await ChatAsync(enclave.UserKey, "open-m"); // chat-m (SECRET//NOFORN) is invisible to this caller
        Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
        Assert.NotEmpty(plainBody["enclave_citations"]!.AsArray());
        Assert.All(plainBody["enclave_citations"]!.AsArray(), c => Assert.Equal("UNCLASSIFIED", c!["label"]!.GetValue<string>()));
        Assert.DoesNotContain(enclave.Internal.ReceivedText.Concat(enclave.Cloud.ReceivedText), t => t.Contains("NIGHTJAR", StringComparison.Ordinal) || t.Contains("dawn", StringComparison.Ordinal));
        Assert.Contains(enclave.Internal.ReceivedText.Concat(enclave.Cloud.ReceivedText), t => t.Contains("canteen", StringComparison.Ordinal) || t.Contains("Visitors", StringComparison.Ordinal));
    }

    [Fact]
    public async Task StreamedChat_WithFileSearch_CitesOnTheFirstChunk_AndOnlyClearedChunksReachTheModel()
    {
        var (fileId, storeId) = await UploadHandbookAsync();
        async Task<List<JsonNode>> StreamAsync(string key, string model)
        {
            using var http = enclave.Client(key);
            var body = new JsonObject
            {
                ["model"] = model,
                ["stream"] = true,
                ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "When does the convoy move?" }),
                ["tools"] = new JsonArray(new JsonObject { ["type"] = "file_search", ["file_search"] = new JsonObject { ["vector_store_ids"] = new JsonArray(storeId), ["max_num_results"] = 10 } }),
            };
            using var response = await http.PostAsync("/v1/chat/completions", new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
            var events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(e => e.Trim()["data: ".Length..]).ToList();
            Assert.Equal("[DONE]", events[^1]);
            var admitted = enclave.Entries().Last(e => e.Event.Type == "request.admitted").Event;
            Assert.True(admitted.Details!.Value.GetProperty("stream").GetBoolean());
            Assert.Equal(JsonValueKind.Array, admitted.Details!.Value.GetProperty("retrieval").ValueKind);
            return [.. events.SkipLast(1).Select(e => JsonNode.Parse(e)!)];
        }

        enclave.Internal.Clear();
        enclave.Cloud.Clear();
        var cleared = await StreamAsync(enclave.SecretKey, "chat-m");
        var citations = cleared[0]["enclave_citations"]!.AsArray();
        Assert.Contains(citations, c => c!["label"]!.GetValue<string>() == "SECRET//NOFORN" && c["file_id"]!.GetValue<string>() == fileId);
        Assert.All(cleared.Skip(1), c => Assert.Null(c["enclave_citations"]));
        Assert.Contains("When does the convoy move?", string.Concat(cleared.Select(c => c["choices"]?[0]?["delta"]?["content"]?.GetValue<string>())), StringComparison.Ordinal);
        Assert.Contains(enclave.Internal.ReceivedText, t => t.Contains("NIGHTJAR", StringComparison.Ordinal));
        Assert.DoesNotContain(enclave.Cloud.ReceivedText, t => t.Contains("NIGHTJAR", StringComparison.Ordinal));

        enclave.Internal.Clear();
        enclave.Cloud.Clear();
        var plain = await StreamAsync(enclave.UserKey, "open-m");
        Assert.All(plain[0]["enclave_citations"]!.AsArray(), c => Assert.Equal("UNCLASSIFIED", c!["label"]!.GetValue<string>()));
        Assert.DoesNotContain(enclave.Internal.ReceivedText.Concat(enclave.Cloud.ReceivedText), t => t.Contains("NIGHTJAR", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Search_AfterAFileIsAddedOrDeleted_SeesTheStoreAsItIsNow()
    {
        // The store's vectors stay resident between searches; adding or deleting a file must show in the next search.
        var (fileId, storeId) = await UploadHandbookAsync();
        var (first, firstBody) = await SearchAsync(enclave.SecretKey, storeId, "canteen");
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.All(firstBody["data"]!.AsArray(), r => Assert.Equal(fileId, r!["file_id"]!.GetValue<string>()));

        var client = Client(enclave.SecretKey);
        var added = (await client.GetOpenAIFileClient().UploadFileAsync(BinaryData.FromString("(U) The library lends maps of the harbour to every visitor who asks."), "library.md", FileUploadPurpose.Assistants)).Value;
        await client.GetVectorStoreClient().AddFileToVectorStoreAsync(storeId, added.Id);
        var (second, secondBody) = await SearchAsync(enclave.SecretKey, storeId, "maps of the harbour");
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Contains(secondBody["data"]!.AsArray(), r => r!["file_id"]!.GetValue<string>() == added.Id);

        await client.GetOpenAIFileClient().DeleteFileAsync(added.Id);
        var (third, thirdBody) = await SearchAsync(enclave.SecretKey, storeId, "maps of the harbour");
        Assert.Equal(HttpStatusCode.OK, third.StatusCode);
        Assert.DoesNotContain(thirdBody["data"]!.AsArray(), r => r!["file_id"]!.GetValue<string>() == added.Id);
        Assert.NotEmpty(thirdBody["data"]!.AsArray());
    }

    [Theory]
    [InlineData("notes.exe", "MZ", 400)]
    [InlineData("notes.txt", "", 400)]
    [InlineData("scan.pdf", "%PDF-1.7\n1 0 obj <<", 400)]
    [InlineData("scan.pdf", "not a pdf", 400)]
    public async Task Upload_OfADocumentThatCannotBeRead_IsA400WithTheOpenAiErrorObject_NeverA500(string name, string content, int status)
    {
        using var http = enclave.Client(enclave.SecretKey);
        using var form = new MultipartFormDataContent
        {
            { new StringContent("assistants"), "purpose" },
            { new ByteArrayContent(Encoding.UTF8.GetBytes(content)), "file", name },
        };
        using var response = await http.PostAsync("/v1/files", form);
        Assert.Equal(status, (int)response.StatusCode);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal("invalid_request_error", error["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task Upload_OfInvalidUtf8_IsRefused()
    {
        using var http = enclave.Client(enclave.SecretKey);
        using var form = new MultipartFormDataContent
        {
            { new StringContent("assistants"), "purpose" },
            { new ByteArrayContent([0x61, 0xFF, 0xFE, 0x62]), "file", "bad.md" },
        };
        using var response = await http.PostAsync("/v1/files", form);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("UTF-8", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
