using System.Numerics.Tensors;
using Enclave.Policy.Labels;

namespace Enclave.Retrieval.Index;

/// <summary>Settings of an <see cref="IvfIndex"/>.</summary>
public sealed record IvfOptions
{
    /// <summary>Inverted lists (k-means centroids); about the square root of the vectors held is usual.</summary>
    public int Lists { get; init; } = 1024;

    /// <summary>Lists searched per query, nearest centroids first (more: better recall, slower).</summary>
    public int Probes { get; init; } = 32;

    /// <summary>Vectors sampled to train the centroids (k-means on a sample; all vectors are then assigned).</summary>
    public int TrainingSample { get; init; } = 65_536;

    /// <summary>k-means iterations over the sample.</summary>
    public int TrainingIterations { get; init; } = 8;

    /// <summary>Seed of the sample and of the initial centroids, so that a build is reproducible.</summary>
    public int Seed { get; init; } = 14;

    /// <summary>Threads used to train and assign (search is one thread per query).</summary>
    public int BuildThreads { get; init; } = Environment.ProcessorCount;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> when a setting is out of range.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Lists, 1, nameof(Lists));
        ArgumentOutOfRangeException.ThrowIfLessThan(Probes, 1, nameof(Probes));
        ArgumentOutOfRangeException.ThrowIfLessThan(TrainingSample, 1, nameof(TrainingSample));
        ArgumentOutOfRangeException.ThrowIfLessThan(TrainingIterations, 0, nameof(TrainingIterations));
        ArgumentOutOfRangeException.ThrowIfLessThan(BuildThreads, 1, nameof(BuildThreads));
    }
}

/// <summary>
/// An approximate cosine index held in memory: an inverted file (IVF). k-means on a sample of the vectors gives
/// <see cref="IvfOptions.Lists"/> centroids; every vector is stored, float32 and unit length, contiguously with the others
/// of its nearest centroid's list. A query scores the centroids, then the vectors of the <see cref="IvfOptions.Probes"/>
/// nearest lists exactly. The caller's clearance is applied <em>before</em> scoring, as in <see cref="VectorIndex"/>: a
/// vector whose label the clearance does not dominate is never scored, returned or counted; and when the lists probed
/// hold fewer than <c>top</c> vectors the clearance admits, the next nearest lists are probed too, so a caller with a
/// low clearance still gets <c>top</c> results when the index holds that many for it. Immutable once built: searches
/// may run concurrently. Why IVF and its recall against exact search: docs/retrieval.md ("The index").
/// </summary>
public sealed class IvfIndex
{
    private readonly float[] _centroids;
    private readonly int[] _listStart; // list i holds rows _listStart[i] .. _listStart[i + 1] - 1
    private readonly float[] _vectors;
    private readonly long[] _keys;
    private readonly SecurityLabel[] _labels;

    private IvfIndex(int dimensions, int probes, float[] centroids, int[] listStart, float[] vectors, long[] keys, SecurityLabel[] labels)
    {
        Dimensions = dimensions;
        Probes = probes;
        _centroids = centroids;
        _listStart = listStart;
        _vectors = vectors;
        _keys = keys;
        _labels = labels;
    }

    /// <summary>Length of every vector.</summary>
    public int Dimensions { get; }

    /// <summary>Vectors held.</summary>
    public int Count => _keys.Length;

    /// <summary>Inverted lists.</summary>
    public int Lists => _listStart.Length - 1;

    /// <summary>Lists probed per query unless a search says otherwise.</summary>
    public int Probes { get; }

    /// <summary>
    /// Builds the index over <paramref name="count"/> unit-length vectors laid out row after row in
    /// <paramref name="vectors"/>, each with its key and its chunk's label.
    /// </summary>
    public static IvfIndex Build(int dimensions, ReadOnlyMemory<float> vectors, ReadOnlySpan<long> keys, ReadOnlySpan<SecurityLabel> labels, int count, IvfOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        ArgumentOutOfRangeException.ThrowIfLessThan(dimensions, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (vectors.Length < (long)count * dimensions || keys.Length < count || labels.Length < count)
        {
            throw new ArgumentException($"{count} vectors of {dimensions} dimensions need {(long)count * dimensions} floats, {count} keys and {count} labels");
        }

        var lists = Math.Max(1, Math.Min(options.Lists, count));
        var data = vectors[..checked(count * dimensions)];
        var centroids = Train(data, dimensions, count, lists, options);

        // Assign every vector to its nearest centroid, then lay the rows out list by list.
        var assignment = new int[count];
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = options.BuildThreads }, row =>
            assignment[row] = Nearest(centroids, lists, dimensions, data.Span.Slice(row * dimensions, dimensions)));
        var listStart = new int[lists + 1];
        foreach (var list in assignment)
        {
            listStart[list + 1]++;
        }

        for (var i = 0; i < lists; i++)
        {
            listStart[i + 1] += listStart[i];
        }

        var next = listStart[..^1].ToArray();
        var laidOut = new float[data.Length];
        var source = data.Span;
        var laidKeys = new long[count];
        var laidLabels = new SecurityLabel[count];
        for (var row = 0; row < count; row++)
        {
            var at = next[assignment[row]]++;
            source.Slice(row * dimensions, dimensions).CopyTo(laidOut.AsSpan(at * dimensions, dimensions));
            laidKeys[at] = keys[row];
            laidLabels[at] = labels[row];
        }

