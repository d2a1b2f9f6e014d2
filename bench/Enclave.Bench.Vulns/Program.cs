using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Enclave.Intel.Vulnerabilities.Matching;
using Enclave.Intel.Vulnerabilities.Osv;
using Enclave.Intel.Vulnerabilities.Sbom;

// Vulnerability matching benchmark: an inventory of N components against M synthetic OSV records (four ecosystems,
// each with its own version ordering), through the same index and evaluator as `enclave vulns match`. Also times
// parsing records from an osv.dev-style zip. Markdown on stdout (and --out), progress on stderr.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;

var componentsOption = new Option<int>("--components") { Description = "Inventory size", DefaultValueFactory = _ => 100_000 };
var recordsOption = new Option<int>("--records") { Description = "OSV records", DefaultValueFactory = _ => 500_000 };
var zipOption = new Option<int>("--zip-records") { Description = "Records written to and parsed from a zip (0: skip)", DefaultValueFactory = _ => 100_000 };
var outOption = new Option<FileInfo?>("--out") { Description = "Also write the markdown report to this file" };
var root = new RootCommand("Enclave vulnerability matching benchmark (target: 100,000 components against 500,000 records in under 10 s).")
{
    componentsOption, recordsOption, zipOption, outOption,
};
root.SetAction(async (result, _) =>
{
    var report = Run(result.GetValue(componentsOption), result.GetValue(recordsOption), result.GetValue(zipOption), string.Join(' ', args));
    Console.Out.Write(report);
    if (result.GetValue(outOption) is { } output)
    {
        output.Directory?.Create();
        await File.WriteAllTextAsync(output.FullName, report).ConfigureAwait(false);
    }

    return 0;
});
return await root.Parse(args).InvokeAsync().ConfigureAwait(false);

