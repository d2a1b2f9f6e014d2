using System.Security.Claims;
using Enclave.Policy.Configuration;
using Enclave.Policy.Identity;
using Enclave.Policy.Quotas;
using Microsoft.Extensions.Time.Testing;

namespace Enclave.Policy.Tests;

/// <summary>Quota resolution and durable day/month budgets over a real SQLite file.</summary>
public sealed class QuotaServiceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("enclave-quota-").FullName;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private static ClaimsPrincipal User(string id, params string[] roles) => new(new ClaimsIdentity(
        [new Claim(ClaimTypes.NameIdentifier, id), .. roles.Select(r => new Claim(ClaimTypes.Role, r))], "test"));

    [Fact]
    public void Limits_ComeFromThePrincipal_ElseTheMostGenerousRole_ElseTheDefault()
    {
        using var quotas = new QuotaService(new QuotaSettings
        {
            Default = new QuotaRule { RequestsPerMinute = 1 },
            Roles = new Dictionary<string, QuotaRule>
            {
                [Roles.User] = new() { RequestsPerMinute = 10, TokensPerDay = 100 },
                [Roles.Analyst] = new() { RequestsPerMinute = 20 },
            },
            Principals = [new QuotaRule { Id = "user:vip", RequestsPerMinute = 5 }],
        }, null, TimeProvider.System);

        Assert.Equal(5, quotas.LimitsFor("user:vip", [Roles.Analyst])!.RequestsPerMinute);
        var both = quotas.LimitsFor("user:b", [Roles.User, Roles.Analyst])!;
        Assert.Equal(20, both.RequestsPerMinute);
        Assert.Null(both.TokensPerDay); // the analyst role sets no day budget: unlimited wins
        Assert.Equal(100, quotas.LimitsFor("user:c", [Roles.User])!.TokensPerDay);
        Assert.Equal(1, quotas.LimitsFor("user:d", [Roles.Auditor])!.RequestsPerMinute);
    }

    [Fact]
    public void InvalidSettings_ReportEveryProblem()
    {
        var ex = Assert.Throws<PolicyConfigurationException>(() => new QuotaService(new QuotaSettings
        {
            FlushInterval = TimeSpan.Zero,
            Roles = new Dictionary<string, QuotaRule> { ["superuser"] = new() { RequestsPerMinute = 0 } },
            Principals = [new QuotaRule { RequestsPerDay = 1 }, new QuotaRule { Id = "user:a" }, new QuotaRule { Id = "user:a" }],
        }, null, TimeProvider.System));

        Assert.Equal(5, ex.Problems.Count);
    }

    [Fact]
    public void DayBudget_IsRefusedWithRetryAfterUntilMidnight_SurvivesARestart_AndResetsNextDay()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 3, 14, 22, 0, 0, TimeSpan.Zero));
        var settings = new QuotaSettings { Default = new QuotaRule { RequestsPerDay = 2, TokensPerMonth = 1000 } };
        var alice = User("user:alice", Roles.User);
        using (var quotas = new QuotaService(settings, new QuotaStore(_dir), clock))
        {
            Assert.True(quotas.TryAdmit(alice).Allowed);
            Assert.True(quotas.TryAdmit(alice).Allowed);
            quotas.Charge("user:alice", 600);
            var refused = quotas.TryAdmit(alice);
            Assert.False(refused.Allowed);
            Assert.Equal(QuotaService.RequestsPerDay, refused.Rule);
            Assert.Equal(TimeSpan.FromHours(2), refused.RetryAfter);
            quotas.Flush();
        }

        using (var restarted = new QuotaService(settings, new QuotaStore(_dir), clock))
        {
            Assert.Equal(QuotaService.RequestsPerDay, restarted.TryAdmit(alice).Rule);
            Assert.Equal((2, 600), (restarted.Usage("user:alice").Day.Requests, restarted.Usage("user:alice").Month.Tokens));
            clock.Advance(TimeSpan.FromHours(3));
            Assert.True(restarted.TryAdmit(alice).Allowed);
            restarted.Charge("user:alice", 500);
            var month = restarted.TryAdmit(alice);
            Assert.Equal(QuotaService.TokensPerMonth, month.Rule);
            restarted.Flush();
        }

        using var third = new QuotaService(settings, new QuotaStore(_dir), clock);
        Assert.Equal((1, 1100), (third.Usage("user:alice").Month.Requests - 2, third.Usage("user:alice").Month.Tokens));
    }

    [Fact]
    public void UnflushedUsage_IsLostOnACrash_ByAtMostWhatWasNotFlushed()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 3, 14, 10, 0, 0, TimeSpan.Zero));
        var settings = new QuotaSettings { Default = new QuotaRule { RequestsPerDay = 10 } };
        var bob = User("user:bob");
        var crashed = new QuotaService(settings, new QuotaStore(_dir), clock);
        crashed.TryAdmit(bob);
        crashed.Flush();
        crashed.TryAdmit(bob); // never flushed: the documented crash window

        using var restarted = new QuotaService(settings, new QuotaStore(_dir), clock);
        Assert.Equal(1, restarted.Usage("user:bob").Day.Requests);
        crashed.Dispose();
    }

    [Fact]
    public void TokensPerMinute_RefusesOnceTheBucketIsEmpty()
    {
        using var quotas = new QuotaService(new QuotaSettings { Default = new QuotaRule { TokensPerMinute = 100 } }, null, TimeProvider.System);
        var carol = User("user:carol");

        Assert.True(quotas.TryAdmit(carol).Allowed);
        quotas.Charge("user:carol", 5000); // overruns what was left: allowed to finish, bucket emptied
        var refused = quotas.TryAdmit(carol);

        Assert.False(refused.Allowed);
        Assert.Equal(QuotaService.TokensPerMinute, refused.Rule);
        Assert.True(refused.RetryAfter > TimeSpan.Zero);
    }

    [Fact]
    public void NoQuotasConfigured_PassesWithoutCounting()
    {
        using var quotas = new QuotaService(new QuotaSettings(), new QuotaStore(_dir), TimeProvider.System);

        Assert.False(quotas.Enabled);
        Assert.True(quotas.TryAdmit(User("user:x")).Allowed);
        Assert.Equal(0, quotas.Usage("user:x").Day.Requests);
    }
}
