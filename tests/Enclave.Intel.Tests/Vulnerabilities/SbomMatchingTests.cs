using System.Text;
using Enclave.Intel.Vulnerabilities;
using Enclave.Intel.Vulnerabilities.Matching;
using Enclave.Intel.Vulnerabilities.Osv;
using Enclave.Intel.Vulnerabilities.Sbom;

namespace Enclave.Intel.Tests.Vulnerabilities;

/// <summary>
/// The real SBOMs against the real advisories. Expected pairs are the ones shared/testdata/intel/sbom/README.md lists
/// (worked out by hand from the records), not output of this code.
/// </summary>
public sealed class SbomMatchingTests
{
    private static readonly Lazy<OsvDatabase> Advisories = new(OsvTestData.LoadAll);

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, List<(string Purl, string Id)>> FindingsCache = new();

    private static SbomDocument Sbom(string relative) => SbomReader.Read(SharedTestData.Intel(Path.Combine("sbom", relative)));

    private static List<(string Purl, string Id)> Findings(string relative) =>
        FindingsCache.GetOrAdd(relative, r => VulnerabilityMatcher.Match(Sbom(r).Components, Advisories.Value).Findings
            .Select(f => (f.Component.PurlText!, f.Advisory.Id)).ToList());

    [Theory]
    [InlineData("cyclonedx/juice-shop-14.1.1.node-npm.flat.cdx-1.6.json", "CycloneDX", "1.6", 1101)]
    [InlineData("cyclonedx/laravel-7.12.0.bom-examples.cdx-1.4.json", "CycloneDX", "1.4", 62)]
    [InlineData("cyclonedx/minikube-v1.23.1.gomod-mod.cdx-1.5.json", "CycloneDX", "1.5", 183)]
    [InlineData("cyclonedx/python-requirements-with-comments.cdx-1.5.json", "CycloneDX", "1.5", 5)]
    [InlineData("spdx/ACME-v2.3.spdx.json", "SPDX", "2.3", 4)]
    [InlineData("spdx/examplemaven-0.0.1-enriched.spdx.json", "SPDX", "2.3", 6)]
    public void Read_ReadsEveryComponentOfTheRealSboms(string relative, string format, string version, int count)
    {
        var sbom = Sbom(relative);
        Assert.Equal(format, sbom.Format);
        Assert.Equal(version, sbom.SpecVersion);
        Assert.Equal(count, sbom.Components.Count);
    }

    [Fact]
    public void Read_AcceptsEveryRealSbom_WithValidPurls()
    {
        foreach (var file in Directory.EnumerateFiles(SharedTestData.Intel("sbom"), "*.json", SearchOption.AllDirectories))
        {
            var sbom = SbomReader.Read(file);
            Assert.All(sbom.Components, c => Assert.Null(c.PurlError));
        }
    }

