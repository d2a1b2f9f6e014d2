using System.Text.Json.Nodes;
using Enclave.Inference.Backends;
using Enclave.Inference.Upstream;
using static Enclave.Inference.Tests.Upstream.UpstreamTestKit;

namespace Enclave.Inference.Tests.Upstream;

public sealed class UpstreamRouterTests
{
    private static readonly Func<UpstreamBackendOptions, bool> AnyBackend = _ => true;

    [Fact]
    public async Task AllFiveCalls_GoThroughTheRouter_AndTheCallNamesTheBackend()
    {
        await using var stub = await VllmStub.StartAsync("vllm-a");
        using var router = new UpstreamRouter(RouterOptions(OptionsFor(stub)));
        var call = new UpstreamCall(AnyBackend);
        var backend = router.For(call);

        var chat = await backend.ChatAsync(ChatRequest(), CancellationToken.None);
        var completion = await backend.CompletionAsync(CompletionRequest(), CancellationToken.None);
        var embeddings = await backend.EmbeddingsAsync(new JsonObject { ["model"] = "stub-model", ["input"] = "text" }, CancellationToken.None);
        var chatChunks = await ToListAsync(backend.ChatStreamAsync(StreamingChatRequest(), CancellationToken.None));
        var completionChunks = await ToListAsync(backend.CompletionStreamAsync(CompletionRequest(), CancellationToken.None));

        Assert.Equal("Hello from vllm-a", ContentOf(chat.Body));
        Assert.Equal(new TokenUsage(7, 3), chat.Usage);
        Assert.Equal(new TokenUsage(3, 5), completion.Usage);
        Assert.Single(embeddings.Body["data"]!.AsArray());
        Assert.Equal(new TokenUsage(7, 3), UpstreamUsage.Read(chatChunks[^1]));
        Assert.Equal(3, completionChunks.Count);
        Assert.Equal("vllm-a", backend.Name);
        Assert.Equal("vllm-a", call.Backend);
        Assert.All(call.Attempts, a => Assert.Equal(200, a.StatusCode));
        Assert.Equal(0, router.Status().Single().Outstanding);
    }

    [Fact]
    public async Task RateLimitedThenSuccess_RetriesOnlyAfterTheRetryAfter()
    {
        await using var stub = await VllmStub.StartAsync("vllm-a");
        stub.Faults.Enqueue(new StubFault(FaultKind.RateLimited, RetryAfter: "2"));
        var time = new ManualTimeProvider();
        using var router = new UpstreamRouter(RouterOptions(OptionsFor(stub)), time);
        var call = new UpstreamCall(AnyBackend);

        var pending = router.ChatAsync(ChatRequest(), call, CancellationToken.None);
        await EventuallyAsync(() => time.HasTimerDueIn(TimeSpan.FromSeconds(2)), "the router waits out Retry-After: 2");
        Assert.Equal(1, stub.ChatRequests);
        Assert.False(pending.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(2));
        var response = await Within(pending);

        Assert.Equal("Hello from vllm-a", ContentOf(response.Body));
        Assert.Equal(2, stub.ChatRequests);
        Assert.Equal(
            [new UpstreamAttempt("vllm-a", 429, "rate_limit_exceeded", TimeSpan.Zero), new UpstreamAttempt("vllm-a", 200, null, TimeSpan.FromSeconds(2))],
            call.Attempts);
    }

    [Fact]
    public async Task RetryAfterLongerThanTheMaximumWait_FailsAtOnceWith429CarryingIt()
    {
        await using var stub = await VllmStub.StartAsync("vllm-a");
        stub.Faults.Enqueue(new StubFault(FaultKind.RateLimited, RetryAfter: "3600"));
        var time = new ManualTimeProvider();
        using var router = new UpstreamRouter(RouterOptions(OptionsFor(stub)), time);

        var error = await Assert.ThrowsAsync<BackendException>(() => Within(router.ChatAsync(ChatRequest(), new UpstreamCall(AnyBackend), CancellationToken.None)));

        Assert.Equal(429, error.StatusCode);
        Assert.Equal(TimeSpan.FromHours(1), error.RetryAfter);
        Assert.Equal(1, stub.ChatRequests);

        // The backend asked to be left alone for an hour: the next request does not call it either.
        var again = await Assert.ThrowsAsync<BackendException>(() => Within(router.ChatAsync(ChatRequest(), new UpstreamCall(AnyBackend), CancellationToken.None)));
        Assert.Equal(429, again.StatusCode);
        Assert.Equal(TimeSpan.FromHours(1), again.RetryAfter);
        Assert.Equal(1, stub.ChatRequests);
    }