        return new IvfIndex(dimensions, Math.Min(options.Probes, lists), centroids, listStart, laidOut, laidKeys, laidLabels);
    }

    /// <summary>
    /// The <paramref name="top"/> vectors most similar to <paramref name="query"/> among those <paramref name="clearance"/>
    /// dominates in the lists probed, best first.
    /// </summary>
    /// <param name="query">The query vector (any length but zero).</param>
    /// <param name="top">How many results.</param>
    /// <param name="clearance">The caller's clearance: vectors it does not dominate are never scored.</param>
    /// <param name="probes">Lists to probe; null for the index's <see cref="Probes"/>.</param>
    public IReadOnlyList<SearchHit> Search(ReadOnlySpan<float> query, int top, SecurityLabel clearance, int? probes = null)
    {
        if (query.Length != Dimensions)
        {
            throw new ArgumentException($"the query has {query.Length} dimensions; this index holds {Dimensions}", nameof(query));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(top, 1);
        var probe = Math.Clamp(probes ?? Probes, 1, Lists);
        float norm = TensorPrimitives.Norm(query);
        if (!float.IsFinite(norm) || norm == 0)
        {
            throw new ArgumentException("the query is zero or not finite", nameof(query));
        }

        // Lists by their centroid's similarity to the query, nearest first.
        var order = new int[Lists];
        var closeness = new float[Lists];
        for (var i = 0; i < order.Length; i++)
        {
            order[i] = i;
            closeness[i] = -TensorPrimitives.Dot(query, _centroids.AsSpan(i * Dimensions, Dimensions));
        }

        Array.Sort(closeness, order);

        var heap = new PriorityQueue<int, (float Score, int Row)>(top + 1, Comparer<(float Score, int Row)>.Create(
            (a, b) => a.Score != b.Score ? a.Score.CompareTo(b.Score) : b.Row.CompareTo(a.Row)));
        ReadOnlySpan<float> vectors = _vectors;
        for (var p = 0; p < order.Length && (p < probe || heap.Count < top); p++)
        {
            var list = order[p];
            for (int row = _listStart[list], end = _listStart[list + 1]; row < end; row++)
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
                else if (heap.TryPeek(out _, out var weakest) && score > weakest.Score)
                {
                    heap.EnqueueDequeue(row, (score, row));
                }
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

    /// <summary>Spherical k-means (cosine) on a sample: centroids kept at unit length.</summary>
    private static float[] Train(ReadOnlyMemory<float> data, int dimensions, int count, int lists, IvfOptions options)
    {
        var random = new Random(options.Seed);
        var sampleSize = Math.Max(lists, Math.Min(count, options.TrainingSample));
        var sample = count <= sampleSize ? Enumerable.Range(0, count).ToArray() : random.GetItems(Enumerable.Range(0, count).ToArray(), sampleSize);
        var centroids = new float[lists * dimensions];
        var seeds = sample.Length == lists ? sample : random.GetItems(sample, lists);
        for (var i = 0; i < lists; i++)
        {
            data.Span.Slice(seeds[i] * dimensions, dimensions).CopyTo(centroids.AsSpan(i * dimensions, dimensions));
        }

        var assignment = new int[sample.Length];
        for (var iteration = 0; iteration < options.TrainingIterations; iteration++)
        {
            Parallel.For(0, sample.Length, new ParallelOptions { MaxDegreeOfParallelism = options.BuildThreads }, s =>
                assignment[s] = Nearest(centroids, lists, dimensions, data.Span.Slice(sample[s] * dimensions, dimensions)));
            var sums = new float[centroids.Length];
            var members = new int[lists];
            for (var s = 0; s < sample.Length; s++)
            {
                var c = assignment[s];
                members[c]++;
                TensorPrimitives.Add(sums.AsSpan(c * dimensions, dimensions), data.Span.Slice(sample[s] * dimensions, dimensions), sums.AsSpan(c * dimensions, dimensions));
            }

            for (var c = 0; c < lists; c++)
            {
                var sum = sums.AsSpan(c * dimensions, dimensions);
                var norm = TensorPrimitives.Norm(sum);
                if (members[c] == 0 || norm == 0 || !float.IsFinite(norm))
                {
                    // An empty list takes a random sample vector: no centroid is wasted.
                    data.Span.Slice(sample[random.Next(sample.Length)] * dimensions, dimensions).CopyTo(centroids.AsSpan(c * dimensions, dimensions));
                    continue;
                }

                TensorPrimitives.Divide(sum, norm, centroids.AsSpan(c * dimensions, dimensions));
            }
        }

        return centroids;
    }

    private static int Nearest(float[] centroids, int lists, int dimensions, ReadOnlySpan<float> vector)
    {
        var best = 0;
        var bestScore = float.NegativeInfinity;
        for (var c = 0; c < lists; c++)
        {
            var score = TensorPrimitives.Dot(vector, centroids.AsSpan(c * dimensions, dimensions));
            if (score > bestScore)
            {
                (best, bestScore) = (c, score);
            }
        }

        return best;
    }
}
