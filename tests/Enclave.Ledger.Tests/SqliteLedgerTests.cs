using Enclave.Core;
using Enclave.Core.Audit;
using Enclave.Core.Storage;
using Enclave.Ledger.Checkpoints;
using Enclave.Ledger.Merkle;
using Enclave.Ledger.Tiles;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;

namespace Enclave.Ledger.Tests;

public sealed class SqliteLedgerTests
{
    [Fact]
    public async Task Append_ReturnsSequentialIndices_AndReadsBackTheExactBytes()
    {
        using var t = new TestLedger();
        await using var log = t.Open();

        for (var n = 0; n < 5; n++)
        {
            Assert.Equal(n, await log.AppendAsync(TestLedger.Event(n)));
        }

        Assert.Equal(5, log.Size);
        Assert.Equal(TestLedger.Event(3).ToCanonicalJson(), log.ReadEntry(3));
        Assert.Equal("entry-3", AuditEvent.Parse(log.ReadEntry(3)).Subject);
    }

    [Fact]
    public async Task ConcurrentAppends_GetDistinctIndices_AndTheTreeVerifiesFromTiles()
    {
        using var t = new TestLedger();
        await using var log = t.Open();

        var indices = await Task.WhenAll(Enumerable.Range(0, 1500).Select(n => log.AppendAsync(TestLedger.Event(n)).AsTask()));

        Assert.Equal(Enumerable.Range(0, 1500).Select(i => (long)i), indices.Order());
        for (var n = 0; n < 1500; n++)
        {
            Assert.Equal(TestLedger.Event(n).ToCanonicalJson(), log.ReadEntry(indices[n]));
        }

        var checkpoint = LedgerAuditor.VerifyCheckpoint(System.Text.Encoding.UTF8.GetBytes(log.LatestCheckpoint()!.Note), t.VerifierKeys, TestLedger.Origin);
        Assert.Equal(1500, checkpoint.Size);
        using var reader = LedgerReader.Open(t.Directory);
        var audit = LedgerAuditor.VerifyTiles(reader.OpenTileReader(), checkpoint);
        Assert.Equal(1500, audit.EntriesChecked);
        Assert.Equal(ReferenceRoot(log, 1500), checkpoint.RootHash);
    }

    [Fact]
    public async Task Proofs_VerifyForEveryIndexAndSizeAcrossTileBoundaries()
    {
        using var t = new TestLedger();
        await using var log = t.Open();
        for (var n = 0; n < 600; n++)
        {
            await log.AppendAsync(TestLedger.Event(n));
        }

        using var reader = LedgerReader.Open(t.Directory);
        foreach (var size in new long[] { 1, 2, 255, 256, 257, 511, 512, 513, 600 })
        {
            var root = reader.RootHash(size);
            Assert.Equal(ReferenceRoot(log, size), root);
            foreach (var index in new long[] { 0, size / 2, size - 1 })
            {
                var proof = reader.ProveInclusion(index, size);
                Assert.True(MerkleVerifier.VerifyInclusion(MerkleHash.Leaf(log.ReadEntry(index)), index, size, proof, root), $"inclusion {index} in {size}");
            }

            foreach (var older in new long[] { 1, size / 3, size - 1 })
            {
                if (older >= 1 && older <= size)
                {
                    var proof = reader.ProveConsistency(older, size);
                    Assert.True(MerkleVerifier.VerifyConsistency(older, size, reader.RootHash(older), root, proof), $"consistency {older} to {size}");
                }
            }
        }
    }

    [Fact]
    public async Task Proofs_ReadLogarithmicallyManyTiles()
    {
        using var t = new TestLedger();
        await using (var log = t.Open())
        {
            await Task.WhenAll(Enumerable.Range(0, 70_000).Select(n => log.AppendAsync(TestLedger.Event(n)).AsTask()));
        }

        using var reader = LedgerReader.Open(t.Directory);
        foreach (var index in new long[] { 0, 12_345, 65_535, 69_999 })
        {
            // A tree of 70,000 has three tile levels; an inclusion proof touches at most a few tiles per level.
            var source = new TileHashSource(reader.OpenTileReader(), 70_000);
            var proof = MerkleProofs.Inclusion(index, 70_000, source);
            Assert.InRange(source.TileReads, 1, 9);
            Assert.True(MerkleVerifier.VerifyInclusion(MerkleHash.Leaf(reader.ReadEntry(index)), index, 70_000, proof, reader.RootHash(70_000)));

            var consistencySource = new TileHashSource(reader.OpenTileReader(), 70_000);
            MerkleProofs.Consistency(Math.Min(index + 1, 69_999), 70_000, consistencySource);
            Assert.InRange(consistencySource.TileReads, 1, 12);
        }
    }