    [Fact]
    public async Task RetryAfterLongerThanTheMaximumWait_FailsOverToAnotherBackend()
    {
        await using var limited = await VllmStub.StartAsync("limited");
        await using var spare = await VllmStub.StartAsync("spare");
        limited.FailAll = 429;
        limited.FailRetryAfter = "3600";
        using var router = new UpstreamRouter(RouterOptions(OptionsFor(limited), OptionsFor(spare)), new ManualTimeProvider());

        for (var i = 0; i < 4; i++)
        {
            var response = await Within(router.ChatAsync(ChatRequest(), new UpstreamCall(AnyBackend), CancellationToken.None));
            Assert.Equal("Hello from spare", ContentOf(response.Body));
        }

        Assert.Equal(1, limited.ChatRequests); // tried once (ties rotate), then left alone for its Retry-After
        Assert.Equal(4, spare.ChatRequests);
    }

    [Fact]
    public async Task ServerError_FailsOverToTheSecondBackend_WhichIsThenPreferred()
    {
        await using var broken = await VllmStub.StartAsync("broken");
        await using var healthy = await VllmStub.StartAsync("healthy");
        broken.FailAll = 500;
        using var router = new UpstreamRouter(RouterOptions(OptionsFor(broken), OptionsFor(healthy)));
        var calls = new List<UpstreamCall>();

        for (var i = 0; i < 4; i++)
        {
            var call = new UpstreamCall(AnyBackend);
            calls.Add(call);
            var response = await router.ChatAsync(ChatRequest(), call, CancellationToken.None);
            Assert.Equal("Hello from healthy", ContentOf(response.Body));
            Assert.Equal("healthy", call.Backend);
        }

        // Ties rotate, so one of the first two requests tried the broken backend first and failed over; after that
        // failure the broken backend is suspect and no longer chosen while the healthy one is ready.
        var failedOver = Assert.Single(calls, c => c.Attempts.Count == 2);
        Assert.Equal(["broken", "healthy"], failedOver.Attempts.Select(a => a.Backend));
        Assert.Equal(500, failedOver.Attempts[0].StatusCode);
        Assert.Equal(1, broken.ChatRequests);
        Assert.Equal(UpstreamHealth.Suspect, router.Status().Single(s => s.Name == "broken").Health);
    }

    [Fact]
    public async Task Retries_NeverGoToADisallowedBackend_EvenWhenTheAllowedOneFails()
    {
        await using var allowed = await VllmStub.StartAsync("secret-enclave");
        await using var disallowed = await VllmStub.StartAsync("cloud");
        allowed.FailAll = 503;
        using var router = new UpstreamRouter(RouterOptions(
            OptionsFor(allowed, "SECRET"),
            OptionsFor(disallowed) with { Labels = new UpstreamLabels { Classification = "UNCLASSIFIED", Jurisdiction = "US" } }));
        var call = new UpstreamCall(options => options.Labels.Classification == "SECRET");

        var error = await Assert.ThrowsAsync<BackendException>(() => router.ChatAsync(ChatRequest(), call, CancellationToken.None));
        var streamError = await Assert.ThrowsAsync<BackendException>(() => ToListAsync(router.ChatStreamAsync(StreamingChatRequest(), new UpstreamCall(o => o.Name == "secret-enclave"), CancellationToken.None)));

        Assert.Equal(503, error.StatusCode);
        Assert.Equal(503, streamError.StatusCode);
        Assert.Equal(0, disallowed.Requests);
        Assert.Equal(3 + 3, allowed.ChatRequests);
        Assert.All(call.Attempts, a => Assert.Equal("secret-enclave", a.Backend));
    }

