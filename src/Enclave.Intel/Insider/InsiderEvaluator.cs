using System.Diagnostics;

namespace Enclave.Intel.Insider;

/// <summary>Detection results of one scenario kind.</summary>
public sealed record ScenarioResult
{
    /// <summary>The kind.</summary>
    public required InsiderScenarioKind Kind { get; init; }

    /// <summary>Instances injected.</summary>
    public required int Injected { get; init; }

    /// <summary>Instances with at least one alert within the budget on an insider, during the scenario's days.</summary>
    public required int Detected { get; init; }

    /// <summary>Detected / injected (1 when none were injected).</summary>
    public double Recall => Injected == 0 ? 1 : (double)Detected / Injected;

    /// <summary>Alerts within the budget that were on this kind's insiders during its days.</summary>
    public required int Alerts { get; init; }
}

/// <summary>The outcome of <see cref="InsiderEvaluator.Run"/>.</summary>
public sealed record InsiderEvaluation
{
    /// <summary>The generator's options.</summary>
    public required ScenarioOptions Scenario { get; init; }

    /// <summary>Alerts allowed per day per 1,000 principals.</summary>
    public required double Budget { get; init; }

    /// <summary>Ledger entries generated and scored.</summary>
    public required long Events { get; init; }

    /// <summary>Signals the engine raised (before the budget).</summary>
    public required int Signals { get; init; }

    /// <summary>Alert candidates: signals merged per principal and day, ranked by their best score.</summary>
    public required int Candidates { get; init; }

    /// <summary>Alerts raised within the budget.</summary>
    public required int Alerts { get; init; }

    /// <summary>Alerts per day.</summary>
    public double AlertsPerDay => (double)Alerts / Scenario.Days;

    /// <summary>Alerts on an insider during their scenario.</summary>
    public required int TruePositives { get; init; }

    /// <summary>True positives / alerts (1 when there were no alerts).</summary>
    public double Precision => Alerts == 0 ? 1 : (double)TruePositives / Alerts;

    /// <summary>Detected / injected over all scenarios.</summary>
    public double Recall => Scenarios.Sum(s => s.Injected) == 0 ? 1 : (double)Scenarios.Sum(s => s.Detected) / Scenarios.Sum(s => s.Injected);

    /// <summary>Share of true-positive alerts whose evidence holds at least one injected event of their scenario.</summary>
    public required double EvidenceOnInjected { get; init; }

    /// <summary>Per scenario kind.</summary>
    public required IReadOnlyList<ScenarioResult> Scenarios { get; init; }

    /// <summary>Time spent in <see cref="InsiderEngine.Observe"/> per event, microseconds (a rough figure; the benchmark is the reference).</summary>
    public required double MicrosecondsPerEvent { get; init; }
}

/// <summary>
/// Runs the engine over generated traffic and scores it against the ground truth at a fixed alert budget: signals
/// are merged per principal and day (the highest score stands for the day), and each day the top-ranked candidates
/// are raised up to the budget (budget × principals / 1,000 per day, fractions carried to the next day).
/// </summary>
public static class InsiderEvaluator
{
    /// <summary>Generates, scores and evaluates.</summary>
    public static InsiderEvaluation Run(ScenarioOptions scenario, double budget = 5, InsiderOptions? engineOptions = null)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        if (budget is <= 0 or > 1000)
        {
            throw new ArgumentOutOfRangeException(nameof(budget), $"the alert budget is alerts per day per 1,000 principals, more than 0 and at most 1,000 (got {budget})");
        }

        var generator = new ScenarioGenerator(scenario);
        var engine = new InsiderEngine(engineOptions);
        var injected = new Dictionary<long, int>();
        var candidates = new Dictionary<(string Principal, int Day), (InsiderSignal Signal, double Score)>();
        var signals = 0;
        long events = 0;
        var observeTicks = 0L;
        var origin = scenario.Start.UtcTicks / TimeSpan.TicksPerDay;
        foreach (var generated in generator.Generate())
        {
            events++;
            if (generated.Scenario >= 0)
            {
                injected[generated.LedgerIndex] = generated.Scenario;
            }

            var before = Stopwatch.GetTimestamp();
            var raised = engine.Observe(generated.Event, generated.LedgerIndex);
            observeTicks += Stopwatch.GetTimestamp() - before;
            foreach (var signal in raised)
            {
                signals++;
                var day = (int)((signal.Time.UtcTicks / TimeSpan.TicksPerDay) - origin);
                var key = (signal.Principal, day);
                if (!candidates.TryGetValue(key, out var current) || signal.Score > current.Score)
                {
                    candidates[key] = (signal, signal.Score);
                }
            }
        }

        var perDay = budget * scenario.Principals / 1000;
        var carried = 0.0;
        var alerts = new List<(InsiderSignal Signal, int Day)>();
        var byDay = candidates.GroupBy(c => c.Key.Day).ToDictionary(g => g.Key, g => g.OrderByDescending(c => c.Value.Score).ThenBy(c => c.Key.Principal, StringComparer.Ordinal).ToList());
        for (var day = 0; day < scenario.Days; day++)
        {
            var allowance = carried + perDay;
            var take = (int)Math.Floor(allowance);
            carried = Math.Min(allowance - take, 1);
            if (byDay.TryGetValue(day, out var ranked))
            {
                alerts.AddRange(ranked.Take(take).Select(c => (c.Value.Signal, day)));
            }
        }

        var detected = new HashSet<int>();
        var truePositivesByScenario = new Dictionary<int, int>();
        var truePositives = 0;
        var withEvidence = 0;
        foreach (var (signal, day) in alerts)
        {
            var match = generator.Scenarios.FirstOrDefault(s => day >= s.FirstDay && day <= s.LastDay
                && (s.Principals.Contains(signal.Principal, StringComparer.Ordinal) || (signal.Counterpart is { } other && s.Principals.Contains(other, StringComparer.Ordinal))));
            if (match is null)
            {
                continue;
            }

            truePositives++;
            detected.Add(match.Id);
            truePositivesByScenario[match.Id] = truePositivesByScenario.GetValueOrDefault(match.Id) + 1;
            if (signal.Features.Any(f => f.Evidence.Any(i => injected.TryGetValue(i, out var s) && s == match.Id)))
            {
                withEvidence++;
            }
        }

        var results = scenario.Kinds.Distinct().Select(kind =>
        {
            var ofKind = generator.Scenarios.Where(s => s.Kind == kind).ToList();
            return new ScenarioResult
            {
                Kind = kind,
                Injected = ofKind.Count,
                Detected = ofKind.Count(s => detected.Contains(s.Id)),
                Alerts = ofKind.Sum(s => truePositivesByScenario.GetValueOrDefault(s.Id)),
            };
        }).ToList();

        return new InsiderEvaluation
        {
            Scenario = scenario,
            Budget = budget,
            Events = events,
            Signals = signals,
            Candidates = candidates.Count,
            Alerts = alerts.Count,
            TruePositives = truePositives,
            EvidenceOnInjected = truePositives == 0 ? 1 : (double)withEvidence / truePositives,
            Scenarios = results,
            MicrosecondsPerEvent = events == 0 ? 0 : observeTicks * 1e6 / Stopwatch.Frequency / events,
        };
    }
}
