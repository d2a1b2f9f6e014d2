namespace Enclave.Inference.Upstream;

/// <summary>The upstream backends and how the router retries among them (<c>Enclave:Upstream</c> in configuration).</summary>
public sealed record UpstreamOptions
{
    /// <summary>The configured backends; names are unique.</summary>
    public IReadOnlyList<UpstreamBackendOptions> Backends { get; init; } = [];

    /// <summary>
    /// The longest the router waits before a retry, whether a backend's <c>Retry-After</c> asked for it or the backoff
    /// did. A backend that asks for longer is not retried within the request: the router fails over, or fails with the
    /// backend's 429/503 and its <c>Retry-After</c>.
    /// </summary>
    public TimeSpan MaxRetryWait { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>First backoff after a 5xx or connection failure without <c>Retry-After</c>; doubles per failure of that backend.</summary>
    public TimeSpan RetryBackoff { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The most attempts one request makes, over all backends together (1..20).</summary>
    public int MaxAttempts { get; init; } = 4;

    /// <summary>Every problem with these options (empty when they are valid).</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (Backends is null)
        {
            problems.Add("upstream: Backends is missing");
            return problems;
        }

        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < Backends.Count; i++)
        {
            var backend = Backends[i];
            if (backend is null)
            {
                problems.Add($"upstream: Backends[{i}] is empty");
                continue;
            }

            backend.Validate($"upstream: Backends[{i}] ('{backend.Name}')", problems);
            if (!string.IsNullOrEmpty(backend.Name) && !names.Add(backend.Name))
            {
                problems.Add($"upstream: Backends[{i}]: the name '{backend.Name}' is used by another backend (names are unique, ignoring case)");
            }
        }

        if (MaxRetryWait < TimeSpan.Zero || MaxRetryWait > TimeSpan.FromMinutes(5))
        {
            problems.Add($"upstream: MaxRetryWait must be 00:00:00..00:05:00 (was {MaxRetryWait:c})");
        }

        if (RetryBackoff < TimeSpan.Zero || RetryBackoff > TimeSpan.FromMinutes(1))
        {
            problems.Add($"upstream: RetryBackoff must be 00:00:00..00:01:00 (was {RetryBackoff:c})");
        }

        if (MaxAttempts is < 1 or > 20)
        {
            problems.Add($"upstream: MaxAttempts must be 1..20 (was {MaxAttempts})");
        }

        return problems;
    }
}
