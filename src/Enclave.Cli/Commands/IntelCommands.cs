using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Enclave.Core;
using Enclave.Intel.Indicators;
using Enclave.Intel.Insider;
using Enclave.Intel.Misp;
using Enclave.Intel.Sigma;
using Enclave.Intel.Stix;
using Enclave.Intel.Stix.Patterns;

namespace Enclave.Cli.Commands;

/// <summary><c>enclave intel ...</c>: threat intelligence checked locally, before a feed crosses the airlock (needs no enclave).</summary>
internal static class IntelCommands
{
    public static Command Create(CliContext context)
    {
        var intel = new Command("intel", "Threat intelligence: STIX 2.1 bundles and MISP feeds, Sigma detections (test, sigma, evaluate run locally); status, hunt and export ask the running enclave.");
        intel.Subcommands.Add(Test(context));
        var sigma = new Command("sigma", "Sigma detection and correlation rules over audit events (product: enclave).");
        sigma.Subcommands.Add(SigmaTest(context));
        intel.Subcommands.Add(sigma);
        intel.Subcommands.Add(Evaluate(context));
        IntelLiveCommands.AddTo(intel, context);
        return intel;
    }

    private static Command Test(CliContext context)
    {
        var stix = new Option<string[]>("--stix") { Description = "A STIX 2.1 bundle file (repeatable).", AllowMultipleArgumentsPerToken = false };
        var misp = new Option<string[]>("--misp") { Description = "A MISP feed folder: manifest.json and UUID.json event files (repeatable)." };
        var observed = new Option<string?>("--observed") { Description = "A STIX 2.1 bundle with observed-data and the objects it refers to: whole patterns are evaluated against it, references and FOLLOWEDBY/WITHIN/REPEATS included." };
        var at = new Option<string?>("--at") { Description = "Judge indicator validity (valid_from, valid_until) at this UTC time (2026-01-31T00:00:00Z); default now." };
        var json = new Option<bool>("--json") { Description = "Print {\"results\":[{\"observable\",\"matches\":[indicator ids]}]} and the feed summary as JSON." };
        var observables = new Argument<string[]>("OBSERVABLE") { Description = "One comparison each: ipv4-addr:value=203.0.113.7, file:hashes.'SHA-256'=..., domain-name:value=example.com", Arity = ArgumentArity.ZeroOrMore };
        var command = new Command("test", "Print the IDs of the indicators in a feed that match observables or an observed-data bundle, and what in the feed cannot be evaluated.")
        {
            stix, misp, observed, at, json, observables,
        };
        command.SetAction((result, _) => CommandRunner.RunAsync(context, result.GetValue(json), async () =>
        {
            try
            {
                return await RunTestAsync(
                    context,
                    result.GetValue(stix) ?? [],
                    result.GetValue(misp) ?? [],
                    result.GetValue(observed),
                    result.GetValue(at),
                    result.GetValue(observables) ?? [],
                    result.GetValue(json)).ConfigureAwait(false);
            }
            catch (StixRejectedException ex)
            {
                throw new EnclaveFormatException(ex.Message, ex);
            }
            catch (StixPatternException ex)
            {
                throw new EnclaveFormatException(ex.Message, ex);
            }
        }));
        return command;
    }

