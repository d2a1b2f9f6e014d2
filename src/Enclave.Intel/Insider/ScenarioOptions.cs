namespace Enclave.Intel.Insider;

/// <summary>The kinds of insider behaviour the scenario generator injects (documented in <c>docs/detections.md</c>).</summary>
public enum InsiderScenarioKind
{
    /// <summary>One auditor or admin reads 30-80 retained prompts and answers in a 2-3 hour burst.</summary>
    BulkRetentionReads,

    /// <summary>One auditor or admin exports the ledger 5-12 times in a day.</summary>
    BulkLedgerExports,

    /// <summary>One analyst sends 4-10 requests a day, two days, labelled above their clearance (denied by policy).</summary>
    ProbingAboveClearance,

    /// <summary>One analyst or engineer generates 60-150 long completions between 22:00 and 04:00.</summary>
    AfterHoursBulkGeneration,

    /// <summary>One principal creates 6-14 API keys over one or two days.</summary>
    KeySprawl,

    /// <summary>Two operators from different teams approve each other's imports for 12 days.</summary>
    ApprovalCollusion,

    /// <summary>One analyst reads 1-3 retained records every workday for 21 days (never many in a day).</summary>
    SlowAndLow,
}

/// <summary>What the scenario generator makes.</summary>
public sealed record ScenarioOptions
{
    /// <summary>The seed: the same seed and options give the same stream, byte for byte.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Principals (at least 20).</summary>
    public int Principals { get; init; } = 1000;

    /// <summary>Days of traffic (at least 14).</summary>
    public int Days { get; init; } = 35;

    /// <summary>Injected instances of each scenario kind per 1,000 principals (at least one each).</summary>
    public double ScenariosPerThousand { get; init; } = 2;

    /// <summary>The kinds injected (default: all).</summary>
    public IReadOnlyList<InsiderScenarioKind> Kinds { get; init; } = Enum.GetValues<InsiderScenarioKind>();

    /// <summary>The first day (UTC midnight; a Monday by default).</summary>
    public DateTimeOffset Start { get; init; } = new(2026, 1, 5, 0, 0, 0, TimeSpan.Zero);

    internal void Validate()
    {
        if (Principals is < 20 or > 1_000_000 || Days is < 14 or > 3650 || ScenariosPerThousand is < 0 or > 100)
        {
            throw new ArgumentOutOfRangeException(nameof(ScenarioOptions), $"scenario options out of range: principals 20..1,000,000 (got {Principals}), days 14..3,650 (got {Days}), scenarios per thousand 0..100 (got {ScenariosPerThousand})");
        }
    }
}

/// <summary>A principal of the generated population.</summary>
public sealed record GeneratedPrincipal
{
    /// <summary><c>user:NAME</c>.</summary>
    public required string Name { get; init; }

    /// <summary>analyst, engineer, operator, auditor or admin.</summary>
    public required string Role { get; init; }

    /// <summary>The clearance banner.</summary>
    public required string Clearance { get; init; }
}

/// <summary>Ground truth: one injected scenario.</summary>
public sealed record InjectedScenario
{
    /// <summary>Its number (the <see cref="GeneratedEvent.Scenario"/> of its events).</summary>
    public required int Id { get; init; }

    /// <summary>What it is.</summary>
    public required InsiderScenarioKind Kind { get; init; }

    /// <summary>The insider(s): one, or two for collusion.</summary>
    public required IReadOnlyList<string> Principals { get; init; }

    /// <summary>First day (0-based) with injected events.</summary>
    public required int FirstDay { get; init; }

    /// <summary>Last day (0-based, inclusive) with injected events.</summary>
    public required int LastDay { get; init; }
}

/// <summary>One generated ledger entry; <see cref="Scenario"/> is the injected scenario's id, or -1 for normal behaviour.</summary>
public readonly record struct GeneratedEvent(InsiderEvent Event, long LedgerIndex, int Scenario);
