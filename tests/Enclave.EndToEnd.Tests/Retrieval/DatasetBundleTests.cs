#pragma warning disable OPENAI001 // the vector store client is marked experimental by the OpenAI library
using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Enclave.Airlock.Repository;
using Enclave.Cli.Commands;
using OpenAI;
using OpenAI.Files;
using OpenAI.VectorStores;

namespace Enclave.EndToEnd.Tests.Retrieval;

/// <summary>
/// Documents that enter through the airlock as <c>dataset</c> bundles, on the policy enclave: a corpus bundled and
/// signed with the connected side's tooling (<c>TrustRepository.CreateBundle</c>, as <c>enclave bundle create</c>),
/// imported and approved with <c>enclave airlock</c>, then searched through the official OpenAI client; a SECRET
/// portion inside an UNCLASSIFIED document of the dataset never reaches an UNCLASSIFIED caller; a dataset that cannot be
/// indexed is refused at import with every problem named; and the lineage of an answer built on dataset chunks runs
/// through the documents to the bundle's import, each hop proven.
/// </summary>
public sealed class DatasetBundleTests(PolicyEnclave enclave) : IClassFixture<PolicyEnclave>
{
    private const string Passphrase = "dataset-bundle-tests";

    private const string Handbook = "(U) The canteen opens at eight in the morning and serves coffee, tea and soup all day long to the staff of the building.\n\n(S//NF) Operation NIGHTJAR moves the convoy north on the fourth of May at dawn.\n\n(U) Visitors sign in at the front desk and wear a badge at all times here.";

    private const string Orders = "Standing orders for the night watch: lock the armoury and log every patrol.";

    private const string Visits = "<html><body><h1>Visits</h1><p>Guests are met in the lobby and escorted at all times.</p><script>secret()</script></body></html>";

    // One connected-side repository per enclave (this class's fixture): its bundles are imported in the order they are made.
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static Repository? _repository;
    private static (string ImportId, string StoreId)? _dataset;

    private sealed record Repository(TrustRepository Trust, string Root, AdminSteps Steps, string AdminKeyFile, string ApproverKeyFile);

    private OpenAIClient Client(string key) => new(
        new ApiKeyCredential(key),
        new OpenAIClientOptions { Endpoint = new Uri(enclave.BaseUrl + "/v1"), RetryPolicy = new ClientRetryPolicy(maxRetries: 0) });

    private static JsonNode Details(Enclave.Core.Audit.AuditEvent entry) => JsonNode.Parse(entry.Details?.GetRawText() ?? "{}")!;

    private async Task<Repository> RepositoryAsync()
    {
        if (_repository is { } existing)
        {
            return existing;
        }

        var root = Directory.CreateTempSubdirectory("enclave-dataset-").FullName;
        using var passphrase = Enclave.Signing.Keys.Passphrase.FromString(Passphrase);
        var trust = TrustRepository.Initialize(new TrustInitOptions { Directory = Path.Combine(root, "repo"), RootKeys = 1, RootThreshold = 1 }, passphrase, TimeProvider.System);
        var steps = new AdminSteps(enclave.BaseUrl, enclave.AdminKey, root);
        var adminKeyFile = steps.KeyFile("admin", enclave.AdminKey);
        var pinned = await steps.CliAsync(adminKeyFile, "airlock", "trust", trust.RootPath);
        Assert.True(pinned.Code == 0, pinned.Error);
        var approver = await steps.ApproverAsync("dana");
        _repository = new Repository(TrustRepository.Open(trust.Directory), root, steps, adminKeyFile, approver);
        return _repository;
    }

    /// <summary>Writes the corpus into a folder and bundles it as <c>dataset NAME VERSION</c> under <paramref name="label"/>.</summary>
    private static string Bundle(Repository repository, string name, string label, IReadOnlyDictionary<string, string> corpus)
    {
        var folder = Path.Combine(repository.Root, name + "-corpus");
        foreach (var (path, text) in corpus)
        {
            var file = Path.Combine(folder, path);
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            File.WriteAllText(file, text);
        }

        var output = Path.Combine(repository.Root, name + ".tar");
        using var passphrase = Enclave.Signing.Keys.Passphrase.FromString(Passphrase);
        var created = repository.Trust.CreateBundle(
            new BundleCreateOptions { Kind = "dataset", Name = name, Version = "1.0", Label = label, Sources = [folder], Output = output },
            passphrase,
            TimeProvider.System);
        Assert.True(created.IsComplete);
        return output;
    }

    /// <summary>The field-manuals dataset, imported by the admin and activated by one approver (once per enclave).</summary>
    private async Task<(string ImportId, string StoreId)> DatasetAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (_dataset is { } done)
            {
                return done;
            }

