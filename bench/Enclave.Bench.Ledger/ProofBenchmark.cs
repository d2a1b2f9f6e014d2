using System.Diagnostics;
using System.Text;
using Enclave.Core;
using Enclave.Ledger;
using Enclave.Ledger.Checkpoints;
using Enclave.Ledger.Merkle;
using Enclave.Signing.Keys;
using Enclave.Signing.Notes;

namespace Enclave.Bench.Ledger;

/// <summary>
/// Fills a ledger to a large size with concurrent writers, then times inclusion and consistency proofs from a
/// read-only <see cref="LedgerReader"/> against the latest signed checkpoint, and verifies every proof timed.
/// </summary>
internal static class ProofBenchmark
{
    private const int ProofWarmup = 500;

    public static async Task<ProofResult> RunAsync(
        BenchSettings settings, long entries, int fillWriters, int inclusionProofs, int consistencyProofs, string? existingLedger, TextWriter log)
    {
        using var scratch = existingLedger is null ? new ScratchDirectory(settings.Root, "proofs", settings.Keep) : null;
        var dir = existingLedger ?? scratch!.Path;
        FillStats? fill = null;
        IReadOnlyList<string> verifierKeys;
        if (existingLedger is null)
        {
            verifierKeys = SqliteLedger.Initialize(dir, BenchSettings.Origin, settings.PostQuantum, TimeProvider.System);
            fill = await FillAsync(dir, entries, fillWriters, settings, log).ConfigureAwait(false);
        }
        else
        {
            verifierKeys = LedgerKeys.LoadVerifierKeys(dir);
            log.WriteLine($"proofs: reusing the ledger in {dir}");
        }

        using var reader = LedgerReader.Open(dir);
        var size = reader.TreeSize();
        var root = VerifiedCheckpointRoot(reader, verifierKeys, size);
        reader.RootHash(size); // first call pays for JIT and a cold statement cache
        var rootStart = Stopwatch.GetTimestamp();
        var tilesRoot = reader.RootHash(size);
        var rootMs = Stopwatch.GetElapsedTime(rootStart).TotalMilliseconds;
        if (tilesRoot != root)
        {
            throw new InvalidOperationException($"the root recomputed from tiles ({tilesRoot}) differs from the signed checkpoint's ({root}) at size {size}");
        }

        var random = new Random(settings.Seed); // which indices to prove; nothing secret
        log.WriteLine($"proofs: {inclusionProofs:N0} inclusion proofs against size {size:N0}");
        for (var i = 0; i < ProofWarmup; i++)
        {
            reader.ProveInclusion(random.NextInt64(size), size);
        }

        var indices = new long[inclusionProofs];
        var proofs = new IReadOnlyList<Sha256Digest>[inclusionProofs];
        var ticks = new long[inclusionProofs];
        var cpu = CpuTime();
        for (var i = 0; i < inclusionProofs; i++)
        {
            indices[i] = random.NextInt64(size);
            var before = Stopwatch.GetTimestamp();
            proofs[i] = reader.ProveInclusion(indices[i], size);
            ticks[i] = Stopwatch.GetTimestamp() - before;
        }

        var inclusionCpu = (CpuTime() - cpu).TotalMicroseconds / Math.Max(1, inclusionProofs);
        var inclusion = LatencyStats.FromTicks(ticks);

        // The same indices again: every tile these proofs touch has its interior row in the cache now, as in a
        // long-running server (the first pass includes the proofs that filled it). The proofs must not change.
        var warmTicks = new long[inclusionProofs];
        cpu = CpuTime();
        for (var i = 0; i < inclusionProofs; i++)
        {
            var before = Stopwatch.GetTimestamp();
            var again = reader.ProveInclusion(indices[i], size);
            warmTicks[i] = Stopwatch.GetTimestamp() - before;
            if (!again.SequenceEqual(proofs[i]))
            {
                throw new InvalidOperationException($"the proof of entry {indices[i]} changed between the first and the second pass");
            }
        }

        var warmCpu = (CpuTime() - cpu).TotalMicroseconds / Math.Max(1, inclusionProofs);

        // The same indices from the same tiles without the shared TileInteriorCache: every proof recomputes the
        // interior levels of its tiles, as LedgerReader did before it kept them. The proofs must be identical.
        var uncachedTicks = new long[inclusionProofs];
        var tiles = reader.OpenTileReader();
        var tileReads = 0L;
        cpu = CpuTime();
        for (var i = 0; i < inclusionProofs; i++)
        {
            var before = Stopwatch.GetTimestamp();
            var source = new Enclave.Ledger.Tiles.TileHashSource(tiles, size);
            var uncached = MerkleProofs.Inclusion(indices[i], size, source);
            uncachedTicks[i] = Stopwatch.GetTimestamp() - before;
            tileReads += source.TileReads;
            if (!uncached.SequenceEqual(proofs[i]))
            {
                throw new InvalidOperationException($"the proof of entry {indices[i]} differs with and without the interior cache");
            }
        }

        var uncachedCpu = (CpuTime() - cpu).TotalMicroseconds / Math.Max(1, inclusionProofs);

        // Tile reads per proof once the interior rows are held (a fresh cache warmed by one pass over the indices).
        var interiors = new Enclave.Ledger.Tiles.TileInteriorCache();
        foreach (var index in indices)
        {
            MerkleProofs.Inclusion(index, size, new Enclave.Ledger.Tiles.TileHashSource(tiles, size, interiors));
        }

        var warmTileReads = 0L;
        foreach (var index in indices)
        {
            var source = new Enclave.Ledger.Tiles.TileHashSource(tiles, size, interiors);
            MerkleProofs.Inclusion(index, size, source);
            warmTileReads += source.TileReads;
        }

        var verifyTicks = new long[inclusionProofs];
        var verified = 0;
        for (var i = 0; i < inclusionProofs; i++)
        {
            var leaf = MerkleHash.Leaf(reader.ReadEntry(indices[i]));
            var before = Stopwatch.GetTimestamp();
            var ok = MerkleVerifier.VerifyInclusion(leaf, indices[i], size, proofs[i], root);
            verifyTicks[i] = Stopwatch.GetTimestamp() - before;
            verified += ok ? 1 : 0;
        }

        // A verifier that accepts anything would make the count above meaningless: a wrong leaf must fail.
        var wrongLeaf = MerkleHash.Leaf("not an entry of this log"u8);
        if (MerkleVerifier.VerifyInclusion(wrongLeaf, indices[0], size, proofs[0], root))
        {
            throw new InvalidOperationException("an inclusion proof verified for a leaf that is not in the log");
        }

        log.WriteLine($"proofs: {consistencyProofs:N0} consistency proofs to size {size:N0}");
        var oldSizes = new long[consistencyProofs];
        var consistency = new IReadOnlyList<Sha256Digest>[consistencyProofs];
        var consistencyTicks = new long[consistencyProofs];
        for (var i = 0; i < Math.Min(ProofWarmup, consistencyProofs); i++)
        {
            reader.ProveConsistency(1 + random.NextInt64(size - 1), size);
        }

        for (var i = 0; i < consistencyProofs; i++)
        {
            oldSizes[i] = 1 + random.NextInt64(size - 1);
            var before = Stopwatch.GetTimestamp();
            consistency[i] = reader.ProveConsistency(oldSizes[i], size);
            consistencyTicks[i] = Stopwatch.GetTimestamp() - before;
        }

        var consistencyVerified = 0;
        for (var i = 0; i < consistencyProofs; i++)
        {
            var oldRoot = reader.RootHash(oldSizes[i]);
            consistencyVerified += MerkleVerifier.VerifyConsistency(oldSizes[i], size, oldRoot, root, consistency[i]) ? 1 : 0;
        }

        var result = new ProofResult
        {
            TreeSize = size,
            Fill = fill,
            RootFromTilesMs = rootMs,
            Inclusion = inclusion,
            InclusionWarm = LatencyStats.FromTicks(warmTicks),
            InclusionWithoutInteriorCache = LatencyStats.FromTicks(uncachedTicks),
            InclusionCpuMicroseconds = inclusionCpu,
            InclusionWarmCpuMicroseconds = warmCpu,
            InclusionWithoutInteriorCacheCpuMicroseconds = uncachedCpu,
            TileReadsWithoutInteriorCache = tileReads / (double)Math.Max(1, inclusionProofs),
            TileReadsWarm = warmTileReads / (double)Math.Max(1, inclusionProofs),
            InclusionMeanHashes = proofs.Average(p => p.Count),
            InclusionVerify = LatencyStats.FromTicks(verifyTicks),
            InclusionVerified = verified,
            Consistency = LatencyStats.FromTicks(consistencyTicks),
            ConsistencyMeanHashes = consistency.Length == 0 ? 0 : consistency.Average(p => p.Count),
            ConsistencyVerified = consistencyVerified,
            DatabaseMegabytes = new FileInfo(Path.Combine(dir, "enclave.db")).Length / 1048576.0,
        };
        if (verified != inclusionProofs || consistencyVerified != consistencyProofs)
        {
            throw new InvalidOperationException(
                $"{inclusionProofs - verified} of {inclusionProofs} inclusion proofs and {consistencyProofs - consistencyVerified} of {consistencyProofs} consistency proofs failed to verify");
        }

        log.WriteLine($"proofs: inclusion p50 {inclusion.P50Ms * 1000:0} µs, p99 {inclusion.P99Ms * 1000:0} µs; second pass p50 {result.InclusionWarm.P50Ms * 1000:0} µs, p99 {result.InclusionWarm.P99Ms * 1000:0} µs (without the interior cache p50 {result.InclusionWithoutInteriorCache.P50Ms * 1000:0} µs); all {verified + consistencyVerified:N0} proofs verified");
        return result;
    }

