using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Claims;
using System.Threading.RateLimiting;
using Enclave.Policy.Configuration;
using Enclave.Policy.Identity;

namespace Enclave.Policy.Quotas;

/// <summary>
/// Quotas and rate limits per principal: requests and tokens per minute with System.Threading.RateLimiting, and
/// requests and tokens per UTC day and month against counters kept in memory, written to <see cref="QuotaStore"/>
/// every <see cref="QuotaSettings.FlushInterval"/> and at shutdown, and read back at start.
/// </summary>
/// <remarks>
/// <para>Replicas sharing one PostgreSQL database share the day and month budgets: each flush adds this replica's
/// increments in one transaction and reads the totals back, taking in what the others used; so a principal may exceed
/// a budget by what the replicas admitted in one flush interval, and no row is written per request (the per-request
/// row updates that deadlock LiteLLM at 10+ instances). Per-minute rate limits stay per replica.</para>
/// <para>Crash window: usage counted since the last flush is lost when the process dies without stopping (power
/// loss, kill -9), so a principal may exceed a day or month budget by what it used in at most one flush interval.
/// Every request is still in the ledger (<c>request.admitted</c>, <c>request.completed</c> with token counts).</para>
/// <para>Tokens are known only when a request completes: admission needs some tokens left in the minute's bucket and
/// the day's and month's budgets; completion charges the actual count (a request may overrun what was left; the
/// next one then waits). A stream whose backend reports no usage is charged an estimate (one token per chunk plus
/// a quarter of the prompt's characters).</para>
/// </remarks>
public sealed class QuotaService : IDisposable
{
    /// <summary>Rule IDs of quota denials.</summary>
    public const string RequestsPerMinute = "quota.requests-per-minute";

    /// <inheritdoc cref="RequestsPerMinute"/>
    public const string TokensPerMinute = "quota.tokens-per-minute";

    /// <inheritdoc cref="RequestsPerMinute"/>
    public const string RequestsPerDay = "quota.requests-per-day";

    /// <inheritdoc cref="RequestsPerMinute"/>
    public const string TokensPerDay = "quota.tokens-per-day";

    /// <inheritdoc cref="RequestsPerMinute"/>
    public const string RequestsPerMonth = "quota.requests-per-month";

    /// <inheritdoc cref="RequestsPerMinute"/>
    public const string TokensPerMonth = "quota.tokens-per-month";