            var repository = await RepositoryAsync();
            var bundle = Bundle(repository, "field-manuals", "SECRET//NOFORN", new Dictionary<string, string>
            {
                ["handbook.md"] = Handbook,
                ["orders/night-watch.txt"] = Orders,
                ["visits.html"] = Visits,
                ["manifest.json"] = """{"vector_store_name": "field manuals", "labels": {"handbook.md": "UNCLASSIFIED", "visits.html": "UNCLASSIFIED"}}""",
            });
            var importId = await repository.Steps.ImportAsync(repository.AdminKeyFile, bundle);
            await repository.Steps.ApproveUntilActivatedAsync([repository.ApproverKeyFile], importId);
            var store = Assert.Single(await Client(enclave.SecretKey).GetVectorStoreClient().GetVectorStoresAsync().ToListAsync(), s => s.Name == "field manuals");
            _dataset = (importId, store.Id);
            return _dataset.Value;
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary><c>POST /v1/vector_stores/{id}/search</c> sent through the official client's own pipeline (its credential, its transport).</summary>
    private async Task<JsonObject> SearchAsync(string key, string storeId, string query)
    {
        var pipeline = Client(key).GetVectorStoreClient().Pipeline;
        using var message = pipeline.CreateMessage();
        message.Request.Method = "POST";
        message.Request.Uri = new Uri($"{enclave.BaseUrl}/v1/vector_stores/{storeId}/search");
        message.Request.Headers.Set("Content-Type", "application/json");
        message.Request.Content = BinaryContent.Create(BinaryData.FromString(new JsonObject { ["query"] = query, ["max_num_results"] = 20 }.ToJsonString()));
        await pipeline.SendAsync(message);
        Assert.Equal(200, message.Response!.Status);
        var body = JsonNode.Parse(message.Response.Content.ToString())!.AsObject();
        body["ledgerIndex"] = long.Parse(message.Response.Headers.TryGetValue("Enclave-Ledger-Index", out var index) ? index! : "-1", System.Globalization.CultureInfo.InvariantCulture);
        return body;
    }

