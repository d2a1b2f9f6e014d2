using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Claims;
using System.Text;
using System.Text.Json.Nodes;
using Enclave.Policy.Identity;
using Enclave.Policy.Requests;
using Enclave.Server.Hosting;
using Enclave.Server.Policy;
using Microsoft.Extensions.Configuration;

// Policy benchmark: the cost of the policy decision per API request, label extraction included, on typical chat
// bodies, single-threaded. Markdown on stdout (and --out), progress on stderr.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;

var durationOption = new Option<double>("--duration") { Description = "Measured seconds per case", DefaultValueFactory = _ => 5 };
var warmupOption = new Option<double>("--warmup") { Description = "Warm-up seconds per case", DefaultValueFactory = _ => 2 };
var batchOption = new Option<int>("--batch") { Description = "Decisions per timed batch", DefaultValueFactory = _ => 200 };
var outOption = new Option<FileInfo?>("--out") { Description = "Also write the markdown report to this file" };
var root = new RootCommand("Enclave policy benchmark: decision cost per request (target under 20 µs).") { durationOption, warmupOption, batchOption, outOption };
root.SetAction(async (result, _) =>
{
    var duration = TimeSpan.FromSeconds(result.GetValue(durationOption));
    var warmup = TimeSpan.FromSeconds(result.GetValue(warmupOption));
    var batch = result.GetValue(batchOption);
    var report = Run(duration, warmup, batch, string.Join(' ', args));
    Console.Out.Write(report);
    if (result.GetValue(outOption) is { } output)
    {
        output.Directory?.Create();
        await File.WriteAllTextAsync(output.FullName, report).ConfigureAwait(false);
        Console.Error.WriteLine($"report written to {output.FullName}");
    }

    return 0;
});
return await root.Parse(args).InvokeAsync().ConfigureAwait(false);

static string Run(TimeSpan duration, TimeSpan warmup, int batch, string arguments)
{
    var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["Policy:Jurisdictions:UNCLASSIFIED:0"] = "local",
        ["Policy:Jurisdictions:UNCLASSIFIED:1"] = "US",
        ["Policy:Jurisdictions:CUI:0"] = "local",
        ["Policy:Jurisdictions:SECRET:0"] = "local",
        ["Policy:Jurisdictions:TOP SECRET:0"] = "local",
    }).Build();
    ModelRoute Route(string id, params RouteBackend[] backends) => new()
    {
        Id = id,
        Kind = "chat",
        BackendName = "upstream",
        Label = "SECRET//NOFORN",
        Backends = backends,
        SelectBackend = _ => throw new InvalidOperationException("the benchmark never sends"),
    };
    var inside = Route("inside", new RouteBackend("gpu1", "SECRET//NOFORN", "local", false), new RouteBackend("gpu2", "SECRET//NOFORN", "local", false));
    var mixed = Route("mixed", new RouteBackend("gpu1", "SECRET//NOFORN", "local", false), new RouteBackend("cloud", "UNCLASSIFIED", "US", true));
    var catalog = new ModelCatalog([inside, mixed]);
    var policy = EnclavePolicy.Create(configuration, catalog);
    var user = new ClaimsPrincipal(new ClaimsIdentity(
        [
            new Claim(ClaimTypes.NameIdentifier, "user:alice"),
            new Claim(ClaimTypes.Name, "alice"),
            new Claim(ClaimTypes.Role, Roles.Analyst),
            new Claim(EnclaveClaims.Clearance, "SECRET//NOFORN"),
        ],
        "bench"));

    var typical = Chat(
        "You are a careful assistant for logistics planners. Answer briefly and cite the documents you were given.",
        "Summarise the attached maintenance report for the convoy vehicles and list the three most urgent repairs. " + Filler(900),
        "The report lists brake wear on two trucks, a coolant leak on the lead vehicle and worn tyres on the trailer.",
        "Which of these must be fixed before Tuesday's movement, and how long will each repair take?");
    var marked = Chat(
        "You are a careful assistant for logistics planners.",
        "(S) The convoy leaves at 0400. (U) Weather is clear. " + Filler(900),
        "Understood.",
        "SECRET//NOFORN: which route avoids the bridge?");
    var numbers = Chat(
        "You are a careful assistant for logistics planners. Answer briefly and cite the documents you were given.",
        "Summarise the attached maintenance report for convoy 12-B (vehicles 4417, 4418 and 4420) and list the three most urgent repairs by 2026-11-30. " + Filler(900),
        "Parts on order: 7 brake pads (ref 88-1204), 2 coolant hoses; the depot is on 555-0100, ext. 214, or depot-ops@example.org.",
        "Which of these must be fixed before Tuesday's 0400 movement, and how long will each repair take?");
    var cases = new (string Name, string Description, ModelRoute Route, JsonObject Body, string? Header)[]
    {
        ("typical chat, no marking", "4 messages, 1.3 KB of text, no header, no marking (default label); two internal backends", inside, typical, null),
        ("typical chat, header", "same body with Enclave-Classification: SECRET (header decides, no scan)", inside, typical, "SECRET"),
        ("chat with markings", "4 messages with a banner and two portion markings (label from the markings)", inside, marked, null),
        ("typical chat, cloud route", "same as the first, one backend leaves the enclave: egress guard inspects the body", mixed, typical, null),
        ("chat with numbers, cloud route", "like the first, with dates, part numbers, a phone extension and an email address (every PII expression runs), one backend leaves the enclave", mixed, numbers, null),
    };

    var sb = new StringBuilder();
    sb.AppendLine("## Policy: decision cost per request (`bench/Enclave.Bench.Policy`)");
    sb.AppendLine();
    sb.AppendLine($"- command: `dotnet run -c Release --project bench/Enclave.Bench.Policy -- {arguments}`".TrimEnd());
    sb.AppendLine($"- machine: {Environment.ProcessorCount} logical CPUs, {RuntimeInformation.OSDescription}, {RuntimeInformation.ProcessArchitecture}, .NET {Environment.Version}");
    sb.AppendLine($"- what is timed: `EnclavePolicy.Evaluate` (clearance from claims, string collection from the parsed body, label extraction, decision, egress when a backend leaves the enclave) plus `PolicyOutcome.ToLedger` (the decision as the `request.admitted` details), single thread, {batch} decisions per timed batch, {warmup.TotalSeconds:0} s warm-up and {duration.TotalSeconds:0} s measured per case; JSON parsing of the body is not included (the handler parses it anyway)");
    sb.AppendLine();
    sb.AppendLine("| case | median µs/request | p99 µs/request (batch means) | allocated bytes/request | decision |");
    sb.AppendLine("| --- | ---: | ---: | ---: | --- |");
    foreach (var (name, description, route, body, header) in cases)
    {
        Console.Error.WriteLine($"{name}: {description}");
        var decision = policy.Evaluate(user, header, body, route);
        Measure(() => policy.Evaluate(user, header, body, route).ToLedger(policy.Scheme), warmup, TimeSpan.Zero, batch);
        var (median, p99, bytes) = Measure(() => policy.Evaluate(user, header, body, route).ToLedger(policy.Scheme), TimeSpan.Zero, duration, batch);
        sb.AppendLine($"| {name} | {median:0.00} | {p99:0.00} | {bytes:N0} | {(decision.Allowed ? "allow" : "deny")} via {string.Join(", ", decision.Backends)} |");
    }

    sb.AppendLine();
    foreach (var (name, description, _, _, _) in cases)
    {
        sb.AppendLine($"- *{name}*: {description}");
    }

    return sb.ToString();
}

