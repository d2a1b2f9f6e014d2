using System.Numerics.Tensors;
using Enclave.Policy.Labels;

namespace Enclave.Retrieval.Index;

/// <summary>One result of a search: the chunk's key and its cosine similarity to the query.</summary>
public readonly record struct SearchHit(long Key, float Score);

/// <summary>
/// Exact cosine search over unit-length float32 vectors held in one contiguous array, each with the label of its
/// chunk. The caller's clearance is applied <em>before</em> ranking: a vector whose label the clearance does not
/// dominate is never scored, so it can be neither returned nor counted. The dot products run on SIMD
/// (<see cref="TensorPrimitives.Dot(ReadOnlySpan{float}, ReadOnlySpan{float})"/>). Adding is single-writer;
/// searches may run concurrently with each other, not with <see cref="Add"/>.
/// </summary>
public sealed class VectorIndex
{
    private float[] _vectors;
    private long[] _keys;
    private SecurityLabel[] _labels;

    public VectorIndex(int dimensions, int initialCapacity = 1024)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimensions, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(initialCapacity, 1);
        Dimensions = dimensions;
        _vectors = new float[(long)initialCapacity * dimensions];
        _keys = new long[initialCapacity];
        _labels = new SecurityLabel[initialCapacity];
    }

    /// <summary>Length of every vector.</summary>
    public int Dimensions { get; }

    /// <summary>Vectors held.</summary>
    public int Count { get; private set; }

    /// <summary>Adds a vector (normalised here to unit length) under <paramref name="key"/> with its chunk's label.</summary>
    public void Add(long key, ReadOnlySpan<float> vector, SecurityLabel label)
    {
        if (vector.Length != Dimensions)
        {
            throw new ArgumentException($"the vector has {vector.Length} dimensions; this index holds {Dimensions}", nameof(vector));
        }

        float norm = TensorPrimitives.Norm(vector);
        if (!float.IsFinite(norm) || norm == 0)
        {
            throw new ArgumentException("the vector is zero or not finite", nameof(vector));
        }

        if (Count == _keys.Length)
        {
            int capacity = checked(_keys.Length * 2);
            Array.Resize(ref _vectors, checked(capacity * Dimensions));
            Array.Resize(ref _keys, capacity);
            Array.Resize(ref _labels, capacity);
        }

        TensorPrimitives.Divide(vector, norm, _vectors.AsSpan(Count * Dimensions, Dimensions));
        _keys[Count] = key;
        _labels[Count] = label;
        Count++;
    }

    /// <summary>An approximate index (<see cref="IvfIndex"/>) over the vectors held now, with their keys and labels.</summary>
    public IvfIndex BuildIvf(IvfOptions options) =>
        IvfIndex.Build(Dimensions, _vectors.AsMemory(0, Count * Dimensions), _keys.AsSpan(0, Count), _labels.AsSpan(0, Count), Count, options);

    /// <summary>
    /// The <paramref name="top"/> vectors most similar to <paramref name="query"/> among those
    /// <paramref name="clearance"/> dominates, best first (ties by insertion order).
    /// </summary>
    public IReadOnlyList<SearchHit> Search(ReadOnlySpan<float> query, int top, SecurityLabel clearance)
    {
        if (query.Length != Dimensions)
        {
            throw new ArgumentException($"the query has {query.Length} dimensions; this index holds {Dimensions}", nameof(query));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(top, 1);
        float norm = TensorPrimitives.Norm(query);
        if (!float.IsFinite(norm) || norm == 0)
        {
            throw new ArgumentException("the query is zero or not finite", nameof(query));
        }

        // A min-heap of the best so far: the root is the weakest kept hit (lowest score; among equals the latest).
        var heap = new PriorityQueue<int, (float Score, int Row)>(top + 1, Comparer<(float Score, int Row)>.Create(
            (a, b) => a.Score != b.Score ? a.Score.CompareTo(b.Score) : b.Row.CompareTo(a.Row)));
        ReadOnlySpan<float> vectors = _vectors;
        for (int row = 0; row < Count; row++)
        {
            if (!clearance.Dominates(_labels[row]))
            {
                continue; // filtered before scoring: never ranked, returned or counted
            }

            float score = TensorPrimitives.Dot(query, vectors.Slice(row * Dimensions, Dimensions)) / norm;
            if (heap.Count < top)
            {
                heap.Enqueue(row, (score, row));
            }
            else if (heap.TryPeek(out _, out var weakest) && (score > weakest.Score))
            {
                heap.EnqueueDequeue(row, (score, row));
            }
        }

        var hits = new SearchHit[heap.Count];
        for (int i = hits.Length - 1; i >= 0; i--)
        {
            heap.TryDequeue(out int row, out var priority);
            hits[i] = new SearchHit(_keys[row], priority.Score);
        }

        return hits;
    }
}
