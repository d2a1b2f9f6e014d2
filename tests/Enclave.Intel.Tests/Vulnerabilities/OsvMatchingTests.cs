using System.Text;
using Enclave.Intel.Vulnerabilities.Matching;
using Enclave.Intel.Vulnerabilities.Osv;
using Enclave.Intel.Vulnerabilities.Sbom;

namespace Enclave.Intel.Tests.Vulnerabilities;

/// <summary>
/// Matching on the real advisories: expectations come from reading the records (and shared/testdata/intel/sbom/README.md),
/// not from running this code.
/// </summary>
public sealed class OsvMatchingTests
{
    private static readonly Lazy<OsvDatabase> Real = new(OsvTestData.LoadAll);

    private static HashSet<string> Ids(string purl, OsvDatabase? database = null) =>
        VulnerabilityMatcher.Match([SbomComponent.FromPurl(purl)], database ?? Real.Value).Findings.Select(f => f.Advisory.Id).ToHashSet();

    [Fact]
    public void Load_ReadsEveryRealRecord_WithNoProblems()
    {
        var database = Real.Value;
        Assert.Empty(database.Problems);
        Assert.Equal(90, database.Records.Count);
        Assert.NotNull(database.Records["GO-2024-2730"].Withdrawn);
        Assert.Contains("CVE-2021-44228", database.Records["GHSA-jfh8-c2jp-5v3q"].Aliases);
    }

    [Theory]
    [InlineData("pkg:npm/jsonwebtoken@0.4.0", "GHSA-c7hr-j4mj-j2w6")]
    [InlineData("pkg:npm/vm2@3.9.11", "GHSA-cchq-frgv-rjh5")] // last_affected 3.9.19
    [InlineData("pkg:npm/vm2@3.9.19", "GHSA-g644-9gfx-q4q4")] // last_affected is inclusive
    [InlineData("pkg:npm/dicer@0.2.5", "GHSA-wm7h-9275-46v2")]
    [InlineData("pkg:npm/request@2.88.2", "GHSA-p8p7-x288-28g6")] // boundary: last_affected 2.88.2
    [InlineData("pkg:npm/marsdb@0.6.11", "GHSA-5mrr-rgp6-x4gr")] // fixed: "" = no fix
    [InlineData("pkg:npm/express@4.19.2", "GHSA-qw6h-vgh9-j6wx")]
    [InlineData("pkg:npm/lodash@2.4.2", "GHSA-jf85-cpcp-j695")]
    [InlineData("pkg:pypi/idna@3.6", "GHSA-jjg7-2v4v-x38h")]
    [InlineData("pkg:pypi/jinja2@3.1.3", "GHSA-h75v-3vvj-5mfj")] // advisory says "Jinja2"
    [InlineData("pkg:pypi/flask@2.2.4", "PYSEC-2023-62")] // ECOSYSTEM range beside a GIT range
    [InlineData("pkg:composer/guzzlehttp/psr7@1.9.0", "GHSA-wxmh-65f7-jcvw")]
    [InlineData("pkg:cargo/tokio@1.19.2", "GHSA-7rrj-xr53-82p7")]
    [InlineData("pkg:golang/golang.org/x/net@v0.0.0-20210525063256-abc453219eb5", "GO-2022-0288")] // SEMVER, pseudo-version
    [InlineData("pkg:golang/golang.org/x/net@v0.0.0-20210525063256-abc453219eb5", "GHSA-qppj-fm5r-hxr3")] // ECOSYSTEM for Go
    [InlineData("pkg:golang/github.com/opencontainers/runc@v1.0.0-rc95", "GO-2022-0452")]
    [InlineData("pkg:golang/github.com/docker/docker@v20.10.7%2Bincompatible", "GO-2024-3005")]
    [InlineData("pkg:golang/k8s.io/kubernetes@v1.21.3?type=module&goos=linux", "GO-2022-0910")]
    [InlineData("pkg:deb/debian/openssl@1.1.0l-1~deb9u5?distro=debian-9", "DLA-3008-1")] // dpkg ~ ordering
    [InlineData("pkg:apk/alpine/musl@1.2.3-r5?distro=alpine-3.17.2", "ALPINE-CVE-2025-26519")] // fixed 1.2.3-r6 on v3.17
    public void Match_FindsTheAdvisoryTheRecordsSayAffectTheComponent(string purl, string advisory) =>
        Assert.Contains(advisory, Ids(purl));

