using System.Diagnostics;
using System.Security.Cryptography;
using Enclave.Core.Audit;
using Enclave.Ledger;
using Enclave.Ledger.Checkpoints;
using Enclave.Ledger.Merkle;
using Enclave.Signing.Keys;
using Enclave.Signing.Notes;
using Microsoft.Data.Sqlite;

namespace Enclave.Bench.Ledger;

/// <summary>
/// The cost of each piece of an append, measured alone on this machine: the disk's fsync, the caller's canonical
/// encoding, the leaf hash, the checkpoint signature, the SQLite statements and commit of one group commit, and the
/// queueing (channel, task completion, thread-pool hops) with no storage behind it. Together with the sequencer's
/// CPU share from the append runs these say where an append's time goes.
/// </summary>
internal static class ComponentProfile
{
    // The ledger's schema and pragmas as Enclave.State (EnclaveMigrations, SqliteConnectionFactory) creates them (internal there;
    // copied so the statements below cost what the writer's do).
    private const string Schema = """
        CREATE TABLE ledger_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE ledger_entries (idx INTEGER PRIMARY KEY, data BLOB NOT NULL);
        CREATE TABLE ledger_tiles (level INTEGER NOT NULL, idx INTEGER NOT NULL, hashes BLOB NOT NULL, PRIMARY KEY (level, idx)) WITHOUT ROWID;
        CREATE TABLE ledger_checkpoint (id INTEGER PRIMARY KEY CHECK (id = 1), size INTEGER NOT NULL, note TEXT NOT NULL);
        """;

    private const int TileWidth = 256;

    public static async Task<IReadOnlyList<ProfileRow>> RunAsync(BenchSettings settings, TextWriter log)
    {
        var rows = new List<ProfileRow>();
        using var scratch = new ScratchDirectory(settings.Root, "profile", settings.Keep);
        var events = new BenchEvents(1024, settings.Seed, TimeProvider.System);
        var encoded = Enumerable.Range(0, 1024).Select(_ => events.Next().ToCanonicalJson()).ToArray();

        log.WriteLine("profile: fsync");
        var fsync = Fsync(scratch.Path, 300);
        rows.Add(new("fsync of a 4 KiB append (FileStream.Flush(true))", $"{fsync.P50Ms:0.00} ms median, mean {fsync.MeanMs:0.00}, p99 {fsync.P99Ms:0.00} ms", "300 appends to one file; the floor under every group commit"));

        log.WriteLine("profile: encoding, hashing, signing");
        var encode = PerCall(i => events.Next().ToCanonicalJson());
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            events.Next().ToCanonicalJson();
        }