    [Fact]
    public async Task Reopen_ContinuesTheSameTree()
    {
        using var t = new TestLedger();
        await using (var log = t.Open())
        {
            for (var n = 0; n < 300; n++)
            {
                await log.AppendAsync(TestLedger.Event(n));
            }
        }

        await using (var log = t.Open())
        {
            Assert.Equal(300, log.Size);
            for (var n = 300; n < 700; n++)
            {
                Assert.Equal(n, await log.AppendAsync(TestLedger.Event(n)));
            }

            Assert.Equal(ReferenceRoot(log, 700), Checkpoint.Parse(OpenNote(log.LatestCheckpoint()!.Note, t)).RootHash);
        }
    }

    [Fact]
    public async Task StorageFailure_FailsTheAppend_LeavesTheLogUnchanged_AndAppendsResumeAfterwards()
    {
        using var t = new TestLedger();
        await using var log = t.Open();
        for (var n = 0; n < 10; n++)
        {
            await log.AppendAsync(TestLedger.Event(n));
        }

        var before = log.LatestCheckpoint()!;
        using (var saboteur = new SqliteConnection($"Data Source={Path.Combine(t.Directory, "enclave.db")}"))
        {
            saboteur.Open();
            using (var sql = saboteur.CreateCommand()) { sql.CommandText = "CREATE TRIGGER sabotage BEFORE INSERT ON ledger_entries WHEN NEW.idx >= 12 BEGIN SELECT RAISE(ABORT, 'disk on fire'); END;"; sql.ExecuteNonQuery(); }
        }

        // One batch of three (indices 10, 11, 12) fails as a whole: nothing of it is acknowledged or stored.
        var failing = new[] { 10, 11, 12 }.Select(n => log.AppendAsync(TestLedger.Event(n)).AsTask()).ToArray();
        var errors = await Task.WhenAll(failing.Select(f => Record.ExceptionAsync(() => f)));
        Assert.Contains(errors, e => e is LedgerWriteException);
        var acknowledged = failing.Where(f => f.IsCompletedSuccessfully).Select(f => f.Result).ToList();
        Assert.All(acknowledged, i => Assert.True(i < 12));
        Assert.Equal(10 + acknowledged.Count, log.Size);
        using (var reader = LedgerReader.Open(t.Directory))
        {
            Assert.Equal(10 + acknowledged.Count, reader.TreeSize());
            Assert.Throws<LedgerArgumentException>(() => reader.ReadEntry(12));
            if (acknowledged.Count == 0)
            {
                Assert.Equal(before, reader.LatestCheckpoint());
            }
        }

        using (var repair = new SqliteConnection($"Data Source={Path.Combine(t.Directory, "enclave.db")}"))
        {
            repair.Open();
            using (var sql = repair.CreateCommand()) { sql.CommandText = "DROP TRIGGER sabotage;"; sql.ExecuteNonQuery(); }
        }

        var next = await log.AppendAsync(TestLedger.Event(99));
        Assert.Equal(10 + acknowledged.Count, next);
        var checkpoint = Checkpoint.Parse(OpenNote(log.LatestCheckpoint()!.Note, t));
        using var audit = LedgerReader.Open(t.Directory);
        LedgerAuditor.VerifyTiles(audit.OpenTileReader(), checkpoint);
    }

    [Fact]
    public async Task SecondWriter_IsRefusedNamingTheHolder_WhileReadersWork()
    {
        using var t = new TestLedger();
        await using var log = t.Open();
        await log.AppendAsync(TestLedger.Event(1));

        var ex = Assert.Throws<DataDirectoryLockedException>(() => t.Open());
        Assert.Contains("enclave ledger writer", ex.Message, StringComparison.Ordinal);

        using var reader = LedgerReader.Open(t.Directory);
        Assert.Equal(1, reader.TreeSize());
        Assert.NotNull(reader.LatestCheckpoint());
    }

    [Fact]
    public async Task MinCommitInterval_AnAppendArrivingWhileTheIntervalRuns_SharesTheCommitOfTheOneBefore()
    {
        // A checkpoint is published in every commit here, so the checkpoint that is newest when an append returns tells
        // which entries its commit held. The second append arrives 10 ms after the first: with no interval, the first
        // is long committed alone by then; with one of 1 s, the writer holds the first and both share one commit.
        using var t = new TestLedger();
        await using var log = SqliteLedger.Open(new LedgerOptions { DataDirectory = t.Directory, MinCommitInterval = TimeSpan.FromSeconds(1) }, t.Clock);
        Assert.Equal(0, await log.AppendAsync(TestLedger.Event(0))); // an idle ledger: committed at once

        var first = log.AppendAsync(TestLedger.Event(1)).AsTask();
        await Task.Delay(10);
        var second = log.AppendAsync(TestLedger.Event(2)).AsTask();

        Assert.Equal(1, await first);
        Assert.Equal(3, log.LatestCheckpoint()!.Size);
        Assert.Equal(2, await second);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(1001)]
    public void MinCommitInterval_OutsideZeroToOneSecond_IsAProblem(int milliseconds)
    {
        var problems = new LedgerOptions { DataDirectory = "/x", MinCommitInterval = TimeSpan.FromMilliseconds(milliseconds) }.Validate();

        Assert.Contains("MinCommitInterval must be between 0 and 1 s", problems);
    }

