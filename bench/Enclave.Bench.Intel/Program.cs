using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using Enclave.Intel.Indicators;
using Enclave.Intel.Stix;
using Enclave.Intel.Stix.Patterns;

// Intel benchmark: single-observable lookups against N live indicators (hashes, addresses, CIDR blocks, domains,
// domain suffixes), one core. Indicators are STIX pattern text, parsed and assessed like a real feed. Markdown on stdout.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;

var indicatorsOption = new Option<int>("--indicators") { Description = "Live indicators to index", DefaultValueFactory = _ => 1_000_000 };
var eventsOption = new Option<int>("--events") { Description = "Distinct events generated (looked up in a loop)", DefaultValueFactory = _ => 2_000_000 };
var durationOption = new Option<double>("--duration") { Description = "Measured seconds", DefaultValueFactory = _ => 5 };
var seedOption = new Option<int>("--seed") { Description = "Generator seed", DefaultValueFactory = _ => 42 };
var outOption = new Option<FileInfo?>("--out") { Description = "Also write the markdown report to this file" };
var root = new RootCommand("Enclave intel benchmark: indicator lookups per second on one core (target 1,000,000/s at 1,000,000 indicators).")
{
    indicatorsOption, eventsOption, durationOption, seedOption, outOption,
};
root.SetAction(async (result, _) =>
{
    var report = Run(result.GetValue(indicatorsOption), result.GetValue(eventsOption), TimeSpan.FromSeconds(result.GetValue(durationOption)), result.GetValue(seedOption), string.Join(' ', args));
    Console.Out.Write(report);
    if (result.GetValue(outOption) is { } output)
    {
        output.Directory?.Create();
        await File.WriteAllTextAsync(output.FullName, report).ConfigureAwait(false);
    }

    return 0;
});
var huntEntries = new Option<int>("--entries") { Description = "Ledger entries to generate and hunt", DefaultValueFactory = _ => 200_000 };
var huntIndicators = new Option<int>("--indicators") { Description = "Live indicators", DefaultValueFactory = _ => 100_000 };
var hunt = new Command("hunt", "Retro-hunt throughput: entries per second over a generated ledger (target 10,000,000 entries in under 60 s).")
{
    huntEntries, huntIndicators, seedOption, outOption,
};
hunt.SetAction(async (result, _) =>
{
    var report = await Enclave.Bench.Intel.HuntBenchmark.RunAsync(result.GetValue(huntEntries), result.GetValue(huntIndicators), result.GetValue(seedOption), string.Join(' ', args)).ConfigureAwait(false);
    Console.Out.Write(report);
    if (result.GetValue(outOption) is { } output)
    {
        output.Directory?.Create();
        await File.WriteAllTextAsync(output.FullName, report).ConfigureAwait(false);
    }

    return 0;
});
root.Subcommands.Add(hunt);
return await root.Parse(args).InvokeAsync().ConfigureAwait(false);