    private readonly QuotaSettings _settings;
    private readonly QuotaStore? _store;
    private readonly TimeProvider _clock;
    private readonly Dictionary<string, QuotaRule> _principals;
    private readonly ConcurrentDictionary<string, PrincipalState> _states = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Principal, string Period), Counter> _counters = new();
    private readonly Lock _flushGate = new();

    /// <summary>Validates the settings and loads today's and this month's counters.</summary>
    /// <exception cref="PolicyConfigurationException">Every problem with the settings.</exception>
    public QuotaService(QuotaSettings settings, QuotaStore? store, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(clock);
        var problems = settings.Validate();
        if (problems.Count > 0)
        {
            throw new PolicyConfigurationException(PolicyConfigurationError.InvalidQuotas, problems);
        }

        _settings = settings;
        _store = store;
        _clock = clock;
        _principals = (settings.Principals ?? []).ToDictionary(p => p.Id!, StringComparer.Ordinal);
        if (store is not null && settings.Any)
        {
            var now = clock.GetUtcNow();
            foreach (var usage in store.Load([DayPeriod(now), MonthPeriod(now)]))
            {
                var counter = _counters.GetOrAdd((usage.Principal, usage.Period), _ => new Counter());
                counter.Load(usage.Requests, usage.Tokens);
            }
        }
    }

    /// <summary>Whether any limit is configured; when not, every check passes without counting.</summary>
    public bool Enabled => _settings.Any;

    /// <summary>How often counters are flushed.</summary>
    public TimeSpan FlushInterval => _settings.FlushInterval;

    /// <summary>The limits that apply to a principal with these roles.</summary>
    public QuotaRule? LimitsFor(string principal, IEnumerable<string> roles)
    {
        ArgumentNullException.ThrowIfNull(principal);
        ArgumentNullException.ThrowIfNull(roles);
        if (_principals.TryGetValue(principal, out var own))
        {
            return own;
        }

        QuotaRule? widest = null;
        foreach (var role in roles)
        {
            if (_settings.Roles is { } byRole && byRole.TryGetValue(role, out var rule) && rule is not null)
            {
                widest = widest is null ? rule : widest.Widen(rule);
            }
        }

        return widest ?? _settings.Default;
    }

    /// <summary>
    /// Checks and counts one request of <paramref name="user"/>: day and month budgets, tokens left this minute, then
    /// takes one request permit of the minute. On success the day's and month's request counters go up by one.
    /// </summary>
    public QuotaCheck TryAdmit(ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (!Enabled)
        {
            return QuotaCheck.Pass;
        }

        var principal = user.PrincipalId();
        var state = State(principal, user);
        if (state.Rule is not { } rule)
        {
            return QuotaCheck.Pass;
        }

        var now = _clock.GetUtcNow();
        var day = CounterOf(principal, DayPeriod(now));
        var month = CounterOf(principal, MonthPeriod(now));
        var untilTomorrow = now.UtcDateTime.Date.AddDays(1) - now.UtcDateTime;
        var untilNextMonth = new DateTime(now.Year, now.Month, 1, 0, 0, 0, DateTimeKind.Utc).AddMonths(1) - now.UtcDateTime;
        if (rule.RequestsPerDay is { } rpd && day.Requests >= rpd)
        {
            return Deny(RequestsPerDay, $"you have used your {rpd} requests for today (UTC)", untilTomorrow);
        }

        if (rule.TokensPerDay is { } tpd && day.Tokens >= tpd)
        {
            return Deny(TokensPerDay, $"you have used your {tpd} tokens for today (UTC)", untilTomorrow);
        }

        if (rule.RequestsPerMonth is { } rpm && month.Requests >= rpm)
        {
            return Deny(RequestsPerMonth, $"you have used your {rpm} requests for this month (UTC)", untilNextMonth);
        }

        if (rule.TokensPerMonth is { } tpm && month.Tokens >= tpm)
        {
            return Deny(TokensPerMonth, $"you have used your {tpm} tokens for this month (UTC)", untilNextMonth);
        }

        if (state.Tokens is { } tokens)
        {
            using var probe = tokens.AttemptAcquire(0);
            if (!probe.IsAcquired)
            {
                return Deny(TokensPerMinute, $"you have used your {rule.TokensPerMinute} tokens per minute", RetryAfter(probe, TimeSpan.FromSeconds(1)));
            }
        }

        if (state.Requests is { } requests)
        {
            using var lease = requests.AttemptAcquire(1);
            if (!lease.IsAcquired)
            {
                return Deny(RequestsPerMinute, $"you have sent your {rule.RequestsPerMinute} requests per minute", RetryAfter(lease, TimeSpan.FromSeconds(10)));
            }
        }

        day.AddRequest();
        month.AddRequest();
        return QuotaCheck.Pass;
    }

    /// <summary>Charges tokens a request of <paramref name="principal"/> used (after it completed).</summary>
    public void Charge(string principal, long tokens)
    {
        ArgumentNullException.ThrowIfNull(principal);
        if (!Enabled || tokens <= 0 || !_states.TryGetValue(principal, out var state) || state.Rule is null)
        {
            return;
        }

        if (state.Tokens is { } bucket)
        {
            var available = bucket.GetStatistics()?.CurrentAvailablePermits ?? 0;
            var take = (int)Math.Min(tokens, available);
            if (take > 0)
            {
                using var _ = bucket.AttemptAcquire(take);
            }
        }

        var now = _clock.GetUtcNow();
        CounterOf(principal, DayPeriod(now)).AddTokens(tokens);
        CounterOf(principal, MonthPeriod(now)).AddTokens(tokens);
    }

    /// <summary>Today's and this month's usage of a principal, as counted (flushed or not).</summary>
    public (QuotaUsage Day, QuotaUsage Month) Usage(string principal)
    {
        var now = _clock.GetUtcNow();
        var d = CounterOf(principal, DayPeriod(now));
        var m = CounterOf(principal, MonthPeriod(now));
        return (new QuotaUsage(principal, DayPeriod(now), d.Requests, d.Tokens), new QuotaUsage(principal, MonthPeriod(now), m.Requests, m.Tokens));
    }

    /// <summary>Writes the increments since the last flush in one transaction; on failure nothing is marked written.</summary>
    public void Flush()
    {
        if (_store is null)
        {
            return;
        }

        lock (_flushGate)
        {
            var pending = new List<(Counter Counter, QuotaUsage Increment)>();
            foreach (var ((principal, period), counter) in _counters)
            {
                var (requests, tokens) = counter.Pending();
                if (requests != 0 || tokens != 0)
                {
                    pending.Add((counter, new QuotaUsage(principal, period, requests, tokens)));
                }
            }

            _store.Add([.. pending.Select(p => p.Increment)]);
            foreach (var (counter, increment) in pending)
            {
                counter.MarkFlushed(increment.Requests, increment.Tokens);
            }

            // Replicas on one database share the counters: what the table holds beyond what this one wrote is what the
            // others used, and it counts here from now on (one read per flush; no row is updated per request).
            var now = _clock.GetUtcNow();
            string day = DayPeriod(now), month = MonthPeriod(now);
            if (_settings.Any)
            {
                foreach (var total in _store.Load([day, month]))
                {
                    CounterOf(total.Principal, total.Period).Resync(total.Requests, total.Tokens);
                }
            }

            // Past periods are not checked any more once written.
            foreach (var key in _counters.Keys)
            {
                if (key.Period != day && key.Period != month && _counters.TryGetValue(key, out var c) && c.Pending() == (0, 0))
                {
                    _counters.TryRemove(key, out _);
                }
            }
        }
    }

    /// <summary>Disposes the rate limiters.</summary>
    public void Dispose()
    {
        foreach (var state in _states.Values)
        {
            state.Dispose();
        }
    }

    internal static string DayPeriod(DateTimeOffset now) => "d:" + now.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    internal static string MonthPeriod(DateTimeOffset now) => "m:" + now.UtcDateTime.ToString("yyyy-MM", CultureInfo.InvariantCulture);

    private static QuotaCheck Deny(string rule, string what, TimeSpan retryAfter) => new(
        false,
        rule,
        $"quota exceeded ({rule}): {what}; retry after {Math.Max(1, Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture)} s or ask an administrator for a larger quota",
        retryAfter);

    private static TimeSpan RetryAfter(RateLimitLease lease, TimeSpan fallback) =>
        lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) && retryAfter > TimeSpan.Zero ? retryAfter : fallback;

    private Counter CounterOf(string principal, string period) => _counters.GetOrAdd((principal, period), static _ => new Counter());

    private PrincipalState State(string principal, ClaimsPrincipal user)
    {
        var roles = string.Join(',', user.FindAll(ClaimTypes.Role).Select(c => c.Value).Order(StringComparer.Ordinal));
        if (_states.TryGetValue(principal, out var state) && state.Roles == roles)
        {
            return state;
        }

        var created = new PrincipalState(roles, LimitsFor(principal, roles.Split(',', StringSplitOptions.RemoveEmptyEntries)));
        var winner = _states.AddOrUpdate(principal, created, (_, old) => old.Roles == roles ? old : created);
        if (!ReferenceEquals(winner, created))
        {
            created.Dispose();
        }

        return winner;
    }

    private sealed class PrincipalState : IDisposable
    {
        public PrincipalState(string roles, QuotaRule? rule)
        {
            Roles = roles;
            Rule = rule;
            if (rule?.RequestsPerMinute is { } rpm)
            {
                Requests = new SlidingWindowRateLimiter(new SlidingWindowRateLimiterOptions
                {
                    PermitLimit = rpm,
                    Window = TimeSpan.FromMinutes(1),
                    SegmentsPerWindow = 6,
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
            }

            if (rule?.TokensPerMinute is { } tpm)
            {
                Tokens = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
                {
                    TokenLimit = tpm,
                    TokensPerPeriod = Math.Max(1, tpm / 60),
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
            }
        }

        public string Roles { get; }

        public QuotaRule? Rule { get; }

        public SlidingWindowRateLimiter? Requests { get; }

        public TokenBucketRateLimiter? Tokens { get; }

        public void Dispose()
        {
            Requests?.Dispose();
            Tokens?.Dispose();
        }
    }

    private sealed class Counter
    {
        private long _requests;
        private long _tokens;
        private long _flushedRequests;
        private long _flushedTokens;

        public long Requests => Interlocked.Read(ref _requests);

        public long Tokens => Interlocked.Read(ref _tokens);

        public void Load(long requests, long tokens)
        {
            Interlocked.Add(ref _requests, requests);
            Interlocked.Add(ref _tokens, tokens);
            Interlocked.Add(ref _flushedRequests, requests);
            Interlocked.Add(ref _flushedTokens, tokens);
        }

        public void AddRequest() => Interlocked.Increment(ref _requests);

        public void AddTokens(long tokens) => Interlocked.Add(ref _tokens, tokens);

        public (long Requests, long Tokens) Pending() =>
            (Interlocked.Read(ref _requests) - Interlocked.Read(ref _flushedRequests), Interlocked.Read(ref _tokens) - Interlocked.Read(ref _flushedTokens));

        public void MarkFlushed(long requests, long tokens)
        {
            Interlocked.Add(ref _flushedRequests, requests);
            Interlocked.Add(ref _flushedTokens, tokens);
        }

        /// <summary>
        /// Takes in what other replicas added to the stored totals (<paramref name="requests"/>, <paramref name="tokens"/>:
        /// the table's counters, which include everything this one flushed). Called under the flush lock, after a flush.
        /// </summary>
        public void Resync(long requests, long tokens)
        {
            var otherRequests = requests - Interlocked.Read(ref _flushedRequests);
            var otherTokens = tokens - Interlocked.Read(ref _flushedTokens);
            Interlocked.Add(ref _requests, otherRequests);
            Interlocked.Add(ref _flushedRequests, otherRequests);
            Interlocked.Add(ref _tokens, otherTokens);
            Interlocked.Add(ref _flushedTokens, otherTokens);
        }
    }
}

/// <summary>The result of a quota check: pass, or the rule that refused, a message and when to retry.</summary>
/// <param name="Allowed">Whether the request may proceed.</param>
/// <param name="Rule">The quota rule that refused it.</param>
/// <param name="Message">What the caller is told.</param>
/// <param name="RetryAfter">When to retry (the <c>Retry-After</c> header).</param>
public sealed record QuotaCheck(bool Allowed, string? Rule, string? Message, TimeSpan? RetryAfter)
{
    /// <summary>A passing check.</summary>
    public static QuotaCheck Pass { get; } = new(true, null, null, null);
}