    [Theory]
    [InlineData("pkg:composer/guzzlehttp/guzzle@6.5.8", "GHSA-25mq-v84q-4j7r")] // equal to fixed
    [InlineData("pkg:npm/ip@2.0.1", "GHSA-2p57-rm9w-gvfp")]
    [InlineData("pkg:npm/minimist@0.2.4", "GHSA-xvch-5gv4-984h")]
    [InlineData("pkg:npm/minimist@1.2.8", "GHSA-xvch-5gv4-984h")]
    [InlineData("pkg:npm/moment@2.0.0", "GHSA-wc69-rhjr-hc9g")] // below introduced
    [InlineData("pkg:npm/moment@2.30.1", "GHSA-8hfj-j24r-96c4")]
    [InlineData("pkg:npm/lodash@4.17.21", "GHSA-jf85-cpcp-j695")]
    [InlineData("pkg:npm/vm2@3.9.20", "GHSA-cchq-frgv-rjh5")] // just above last_affected
    [InlineData("pkg:npm/request@2.88.3", "GHSA-p8p7-x288-28g6")]
    [InlineData("pkg:golang/github.com/opencontainers/runc@v1.0.0-rc95", "GO-2022-0274")] // introduced at a later pseudo-version
    [InlineData("pkg:golang/github.com/opencontainers/runc@v1.0.0-rc95", "GO-2025-3543")] // withdrawn
    [InlineData("pkg:golang/k8s.io/kubernetes@v1.21.3", "GO-2022-0617")] // withdrawn
    [InlineData("pkg:composer/league/flysystem@1.1.10", "GHSA-9f46-5r25-5wfm")]
    [InlineData("pkg:pypi/flask@2.2.5", "PYSEC-2023-62")]
    [InlineData("pkg:deb/debian/openssl@1.1.0l-1~deb9u6?distro=debian-9", "DLA-3008-1")] // equal to fixed
    [InlineData("pkg:deb/debian/openssl@1.1.0l-1~deb9u5?distro=debian-10", "DLA-3008-1")] // other release
    [InlineData("pkg:apk/alpine/musl@1.2.3-r6?distro=alpine-3.17.2", "ALPINE-CVE-2025-26519")]
    public void Match_DoesNotReportAdvisoriesThatDoNotApply(string purl, string advisory) =>
        Assert.DoesNotContain(advisory, Ids(purl));

    [Fact]
    public void Match_IgnoresWithdrawnRecords_EvenForAKevCve()
    {
        // GO-2024-2730 (CVE-2024-3400 in KEV) is withdrawn: no finding through it, whatever the version.
        var record = Real.Value.Records["GO-2024-2730"];
        var package = record.Affected[0];
        var purl = $"pkg:golang/{package.Name}@v0.0.1";
        Assert.DoesNotContain("GO-2024-2730", Ids(purl));
    }

    [Fact]
    public void Match_ReportsUnknown_ForADebianComponentWithoutRelease()
    {
        var result = VulnerabilityMatcher.Match([SbomComponent.FromPurl("pkg:deb/debian/openssl@1.1.0l-1~deb9u5")], Real.Value);
        Assert.Empty(result.Findings);
        Assert.Contains(result.Unknown, u => u.AdvisoryId == "DLA-3008-1" && u.Reason.Contains("release", StringComparison.Ordinal));
    }

    [Fact]
    public void Match_ReportsUnknown_ForAVersionTheEcosystemDoesNotDefine()
    {
        var result = VulnerabilityMatcher.Match([SbomComponent.FromPurl("pkg:npm/vm2@latest")], Real.Value);
        Assert.Empty(result.Findings);
        Assert.Contains(result.Unknown, u => u.AdvisoryId == "GHSA-cchq-frgv-rjh5" && u.Reason.Contains("SemVer", StringComparison.Ordinal));
    }

    [Fact]
    public void Match_ReportsUnknown_ForComponentsWithoutPurlOrWithAnUnmatchedType()
    {
        var result = VulnerabilityMatcher.Match(
            [new SbomComponent { Name = "Apache Log4j Core" }, SbomComponent.FromPurl("pkg:github/apache/logging-log4j2@2.14.0"), SbomComponent.FromPurl("not a purl")],
            Real.Value);
        Assert.Empty(result.Findings);
        Assert.Equal(3, result.Unknown.Count);
        Assert.Contains("no purl", result.Unknown[0].Reason, StringComparison.Ordinal);
        Assert.Contains("\"github\"", result.Unknown[1].Reason, StringComparison.Ordinal);
        Assert.Contains("invalid purl", result.Unknown[2].Reason, StringComparison.Ordinal);
    }

