using System.ClientModel;
using System.ClientModel.Primitives;
using System.Diagnostics;
using System.Formats.Tar;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Enclave.Airlock.Repository;
using Enclave.Cli;
using Enclave.Core.Audit;
using Enclave.Inference.Forge;
using Enclave.Ledger;
using Enclave.Signing.Keys;
using OpenAI;
using OpenAI.Chat;

namespace Enclave.EndToEnd.Tests.Airlock;

/// <summary>
/// The airlock from the connected side to a served model: a TUF repository and signed bundles (library), a real
/// <c>enclave serve</c> process on loopback, the <c>enclave airlock</c> commands as the people who import and approve,
/// the official OpenAI client once the model is active, and the ledger an auditor reads.
/// </summary>
public sealed class AirlockEndToEndTests : IDisposable
{
    private const string Secret = "airlock end-to-end passphrase";
    private const string ModelName = "airlock-chat";

    private readonly string _root = Directory.CreateTempSubdirectory("enclave-airlock-e2e-").FullName;

    private string Data => Path.Combine(_root, "data");

    [Fact]
    public async Task Bundle_ImportedAndApprovedByTwoOthers_IsServed_TamperAndRollbackAreRefused_AndItSurvivesARestart()
    {
        // Connected side: a TUF repository and a forged chat model, bundled as four successive bundles.
        using var passphrase = Passphrase.FromString(Secret);
        var trust = TrustRepository.Initialize(new TrustInitOptions { Directory = Path.Combine(_root, "repo"), RootKeys = 1, RootThreshold = 1 }, passphrase, TimeProvider.System);
        var repo = TrustRepository.Open(trust.Directory);
        var modelDir = Path.Combine(_root, "forged");
        ModelForge.ForgeDecoder(modelDir, new ForgeOptions { Seed = 7 });
        string Bundle(string name, string version)
        {
            var output = Path.Combine(_root, $"{name}-{version}.tar");
            var created = repo.CreateBundle(
                new BundleCreateOptions { Kind = "model", Name = name, Version = version, Label = "UNCLASSIFIED", Task = "chat", Sources = [modelDir], Output = output },
                passphrase,
                TimeProvider.System);
            Assert.True(created.IsComplete);
            return output;
        }

        var good = Bundle(ModelName, "1.0");
        var tampered = Bundle("tampered-chat", "1.0");
        var older = Bundle("rollback-chat", "1.0");
        var newer = Bundle("newer-chat", "1.0");
        var mirrored = Bundle("mirror-chat", "1.0"); // the newest metadata: served later by a mirror inside the enclave
        FlipAByteInside(tampered, "model.onnx");

        var url = $"http://127.0.0.1:{FreePort()}";
        await using (var server = await ServeAsync(url))
        {
            var adminKey = server.AdminKey!;
            var importer = await AddUserAsync(url, adminKey, "ingrid", ["airlock-importer", "airlock-approver"]);
            var approver1 = await AddUserAsync(url, adminKey, "alice", ["airlock-approver"]);
            var approver2 = await AddUserAsync(url, adminKey, "bob", ["airlock-approver"]);
            var admin = KeyFile("admin", adminKey);

            // The enclave pins the root from the connected side.
            var pinned = await CliAsync(admin, "airlock", "trust", trust.RootPath);
            Assert.Equal(0, pinned.Code);
            Assert.Contains("pinned root version 1", pinned.Out, StringComparison.Ordinal);

            // A bundle that is not a tar upload is refused before anything is recorded.
            using (var http = Http(url, importer.Key))
            {
                var before = LedgerSize();
                var notTar = await http.PostAsync("/admin/v1/airlock/imports", new StringContent("{}", Encoding.UTF8, "application/json"));
                Assert.Equal(HttpStatusCode.UnsupportedMediaType, notTar.StatusCode);
                Assert.Equal(before, LedgerSize());
            }

            // The importer sends the bundle; it verifies and waits for approval, invisible.
            var imported = await CliAsync(importer.File, "airlock", "import", good, "--json");
            Assert.True(imported.Code == 0, imported.Error);
            var record = JsonNode.Parse(imported.Out)!.AsObject();
            var id = record["id"]!.GetValue<string>();
            Assert.Equal("verified", record["state"]!.GetValue<string>());
            Assert.Equal(2, record["approvalsNeeded"]!.GetValue<int>());
            Assert.Equal("user:ingrid", record["importer"]!.GetValue<string>());
            Assert.DoesNotContain(ModelName, await ModelsAsync(url, adminKey));

            // airlock show: every role that verified it, with its version, threshold and verified signers, in text and JSON.
            var shownJson = await CliAsync(approver1.File, "airlock", "show", id, "--json");
            Assert.True(shownJson.Code == 0, shownJson.Error);
            var roles = JsonNode.Parse(shownJson.Out)!["roleSigners"]!.AsArray().Select(r => r!.AsObject()).ToList();
            Assert.Equal(["root", "timestamp", "snapshot", "targets", "model"], roles.Select(r => r["role"]!.GetValue<string>()));
            Assert.All(roles, r => Assert.True(r["keyIds"]!.AsArray().Count >= r["threshold"]!.GetValue<int>()));
            Assert.Equal(record["signerKeyIds"]!.AsArray().Select(k => k!.GetValue<string>()), roles[^1]["keyIds"]!.AsArray().Select(k => k!.GetValue<string>()));
            var shown = await CliAsync(approver1.File, "airlock", "show", id);
            Assert.True(shown.Code == 0, shown.Error);
            Assert.Contains("tuf roles   role, version, threshold, verified signatures by key ID", shown.Out, StringComparison.Ordinal);
            foreach (var role in roles)
            {
                var keys = string.Join(", ", role["keyIds"]!.AsArray().Select(k => k!.GetValue<string>()));
                Assert.Contains(shown.Out.Split('\n'), line => line.TrimStart().StartsWith(role["role"]!.GetValue<string>() + " ", StringComparison.Ordinal)
                    && line.Contains($"version {role["version"]}  threshold {role["threshold"]}  signed by {keys}", StringComparison.Ordinal));
            }

            // The importer may not approve its own import, even holding the approver role.
            var self = await CliAsync(importer.File, "airlock", "approve", id);
            Assert.Equal((int)ExitCode.InvalidInput, self.Code);
            Assert.Contains("cannot approve", self.Error, StringComparison.Ordinal);

            var first = await CliAsync(approver1.File, "airlock", "approve", id);
            Assert.True(first.Code == 0, first.Error);
            Assert.Contains("1 more needed", first.Out, StringComparison.Ordinal);
            var again = await CliAsync(approver1.File, "airlock", "approve", id);
            Assert.True(again.Code == 0, again.Error);
            Assert.Contains("already approved by user:alice", again.Out, StringComparison.Ordinal);
            Assert.Contains("1 more needed", again.Out, StringComparison.Ordinal);
            Assert.DoesNotContain(ModelName, await ModelsAsync(url, adminKey));

            var second = await CliAsync(approver2.File, "airlock", "approve", id);
            Assert.True(second.Code == 0, second.Error);
            Assert.Contains("activated", second.Out, StringComparison.Ordinal);
            Assert.Contains($"served as model '{ModelName}'", second.Out, StringComparison.Ordinal);
            Assert.Contains(ModelName, await ModelsAsync(url, adminKey));
            await ChatAsync(url, adminKey);

            var trail = Entries().Where(e => e.Subject == "import:" + id).ToList();
            Assert.Equal(
                ["import.received", "import.verified", "import.approval-refused", "import.approved", "import.approved", "import.activated"],
                trail.Select(e => e.Type).ToArray());
            Assert.Equal(["user:ingrid", "user:ingrid", "user:ingrid", "user:alice", "user:bob", "user:bob"], trail.Select(e => e.Actor).ToArray());

            // Lineage of an answer of the imported model: the import, its bundle, signers and approvers, every hop proven.
            string requestId;
            using (var http = Http(url, adminKey))
            {
                using var chat = await http.PostAsJsonAsync("/v1/chat/completions", new JsonObject { ["model"] = ModelName, ["max_tokens"] = 2, ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "Hi" }) });
                Assert.True(chat.IsSuccessStatusCode, await chat.Content.ReadAsStringAsync());
                requestId = chat.Headers.GetValues("X-Request-Id").Single();
            }