    [Fact]
    public async Task NoAllowedBackend_Is403_AndUnknownModelIs404_WithoutAnyRequest()
    {
        await using var stub = await VllmStub.StartAsync("vllm-a");
        using var router = new UpstreamRouter(RouterOptions(OptionsFor(stub)));

        var forbidden = await Assert.ThrowsAsync<BackendException>(() => router.ChatAsync(ChatRequest(), new UpstreamCall(_ => false), CancellationToken.None));
        var unknown = await Assert.ThrowsAsync<BackendException>(() => router.ChatAsync(ChatRequest("other-model"), new UpstreamCall(AnyBackend), CancellationToken.None));
        var noModel = await Assert.ThrowsAsync<BackendException>(() => router.ChatAsync(new JsonObject(), new UpstreamCall(AnyBackend), CancellationToken.None));

        Assert.Equal(403, forbidden.StatusCode);
        Assert.Equal(404, unknown.StatusCode);
        Assert.Equal(400, noModel.StatusCode);
        Assert.Equal(0, stub.Requests);
    }

    [Fact]
    public async Task NonRetryableError_IsReturnedAtOnce_WithoutFailover()
    {
        await using var a = await VllmStub.StartAsync("a");
        await using var b = await VllmStub.StartAsync("b");
        a.Faults.Enqueue(new StubFault(FaultKind.BadRequest));
        b.Faults.Enqueue(new StubFault(FaultKind.BadRequest));
        using var router = new UpstreamRouter(RouterOptions(OptionsFor(a), OptionsFor(b)));

        var error = await Assert.ThrowsAsync<BackendException>(() => router.ChatAsync(ChatRequest(), new UpstreamCall(AnyBackend), CancellationToken.None));

        Assert.Equal(400, error.StatusCode);
        Assert.Equal(1, a.ChatRequests + b.ChatRequests);
    }

    [Fact]
    public async Task LeastOutstanding_PicksTheIdleBackend_WhileAnotherHasASlowRequestInFlight()
    {
        await using var a = await VllmStub.StartAsync("a");
        await using var b = await VllmStub.StartAsync("b");
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        a.Hold = hold.Task;
        b.Hold = hold.Task;
        using var router = new UpstreamRouter(RouterOptions(OptionsFor(a), OptionsFor(b)));
        var first = new UpstreamCall(AnyBackend);
        var second = new UpstreamCall(AnyBackend);

        var slow = router.ChatAsync(ChatRequest(), first, CancellationToken.None);
        await EventuallyAsync(() => a.ChatRequests + b.ChatRequests == 1, "one backend holds the first request");
        var busy = a.ChatRequests == 1 ? a : b;
        var idle = busy == a ? b : a;
        Assert.Equal(1, router.Status().Single(s => s.Name == busy.Name).Outstanding);

        var next = router.ChatAsync(ChatRequest(), second, CancellationToken.None);
        await EventuallyAsync(() => idle.ChatRequests == 1, "the second request reaches the idle backend");
        hold.SetResult();
        await Within(Task.WhenAll(slow, next));

        Assert.Equal(1, busy.ChatRequests);
        Assert.Equal(busy.Name, first.Backend);
        Assert.Equal(idle.Name, second.Backend);
        Assert.All(router.Status(), s => Assert.Equal(0, s.Outstanding));
    }

    [Fact]
    public async Task OpenStream_CountsAsOutstanding_UntilItEnds()
    {
        await using var a = await VllmStub.StartAsync("a");
        await using var b = await VllmStub.StartAsync("b");
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        a.StreamGate = gate.Task;
        b.StreamGate = gate.Task;
        using var router = new UpstreamRouter(RouterOptions(OptionsFor(a), OptionsFor(b)));
        var streamCall = new UpstreamCall(AnyBackend);

        await using (var stream = router.ChatStreamAsync(ChatRequest(), streamCall, CancellationToken.None).GetAsyncEnumerator())
        {
            Assert.True(await Within(stream.MoveNextAsync()));
            var streaming = streamCall.Backend!;
            Assert.Equal(1, router.Status().Single(s => s.Name == streaming).Outstanding);

            var other = new UpstreamCall(AnyBackend);
            await router.CompletionAsync(CompletionRequest(), other, CancellationToken.None);
            Assert.NotEqual(streaming, other.Backend);
            gate.SetResult();
        }

        Assert.All(router.Status(), s => Assert.Equal(0, s.Outstanding));
    }

