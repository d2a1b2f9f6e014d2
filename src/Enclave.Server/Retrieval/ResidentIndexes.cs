using System.Collections.Concurrent;
using Enclave.Policy.Labels;
using Enclave.Retrieval.Index;
using Enclave.State.Retrieval;

namespace Enclave.Server.Retrieval;

/// <summary>
/// The vectors of each searched vector store kept in memory between searches, per (store, embedding model), with every
/// chunk and its label: the index filters by the caller's clearance before it scores, so one resident index serves
/// every clearance. An index is rebuilt when the store's signature in the state layer changes (a file added or
/// removed, on this replica or another). A store of at least <see cref="RetrievalOptions.IvfThreshold"/> chunks is
/// searched through an <see cref="IvfIndex"/>, a smaller one exactly.
/// </summary>
internal sealed class ResidentIndexes(IRetrievalStore store, RetrievalOptions options)
{
    private readonly ConcurrentDictionary<(string Store, string Model, int Dimensions), Resident> _indexes = new();

    /// <summary>Stores held (for tests and metrics).</summary>
    public int Count => _indexes.Count;

    /// <summary>
    /// The <paramref name="top"/> chunks of the store nearest to <paramref name="query"/> among those
    /// <paramref name="clearance"/> dominates, best first, from the resident index (built or rebuilt first when needed).
    /// </summary>
    public IReadOnlyList<(RetrievalChunkRow Chunk, float Score)> Search(string storeId, string model, float[] query, int top, SecurityLabel clearance, Func<string, SecurityLabel> parse)
    {
        var key = (storeId, model, query.Length);
        var signature = store.StoreSignature(storeId);
        if (!_indexes.TryGetValue(key, out var resident) || resident.Signature != signature)
        {
            resident = Build(storeId, model, query.Length, signature, parse);
            _indexes[key] = resident;
        }

        var hits = resident.Ivf?.Search(query, top, clearance) ?? resident.Exact?.Search(query, top, clearance) ?? [];
        return [.. hits.Select(h => (resident.Chunks[(int)h.Key], h.Score))];
    }

    /// <summary>Forgets a store's indexes (it was deleted).</summary>
    public void Forget(string storeId)
    {
        foreach (var key in _indexes.Keys.Where(k => k.Store == storeId))
        {
            _indexes.TryRemove(key, out _);
        }
    }

    private Resident Build(string storeId, string model, int dimensions, string signature, Func<string, SecurityLabel> parse)
    {
        var chunks = store.ChunksOfStore(storeId).Where(c => c.Model == model && c.Embedding.Length == dimensions).ToArray();
        if (chunks.Length == 0)
        {
            return new Resident(signature, chunks, null, null);
        }

        var exact = new VectorIndex(dimensions, chunks.Length);
        for (var i = 0; i < chunks.Length; i++)
        {
            exact.Add(i, chunks[i].Embedding, parse(chunks[i].Label));
        }

        if (chunks.Length < options.IvfThreshold)
        {
            return new Resident(signature, chunks, exact, null);
        }

        var lists = options.IvfLists > 0 ? options.IvfLists : Math.Max(1, (int)Math.Sqrt(chunks.Length));
        return new Resident(signature, chunks, null, exact.BuildIvf(new IvfOptions { Lists = lists, Probes = options.IvfProbes }));
    }

    private sealed record Resident(string Signature, RetrievalChunkRow[] Chunks, VectorIndex? Exact, IvfIndex? Ivf);
}
