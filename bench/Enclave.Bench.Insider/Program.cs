using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Intel.Detections;
using Enclave.Intel.Insider;
using Enclave.Intel.Sigma;

// Insider benchmark: microseconds per audit event through InsiderEngine.Observe on one thread, over traffic from the
// seeded scenario generator (held in memory first, so generation is not timed). With --evaluate, also the detection
// results per seed (recall, precision, alerts per day at the budget). Markdown on stdout.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;

var principalsOption = new Option<int>("--principals") { Description = "Principals generated", DefaultValueFactory = _ => 1000 };
var daysOption = new Option<int>("--days") { Description = "Days generated", DefaultValueFactory = _ => 35 };
var seedOption = new Option<int>("--seed") { Description = "Generator seed", DefaultValueFactory = _ => 42 };
var roundsOption = new Option<int>("--rounds") { Description = "Measured passes over the stream (each with a fresh engine)", DefaultValueFactory = _ => 3 };
var evaluateOption = new Option<string?>("--evaluate") { Description = "Also evaluate detection on these seeds (FIRST-LAST), e.g. 100-109" };
var budgetOption = new Option<double>("--budget") { Description = "Alerts per day per 1,000 principals", DefaultValueFactory = _ => 5 };
var outOption = new Option<FileInfo?>("--out") { Description = "Also write the markdown report to this file" };
var onlineOption = new Option<int>("--online-rounds") { Description = "Measured passes of the live detection path per ledger entry (canonical bytes parsed, insider engine, Sigma engine with the example rules), as DetectionPipeline scores them", DefaultValueFactory = _ => 0 };
var root = new RootCommand("Enclave insider benchmark: microseconds per audit event (target under 5).")
{
    principalsOption, daysOption, seedOption, roundsOption, evaluateOption, budgetOption, outOption, onlineOption,
};
root.SetAction(async (result, _) =>
{
    var report = Run(result.GetValue(principalsOption), result.GetValue(daysOption), result.GetValue(seedOption), result.GetValue(roundsOption), result.GetValue(evaluateOption), result.GetValue(budgetOption), string.Join(' ', args))
        + Online(result.GetValue(principalsOption), result.GetValue(daysOption), result.GetValue(seedOption), result.GetValue(onlineOption));
    Console.Out.Write(report);
    if (result.GetValue(outOption) is { } output)
    {
        output.Directory?.Create();
        await File.WriteAllTextAsync(output.FullName, report).ConfigureAwait(false);
    }

    return 0;
});
return await root.Parse(args).InvokeAsync().ConfigureAwait(false);

// The live path of DetectionPipeline.Score: the entry's canonical bytes (as the ledger feed hands them over) parsed once
// (AuditEntryView) into the insider and the Sigma event, the detections' own entries skipped, InsiderEngine.Observe,
// SigmaEngine.Observe with the example rules of src/Enclave.Intel/Sigma/Rules (detections and correlations).
static string Online(int principals, int days, int seed, int rounds)
{
    if (rounds <= 0)
    {
        return string.Empty;
    }

    var text = new StringBuilder();
    var entries = new ScenarioGenerator(new ScenarioOptions { Seed = seed, Principals = principals, Days = days }).Generate()
        .Select(e => (Bytes: Canonical(e.Event), e.LedgerIndex)).ToArray();
    var rules = SigmaRuleSet.Load([RulesFolder()]);
    text.AppendLine($"Live detection path: {entries.Length:N0} canonical ledger entries ({entries.Sum(e => (long)e.Bytes.Length) / entries.Length} bytes on average), {rules.Rules.Count} Sigma rules and {rules.Correlations.Count} correlations.");
    text.AppendLine();
    text.AppendLine("| round | path | entries | wall s | µs per entry (wall) | CPU s | µs per entry (CPU) | insider signals | Sigma matches | allocated MB |");
    text.AppendLine("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (var round = 1; round <= rounds; round++)
    {
        // "parse twice" is the path before issue #10 (InsiderEvent.FromAuditJson, then SigmaEvent.FromAuditJson), kept
        // as the baseline and measured in the same round as the live "parse once" path (AuditEntryView).
        foreach (var once in new[] { false, true })
        {
            var insider = new InsiderEngine();
            var sigma = new SigmaEngine(rules);
            int signals = 0, matches = 0;
            var allocated = GC.GetAllocatedBytesForCurrentThread();
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            foreach (var (bytes, index) in entries)
            {
                var view = once ? AuditEntryView.Parse(bytes, index) : null;
                var e = view?.Insider ?? InsiderEvent.FromAuditJson(bytes);
                if (e.Type.StartsWith("alert.", StringComparison.Ordinal) || e.Type.StartsWith("detections.", StringComparison.Ordinal))
                {
                    continue;
                }

                signals += insider.Observe(e, index).Count;
                matches += sigma.Observe(view is null ? SigmaEvent.FromAuditJson(bytes, index) : view.Sigma!).Count;
            }

            clock.Stop();
            cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;
            allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
            text.AppendLine($"| {round} | {(once ? "parse once" : "parse twice")} | {entries.Length:N0} | {clock.Elapsed.TotalSeconds:F2} | {clock.Elapsed.TotalMicroseconds / entries.Length:F3} | {cpu.TotalSeconds:F2} | {cpu.TotalMicroseconds / entries.Length:F3} | {signals:N0} | {matches:N0} | {allocated / 1e6:F1} |");
        }
    }

    text.AppendLine();
    return text.ToString();
}

static byte[] Canonical(InsiderEvent e)
{
    var details = new JsonObject();
    foreach (var (key, value) in e.Details)
    {
        details[key] = value;
    }

    return new Enclave.Core.Audit.AuditEvent { Type = e.Type, Time = e.Time, Actor = e.Actor, Subject = e.Subject.Length == 0 ? "-" : e.Subject, Details = JsonSerializer.SerializeToElement(details) }.ToCanonicalJson();
}

static string RulesFolder()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        var candidate = Path.Combine(dir.FullName, "src", "Enclave.Intel", "Sigma", "Rules");
        if (Directory.Exists(candidate))
        {
            return candidate;
        }
    }

    throw new DirectoryNotFoundException("no src/Enclave.Intel/Sigma/Rules above " + AppContext.BaseDirectory);
}