    [Theory]
    [InlineData("cyclonedx/juice-shop-14.1.1.node-npm.flat.cdx-1.6.json", "pkg:npm/jsonwebtoken@0.1.0", "GHSA-c7hr-j4mj-j2w6")]
    [InlineData("cyclonedx/juice-shop-14.1.1.node-npm.flat.cdx-1.6.json", "pkg:npm/jsonwebtoken@0.4.0", "GHSA-c7hr-j4mj-j2w6")]
    [InlineData("cyclonedx/juice-shop-14.1.1.node-npm.flat.cdx-1.6.json", "pkg:npm/vm2@3.9.11", "GHSA-cchq-frgv-rjh5")]
    [InlineData("cyclonedx/juice-shop-14.1.1.node-npm.flat.cdx-1.6.json", "pkg:npm/vm2@3.9.11", "GHSA-g644-9gfx-q4q4")]
    [InlineData("cyclonedx/juice-shop-14.1.1.node-npm.flat.cdx-1.6.json", "pkg:npm/dicer@0.2.5", "GHSA-wm7h-9275-46v2")]
    [InlineData("cyclonedx/juice-shop-14.1.1.node-npm.flat.cdx-1.6.json", "pkg:npm/request@2.88.2", "GHSA-p8p7-x288-28g6")]
    [InlineData("cyclonedx/juice-shop-14.1.1.node-npm.flat.cdx-1.6.json", "pkg:npm/marsdb@0.6.11", "GHSA-5mrr-rgp6-x4gr")]
    [InlineData("cyclonedx/juice-shop-14.1.1.node-npm.flat.cdx-1.6.json", "pkg:npm/ws@7.4.6", "GHSA-3h5v-q93c-6h6q")]
    [InlineData("cyclonedx/juice-shop-14.1.1.node-npm.flat.cdx-1.6.json", "pkg:npm/express@4.19.2", "GHSA-qw6h-vgh9-j6wx")]
    [InlineData("cyclonedx/juice-shop-14.1.1.node-npm.flat.cdx-1.6.json", "pkg:npm/path-to-regexp@0.1.7", "GHSA-9wv6-86v2-598j")]
    [InlineData("cyclonedx/juice-shop-14.1.1.node-npm.flat.cdx-1.6.json", "pkg:npm/tough-cookie@2.5.0", "GHSA-72xf-g2v4-qvf3")]
    [InlineData("cyclonedx/juice-shop-14.1.1.node-npm.flat.cdx-1.6.json", "pkg:npm/lodash@2.4.2", "GHSA-jf85-cpcp-j695")]
    [InlineData("cyclonedx/juice-shop-14.1.1.node-npm.flat.cdx-1.6.json", "pkg:npm/moment@2.0.0", "GHSA-8hfj-j24r-96c4")]
    [InlineData("cyclonedx/python-poetry-regression-issue702-lock10.cdx-1.6.json", "pkg:pypi/aiohttp@3.9.3", "GHSA-5m98-qgg9-wh84")]
    [InlineData("cyclonedx/python-poetry-regression-issue702-lock10.cdx-1.6.json", "pkg:pypi/idna@3.6", "GHSA-jjg7-2v4v-x38h")]
    [InlineData("cyclonedx/python-poetry-regression-issue702-lock10.cdx-1.6.json", "pkg:pypi/requests@2.31.0", "GHSA-9wx4-h78v-vm56")]
    [InlineData("cyclonedx/python-poetry-regression-issue702-lock10.cdx-1.6.json", "pkg:pypi/urllib3@2.2.1", "GHSA-34jh-p97f-mpxf")]
    [InlineData("cyclonedx/python-requirements-with-comments.cdx-1.5.json", "pkg:pypi/idna@2.10", "GHSA-jjg7-2v4v-x38h")]
    [InlineData("cyclonedx/python-requirements-with-comments.cdx-1.5.json", "pkg:pypi/urllib3@2.2.0", "GHSA-34jh-p97f-mpxf")]
    [InlineData("cyclonedx/python-poetry-regression-issue727-lock20.cdx-1.6.json", "pkg:pypi/jinja2@3.1.3", "GHSA-h75v-3vvj-5mfj")]
    [InlineData("cyclonedx/laravel-7.12.0.bom-examples.cdx-1.4.json", "pkg:composer/guzzlehttp/psr7@1.9.0", "GHSA-wxmh-65f7-jcvw")]
    [InlineData("cyclonedx/laravel-7.12.0.php-composer.cdx-1.6.json", "pkg:composer/guzzlehttp/psr7@1.9.0", "GHSA-wxmh-65f7-jcvw")]
    [InlineData("cyclonedx/minikube-v1.23.1.gomod-app.cdx-1.5.json", "pkg:golang/golang.org/x/net@v0.0.0-20210525063256-abc453219eb5", "GO-2023-2102")]
    [InlineData("cyclonedx/minikube-v1.23.1.gomod-app.cdx-1.5.json", "pkg:golang/golang.org/x/net@v0.0.0-20210525063256-abc453219eb5", "GHSA-qppj-fm5r-hxr3")]
    [InlineData("cyclonedx/minikube-v1.23.1.gomod-app.cdx-1.5.json", "pkg:golang/google.golang.org/grpc@v1.40.0", "GO-2023-2153")]
    [InlineData("cyclonedx/minikube-v1.23.1.gomod-app.cdx-1.5.json", "pkg:golang/golang.org/x/crypto@v0.0.0-20210322153248-0c34fe9e7dc2", "GO-2022-0968")]
    [InlineData("cyclonedx/minikube-v1.23.1.gomod-app.cdx-1.5.json", "pkg:golang/golang.org/x/crypto@v0.0.0-20210322153248-0c34fe9e7dc2", "GO-2023-2402")]
    [InlineData("cyclonedx/minikube-v1.23.1.gomod-app.cdx-1.5.json", "pkg:golang/golang.org/x/text@v0.3.7", "GO-2022-1059")]
    [InlineData("cyclonedx/minikube-v1.23.1.gomod-app.cdx-1.5.json", "pkg:golang/golang.org/x/sys@v0.0.0-20210823070655-63515b42dcdf", "GO-2022-0493")]
    [InlineData("cyclonedx/minikube-v1.23.1.gomod-app.cdx-1.5.json", "pkg:golang/github.com/opencontainers/runc@v1.0.0-rc95", "GO-2024-2491")]
    [InlineData("cyclonedx/minikube-v1.23.1.gomod-app.cdx-1.5.json", "pkg:golang/github.com/containerd/containerd@v1.5.2", "GO-2022-0278")]
    [InlineData("cyclonedx/minikube-v1.23.1.gomod-app.cdx-1.5.json", "pkg:golang/github.com/containerd/containerd@v1.5.2", "GO-2022-0344")]
    [InlineData("cyclonedx/minikube-v1.23.1.gomod-app.cdx-1.5.json", "pkg:golang/github.com/docker/docker@v20.10.7+incompatible", "GO-2024-3005")]
    [InlineData("cyclonedx/minikube-v1.23.1.gomod-app.cdx-1.5.json", "pkg:golang/google.golang.org/protobuf@v1.27.1", "GO-2024-2611")]
    [InlineData("cyclonedx/minikube-v1.23.1.gomod-app.cdx-1.5.json", "pkg:golang/k8s.io/kubernetes@v1.21.3", "GO-2022-0910")]
    [InlineData("cyclonedx/minikube-v1.23.1.gomod-mod.cdx-1.5.json", "pkg:golang/github.com/prometheus/client_golang@v1.7.1", "GO-2022-0322")]
    [InlineData("spdx/ACME-v2.3.spdx.json", "pkg:npm/elliptic@6.5.2", "GHSA-r9p9-mrjm-926w")]
    [InlineData("spdx/example11-hello-server.spdx.json", "pkg:cargo/tokio@1.19.2", "GHSA-7rrj-xr53-82p7")]
    public void Match_FindsTheAffectedComponentsOfTheRealSboms(string sbom, string purlPrefix, string advisory)
    {
        var findings = Findings(sbom);
        Assert.Contains(findings, f => f.Purl.StartsWith(purlPrefix, StringComparison.Ordinal) && f.Id == advisory);
    }

