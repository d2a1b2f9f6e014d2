using System.CommandLine;
using System.Diagnostics;
using System.Formats.Tar;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Enclave.Airlock.Bundles;
using Enclave.Core;

// Airlock import benchmark: BundleReader (stream the tar, check lengths and SHA-256, copy into quarantine) against
// `openssl dgst -sha256` over the same bundle file, interleaved (openssl, ours, openssl, ours...) so that a loaded
// machine slows both alike. Reports MB/s, the ratio, CPU cores used and peak RSS. Markdown on stdout (and --out).
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;

var dirOption = new Option<string>("--dir") { Description = "Scratch directory on the disk to measure (the bundle and the data directory go here)", DefaultValueFactory = _ => Path.GetTempPath() };
var sizeOption = new Option<int>("--size-mb") { Description = "Total size of the targets in the bundle, MiB", DefaultValueFactory = _ => 2048 };
var filesOption = new Option<int[]>("--files") { Description = "Numbers of equal target files to try (one bundle each)", DefaultValueFactory = _ => [1, 4], AllowMultipleArgumentsPerToken = true };
var roundsOption = new Option<int>("--rounds") { Description = "Interleaved rounds per bundle", DefaultValueFactory = _ => 3 };
var fsyncOption = new Option<string[]>("--fsync") { Description = "Modes to run: on (each target fsynced, as imports do), off (page cache only)", DefaultValueFactory = _ => ["on", "off"], AllowMultipleArgumentsPerToken = true };
var outOption = new Option<FileInfo?>("--out") { Description = "Also write the markdown report to this file" };
var keepOption = new Option<bool>("--keep") { Description = "Keep the bundles" };
var root = new RootCommand("Enclave airlock import benchmark") { dirOption, sizeOption, filesOption, roundsOption, fsyncOption, outOption, keepOption };
root.SetAction(result => Run(
    Path.GetFullPath(result.GetValue(dirOption)!), result.GetValue(sizeOption), result.GetValue(filesOption)!, result.GetValue(roundsOption),
    result.GetValue(fsyncOption)!, result.GetValue(outOption), result.GetValue(keepOption), string.Join(' ', args)));
return root.Parse(args).Invoke();

static int Run(string dir, int sizeMb, int[] fileCounts, int rounds, string[] fsyncModes, FileInfo? output, bool keep, string commandLine)
{
    var scratch = Directory.CreateDirectory(Path.Combine(dir, $"enclave-bench-airlock-{Environment.ProcessId}")).FullName;
    var report = new StringBuilder();
    report.AppendLine(CultureInfo.InvariantCulture, $"Command: `dotnet run -c Release --project bench/Enclave.Bench.Airlock -- {commandLine}`");
    report.AppendLine();
    report.AppendLine(CultureInfo.InvariantCulture, $"Machine: {Environment.ProcessorCount} logical CPUs ({CpuModel()}), SHA-NI: {(File.ReadAllText("/proc/cpuinfo").Contains(" sha_ni", StringComparison.Ordinal) ? "yes" : "no")}, {Environment.OSVersion}, .NET {Environment.Version}, {OpenSslVersion()}; load average at start {File.ReadAllText("/proc/loadavg").Trim()}");
    report.AppendLine();
    report.AppendLine("| targets | round | openssl dgst -sha256 | .NET read + SHA-256, one thread | fsync | import | ratio to openssl | CPU cores busy | peak RSS |");
    report.AppendLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    try
    {
        foreach (var files in fileCounts)
        {
            var bundle = Path.Combine(scratch, $"bundle-{files}.tar");
            Console.Error.WriteLine($"writing a {sizeMb} MiB bundle of {files} target(s) to {bundle}");
            var expected = WriteBundle(bundle, files, (long)sizeMb * 1024 * 1024);
            var bytes = new FileInfo(bundle).Length;
            for (var round = 1; round <= rounds; round++)
            {
                foreach (var mode in fsyncModes)
                {
                    var openssl = OpenSsl(bundle);
                    var dotnet = HashOnly(bundle);
                    var ours = Import(bundle, expected, Path.Combine(scratch, "data"), flush: mode == "on");
                    var line = $"| {files} × {sizeMb / files} MiB | {round} | {Rate(bytes, openssl)} | {Rate(bytes, dotnet)} | {mode} | {Rate(bytes, ours.Elapsed)} | {openssl.TotalSeconds / ours.Elapsed.TotalSeconds:0.00} | {ours.Cpu.TotalSeconds / ours.Elapsed.TotalSeconds:0.00} | {ours.PeakRssBytes / (1024.0 * 1024):0} MiB |";
                    report.AppendLine(line);
                    Console.Error.WriteLine(line);
                }
            }

            if (!keep)
            {
                File.Delete(bundle);
            }
        }
    }
    finally
    {
        if (!keep)
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    Console.Out.Write(report.ToString());
    if (output is not null)
    {
        File.WriteAllText(output.FullName, report.ToString());
    }

    return 0;
}

static string Rate(long bytes, TimeSpan elapsed) => $"{elapsed.TotalSeconds:0.00} s, {bytes / elapsed.TotalSeconds / 1e6:0} MB/s";

// A pax tar of `files` equal targets of pseudo-random bytes (a 16 MiB random block, rotated per file and per pass).
static Dictionary<string, ExpectedEntry> WriteBundle(string path, int files, long total)
{
    var block = RandomNumberGenerator.GetBytes(16 * 1024 * 1024);
    var expected = new Dictionary<string, ExpectedEntry>(StringComparer.Ordinal);
    using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1024 * 1024);
    using (var writer = new TarWriter(stream, TarEntryFormat.Pax, leaveOpen: true))
    {
        for (var i = 0; i < files; i++)
        {
            var name = $"models/bench/part-{i:D2}.bin";
            var length = total / files;
            using var content = new GeneratedStream(block, length, i * 4099);
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = content });
            expected[name] = new ExpectedEntry { Length = length, Sha256 = content.Digest() };
        }
    }

    stream.Flush(flushToDisk: true);
    return expected;
}

