using Enclave.Intel.Vulnerabilities.Versions;

namespace Enclave.Intel.Tests.Vulnerabilities;

/// <summary>
/// Known-answer vectors from each ecosystem's own specification and test suite (Semantic Versioning 2.0 §11,
/// PEP 440 and packaging's version tests, Maven's ComparableVersionTest, Debian Policy §5.6.12, apk's version rules,
/// RubyGems' Gem::Version tests). Each list is strictly ascending: every earlier entry sorts before every later one.
/// </summary>
public sealed class VersionOrderingTests
{
    public static TheoryData<string, string[]> AscendingChains => new()
    {
        // SemVer 2.0 §11 example, verbatim.
        { "npm", ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "2.0.0", "2.1.0", "2.1.1"] },
        { "crates.io", ["1.19.0", "1.19.2", "1.20.3", "1.20.10"] },
        // Go: v prefix, pseudo-versions are pre-releases of the next patch (runc's rc95 < the pseudo-version GO-2022-0274 starts at).
        { "Go", ["v0.0.0-20210322153248-0c34fe9e7dc2", "v0.0.0-20211202192323-5770296d904e", "0.1.0", "v1.0.0-rc95", "v1.0.1-0.20211012131345-9c444070ec7b", "v1.0.1", "v20.10.7+incompatible", "v20.10.27"] },
        { "NuGet", ["1.0.0-alpha", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-rc.1", "1.0.0", "1.0.0.1", "1.0.1", "1.10.0"] },
        // packaging's test_version.py ordering (epochs, pre, post, dev, local).
        { "PyPI", ["1.0.dev456", "1.0a1", "1.0a2.dev456", "1.0a12.dev456", "1.0a12", "1.0b1.dev456", "1.0b2", "1.0b2.post345.dev456", "1.0b2.post345", "1.0b2-346", "1.0c1.dev456", "1.0c1", "1.0rc2", "1.0c3", "1.0", "1.0.post456.dev34", "1.0.post456", "1.1.dev1", "1.2+123abc", "1.2+123abc456", "1.2+abc", "1.2+abc123", "1.2+abc123def", "1.2+1234.abc", "1.2+123456", "1.2.r32+123456", "1.2.rev33+123456", "1!1.0b2.post345.dev456", "1!1.0", "1!1.0.post456", "1!1.2.rev33+123456"] },
        // Maven ComparableVersionTest VERSIONS_QUALIFIER and VERSIONS_NUMBER.
        { "Maven", ["1-alpha2snapshot", "1-alpha2", "1-alpha-123", "1-beta-2", "1-beta123", "1-m2", "1-m11", "1-rc", "1-cr2", "1-rc123", "1-SNAPSHOT", "1", "1-sp", "1-sp2", "1-sp123", "1-abc", "1-def", "1-pom-1", "1-1-snapshot", "1-1", "1-2", "1-123"] },
        { "Maven", ["2.0", "2-1", "2.0.a", "2.0.0.a", "2.0.2", "2.0.123", "2.1.0", "2.1-a", "2.1b", "2.1-c", "2.1-1", "2.1.0.1", "2.2", "2.123", "11.a2", "11.a11", "11.b2", "11.b11", "11.m2", "11.m11", "11", "11.a", "11b", "11c", "11m"] },
        { "Maven", ["1.0-alpha-1-SNAPSHOT", "1.0-alpha-1", "1.0-alpha-2", "1.0-beta-1", "1.0-SNAPSHOT", "1.0", "1.0-1", "1.0-2", "2.0-1", "2.0.1", "2.0.1-klm", "2.0.1-lmn", "2.0.1-xyz", "2.0.1-123"] },
        // Debian Policy 5.6.12: "~~" < "~~a" < "~" < "" < "a"; epochs, revisions, backports.
        { "Debian:9", ["1.0~~", "1.0~~a", "1.0~", "1.0", "1.0a", "1.0+b1", "1.9", "1.10", "2.30-1~bpo9+1", "2.30-1", "2.30-1+deb9u1", "2.30-2", "1:0.1", "1:1.0~rc1", "1:1.0"] },
        // apk: pre-release suffixes, none, post suffixes, revisions; letter; extra components.
        { "Alpine:v3.18", ["1.0_alpha", "1.0_beta", "1.0_pre", "1.0_rc1", "1.0_rc2", "1.0", "1.0-r1", "1.0_cvs", "1.0_svn", "1.0_git", "1.0_hg", "1.0_p1", "1.0_p2", "1.0a", "1.0.1", "1.01.1", "1.1", "1.2.5-r0", "1.2.5-r10", "2.33", "2.34"] },
        // Gem::Version: pre-releases (any letter) before the release; trailing zeros insignificant.
        { "RubyGems", ["1.0.a", "1.0.a.2", "1.0.a.10", "1.0.b1", "1.0.pre", "1.0-1", "1.0", "1.0.1", "1.9.3", "1.9.3.1", "5.a", "5.0.0.rc2", "5.0.1"] },
        { "Packagist", ["1.0.0-dev", "1.0.0-alpha1", "1.0.0-beta2", "1.0.0-RC1", "1.0.0", "1.0.0-patch1", "1.0.1", "v6.5.8", "7.30.6"] },
    };

    [Theory]
    [MemberData(nameof(AscendingChains))]
    public void Compare_OrdersEachEcosystemsVectorsAscending(string ecosystem, string[] versions)
    {
        var scheme = Ecosystems.SchemeFor(ecosystem);
        Assert.NotNull(scheme);
        for (var i = 0; i < versions.Length; i++)
        {
            for (var j = i + 1; j < versions.Length; j++)
            {
                Assert.True(scheme.TryCompare(versions[i], versions[j], out var order), $"{ecosystem}: cannot order {versions[i]} / {versions[j]}");
                Assert.True(order < 0, $"{ecosystem}: expected {versions[i]} < {versions[j]}, got {order}");
                Assert.True(scheme.TryCompare(versions[j], versions[i], out var reverse));
                Assert.True(reverse > 0, $"{ecosystem}: expected {versions[j]} > {versions[i]}");
            }
        }
    }

    [Theory]
    [InlineData("npm", "1.0.0+build.1", "1.0.0+build.2")]
    [InlineData("Go", "v20.10.7+incompatible", "20.10.7")]
    [InlineData("NuGet", "1.0", "1.0.0.0")]
    [InlineData("NuGet", "1.0.0-Beta", "1.0.0-beta")]
    [InlineData("PyPI", "1.0", "1.0.0")]
    [InlineData("PyPI", "1.0c1", "1.0rc1")]
    [InlineData("PyPI", "1.0-1", "1.0.post1")]
    [InlineData("PyPI", "1.0.POST", "1.0.post0")]
    [InlineData("PyPI", "v1.0", "1.0")]
    [InlineData("Maven", "1", "1.0.0")]
    [InlineData("Maven", "1", "1-0")]
    [InlineData("Maven", "1.0", "1.0-0")]
    [InlineData("Maven", "1ga", "1")]
    [InlineData("Maven", "1final", "1")]
    [InlineData("Maven", "1cr", "1rc")]
    [InlineData("Maven", "1a1", "1alpha1")]
    [InlineData("Maven", "1m3", "1MileStone3")]
    [InlineData("Maven", "1-abcdefghijklmnopqrstuvwxyz", "1-ABCDEFGHIJKLMNOPQRSTUVWXYZ")]
    [InlineData("Debian:9", "1.0", "0:1.0")]
    [InlineData("Debian:9", "1.0", "1.0-0")]
    [InlineData("RubyGems", "1.0", "1")]
    [InlineData("RubyGems", "1.0.0", "1")]
    [InlineData("Packagist", "v1.9.0", "1.9.0.0")]
    public void Compare_TreatsEquivalentSpellingsAsEqual(string ecosystem, string left, string right)
    {
        var scheme = Ecosystems.SchemeFor(ecosystem)!;
        Assert.True(scheme.TryCompare(left, right, out var order));
        Assert.Equal(0, order);
    }

    [Theory]
    [InlineData("npm", "1.0")]
    [InlineData("npm", "01.0.0")]
    [InlineData("crates.io", "latest")]
    [InlineData("NuGet", "not.a.version")]
    [InlineData("PyPI", "1.0-beta-final-x")]
    [InlineData("PyPI", "french toast")]
    [InlineData("Debian:9", "abc")]
    [InlineData("Debian:9", "x:1.0")]
    [InlineData("Debian:9", "1.0-")]
    [InlineData("Alpine:v3.18", "1.0_foo")]
    [InlineData("Alpine:v3.18", "1.0~abc")]
    [InlineData("RubyGems", "1.0 beta")]
    [InlineData("Packagist", "dev-main")]
    public void TryParse_RefusesVersionsTheEcosystemDoesNotDefine(string ecosystem, string version)
    {
        var scheme = Ecosystems.SchemeFor(ecosystem)!;
        Assert.False(scheme.TryParse(version, out _));
        Assert.False(scheme.TryCompare(version, "1.0.0", out _));
    }

    [Theory]
    [InlineData("Hex")]
    [InlineData("Pub")]
    [InlineData("OSS-Fuzz")]
    [InlineData("GIT")]
    [InlineData("purl-type:swift")]
    public void SchemeFor_HasNoOrderingForEcosystemsEnclaveDoesNotOrder(string ecosystem) =>
        Assert.Null(Ecosystems.SchemeFor(ecosystem));

    [Fact]
    public void Compare_HandlesNumbersBeyondLongWithoutOverflow()
    {
        Assert.True(Pep440Scheme.Instance.TryCompare("1.99999999999999999999999999", "1.100000000000000000000000000", out var order));
        Assert.True(order < 0);
        Assert.True(DebianScheme.Instance.TryCompare("1.000000000000000000000000000000000001", "1.2", out order));
        Assert.True(order < 0);
        Assert.True(MavenScheme.Instance.TryCompare("1.123456789012345678901234567890", "1.123456789012345678901234567891", out order));
        Assert.True(order < 0);
    }
}