            var lineage = await CliAsync(admin, "lineage", requestId, "--json");
            Assert.True(lineage.Code == 0, lineage.Error);
            var traced = JsonNode.Parse(lineage.Out)!;
            Assert.True(traced["verified"]!.GetValue<bool>());
            var origin = traced["import"]!;
            Assert.Equal(id, origin["importId"]!.GetValue<string>());
            Assert.Equal(["user:alice", "user:bob"], origin["approvals"]!.AsArray().Select(a => a!["approver"]!.GetValue<string>()));
            Assert.Equal("user:ingrid", origin["importedBy"]!.GetValue<string>());
            Assert.Equal(1, origin["rootVersion"]!.GetValue<int>());
            Assert.NotEmpty(origin["signerKeyIds"]!.AsArray());
            Assert.Equal(trail.Single(e => e.Type == "import.verified").Details!.Value.GetProperty("manifest_sha256").GetString(), origin["manifestSha256"]!.GetValue<string>());
            Assert.False(string.IsNullOrEmpty(traced["modelDigest"]!.GetValue<string>()));
            Assert.Equal(
                ["request.completed", "request.admitted", "import.activated", "import.approved", "import.approved", "import.verified"],
                traced["hops"]!.AsArray().Select(h => h!["hop"]!.GetValue<string>()));
            var lineageText = await CliAsync(admin, "lineage", requestId);
            Assert.True(lineageText.Code == 0, lineageText.Error);
            Assert.Contains("approved  by user:alice", lineageText.Out, StringComparison.Ordinal);
            Assert.Equal((int)ExitCode.Denied, (await CliAsync(approver1.File, "lineage", requestId)).Code); // not an admin or auditor

