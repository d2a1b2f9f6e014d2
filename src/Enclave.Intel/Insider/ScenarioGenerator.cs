using System.Globalization;

namespace Enclave.Intel.Insider;

/// <summary>
/// Seeded, deterministic audit traffic for evaluating insider analytics (documented in <c>docs/detections.md</c>):
/// a population in five roles (analyst, engineer, operator, auditor, admin) with clearances, work hours, a weekly
/// rhythm and role-specific mixes of requests, retention reads, ledger exports, key creation, account changes,
/// imports with approvals and failed authentications, including the benign noise that makes detection hard (busy
/// days, audit review days, on-call evenings, key rotation, mislabelled and over-quota requests); plus injected
/// insider scenarios (<see cref="InsiderScenarioKind"/>) with ground truth. The stream is made one day at a time,
/// so memory does not grow with the number of days. Ledger exports are written as type <c>ledger.exported</c>
/// (actor the exporter, subject <c>ledger:FROM-TO</c>, details <c>from</c>, <c>to</c>, <c>entries</c>) and role or
/// clearance changes as <c>user.updated</c> (details <c>name</c>, <c>roles</c>, <c>clearance</c>): neither exists in the
/// enclave yet. Simulation randomness (<see cref="Random"/> with the seed), never used for anything secret.
/// </summary>
public sealed class ScenarioGenerator
{
    private static readonly string[] Clearances = ["UNCLASSIFIED", "CONFIDENTIAL", "SECRET", "TOP SECRET"];
    private static readonly string[] Models = ["llama-3-8b", "mistral-7b", "embed-small"];
    private readonly ScenarioOptions _options;
    private readonly List<Profile> _profiles = [];
    private readonly List<InjectedScenario> _scenarios = [];
    private readonly Dictionary<string, int> _scenarioOf = new(StringComparer.Ordinal);

    public ScenarioGenerator(ScenarioOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        var random = new Random(options.Seed);
        BuildPopulation(random);
        PlanScenarios(random);
    }

    /// <summary>The population.</summary>
    public IReadOnlyList<GeneratedPrincipal> Principals => _profiles.Select(p => p.Principal).ToList();

    /// <summary>The injected scenarios (ground truth).</summary>
    public IReadOnlyList<InjectedScenario> Scenarios => _scenarios;

    private sealed class Profile
    {
        public required GeneratedPrincipal Principal { get; init; }

        public required int ClearanceRank { get; init; }

        public required double Rate { get; init; }

        public required int StartHour { get; init; }

        public required int Length { get; init; }

        public required bool OnCall { get; init; }

        public required int Team { get; init; }

        public int Keys { get; set; }
    }

    private void BuildPopulation(Random random)
    {
        var n = _options.Principals;
        var operators = Math.Max(6, (int)Math.Round(n * 0.08));
        var auditors = Math.Max(4, (int)Math.Round(n * 0.08));
        var admins = Math.Max(3, (int)Math.Round(n * 0.04));
        var engineers = (int)Math.Round(n * 0.2);
        var roles = new List<string>(n);
        roles.AddRange(Enumerable.Repeat("operator", operators));
        roles.AddRange(Enumerable.Repeat("auditor", auditors));
        roles.AddRange(Enumerable.Repeat("admin", admins));
        roles.AddRange(Enumerable.Repeat("engineer", engineers));
        roles.AddRange(Enumerable.Repeat("analyst", Math.Max(0, n - roles.Count)));
        var operatorIndex = 0;
        for (var i = 0; i < n; i++)
        {
            var role = roles[i];
            var u = random.NextDouble();
            var rank = role == "analyst" ? (u < 0.3 ? 1 : u < 0.8 ? 2 : 3) : (u < 0.15 ? 1 : u < 0.85 ? 2 : 3);
            _profiles.Add(new Profile
            {
                Principal = new GeneratedPrincipal { Name = $"user:u{i:D5}", Role = role, Clearance = Clearances[rank] },
                ClearanceRank = rank,
                Rate = Math.Exp(Normal(random) * 0.4),
                StartHour = 7 + random.Next(4),
                Length = 8 + random.Next(2),
                OnCall = random.NextDouble() < 0.06,
                Team = role == "operator" ? operatorIndex++ / 5 : -1,
            });
        }
    }