        var encodeAllocated = (GC.GetAllocatedBytesForCurrentThread() - allocatedBefore) / 1000.0;
        rows.Add(new("AuditEvent.ToCanonicalJson (caller thread)", $"{encode:0.0} µs, {encodeAllocated:N0} B allocated", $"{encoded.Average(e => e.Length):0} bytes per event; validation, Utf8JsonWriter, then RFC 8785 re-parse and re-write"));
        var leaf = PerCall(i => MerkleHash.Leaf(encoded[i % encoded.Length]));
        rows.Add(new("MerkleHash.Leaf (sequencer)", $"{leaf:0.00} µs", "SHA-256 of 0x00 || entry"));
        var left = MerkleHash.Leaf(encoded[0]);
        var right = MerkleHash.Leaf(encoded[1]);
        var node = PerCall(_ => MerkleHash.Node(left, right));
        rows.Add(new("MerkleHash.Node (sequencer; proofs)", $"{node:0.00} µs", "SHA256.HashData of 65 bytes: one OpenSSL EVP context per call"));
        using (var incremental = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
        {
            var input = new byte[65];
            var output = new byte[32];
            var reused = PerCall(_ =>
            {
                incremental.AppendData(input);
                return incremental.GetHashAndReset(output);
            });
            rows.Add(new("Same 65-byte SHA-256, reused IncrementalHash", $"{reused:0.00} µs", "what a node hash costs without per-call context setup"));
        }


        SqliteLedger.Initialize(scratch.Path, BenchSettings.Origin, settings.PostQuantum, TimeProvider.System);
        using (var keys = LedgerKeys.Load(scratch.Path, TimeProvider.System))
        {
            var note = new Checkpoint { Origin = BenchSettings.Origin, Size = 1_000_000, RootHash = MerkleHash.Empty }.Format();
            var signers = keys.Signers.ToArray();
            var sign = PerCall(_ => SignedNote.Sign(note, signers));
            rows.Add(new("SignedNote.Sign checkpoint (sequencer, once per checkpoint)", $"{sign:0} µs", settings.PostQuantum ? "Ed25519 + ML-DSA-44" : "Ed25519 (BouncyCastle)"));
        }

        log.WriteLine("profile: SQLite group commit anatomy");
        foreach (var (batch, synchronous, iterations) in new[] { (1, "FULL", 300), (256, "FULL", 200), (256, "NORMAL", 200), (4096, "FULL", 20) })
        {
            var (statements, commit) = SqliteBatches(scratch.Path, encoded, batch, synchronous, iterations);
            rows.Add(new(
                $"SQLite batch of {batch}, synchronous={synchronous}",
                $"statements {statements.P50Ms:0.00} ms ({statements.P50Ms * 1000 / batch:0.0} µs/entry), COMMIT {commit.P50Ms:0.00} ms (p99 {commit.P99Ms:0.00})",
                $"medians of {iterations}; entry inserts, tile upserts, tree_size and checkpoint row as SqliteLedger.Commit issues them"));
        }

        log.WriteLine("profile: queueing without storage");
        foreach (var (withEncoding, delay) in new[] { (false, TimeSpan.Zero), (true, TimeSpan.Zero), (true, TimeSpan.FromMilliseconds(fsync.MeanMs)) })
        {
            var rate = await NullPipelineAsync(events, encoded, 256, withEncoding, delay).ConfigureAwait(false);
            var what = (withEncoding ? "Queue + encoding" : "Queue only (pre-encoded entries)")
                + (delay == TimeSpan.Zero ? ", no storage" : $", {delay.TotalMilliseconds:0.00} ms sleep per batch");
            rows.Add(new($"{what} (256 writers)", $"{rate:N0} appends/s", "SqliteLedger's channel, sequencer thread and TaskCompletionSource per append, with Commit replaced"));
        }

        return rows;
    }

    private static LatencyStats Fsync(string dir, int count)
    {
        var block = new byte[4096];
        var ticks = new long[count];
        using var file = new FileStream(Path.Combine(dir, "fsync.probe"), FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.None);
        for (var i = 0; i < count; i++)
        {
            var before = Stopwatch.GetTimestamp();
            file.Write(block);
            file.Flush(flushToDisk: true);
            ticks[i] = Stopwatch.GetTimestamp() - before;
        }

        return LatencyStats.FromTicks(ticks);
    }

    /// <summary>
    /// Microseconds per call: the median of seven rounds of about 100 ms each, after 2 s of warm-up (so tiered
    /// JIT has settled and a burst from a neighbouring process moves one round, not the answer).
    /// </summary>
    private static double PerCall<T>(Func<int, T> call)
    {
        var i = 0;
        var warmup = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(warmup).TotalMilliseconds < 2000)
        {
            call(i++);
        }

        var rounds = new double[7];
        for (var r = 0; r < rounds.Length; r++)
        {
            var calls = 0;
            var start = Stopwatch.GetTimestamp();
            while ((calls & 15) != 0 || Stopwatch.GetElapsedTime(start).TotalMilliseconds < 100)
            {
                call(i++);
                calls++;
            }

            rounds[r] = Stopwatch.GetElapsedTime(start).TotalMicroseconds / calls;
        }

