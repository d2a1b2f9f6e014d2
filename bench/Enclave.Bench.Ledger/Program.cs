using System.CommandLine;
using System.Globalization;
using Enclave.Bench.Ledger;

// Ledger benchmark: durable append throughput under concurrency, proof generation at a million entries, and the
// cost of each part of an append. Markdown on stdout (and --out), progress on stderr.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;

var dirOption = new Option<string>("--dir") { Description = "Directory for scratch ledgers, on the disk to measure (not tmpfs)", DefaultValueFactory = _ => Path.GetTempPath(), Recursive = true };
var outOption = new Option<FileInfo?>("--out") { Description = "Also write the markdown report to this file", Recursive = true };
var durationOption = new Option<double>("--duration") { Description = "Measured seconds per append run", DefaultValueFactory = _ => 10, Recursive = true };
var warmupOption = new Option<double>("--warmup") { Description = "Warm-up seconds before each measured window", DefaultValueFactory = _ => 3, Recursive = true };
var keepOption = new Option<bool>("--keep") { Description = "Keep the scratch ledgers", Recursive = true };
var pqOption = new Option<bool>("--post-quantum") { Description = "Cosign checkpoints with ML-DSA-44 too", Recursive = true };
var writersOption = new Option<int[]>("--writers") { Description = "Concurrent writers per append run", DefaultValueFactory = _ => [1, 16, 256], AllowMultipleArgumentsPerToken = true, Recursive = true };
var compareOption = new Option<double>("--compare-interval") { Description = "Also run 256 writers with this checkpoint interval in seconds (0: skip)", DefaultValueFactory = _ => 1, Recursive = true };
var entriesOption = new Option<long>("--entries") { Description = "Entries to fill before timing proofs", DefaultValueFactory = _ => 1_000_000, Recursive = true };
var fillWritersOption = new Option<int>("--fill-writers") { Description = "Concurrent writers for the fill", DefaultValueFactory = _ => 256, Recursive = true };
var inclusionOption = new Option<int>("--inclusion") { Description = "Inclusion proofs to time", DefaultValueFactory = _ => 10_000, Recursive = true };
var consistencyOption = new Option<int>("--consistency") { Description = "Consistency proofs to time", DefaultValueFactory = _ => 1_000, Recursive = true };
var repeatOption = new Option<int>("--repeat") { Description = "Run each append configuration this many times (neighbours on a shared machine add noise)", DefaultValueFactory = _ => 1, Recursive = true };
var ledgerOption = new Option<string?>("--ledger") { Description = "Time proofs on this existing ledger instead of filling one" };

var root = new RootCommand("Enclave ledger benchmark. Without a command, runs append, proofs and profile.")
{
    dirOption, outOption, durationOption, warmupOption, keepOption, pqOption, writersOption, compareOption,
    entriesOption, fillWritersOption, inclusionOption, consistencyOption, repeatOption,
};
var append = new Command("append", "Durable appends/s and latency with 1, 16 and 256 concurrent writers");
var proofs = new Command("proofs", "Fill a ledger to --entries, then time inclusion and consistency proofs") { ledgerOption };
var profile = new Command("profile", "Cost of each part of an append, measured alone");
var pgOption = new Option<string>("--connection") { Description = "Npgsql connection string of a PostgreSQL maintenance database (e.g. postgres) as a user that may create databases", Required = true };
var replicasOption = new Option<int[]>("--replicas") { Description = "Replica counts to run", DefaultValueFactory = _ => [1, 2, 3], AllowMultipleArgumentsPerToken = true };
var cluster = new Command("cluster", "Durable appends/s on PostgreSQL with 1, 2 and 3 replicas (ledger writers on one database), 256 writers in all") { pgOption, replicasOption };
cluster.SetAction(async (result, _) =>
{
    var writers = result.GetValue(writersOption)!;
    var markdown = await ClusterAppendBenchmark.RunAsync(
        result.GetValue(pgOption)!,
        result.GetValue(replicasOption)!,
        writers.Length == 1 ? writers[0] : 256,
        TimeSpan.FromSeconds(result.GetValue(warmupOption)),
        TimeSpan.FromSeconds(result.GetValue(durationOption)),
        result.GetValue(dirOption)!).ConfigureAwait(false);
    Console.Write(markdown);
    if (result.GetValue(outOption) is { } file)
    {
        await File.WriteAllTextAsync(file.FullName, markdown).ConfigureAwait(false);
    }

    return 0;
});
root.Subcommands.Add(cluster);
root.Subcommands.Add(append);
root.Subcommands.Add(proofs);
root.Subcommands.Add(profile);

root.SetAction((result, _) => RunAsync(result, runAppend: true, runProofs: true, runProfile: true));
append.SetAction((result, _) => RunAsync(result, runAppend: true, runProofs: false, runProfile: false));
proofs.SetAction((result, _) => RunAsync(result, runAppend: false, runProofs: true, runProfile: false));
profile.SetAction((result, _) => RunAsync(result, runAppend: false, runProofs: false, runProfile: true));
return await root.Parse(args).InvokeAsync().ConfigureAwait(false);

async Task<int> RunAsync(ParseResult result, bool runAppend, bool runProofs, bool runProfile)
{
    var settings = new BenchSettings
    {
        Root = Path.GetFullPath(result.GetValue(dirOption)!),
        Duration = TimeSpan.FromSeconds(result.GetValue(durationOption)),
        Warmup = TimeSpan.FromSeconds(result.GetValue(warmupOption)),
        Keep = result.GetValue(keepOption),
        PostQuantum = result.GetValue(pqOption),
    };
    var log = Console.Error;
    if (IsTmpfs(settings.Root))
    {
        log.WriteLine($"warning: {settings.Root} is on tmpfs; fsync there costs nothing and the numbers say nothing about a disk");
    }

    Directory.CreateDirectory(settings.Root);
    var report = new MarkdownReport(settings, "Enclave.Bench.Ledger " + string.Join(' ', args));
    if (runAppend)
    {
        var runs = result.GetValue(writersOption)!.Select(w => (Writers: w, Interval: TimeSpan.Zero)).ToList();
        var compare = result.GetValue(compareOption);
        if (compare > 0)
        {
            runs.Add((256, TimeSpan.FromSeconds(compare)));
        }

        var results = new List<AppendResult>();
        for (var round = 0; round < Math.Max(1, result.GetValue(repeatOption)); round++)
        {
            foreach (var (writers, interval) in runs)
            {
                results.Add(await AppendBenchmark.RunAsync(writers, interval, settings, log).ConfigureAwait(false));
            }
        }

        results.Sort((a, b) => (a.CheckpointInterval, a.Writers).CompareTo((b.CheckpointInterval, b.Writers)));

        report.Append(results);
    }

    if (runProofs)
    {
        report.Proofs(await ProofBenchmark.RunAsync(
            settings,
            result.GetValue(entriesOption),
            result.GetValue(fillWritersOption),
            result.GetValue(inclusionOption),
            result.GetValue(consistencyOption),
            result.GetValue(ledgerOption),
            log).ConfigureAwait(false));
    }

    if (runProfile)
    {
        report.Profile(await ComponentProfile.RunAsync(settings, log).ConfigureAwait(false));
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