static string Run(int principals, int days, int seed, int rounds, string? evaluate, double budget, string arguments)
{
    var text = new StringBuilder();
    text.AppendLine($"# Insider scoring benchmark (`{arguments}`)");
    text.AppendLine();
    if (rounds > 0)
    {
        var generate = Stopwatch.StartNew();
        var events = new ScenarioGenerator(new ScenarioOptions { Seed = seed, Principals = principals, Days = days }).Generate().Select(e => (e.Event, e.LedgerIndex)).ToArray();
        generate.Stop();
        text.AppendLine($"{events.Length:N0} events ({principals:N0} principals, {days} days, seed {seed}), generated in {generate.Elapsed.TotalSeconds:F1} s.");
        text.AppendLine();
        text.AppendLine("| round | events | wall s | µs per event (wall) | CPU s | µs per event (CPU) | signals | allocated MB |");
        text.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        for (var round = 1; round <= rounds; round++)
        {
            var engine = new InsiderEngine();
            var signals = 0;
            var allocated = GC.GetAllocatedBytesForCurrentThread();
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            foreach (var (entry, index) in events)
            {
                signals += engine.Observe(entry, index).Count;
            }

            clock.Stop();
            cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;
            allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
            text.AppendLine($"| {round} | {events.Length:N0} | {clock.Elapsed.TotalSeconds:F2} | {clock.Elapsed.TotalMicroseconds / events.Length:F3} | {cpu.TotalSeconds:F2} | {cpu.TotalMicroseconds / events.Length:F3} | {signals:N0} | {allocated / 1e6:F1} |");
        }

        text.AppendLine();
    }

    if (evaluate is not null)
    {
        var parts = evaluate.Split('-');
        var first = int.Parse(parts[0], CultureInfo.InvariantCulture);
        var last = parts.Length > 1 ? int.Parse(parts[1], CultureInfo.InvariantCulture) : first;
        var kinds = Enum.GetValues<InsiderScenarioKind>();
        text.AppendLine($"Detection at {budget} alerts per day per 1,000 principals ({principals:N0} principals, {days} days), seeds {first}-{last}:");
        text.AppendLine();
        text.AppendLine("| seed | recall | precision | alerts/day | " + string.Join(" | ", kinds) + " |");
        text.AppendLine("| ---: | ---: | ---: | ---: |" + string.Concat(kinds.Select(_ => " ---: |")));
        var injected = new int[kinds.Length];
        var detected = new int[kinds.Length];
        int alerts = 0, truePositives = 0;
        for (var s = first; s <= last; s++)
        {
            var result = InsiderEvaluator.Run(new ScenarioOptions { Seed = s, Principals = principals, Days = days }, budget);
            alerts += result.Alerts;
            truePositives += result.TruePositives;
            for (var k = 0; k < kinds.Length; k++)
            {
                injected[k] += result.Scenarios[k].Injected;
                detected[k] += result.Scenarios[k].Detected;
            }

            text.AppendLine($"| {s} | {result.Recall:F2} | {result.Precision:F2} | {result.AlertsPerDay:F2} | " + string.Join(" | ", result.Scenarios.Select(r => $"{r.Detected}/{r.Injected}")) + " |");
        }

        text.AppendLine($"| all | {(double)detected.Sum() / Math.Max(1, injected.Sum()):F2} | {(alerts == 0 ? 1 : (double)truePositives / alerts):F2} | {(double)alerts / days / (last - first + 1):F2} | " + string.Join(" | ", kinds.Select((_, k) => $"{detected[k]}/{injected[k]}")) + " |");
        text.AppendLine();
    }

    return text.ToString();
}

