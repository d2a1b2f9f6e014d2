using Enclave.Intel.Vulnerabilities.Sbom;

namespace Enclave.Intel.Tests.Vulnerabilities;

/// <summary>Vectors after the purl specification's test suite (type, namespace, name, version, qualifiers, subpath).</summary>
public sealed class PackageUrlTests
{
    [Theory]
    [InlineData("pkg:npm/%40angular/animation@12.3.1", "npm", "@angular", "animation", "12.3.1")]
    [InlineData("pkg:npm/@angular/animation@12.3.1", "npm", "@angular", "animation", "12.3.1")]
    [InlineData("pkg:npm/foobar@12.3.1", "npm", null, "foobar", "12.3.1")]
    [InlineData("pkg:maven/org.apache.commons/io@1.3.4", "maven", "org.apache.commons", "io", "1.3.4")]
    [InlineData("pkg:golang/google.golang.org/genproto#googleapis/api/annotations", "golang", "google.golang.org", "genproto", null)]
    [InlineData("pkg:golang/github.com/docker/docker@v20.10.7%2Bincompatible?type=module", "golang", "github.com/docker", "docker", "v20.10.7+incompatible")]
    [InlineData("pkg:pypi/django@1.11.1", "pypi", null, "django", "1.11.1")]
    [InlineData("PKG:PyPI/django@1.11.1", "pypi", null, "django", "1.11.1")]
    [InlineData("pkg:deb/debian/curl@7.50.3-1?arch=i386&distro=jessie", "deb", "debian", "curl", "7.50.3-1")]
    [InlineData("pkg:composer/guzzlehttp/psr7@v1.9.0", "composer", "guzzlehttp", "psr7", "v1.9.0")]
    [InlineData("pkg://npm/foo@1.0.0", "npm", null, "foo", "1.0.0")]
    [InlineData("pkg:nuget/EnterpriseLibrary.Common@6.0.1304", "nuget", null, "EnterpriseLibrary.Common", "6.0.1304")]
    public void TryParse_SplitsTheComponents(string text, string type, string? ns, string name, string? version)
    {
        Assert.True(PackageUrl.TryParse(text, out var purl, out var error), error);
        Assert.Equal(type, purl.Type);
        Assert.Equal(ns, purl.Namespace);
        Assert.Equal(name, purl.Name);
        Assert.Equal(version, purl.Version);
    }

    [Fact]
    public void TryParse_ReadsQualifiersAndSubpath()
    {
        Assert.True(PackageUrl.TryParse("pkg:deb/debian/curl@7.50.3-1?Arch=i386&distro=jessie&empty=#sub/../path", out var purl, out _));
        Assert.Equal("i386", purl.Qualifiers["arch"]);
        Assert.Equal("jessie", purl.Qualifiers["distro"]);
        Assert.False(purl.Qualifiers.ContainsKey("empty"));
        Assert.Equal("sub/path", purl.Subpath);
        Assert.Equal("pkg:deb/debian/curl", purl.ToPackageString());
    }

    [Theory]
    [InlineData("npm/foo@1.0.0", "pkg:")]
    [InlineData("pkg:npm", "type/name")]
    [InlineData("pkg:1npm/foo", "type")]
    [InlineData("pkg:npm/@1.0.0", "name")]
    [InlineData("pkg:npm/foo?a=1&a=2", "twice")]
    [InlineData("pkg:npm/foo?novalue", "key=value")]
    [InlineData("pkg:npm/../foo", "..")]
    public void TryParse_RefusesInvalidPurls_SayingWhy(string text, string expected)
    {
        Assert.False(PackageUrl.TryParse(text, out _, out var error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_RefusesOversizedPurl()
    {
        Assert.False(PackageUrl.TryParse("pkg:npm/" + new string('a', PackageUrl.MaxLength), out _, out var error));
        Assert.Contains("longer", error, StringComparison.Ordinal);
    }
}
