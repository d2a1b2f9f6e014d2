using Enclave.Policy.Labels;
using Enclave.Retrieval.Chunking;
using Enclave.Retrieval.Index;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Enclave.Retrieval.Tests;

/// <summary>
/// Over random corpora (documents with random banner labels and randomly marked paragraphs) and random clearances: no
/// chunk a search returns is above the caller's clearance, and every chunk the clearance dominates is searchable.
/// </summary>
public sealed class ClearanceFilterProperties
{
    private static readonly LabelScheme Scheme = LabelScheme.Default;
    private static readonly string[] Banners = ["UNCLASSIFIED", "CUI", "SECRET", "SECRET//NOFORN", "TOP SECRET"];
    private static readonly string[] Portions = ["(U)", "(CUI)", "(S)", "(S//NF)", "(TS)", string.Empty];

    [Property(MaxTest = 200)]
    public Property NoReturnedChunkIsAboveTheClearance() => Prop.ForAll(
        Gen.Choose(0, int.MaxValue).ToArbitrary(),
        seed =>
        {
            var random = new Random(seed);
            var chunker = new TextChunker(Scheme, new ChunkerOptions { MaxChars = 64, OverlapChars = 16 });
            var index = new VectorIndex(8);
            var chunks = new List<TextChunk>();
            for (var d = 0; d < random.Next(1, 6); d++)
            {
                var paragraphs = Enumerable.Range(0, random.Next(1, 6))
                    .Select(p => Portions[random.Next(Portions.Length)] + " " + string.Join(' ', Enumerable.Range(0, random.Next(3, 15)).Select(w => $"w{d}p{p}x{w}")));
                foreach (var chunk in chunker.Chunk(string.Join(random.Next(2) == 0 ? "\n\n" : "\n", paragraphs), Scheme.ParseMarking(Banners[random.Next(Banners.Length)])))
                {
                    index.Add(chunks.Count, [.. Enumerable.Range(0, 8).Select(_ => (float)random.NextDouble() + 0.01f)], chunk.Label);
                    chunks.Add(chunk);
                }
            }

            var clearance = Scheme.ParseMarking(Banners[random.Next(Banners.Length)]);
            var hits = index.Search([.. Enumerable.Range(0, 8).Select(_ => (float)random.NextDouble() + 0.01f)], chunks.Count, clearance);
            var returned = hits.Select(h => chunks[(int)h.Key]).ToList();
            var visible = chunks.Count(c => clearance.Dominates(c.Label));
            return returned.All(c => clearance.Dominates(c.Label)) && returned.Count == visible;
        });
}
