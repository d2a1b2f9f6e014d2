using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Enclave.Inference.Backends;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Enclave.Inference.Upstream;

/// <summary>
/// Sends each request to one of the upstream backends that serve its model and that the request may reach, retries
/// and fails over among those only.
/// </summary>
/// <remarks>
/// <para>
/// Choice: among the allowed backends serving the request's <c>model</c>, the one with the fewest requests in flight,
/// preferring up (or unchecked) backends to suspect ones (a request failed since the last success), and both to down
/// ones (the last health check failed), which are tried only when nothing else is left. Ties rotate.
/// </para>
/// <para>
/// Retries: a retryable failure (<see cref="BackendException.Retryable"/>: 429, 5xx, connection failure, timeout) is
/// retried on the next choice, which is another backend when one is ready. A backend that answered 429/503 with
/// <c>Retry-After</c> is not called again before that time, by this request or any other; when the time is longer than
/// <see cref="UpstreamOptions.MaxRetryWait"/> it is not retried within the request at all, and if no other backend
/// answers, the request fails with that 429/503 and its <c>Retry-After</c>. Other failures back off
/// (<see cref="UpstreamOptions.RetryBackoff"/>, doubling). Each backend gets at most
/// <see cref="UpstreamBackendOptions.MaxRetries"/> retries and the request <see cref="UpstreamOptions.MaxAttempts"/>
/// attempts in all. Non-retryable failures (400, 404...) are returned at once.
/// </para>
/// <para>
/// Streams are retried or failed over only until their first chunk: after it, a failure reaches the caller.
/// </para>
/// <para>
/// Time (waits, Retry-After, health-check intervals) comes from the <see cref="TimeProvider"/>.
/// </para>
/// </remarks>
public sealed class UpstreamRouter : IDisposable
{
    private readonly UpstreamBackendState[] _backends;
    private readonly UpstreamOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private int _rotation;
    private volatile IReadOnlyDictionary<string, string> _withdrawn = new Dictionary<string, string>(StringComparer.Ordinal);
    private bool _healthChecksStarted;
    private bool _disposed;

    /// <summary>Validates the options, resolves every backend's API key and creates the backends.</summary>
    /// <param name="options">The backends and the routing bounds.</param>
    /// <param name="timeProvider">The clock of waits, Retry-After and health checks; default the system's.</param>
    /// <param name="getEnvironmentVariable">Reads the variables API key references name; default the process environment.</param>
    /// <param name="logger">Health changes, retries and fail-overs (event IDs 6001–6006); default none.</param>
    /// <exception cref="UpstreamConfigurationException">Every problem with the options and the key references.</exception>
    public UpstreamRouter(UpstreamOptions options, TimeProvider? timeProvider = null, Func<string, string?>? getEnvironmentVariable = null, ILogger<UpstreamRouter>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new List<string>(options.Validate());
        if (problems.Count > 0)
        {
            throw new UpstreamConfigurationException(problems);
        }

        var keys = new string?[options.Backends.Count];
        for (var i = 0; i < keys.Length; i++)
        {
            try
            {
                keys[i] = UpstreamApiKey.Resolve(options.Backends[i].ApiKeyReference, options.Backends[i].Name, getEnvironmentVariable);
            }
            catch (UpstreamConfigurationException e)
            {
                problems.AddRange(e.Problems);
            }
        }

        if (problems.Count > 0)
        {
            throw new UpstreamConfigurationException(problems);
        }

        _options = options;
        _time = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _backends = new UpstreamBackendState[keys.Length];
        for (var i = 0; i < keys.Length; i++)
        {
            _backends[i] = new UpstreamBackendState(new OpenAiUpstreamBackend(options.Backends[i], keys[i], _time), _time, _logger);
        }
    }

    /// <summary>Every backend's health and load now.</summary>
    public IReadOnlyList<UpstreamBackendStatus> Status() => [.. _backends.Select(b => b.Snapshot())];