        Array.Sort(rounds);
        return rounds[rounds.Length / 2];
    }

    private static (LatencyStats Statements, LatencyStats Commit) SqliteBatches(string dir, byte[][] entries, int batch, string synchronous, int iterations)
    {
        var path = Path.Combine(dir, $"anatomy-{batch}-{synchronous}.db");
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false }.ToString());
        connection.Open();
        Execute(connection, $"PRAGMA journal_mode=WAL; PRAGMA synchronous={synchronous};");
        Execute(connection, Schema);
        var note = SignedNoteLike();
        var statementTicks = new long[iterations];
        var commitTicks = new long[iterations];
        long size = 0;
        var tile = new byte[TileWidth * 32];
        Random.Shared.NextBytes(tile);
        for (var iteration = -iterations / 10; iteration < iterations; iteration++)
        {
            var start = Stopwatch.GetTimestamp();
            using var tx = connection.BeginTransaction();
            using (var insert = connection.CreateCommand())
            {
                insert.Transaction = tx;
                insert.CommandText = "INSERT INTO ledger_entries (idx, data) VALUES ($i, $d)";
                var pIndex = insert.Parameters.Add("$i", SqliteType.Integer);
                var pData = insert.Parameters.Add("$d", SqliteType.Blob);
                insert.Prepare();
                for (var j = 0; j < batch; j++)
                {
                    pIndex.Value = size + j;
                    pData.Value = entries[(size + j) % entries.Length];
                    insert.ExecuteNonQuery();
                }
            }

            // The writer rewrites every tile the batch touched, at its new width: the level-0 tiles holding the new
            // leaves and, once a level-0 tile fills, the level-1 tile above it.
            var newSize = size + batch;
            using (var upsert = connection.CreateCommand())
            {
                upsert.Transaction = tx;
                upsert.CommandText = "INSERT INTO ledger_tiles (level, idx, hashes) VALUES ($l, $i, $h) ON CONFLICT (level, idx) DO UPDATE SET hashes = excluded.hashes";
                var pl = upsert.Parameters.Add("$l", SqliteType.Integer);
                var pi = upsert.Parameters.Add("$i", SqliteType.Integer);
                var ph = upsert.Parameters.Add("$h", SqliteType.Blob);
                for (var t = size / TileWidth; t <= (newSize - 1) / TileWidth; t++)
                {
                    var width = (int)Math.Min(TileWidth, newSize - (t * TileWidth));
                    pl.Value = 0;
                    pi.Value = t;
                    ph.Value = tile.AsSpan(0, width * 32).ToArray();
                    upsert.ExecuteNonQuery();
                }

                if (newSize / TileWidth != size / TileWidth)
                {
                    var upper = newSize / TileWidth;
                    pl.Value = 1;
                    pi.Value = upper / TileWidth;
                    ph.Value = tile.AsSpan(0, (int)Math.Max(1, upper % TileWidth) * 32).ToArray();
                    upsert.ExecuteNonQuery();
                }
            }

            using (var meta = connection.CreateCommand())
            {
                meta.Transaction = tx;
                meta.CommandText = "INSERT INTO ledger_meta (key, value) VALUES ('tree_size', $v) ON CONFLICT (key) DO UPDATE SET value = excluded.value";
                meta.Parameters.AddWithValue("$v", newSize.ToString(System.Globalization.CultureInfo.InvariantCulture));
                meta.ExecuteNonQuery();
            }

            using (var store = connection.CreateCommand())
            {
                store.Transaction = tx;
                store.CommandText = "INSERT INTO ledger_checkpoint (id, size, note) VALUES (1, $s, $n) ON CONFLICT (id) DO UPDATE SET size = excluded.size, note = excluded.note";
                store.Parameters.AddWithValue("$s", newSize);
                store.Parameters.AddWithValue("$n", note);
                store.ExecuteNonQuery();
            }

            var statementsDone = Stopwatch.GetTimestamp();
            tx.Commit();
            var committed = Stopwatch.GetTimestamp();
            size = newSize;
            if (iteration >= 0)
            {
                statementTicks[iteration] = statementsDone - start;
                commitTicks[iteration] = committed - statementsDone;
            }
        }

        return (LatencyStats.FromTicks(statementTicks), LatencyStats.FromTicks(commitTicks));
    }

    private static string SignedNoteLike() =>
        BenchSettings.Origin + "\n1000000\nq0kS0nL0Hk7Zr2Gl1Sg8PqJ0HkXzbbq3E9m9rNkV3lA=\n\n— " + BenchSettings.Origin + " " + new string('A', 92) + "\n";

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static async Task<double> NullPipelineAsync(BenchEvents events, byte[][] encoded, int writers, bool encode, TimeSpan commitDelay)
    {
        var sequencer = new NullSequencer(commitDelay);
        await using (sequencer.ConfigureAwait(false))
        {
            var start = Stopwatch.GetTimestamp();
            var t0 = start + Stopwatch.Frequency;
            var t1 = t0 + (3 * Stopwatch.Frequency);
            var counts = new long[writers];
            var tasks = Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
            {
                var n = w;
                while (true)
                {
                    var entry = encode ? events.Next().ToCanonicalJson() : encoded[n++ % encoded.Length];
                    await sequencer.AppendAsync(entry).ConfigureAwait(false);
                    var now = Stopwatch.GetTimestamp();
                    if (now > t1)
                    {
                        return;
                    }

                    if (now >= t0)
                    {
                        counts[w]++;
                    }
                }
            })).ToArray();
            await Task.WhenAll(tasks).ConfigureAwait(false);
            return counts.Sum() / 3.0;
        }
    }
}