static string Run(int componentCount, int recordCount, int zipRecords, string arguments)
{
    var ecosystems = new[] { "npm", "PyPI", "Maven", "Go" };
    var packages = Math.Max(1, recordCount / 5);
    var random = new Random(20261206);

    string Version(string ecosystem, int major, int minor, int patch) => ecosystem switch
    {
        "Maven" when patch % 7 == 0 => $"{major}.{minor}.{patch}-RC1",
        "PyPI" when patch % 7 == 0 => $"{major}.{minor}.{patch}.post1",
        "Go" => $"{major}.{minor}.{patch}",
        _ => $"{major}.{minor}.{patch}",
    };

    string PackageName(int p) => ecosystems[p % 4] switch
    {
        "npm" => $"pkg-{p}",
        "PyPI" => $"py_pkg.{p}",
        "Maven" => $"org.example.g{p % 100}:artifact-{p}",
        _ => $"example.com/mod{p % 100}/pkg{p}",
    };

    Console.Error.WriteLine($"generating {recordCount:N0} records over {packages:N0} packages");
    var records = new List<OsvRecord>(recordCount);
    for (var i = 0; i < recordCount; i++)
    {
        var p = i % packages;
        var ecosystem = ecosystems[p % 4];
        var introducedMajor = random.Next(0, 5);
        var events = new List<OsvEvent>
        {
            new(OsvEventKind.Introduced, i % 3 == 0 ? "0" : Version(ecosystem, introducedMajor, random.Next(0, 10), random.Next(0, 20))),
            i % 4 == 0
                ? new(OsvEventKind.LastAffected, Version(ecosystem, introducedMajor + 1, random.Next(0, 10), random.Next(0, 20)))
                : new(OsvEventKind.Fixed, Version(ecosystem, introducedMajor + 1, random.Next(0, 10), random.Next(0, 20))),
        };
        records.Add(new OsvRecord
        {
            Id = $"BENCH-{i}",
            Modified = DateTimeOffset.UnixEpoch.AddSeconds(i),
            Aliases = [$"CVE-2099-{i + 10000}"],
            Affected =
            [
                new OsvAffected
                {
                    Ecosystem = ecosystem,
                    Name = PackageName(p),
                    Ranges = [new OsvRange { Type = ecosystem == "Go" ? OsvRangeType.Semver : OsvRangeType.Ecosystem, TypeName = "ECOSYSTEM", Events = events }],
                },
            ],
            Severity = [new OsvSeverity("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")],
        });
    }

    var components = new List<SbomComponent>(componentCount);
    for (var c = 0; c < componentCount; c++)
    {
        var known = c % 5 != 0;
        var p = known ? random.Next(packages) : packages + c;
        var ecosystem = ecosystems[p % 4];
        var version = Version(ecosystem, random.Next(0, 6), random.Next(0, 10), random.Next(0, 20));
        var purl = ecosystem switch
        {
            "npm" => $"pkg:npm/{PackageName(p)}@{version}",
            "PyPI" => $"pkg:pypi/{PackageName(p).Replace('.', '-').Replace('_', '-')}@{version}",
            "Maven" => $"pkg:maven/{PackageName(p).Replace(':', '/')}@{version}",
            _ => $"pkg:golang/{PackageName(p)}@v{version}?type=module",
        };
        components.Add(SbomComponent.FromPurl(purl));
    }

    GC.Collect();
    var baseline = GC.GetTotalMemory(forceFullCollection: true);
    var total = Stopwatch.StartNew();
    var cpu = Process.GetCurrentProcess();
    var cpuMark = cpu.TotalProcessorTime;
    double Cpu()
    {
        cpu.Refresh();
        var now = cpu.TotalProcessorTime;
        var delta = (now - cpuMark).TotalSeconds;
        cpuMark = now;
        return delta;
    }

    var cpuStart = cpu.TotalProcessorTime;
    var database = new OsvDatabase();
    var stopwatch = Stopwatch.StartNew();
    foreach (var record in records)
    {
        database.Add(record);
    }

    var addTime = stopwatch.Elapsed;
    var addCpu = Cpu();
    stopwatch.Restart();
    VulnerabilityMatcher.Match([SbomComponent.FromPurl("pkg:npm/warm-up@1.0.0")], database); // builds the index
    var indexTime = stopwatch.Elapsed;
    var indexCpu = Cpu();
    records = null;
    GC.Collect();
    var loaded = GC.GetTotalMemory(forceFullCollection: true);
    Cpu();

    var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
    stopwatch.Restart();
    var matched = VulnerabilityMatcher.Match(components, database);
    var matchTime = stopwatch.Elapsed;
    var matchCpu = Cpu();
    var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
    stopwatch.Restart();
    var assessed = FindingAssessor.Assess(matched.Findings, kev: null, vex: null);
    var assessTime = stopwatch.Elapsed;
    var assessCpu = Cpu();
    total.Stop();
    cpu.Refresh();
    var totalCpu = (cpu.TotalProcessorTime - cpuStart).TotalSeconds;
    var afterMatch = GC.GetTotalMemory(forceFullCollection: true);

    // Second pass over the same inventory: memory must not grow with repeated evaluations.
    stopwatch.Restart();
    var second = VulnerabilityMatcher.Match(components, database);
    var secondTime = stopwatch.Elapsed;
    var secondCpu = Cpu();
    var afterSecond = GC.GetTotalMemory(forceFullCollection: true);

    string zipLine = "skipped";
    if (zipRecords > 0)
    {
        Console.Error.WriteLine($"writing {zipRecords:N0} records to a zip");
        var path = Path.Combine(Path.GetTempPath(), $"enclave-bench-vulns-{Environment.ProcessId}.zip");
        try
        {
            using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
            {
                for (var i = 0; i < zipRecords; i++)
                {
                    var entry = zip.CreateEntry($"BENCH-{i}.json", CompressionLevel.Fastest);
                    using var stream = entry.Open();
                    var ecosystem = ecosystems[i % 4];
                    var json = $$"""{"schema_version":"1.7.0","id":"BENCH-{{i}}","modified":"2026-01-01T00:00:00Z","aliases":["CVE-2099-{{i + 10000}}"],"summary":"synthetic","affected":[{"package":{"ecosystem":"{{ecosystem}}","name":{{JsonSerializer.Serialize(PackageName(i))}}},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"{{Version(ecosystem, 1, i % 10, i % 20)}}"}]}]}],"severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]}""";
                    stream.Write(Encoding.UTF8.GetBytes(json));
                }
            }

            var size = new FileInfo(path).Length;
            var zipDatabase = new OsvDatabase();
            stopwatch.Restart();
            OsvLoader.LoadPath(zipDatabase, path);
            var zipTime = stopwatch.Elapsed;
            zipLine = $"{zipRecords:N0} records, {size / 1024.0 / 1024.0:F1} MiB zip: loaded in {zipTime.TotalSeconds:F2} s ({zipRecords / zipTime.TotalSeconds:N0} records/s), {zipDatabase.Problems.Count} problems";
        }
        finally
        {
            File.Delete(path);
        }
    }

    var process = Process.GetCurrentProcess();
    var report = new StringBuilder();
    report.AppendLine("### Results");
    report.AppendLine();
    report.AppendLine($"`dotnet run -c Release --project bench/Enclave.Bench.Vulns -- {arguments}`".Replace("--  ", "-- ", StringComparison.Ordinal).TrimEnd());
    report.AppendLine();
    report.AppendLine($"- Machine: {Environment.ProcessorCount} logical CPUs, {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}");
    report.AppendLine($"- Inventory: {componentCount:N0} components ({componentCount - (componentCount / 5):N0} naming an advised package); advisories: {recordCount:N0} records over {packages:N0} packages (npm, PyPI, Maven, Go)");
    report.AppendLine();
    report.AppendLine("| phase | wall | CPU (process, all threads) |");
    report.AppendLine("| --- | ---: | ---: |");
    report.AppendLine($"| add {recordCount:N0} records (newest-wins by id) | {addTime.TotalSeconds:F2} s | {addCpu:F2} s |");
    report.AppendLine($"| build the (ecosystem, name) index | {indexTime.TotalSeconds:F2} s | {indexCpu:F2} s |");
    report.AppendLine($"| match {componentCount:N0} components (first pass parses every advisory's events) | {matchTime.TotalSeconds:F2} s | {matchCpu:F2} s |");
    report.AppendLine($"| assess findings (CVSS scores) | {assessTime.TotalSeconds:F2} s | {assessCpu:F2} s |");
    report.AppendLine($"| **total, records in hand to assessed findings** | **{total.Elapsed.TotalSeconds:F2} s** | **{totalCpu:F2} s** |");
    report.AppendLine($"| match again (same inventory, advisories prepared) | {secondTime.TotalSeconds:F2} s | {secondCpu:F2} s |");
    report.AppendLine();
    report.AppendLine($"- Findings: {matched.Findings.Count:N0} ({assessed.Count:N0} assessed), unknown: {matched.Unknown.Count:N0}; second pass {second.Findings.Count:N0}");
    report.AppendLine($"- Managed heap: {baseline / 1048576.0:F0} MiB before loading (records and inventory in hand), {loaded / 1048576.0:F0} MiB with the database and index, {afterMatch / 1048576.0:F0} MiB after matching (findings held), {afterSecond / 1048576.0:F0} MiB after a second pass");
    report.AppendLine($"- Allocated while matching: {allocated / 1048576.0:F0} MiB ({allocated / Math.Max(1, componentCount):N0} bytes per component, short-lived); peak working set {process.PeakWorkingSet64 / 1048576.0:F0} MiB");
    report.AppendLine($"- Parsing: {zipLine}");
    return report.ToString();
}
