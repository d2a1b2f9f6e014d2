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

// Retrieval benchmark: exact cosine search (VectorIndex) over N chunks of D dimensions with mixed labels, filtered by
// clearance before scoring, single-threaded, p50/p99 per query; and ingestion (PDF text extraction and labelled
// chunking, without embedding) in pages per second. Usage: [chunks] [dimensions] [queries]. Markdown on stdout.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
int chunks = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1_000_000;
int dims = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 384;
int queries = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 200;
var scheme = LabelScheme.Default;
SecurityLabel[] labels = [scheme.ParseMarking("UNCLASSIFIED"), scheme.ParseMarking("CUI"), scheme.ParseMarking("SECRET")];
var random = new Random(14);
var index = new VectorIndex(dims, chunks);
var vector = new float[dims];
for (var i = 0; i < chunks; i++)
{
    for (var d = 0; d < dims; d++)
    {
        vector[d] = (float)(random.NextDouble() - 0.5);
    }

    // Two thirds UNCLASSIFIED, a sixth CUI, a sixth SECRET.
    index.Add(i, vector, labels[random.Next(6) switch { < 4 => 0, 4 => 1, _ => 2 }]);
}

var report = new StringBuilder($"Retrieval benchmark: {chunks:N0} chunks x {dims} dimensions, {queries} queries, top 10, one thread\n\n| clearance | p50 ms | p99 ms | mean ms |\n| --- | --- | --- | --- |\n");
foreach (var clearance in new[] { labels[0], labels[2] })
{
    var times = new List<double>();
    for (var q = 0; q < queries + 10; q++)
    {
        for (var d = 0; d < dims; d++)
        {
            vector[d] = (float)(random.NextDouble() - 0.5);
        }

        var watch = Stopwatch.StartNew();
        var hits = index.Search(vector, 10, clearance);
        watch.Stop();
        if (q >= 10 && hits.Count == 10)
        {
            times.Add(watch.Elapsed.TotalMilliseconds); // the first 10 are warm-up
        }
    }

    times.Sort();
    report.Append(CultureInfo.InvariantCulture, $"| {scheme.FormatBanner(clearance)} | {times[times.Count / 2]:F2} | {times[(int)(times.Count * 0.99)]:F2} | {times.Average():F2} |\n");
}

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
