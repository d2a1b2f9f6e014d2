using System.CommandLine;
using System.Globalization;
using Enclave.Bench.Gateway;
using Enclave.Bench.Gateway.Soak;

// Gateway benchmark: the enclave server in front of a fast stub upstream versus the stub directly (and a bare .NET
// forwarder as the reference hop), each in its own process on loopback. Maximum throughput with wrk, latency at a
// fixed rate with an open-loop client. Markdown on stdout (and --out), progress on stderr.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CrashReport.Install(args.FirstOrDefault(a => a is "throughput" or "latency" or "profile" or "soak" or "stub" or "forwarder" or "gateway") ?? "benchmark");

var dirOption = new Option<string>("--dir") { Description = "Directory for the gateway's data directory (ledger, key store), on the disk to measure (not tmpfs)", DefaultValueFactory = _ => Path.GetTempPath(), Recursive = true };
var outOption = new Option<FileInfo?>("--out") { Description = "Also write the markdown report to this file", Recursive = true };
var targetsOption = new Option<Target[]>("--targets") { Description = "Targets to load, in order", DefaultValueFactory = _ => [Target.Direct, Target.Forwarder, Target.Gateway], AllowMultipleArgumentsPerToken = true, Recursive = true };
var warmupOption = new Option<double>("--warmup") { Description = "Unmeasured seconds of wrk load before each measured wrk run (the gateway's tiered JIT settles after about 15 s of load)", DefaultValueFactory = _ => 15, Recursive = true };
var rateWarmupOption = new Option<double>("--rate-warmup") { Description = "Unmeasured seconds at the fixed rate before each measured window", DefaultValueFactory = _ => 5, Recursive = true };
var durationOption = new Option<double>("--duration") { Description = "Measured seconds per wrk run", DefaultValueFactory = _ => 15, Recursive = true };
var threadsOption = new Option<int>("--threads") { Description = "wrk threads (-t)", DefaultValueFactory = _ => 2, Recursive = true };
var connectionsOption = new Option<int>("--connections") { Description = "wrk connections (-c)", DefaultValueFactory = _ => 64, Recursive = true };
var wrkOption = new Option<string>("--wrk") { Description = "The wrk executable", DefaultValueFactory = _ => "wrk", Recursive = true };
var ratesOption = new Option<int[]>("--rates") { Description = "Offered requests/s for the fixed-rate latency runs", DefaultValueFactory = _ => [1000], AllowMultipleArgumentsPerToken = true, Recursive = true };
var rateDurationOption = new Option<double>("--rate-duration") { Description = "Measured seconds per fixed-rate run", DefaultValueFactory = _ => 15, Recursive = true };
var repeatOption = new Option<int>("--repeat") { Description = "Rounds of every measurement (targets interleaved within a round)", DefaultValueFactory = _ => 1, Recursive = true };
var keepOption = new Option<bool>("--keep") { Description = "Keep the gateway's data directory", Recursive = true };
var gatewayDataOption = new Option<string?>("--gateway-data") { Description = "An existing data directory for the gateway (grown by prefill), used in place and kept, instead of a fresh one under --dir", Recursive = true };
var gatewayEnvOption = new Option<string[]>("--gateway-env") { Description = "NAME=VALUE environment variable for the gateway process only (repeatable), for A/B runs", AllowMultipleArgumentsPerToken = false, Recursive = true };

var profileWritersOption = new Option<int[]>("--profile-writers") { Description = "Concurrent writers for the durable-append part of the profile", DefaultValueFactory = _ => [64, 128], AllowMultipleArgumentsPerToken = true, Recursive = true };

var checkpointOption = new Option<double>("--gateway-checkpoint-interval") { Description = "Seconds between the gateway ledger's signed checkpoints (1, the default of `enclave serve`; 0: one per commit), for A/B runs", DefaultValueFactory = _ => 1, Recursive = true };
var appendRateOption = new Option<int>("--profile-append-rate") { Description = "Appends/s for the durable-append latency part of the profile (two per request)", DefaultValueFactory = _ => 2000, Recursive = true };