            var listed = await CliAsync(approver1.File, "airlock", "list", "--state", "activated", "--json");
            Assert.Equal(id, Assert.Single(JsonNode.Parse(listed.Out)!["imports"]!.AsArray())!["id"]!.GetValue<string>());

            // models list reads the data directory beside the running server (no writer lock) and names the import.
            var models = new StringWriter();
            var modelsError = new StringWriter();
            var modelsCode = await EnclaveCli.RunAsync(["models", "list", "--data", Data, "--json"], new CliContext { Out = models, Error = modelsError, In = TextReader.Null, OpenStandardOutput = () => Stream.Null });
            Assert.True(modelsCode == 0, modelsError.ToString());
            var served = Assert.Single(JsonNode.Parse(models.ToString())!["models"]!.AsArray())!;
            Assert.Equal(ModelName, served["name"]!.GetValue<string>());
            Assert.Equal("airlock:" + id, served["origin"]!.GetValue<string>());
            Assert.Equal("UNCLASSIFIED", served["label"]!.GetValue<string>());

            // A target altered in transit: refused, the attack named, nothing visible.
            var sizeBefore = LedgerSize();
            var bad = await CliAsync(importer.File, "airlock", "import", tampered);
            Assert.Equal((int)ExitCode.VerificationFailed, bad.Code);
            Assert.Contains("bundle rejected (hash-mismatch)", bad.Error, StringComparison.Ordinal);
            Assert.DoesNotContain("import rejected", bad.Error, StringComparison.Ordinal); // the prefix is said once
            Assert.DoesNotContain("tampered-chat", await ModelsAsync(url, adminKey));
            Assert.DoesNotContain("tampered-chat", (await CliAsync(approver1.File, "airlock", "list")).Out, StringComparison.Ordinal);
            Assert.Equal(["import.received", "import.rejected"], Entries().Skip((int)sizeBefore).Where(e => e.Type.StartsWith("import.", StringComparison.Ordinal)).Select(e => e.Type).ToArray());

            // A bundle from another repository, signed under another root: named as such, not as "below threshold".
            var foreignTrust = TrustRepository.Initialize(new TrustInitOptions { Directory = Path.Combine(_root, "foreign-repo"), RootKeys = 1, RootThreshold = 1 }, passphrase, TimeProvider.System);
            var foreignBundle = Path.Combine(_root, "foreign.tar");
            Assert.True(TrustRepository.Open(foreignTrust.Directory).CreateBundle(
                new BundleCreateOptions { Kind = "model", Name = "foreign-chat", Version = "1.0", Label = "UNCLASSIFIED", Task = "chat", Sources = [modelDir], Output = foreignBundle },
                passphrase,
                TimeProvider.System).IsComplete);
            var foreign = await CliAsync(importer.File, "airlock", "import", foreignBundle);
            Assert.Equal((int)ExitCode.VerificationFailed, foreign.Code);
            Assert.Contains("bundle rejected (untrusted-root)", foreign.Error, StringComparison.Ordinal);
            Assert.Contains("signed by a root this enclave does not trust", foreign.Error, StringComparison.Ordinal);
            Assert.DoesNotContain("below threshold", foreign.Error, StringComparison.Ordinal);
            Assert.DoesNotContain("foreign-chat", (await CliAsync(approver1.File, "airlock", "list")).Out, StringComparison.Ordinal);

            // Rollback: after a newer bundle verified, an older one is refused as a rollback.
            var newest = await CliAsync(importer.File, "airlock", "import", newer, "--json");
            Assert.True(newest.Code == 0, newest.Error);

