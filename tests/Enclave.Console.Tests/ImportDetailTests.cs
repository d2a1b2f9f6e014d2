using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Deque.AxeCore.Playwright;
using Enclave.Intel.Vulnerabilities.Findings;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Enclave.OperatorConsole.Tests;

/// <summary>
/// An import's page over real data: a dataset bundle that carries a real SBOM (minikube's Go modules, CycloneDX 1.5) and
/// an in-toto SLSA provenance v1 statement, waiting for approval after an intel bundle of real OSV records and the CISA
/// KEV catalog crossed the airlock. The page shows the SBOM's components as the vulnerability inventory reads them, the
/// provenance (builder, materials, subjects, verified), the scanners that examined each file, and the findings in the
/// components with their KEV entry and VEX status, each section with the label of what it shows.
/// </summary>
public sealed class ImportDetailTests(ConsoleFixture enclave) : IClassFixture<ConsoleFixture>
{
    private const string Advisory = "GHSA-qppj-fm5r-hxr3";

    [Fact]
    public async Task ImportPage_ShowsSbomComponents_VerifiedProvenance_ScannersPerFile_AndKevFindings_EachWithItsLabel()
    {
        var importer = await enclave.AddUserAsync("ivan", "airlock-importer");
        var approvers = new[] { await enclave.AddUserAsync("ida", "airlock-approver"), await enclave.AddUserAsync("ike", "airlock-approver") };

        // Vulnerability data crosses the airlock first: real OSV records and the KEV catalog.
        var intel = Directory.CreateTempSubdirectory("enclave-console-intel-").FullName;
        Directory.CreateDirectory(Path.Combine(intel, "osv"));
        File.Copy(SharedTestData.Intel($"osv/github-advisory-database/{Advisory}.json"), Path.Combine(intel, "osv", Advisory + ".json"));
        File.Copy(SharedTestData.Intel("kev/known_exploited_vulnerabilities.json"), Path.Combine(intel, "kev.json"));
        var intelId = await enclave.ImportBundleAsync(importer.Key, "intel", "detail-intel", "2026.12.07", intel);
        foreach (var approver in approvers)
        {
            using var http = enclave.AdminClient(approver.Key);
            using var approved = await http.PostAsync($"/admin/v1/airlock/imports/{intelId}/approve", null);
            var body = await approved.Content.ReadAsStringAsync();
            Assert.True(approved.IsSuccessStatusCode, body);
            if (JsonNode.Parse(body)!["state"]!.GetValue<string>() == "activated")
            {
                break;
            }
        }

        var findings = enclave.Services.GetRequiredService<VulnerabilityFindingsService>();
        for (var i = 0; i < 300 && !findings.Freshness().HasData; i++)
        {
            await Task.Delay(100); // polling until the activated intel bundle's data is loaded, with a deadline
        }

        Assert.True(findings.Freshness().HasData, "the intel bundle's vulnerability data was not loaded");

        // A dataset with an SBOM and a provenance statement whose subject is its one file.
        var payload = Encoding.UTF8.GetBytes("detail " + Convert.ToHexString(RandomNumberGenerator.GetBytes(64)));
        var dataset = Directory.CreateTempSubdirectory("enclave-console-dataset-").FullName;
        await File.WriteAllBytesAsync(Path.Combine(dataset, "notes.txt"), payload);
        var attestations = Directory.CreateTempSubdirectory("enclave-console-attestations-").FullName;
        var sbom = Path.Combine(attestations, "sbom.cdx.json");
        File.Copy(SharedTestData.Intel("sbom/cyclonedx/minikube-v1.23.1.gomod-app.cdx-1.5.json"), sbom);
        var provenance = Path.Combine(attestations, "provenance.intoto.json");
        var digest = Convert.ToHexStringLower(SHA256.HashData(payload));
        await File.WriteAllTextAsync(provenance, new JsonObject
        {
            ["_type"] = "https://in-toto.io/Statement/v1",
            ["subject"] = new JsonArray(new JsonObject { ["name"] = "notes.txt", ["digest"] = new JsonObject { ["sha256"] = digest } }),
            ["predicateType"] = "https://slsa.dev/provenance/v1",
            ["predicate"] = new JsonObject
            {
                ["buildDefinition"] = new JsonObject
                {
                    ["buildType"] = "https://enclave.example/dataset-build/v1",
                    ["externalParameters"] = new JsonObject(),
                    ["resolvedDependencies"] = new JsonArray(new JsonObject { ["uri"] = "git+https://git.enclave.example/data/notes@refs/heads/main", ["digest"] = new JsonObject { ["gitCommit"] = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678" } }),
                },
                ["runDetails"] = new JsonObject
                {
                    ["builder"] = new JsonObject { ["id"] = "https://builder.enclave.example/runner/7" },
                    ["metadata"] = new JsonObject { ["invocationId"] = "build-4711" },
                },
            },
        }.ToJsonString());
        string id;
        try
        {
            id = await enclave.ImportBundleAsync(importer.Key, "dataset", "detail-data", "1.0", dataset, sbom: sbom, provenance: provenance);
        }
        finally
        {
            Directory.Delete(attestations, recursive: true);
        }

        await using var context = await enclave.NewContextAsync();
        var page = await ConsoleFixture.SignInAsync(context, approvers[0].Key);
        Assert.Equal(200, (await page.GotoAsync($"/console/airlock/{id}"))!.Status);

        // Each section says the label of what it shows.
        Assert.Equal(4, await page.Locator(".section-label:has-text('UNCLASSIFIED')").CountAsync());

        // TUF signers per role: every role that verified the import, its version, threshold and the keys whose signatures
        // verified, exactly as the verifier recorded them (the admin API's record of the same import).
        JsonArray recorded;
        using (var http = enclave.AdminClient(approvers[0].Key))
        {
            var record = JsonNode.Parse(await http.GetStringAsync($"/admin/v1/airlock/imports/{id}"))!;
            recorded = record["roleSigners"]!.AsArray();
            Assert.Equal(record["signerKeyIds"]!.AsArray().Select(k => k!.GetValue<string>()), recorded[^1]!["keyIds"]!.AsArray().Select(k => k!.GetValue<string>()));
        }

        Assert.Equal(["root", "timestamp", "snapshot", "targets", "dataset"], recorded.Select(r => r!["role"]!.GetValue<string>()));
        var roleRows = page.Locator("#role-signers tbody tr");
        Assert.Equal(recorded.Count, await roleRows.CountAsync());
        for (var i = 0; i < recorded.Count; i++)
        {
            var role = recorded[i]!;
            var roleCells = (await roleRows.Nth(i).Locator("td").AllTextContentsAsync()).Select(c => c.Trim()).ToArray();
            Assert.Equal([role["role"]!.GetValue<string>(), role["version"]!.ToJsonString(), role["threshold"]!.ToJsonString()], roleCells[..3]);
            var keys = role["keyIds"]!.AsArray().Select(k => k!.GetValue<string>()).ToArray();
            Assert.NotEmpty(keys);
            Assert.Equal(keys, await roleRows.Nth(i).Locator("code.key-id").AllTextContentsAsync());
            Assert.StartsWith($"{keys.Length} verified: ", roleCells[3], StringComparison.Ordinal);
        }

        // The findings line: the freshness is a sentence of its own, then the count.
        Assert.Matches(@"^Vulnerability data is [^\n]+\. \d+ finding\(s\) in its SBOM's components", (await page.TextContentAsync("#findings-summary"))!.Trim());

        // Scanners per file: the deny-list looked at every file, and found nothing (the import waits for approval).
        var scans = await page.Locator("#scans tbody tr").AllTextContentsAsync();
        Assert.Equal(3, scans.Count);
        Assert.Contains(scans, row => row.Contains("notes.txt", StringComparison.Ordinal) && row.Contains("deny-list: clean", StringComparison.Ordinal));

        // The SBOM's components, as the inventory reads them.
        Assert.Contains("CycloneDX 1.5", await page.TextContentAsync("#sbom-summary"), StringComparison.Ordinal);
        var components = await page.TextContentAsync("#sbom-components");
        Assert.Contains("golang.org/x/net", components, StringComparison.Ordinal);
        Assert.Contains("pkg:golang/golang.org/x/net@", components, StringComparison.Ordinal);

        // The provenance: verified, its builder, material and subject (the dataset's file).
        Assert.StartsWith("Verified", (await page.TextContentAsync("#provenance-verified"))!.Trim(), StringComparison.Ordinal);
        Assert.Equal("https://builder.enclave.example/runner/7", await page.TextContentAsync("#provenance-builder"));
        Assert.Contains("build-4711", await page.TextContentAsync("#provenance-facts"), StringComparison.Ordinal);
        var subject = await page.TextContentAsync("#provenance-subjects tbody tr");
        Assert.Contains(digest, subject, StringComparison.Ordinal);
        Assert.Contains("notes.txt", subject, StringComparison.Ordinal);
        Assert.Contains("gitCommit:a1b2c3d4e5f60718293a4b5c6d7e8f9012345678", await page.TextContentAsync("#provenance-materials"), StringComparison.Ordinal);

        // The findings: the advisory in golang.org/x/net, in KEV, affected (no VEX statement says otherwise).
        var finding = page.Locator("#findings tbody tr", new() { HasText = Advisory }).First;
        var cells = (await finding.Locator("td").AllTextContentsAsync()).Select(c => c.Trim()).ToArray();
        Assert.StartsWith("pkg:golang/golang.org/x/net", cells[0], StringComparison.Ordinal);
        Assert.Contains("CVE-2023-44487", cells[2], StringComparison.Ordinal);
        Assert.Equal("yes: CVE-2023-44487, due 2023-10-31", cells[4]);
        Assert.Equal("affected", cells[5]);

        var results = await page.RunAxe();
        var serious = results.Violations.Where(v => v.Impact is "serious" or "critical").Select(v => $"{v.Id}: {v.Help}").ToList();
        Assert.True(serious.Count == 0, "axe-core violations:\n" + string.Join("\n", serious));
        var dir = Environment.GetEnvironmentVariable("ENCLAVE_SCREENSHOTS_DIR") is { Length: > 0 } d ? Directory.CreateDirectory(d).FullName : Path.GetTempPath();
        // The page down to the findings (the SBOM's 500 components come last).
        await page.ScreenshotAsync(new() { Path = Path.Combine(dir, "airlock-import-evidence.png"), FullPage = true, Clip = new() { X = 0, Y = 0, Width = 1280, Height = 2200 } });

        // An import without attestations says so in each section.
        var plain = Directory.CreateTempSubdirectory("enclave-console-dataset-").FullName;
        await File.WriteAllTextAsync(Path.Combine(plain, "plain.txt"), "plain " + Convert.ToHexString(RandomNumberGenerator.GetBytes(16)));
        var plainId = await enclave.ImportBundleAsync(importer.Key, "dataset", "detail-plain", "1.0", plain);
        await page.GotoAsync($"/console/airlock/{plainId}");
        Assert.Contains("carries no SBOM", await page.TextContentAsync("#no-sbom"), StringComparison.Ordinal);
        Assert.Contains("carries no provenance", await page.TextContentAsync("#no-provenance"), StringComparison.Ordinal);
        Assert.Contains("nothing to match", await page.TextContentAsync("#no-findings-sbom"), StringComparison.Ordinal);
        Assert.Equal(5, await page.Locator("#role-signers tbody tr").CountAsync());

        // An import recorded before the per-role signers were (its column NULL, as migration 13 leaves older rows) says
        // they were not recorded, and shows no table.
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(enclave.DataDirectory, "enclave.db")};Pooling=False"))
        {
            connection.Open();
            using var clear = connection.CreateCommand();
            clear.CommandText = "UPDATE airlock_imports SET role_signers = NULL WHERE id = $id";
            clear.Parameters.AddWithValue("$id", plainId);
            Assert.Equal(1, clear.ExecuteNonQuery());
        }

        await page.GotoAsync($"/console/airlock/{plainId}");
        Assert.StartsWith("Not recorded (imported before this release)", (await page.TextContentAsync(".role-signers-unrecorded"))!.Trim(), StringComparison.Ordinal);
        Assert.Equal(0, await page.Locator("#role-signers").CountAsync());
    }
}
