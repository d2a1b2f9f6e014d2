using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Enclave.Cli;
using Enclave.Core.Audit;

namespace Enclave.EndToEnd.Tests.Ledger;

/// <summary>
/// <c>enclave ledger export</c> beside a running server: the CLI reads the data directory directly but cannot append
/// while the server holds it, so the server records <c>ledger.exported</c> for it with the key's principal as actor;
/// without a key the export stands and the command says it was not recorded.
/// </summary>
public sealed class LedgerExportEndToEndTests(EnclaveFixture enclave) : IClassFixture<EnclaveFixture>, IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("enclave-export-e2e-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task ExportBesideARunningServer_WithAnAuditorKey_IsRecordedByTheServer_WithThatPrincipalAsActor()
    {
        using var http = Admin();
        Assert.True((await http.PostAsJsonAsync("/admin/v1/users", new JsonObject { ["name"] = "audrey", ["roles"] = new JsonArray("auditor") })).IsSuccessStatusCode);
        var created = await http.PostAsJsonAsync("/admin/v1/keys", new JsonObject { ["user"] = "audrey" });
        var keyFile = Path.Combine(_root, "audrey.key");
        await File.WriteAllTextAsync(keyFile, (await created.Content.ReadFromJsonAsync<JsonObject>())!["key"]!.GetValue<string>());
        using var auditor = new HttpClient { BaseAddress = new Uri(enclave.BaseUrl) };
        auditor.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", await File.ReadAllTextAsync(keyFile));
        var principal = (await auditor.GetFromJsonAsync<JsonObject>("/admin/v1/whoami"))!["id"]!.GetValue<string>();

        var output = Path.Combine(_root, "tiles");
        var (code, stdout, stderr) = await CliAsync("ledger", "export", "--data", enclave.DataDirectory, "--out", output, "--json", "--server", enclave.BaseUrl, "--api-key-file", keyFile);
        Assert.True(code == 0, stderr);
        var answer = JsonNode.Parse(stdout)!;
        var treeSize = answer["treeSize"]!.GetValue<long>();
        Assert.True(answer["recordedIndex"] is not null, stderr);
        var recorded = answer["recordedIndex"]!.GetValue<long>();
        Assert.DoesNotContain("not recorded", stderr, StringComparison.Ordinal);

        var entry = enclave.Entry(recorded);
        Assert.Equal(AuditEventTypes.LedgerExported.Name, entry.Type);
        Assert.Equal(principal, entry.Actor);
        Assert.Equal($"ledger:0-{treeSize - 1}", entry.Subject);
        Assert.Equal(treeSize - 1, entry.Details!.Value.GetProperty("to").GetInt64());
        Assert.Equal(treeSize, entry.Details!.Value.GetProperty("entries").GetInt64());
        Assert.Equal(Path.GetFullPath(output), entry.Details!.Value.GetProperty("output").GetString());
        Assert.True(File.Exists(Path.Combine(output, "checkpoint")));
    }

    [Fact]
    public async Task ExportBesideARunningServer_WithoutAKey_StandsUnrecorded_AndSaysHowToRecordIt()
    {
        var before = enclave.Entries().Count(e => e.Event.Type == AuditEventTypes.LedgerExported.Name);
        var previous = Environment.GetEnvironmentVariable("ENCLAVE_API_KEY");
        Assert.Null(previous); // the test environment must not carry a key
        var (code, stdout, stderr) = await CliAsync("ledger", "export", "--data", enclave.DataDirectory, "--out", Path.Combine(_root, "tiles"), "--json", "--server", enclave.BaseUrl);
        Assert.True(code == 0, stderr);
        Assert.Null(JsonNode.Parse(stdout)!["recordedIndex"]);
        Assert.Contains("not recorded", stderr, StringComparison.Ordinal);
        Assert.Contains("--api-key-file", stderr, StringComparison.Ordinal);
        Assert.Equal(before, enclave.Entries().Count(e => e.Event.Type == AuditEventTypes.LedgerExported.Name));
    }

    [Theory]
    [InlineData("{\"to\":-1,\"output\":\"/tmp/x\",\"filesWritten\":1}", "to must be an index in the ledger")]
    [InlineData("{\"to\":999999999,\"output\":\"/tmp/x\",\"filesWritten\":1}", "to must be an index in the ledger")]
    [InlineData("{\"to\":0,\"output\":\"\",\"filesWritten\":1}", "output must be a path")]
    [InlineData("{\"to\":0,\"output\":\"/tmp/\\u0000x\",\"filesWritten\":1}", "output must be a path")]
    [InlineData("{\"to\":0,\"output\":\"/tmp/x\",\"filesWritten\":-3}", "filesWritten must not be negative")]
    [InlineData("{\"to\":\"0\",\"output\":\"/tmp/x\",\"filesWritten\":1}", "the body must be")]
    [InlineData("{\"to\":0,\"output\":\"/tmp/x\",\"filesWritten\":1,\"actor\":\"someone else\"}", "the body must be")]
    [InlineData("[1]", "the body must be")]
    public async Task RecordingAnExport_WithABadBody_Is400_AndRecordsNothing(string body, string expected)
    {
        using var http = Admin();
        var before = enclave.Entries().Count;
        using var response = await http.PostAsync("/admin/v1/ledger/exports", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(before, enclave.Entries().Count);
    }

    private HttpClient Admin()
    {
        var http = new HttpClient { BaseAddress = new Uri(enclave.BaseUrl) };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", enclave.AdminKey);
        return http;
    }

    private static async Task<(int Code, string Out, string Error)> CliAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var context = new CliContext { Out = output, Error = error, In = TextReader.Null, OpenStandardOutput = () => Stream.Null };
        var code = await EnclaveCli.RunAsync(args, context);
        return (code, output.ToString(), error.ToString());
    }
}