    [Fact]
    public async Task HealthChecks_MarkADeadBackendDown_AndTrafficAvoidsIt_UntilItRecovers()
    {
        await using var dead = await VllmStub.StartAsync("dead");
        await using var live = await VllmStub.StartAsync("live");
        dead.Down = true;
        var time = new ManualTimeProvider();
        using var router = new UpstreamRouter(RouterOptions(OptionsFor(dead), OptionsFor(live)), time);

        router.StartHealthChecks();
        time.Advance(TimeSpan.Zero);
        await EventuallyAsync(
            () => router.Status().Single(s => s.Name == "dead").Health == UpstreamHealth.Down
                && router.Status().Single(s => s.Name == "live").Health == UpstreamHealth.Up,
            "the first health checks have run");

        for (var i = 0; i < 6; i++)
        {
            var call = new UpstreamCall(AnyBackend);
            await router.ChatAsync(ChatRequest(), call, CancellationToken.None);
            Assert.Equal(["live"], call.Attempts.Select(a => a.Backend));
        }

        Assert.Equal(0, dead.ChatRequests);
        Assert.True(dead.ModelRequests >= 1);

        dead.Down = false;
        time.Advance(TimeSpan.FromSeconds(10));
        await EventuallyAsync(() => router.Status().Single(s => s.Name == "dead").Health == UpstreamHealth.Up, "the next health check finds it back");
        for (var i = 0; i < 4; i++)
        {
            await router.ChatAsync(ChatRequest(), new UpstreamCall(AnyBackend), CancellationToken.None);
        }

        Assert.True(dead.ChatRequests > 0, "a recovered backend takes traffic again");
        Assert.NotNull(router.Status().Single(s => s.Name == "dead").LastHealthCheck);
    }

    [Fact]
    public async Task DownBackend_IsStillTriedAsALastResort()
    {
        await using var only = await VllmStub.StartAsync("only");
        only.Down = true;
        using var router = new UpstreamRouter(RouterOptions(OptionsFor(only)));
        await router.CheckHealthAsync(CancellationToken.None);
        Assert.Equal(UpstreamHealth.Down, router.Status().Single().Health);

        only.Down = false;
        var response = await router.ChatAsync(ChatRequest(), new UpstreamCall(AnyBackend), CancellationToken.None);

        Assert.Equal("Hello from only", ContentOf(response.Body));
        Assert.Equal(UpstreamHealth.Up, router.Status().Single().Health);
    }

    [Fact]
    public async Task Stream_FailsOverBeforeTheFirstChunk()
    {
        await using var broken = await VllmStub.StartAsync("broken");
        await using var healthy = await VllmStub.StartAsync("healthy");
        broken.FailAll = 502;
        using var router = new UpstreamRouter(RouterOptions(OptionsFor(broken), OptionsFor(healthy)));
        var calls = new List<UpstreamCall>();

        for (var i = 0; i < 2; i++)
        {
            var call = new UpstreamCall(AnyBackend);
            calls.Add(call);
            var chunks = await ToListAsync(router.ChatStreamAsync(StreamingChatRequest(), call, CancellationToken.None));
            Assert.Equal("healthy", call.Backend);
            Assert.Equal(new TokenUsage(7, 3), UpstreamUsage.Read(chunks[^1]));
        }

        Assert.Equal(["broken", "healthy"], Assert.Single(calls, c => c.Attempts.Count == 2).Attempts.Select(a => a.Backend));
        Assert.Equal(1, broken.ChatRequests);
    }

    [Fact]
    public async Task Stream_DroppedAfterTheFirstChunk_IsNotRetriedNorFailedOver()
    {
        await using var a = await VllmStub.StartAsync("a");
        await using var b = await VllmStub.StartAsync("b");
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        foreach (var stub in new[] { a, b })
        {
            stub.StreamGate = gate.Task;
            stub.Faults.Enqueue(new StubFault(FaultKind.DropMidStream, AfterChunks: 1));
        }

        using var router = new UpstreamRouter(RouterOptions(OptionsFor(a), OptionsFor(b)));
        var call = new UpstreamCall(AnyBackend);
        var received = 0;

        var error = await Assert.ThrowsAsync<BackendException>(async () =>
        {
            await foreach (var chunk in router.ChatStreamAsync(ChatRequest(), call, CancellationToken.None))
            {
                received++;
                gate.TrySetResult();
            }
        });

        Assert.Equal(1, received);
        Assert.Equal("stream_interrupted", error.ErrorType);
        Assert.Equal(1, a.ChatRequests + b.ChatRequests);
        Assert.Single(call.Attempts);
        Assert.Equal(UpstreamHealth.Suspect, router.Status().Single(s => s.Name == call.Backend).Health);
        Assert.All(router.Status(), s => Assert.Equal(0, s.Outstanding));
    }