    [Fact]
    public async Task CheckpointInterval_DefersCheckpointsUntilDueOrRequested()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero));
        using var t = new TestLedger(clock: clock);
        await using var log = t.Open(TimeSpan.FromMinutes(5));

        await log.AppendAsync(TestLedger.Event(0)); // first checkpoint is due at once
        await log.AppendAsync(TestLedger.Event(1));
        await log.AppendAsync(TestLedger.Event(2));
        Assert.Equal(1, log.LatestCheckpoint()!.Size);

        clock.Advance(TimeSpan.FromMinutes(5));
        await log.AppendAsync(TestLedger.Event(3));
        Assert.Equal(4, log.LatestCheckpoint()!.Size);

        await log.AppendAsync(TestLedger.Event(4));
        var forced = await log.CheckpointAsync();
        Assert.Equal(5, forced.Size);
    }

    [Fact]
    public async Task PostQuantum_CheckpointCarriesBothSignatures_AndEd25519AloneVerifies()
    {
        using var t = new TestLedger(postQuantum: true);
        await using var log = t.Open();
        await log.AppendAsync(TestLedger.Event(1));
        var note = System.Text.Encoding.UTF8.GetBytes(log.LatestCheckpoint()!.Note);

        Assert.Equal(2, t.VerifierKeys.Count);
        Assert.Equal(1, LedgerAuditor.VerifyCheckpoint(note, [t.VerifierKeys[0]]).Size);
        Assert.Equal(1, LedgerAuditor.VerifyCheckpoint(note, [t.VerifierKeys[1]]).Size);
        Assert.Equal(1, LedgerAuditor.VerifyCheckpoint(note, t.VerifierKeys).Size);
    }

    [Fact]
    public async Task PostQuantumOnly_RejectsExtensionLinesItsCosignatureDoesNotCover()
    {
        using var t = new TestLedger(postQuantum: true);
        await using var log = t.Open();
        await log.AppendAsync(TestLedger.Event(1));
        var note = log.LatestCheckpoint()!.Note;
        var body = note[..(note.IndexOf("\n\n", StringComparison.Ordinal) + 1)];
        var signatures = note[(body.Length + 1)..];
        var mlDsaLine = signatures.Split('\n', StringSplitOptions.RemoveEmptyEntries)[1];
        var forged = body + "injected extension\n\n" + mlDsaLine + "\n";

        var ex = Assert.Throws<LedgerVerificationException>(() => LedgerAuditor.VerifyCheckpoint(System.Text.Encoding.UTF8.GetBytes(forged), [t.VerifierKeys[1]]));

        Assert.Equal(LedgerFailure.BadCheckpoint, ex.Failure);
        Assert.Throws<LedgerVerificationException>(() => LedgerAuditor.VerifyCheckpoint(System.Text.Encoding.UTF8.GetBytes(forged), t.VerifierKeys));
    }

    [Fact]
    public void Initialize_RefusesAnExistingLedger()
    {
        using var t = new TestLedger();
        Assert.Throws<LedgerArgumentException>(() => SqliteLedger.Initialize(t.Directory, "other.example/log", false, TimeProvider.System));
    }

    [Fact]
    public void Open_WithoutLedger_SaysHowToCreateOne()
    {
        var dir = Directory.CreateTempSubdirectory("enclave-empty-").FullName;
        try
        {
            var ex = Assert.Throws<LedgerNotFoundException>(() => LedgerReader.Open(dir));
            Assert.Contains("enclave ledger init", ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(65536)]
    public async Task AppendRaw_RejectsEntriesAnEntryBundleCannotHold(int length)
    {
        using var t = new TestLedger();
        await using var log = t.Open();
        await Assert.ThrowsAsync<LedgerArgumentException>(() => log.AppendRawAsync(new byte[length]).AsTask());
        Assert.Equal(0, log.Size);
    }

    [Fact]
    public async Task AppendRaw_AcceptsTheLargestEntry()
    {
        using var t = new TestLedger();
        await using var log = t.Open();
        var entry = new byte[ushort.MaxValue];
        entry[^1] = 7;
        Assert.Equal(0, await log.AppendRawAsync(entry));
        Assert.Equal(entry, log.ReadEntry(0));
    }

    private static Sha256Digest ReferenceRoot(SqliteLedger log, long size) =>
        MerkleProofs.Root(size, MemoryHashSource.FromLeafData(Enumerable.Range(0, (int)size).Select(i => log.ReadEntry(i))));

    private static string OpenNote(string note, TestLedger t)
    {
        var checkpoint = LedgerAuditor.VerifyCheckpoint(System.Text.Encoding.UTF8.GetBytes(note), t.VerifierKeys, TestLedger.Origin);
        return checkpoint.Format();
    }
}