static TimeSpan OpenSsl(string path)
{
    var info = new ProcessStartInfo("openssl") { RedirectStandardOutput = true, UseShellExecute = false };
    info.ArgumentList.Add("dgst");
    info.ArgumentList.Add("-sha256");
    info.ArgumentList.Add(path);
    var watch = Stopwatch.StartNew();
    using var process = Process.Start(info)!;
    process.StandardOutput.ReadToEnd();
    process.WaitForExit();
    watch.Stop();
    if (process.ExitCode != 0)
    {
        throw new InvalidOperationException("openssl dgst failed");
    }

    return watch.Elapsed;
}

// What one thread of .NET does over the same bytes: the floor for a single target (the hash is sequential).
static TimeSpan HashOnly(string path)
{
    var watch = Stopwatch.StartNew();
    using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan);
    using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    var buffer = new byte[1024 * 1024];
    int read;
    while ((read = file.Read(buffer)) > 0)
    {
        hash.AppendData(buffer.AsSpan(0, read));
    }

    hash.GetHashAndReset();
    return watch.Elapsed;
}

static (TimeSpan Elapsed, TimeSpan Cpu, long PeakRssBytes) Import(string bundle, Dictionary<string, ExpectedEntry> expected, string data, bool flush)
{
    GC.Collect();
    ResetPeakRss();
    var self = Process.GetCurrentProcess();
    var cpuBefore = self.TotalProcessorTime;
    var watch = Stopwatch.StartNew();
    var options = new BundleReaderOptions { FlushToDisk = flush };
    var contents = new BundleReader(options).Read(bundle, expected, data);
    watch.Stop();
    self.Refresh();
    var cpu = self.TotalProcessorTime - cpuBefore;
    var peak = PeakRss();
    Directory.Delete(contents.QuarantineDirectory, recursive: true);
    return (watch.Elapsed, cpu, peak);
}

// Writing 5 to clear_refs resets VmHWM to the current RSS (Linux 4.0+), so each import's peak is its own.
static void ResetPeakRss() => File.WriteAllText("/proc/self/clear_refs", "5");

static long PeakRss()
{
    foreach (var line in File.ReadLines("/proc/self/status"))
    {
        if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
        {
            return long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        }
    }

    return -1;
}

static string CpuModel() =>
    File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU";

static string OpenSslVersion()
{
    var info = new ProcessStartInfo("openssl", "version") { RedirectStandardOutput = true, UseShellExecute = false };
    using var process = Process.Start(info)!;
    var version = process.StandardOutput.ReadToEnd().Trim();
    process.WaitForExit();
    return version;
}

/// <summary>Deterministic content of a given length, hashed as it is read.</summary>
internal sealed class GeneratedStream(byte[] block, long length, int offset) : Stream
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private long _position;

    public override bool CanRead => true;

    // Seekable with a known length, so that TarWriter streams it instead of buffering the whole entry in memory.
    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => length;

    public override long Position { get => _position; set => Seek(value, SeekOrigin.Begin); }

    public Sha256Digest Digest() => new(_hash.GetHashAndReset());

    public override int Read(byte[] buffer, int offset1, int count) => Read(buffer.AsSpan(offset1, count));

    public override int Read(Span<byte> buffer)
    {
        var n = (int)Math.Min(buffer.Length, length - _position);
        var written = 0;
        while (written < n)
        {
            var at = (int)((_position + written + offset) % block.Length);
            var chunk = Math.Min(n - written, block.Length - at);
            block.AsSpan(at, chunk).CopyTo(buffer[written..]);
            written += chunk;
        }

        _hash.AppendData(buffer[..n]);
        _position += n;
        return n;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset1, SeekOrigin origin)
    {
        var target = origin switch { SeekOrigin.Begin => offset1, SeekOrigin.Current => _position + offset1, _ => length + offset1 };
        return target == _position ? _position : throw new NotSupportedException("the content is hashed as it is read: only sequential reads");
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset1, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash.Dispose();
        }

        base.Dispose(disposing);
    }
}