    /// <summary>The backends taken out of routing (<see cref="Withdraw"/>), by name, with why.</summary>
    public IReadOnlyDictionary<string, string> Withdrawn => _withdrawn;

    /// <summary>The configured backends: name and base URL (e.g. to check their hosts against threat intelligence).</summary>
    public IReadOnlyList<(string Name, string BaseUrl)> Backends => [.. _backends.Select(b => (b.Backend.Name, b.Backend.Options.BaseUrl))];

    /// <summary>
    /// Takes exactly these backends out of routing (name → why), replacing the previous set: a backend not named
    /// returns. A request whose only allowed backends are withdrawn gets 503 with the reason.
    /// </summary>
    public void Withdraw(IReadOnlyDictionary<string, string> backends)
    {
        ArgumentNullException.ThrowIfNull(backends);
        _withdrawn = new Dictionary<string, string>(backends, StringComparer.Ordinal);
    }

    /// <summary>Whether any configured backend serves <paramref name="model"/>.</summary>
    public bool Serves(string model) => _backends.Any(b => b.Backend.Serves(model));

    /// <summary>The router as one <see cref="IInferenceBackend"/> for one request; its name is the backend that answered.</summary>
    public IInferenceBackend For(UpstreamCall call)
    {
        ArgumentNullException.ThrowIfNull(call);
        return new RoutedUpstreamBackend(this, call);
    }