static (double MedianMicros, double P99Micros, double BytesPerOp) Measure(Func<JsonObject> op, TimeSpan warmup, TimeSpan duration, int batch)
{
    var until = Stopwatch.GetTimestamp() + (long)((warmup + duration).TotalSeconds * Stopwatch.Frequency);
    var samples = new List<double>();
    long allocated = 0, ops = 0;
    var sink = 0;
    while (Stopwatch.GetTimestamp() < until)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < batch; i++)
        {
            sink += op().Count;
        }

        var elapsed = Stopwatch.GetElapsedTime(start);
        allocated += GC.GetAllocatedBytesForCurrentThread() - before;
        ops += batch;
        samples.Add(elapsed.TotalMicroseconds / batch);
    }

    GC.KeepAlive(sink);
    if (samples.Count == 0)
    {
        return (0, 0, 0);
    }

    samples.Sort();
    return (samples[samples.Count / 2], samples[Math.Min(samples.Count - 1, (int)(samples.Count * 0.99))], (double)allocated / ops);
}

static JsonObject Chat(params string[] contents)
{
    var messages = new JsonArray();
    string[] roles = ["system", "user", "assistant", "user"];
    for (var i = 0; i < contents.Length; i++)
    {
        messages.Add(new JsonObject { ["role"] = roles[i % roles.Length], ["content"] = contents[i] });
    }

    // Parsed from text, as the handler's body is, so values are JsonElement-backed.
    return JsonNode.Parse(new JsonObject { ["model"] = "m", ["messages"] = messages, ["temperature"] = 0.2, ["max_tokens"] = 256 }.ToJsonString())!.AsObject();
}

static string Filler(int chars)
{
    const string text = "The vehicles were inspected at the depot on Monday; fluid levels, brakes, lights and tyres were checked against the schedule. ";
    var sb = new StringBuilder(chars);
    while (sb.Length < chars)
    {
        sb.Append(text);
    }

    return sb.ToString(0, chars);
}