    private void PlanScenarios(Random random)
    {
        var used = new HashSet<string>(StringComparer.Ordinal);
        var perKind = Math.Max(1, (int)Math.Round(_options.ScenariosPerThousand * _options.Principals / 1000));
        if (_options.ScenariosPerThousand == 0)
        {
            return;
        }

        foreach (var kind in _options.Kinds)
        {
            for (var k = 0; k < perKind; k++)
            {
                var length = kind switch
                {
                    InsiderScenarioKind.ProbingAboveClearance or InsiderScenarioKind.KeySprawl => 2,
                    InsiderScenarioKind.ApprovalCollusion => 12,
                    InsiderScenarioKind.SlowAndLow => 21,
                    _ => 1,
                };
                const int warmup = 10;
                length = Math.Min(length, _options.Days - warmup);
                var first = warmup + random.Next(_options.Days - warmup - length + 1);
                var candidates = _profiles.Where(p => !used.Contains(p.Principal.Name) && kind switch
                {
                    InsiderScenarioKind.BulkRetentionReads or InsiderScenarioKind.BulkLedgerExports => p.Principal.Role is "auditor" or "admin",
                    InsiderScenarioKind.ProbingAboveClearance => p.Principal.Role == "analyst" && p.ClearanceRank < 3,
                    InsiderScenarioKind.AfterHoursBulkGeneration => p.Principal.Role is "analyst" or "engineer" && !p.OnCall,
                    InsiderScenarioKind.KeySprawl => p.Principal.Role != "admin",
                    InsiderScenarioKind.ApprovalCollusion => p.Principal.Role == "operator",
                    _ => p.Principal.Role == "analyst",
                }).ToList();
                var insiders = new List<Profile>();
                if (candidates.Count > 0)
                {
                    insiders.Add(candidates[random.Next(candidates.Count)]);
                    if (kind == InsiderScenarioKind.ApprovalCollusion)
                    {
                        var partners = candidates.Where(p => p.Team != insiders[0].Team).ToList();
                        if (partners.Count == 0)
                        {
                            continue;
                        }

                        insiders.Add(partners[random.Next(partners.Count)]);
                    }
                }

                if (insiders.Count == 0)
                {
                    continue;
                }

                var scenario = new InjectedScenario
                {
                    Id = _scenarios.Count,
                    Kind = kind,
                    Principals = insiders.Select(p => p.Principal.Name).ToList(),
                    FirstDay = first,
                    LastDay = first + length - 1,
                };
                _scenarios.Add(scenario);
                foreach (var p in insiders)
                {
                    used.Add(p.Principal.Name);
                    _scenarioOf[p.Principal.Name] = scenario.Id;
                }
            }
        }
    }

    /// <summary>The stream, in ledger order from index 0: the population's accounts and first keys, then each day's traffic.</summary>
    public IEnumerable<GeneratedEvent> Generate()
    {
        var random = new Random(unchecked((_options.Seed * 7919) + 17));
        long index = 0;
        var day = new List<(long Ticks, int Order, InsiderEvent Event, int Scenario)>();
        var origin = _options.Start;
        foreach (var p in _profiles)
        {
            day.Add((origin.UtcTicks, day.Count, Event("user.added", origin, "system", p.Principal.Name, ("name", p.Principal.Name[5..]), ("kind", "user"), ("roles.0", p.Principal.Role), ("clearance", p.Principal.Clearance)), -1));
            day.Add((origin.UtcTicks, day.Count, KeyCreated(origin, "system", p), -1));
        }

        var carried = new List<(long Ticks, int Order, InsiderEvent Event, int Scenario)>();
        for (var d = 0; d < _options.Days; d++)
        {
            if (d > 0)
            {
                day.Clear();
                day.AddRange(carried);
                carried.Clear();
            }

            var date = origin.AddDays(d);
            foreach (var p in _profiles)
            {
                Normal(random, p, d, date, day);
            }

            foreach (var scenario in _scenarios.Where(s => d >= s.FirstDay && d <= s.LastDay))
            {
                Inject(random, scenario, d, date, day);
            }

            day.Sort((a, b) => a.Ticks != b.Ticks ? a.Ticks.CompareTo(b.Ticks) : a.Order.CompareTo(b.Order));
            // An entry that ends after midnight (a completion) is written with the next day's entries.
            var midnight = origin.AddDays(d + 1).UtcTicks;
            foreach (var entry in day)
            {
                if (entry.Ticks >= midnight && d + 1 < _options.Days)
                {
                    carried.Add((entry.Ticks, -1, entry.Event, entry.Scenario));
                    continue;
                }

                yield return new GeneratedEvent(entry.Event, index++, entry.Scenario);
            }
        }
    }

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    private static int Poisson(Random random, double lambda)
    {
        if (lambda <= 0)
        {
            return 0;
        }

        if (lambda > 30)
        {
            return Math.Max(0, (int)Math.Round(lambda + (Math.Sqrt(lambda) * Normal(random))));
        }

        var limit = Math.Exp(-lambda);
        var k = 0;
        var product = random.NextDouble();
        while (product > limit)
        {
            k++;
            product *= random.NextDouble();
        }

        return k;
    }