    /// <summary>
    /// Starts periodic health checks: each backend's <see cref="UpstreamBackendOptions.HealthCheckPath"/> every
    /// <see cref="UpstreamBackendOptions.HealthCheckInterval"/>, the first at once. Stopped by <see cref="Dispose"/>.
    /// </summary>
    public void StartHealthChecks()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_healthChecksStarted)
            {
                return;
            }

            _healthChecksStarted = true;
        }

        foreach (var backend in _backends)
        {
            backend.StartHealthChecks(_stopping.Token);
        }
    }

    /// <summary>Checks every backend's health once now (at start-up, or for <c>/readyz</c>).</summary>
    public async Task CheckHealthAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        await Task.WhenAll(_backends.Select(b => b.CheckHealthOnceAsync(linked.Token, skipIfRunning: false))).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
    }

    /// <summary><c>POST /v1/chat/completions</c> on an allowed backend.</summary>
    public Task<BackendResponse> ChatAsync(InferenceRequest request, UpstreamCall call, CancellationToken cancellationToken) =>
        SendAsync(request, call, static (backend, body, token) => backend.ChatAsync(body, token), cancellationToken);

    /// <summary><c>POST /v1/completions</c> on an allowed backend.</summary>
    public Task<BackendResponse> CompletionAsync(InferenceRequest request, UpstreamCall call, CancellationToken cancellationToken) =>
        SendAsync(request, call, static (backend, body, token) => backend.CompletionAsync(body, token), cancellationToken);

    /// <summary><c>POST /v1/embeddings</c> on an allowed backend.</summary>
    public Task<BackendResponse> EmbeddingsAsync(InferenceRequest request, UpstreamCall call, CancellationToken cancellationToken) =>
        SendAsync(request, call, static (backend, body, token) => backend.EmbeddingsAsync(body, token), cancellationToken);

    /// <summary>Streaming chat on an allowed backend; retried and failed over only before the first chunk.</summary>
    public IAsyncEnumerable<JsonObject> ChatStreamAsync(InferenceRequest request, UpstreamCall call, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(call);
        return StreamAsync(request, call, static (backend, body, token) => backend.ChatStreamAsync(body, token), cancellationToken);
    }

    /// <summary>Streaming completion on an allowed backend; retried and failed over only before the first chunk.</summary>
    public IAsyncEnumerable<JsonObject> CompletionStreamAsync(InferenceRequest request, UpstreamCall call, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(call);
        return StreamAsync(request, call, static (backend, body, token) => backend.CompletionStreamAsync(body, token), cancellationToken);
    }

    /// <summary>Stops health checks and closes every backend's connections.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        _stopping.Cancel();
        foreach (var backend in _backends)
        {
            backend.Dispose();
        }
    }

    private async Task<BackendResponse> SendAsync(
        InferenceRequest request,
        UpstreamCall call,
        Func<OpenAiUpstreamBackend, InferenceRequest, CancellationToken, Task<BackendResponse>> send,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (state, response) = await RouteAsync(ModelOf(request), call, (s, token) => send(s.Backend, call.BodyFor(s.Backend.Options, request), token), cancellationToken).ConfigureAwait(false);
        state.Exit();
        return response;
    }

    private async IAsyncEnumerable<JsonObject> StreamAsync(
        InferenceRequest request,
        UpstreamCall call,
        Func<OpenAiUpstreamBackend, InferenceRequest, CancellationToken, IAsyncEnumerable<JsonObject>> open,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var (state, started) = await RouteAsync(
            ModelOf(request),
            call,
            (s, token) => StartStreamAsync(open(s.Backend, call.BodyFor(s.Backend.Options, request), token), token),
            cancellationToken).ConfigureAwait(false);
        try
        {
            if (started.First is null)
            {
                yield break;
            }

            yield return started.First;
            while (await MoveNextAsync(state, started.Rest).ConfigureAwait(false))
            {
                yield return started.Rest.Current;
            }
        }
        finally
        {
            await started.Rest.DisposeAsync().ConfigureAwait(false);
            state.Exit();
        }
    }

    /// <summary>Opens a stream and waits for its first chunk: until then a failure is a failed attempt that may be retried.</summary>
    private static async Task<StartedStream> StartStreamAsync(IAsyncEnumerable<JsonObject> stream, CancellationToken cancellationToken)
    {
        var enumerator = stream.GetAsyncEnumerator(cancellationToken);
        var started = false;
        try
        {
            var first = await enumerator.MoveNextAsync().ConfigureAwait(false) ? enumerator.Current : null;
            started = true;
            return new StartedStream(enumerator, first);
        }
        finally
        {
            if (!started)
            {
                await enumerator.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static async ValueTask<bool> MoveNextAsync(UpstreamBackendState state, IAsyncEnumerator<JsonObject> stream)
    {
        try
        {
            return await stream.MoveNextAsync().ConfigureAwait(false);
        }
        catch (BackendException e) when (e.StatusCode >= 500)
        {
            // Passed on, not retried: part of the answer already reached the caller.
            state.MarkSuspect();
            throw;
        }
    }

    /// <summary>
    /// Runs <paramref name="attempt"/> on chosen backends until one succeeds. On success the chosen backend's request
    /// stays counted as in flight: the caller calls <see cref="UpstreamBackendState.Exit"/> when done with the result.
    /// </summary>
    private async Task<(UpstreamBackendState State, T Result)> RouteAsync<T>(
        string? requestModel,
        UpstreamCall call,
        Func<UpstreamBackendState, CancellationToken, Task<T>> attempt,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var model = requestModel is { Length: > 0 } name
            ? name
            : throw new BackendException(400, "invalid_request_error", "the request has no 'model'; name the model to use");
        var candidates = Candidates(model, call);
        var tries = new Try[candidates.Length];
        Array.Fill(tries, new Try { NotBefore = long.MinValue });
        BackendException? last = null;
        UpstreamBackendState? failed = null;
        Deferral? deferral = null;
        var attempts = 0;
        while (attempts < _options.MaxAttempts)
        {
            var (index, wait) = Choose(candidates, tries, ref deferral);
            if (index < 0)
            {
                break;
            }

            if (failed is not null && !ReferenceEquals(failed, candidates[index]))
            {
                UpstreamLog.FailedOver(_logger, UpstreamErrors.Sanitize(model), failed.Backend.Name, candidates[index].Backend.Name);
            }

            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
            }

            var state = candidates[index];
            attempts++;
            state.Enter();
            var succeeded = false;
            try
            {
                var result = await attempt(state, cancellationToken).ConfigureAwait(false);
                succeeded = true;
                state.MarkSucceeded();
                call.Record(new UpstreamAttempt(state.Backend.Name, 200, null, wait));
                return (state, result);
            }
            catch (BackendException e)
            {
                call.Record(new UpstreamAttempt(state.Backend.Name, e.StatusCode, e.ErrorType, wait));
                if (!e.Retryable)
                {
                    throw;
                }

                last = e;
                failed = state;
                UpstreamLog.AttemptFailed(_logger, state.Backend.Name, e.StatusCode, e.ErrorType, UpstreamErrors.Sanitize(model), attempts, _options.MaxAttempts);
                OnFailure(state, ref tries[index], e, ref deferral);
            }
            finally
            {
                if (!succeeded)
                {
                    state.Exit();
                }
            }
        }

        var exhausted = Exhausted(model, candidates.Length, attempts, last, deferral);
        UpstreamLog.Exhausted(_logger, UpstreamErrors.Sanitize(model), attempts, candidates.Length, exhausted.StatusCode);
        throw exhausted;
    }

    // The request's "model" when it is a string: read on the client's element when the request has one (no object tree).
    private static string? ModelOf(InferenceRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.HasClientBytes)
        {
            return request.Root.TryGetProperty("model"u8, out var model) && model.ValueKind == System.Text.Json.JsonValueKind.String ? model.GetString() : null;
        }

        return request.Body["model"] is JsonValue value && value.TryGetValue<string>(out var name) ? name : null;
    }

    private UpstreamBackendState[] Candidates(string model, UpstreamCall call)
    {
        var serving = 0;
        var withdrawn = _withdrawn;
        string? withdrawnReason = null;
        var allowed = new List<UpstreamBackendState>(_backends.Length);
        foreach (var state in _backends)
        {
            if (!state.Backend.Serves(model))
            {
                continue;
            }

            serving++;
            if (withdrawn.Count > 0 && withdrawn.TryGetValue(state.Backend.Name, out var why))
            {
                withdrawnReason ??= $"upstream backend '{state.Backend.Name}' is out of routing: {why}";
                continue;
            }

            if (call.IsAllowed(state.Backend.Options))
            {
                allowed.Add(state);
            }
        }

        if (serving == 0)
        {
            throw new BackendException(404, "invalid_request_error", $"no upstream backend serves the model '{UpstreamErrors.Sanitize(model)}'");
        }

        if (allowed.Count == 0 && withdrawnReason is not null)
        {
            throw new BackendException(503, "server_error", $"no upstream backend may serve the model '{UpstreamErrors.Sanitize(model)}' now; {withdrawnReason}; ask the enclave's security officer");
        }

        if (allowed.Count == 0)
        {
            throw new BackendException(
                403,
                "permission_error",
                $"none of the {serving} upstream backend(s) serving the model '{UpstreamErrors.Sanitize(model)}' may receive this request (their labels do not pass the policy)");
        }

        return [.. allowed];
    }

    /// <summary>
    /// The next backend and how long to wait for it: not down before down, ready before waiting (the soonest first),
    /// not suspect before suspect, fewest in flight; ties rotate. -1 when none is left.
    /// </summary>
    private (int Index, TimeSpan Wait) Choose(UpstreamBackendState[] candidates, Try[] tries, ref Deferral? deferral)
    {
        var now = _time.GetTimestamp();
        var start = (int)((uint)Interlocked.Increment(ref _rotation) % (uint)candidates.Length);
        var best = -1;
        var bestWait = TimeSpan.Zero;
        (int Down, long WaitTicks, int Suspect, int Outstanding) bestKey = default;
        for (var k = 0; k < candidates.Length; k++)
        {
            var i = (start + k) % candidates.Length;
            if (tries[i].Excluded)
            {
                continue;
            }

            var state = candidates[i];
            var notBefore = Math.Max(tries[i].NotBefore, state.CoolUntil);
            var wait = notBefore > now ? _time.GetElapsedTime(now, notBefore) : TimeSpan.Zero;
            if (wait > _options.MaxRetryWait)
            {
                // Cooling down after another request's Retry-After, for longer than this request may wait.
                tries[i].Excluded = true;
                deferral = Deferral.Soonest(deferral, state.CoolStatus, wait);
                continue;
            }

            var health = state.Health;
            var key = (health == UpstreamHealth.Down ? 1 : 0, wait.Ticks, health == UpstreamHealth.Suspect ? 1 : 0, state.Outstanding);
            if (best < 0 || key.CompareTo(bestKey) < 0)
            {
                best = i;
                bestKey = key;
                bestWait = wait;
            }
        }

        return (best, bestWait);
    }

    private void OnFailure(UpstreamBackendState state, ref Try attempt, BackendException failure, ref Deferral? deferral)
    {
        attempt.Failures++;
        var now = _time.GetTimestamp();
        if (failure.RetryAfter is { } retryAfter && failure.StatusCode is 429 or 503)
        {
            var until = Later(now, retryAfter);
            state.CoolDownUntil(until, failure.StatusCode);
            UpstreamLog.CoolingDown(_logger, state.Backend.Name, failure.StatusCode, retryAfter);
            if (retryAfter > _options.MaxRetryWait)
            {
                attempt.Excluded = true;
                deferral = Deferral.Soonest(deferral, failure.StatusCode, retryAfter);
            }
            else
            {
                attempt.NotBefore = until;
            }
        }
        else
        {
            if (failure.StatusCode != 429)
            {
                state.MarkSuspect();
            }

            attempt.NotBefore = Later(now, Backoff(attempt.Failures));
        }

        if (attempt.Failures > state.Backend.Options.MaxRetries)
        {
            attempt.Excluded = true;
        }
    }

    private TimeSpan Backoff(int failures)
    {
        var backoff = TimeSpan.FromTicks(_options.RetryBackoff.Ticks * (1L << Math.Min(failures - 1, 16)));
        return backoff < _options.MaxRetryWait ? backoff : _options.MaxRetryWait;
    }

    private long Later(long timestamp, TimeSpan span)
    {
        var bounded = span < RetryAfter.Ceiling ? span : RetryAfter.Ceiling;
        return timestamp + (long)(bounded.TotalSeconds * _time.TimestampFrequency);
    }

    private BackendException Exhausted(string model, int allowed, int attempts, BackendException? last, Deferral? deferral)
    {
        var what = $"for the model '{UpstreamErrors.Sanitize(model)}' ({attempts} attempt(s) over {allowed} allowed backend(s))";
        if (deferral is { } d)
        {
            var seconds = Math.Ceiling(d.Wait.TotalSeconds);
            return new BackendException(
                d.Status,
                d.Status == 429 ? "rate_limit_exceeded" : "overloaded",
                $"the upstream backends are rate limiting or overloaded {what}: the soonest asks to retry in {seconds} s, longer than this gateway waits (MaxRetryWait {_options.MaxRetryWait:c}); retry later",
                d.Wait,
                last);
        }

        if (last is null)
        {
            return new BackendException(503, "overloaded", $"no upstream backend was available {what}; retry later", _options.MaxRetryWait);
        }

        return new BackendException(last.StatusCode, last.ErrorType, $"no upstream backend answered {what}; the last failure: {last.Message}", last.RetryAfter, last);
    }

    private struct Try
    {
        public int Failures;
        public long NotBefore;
        public bool Excluded;
    }

    private readonly record struct Deferral(int Status, TimeSpan Wait)
    {
        public static Deferral Soonest(Deferral? current, int status, TimeSpan wait) =>
            current is { } c && c.Wait <= wait ? c : new Deferral(status is 429 or 503 ? status : 503, wait);
    }

    private readonly record struct StartedStream(IAsyncEnumerator<JsonObject> Rest, JsonObject? First);
}