    private static async Task<FillStats> FillAsync(string dir, long entries, int writers, BenchSettings settings, TextWriter log)
    {
        var options = new LedgerOptions { DataDirectory = dir, CheckpointInterval = TimeSpan.Zero, MaxBatchSize = 4096 };
        var events = new BenchEvents(1024, settings.Seed, TimeProvider.System);
        var logs = new WriterLog[writers];
        var issued = new StrongBox(entries);
        await using var ledger = SqliteLedger.Open(options, TimeProvider.System);
        log.WriteLine($"fill: {entries:N0} entries with {writers} writers, checkpoint every batch, in {dir}");
        var before = RuntimeSnapshot.Take();
        var tasks = new Task[writers];
        for (var i = 0; i < writers; i++)
        {
            var writerLog = logs[i] = new WriterLog((int)Math.Min(int.MaxValue, (entries / writers) + 1));
            tasks[i] = Task.Run(() => FillLoopAsync(ledger, events, writerLog, issued));
        }

        var all = Task.WhenAll(tasks);
        while (await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(10))).ConfigureAwait(false) != all)
        {
            var elapsed = Stopwatch.GetElapsedTime(before.Timestamp).TotalSeconds;
            log.WriteLine($"fill: {ledger.Size:N0} entries after {elapsed:0} s ({ledger.Size / elapsed:N0}/s)");
        }

        await all.ConfigureAwait(false);
        var after = RuntimeSnapshot.Take();
        var runtime = RuntimeDelta.Between(before, after);
        var latencies = WriterLog.MergeLatencies(logs);
        var stats = new FillStats
        {
            Writers = writers,
            CheckpointInterval = options.CheckpointInterval,
            Seconds = runtime.WallSeconds,
            AppendsPerSecond = latencies.Length / runtime.WallSeconds,
            Latency = LatencyStats.FromTicks(latencies),
            CommitsObserved = WriterLog.DistinctSizes(logs),
            Runtime = runtime,
        };
        log.WriteLine($"fill: {latencies.Length:N0} entries in {stats.Seconds:0.0} s = {stats.AppendsPerSecond:N0}/s");
        return stats;
    }

    private static async Task FillLoopAsync(SqliteLedger ledger, BenchEvents events, WriterLog log, StrongBox remaining)
    {
        while (Interlocked.Decrement(ref remaining.Value) >= 0)
        {
            var evt = events.Next();
            var before = Stopwatch.GetTimestamp();
            await ledger.AppendAsync(evt).ConfigureAwait(false);
            log.Add(Stopwatch.GetTimestamp() - before, ledger.Size);
        }
    }

    /// <summary>CPU time of this process (user and system, all threads): unlike wall time, not inflated by waiting for a core.</summary>
    private static TimeSpan CpuTime()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime;
    }

    /// <summary>The root hash of the latest checkpoint, after checking its signatures with the ledger's verifier keys.</summary>
    private static Sha256Digest VerifiedCheckpointRoot(LedgerReader reader, IReadOnlyList<string> verifierKeys, long size)
    {
        var signed = reader.LatestCheckpoint() ?? throw new InvalidOperationException("the ledger has no checkpoint");
        var opened = SignedNote.Open(Encoding.UTF8.GetBytes(signed.Note), [.. verifierKeys.Select(VerifierKeys.Parse)]);
        var checkpoint = Checkpoint.Parse(opened.Text);
        if (checkpoint.Size != size || signed.Size != size)
        {
            throw new InvalidOperationException($"the latest checkpoint is for size {checkpoint.Size}; the ledger has {size} entries");
        }

        return checkpoint.RootHash;
    }

    /// <summary>A counter shared by the fill writers.</summary>
    private sealed class StrongBox(long value)
    {
        public long Value = value;
    }
}