    private static async Task<ExitCode> RunTestAsync(CliContext context, string[] stixFiles, string[] mispDirs, string? observedFile, string? atText, string[] observableTexts, bool json)
    {
        if (stixFiles.Length == 0 && mispDirs.Length == 0)
        {
            throw new ArgumentException("give the feed to test: --stix FILE and/or --misp DIR");
        }

        if ((observedFile is null) == (observableTexts.Length == 0))
        {
            throw new ArgumentException("give either OBSERVABLE arguments or --observed FILE (one of the two)");
        }

        var now = context.Clock.GetUtcNow();
        if (atText is not null && !StixTimestamp.TryParse(atText, out now))
        {
            throw new ArgumentException($"--at '{atText}' is not a UTC timestamp like 2026-01-31T00:00:00Z");
        }

        // Parse the observables first: a typo is reported before any feed is read.
        var parsedObservables = observableTexts.Select(Observable.Parse).ToList();

        var evaluator = new StixPatternEvaluator();
        var assessor = new IndicatorAssessor(evaluator);
        var assessments = new List<IndicatorAssessment>();
        var skipped = new List<(string Source, string? Id, string Reason)>();
        foreach (var file in stixFiles)
        {
            var bundle = new StixBundleReader().ReadFile(file);
            assessments.AddRange(bundle.Indicators.Select(i => assessor.Assess(i, file)));
            skipped.AddRange(bundle.Skipped.Select(s => (file, s.Id, s.Reason)));
        }

        var notes = new List<string>();
        foreach (var dir in mispDirs)
        {
            var feed = new MispFeedReader().ReadDirectory(dir);
            assessments.AddRange(feed.Indicators.Select(i => assessor.Assess(i, dir)));
            skipped.AddRange(feed.Skipped.Select(s => (dir, s.AttributeUuid, $"MISP {s.Type}: {s.Reason}")));
            if (feed.Note is not null)
            {
                notes.Add(feed.Note);
            }
        }

        var results = new List<(string Observable, List<IndicatorAssessment> Matches)>();
        if (observedFile is not null)
        {
            var observations = new StixBundleReader().ReadFile(observedFile).ObservedData;
            if (observations.Count == 0)
            {
                throw new ArgumentException($"{observedFile} holds no observed-data object to evaluate");
            }

            var matches = assessments.Where(a => a.Pattern is not null && a.Indicator.IsLiveAt(now) && evaluator.Matches(a.Pattern, observations)).ToList();
            results.Add((observedFile, matches));
        }
        else
        {
            var index = IndicatorIndex.Build(assessments, evaluator);
            var slots = new List<int>();
            foreach (var observable in parsedObservables)
            {
                slots.Clear();
                index.Match(observable, now, slots);
                results.Add((observable.ToString(), slots.Select(s => index[s]).ToList()));
            }
        }

        var counts = Enum.GetValues<IndicatorStatus>().ToDictionary(s => s, s => assessments.Count(a => a.Status == s));
        var listed = assessments.Where(a => a.Status != IndicatorStatus.Evaluable).ToList();
        if (json)
        {
            await CommandRunner.WriteJsonAsync(context, new JsonObject
            {
                ["results"] = new JsonArray(results.Select(r => (JsonNode)new JsonObject
                {
                    ["observable"] = r.Observable,
                    ["matches"] = new JsonArray(r.Matches.Select(m => (JsonNode)JsonValue.Create(m.Indicator.Id)!).ToArray()),
                }).ToArray()),
                ["feed"] = new JsonObject
                {
                    ["indicators"] = assessments.Count,
                    ["evaluable"] = counts[IndicatorStatus.Evaluable],
                    ["partial"] = counts[IndicatorStatus.Partial],
                    ["observedDataOnly"] = counts[IndicatorStatus.ObservedDataOnly],
                    ["notEvaluable"] = counts[IndicatorStatus.NotEvaluable],
                    ["skipped"] = skipped.Count,
                    ["notes"] = new JsonArray(notes.Select(n => (JsonNode)JsonValue.Create(n)!).ToArray()),
                    ["listed"] = new JsonArray(listed.Select(a => (JsonNode)new JsonObject
                    {
                        ["id"] = a.Indicator.Id,
                        ["status"] = Status(a.Status),
                        ["reasons"] = new JsonArray(a.Reasons.Select(r => (JsonNode)JsonValue.Create(r)!).ToArray()),
                    }).Concat(skipped.Select(s => (JsonNode)new JsonObject
                    {
                        ["id"] = s.Id,
                        ["status"] = "skipped",
                        ["reasons"] = new JsonArray(JsonValue.Create(s.Reason)),
                    })).ToArray()),
                },
            }).ConfigureAwait(false);
            return ExitCode.Success;
        }

        var text = new StringBuilder();
        foreach (var (observable, matches) in results)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"{observable}: {(matches.Count == 0 ? "no match" : $"{matches.Count} match(es)")}");
            foreach (var match in matches)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"  {match.Indicator.Id}{(match.Indicator.Name is { } name ? "  " + name : string.Empty)}");
            }
        }

        await context.Out.WriteAsync(text.ToString()).ConfigureAwait(false);
        var summary = new StringBuilder();
        summary.AppendLine(CultureInfo.InvariantCulture,
            $"feed: {assessments.Count} indicators: {counts[IndicatorStatus.Evaluable]} evaluable, {counts[IndicatorStatus.Partial]} partial, {counts[IndicatorStatus.ObservedDataOnly]} observed-data only, {counts[IndicatorStatus.NotEvaluable]} not evaluable; {skipped.Count} objects skipped");
        foreach (var note in notes)
        {
            summary.AppendLine(CultureInfo.InvariantCulture, $"note: {note}");
        }

        foreach (var a in listed)
        {
            summary.AppendLine(CultureInfo.InvariantCulture, $"  {Status(a.Status)} {a.Indicator.Id}: {string.Join("; ", a.Reasons)}");
        }

        foreach (var (source, id, reason) in skipped)
        {
            summary.AppendLine(CultureInfo.InvariantCulture, $"  skipped {id ?? "(no id)"} in {source}: {reason}");
        }

        await context.Error.WriteAsync(summary.ToString()).ConfigureAwait(false);
        return ExitCode.Success;
    }

    /// <summary>Longest line of an events file (bytes).</summary>
    private const int MaxEventLineBytes = 1024 * 1024;

    private static Command SigmaTest(CliContext context)
    {
        var events = new Option<string>("--events") { Description = "Audit events, one canonical audit event JSON per line (as 'enclave ledger get' prints each entry), in time order.", Required = true };
        var firstIndex = new Option<long>("--first-index") { Description = "The ledger index of the file's first event (evidence is named by index: first index + the event's place in the file).", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "Print {\"matches\":[...],\"events\":N,\"rules\":{...}} as JSON." };
        var rules = new Argument<string[]>("RULES") { Description = "Sigma rule files, or folders searched for *.yml and *.yaml.", Arity = ArgumentArity.OneOrMore };
        var command = new Command("test", "Evaluate Sigma rules (detections and correlations) over audit events and print the matches, and every rule that could not be loaded with its reason.")
        {
            events, firstIndex, json, rules,
        };
        command.SetAction((result, _) => CommandRunner.RunAsync(context, result.GetValue(json), () =>
            RunSigmaTestAsync(context, result.GetValue(rules) ?? [], result.GetValue(events)!, result.GetValue(firstIndex), result.GetValue(json))));
        return command;
    }

    private static async Task<ExitCode> RunSigmaTestAsync(CliContext context, string[] rulePaths, string eventsFile, long firstIndex, bool json)
    {
        foreach (var path in rulePaths)
        {
            if (!File.Exists(path) && !Directory.Exists(path))
            {
                throw new FileNotFoundException($"rule file or folder {path} not found", path);
            }
        }

        var set = SigmaRuleSet.Load(rulePaths);
        if (set.Rules.Count == 0)
        {
            throw new EnclaveFormatException($"no Sigma rule could be loaded from {string.Join(", ", rulePaths)}" + (set.Skipped.Count > 0 ? $": {set.Skipped[0].Detail}" : string.Empty));
        }

        var engine = new SigmaEngine(set);
        var matches = new List<SigmaMatch>();
        long count = 0;
        using (var stream = File.OpenRead(eventsFile))
        using (var reader = new StreamReader(stream, new UTF8Encoding(false, true)))
        {
            var lineNumber = 0;
            while (true)
            {
                string? line;
                try
                {
                    line = ReadBoundedLine(reader);
                }
                catch (DecoderFallbackException ex)
                {
                    throw new EnclaveFormatException($"{eventsFile}: line {lineNumber + 1}: invalid UTF-8", ex);
                }

                if (line is null)
                {
                    break;
                }

                lineNumber++;
                if (string.IsNullOrWhiteSpace(line))
                {
                    continue;
                }

                SigmaEvent e;
                try
                {
                    e = SigmaEvent.FromAuditJson(Encoding.UTF8.GetBytes(line), checked(firstIndex + count));
                }
                catch (FormatException ex)
                {
                    throw new EnclaveFormatException($"{eventsFile}: line {lineNumber}: {ex.Message}", ex);
                }

                count++;
                matches.AddRange(engine.Observe(e));
            }
        }

        matches.AddRange(engine.Flush());
        if (json)
        {
            await CommandRunner.WriteJsonAsync(context, new JsonObject
            {
                ["matches"] = new JsonArray(matches.Select(m => (JsonNode)new JsonObject
                {
                    ["kind"] = m.Kind == SigmaMatchKind.Detection ? "detection" : "correlation",
                    ["ruleId"] = m.RuleId,
                    ["title"] = m.Title,
                    ["level"] = m.Level,
                    ["time"] = m.Time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
                    ["evidence"] = new JsonArray(m.Evidence.Select(i => (JsonNode)JsonValue.Create(i)).ToArray()),
                    ["group"] = new JsonObject(m.Group.Select(g => KeyValuePair.Create(g.Key, (JsonNode?)JsonValue.Create(g.Value)))),
                    ["value"] = m.Value is { } v ? JsonValue.Create(v) : null,
                }).ToArray()),
                ["events"] = count,
                ["rules"] = new JsonObject
                {
                    ["detections"] = set.Rules.Count,
                    ["correlations"] = set.Correlations.Count,
                    ["skipped"] = new JsonArray(set.Skipped.Select(s => (JsonNode)new JsonObject
                    {
                        ["source"] = s.Source,
                        ["id"] = s.Id,
                        ["title"] = s.Title,
                        ["reason"] = SigmaRejectedException.ToCode(s.Reason),
                        ["detail"] = s.Detail,
                    }).ToArray()),
                },
            }).ConfigureAwait(false);
            return ExitCode.Success;
        }

        var text = new StringBuilder();
        foreach (var m in matches)
        {
            text.Append(CultureInfo.InvariantCulture, $"{m.Time.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss.fff'Z'}  {(m.Kind == SigmaMatchKind.Detection ? "detection" : "correlation")}  {m.Level ?? "-"}  {m.Title}");
            if (m.RuleId is not null)
            {
                text.Append(CultureInfo.InvariantCulture, $" ({m.RuleId})");
            }

            if (m.Group.Count > 0)
            {
                text.Append(CultureInfo.InvariantCulture, $"  group {string.Join(' ', m.Group.Select(g => $"{g.Key}={g.Value}"))}");
            }

            if (m.Value is { } value)
            {
                text.Append(CultureInfo.InvariantCulture, $"  value {value}");
            }

            text.AppendLine(CultureInfo.InvariantCulture, $"  evidence {string.Join(',', m.Evidence)}");
        }

        await context.Out.WriteAsync(text.ToString()).ConfigureAwait(false);
        var summary = new StringBuilder();
        summary.AppendLine(CultureInfo.InvariantCulture, $"sigma: {set.Rules.Count} detection rules, {set.Correlations.Count} correlation rules, {set.Skipped.Count} not loaded; {count} events, {matches.Count} matches");
        foreach (var s in set.Skipped)
        {
            summary.AppendLine(CultureInfo.InvariantCulture, $"  not loaded {s.Id ?? "(no id)"} in {s.Source}: {SigmaRejectedException.ToCode(s.Reason)}: {s.Detail}");
        }

        await context.Error.WriteAsync(summary.ToString()).ConfigureAwait(false);
        return ExitCode.Success;
    }

    private static string? ReadBoundedLine(StreamReader reader)
    {
        var line = new StringBuilder();
        int c;
        while ((c = reader.Read()) >= 0)
        {
            if (c == '\n')
            {
                return line.ToString();
            }

            if (line.Length >= MaxEventLineBytes)
            {
                throw new EnclaveFormatException($"an events line is longer than {MaxEventLineBytes} characters");
            }

            line.Append((char)c);
        }

        return line.Length == 0 ? null : line.ToString();
    }
    private static Command Evaluate(CliContext context)
    {
        var seed = new Option<int>("--seed") { Description = "Generator seed (tuned on 1-5; report others).", DefaultValueFactory = _ => 100 };
        var principals = new Option<int>("--principals") { Description = "Principals generated (20..1,000,000).", DefaultValueFactory = _ => 1000 };
        var days = new Option<int>("--days") { Description = "Days of traffic (14..3,650).", DefaultValueFactory = _ => 35 };
        var budget = new Option<double>("--budget") { Description = "Alerts per day per 1,000 principals.", DefaultValueFactory = _ => 5 };
        var json = new Option<bool>("--json") { Description = "Print the evaluation as JSON." };
        var command = new Command("evaluate", "Run insider-threat detection on seeded generated traffic with injected insider scenarios; print recall, precision and alerts per day at a fixed alert budget, per scenario.")
        {
            seed, principals, days, budget, json,
        };
        command.SetAction((result, _) => CommandRunner.RunAsync(context, result.GetValue(json), async () =>
        {
            var options = new ScenarioOptions { Seed = result.GetValue(seed), Principals = result.GetValue(principals), Days = result.GetValue(days) };
            InsiderEvaluation evaluation;
            try
            {
                evaluation = InsiderEvaluator.Run(options, result.GetValue(budget));
            }
            catch (ArgumentOutOfRangeException ex)
            {
                throw new ArgumentException(ex.Message.Split(" (Parameter", 2)[0], ex);
            }

            if (result.GetValue(json))
            {
                await CommandRunner.WriteJsonAsync(context, new JsonObject
                {
                    ["seed"] = options.Seed,
                    ["principals"] = options.Principals,
                    ["days"] = options.Days,
                    ["budget"] = evaluation.Budget,
                    ["events"] = evaluation.Events,
                    ["signals"] = evaluation.Signals,
                    ["candidates"] = evaluation.Candidates,
                    ["alerts"] = evaluation.Alerts,
                    ["alertsPerDay"] = Math.Round(evaluation.AlertsPerDay, 3),
                    ["truePositives"] = evaluation.TruePositives,
                    ["precision"] = Math.Round(evaluation.Precision, 3),
                    ["recall"] = Math.Round(evaluation.Recall, 3),
                    ["evidenceOnInjected"] = Math.Round(evaluation.EvidenceOnInjected, 3),
                    ["microsecondsPerEvent"] = Math.Round(evaluation.MicrosecondsPerEvent, 3),
                    ["scenarios"] = new JsonArray(evaluation.Scenarios.Select(r => (JsonNode)new JsonObject
                    {
                        ["kind"] = ScenarioName(r.Kind),
                        ["injected"] = r.Injected,
                        ["detected"] = r.Detected,
                        ["recall"] = Math.Round(r.Recall, 3),
                        ["alerts"] = r.Alerts,
                    }).ToArray()),
                }).ConfigureAwait(false);
                return ExitCode.Success;
            }

            var text = new StringBuilder();
            text.AppendLine(CultureInfo.InvariantCulture, $"seed {options.Seed}, {options.Principals} principals, {options.Days} days: {evaluation.Events} events, {evaluation.Signals} signals");
            text.AppendLine(CultureInfo.InvariantCulture, $"budget {evaluation.Budget} alerts/day/1,000 principals: {evaluation.Alerts} alerts ({evaluation.AlertsPerDay:F2}/day), recall {evaluation.Recall:F2}, precision {evaluation.Precision:F2}");
            foreach (var r in evaluation.Scenarios)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"  {ScenarioName(r.Kind),-28} {r.Detected}/{r.Injected} detected (recall {r.Recall:F2}), {r.Alerts} alerts");
            }

            await context.Out.WriteAsync(text.ToString()).ConfigureAwait(false);
            return ExitCode.Success;
        }));
        return command;
    }

    private static string ScenarioName(InsiderScenarioKind kind) => kind switch
    {
        InsiderScenarioKind.BulkRetentionReads => "bulk-retention-reads",
        InsiderScenarioKind.BulkLedgerExports => "bulk-ledger-exports",
        InsiderScenarioKind.ProbingAboveClearance => "probing-above-clearance",
        InsiderScenarioKind.AfterHoursBulkGeneration => "after-hours-bulk-generation",
        InsiderScenarioKind.KeySprawl => "key-sprawl",
        InsiderScenarioKind.ApprovalCollusion => "approval-collusion",
        _ => "slow-and-low",
    };

    private static string Status(IndicatorStatus status) => status switch
    {
        IndicatorStatus.Evaluable => "evaluable",
        IndicatorStatus.Partial => "partial",
        IndicatorStatus.ObservedDataOnly => "observed-data-only",
        _ => "not-evaluable",
    };
}
