using Enclave.Policy.Identity;

namespace Enclave.Policy.Tests;

public sealed class PrincipalNamesTests
{
    [Theory]
    [InlineData("alice", true)]
    [InlineData("a", true)]
    [InlineData("0ps", true)]
    [InlineData("ci-pipeline.prod_2", true)]
    [InlineData("alice@example.org", true)]
    [InlineData("", false)]
    [InlineData(null, false)]
    [InlineData("Alice", false)]
    [InlineData("-alice", false)]
    [InlineData(".alice", false)]
    [InlineData("al ice", false)]
    [InlineData("user:alice", false)]
    [InlineData("alice/bob", false)]
    [InlineData("älice", false)]
    [InlineData("alice\n", false)]
    public void IsValid_AcceptsOnlyLowerCaseAsciiNames(string? name, bool valid) => Assert.Equal(valid, PrincipalNames.IsValid(name));

    [Fact]
    public void IsValid_BoundsTheLength()
    {
        Assert.True(PrincipalNames.IsValid(new string('a', PrincipalNames.MaxLength)));
        Assert.False(PrincipalNames.IsValid(new string('a', PrincipalNames.MaxLength + 1)));
    }

    [Theory]
    [InlineData("user:alice", PrincipalKind.User, "alice")]
    [InlineData("service:ci", PrincipalKind.Service, "ci")]
    public void Ids_RoundTrip(string id, PrincipalKind kind, string name)
    {
        Assert.Equal(id, PrincipalNames.IdOf(kind, name));
        Assert.True(PrincipalNames.TryParseId(id, out var parsedKind, out var parsedName));
        Assert.Equal(kind, parsedKind);
        Assert.Equal(name, parsedName);
    }

    [Theory]
    [InlineData("alice")]
    [InlineData("key:0123456789ab")]
    [InlineData("oidc:f3a1")]
    [InlineData("user:")]
    [InlineData("user:Alice")]
    [InlineData("user:user:alice")]
    [InlineData("USER:alice")]
    [InlineData(null)]
    public void TryParseId_RefusesAnythingElse(string? id) => Assert.False(PrincipalNames.TryParseId(id, out _, out _));

    [Theory]
    [InlineData("user", true, PrincipalKind.User)]
    [InlineData("service", true, PrincipalKind.Service)]
    [InlineData("Service", false, PrincipalKind.User)]
    [InlineData("robot", false, PrincipalKind.User)]
    [InlineData(null, false, PrincipalKind.User)]
    public void TryParseKind(string? text, bool ok, PrincipalKind kind)
    {
        Assert.Equal(ok, PrincipalNames.TryParseKind(text, out var parsed));
        Assert.Equal(kind, parsed);
    }
}
