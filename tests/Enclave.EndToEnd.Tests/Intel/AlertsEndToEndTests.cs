using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Enclave.Cli;
using Enclave.Intel.Alerts;
using Enclave.Policy.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace Enclave.EndToEnd.Tests.Intel;

/// <summary>
/// Alerts on the server built by the composition root: a component raises one through the app's
/// <see cref="AlertService"/>; an analyst sees it with <c>enclave alerts</c>, an admin acknowledges and resolves it,
/// each step is in the ledger, and the counters are on <c>/metrics</c>.
/// </summary>
[Collection(MetricsScrapeCollection.Name)]
public sealed class AlertsEndToEndTests(EnclaveFixture enclave) : IClassFixture<EnclaveFixture>, IDisposable
{
    private readonly string _keys = Directory.CreateTempSubdirectory("enclave-alert-keys-").FullName;

    public void Dispose() => Directory.Delete(_keys, recursive: true);

    [Fact]
    public async Task RaisedAlert_IsListedForAnAnalyst_AckedAndResolvedByAnAdmin_EachStepInTheLedger()
    {
        var alerts = enclave.Services.GetRequiredService<AlertService>();
        var evidenceIndex = enclave.Entries().Count - 1;
        var raised = await alerts.RaiseAsync(new AlertRequest
        {
            Kind = AlertKind.Intel,
            Severity = AlertSeverity.Critical,
            Title = "import digest matched indicator 'bad weights'",
            Subject = "import:imp_e2e",
            Evidence = new AlertEvidence
            {
                Summary = "the artifact's SHA-256 is listed by indicator--e2e",
                LedgerIndices = [evidenceIndex],
                Facts = new Dictionary<string, string> { ["indicator"] = "indicator--e2e" },
            },
        });
        var analyst = KeyFile("analyst", new ApiKeyStore(enclave.DataDirectory, TimeProvider.System).Create("alert analyst", "analyst").Key);
        var user = KeyFile("user", new ApiKeyStore(enclave.DataDirectory, TimeProvider.System).Create("alert user", "user").Key);
        var admin = KeyFile("admin", enclave.AdminKey);

        var list = await CliAsync(analyst, "alerts", "list", "--state", "open", "--severity", "high", "--json");
        Assert.Equal(0, list.Code);
        var listed = JsonNode.Parse(list.Out)!["alerts"]!.AsArray().Select(a => a!.AsObject()).Single(a => a["id"]!.GetValue<string>() == raised.Id);
        Assert.Equal("critical", listed["severity"]!.GetValue<string>());
        Assert.Equal(raised.RaisedIndex, listed["raisedIndex"]!.GetValue<long>());
        Assert.Equal(evidenceIndex, listed["evidence"]!["ledgerIndices"]![0]!.GetValue<long>());
        var table = await CliAsync(analyst, "alerts", "list");
        Assert.Contains(raised.Id, table.Out, StringComparison.Ordinal);
        Assert.Contains("import digest matched indicator", table.Out, StringComparison.Ordinal);

        // Reading is not acting: the analyst and a plain user may not acknowledge.
        Assert.Equal((int)ExitCode.Denied, (await CliAsync(analyst, "alerts", "ack", raised.Id)).Code);
        Assert.Equal((int)ExitCode.Denied, (await CliAsync(user, "alerts", "list")).Code);

        var ack = await CliAsync(admin, "alerts", "ack", raised.Id, "--note", "checking the import", "--json");
        Assert.Equal(0, ack.Code);
        var ackIndex = JsonNode.Parse(ack.Out)!["updatedIndex"]!.GetValue<long>();
        var acked = enclave.Entry(ackIndex);
        Assert.Equal(("alert.acknowledged", "alert:" + raised.Id), (acked.Type, acked.Subject));
        Assert.StartsWith("user:", acked.Actor, StringComparison.Ordinal);

        var noReason = await CliAsync(admin, "alerts", "resolve", raised.Id);
        Assert.Equal((int)ExitCode.Usage, noReason.Code);
        var resolve = await CliAsync(admin, "alerts", "resolve", raised.Id, "--reason", "import rejected, vendor informed");
        Assert.Equal(0, resolve.Code);
        Assert.Contains("resolved", resolve.Out, StringComparison.Ordinal);
        var again = await CliAsync(admin, "alerts", "resolve", raised.Id, "--reason", "twice", "--false-positive");
        Assert.Equal((int)ExitCode.InvalidInput, again.Code);
        Assert.Contains("is resolved; it cannot be marked false-positive", again.Error, StringComparison.Ordinal);

        var show = await CliAsync(analyst, "alerts", "show", raised.Id, "--json");
        var shown = JsonNode.Parse(show.Out)!.AsObject();
        Assert.Equal(("resolved", "import rejected, vendor informed"), (shown["state"]!.GetValue<string>(), shown["reason"]!.GetValue<string>()));
        var resolved = enclave.Entry(shown["updatedIndex"]!.GetValue<long>());
        Assert.Equal("alert.resolved", resolved.Type);
        Assert.Equal(raised.RaisedIndex, resolved.Details!.Value.GetProperty("raisedIndex").GetInt64());
        Assert.Equal("alert.raised", enclave.Entry(raised.RaisedIndex).Type);
        Assert.Equal((int)ExitCode.NotFound, (await CliAsync(analyst, "alerts", "show", "alert_ffffffffffffffff")).Code);

        using var http = new HttpClient { BaseAddress = new Uri(enclave.BaseUrl) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", enclave.AdminKey);
        var metrics = await http.GetStringAsync("/metrics");
        Assert.Contains("enclave_alerts_raised_total{", metrics, StringComparison.Ordinal);
        Assert.Contains("enclave_alerts_changed_total{", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AdminApi_AnswersProblemDetails_ForBadFiltersAndBodies()
    {
        using var http = new HttpClient { BaseAddress = new Uri(enclave.BaseUrl) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", enclave.AdminKey);

        using var badFilter = await http.GetAsync("/admin/v1/alerts?state=closed&severity=urgent&limit=0");
        Assert.Equal(HttpStatusCode.BadRequest, badFilter.StatusCode);
        Assert.Equal("application/problem+json", badFilter.Content.Headers.ContentType!.MediaType);
        var detail = JsonNode.Parse(await badFilter.Content.ReadAsStringAsync())!["detail"]!.GetValue<string>();
        Assert.Contains("state 'closed'", detail, StringComparison.Ordinal);
        Assert.Contains("severity 'urgent'", detail, StringComparison.Ordinal);
        Assert.Contains("limit must be", detail, StringComparison.Ordinal);

        var alert = await enclave.Services.GetRequiredService<AlertService>().RaiseAsync(new AlertRequest
        {
            Kind = AlertKind.Detection,
            Severity = AlertSeverity.Low,
            Title = "probe",
            Subject = "server",
            Evidence = new AlertEvidence { Summary = "a test" },
        });
        using var notJson = await http.PostAsync($"/admin/v1/alerts/{alert.Id}/resolve", new StringContent("{\"reason\":", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, notJson.StatusCode);
        using var wrongType = await http.PostAsync($"/admin/v1/alerts/{alert.Id}/resolve", new StringContent("{\"reason\":5}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, wrongType.StatusCode);
        using var huge = await http.PostAsync($"/admin/v1/alerts/{alert.Id}/ack", new StringContent("{\"note\":\"" + new string('x', 9000) + "\"}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, huge.StatusCode);
        Assert.Equal(AlertState.Open, enclave.Services.GetRequiredService<AlertService>().Find(alert.Id)!.State);
    }

    private string KeyFile(string name, string key)
    {
        var path = Path.Combine(_keys, name + ".key");
        File.WriteAllText(path, key);
        return path;
    }

    private async Task<(int Code, string Out, string Error)> CliAsync(string keyFile, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var context = new CliContext { Out = output, Error = error, In = TextReader.Null, OpenStandardOutput = () => Stream.Null };
        var code = await EnclaveCli.RunAsync([.. args, "--server", enclave.BaseUrl, "--api-key-file", keyFile], context);
        return (code, output.ToString(), error.ToString());
    }
}