    [Theory]
    [InlineData("cyclonedx/laravel-7.12.0.php-composer.cdx-1.6.json", "pkg:composer/guzzlehttp/guzzle@", "GHSA-25mq-v84q-4j7r")]
    [InlineData("cyclonedx/juice-shop-14.1.1.node-npm.flat.cdx-1.6.json", "pkg:npm/ip@", "GHSA-2p57-rm9w-gvfp")]
    [InlineData("cyclonedx/juice-shop-14.1.1.node-npm.flat.cdx-1.6.json", "pkg:npm/minimist@", "GHSA-xvch-5gv4-984h")]
    [InlineData("cyclonedx/juice-shop-14.1.1.node-npm.flat.cdx-1.6.json", "pkg:npm/moment@", "GHSA-wc69-rhjr-hc9g")]
    [InlineData("cyclonedx/juice-shop-14.1.1.node-npm.flat.cdx-1.6.json", "pkg:npm/moment@2.30.1", "GHSA-8hfj-j24r-96c4")]
    [InlineData("cyclonedx/juice-shop-14.1.1.node-npm.flat.cdx-1.6.json", "pkg:npm/lodash@4.17.21", "GHSA-jf85-cpcp-j695")]
    [InlineData("cyclonedx/minikube-v1.23.1.gomod-app.cdx-1.5.json", "pkg:golang/github.com/opencontainers/runc@", "GO-2022-0274")]
    [InlineData("cyclonedx/minikube-v1.23.1.gomod-app.cdx-1.5.json", "pkg:golang/github.com/opencontainers/runc@", "GO-2025-3543")]
    [InlineData("cyclonedx/minikube-v1.23.1.gomod-app.cdx-1.5.json", "pkg:golang/k8s.io/kubernetes@", "GO-2022-0617")]
    public void Match_DoesNotReportTheDeliberateNonMatches(string sbom, string purlPrefix, string advisory)
    {
        var sbomDocument = Sbom(sbom);
        Assert.Contains(sbomDocument.Components, c => c.PurlText?.StartsWith(purlPrefix, StringComparison.Ordinal) == true);
        Assert.DoesNotContain(Findings(sbom), f => f.Purl.StartsWith(purlPrefix, StringComparison.Ordinal) && f.Id == advisory);
    }

