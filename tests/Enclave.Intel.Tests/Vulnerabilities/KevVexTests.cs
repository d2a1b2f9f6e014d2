using System.Text;
using Enclave.Intel.Vulnerabilities;
using Enclave.Intel.Vulnerabilities.Kev;
using Enclave.Intel.Vulnerabilities.Matching;
using Enclave.Intel.Vulnerabilities.Osv;
using Enclave.Intel.Vulnerabilities.Sbom;
using Enclave.Intel.Vulnerabilities.Vex;

namespace Enclave.Intel.Tests.Vulnerabilities;

public sealed class KevVexTests
{
    private static readonly Lazy<OsvDatabase> Advisories = new(OsvTestData.LoadAll);
    private static readonly Lazy<KevCatalog> Kev = new(() => KevCatalog.Read(SharedTestData.Intel("kev/known_exploited_vulnerabilities.json")));

    private static VexDocument Vex(string relative) => VexReader.Read(SharedTestData.Intel(Path.Combine("vex", relative)));

    private static IReadOnlyList<AssessedFinding> Assess(SbomComponent component, VexIndex? vex = null) =>
        FindingAssessor.Assess(VulnerabilityMatcher.Match([component], Advisories.Value).Findings, Kev.Value, vex);

    [Fact]
    public void Kev_ReadsTheRealCatalog()
    {
        var kev = Kev.Value;
        Assert.Equal("2025.08.25", kev.CatalogVersion);
        Assert.Equal(1404, kev.Count);
        var log4shell = kev.Find("CVE-2021-44228")!;
        Assert.Equal(new DateOnly(2021, 12, 24), log4shell.DueDate);
        Assert.Equal(new DateOnly(2021, 12, 10), log4shell.DateAdded);
    }

    [Fact]
    public void Assess_FlagsLog4ShellAsKev_WithItsDueDate_AndScoresIt()
    {
        var finding = Assert.Single(Assess(SbomComponent.FromPurl("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1")), f => f.Finding.Advisory.Id == "GHSA-jfh8-c2jp-5v3q");
        Assert.Equal("CVE-2021-44228", finding.Kev!.CveId);
        Assert.Equal(new DateOnly(2021, 12, 24), finding.Kev.DueDate);
        Assert.Equal(10.0, finding.Severity!.BaseScore);
        Assert.Equal(VexStatus.Affected, finding.Status);
    }

    [Fact]
    public void Assess_FlagsKevThroughAliasAndRelated()
    {
        var findings = Assess(SbomComponent.FromPurl("pkg:golang/golang.org/x/net@v0.0.0-20210525063256-abc453219eb5"));
        Assert.Equal("CVE-2023-44487", findings.Single(f => f.Finding.Advisory.Id == "GHSA-qppj-fm5r-hxr3").Kev!.CveId); // alias
        Assert.Equal("CVE-2023-44487", findings.Single(f => f.Finding.Advisory.Id == "GO-2023-2102").Kev!.CveId); // related
        Assert.Null(findings.Single(f => f.Finding.Advisory.Id == "GO-2022-0288").Kev);
    }

    [Fact]
    public void Assess_NoKevFindingThroughAWithdrawnRecord()
    {
        // GO-2024-2730 relates to KEV CVE-2024-3400 but is withdrawn: nothing may be raised through it.
        var record = Advisories.Value.Records["GO-2024-2730"];
        var findings = Assess(SbomComponent.FromPurl($"pkg:golang/{record.Affected[0].Name}@v0.0.1"));
        Assert.DoesNotContain(findings, f => f.Kev?.CveId == "CVE-2024-3400");
    }