var minutesOption = new Option<int>("--minutes") { Description = "Minutes of mixed traffic at the fixed rate", DefaultValueFactory = _ => 30 };
var warmupMinutesOption = new Option<int>("--warmup-minutes") { Description = "Minutes counted as warm-up (the RSS and p99 comparisons start after them)", DefaultValueFactory = _ => 1 };
var fractionOption = new Option<double>("--fraction") { Description = "The fixed rate as a fraction of the saturation measured first", DefaultValueFactory = _ => 0.7 };
var soakRateOption = new Option<int>("--rate") { Description = "A fixed rate in requests/s instead of --fraction of the measured saturation (0: measure)", DefaultValueFactory = _ => 0 };
var saturationOption = new Option<double>("--saturation-seconds") { Description = "Measured seconds of the closed-loop saturation run", DefaultValueFactory = _ => 20 };
var saturationWarmupOption = new Option<double>("--saturation-warmup") { Description = "Unmeasured seconds before the saturation run's measured window", DefaultValueFactory = _ => 10 };
var concurrencyOption = new Option<int>("--concurrency") { Description = "Requests in flight in the closed-loop saturation run, and the most connections the soak opens to the gateway (per pool: API keys, console session)", DefaultValueFactory = _ => 32 };
var importEveryOption = new Option<double>("--import-every") { Description = "Seconds between imports (a signed bundle uploaded and approved by two)", DefaultValueFactory = _ => 30 };
var quotaRateOption = new Option<double>("--quota-rate") { Description = "Requests/s from the quota-limited user", DefaultValueFactory = _ => 2 };
var quotaLimitOption = new Option<int>("--quota-per-minute") { Description = "The quota-limited user's requests per minute", DefaultValueFactory = _ => 60 };
var soakQuotaOption = new Option<int>("--soak-quota-per-minute") { Description = "Add the soak's principals, with this quota for the limited one (0: none)", DefaultValueFactory = _ => 0 };

var entriesOption = new Option<long>("--entries") { Description = "Grow the ledger to this many entries", DefaultValueFactory = _ => 8_000_000 };
var portOption = new Option<int>("--port") { Description = "Loopback port to listen on (0: any free one)", DefaultValueFactory = _ => 0 };
var upstreamOption = new Option<string>("--upstream") { Description = "The stub's base URL, e.g. http://127.0.0.1:5000", Required = true };
var dataOption = new Option<string>("--data") { Description = "A new data directory for the gateway", Required = true };

var root = new RootCommand("Enclave gateway benchmark. Without a command, runs throughput, latency and profile.")
{
    dirOption, outOption, targetsOption, warmupOption, durationOption, threadsOption, connectionsOption, wrkOption,
    ratesOption, rateDurationOption, rateWarmupOption, repeatOption, keepOption, gatewayEnvOption, gatewayDataOption, checkpointOption, profileWritersOption, appendRateOption,
};
var throughput = new Command("throughput", "Maximum requests/s with wrk against each target");
var latency = new Command("latency", "p50/p99 latency at fixed request rates against each target");
var profile = new Command("profile", "CPU cost of each part of a gateway request, measured alone");
var stub = new Command("stub", "Child process: the stub upstream") { portOption };
var forwarder = new Command("forwarder", "Child process: the bare forwarder") { portOption, upstreamOption };
var soak = new Command("soak", "Mixed traffic (chat, streaming, embeddings, admin reads, imports, over-quota requests) at a fraction of saturation for many minutes, with pass criteria")
{
    minutesOption, warmupMinutesOption, fractionOption, soakRateOption, saturationOption, saturationWarmupOption, concurrencyOption, importEveryOption, quotaRateOption, quotaLimitOption,
};
var prefill = new Command("prefill", "Grow the ledger of --gateway-data (made first when missing) to --entries entries of the request kinds the soak writes, through the real ledger writer") { entriesOption };
var gateway = new Command("gateway", "Child process: the enclave gateway") { portOption, upstreamOption, dataOption, soakQuotaOption };
gateway.Options.Add(checkpointOption);
foreach (var command in new[] { throughput, latency, profile, soak, prefill, stub, forwarder, gateway })
{
    command.Hidden = command == stub || command == forwarder || command == gateway;
    root.Subcommands.Add(command);
}