    private static InsiderEvent Event(string type, DateTimeOffset time, string actor, string subject, params (string Key, string Value)[] details)
    {
        var map = new Dictionary<string, string>(details.Length, StringComparer.Ordinal);
        foreach (var (key, value) in details)
        {
            map[key] = value;
        }

        return new InsiderEvent { Type = type, Time = time, Actor = actor, Subject = subject, Details = map };
    }

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static InsiderEvent KeyCreated(DateTimeOffset time, string actor, Profile p)
    {
        p.Keys++;
        var id = $"k{p.Principal.Name[6..]}x{p.Keys}";
        return Event("key.created", time, actor, "key:" + id, ("principal", p.Principal.Name[5..]), ("name", "key" + Text(p.Keys)));
    }

    private static DateTimeOffset At(DateTimeOffset date, double hour) => date.AddHours(Math.Clamp(hour, 0, 23.999));

    private static DateTimeOffset WorkTime(Random random, Profile p, DateTimeOffset date) => At(date, p.StartHour + (random.NextDouble() * p.Length));

    private void Normal(Random random, Profile p, int d, DateTimeOffset date, List<(long, int, InsiderEvent, int)> day)
    {
        var weekend = date.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday;
        var present = weekend ? random.NextDouble() < (p.OnCall ? 0.3 : 0.03) : random.NextDouble() < 0.92;
        if (!present)
        {
            return;
        }

        var role = p.Principal.Role;
        var busy = Math.Exp(Normal(random) * 0.35) * (weekend ? 0.3 : 1);
        var lambda = role switch { "analyst" => 20, "engineer" => 25, "operator" => 8, "auditor" => 6, _ => 6 } * p.Rate * busy;
        var requests = Poisson(random, lambda);
        for (var r = 0; r < requests; r++)
        {
            var time = p.OnCall && random.NextDouble() < 0.15 ? At(date, 18 + (random.NextDouble() * 5)) : WorkTime(random, p, date);
            Request(random, p, time, day, -1, aboveClearance: random.NextDouble() < 0.002, bulk: false);
        }

        var workday = !weekend;
        if (role == "auditor" && workday)
        {
            var reads = Poisson(random, 1.5) + (random.NextDouble() < 0.04 ? 8 + random.Next(13) : 0);
            for (var i = 0; i < reads; i++)
            {
                Retention(random, p, WorkTime(random, p, date), day, -1);
            }

            if (random.NextDouble() < 0.15)
            {
                Export(random, p, WorkTime(random, p, date), day, -1);
            }
        }

        if (role == "admin" && workday)
        {
            if (random.NextDouble() < 0.1)
            {
                Retention(random, p, WorkTime(random, p, date), day, -1);
            }

            if (random.NextDouble() < 0.03)
            {
                Export(random, p, WorkTime(random, p, date), day, -1);
            }

            for (var i = Poisson(random, 0.5); i > 0; i--)
            {
                var other = _profiles[random.Next(_profiles.Count)];
                var principal = other.Principal;
                var time = WorkTime(random, p, date);
                day.Add((time.UtcTicks, day.Count, Event("user.updated", time, p.Principal.Name, principal.Name, ("name", principal.Name[5..]), ("roles.0", principal.Role), ("clearance", principal.Clearance)), -1));
            }

            for (var i = Poisson(random, 0.3); i > 0; i--)
            {
                var time = WorkTime(random, p, date);
                day.Add((time.UtcTicks, day.Count, KeyCreated(time, p.Principal.Name, _profiles[random.Next(_profiles.Count)]), -1));
            }
        }

        if (workday)
        {
            var keys = random.NextDouble() < (role == "engineer" ? 1 / 12.0 : 1 / 40.0) ? (random.NextDouble() < 0.1 ? 2 + random.Next(2) : 1) : 0;
            for (var i = 0; i < keys; i++)
            {
                var time = WorkTime(random, p, date);
                day.Add((time.UtcTicks, day.Count, KeyCreated(time, p.Principal.Name, p), -1));
            }
        }

        if (role == "operator" && workday && random.NextDouble() < 0.3)
        {
            var teammates = _profiles.Where(o => o.Team == p.Team && o != p).ToList();
            if (teammates.Count > 0)
            {
                Import(random, p, teammates[random.Next(teammates.Count)], WorkTime(random, p, date), day, -1, reject: random.NextDouble() < 0.08);
            }
        }

        if (random.NextDouble() < 0.04)
        {
            var time = WorkTime(random, p, date);
            for (var i = 1 + random.Next(3); i > 0; i--)
            {
                day.Add((time.UtcTicks, day.Count, Event("auth.failed", time, "anonymous", "/v1/chat/completions", ("scheme", "ApiKey"), ("reason", "expired_key"), ("method", "POST"), ("keyId", $"k{p.Principal.Name[6..]}x1")), -1));
                time = time.AddSeconds(5 + random.Next(30));
            }
        }
    }

