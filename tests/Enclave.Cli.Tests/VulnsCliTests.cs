using System.IO.Compression;
using System.Text.Json;

namespace Enclave.Cli.Tests;

/// <summary><c>enclave vulns match</c> on the real shared data (shared/testdata/intel).</summary>
public sealed class VulnsCliTests : IDisposable
{
    private static readonly Lazy<string> Intel = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "testdata", "intel");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("no shared/testdata/intel above the test binaries; clone the shared data beside the repository");
    });

    private readonly string _temp = Directory.CreateTempSubdirectory("enclave-vulns-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    private static string Data(string relative) => Path.Combine(Intel.Value, relative);

    private static readonly string[] OsvFolders = ["github-advisory-database", "golang-vulndb", "psf-advisory-database", "osv-scanner-offline-db"];

    private static string[] AllOsv => OsvFolders.Select(f => Data(Path.Combine("osv", f))).ToArray();

    private static async Task<JsonElement> MatchJsonAsync(params string[] extra)
    {
        string[] args = ["vulns", "match", "--osv", .. AllOsv, .. extra, "--json"];
        var result = await CliRunner.RunAsync(args);
        Assert.True(result.ExitCode == 0, result.Error);
        return JsonDocument.Parse(result.Out).RootElement.Clone();
    }

    private static IEnumerable<JsonElement> Findings(JsonElement root) => root.GetProperty("findings").EnumerateArray();

    [Fact]
    public async Task Match_Json_ReportsFindingsWithSeverityKevAndStatus_InTheDocumentedShape()
    {
        var root = await MatchJsonAsync("--sbom", Data("sbom/cyclonedx/minikube-v1.23.1.gomod-app.cdx-1.5.json"), "--kev", Data("kev/known_exploited_vulnerabilities.json"));
        Assert.Equal(["findings", "unknown"], root.EnumerateObject().Select(p => p.Name));
        var rapidReset = Findings(root).Single(f =>
            f.GetProperty("id").GetString() == "GHSA-qppj-fm5r-hxr3" && f.GetProperty("purl").GetString()!.StartsWith("pkg:golang/golang.org/x/net@", StringComparison.Ordinal));
        Assert.Equal(["purl", "version", "id", "aliases", "severity", "kev", "status"], rapidReset.EnumerateObject().Select(p => p.Name));
        Assert.Equal("v0.0.0-20210525063256-abc453219eb5", rapidReset.GetProperty("version").GetString());
        Assert.Contains("CVE-2023-44487", rapidReset.GetProperty("aliases").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal("2023-10-31", rapidReset.GetProperty("kev").GetProperty("dueDate").GetString());
        Assert.Equal("affected", rapidReset.GetProperty("status").GetString());
        Assert.StartsWith("CVSS:3.1/", rapidReset.GetProperty("severity").GetProperty("vector").GetString(), StringComparison.Ordinal);

        var ids = Findings(root).Select(f => f.GetProperty("id").GetString()).ToHashSet();
        Assert.Contains("GO-2022-0910", ids); // kubernetes v1.21.3
        Assert.Contains("GO-2024-3005", ids); // docker +incompatible
        Assert.DoesNotContain("GO-2022-0617", ids); // withdrawn
        Assert.DoesNotContain("GO-2025-3543", ids); // withdrawn
        Assert.DoesNotContain("GO-2022-0274", ids); // introduced after rc95
        Assert.Null(Findings(root).Single(f => f.GetProperty("id").GetString() == "GO-2022-0910").GetProperty("kev").GetString());
    }

    [Fact]
    public async Task Match_Vex_SuppressesTheFindingItNames()
    {
        var vex = Path.Combine(_temp, "ops.openvex.json");
        await File.WriteAllTextAsync(vex, """
            {"@context":"https://openvex.dev/ns/v0.2.0","@id":"https://example.invalid/vex-1","author":"ops","timestamp":"2024-01-01T00:00:00Z","version":1,
             "statements":[{"vulnerability":{"name":"CVE-2023-37466"},"products":[{"@id":"pkg:npm/vm2@3.9.11"}],"status":"not_affected","justification":"vulnerable_code_not_in_execute_path"}]}
            """);
        var sbom = Data("sbom/cyclonedx/juice-shop-14.1.1.node-npm.flat.cdx-1.6.json");
        var without = await MatchJsonAsync("--sbom", sbom);
        var with = await MatchJsonAsync("--sbom", sbom, "--vex", vex);
        string StatusOf(JsonElement root, string id) => Findings(root).Single(f => f.GetProperty("id").GetString() == id).GetProperty("status").GetString()!;
        Assert.Equal("affected", StatusOf(without, "GHSA-cchq-frgv-rjh5"));
        Assert.Equal("not_affected", StatusOf(with, "GHSA-cchq-frgv-rjh5"));
        Assert.Equal("affected", StatusOf(with, "GHSA-g644-9gfx-q4q4"));
    }

    [Fact]
    public async Task Match_Table_ShowsFindingsKevAndUnknowns()
    {
        var result = await CliRunner.RunAsync("vulns", "match", "--osv", Data("osv/github-advisory-database"), "--sbom", Data("sbom/spdx/ACME-v2.3.spdx.json"), "--kev", Data("kev/known_exploited_vulnerabilities.json"));
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("COMPONENT", result.Out, StringComparison.Ordinal);
        Assert.Contains("pkg:npm/elliptic@6.5.2", result.Out, StringComparison.Ordinal);
        Assert.Contains("GHSA-r9p9-mrjm-926w", result.Out, StringComparison.Ordinal);
        Assert.Contains("1 findings: 1 open", result.Out, StringComparison.Ordinal);
        Assert.Contains("unknown", result.Out, StringComparison.Ordinal);
        Assert.Contains("pkg:alpine/openssl@3.0.4", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Match_ReportsABadRecordAndAppliesTheRest()
    {
        var folder = Directory.CreateDirectory(Path.Combine(_temp, "osv")).FullName;
        File.Copy(Data("osv/github-advisory-database/GHSA-r9p9-mrjm-926w.json"), Path.Combine(folder, "GHSA-r9p9-mrjm-926w.json"));
        await File.WriteAllTextAsync(Path.Combine(folder, "broken.json"), """{"id":"X","id":"Y"}""");
        var result = await CliRunner.RunAsync("vulns", "match", "--osv", folder, "--sbom", Data("sbom/spdx/ACME-v2.3.spdx.json"), "--json");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("broken.json", result.Error, StringComparison.Ordinal);
        Assert.Contains("DuplicateKey", result.Error, StringComparison.Ordinal);
        Assert.Contains("GHSA-r9p9-mrjm-926w", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Match_RefusesAZipThatEscapesItsFolder_WithInvalidInput()
    {
        var zip = Path.Combine(_temp, "evil.zip");
        using (var archive = ZipFile.Open(zip, ZipArchiveMode.Create))
        {
            archive.CreateEntryFromFile(Data("osv/github-advisory-database/GHSA-r9p9-mrjm-926w.json"), "../GHSA-r9p9-mrjm-926w.json");
        }

        var result = await CliRunner.RunAsync("vulns", "match", "--osv", zip, "--sbom", Data("sbom/spdx/ACME-v2.3.spdx.json"), "--json");
        Assert.Equal((int)ExitCode.InvalidInput, result.ExitCode);
        Assert.Contains("escapes the archive", result.Error, StringComparison.Ordinal);
        Assert.Contains("\"InvalidInput\"", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Match_RefusesATruncatedSbom_WithInvalidInput()
    {
        var bytes = await File.ReadAllBytesAsync(Data("sbom/spdx/ACME-v2.3.spdx.json"));
        var sbom = Path.Combine(_temp, "cut.spdx.json");
        await File.WriteAllBytesAsync(sbom, bytes[..(bytes.Length / 2)]);
        var result = await CliRunner.RunAsync("vulns", "match", "--osv", Data("osv/github-advisory-database"), "--sbom", sbom);
        Assert.Equal((int)ExitCode.InvalidInput, result.ExitCode);
        Assert.Contains("cut.spdx.json", result.Error, StringComparison.Ordinal);
        Assert.Contains("invalid JSON", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Match_MissingOsvPath_IsNotFound()
    {
        var result = await CliRunner.RunAsync("vulns", "match", "--osv", Path.Combine(_temp, "nope"), "--sbom", Data("sbom/spdx/ACME-v2.3.spdx.json"));
        Assert.Equal((int)ExitCode.NotFound, result.ExitCode);
    }

    [Fact]
    public async Task Match_WithoutOsv_IsAUsageError()
    {
        var result = await CliRunner.RunAsync("vulns", "match", "--sbom", Data("sbom/spdx/ACME-v2.3.spdx.json"));
        Assert.Equal((int)ExitCode.Usage, result.ExitCode);
    }
}