    [Fact]
    public async Task ServerErrors_AreRetriedOnTheSameBackend_UpToMaxRetries()
    {
        await using var stub = await VllmStub.StartAsync("vllm-a");
        stub.Faults.Enqueue(new StubFault(FaultKind.ServerError));
        stub.Faults.Enqueue(new StubFault(FaultKind.ServerError, Status: 503));
        using var router = new UpstreamRouter(RouterOptions(OptionsFor(stub) with { MaxRetries = 2 }));
        var call = new UpstreamCall(AnyBackend);

        var response = await router.ChatAsync(ChatRequest(), call, CancellationToken.None);

        Assert.Equal("Hello from vllm-a", ContentOf(response.Body));
        Assert.Equal([500, 503, 200], call.Attempts.Select(a => a.StatusCode));

        stub.FailAll = 500;
        var exhausted = new UpstreamCall(AnyBackend);
        var error = await Assert.ThrowsAsync<BackendException>(() => router.ChatAsync(ChatRequest(), exhausted, CancellationToken.None));
        Assert.Equal(500, error.StatusCode);
        Assert.Equal(3, exhausted.Attempts.Count);
        Assert.Contains("3 attempt(s) over 1 allowed backend(s)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Backoff_WaitsOnTheTimeProvider_BeforeRetryingTheSameBackend()
    {
        await using var stub = await VllmStub.StartAsync("vllm-a");
        stub.Faults.Enqueue(new StubFault(FaultKind.ServerError));
        var time = new ManualTimeProvider();
        using var router = new UpstreamRouter(RouterOptions(OptionsFor(stub)) with { RetryBackoff = TimeSpan.FromMilliseconds(300) }, time);
        var call = new UpstreamCall(AnyBackend);

        var pending = router.ChatAsync(ChatRequest(), call, CancellationToken.None);
        await EventuallyAsync(() => time.HasTimerDueIn(TimeSpan.FromMilliseconds(300)), "the router backs off");
        Assert.Equal(1, stub.ChatRequests);
        time.Advance(TimeSpan.FromMilliseconds(300));
        await Within(pending);

        Assert.Equal(2, stub.ChatRequests);
        Assert.Equal(TimeSpan.FromMilliseconds(300), call.Attempts[1].Waited);
    }

    [Fact]
    public void Constructor_ReportsEveryProblem_AndUnresolvedKeysByVariableName()
    {
        var duplicate = new UpstreamBackendOptions
        {
            Name = "a",
            BaseUrl = "http://127.0.0.1:8000/v1",
            Models = ["m"],
            Labels = new UpstreamLabels { Classification = "UNCLASSIFIED", Jurisdiction = "FR" },
        };
        var invalid = Assert.Throws<UpstreamConfigurationException>(() => new UpstreamRouter(new UpstreamOptions { Backends = [duplicate, duplicate with { Name = "A" }], MaxAttempts = 0 }));
        Assert.Equal(2, invalid.Problems.Count);

        var unresolved = Assert.Throws<UpstreamConfigurationException>(() => new UpstreamRouter(
            new UpstreamOptions { Backends = [duplicate with { ApiKeyReference = "env:MISSING_ONE" }, duplicate with { Name = "b", ApiKeyReference = "MISSING_TWO" }] },
            getEnvironmentVariable: _ => null));
        Assert.Equal(2, unresolved.Problems.Count);
        Assert.Contains(unresolved.Problems, p => p.Contains("MISSING_ONE", StringComparison.Ordinal));
        Assert.Contains(unresolved.Problems, p => p.Contains("MISSING_TWO", StringComparison.Ordinal));
    }
}