    private void Request(Random random, Profile p, DateTimeOffset time, List<(long, int, InsiderEvent, int)> day, int scenario, bool aboveClearance, bool bulk)
    {
        var requestId = $"chatcmpl-{random.Next():x8}";
        var model = Models[random.Next(Models.Length)];
        var rank = aboveClearance ? Math.Min(3, p.ClearanceRank + 1) : Math.Min(p.ClearanceRank, (int)Math.Floor(Math.Pow(random.NextDouble(), 1.5) * (p.ClearanceRank + 1)));
        var label = Clearances[rank];
        var name = p.Principal.Name;
        if (aboveClearance && rank > p.ClearanceRank)
        {
            day.Add((time.UtcTicks, day.Count, Event("request.denied", time, name, "model:" + model, ("requestId", requestId), ("endpoint", "chat.completions"), ("model", model), ("status", "403"), ("rule", "policy.clearance"), ("policy.allowed", "false"), ("policy.rule", "policy.clearance"), ("policy.label", label), ("policy.clearance", p.Principal.Clearance)), scenario));
            return;
        }

        if (!bulk && random.NextDouble() < 0.004)
        {
            day.Add((time.UtcTicks, day.Count, Event("request.denied", time, name, "model:" + model, ("requestId", requestId), ("endpoint", "chat.completions"), ("model", model), ("status", "429"), ("rule", "quota.requests-per-minute"), ("policy.allowed", "true"), ("policy.label", label), ("policy.clearance", p.Principal.Clearance)), scenario));
            return;
        }

        var egress = !bulk && p.Principal.Role is "analyst" or "engineer" && random.NextDouble() < 0.003;
        var admitted = egress
            ? Event("request.admitted", time, name, "model:" + model, ("requestId", requestId), ("endpoint", "chat.completions"), ("model", model), ("backend", "local"), ("stream", "false"), ("policy.allowed", "true"), ("policy.label", label), ("policy.clearance", p.Principal.Clearance), ("policy.egress.0.backend", "upstream-a"), ("policy.egress.0.action", "block"), ("policy.egress.0.allowed", "false"))
            : Event("request.admitted", time, name, "model:" + model, ("requestId", requestId), ("endpoint", "chat.completions"), ("model", model), ("backend", "local"), ("stream", "false"), ("policy.allowed", "true"), ("policy.label", label), ("policy.clearance", p.Principal.Clearance));
        day.Add((time.UtcTicks, day.Count, admitted, scenario));
        var prompt = (int)Math.Exp(5.5 + (Normal(random) * 0.6));
        var completion = bulk ? 1500 + random.Next(2500) : (int)Math.Exp(5.2 + (Normal(random) * 0.6));
        var end = time.AddMilliseconds(200 + (completion * 8));
        day.Add((end.UtcTicks, day.Count, Event("request.completed", end, name, "model:" + model, ("requestId", requestId), ("endpoint", "chat.completions"), ("outcome", "ok"), ("status", "200"), ("backend", "local"), ("promptTokens", Text(prompt)), ("completionTokens", Text(completion))), scenario));
    }

    private static void Retention(Random random, Profile p, DateTimeOffset time, List<(long, int, InsiderEvent, int)> day, int scenario) =>
        day.Add((time.UtcTicks, day.Count, Event("retention.read", time, p.Principal.Name, "ledger:" + Text(random.Next(1_000_000)), ("requestId", $"chatcmpl-{random.Next():x8}")), scenario));