    [Fact]
    public void Match_ClaimsNothingForAComponentWithoutPurlOrVersion()
    {
        // examplemaven names "Apache Log4j Core" without version or purl: reported unknown, never a finding.
        var result = VulnerabilityMatcher.Match(Sbom("spdx/examplemaven-0.0.1-enriched.spdx.json").Components, Advisories.Value);
        Assert.Empty(result.Findings);
        Assert.Contains(result.Unknown, u => u.Component.Name.Contains("Log4j", StringComparison.OrdinalIgnoreCase) && u.Reason.Contains("no purl", StringComparison.Ordinal));
    }

    [Fact]
    public void Match_ReportsEveryFindingOfTheMinikubeSbomOnce()
    {
        var findings = Findings("cyclonedx/minikube-v1.23.1.gomod-app.cdx-1.5.json");
        Assert.Equal(findings.Count, findings.Distinct().Count());
    }

    private static VulnerabilityDataException Refused(string json, SbomReaderOptions? options = null) =>
        Assert.Throws<VulnerabilityDataException>(() => SbomReader.Read(Encoding.UTF8.GetBytes(json), "sbom.json", options));

    [Fact]
    public void Read_RefusesTruncatedSbom()
    {
        var bytes = File.ReadAllBytes(SharedTestData.Intel("sbom/cyclonedx/python-requirements-with-comments.cdx-1.5.json"));
        var e = Assert.Throws<VulnerabilityDataException>(() => SbomReader.Read(bytes.AsMemory(0, bytes.Length - 10), "cut.json"));
        Assert.Equal(VulnerabilityDataRejection.InvalidJson, e.Reason);
    }

    [Fact]
    public void Read_RefusesAFlippedByteThatBreaksUtf8()
    {
        var bytes = File.ReadAllBytes(SharedTestData.Intel("sbom/cyclonedx/python-requirements-with-comments.cdx-1.5.json"));
        bytes[bytes.Length / 2] = 0xFF;
        var e = Assert.Throws<VulnerabilityDataException>(() => SbomReader.Read(bytes, "flipped.json"));
        Assert.Equal(VulnerabilityDataRejection.InvalidUtf8, e.Reason);
    }

    [Fact]
    public void Read_RefusesDuplicateKeys() =>
        Assert.Equal(VulnerabilityDataRejection.DuplicateKey, Refused("""{"bomFormat":"CycloneDX","specVersion":"1.6","specVersion":"1.5"}""").Reason);

    [Fact]
    public void Read_RefusesOversizedSbom() =>
        Assert.Equal(VulnerabilityDataRejection.TooLarge, Refused("""{"bomFormat":"CycloneDX","specVersion":"1.6","components":[]}""", new SbomReaderOptions { MaxBytes = 10 }).Reason);

    [Fact]
    public void Read_RefusesTooManyComponents() =>
        Assert.Equal(VulnerabilityDataRejection.TooManyItems, Refused("""{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"name":"a"},{"name":"b"}]}""", new SbomReaderOptions { MaxComponents = 1 }).Reason);

    [Theory]
    [InlineData("""{"bomFormat":"CycloneDX","specVersion":"1.2"}""")]
    [InlineData("""{"spdxVersion":"SPDX-2.2"}""")]
    [InlineData("""{"hello":"world"}""")]
    public void Read_RefusesOtherFormatsAndVersions(string json) =>
        Assert.Equal(VulnerabilityDataRejection.UnsupportedFormat, Refused(json).Reason);

    [Fact]
    public void Read_RefusesAComponentWithoutName()
    {
        var e = Refused("""{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"name":"a"},{"version":"1.0"}]}""");
        Assert.Equal(VulnerabilityDataRejection.InvalidField, e.Reason);
        Assert.Contains("components[1]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_KeepsAComponentWithAnInvalidPurl_ForMatchingToReportUnknown()
    {
        var sbom = SbomReader.Read(Encoding.UTF8.GetBytes("""{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"name":"a","version":"1","purl":"npm/a@1"}]}"""), "x");
        var component = Assert.Single(sbom.Components);
        Assert.NotNull(component.PurlError);
        Assert.Contains("invalid purl", Assert.Single(VulnerabilityMatcher.Match(sbom.Components, Advisories.Value).Unknown).Reason, StringComparison.Ordinal);
    }
}