root.SetAction((result, _) => RunAsync(result, runThroughput: true, runLatency: true, runProfile: true));
throughput.SetAction((result, _) => RunAsync(result, runThroughput: true, runLatency: false, runProfile: false));
latency.SetAction((result, _) => RunAsync(result, runThroughput: false, runLatency: true, runProfile: false));
profile.SetAction((result, _) => RunAsync(result, runThroughput: false, runLatency: false, runProfile: true));
stub.SetAction((result, _) => StubUpstream.RunAsync(result.GetValue(portOption)));
forwarder.SetAction((result, _) => BareForwarder.RunAsync(result.GetValue(portOption), new Uri(result.GetValue(upstreamOption)!)));
gateway.SetAction((result, _) => GatewayHost.RunAsync(result.GetValue(portOption), new Uri(result.GetValue(upstreamOption)!), result.GetValue(dataOption)!, TimeSpan.FromSeconds(result.GetValue(checkpointOption)), result.GetValue(soakQuotaOption)));
soak.SetAction((result, _) => SoakAsync(result));
prefill.SetAction((result, _) => LedgerPrefill.RunAsync(Settings(result), result.GetValue(entriesOption), Console.Error));
return await root.Parse(args).InvokeAsync().ConfigureAwait(false);

BenchSettings Settings(ParseResult result) => new()
{
    Root = Path.GetFullPath(result.GetValue(dirOption)!),
    Targets = result.GetValue(targetsOption)!,
    Warmup = TimeSpan.FromSeconds(result.GetValue(warmupOption)),
    Duration = TimeSpan.FromSeconds(result.GetValue(durationOption)),
    WrkThreads = result.GetValue(threadsOption),
    WrkConnections = result.GetValue(connectionsOption),
    WrkPath = result.GetValue(wrkOption)!,
    Rates = result.GetValue(ratesOption)!,
    RateDuration = TimeSpan.FromSeconds(result.GetValue(rateDurationOption)),
    RateWarmup = TimeSpan.FromSeconds(result.GetValue(rateWarmupOption)),
    Repeat = Math.Max(1, result.GetValue(repeatOption)),
    Keep = result.GetValue(keepOption),
    GatewayEnvironment = ParseEnvironment(result.GetValue(gatewayEnvOption) ?? []),
    GatewayCheckpointInterval = TimeSpan.FromSeconds(result.GetValue(checkpointOption)),
    GatewayData = result.GetValue(gatewayDataOption),
};

async Task<int> RunAsync(ParseResult result, bool runThroughput, bool runLatency, bool runProfile)
{
    var settings = Settings(result);
    var log = Console.Error;
    if (IsTmpfs(settings.Root))
    {
        log.WriteLine($"warning: {settings.Root} is on tmpfs; the gateway's ledger fsyncs there cost nothing and the numbers say nothing about a disk");
    }

    Directory.CreateDirectory(settings.Root);
    var report = new MarkdownReport(settings, "Enclave.Bench.Gateway " + string.Join(' ', args));
    if (runThroughput || runLatency)
    {
        await using var bed = await Testbed.StartAsync(settings, log).ConfigureAwait(false);
        await bed.VerifyAsync(log).ConfigureAwait(false);
        if (runThroughput)
        {
            var results = new List<ThroughputResult>();
            for (var round = 0; round < settings.Repeat; round++)
            {
                foreach (var target in settings.Targets)
                {
                    results.Add(await ThroughputBenchmark.RunAsync(bed, target, round, settings, log).ConfigureAwait(false));
                }
            }

            report.Throughput(results, new WrkRunner(settings).CommandLine(settings.Duration, "http://127.0.0.1:PORT"));
        }

        if (runLatency)
        {
            var results = new List<LatencyResult>();
            for (var round = 0; round < settings.Repeat; round++)
            {
                foreach (var rate in settings.Rates)
                {
                    foreach (var target in settings.Targets)
                    {
                        results.Add(await LatencyBenchmark.RunAsync(bed, target, rate, round, settings, log).ConfigureAwait(false));
                    }
                }
            }

            report.Latency(results);
        }
    }

    if (runProfile)
    {
        log.WriteLine("profile: each part of a request alone");
        report.Profile(await ComponentProfile.RunAsync(settings, result.GetValue(profileWritersOption)!, result.GetValue(appendRateOption), log).ConfigureAwait(false));
    }

    var text = report.ToString();
    Console.Out.Write(text);
    if (result.GetValue(outOption) is { } output)
    {
        output.Directory?.Create();
        await File.WriteAllTextAsync(output.FullName, text).ConfigureAwait(false);
        log.WriteLine($"report written to {output.FullName}");
    }

    return 0;
}