    private static void Export(Random random, Profile p, DateTimeOffset time, List<(long, int, InsiderEvent, int)> day, int scenario)
    {
        var from = random.Next(1_000_000);
        var entries = 1000 + random.Next(50_000);
        day.Add((time.UtcTicks, day.Count, Event("ledger.exported", time, p.Principal.Name, $"ledger:{from}-{from + entries}", ("from", Text(from)), ("to", Text(from + entries)), ("entries", Text(entries))), scenario));
    }

    private static void Import(Random random, Profile importer, Profile approver, DateTimeOffset time, List<(long, int, InsiderEvent, int)> day, int scenario, bool reject)
    {
        var id = $"import:imp_{random.Next():x8}";
        var manifest = $"{random.NextInt64():x16}";
        day.Add((time.UtcTicks, day.Count, Event("import.received", time, importer.Principal.Name, id, ("source", "stream")), scenario));
        var verified = time.AddMinutes(2);
        if (reject)
        {
            day.Add((verified.UtcTicks, day.Count, Event("import.rejected", verified, importer.Principal.Name, id, ("stage", "scan"), ("reason", "scanner-finding"), ("detail", "a scanner flagged the bundle")), scenario));
            return;
        }

        day.Add((verified.UtcTicks, day.Count, Event("import.verified", verified, importer.Principal.Name, id, ("kind", "model"), ("manifest_sha256", manifest), ("required_approvals", "1")), scenario));
        var approved = verified.AddMinutes(5 + random.Next(120));
        day.Add((approved.UtcTicks, day.Count, Event("import.approved", approved, approver.Principal.Name, id, ("manifest_sha256", manifest), ("approvals", "1"), ("required_approvals", "1")), scenario));
        var activated = approved.AddSeconds(3);
        day.Add((activated.UtcTicks, day.Count, Event("import.activated", activated, approver.Principal.Name, id, ("kind", "model"), ("manifest_sha256", manifest), ("approvers.0", approver.Principal.Name[5..])), scenario));
    }

    private void Inject(Random random, InjectedScenario scenario, int d, DateTimeOffset date, List<(long, int, InsiderEvent, int)> day)
    {
        var p = _profiles.First(x => x.Principal.Name == scenario.Principals[0]);
        var workday = date.DayOfWeek is not (DayOfWeek.Saturday or DayOfWeek.Sunday);
        var id = scenario.Id;
        switch (scenario.Kind)
        {
            case InsiderScenarioKind.BulkRetentionReads:
            {
                var start = p.StartHour + (random.NextDouble() * (p.Length - 3));
                for (var i = 30 + random.Next(51); i > 0; i--)
                {
                    Retention(random, p, At(date, start + (random.NextDouble() * 2.5)), day, id);
                }

                break;
            }

            case InsiderScenarioKind.BulkLedgerExports:
                for (var i = 5 + random.Next(8); i > 0; i--)
                {
                    Export(random, p, WorkTime(random, p, date), day, id);
                }

                break;
            case InsiderScenarioKind.ProbingAboveClearance:
                for (var i = 4 + random.Next(7); i > 0; i--)
                {
                    Request(random, p, WorkTime(random, p, date), day, id, aboveClearance: true, bulk: false);
                }

                break;
            case InsiderScenarioKind.AfterHoursBulkGeneration:
            {
                var count = 60 + random.Next(91);
                for (var i = 0; i < count; i++)
                {
                    Request(random, p, At(date, 22 + (random.NextDouble() * 1.99)), day, id, aboveClearance: false, bulk: true);
                }

                break;
            }

            case InsiderScenarioKind.KeySprawl:
                for (var i = 3 + random.Next(5); i > 0; i--)
                {
                    var time = WorkTime(random, p, date);
                    day.Add((time.UtcTicks, day.Count, KeyCreated(time, p.Principal.Name, p), id));
                }

                break;
            case InsiderScenarioKind.ApprovalCollusion:
            {
                var q = _profiles.First(x => x.Principal.Name == scenario.Principals[1]);
                if (workday && random.NextDouble() < 0.9)
                {
                    Import(random, p, q, WorkTime(random, p, date), day, id, reject: false);
                }

                if (workday && random.NextDouble() < 0.9)
                {
                    Import(random, q, p, WorkTime(random, q, date), day, id, reject: false);
                }

                break;
            }

            default:
                if (workday)
                {
                    for (var i = 1 + random.Next(3); i > 0; i--)
                    {
                        Retention(random, p, WorkTime(random, p, date), day, id);
                    }
                }

                break;
        }
    }

    /// <summary>The scenario whose insider this principal is, or -1.</summary>
    internal int ScenarioOf(string principal) => _scenarioOf.TryGetValue(principal, out var id) ? id : -1;
}