            // An import recorded before the per-role signers were (its column NULL, as migration 13 leaves older rows):
            // shown as not recorded, in text and JSON, never invented.
            var newestId = JsonNode.Parse(newest.Out)!["id"]!.GetValue<string>();
            using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(Data, "enclave.db")}"))
            {
                connection.Open();
                using var clear = connection.CreateCommand();
                clear.CommandText = "UPDATE airlock_imports SET role_signers = NULL WHERE id = $id";
                clear.Parameters.AddWithValue("$id", newestId);
                Assert.Equal(1, clear.ExecuteNonQuery());
            }

            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            var unrecorded = await CliAsync(approver1.File, "airlock", "show", newestId);
            Assert.True(unrecorded.Code == 0, unrecorded.Error);
            Assert.Contains("tuf roles   not recorded (imported before this release)", unrecorded.Out, StringComparison.Ordinal);
            Assert.Null(JsonNode.Parse((await CliAsync(approver1.File, "airlock", "show", newestId, "--json")).Out)!["roleSigners"]);
            var rollback = await CliAsync(importer.File, "airlock", "import", older, "--json");
            Assert.Equal((int)ExitCode.VerificationFailed, rollback.Code);
            Assert.Equal("rollback", JsonNode.Parse(rollback.Out)!["error"]!["rejection"]!.GetValue<string>());
            Assert.Contains("rollback", rollback.Error, StringComparison.Ordinal);
            Assert.DoesNotContain("rollback-chat", (await CliAsync(approver1.File, "airlock", "list")).Out, StringComparison.Ordinal);
            Assert.DoesNotContain("rollback-chat", await ModelsAsync(url, adminKey));

            // A mirror inside the enclave: the server pulls the artifact, verifies it like a bundle, waits for approval.
            await using var mirror = await Enclave.Airlock.Tests.Import.MirrorServer.StartAsync();
            mirror.Publish(mirrored);
            var pulled = await CliAsync(importer.File, "airlock", "pull", "--mirror", mirror.BaseUrl.ToString(), "--kind", "model", "--name", "mirror-chat", "--version", "1.0", "--json");
            Assert.True(pulled.Code == 0, pulled.Error);
            var pulledRecord = JsonNode.Parse(pulled.Out)!.AsObject();
            Assert.Equal("verified", pulledRecord["state"]!.GetValue<string>());
            Assert.DoesNotContain("mirror-chat", await ModelsAsync(url, adminKey));
            var pulledId = pulledRecord["id"]!.GetValue<string>();
            Assert.Equal(0, (await CliAsync(approver1.File, "airlock", "approve", pulledId)).Code);
            Assert.Equal(0, (await CliAsync(approver2.File, "airlock", "approve", pulledId)).Code);
            Assert.Contains("mirror-chat", await ModelsAsync(url, adminKey));
            Assert.Contains(mirror.Requests, r => r.StartsWith("targets/model/mirror-chat/1.0/", StringComparison.Ordinal));

            // A mirror that cannot be reached: the CLI says the enclave could not get it, nothing is recorded.
            var beforeUnreachable = LedgerSize();
            var unreachable = await CliAsync(importer.File, "airlock", "pull", "--mirror", $"http://127.0.0.1:{FreePort()}/", "--kind", "model", "--name", "mirror-chat", "--version", "2.0");
            Assert.Equal((int)ExitCode.Unavailable, unreachable.Code);
            Assert.Equal(beforeUnreachable, LedgerSize());
        }

        // After a restart the activated model is loaded from the airlock's artifacts and still answers.
        await using (var restarted = await ServeAsync(url))
        {
            var adminKey = File.ReadAllText(Path.Combine(_root, "admin.key")).Trim();
            Assert.Contains(ModelName, await ModelsAsync(url, adminKey));
            await ChatAsync(url, adminKey);
            var started = Entries().Last(e => e.Type == "server.started");
            var served = JsonNode.Parse(started.Details!.Value.GetRawText())!["models"]!.AsArray();
            Assert.Contains(served, m => m!["id"]!.GetValue<string>() == ModelName && m["source"]!.GetValue<string>().StartsWith("airlock:imp_", StringComparison.Ordinal));
        }
    }

    private static async Task ChatAsync(string url, string key)
    {
        var client = new OpenAIClient(new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(url + "/v1"), RetryPolicy = new ClientRetryPolicy(0) });
        var answer = (await client.GetChatClient(ModelName).CompleteChatAsync([new UserChatMessage("Hello")], new ChatCompletionOptions { MaxOutputTokenCount = 4, Temperature = 0 })).Value;
        Assert.Equal(ModelName, answer.Model);
        Assert.Equal(4, answer.Usage.OutputTokenCount);
    }

    private static async Task<List<string>> ModelsAsync(string url, string key)
    {
        using var http = Http(url, key);
        var models = await http.GetFromJsonAsync<JsonObject>("/v1/models");
        return [.. models!["data"]!.AsArray().Select(m => m!["id"]!.GetValue<string>())];
    }

    private async Task<(string Key, string File)> AddUserAsync(string url, string adminKey, string name, string[] roles)
    {
        using var http = Http(url, adminKey);
        var added = await http.PostAsJsonAsync("/admin/v1/users", new JsonObject { ["name"] = name, ["roles"] = new JsonArray([.. roles.Select(r => (JsonNode)r)]) });
        Assert.True(added.IsSuccessStatusCode, await added.Content.ReadAsStringAsync());
        var created = await http.PostAsJsonAsync("/admin/v1/keys", new JsonObject { ["user"] = name });
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        var key = (await created.Content.ReadFromJsonAsync<JsonObject>())!["key"]!.GetValue<string>();
        return (key, KeyFile(name, key));
    }

    private string KeyFile(string name, string key)
    {
        var path = Path.Combine(_root, name + ".key");
        File.WriteAllText(path, key);
        return path;
    }

    /// <summary>Runs an <c>enclave</c> command in this process against the server, with the key in a file.</summary>
    private async Task<(int Code, string Out, string Error)> CliAsync(string keyFile, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var context = new CliContext { Out = output, Error = error, In = TextReader.Null, OpenStandardOutput = () => Stream.Null };
        string[] connection = ["--server", _serverUrl!, "--api-key-file", keyFile];
        var code = await EnclaveCli.RunAsync([.. args, .. connection], context);
        return (code, output.ToString(), error.ToString());
    }

    private string? _serverUrl;

    private async Task<ServerProcess> ServeAsync(string url)
    {
        _serverUrl = url;
        var server = ServerProcess.Start("serve", "--data", Data, "--urls", url);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        while (await server.Process.StandardOutput.ReadLineAsync(deadline.Token) is { } line)
        {
            if (line.Contains("ek_", StringComparison.Ordinal))
            {
                server.AdminKey = line[line.IndexOf("ek_", StringComparison.Ordinal)..].Trim();
                File.WriteAllText(Path.Combine(_root, "admin.key"), server.AdminKey);
            }

            if (line.StartsWith("Enclave is listening on", StringComparison.Ordinal))
            {
                return server;
            }
        }

        var stderr = await server.Process.StandardError.ReadToEndAsync();
        await server.DisposeAsync();
        Assert.Fail("enclave serve did not start: " + stderr);
        return null!;
    }

    private long LedgerSize()
    {
        using var reader = LedgerReader.Open(Data);
        return reader.TreeSize();
    }

    private List<AuditEvent> Entries()
    {
        using var reader = LedgerReader.Open(Data);
        var size = reader.TreeSize();
        var result = new List<AuditEvent>();
        for (long i = 0; i < size; i++)
        {
            result.Add(AuditEvent.Parse(reader.ReadEntry(i)));
        }

        return result;
    }

    private static HttpClient Http(string url, string key)
    {
        var http = new HttpClient { BaseAddress = new Uri(url) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return http;
    }

    /// <summary>Flips one byte in the middle of the data of the bundle entry whose name ends with <paramref name="suffix"/>.</summary>
    private static void FlipAByteInside(string bundle, string suffix)
    {
        long offset;
        using (var stream = File.OpenRead(bundle))
        using (var reader = new TarReader(stream))
        {
            TarEntry? entry;
            while ((entry = reader.GetNextEntry()) is not null && !entry.Name.EndsWith(suffix, StringComparison.Ordinal))
            {
            }

            Assert.NotNull(entry);
            offset = entry!.DataOffset + (entry.Length / 2);
        }

        using var file = File.Open(bundle, FileMode.Open, FileAccess.ReadWrite);
        file.Position = offset;
        var b = file.ReadByte();
        file.Position = offset;
        file.WriteByte((byte)(b ^ 0x01));
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>A real <c>enclave</c> process, killed when disposed.</summary>
    private sealed class ServerProcess : IAsyncDisposable
    {
        private ServerProcess(Process process) => Process = process;

        public Process Process { get; }

        public string? AdminKey { get; set; }

        public static ServerProcess Start(params string[] args)
        {
            var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "enclave.dll"));
            foreach (var arg in args)
            {
                info.ArgumentList.Add(arg);
            }

            return new ServerProcess(Process.Start(info)!);
        }

        public async ValueTask DisposeAsync()
        {
            Process.Kill(entireProcessTree: true);
            await Process.WaitForExitAsync();
            Process.Dispose();
        }
    }
}