async Task<int> SoakAsync(ParseResult result)
{
    var quotaPerMinute = result.GetValue(quotaLimitOption);
    var settings = new SoakSettings
    {
        Bench = new BenchSettings
        {
            Root = Path.GetFullPath(result.GetValue(dirOption)!),
            Targets = [Target.Gateway],
            Warmup = TimeSpan.Zero,
            Duration = TimeSpan.Zero,
            WrkThreads = 0,
            WrkConnections = 0,
            WrkPath = result.GetValue(wrkOption)!,
            Rates = [],
            RateDuration = TimeSpan.Zero,
            RateWarmup = TimeSpan.Zero,
            Keep = result.GetValue(keepOption),
            GatewayEnvironment = ParseEnvironment(result.GetValue(gatewayEnvOption) ?? []),
            GatewayCheckpointInterval = TimeSpan.FromSeconds(result.GetValue(checkpointOption)),
            GatewayArguments = ["--soak-quota-per-minute", quotaPerMinute.ToString(CultureInfo.InvariantCulture)],
            GatewayData = result.GetValue(gatewayDataOption),
        },
        Minutes = result.GetValue(minutesOption),
        WarmupMinutes = result.GetValue(warmupMinutesOption),
        Fraction = result.GetValue(fractionOption),
        Rate = result.GetValue(soakRateOption),
        SaturationSeconds = result.GetValue(saturationOption),
        SaturationWarmupSeconds = result.GetValue(saturationWarmupOption),
        Concurrency = result.GetValue(concurrencyOption),
        ImportEvery = TimeSpan.FromSeconds(result.GetValue(importEveryOption)),
        QuotaRate = result.GetValue(quotaRateOption),
        QuotaPerMinute = quotaPerMinute,
    };
    if (settings.Validate() is { Count: > 0 } problems)
    {
        foreach (var problem in problems)
        {
            Console.Error.WriteLine(problem);
        }

        return 2;
    }

    var log = Console.Error;
    if (IsTmpfs(settings.Bench.Root))
    {
        log.WriteLine($"warning: {settings.Bench.Root} is on tmpfs; the gateway's ledger fsyncs there cost nothing and the numbers say nothing about a disk");
    }

    var (text, passed) = await SoakBenchmark.RunAsync(settings, "Enclave.Bench.Gateway " + string.Join(' ', args), log).ConfigureAwait(false);
    Console.Out.Write(text);
    if (result.GetValue(outOption) is { } output)
    {
        output.Directory?.Create();
        await File.WriteAllTextAsync(output.FullName, text).ConfigureAwait(false);
        log.WriteLine($"report written to {output.FullName}");
    }

    return passed ? 0 : 1;
}

static Dictionary<string, string> ParseEnvironment(string[] pairs)
{
    var environment = new Dictionary<string, string>(StringComparer.Ordinal);
    foreach (var pair in pairs)
    {
        var equals = pair.IndexOf('=', StringComparison.Ordinal);
        if (equals <= 0)
        {
            throw new ArgumentException($"--gateway-env '{pair}' is not NAME=VALUE");
        }

        environment[pair[..equals]] = pair[(equals + 1)..];
    }

    return environment;
}

static bool IsTmpfs(string path)
{
    var full = Path.GetFullPath(path);
    var best = default(DriveInfo);
    foreach (var drive in DriveInfo.GetDrives())
    {
        if (full.StartsWith(drive.RootDirectory.FullName, StringComparison.Ordinal) && (best is null || drive.RootDirectory.FullName.Length > best.RootDirectory.FullName.Length))
        {
            best = drive;
        }
    }

    return best?.DriveFormat is "tmpfs" or "ramfs";
}
