using Enclave.Inference.Backends;
using Enclave.Inference.Upstream;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using static Enclave.Inference.Tests.Upstream.UpstreamTestKit;

namespace Enclave.Inference.Tests.Upstream;

/// <summary>The router logs health changes, failed attempts, fail-overs and exhaustion, each under its own event ID.</summary>
public sealed class UpstreamRouterLoggingTests
{
    private static readonly Func<UpstreamBackendOptions, bool> AnyBackend = _ => true;

    [Fact]
    public async Task ServerError_LogsTheFailedAttempt_TheFailOver_AndBothHealthChanges()
    {
        await using var broken = await VllmStub.StartAsync("broken");
        await using var healthy = await VllmStub.StartAsync("healthy");
        broken.FailAll = 500;
        var logger = new FakeLogger<UpstreamRouter>();
        using var router = new UpstreamRouter(RouterOptions(OptionsFor(broken), OptionsFor(healthy)), logger: logger);

        // Ties rotate: within two requests one tries the broken backend first and fails over.
        for (var i = 0; i < 2; i++)
        {
            await Within(router.ChatAsync(ChatRequest(), new UpstreamCall(AnyBackend), CancellationToken.None));
        }

        var records = logger.Collector.GetSnapshot();
        var failed = Assert.Single(records, r => r.Id.Id == 6003);
        Assert.Equal(LogLevel.Warning, failed.Level);
        Assert.Contains("upstream backend broken answered 500", failed.Message, StringComparison.Ordinal);
        Assert.Contains("model stub-model", failed.Message, StringComparison.Ordinal);

        var failover = Assert.Single(records, r => r.Id.Id == 6005);
        Assert.Equal("request for model stub-model failed over from upstream backend broken to healthy", failover.Message);

        var health = records.Where(r => r.Id.Id == 6001).Select(r => r.Message).ToList();
        Assert.Contains("upstream backend broken is Suspect (was Unknown), after a request failed", health);
        Assert.Contains("upstream backend healthy is Up (was Unknown), after a request succeeded", health);

        // Health is logged when it changes, not on every request: the healthy backend's later successes add nothing.
        Assert.Single(health, m => m.StartsWith("upstream backend healthy", StringComparison.Ordinal));
    }

    [Fact]
    public async Task EveryBackendFailing_LogsEachAttempt_ThenExhaustion_WithTheStatusAnswered()
    {
        await using var broken = await VllmStub.StartAsync("broken");
        broken.FailAll = 503;
        var logger = new FakeLogger<UpstreamRouter>();
        using var router = new UpstreamRouter(RouterOptions(OptionsFor(broken)), logger: logger);

        var error = await Assert.ThrowsAsync<BackendException>(() => Within(router.ChatAsync(ChatRequest(), new UpstreamCall(AnyBackend), CancellationToken.None)));

        var records = logger.Collector.GetSnapshot();
        Assert.Equal(broken.ChatRequests, records.Count(r => r.Id.Id == 6003));
        Assert.DoesNotContain(records, r => r.Id.Id == 6005); // one backend: nothing to fail over to
        var exhausted = Assert.Single(records, r => r.Id.Id == 6006);
        Assert.Equal(LogLevel.Warning, exhausted.Level);
        Assert.Contains($"answered {error.StatusCode}", exhausted.Message, StringComparison.Ordinal);
        Assert.Contains($"{broken.ChatRequests} attempt(s) over 1 allowed backend(s)", exhausted.Message, StringComparison.Ordinal);
    }
}