    private static OsvDatabase Synthetic(string affectedJson, string id = "TEST-1", string modified = "2024-01-01T00:00:00Z")
    {
        var database = new OsvDatabase();
        database.Add(OsvParser.Parse(Encoding.UTF8.GetBytes($$"""{"id":"{{id}}","modified":"{{modified}}","affected":[{{affectedJson}}]}"""), "test")[0]);
        return database;
    }

    [Theory]
    [InlineData("1.9.9", false)]
    [InlineData("2.0.0", true)]
    [InlineData("2.4.0", true)]
    [InlineData("2.5.0", false)] // limit: v must be below it
    [InlineData("3.0.0", false)]
    public void Match_HonoursLimitEvents(string version, bool affected)
    {
        var database = Synthetic("""{"package":{"ecosystem":"npm","name":"p"},"ranges":[{"type":"SEMVER","events":[{"introduced":"2.0.0"},{"limit":"2.5.0"}]}]}""");
        Assert.Equal(affected, Ids($"pkg:npm/p@{version}", database).Contains("TEST-1"));
    }

    [Theory]
    [InlineData("0.5.0", true)]
    [InlineData("1.0.0", false)]
    [InlineData("1.5.0", false)]
    [InlineData("2.0.0", true)]
    [InlineData("2.1.0", true)] // last_affected inclusive
    [InlineData("2.1.1", false)]
    public void Match_WalksSortedEvents_WhateverOrderTheyAreWritten(string version, bool affected)
    {
        var database = Synthetic("""{"package":{"ecosystem":"PyPI","name":"p"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"2.0"},{"last_affected":"2.1"},{"fixed":"1.0"},{"introduced":"0"}]}]}""");
        Assert.Equal(affected, Ids($"pkg:pypi/p@{version}", database).Contains("TEST-1"));
    }

    [Fact]
    public void Match_GitOnlyRange_IsUnknownNotNotAffected()
    {
        var database = Synthetic("""{"package":{"ecosystem":"PyPI","name":"p"},"ranges":[{"type":"GIT","repo":"https://example.invalid/p","events":[{"introduced":"0"},{"fixed":"70f906c51ce49c485f1d355703e9cc3386b1cc2b"}]}]}""");
        var result = VulnerabilityMatcher.Match([SbomComponent.FromPurl("pkg:pypi/p@1.0")], database);
        Assert.Empty(result.Findings);
        Assert.Contains("GIT", Assert.Single(result.Unknown).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Match_UsesTheVersionsList_ForExactMatches()
    {
        var database = Synthetic("""{"package":{"ecosystem":"Hex","name":"p"},"versions":["1.0.0"],"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.1.0"}]}]}""");
        Assert.Contains("TEST-1", Ids("pkg:hex/p@1.0.0", database));
        var result = VulnerabilityMatcher.Match([SbomComponent.FromPurl("pkg:hex/p@1.0.5")], database);
        Assert.Empty(result.Findings);
        Assert.Contains("Hex", Assert.Single(result.Unknown).Reason, StringComparison.Ordinal); // no ordering for Hex: unknown
    }

    [Fact]
    public void Add_NewerModifiedReplacesOlder_AndOlderIsIgnored()
    {
        var database = Synthetic("""{"package":{"ecosystem":"npm","name":"p"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.0"}]}]}""", modified: "2024-01-01T00:00:00Z");
        Assert.Contains("TEST-1", Ids("pkg:npm/p@0.9.0", database));
        var withdrawn = OsvParser.Parse(Encoding.UTF8.GetBytes("""{"id":"TEST-1","modified":"2024-02-01T00:00:00Z","withdrawn":"2024-02-01T00:00:00Z","affected":[]}"""), "t")[0];
        Assert.True(database.Add(withdrawn));
        Assert.DoesNotContain("TEST-1", Ids("pkg:npm/p@0.9.0", database));
        var stale = OsvParser.Parse(Encoding.UTF8.GetBytes("""{"id":"TEST-1","modified":"2023-06-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"p"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]}]}"""), "t")[0];
        Assert.False(database.Add(stale));
        Assert.DoesNotContain("TEST-1", Ids("pkg:npm/p@0.9.0", database));
    }
}
