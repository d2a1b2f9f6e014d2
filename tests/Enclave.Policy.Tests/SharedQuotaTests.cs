using System.Security.Claims;
using Enclave.Policy.Identity;
using Enclave.Policy.Quotas;
using Enclave.State;
using Enclave.State.Quotas;
using Enclave.State.Tests.Postgres;
using Microsoft.Extensions.Time.Testing;

namespace Enclave.Policy.Tests;

/// <summary>
/// Day and month budgets shared by two replicas on one real PostgreSQL database: each counts in memory, flushes its
/// increments in one transaction per flush, and takes in what the other used when it flushes.
/// </summary>
public sealed class SharedQuotaTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("enclave-shared-quota-").FullName;
    private readonly string _connection = PostgresServer.Shared.CreateDatabase("quota");
    private readonly List<StateConnectionFactory> _states = [];

    public void Dispose()
    {
        foreach (var state in _states)
        {
            ((IDisposable)state).Dispose();
        }

        PostgresServer.Shared.DropDatabase(_connection);
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public void TwoReplicas_ShareTheDayBudget_OnceEachHasFlushed()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 3, 14, 10, 0, 0, TimeSpan.Zero));
        var settings = new QuotaSettings { Default = new QuotaRule { RequestsPerDay = 10, TokensPerDay = 1000 } };
        var dave = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, "user:dave"), new Claim(ClaimTypes.Role, Roles.User)], "test"));
        using var a = new QuotaService(settings, Store("a"), clock);
        using var b = new QuotaService(settings, Store("b"), clock);

        for (var i = 0; i < 6; i++)
        {
            Assert.True(a.TryAdmit(dave).Allowed);
        }

        a.Charge("user:dave", 400);
        a.Flush();
        for (var i = 0; i < 3; i++)
        {
            Assert.True(b.TryAdmit(dave).Allowed);
        }

        b.Flush(); // writes B's 3 and takes in A's 6 and 400 tokens
        Assert.Equal((9, 400), (b.Usage("user:dave").Day.Requests, b.Usage("user:dave").Day.Tokens));
        Assert.True(b.TryAdmit(dave).Allowed);
        Assert.Equal(QuotaService.RequestsPerDay, b.TryAdmit(dave).Rule);

        b.Flush();
        a.Flush(); // A takes in B's 4
        Assert.Equal(10, a.Usage("user:dave").Day.Requests);
        Assert.Equal(QuotaService.RequestsPerDay, a.TryAdmit(dave).Rule);

        // The table holds each request once, whichever replica counted it.
        using var c = new QuotaService(settings, Store("c"), clock);
        Assert.Equal((10, 400), (c.Usage("user:dave").Day.Requests, c.Usage("user:dave").Day.Tokens));
    }

    private QuotaStore Store(string name)
    {
        var directory = Path.Combine(_root, name);
        Directory.CreateDirectory(directory);
        var state = EnclaveState.Open(directory, new StateSettings { Provider = StateProvider.Postgres, ConnectionString = _connection }, TimeProvider.System);
        _states.Add(state);
        return new QuotaStore(new SqliteQuotaStore(state));
    }
}