    private static string Sha256(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    [Fact]
    public async Task DatasetBundle_ImportedAndApproved_IsIndexedIntoItsVectorStore_AndASecretPortionNeverReachesAnUnclassifiedCaller()
    {
        var (importId, storeId) = await DatasetAsync();

        // Every document was recorded as uploaded by the approver whose approval activated the bundle, naming the import.
        var uploads = enclave.Entries().Where(e => e.Event.Type == "file.uploaded" && Details(e.Event)["importId"]?.GetValue<string>() == importId).ToList();
        Assert.Equal(["handbook.md", "orders/night-watch.txt", "visits.html"], uploads.Select(u => Details(u.Event)["filename"]!.GetValue<string>()).Order(StringComparer.Ordinal));
        Assert.All(uploads, u => Assert.Equal("user:dana", u.Event.Actor));
        var handbook = Details(uploads.Single(u => Details(u.Event)["filename"]!.GetValue<string>() == "handbook.md").Event);
        Assert.Equal(Sha256(Handbook), handbook["sha256"]!.GetValue<string>());
        Assert.Equal(("UNCLASSIFIED", "SECRET//NOFORN"), (handbook["label"]!.GetValue<string>(), handbook["highestLabel"]!.GetValue<string>()));
        var orders = Details(uploads.Single(u => Details(u.Event)["filename"]!.GetValue<string>() == "orders/night-watch.txt").Event);
        Assert.Equal("SECRET//NOFORN", orders["label"]!.GetValue<string>()); // no manifest label: the bundle's
        var created = enclave.Entries().Single(e => e.Event.Type == "vector_store.created" && e.Event.Subject == storeId);
        Assert.Equal(uploads.Select(u => u.Event.Subject).Order(StringComparer.Ordinal), Details(created.Event)["files"]!.AsArray().Select(f => f!["fileId"]!.GetValue<string>()).Order(StringComparer.Ordinal));

        // Through the official client: the cleared analyst sees the three documents, the plain user only the one it may.
        var clearedStores = Client(enclave.SecretKey).GetVectorStoreClient();
        var plainStores = Client(enclave.UserKey).GetVectorStoreClient();
        Assert.Equal(3, (await clearedStores.GetVectorStoreAsync(storeId)).Value.FileCounts.Completed);
        Assert.Equal(1, (await plainStores.GetVectorStoreAsync(storeId)).Value.FileCounts.Completed);
        var handbookId = uploads.Single(u => Details(u.Event)["filename"]!.GetValue<string>() == "handbook.md").Event.Subject;
        Assert.Equal(Handbook, (await Client(enclave.SecretKey).GetOpenAIFileClient().DownloadFileAsync(handbookId)).Value.ToString());
        Assert.Equal(404, (await Assert.ThrowsAsync<ClientResultException>(() => Client(enclave.UserKey).GetOpenAIFileClient().GetFileAsync(handbookId))).Status);

        // Search: the analyst finds the SECRET paragraph; the plain user asking the same gets only UNCLASSIFIED chunks,
        // among them the handbook's own UNCLASSIFIED paragraphs, cited by the document's digest.
        var cleared = await SearchAsync(enclave.SecretKey, storeId, "Operation NIGHTJAR convoy");
        var secret = Assert.Single(cleared["data"]!.AsArray(), r => r!["content"]![0]!["text"]!.GetValue<string>().Contains("NIGHTJAR", StringComparison.Ordinal))!;
        Assert.Equal(("SECRET//NOFORN", Sha256(Handbook)), (secret["attributes"]!["enclave_label"]!.GetValue<string>(), secret["attributes"]!["enclave_sha256"]!.GetValue<string>()));

        var plain = await SearchAsync(enclave.UserKey, storeId, "Operation NIGHTJAR convoy");
        var results = plain["data"]!.AsArray();
        Assert.Contains(results, r => r!["file_id"]!.GetValue<string>() == handbookId && r["content"]![0]!["text"]!.GetValue<string>().Contains("canteen", StringComparison.Ordinal));
        Assert.All(results, r =>
        {
            Assert.Equal("UNCLASSIFIED", r!["attributes"]!["enclave_label"]!.GetValue<string>());
            foreach (var word in new[] { "NIGHTJAR", "convoy", "dawn", "armoury", "secret()" })
            {
                Assert.DoesNotContain(word, r["content"]![0]!["text"]!.GetValue<string>(), StringComparison.Ordinal);
            }
        });

        // The search's ledger entry names the dataset document by its digest, never its text.
        var searched = enclave.Entries().Single(e => e.Index == plain["ledgerIndex"]!.GetValue<long>()).Event;
        Assert.Equal("retrieval.searched", searched.Type);
        Assert.Contains(Details(searched)["results"]!.AsArray(), r => r!["sha256"]!.GetValue<string>() == Sha256(Handbook));
        Assert.DoesNotContain("canteen", Details(searched).ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DatasetBundle_ThatCannotBeIndexed_IsRefusedAtImport_WithEveryProblem_AndNothingIsStored()
    {
        await DatasetAsync(); // keep the repository's bundles in the order they are imported
        await Gate.WaitAsync();
        try
        {
            var repository = await RepositoryAsync();
            var bundle = Bundle(repository, "leaky", "UNCLASSIFIED", new Dictionary<string, string>
            {
                ["handbook.md"] = Handbook, // a SECRET//NOFORN portion in an UNCLASSIFIED bundle
                ["slides.pptx"] = "not a document Enclave reads",
                ["notes.txt"] = "(U) Nothing wrong here.",
            });
            var before = enclave.Entries().Count;

            using var http = enclave.Client(enclave.AdminKey);
            using var content = new StreamContent(File.OpenRead(bundle));
            content.Headers.ContentType = new MediaTypeHeaderValue("application/x-tar");
            using var response = await http.PostAsync("/admin/v1/airlock/imports", content);

            Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
            var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            Assert.Equal("dataset", problem["code"]!.GetValue<string>());
            var findings = problem["findings"]!.AsArray().Select(f => f!.GetValue<string>()).ToList();
            Assert.Equal(2, findings.Count);
            Assert.Contains(findings, f => f.StartsWith("handbook.md:", StringComparison.Ordinal) && f.Contains("marked SECRET//NOFORN, above the bundle's label UNCLASSIFIED", StringComparison.Ordinal));
            Assert.Contains(findings, f => f.StartsWith("slides.pptx: '.pptx' files are not extracted", StringComparison.Ordinal));
            Assert.Contains("dataset leaky 1.0 cannot be indexed (2 problems)", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);

            // The ledger says so; nothing was verified, stored or indexed.
            var after = enclave.Entries().Skip(before).Select(e => e.Event).ToList();
            var rejected = Assert.Single(after, e => e.Type == "import.rejected");
            Assert.Equal(("scan", "dataset"), (Details(rejected)["stage"]!.GetValue<string>(), Details(rejected)["reason"]!.GetValue<string>()));
            Assert.DoesNotContain(after, e => e.Type is "import.verified" or "file.uploaded" or "vector_store.created");
            Assert.DoesNotContain("leaky", (await repository.Steps.CliAsync(repository.AdminKeyFile, "airlock", "list")).Out, StringComparison.Ordinal);
        }
        finally
        {
            Gate.Release();
        }
    }

    [Fact]
    public async Task Lineage_OfAnAnswerFromDatasetChunks_FollowsTheDocumentsToTheirBundlesImport_AndEveryHopVerifies()
    {
        var (importId, storeId) = await DatasetAsync();
        using var http = enclave.Client(enclave.SecretKey);
        var body = new JsonObject
        {
            ["model"] = "chat-m",
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "When does the canteen open?" }),
            ["tools"] = new JsonArray(new JsonObject { ["type"] = "file_search", ["file_search"] = new JsonObject { ["vector_store_ids"] = new JsonArray(storeId), ["max_num_results"] = 2 } }),
        };
        using var chat = await http.PostAsync("/v1/chat/completions", new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
        var requestId = chat.Headers.GetValues("X-Request-Id").Single();

        using var auditor = enclave.Client(enclave.AuditorKey);
        using var answer = await auditor.GetAsync("/admin/v1/lineage/requests/" + requestId);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        var lineage = JsonNode.Parse(await answer.Content.ReadAsStringAsync())!.AsObject();

        Assert.Empty(LineageCommand.Verify(lineage));
        var documents = lineage["documents"]!.AsArray();
        Assert.NotEmpty(documents);
        Assert.All(documents, d =>
        {
            var origin = d!["import"]!;
            Assert.Equal(importId, origin["importId"]!.GetValue<string>());
            Assert.Equal(("field-manuals", "1.0", "SECRET//NOFORN"), (origin["name"]!.GetValue<string>(), origin["version"]!.GetValue<string>(), origin["label"]!.GetValue<string>()));
            Assert.Equal(["user:dana"], origin["approvals"]!.AsArray().Select(a => a!["approver"]!.GetValue<string>()));
            Assert.Equal("user:admin", origin["importedBy"]!.GetValue<string>());
            Assert.NotEmpty(origin["signerKeyIds"]!.AsArray());
            Assert.Equal("user:dana", d["uploadedBy"]!.GetValue<string>());
        });

        // The hops: the request, the search, each document's upload, then the bundle's activation, approval, verification.
        var hops = lineage["hops"]!.AsArray().Select(h => (Hop: h!["hop"]!.GetValue<string>(), Index: h["index"]!.GetValue<long>())).ToList();
        Assert.Equal(["request.completed", "request.admitted", "retrieval.searched"], hops.Take(3).Select(h => h.Hop));
        Assert.Equal(["import.activated", "import.approved", "import.verified"], hops.Where(h => h.Hop.StartsWith("import.", StringComparison.Ordinal)).Select(h => h.Hop));
        var entries = enclave.Entries();
        var activated = entries.Single(e => e.Event.Type == "import.activated" && e.Event.Subject == "import:" + importId);
        Assert.Equal(activated.Index, hops.Single(h => h.Hop == "import.activated").Index);
        Assert.Equal(entries.Single(e => e.Event.Type == "import.verified" && e.Event.Subject == "import:" + importId).Index, hops.Single(h => h.Hop == "import.verified").Index);
        Assert.All(hops.Where(h => h.Hop == "file.uploaded"), h => Assert.True(h.Index > activated.Index));

        // A tampered import hop no longer verifies.
        var tampered = lineage.DeepClone().AsObject();
        var verifiedHop = tampered["hops"]!.AsArray().Single(h => h!["hop"]!.GetValue<string>() == "import.verified")!;
        var bytes = Convert.FromBase64String(verifiedHop["entry"]!.GetValue<string>());
        bytes[bytes.Length / 2] ^= 0x01;
        verifiedHop["entry"] = Convert.ToBase64String(bytes);
        Assert.Contains("import.verified", Assert.Single(LineageCommand.Verify(tampered)), StringComparison.Ordinal);

        // enclave lineage prints the bundle under the document.
        var repository = await RepositoryAsync();
        var auditorKeyFile = repository.Steps.KeyFile("auditor", enclave.AuditorKey);
        var printed = await repository.Steps.CliAsync(auditorKeyFile, "lineage", requestId);
        Assert.True(printed.Code == 0, printed.Error);
        Assert.Contains($"  import    {importId}: field-manuals 1.0 (SECRET//NOFORN)", printed.Out, StringComparison.Ordinal);
        Assert.Contains("  approved  by user:dana", printed.Out, StringComparison.Ordinal);
    }
}