static string Run(int count, int eventCount, TimeSpan duration, int seed, string arguments)
{
    var random = new Random(seed);
    var now = new DateTimeOffset(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);
    var values = new List<(IndexedProperty Property, string Value)>(count);
    var indicators = new List<StixIndicator>(count);
    for (var i = 0; i < count; i++)
    {
        var (pattern, property, value) = random.Next(100) switch
        {
            < 35 => Hash(random, 32, "SHA-256", IndexedProperty.Sha256),
            < 45 => Hash(random, 16, "MD5", IndexedProperty.Md5),
            < 50 => Hash(random, 20, "SHA-1", IndexedProperty.Sha1),
            < 72 => Ip(random),
            < 77 => Cidr(random),
            < 80 => Ip6(random),
            < 97 => Domain(random),
            _ => Suffix(random),
        };
        values.Add((property, value));
        indicators.Add(new StixIndicator
        {
            Id = $"indicator--{i:x8}",
            Pattern = pattern,
            PatternType = "stix",
            ValidFrom = now.AddDays(-10),
            ValidUntil = i % 20 == 0 ? now.AddDays(-1) : null, // 5 % expired
            Revoked = i % 50 == 1, // 2 % revoked
            Created = now.AddDays(-10),
            Modified = now.AddDays(-10),
        });
    }

    var evaluator = new StixPatternEvaluator();
    var assessor = new IndicatorAssessor(evaluator);
    GC.Collect();
    GC.WaitForPendingFinalizers();
    var before = GC.GetTotalMemory(true);
    var build = Stopwatch.StartNew();
    var assessments = new List<IndicatorAssessment>(count);
    foreach (var indicator in indicators)
    {
        assessments.Add(assessor.Assess(indicator));
    }

    var assessed = build.Elapsed;
    var index = IndicatorIndex.Build(assessments, evaluator);
    build.Stop();
    assessments = null;
    GC.Collect();
    GC.WaitForPendingFinalizers();
    var after = GC.GetTotalMemory(true);
    GC.KeepAlive(index);

    // Events: 10 % hit a listed value (live or not), 90 % are fresh values of the same kinds.
    var events = new (IndexedProperty Property, string Value)[eventCount];
    for (var i = 0; i < eventCount; i++)
    {
        events[i] = random.Next(10) == 0 ? values[random.Next(values.Count)] : random.Next(100) switch
        {
            < 50 => (IndexedProperty.Sha256, Convert.ToHexStringLower(RandomBytes(random, 32))),
            < 80 => (IndexedProperty.Ipv4, RandomIp(random)),
            _ => (IndexedProperty.Domain, $"host{random.Next(1000)}.example{random.Next(1_000_000)}.org"),
        };
    }

    var slots = new List<int>(16);
    long hits = 0;
    long lookups = 0;
    var warm = Stopwatch.StartNew();
    for (var i = 0; warm.Elapsed < TimeSpan.FromSeconds(1); i = (i + 1) % events.Length)
    {
        slots.Clear();
        index.Match(events[i].Property, events[i].Value, now, slots);
    }

    var process = Process.GetCurrentProcess();
    var cpuBefore = process.TotalProcessorTime;
    var timer = Stopwatch.StartNew();
    var cursor = 0;
    while (timer.Elapsed < duration)
    {
        for (var k = 0; k < 10_000; k++)
        {
            var e = events[cursor];
            cursor = cursor + 1 == events.Length ? 0 : cursor + 1;
            slots.Clear();
            hits += index.Match(e.Property, e.Value, now, slots);
        }

        lookups += 10_000;
    }

    timer.Stop();
    process.Refresh();
    var cpu = process.TotalProcessorTime - cpuBefore;
    var perSecond = lookups / timer.Elapsed.TotalSeconds;
    var perCpuSecond = lookups / cpu.TotalSeconds;
    var text = new StringBuilder();
    text.AppendLine("### Results");
    text.AppendLine();
    text.AppendLine($"Command: `dotnet run -c Release --project bench/Enclave.Bench.Intel -- {arguments}`; {RuntimeInformation.FrameworkDescription}, {RuntimeInformation.OSDescription}, {Environment.ProcessorCount} logical CPUs.");
    text.AppendLine();
    text.AppendLine("| measure | value |");
    text.AppendLine("|---|---|");
    text.AppendLine($"| indicators (STIX pattern text) | {count:N0} (5 % expired, 2 % revoked) |");
    text.AppendLine($"| index: values / residual sub-patterns | {index.IndexedValues:N0} / {index.ResidualPatterns:N0} |");
    text.AppendLine($"| parse + assess | {assessed.TotalSeconds:F1} s ({count / assessed.TotalSeconds:N0} indicators/s) |");
    text.AppendLine($"| build index | {(build.Elapsed - assessed).TotalSeconds:F1} s |");
    text.AppendLine($"| managed heap held (indicators, parsed patterns, index) | {(after - before) / 1048576.0:N0} MiB = {(after - before) / (double)count:N0} bytes per indicator |");
    text.AppendLine($"| lookups, one thread, {duration.TotalSeconds:F0} s | {lookups:N0} |");
    text.AppendLine($"| lookups per wall-clock second | {perSecond:N0} ({1e9 / perSecond:F0} ns each) |");
    text.AppendLine($"| process CPU time in the loop | {cpu.TotalSeconds:F2} s of {timer.Elapsed.TotalSeconds:F2} s wall ({100 * cpu.TotalSeconds / timer.Elapsed.TotalSeconds:F0} % of one core) |");
    text.AppendLine($"| **lookups per CPU-second** (one core's worth) | **{perCpuSecond:N0}** ({1e9 / perCpuSecond:F0} ns each) |");
    text.AppendLine($"| matches (live hits) | {hits:N0} ({100.0 * hits / lookups:F1} % of lookups) |");
    text.AppendLine();
    return text.ToString();
}

static byte[] RandomBytes(Random random, int length)
{
    var bytes = new byte[length];
    random.NextBytes(bytes);
    return bytes;
}

static (string, IndexedProperty, string) Hash(Random random, int length, string name, IndexedProperty property)
{
    var value = Convert.ToHexStringLower(RandomBytes(random, length));
    return ($"[file:hashes.'{name}' = '{value}']", property, value);
}

static string RandomIp(Random random) => $"{random.Next(1, 224)}.{random.Next(256)}.{random.Next(256)}.{random.Next(256)}";

static (string, IndexedProperty, string) Ip(Random random)
{
    var value = RandomIp(random);
    return ($"[ipv4-addr:value = '{value}']", IndexedProperty.Ipv4, value);
}

static (string, IndexedProperty, string) Cidr(Random random)
{
    var length = random.Next(16, 29);
    var address = IPAddress.Parse(RandomIp(random)).GetAddressBytes();
    var bits = (uint)(address[0] << 24 | address[1] << 16 | address[2] << 8 | address[3]) & (uint.MaxValue << (32 - length));
    var block = $"{bits >> 24}.{(bits >> 16) & 255}.{(bits >> 8) & 255}.{bits & 255}";
    return ($"[ipv4-addr:value ISSUBSET '{block}/{length}']", IndexedProperty.Ipv4, $"{block[..block.LastIndexOf('.')]}.{(bits & 255) + 1}");
}

static (string, IndexedProperty, string) Ip6(Random random)
{
    var value = new IPAddress(RandomBytes(random, 16)).ToString();
    return ($"[ipv6-addr:value = '{value}']", IndexedProperty.Ipv6, value);
}

static (string, IndexedProperty, string) Domain(Random random)
{
    var value = $"{Convert.ToHexStringLower(RandomBytes(random, 5))}.example{random.Next(1000)}.net";
    return ($"[domain-name:value = '{value}']", IndexedProperty.Domain, value);
}

static (string, IndexedProperty, string) Suffix(Random random)
{
    var zone = $"{Convert.ToHexStringLower(RandomBytes(random, 4))}.example.com";
    return ($"[domain-name:value LIKE '%.{zone}']", IndexedProperty.Domain, $"www.{zone}");
}
