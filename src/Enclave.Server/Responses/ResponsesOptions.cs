namespace Enclave.Server.Responses;

/// <summary>
/// Stored responses (configuration section <c>Responses</c>): how long they are kept, how often expired ones are
/// purged, and how many background responses one replica runs at once.
/// </summary>
public sealed record ResponsesOptions
{
    /// <summary>How long a stored response is kept, in days (1 to 3650; default 30, as OpenAI keeps them). Older ones are answered 404 and purged.</summary>
    public int RetentionDays { get; init; } = 30;

    /// <summary>How often each replica deletes expired responses (1 minute to 1 day; default 1 hour).</summary>
    public TimeSpan PurgeInterval { get; init; } = TimeSpan.FromHours(1);

    /// <summary>How many background responses this replica runs at once (1 to 1024; default 32); one more is a 429.</summary>
    public int MaxBackground { get; init; } = 32;

    /// <summary>The retention period.</summary>
    public TimeSpan Retention => TimeSpan.FromDays(RetentionDays);

    /// <summary>Every problem with these options (empty when valid).</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (RetentionDays is < 1 or > 3650)
        {
            problems.Add($"Responses:RetentionDays must be between 1 and 3650 (was {RetentionDays})");
        }

        if (PurgeInterval < TimeSpan.FromMinutes(1) || PurgeInterval > TimeSpan.FromDays(1))
        {
            problems.Add($"Responses:PurgeInterval must be between 00:01:00 and 1.00:00:00 (was {PurgeInterval})");
        }

        if (MaxBackground is < 1 or > 1024)
        {
            problems.Add($"Responses:MaxBackground must be between 1 and 1024 (was {MaxBackground})");
        }

        return problems;
    }
}
