using System.Diagnostics;
using System.Globalization;
using System.Text;
using Enclave.Policy.Labels;
using Enclave.Retrieval.Chunking;
using Enclave.Retrieval.Extraction;
using Enclave.Retrieval.Index;
using UglyToad.PdfPig.Content;
using UglyToad.PdfPig.Fonts.Standard14Fonts;
using UglyToad.PdfPig.Writer;

// Retrieval benchmark: cosine search over N chunks of D dimensions with mixed labels, filtered by clearance before
// scoring, single-threaded, p50/p99 per query: exact (VectorIndex) and the resident IVF index (IvfIndex) with its
// recall@10 against exact; and ingestion (PDF text extraction and labelled chunking, without embedding) in pages per
// second. Usage: [chunks] [dimensions] [queries] [lists] [probes,probes,...]. Markdown on stdout.
// The vectors lie around 4,096 random topic centres (centre plus noise, as embeddings of passages cluster by topic) and
// each query is near a topic, as a question is near the passages that answer it; exact search costs the same on any data.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
int chunks = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1_000_000;
int dims = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 384;
int queries = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 200;
int lists = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 1024;
int[] probeSettings = args.Length > 4 ? [.. args[4].Split(',').Select(p => int.Parse(p, CultureInfo.InvariantCulture))] : [16, 32, 64];
const int Topics = 4096;
const double Noise = 0.35;
var scheme = LabelScheme.Default;
SecurityLabel[] labels = [scheme.ParseMarking("UNCLASSIFIED"), scheme.ParseMarking("CUI"), scheme.ParseMarking("SECRET")];
var random = new Random(14);
var centres = new float[Topics][];
for (var t = 0; t < Topics; t++)
{
    centres[t] = new float[dims];
    for (var d = 0; d < dims; d++)
    {
        centres[t][d] = (float)(random.NextDouble() - 0.5);
    }
}

var index = new VectorIndex(dims, chunks);
var vector = new float[dims];
void NearATopic()
{
    var centre = centres[random.Next(Topics)];
    for (var d = 0; d < dims; d++)
    {
        vector[d] = centre[d] + (float)((random.NextDouble() - 0.5) * Noise);
    }
}

for (var i = 0; i < chunks; i++)
{
    NearATopic();

    // Two thirds UNCLASSIFIED, a sixth CUI, a sixth SECRET.
    index.Add(i, vector, labels[random.Next(6) switch { < 4 => 0, 4 => 1, _ => 2 }]);
}

var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "unknown";
var report = new StringBuilder($"Retrieval benchmark: {chunks:N0} chunks x {dims} dimensions, {queries} queries per clearance, top 10, one thread per query; load average at start: {load}\n\n");
var queryVectors = new List<float[]>();
for (var q = 0; q < queries + 10; q++)
{
    NearATopic();
    queryVectors.Add([.. vector]);
}

// CPU time of the process over a run of queries, per query: what the search costs, apart from the time the thread
// waited for a core on a loaded machine (wall-clock p50/p99 include that wait).
var cpu = TimeSpan.Zero;
static TimeSpan Cpu() => Process.GetCurrentProcess().TotalProcessorTime;

string Row(string what, List<double> times)
{
    times.Sort();
    return string.Create(CultureInfo.InvariantCulture, $"| {what} | {times[times.Count / 2]:F2} | {times[(int)(times.Count * 0.99)]:F2} | {times.Average():F2} | {cpu.TotalMilliseconds / times.Count:F2} |");
}

report.Append("| search | p50 ms | p99 ms | mean ms | CPU ms per query | recall@10 |\n| --- | --- | --- | --- | --- | --- |\n");
var truth = new Dictionary<(int Clearance, int Query), HashSet<long>>();
foreach (var (clearance, c) in new[] { (labels[0], 0), (labels[2], 2) })
{
    var times = new List<double>();
    var cpuStart = Cpu();
    for (var q = 0; q < queryVectors.Count; q++)
    {
        if (q == 10)
        {
            cpuStart = Cpu();
        }

        var watch = Stopwatch.StartNew();
        var hits = index.Search(queryVectors[q], 10, clearance);
        watch.Stop();
        truth[(c, q)] = [.. hits.Select(h => h.Key)];
        if (q >= 10)
        {
            times.Add(watch.Elapsed.TotalMilliseconds); // the first 10 are warm-up
        }
    }

    cpu = Cpu() - cpuStart;
    report.Append(Row($"exact, {scheme.FormatBanner(clearance)}", times)).Append(" 1 |\n");
}

var build = Stopwatch.StartNew();
var ivf = index.BuildIvf(new IvfOptions { Lists = lists, Probes = probeSettings[0] });
build.Stop();
foreach (var probes in probeSettings)
{
    foreach (var (clearance, c) in new[] { (labels[0], 0), (labels[2], 2) })
    {
        var times = new List<double>();
        int found = 0, wanted = 0;
        var cpuStart = Cpu();
        for (var q = 0; q < queryVectors.Count; q++)
        {
            if (q == 10)
            {
                cpuStart = Cpu();
            }

            var watch = Stopwatch.StartNew();
            var hits = ivf.Search(queryVectors[q], 10, clearance, probes);
            watch.Stop();
            if (q >= 10)
            {
                times.Add(watch.Elapsed.TotalMilliseconds);
                found += hits.Count(h => truth[(c, q)].Contains(h.Key));
                wanted += truth[(c, q)].Count;
            }
        }

        cpu = Cpu() - cpuStart;
        report.Append(Row($"IVF {lists} lists, {probes} probed, {scheme.FormatBanner(clearance)}", times)).Append(CultureInfo.InvariantCulture, $" {(double)found / wanted:F3} |\n");
    }
}

report.Append(CultureInfo.InvariantCulture, $"\nIVF build ({lists} lists, k-means on 65,536 sampled vectors, 8 iterations, {Environment.ProcessorCount} threads): {build.Elapsed.TotalSeconds:F1} s\n");

// Ingestion: a 200-page PDF (a paragraph per page, every fifth page marked SECRET), extracted and chunked.
using (var builder = new PdfDocumentBuilder())
{
    var font = builder.AddStandard14Font(Standard14Font.Helvetica);
    for (var p = 0; p < 200; p++)
    {
        var page = builder.AddPage(PageSize.A4);
        for (var line = 0; line < 40; line++)
        {
            page.AddText($"{(p % 5 == 0 && line == 0 ? "(S) " : string.Empty)}page {p} line {line} the quick brown fox jumps over the lazy dog again", 10, new UglyToad.PdfPig.Core.PdfPoint(25, 800 - (line * 18)), font);
        }
    }

    var pdf = builder.Build();
    var chunker = new TextChunker(scheme);
    var total = Stopwatch.StartNew();
    var runs = 0;
    var made = 0;
    while (total.Elapsed < TimeSpan.FromSeconds(10) || runs < 2)
    {
        var document = DocumentText.Extract(pdf, "bench.pdf");
        made = chunker.Chunk(document.Text, labels[0]).Count;
        runs++;
    }

    report.Append(CultureInfo.InvariantCulture, $"\nIngestion (extract + label + chunk, no embedding): {runs * 200 / total.Elapsed.TotalSeconds:F0} pages/s ({runs} runs of a 200-page PDF, {made} chunks each)\n");
}

Console.Out.Write(report);