    [Theory]
    [InlineData("""{"catalogVersion":"1","vulnerabilities":[{"cveID":"CVE-2021-1","dateAdded":"2021-01-01","dueDate":"2021-01-02"}]}""", "not a CVE id")]
    [InlineData("""{"catalogVersion":"1","vulnerabilities":[{"cveID":"CVE-2021-12345","dateAdded":"2021-01-01","dueDate":"soon"}]}""", "not a yyyy-MM-dd date")]
    [InlineData("""{"catalogVersion":"1","vulnerabilities":[{"cveID":"CVE-2021-12345","dateAdded":"2021-01-01","dueDate":"2021-01-02"},{"cveID":"CVE-2021-12345","dateAdded":"2021-01-01","dueDate":"2021-01-02"}]}""", "listed twice")]
    [InlineData("""{"catalogVersion":"1"}""", "not a KEV catalog")]
    [InlineData("""{"catalogVersion":"1","catalogVersion":"2","vulnerabilities":[]}""", "duplicate")]
    public void Kev_RefusesAMalformedCatalog_SayingWhy(string json, string expected)
    {
        var e = Assert.Throws<VulnerabilityDataException>(() => KevCatalog.Read(Encoding.UTF8.GetBytes(json), "kev.json"));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Kev_RefusesTruncatedAndOversizedCatalogs()
    {
        var bytes = File.ReadAllBytes(SharedTestData.Intel("kev/known_exploited_vulnerabilities.json"));
        Assert.Equal(VulnerabilityDataRejection.InvalidJson, Assert.Throws<VulnerabilityDataException>(() => KevCatalog.Read(bytes.AsMemory(0, bytes.Length - 100), "kev.json")).Reason);
        Assert.Equal(VulnerabilityDataRejection.TooLarge, Assert.Throws<VulnerabilityDataException>(() => KevCatalog.Read(bytes, "kev.json", maxBytes: 1000)).Reason);
    }

    [Theory]
    [InlineData("cyclonedx/cisa-use-cases-case-1-vex-affected.json", VexStatus.Affected, "product-DEF", null)]
    [InlineData("cyclonedx/cisa-use-cases-case-1-vex-fixed.json", VexStatus.Fixed, "product-DEF", null)]
    [InlineData("cyclonedx/cisa-use-cases-case-1-vex-not_affected.json", VexStatus.NotAffected, "product-ABC", "code_not_present")]
    [InlineData("cyclonedx/cisa-use-cases-case-1-vex-under_investigation.json", VexStatus.UnderInvestigation, "product-GHI", null)]
    public void Vex_ReadsTheCisaStatusCases_InCycloneDx(string file, VexStatus status, string product, string? justification)
    {
        var statement = Assert.Single(Vex(file).Statements);
        Assert.Equal("CVE-2021-44228", statement.VulnerabilityId);
        Assert.Equal(status, statement.Status);
        Assert.Contains(product, statement.Products);
        Assert.Equal(justification, statement.Justification);
    }

    [Theory]
    [InlineData("csaf/oasis-tcs-csaf/2022-evd-uc-01-a-001.json", VexStatus.Affected)]
    [InlineData("csaf/oasis-tcs-csaf/2022-evd-uc-01-f-001.json", VexStatus.Fixed)]
    [InlineData("csaf/oasis-tcs-csaf/2022-evd-uc-01-na-001.json", VexStatus.NotAffected)]
    [InlineData("csaf/oasis-tcs-csaf/2022-evd-uc-01-ui-001.json", VexStatus.UnderInvestigation)]
    public void Vex_ReadsTheCisaStatusCases_InCsaf(string file, VexStatus status)
    {
        var document = Vex(file);
        Assert.Equal("CSAF", document.Format);
        var statement = Assert.Single(document.Statements);
        Assert.Equal("CVE-2021-44228", statement.VulnerabilityId);
        Assert.Equal(status, statement.Status);
    }

    [Fact]
    public void Vex_ReadsCsafFlagsAsJustification_AndResolvesPurlsFromTheProductTree()
    {
        var sec = Vex("csaf/oasis-tcs-csaf/sec-vex-2022-0001.json");
        Assert.Equal(3, sec.Statements.Count);
        Assert.All(sec.Statements, s => Assert.Equal("component_not_present", s.Justification));
        var goVex = Vex("csaf/go-vex/csaf.json");
        Assert.Contains(goVex.Statements, s => s.Status == VexStatus.Affected && s.VulnerabilityId == "CVE-2009-4487");
    }

    [Fact]
    public void Vex_ReadsEveryRealOpenVexDocument_AndTheNewerStatementDecides()
    {
        foreach (var file in Directory.EnumerateFiles(SharedTestData.Intel("vex/openvex"), "*.json", SearchOption.AllDirectories).Where(f => !f.EndsWith("schema.json", StringComparison.Ordinal)))
        {
            Assert.NotEmpty(VexReader.Read(file).Statements);
        }

        // vexctl's two-document history: under_investigation (05:04) then fixed (05:06) for bash 1.0.0.
        var index = new VexIndex();
        index.Add(Vex("openvex/vexctl/document2.vex.json"));
        index.Add(Vex("openvex/vexctl/document1.vex.json"));
        var bash = SbomComponent.FromPurl("pkg:apk/wolfi/bash@1.0.0");
        Assert.Equal(VexStatus.Fixed, index.Find(bash, "1.0.0", ["CVE-1234-5678"])!.Status);
        Assert.Null(index.Find(SbomComponent.FromPurl("pkg:apk/wolfi/bash@1.0.1"), "1.0.1", ["CVE-1234-5678"]));
    }

    [Fact]
    public void Assess_CycloneDxVexNotAffected_SuppressesTheLog4ShellFinding_ByBomRef()
    {
        var index = new VexIndex();
        index.Add(Vex("cyclonedx/cisa-use-cases-case-1-vex-not_affected.json"));
        var component = SbomComponent.FromPurl("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1") with { Reference = "product-ABC" };
        var finding = Assess(component, index).Single(f => f.Finding.Advisory.Id == "GHSA-jfh8-c2jp-5v3q");
        Assert.Equal(VexStatus.NotAffected, finding.Status);
        Assert.Equal("code_not_present", finding.Vex!.Justification);
        Assert.NotNull(finding.Kev); // still flagged: VEX decides the status, not the KEV listing

        var other = SbomComponent.FromPurl("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1") with { Reference = "product-XYZ" };
        Assert.Equal(VexStatus.Affected, Assess(other, index).Single(f => f.Finding.Advisory.Id == "GHSA-jfh8-c2jp-5v3q").Status);
    }

    [Fact]
    public void Assess_OpenVexNotAffected_SuppressesByPurlAndAlias()
    {
        var index = new VexIndex();
        index.Add(VexReader.Read(Encoding.UTF8.GetBytes("""
            {"@context":"https://openvex.dev/ns/v0.2.0","@id":"https://example.invalid/vex-1","author":"ops","timestamp":"2024-01-01T00:00:00Z","version":1,
             "statements":[{"vulnerability":{"name":"CVE-2023-37466"},"products":[{"@id":"pkg:npm/vm2@3.9.11"}],"status":"not_affected","justification":"vulnerable_code_not_in_execute_path"}]}
            """), "ops.openvex.json"));
        var findings = Assess(SbomComponent.FromPurl("pkg:npm/vm2@3.9.11"), index);
        Assert.Equal(VexStatus.NotAffected, findings.Single(f => f.Finding.Advisory.Id == "GHSA-cchq-frgv-rjh5").Status);
        Assert.Equal(VexStatus.Affected, findings.Single(f => f.Finding.Advisory.Id == "GHSA-g644-9gfx-q4q4").Status); // another CVE
    }

    [Fact]
    public void Assess_CsafKnownNotAffected_SuppressesByPurlFromTheProductTree()
    {
        var index = new VexIndex();
        index.Add(VexReader.Read(Encoding.UTF8.GetBytes("""
            {"document":{"category":"csaf_vex","csaf_version":"2.0","title":"t","publisher":{"category":"vendor","name":"n","namespace":"https://example.invalid"},
              "tracking":{"id":"x","current_release_date":"2024-01-01T00:00:00Z","initial_release_date":"2024-01-01T00:00:00Z","status":"final","version":"1","revision_history":[]}},
             "product_tree":{"full_product_names":[{"name":"log4j-core 2.14.1","product_id":"P1","product_identification_helper":{"purl":"pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"}}]},
             "vulnerabilities":[{"cve":"CVE-2021-44228","flags":[{"label":"vulnerable_code_not_in_execute_path","product_ids":["P1"]}],"product_status":{"known_not_affected":["P1"]}}]}
            """), "csaf.json"));
        var finding = Assess(SbomComponent.FromPurl("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"), index).Single(f => f.Finding.Advisory.Id == "GHSA-jfh8-c2jp-5v3q");
        Assert.Equal(VexStatus.NotAffected, finding.Status);
        Assert.Equal("vulnerable_code_not_in_execute_path", finding.Vex!.Justification);
    }

    [Theory]
    [InlineData("""{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{"vulnerability":{"name":"CVE-1"},"products":[],"status":"maybe"}]}""", "not an OpenVEX status")]
    [InlineData("""{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{"products":[],"status":"fixed"}]}""", "\"vulnerability\" is missing")]
    [InlineData("""{"bomFormat":"CycloneDX","specVersion":"1.6","vulnerabilities":[{"id":"CVE-1","analysis":{"state":"fine"}}]}""", "not a CycloneDX impact analysis state")]
    [InlineData("""{"bomFormat":"CycloneDX","specVersion":"1.3","vulnerabilities":[]}""", "not supported")]
    [InlineData("""{"document":{"category":"csaf_security_advisory"}}""", "not an OpenVEX")]
    [InlineData("""{"@context":"https://openvex.dev/ns/v0.2.0","@context":"x"}""", "duplicate")]
    public void Vex_RefusesMalformedDocuments_SayingWhy(string json, string expected)
    {
        var e = Assert.Throws<VulnerabilityDataException>(() => VexReader.Read(Encoding.UTF8.GetBytes(json), "vex.json"));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }
}
