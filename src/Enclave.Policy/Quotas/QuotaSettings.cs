namespace Enclave.Policy.Quotas;

/// <summary>
/// The <c>Quotas</c> configuration section: rates (per minute) and budgets (per UTC day and month) per principal and
/// per role. Limits apply to each principal separately. A principal listed in <see cref="Principals"/> gets that
/// entry; otherwise the most generous value, limit by limit, over the entries of its roles; otherwise
/// <see cref="Default"/>; a limit that is absent (null) is unlimited.
/// </summary>
public sealed record QuotaSettings
{
    /// <summary>Limits for principals with no entry of their own and no role entry.</summary>
    public QuotaRule? Default { get; init; }

    /// <summary>Limits by role name (<c>user</c>, <c>analyst</c>, ...).</summary>
    public IReadOnlyDictionary<string, QuotaRule>? Roles { get; init; }

    /// <summary>Limits for single principals, each with its <see cref="QuotaRule.Id"/> (<c>user:alice</c>, <c>key:4f2a...</c>).</summary>
    public IReadOnlyList<QuotaRule>? Principals { get; init; }

    /// <summary>How often day and month counters are written to the database (1 s to 10 min); see the README for the crash window.</summary>
    public TimeSpan FlushInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Whether any limit is configured at all (otherwise quota checks are skipped).</summary>
    public bool Any => Default is not null || Roles is { Count: > 0 } || Principals is { Count: > 0 };

    /// <summary>Every problem with these settings.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (FlushInterval < TimeSpan.FromSeconds(1) || FlushInterval > TimeSpan.FromMinutes(10))
        {
            problems.Add($"Quotas:FlushInterval must be 00:00:01..00:10:00 (was {FlushInterval:c})");
        }

        Default?.Validate("Quotas:Default", problems);
        foreach (var (role, rule) in Roles ?? new Dictionary<string, QuotaRule>())
        {
            if (!Enclave.Policy.Identity.Roles.IsKnown(role))
            {
                problems.Add($"Quotas:Roles:{role}: unknown role; known roles are {string.Join(", ", Enclave.Policy.Identity.Roles.All)}");
            }

            rule?.Validate($"Quotas:Roles:{role}", problems);
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < (Principals?.Count ?? 0); i++)
        {
            var rule = Principals![i];
            if (string.IsNullOrWhiteSpace(rule?.Id))
            {
                problems.Add($"Quotas:Principals:{i}: Id (the principal ID, e.g. user:alice) is required");
                continue;
            }

            if (!seen.Add(rule.Id))
            {
                problems.Add($"Quotas:Principals:{i}: principal '{rule.Id}' is listed twice");
            }

            rule.Validate($"Quotas:Principals:{i} ('{rule.Id}')", problems);
        }

        return problems;
    }
}

/// <summary>One set of limits; null means unlimited.</summary>
public sealed record QuotaRule
{
    /// <summary>The principal ID, in <see cref="QuotaSettings.Principals"/> entries only.</summary>
    public string? Id { get; init; }

    /// <summary>Requests per minute (sliding window of six 10-second segments).</summary>
    public int? RequestsPerMinute { get; init; }

    /// <summary>Tokens (prompt and completion) per minute (token bucket refilled every second).</summary>
    public int? TokensPerMinute { get; init; }

    /// <summary>Requests per UTC day.</summary>
    public long? RequestsPerDay { get; init; }

    /// <summary>Tokens per UTC day.</summary>
    public long? TokensPerDay { get; init; }

    /// <summary>Requests per UTC calendar month.</summary>
    public long? RequestsPerMonth { get; init; }

    /// <summary>Tokens per UTC calendar month.</summary>
    public long? TokensPerMonth { get; init; }

    /// <summary>The most generous of two rules, limit by limit (unlimited wins).</summary>
    public QuotaRule Widen(QuotaRule other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return new QuotaRule
        {
            RequestsPerMinute = Max(RequestsPerMinute, other.RequestsPerMinute),
            TokensPerMinute = Max(TokensPerMinute, other.TokensPerMinute),
            RequestsPerDay = Max(RequestsPerDay, other.RequestsPerDay),
            TokensPerDay = Max(TokensPerDay, other.TokensPerDay),
            RequestsPerMonth = Max(RequestsPerMonth, other.RequestsPerMonth),
            TokensPerMonth = Max(TokensPerMonth, other.TokensPerMonth),
        };
    }

    internal void Validate(string where, List<string> problems)
    {
        void Positive(string name, long? value)
        {
            if (value is <= 0)
            {
                problems.Add($"{where}:{name} must be positive or absent (unlimited); was {value}");
            }
        }

        Positive(nameof(RequestsPerMinute), RequestsPerMinute);
        Positive(nameof(TokensPerMinute), TokensPerMinute);
        Positive(nameof(RequestsPerDay), RequestsPerDay);
        Positive(nameof(TokensPerDay), TokensPerDay);
        Positive(nameof(RequestsPerMonth), RequestsPerMonth);
        Positive(nameof(TokensPerMonth), TokensPerMonth);
    }

    private static T? Max<T>(T? a, T? b)
        where T : struct, IComparable<T> =>
        a is { } x && b is { } y ? (x.CompareTo(y) >= 0 ? x : y) : null;
}
