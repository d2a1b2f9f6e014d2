using System.Text;
using Enclave.Ledger.Checkpoints;
using Enclave.Ledger.Tiles;
using Microsoft.Data.Sqlite;

namespace Enclave.Ledger.Tests;

/// <summary>Every byte of an exported log or of the stored tables is covered by the checkpoint's signature.</summary>
public sealed class TamperTests : IDisposable
{
    private readonly TestLedger _ledger = new();
    private readonly string _export = Directory.CreateTempSubdirectory("enclave-export-").FullName;
    private Checkpoint _checkpoint = null!;

    private async Task FillAndExportAsync(int count = 700)
    {
        await using var log = _ledger.Open();
        for (var n = 0; n < count; n++)
        {
            await log.AppendAsync(TestLedger.Event(n));
        }

        using var reader = LedgerReader.Open(_ledger.Directory);
        var exported = reader.Export(_export);
        _checkpoint = LedgerAuditor.VerifyCheckpoint(Encoding.UTF8.GetBytes(exported.Checkpoint), _ledger.VerifierKeys, TestLedger.Origin);
    }

    [Fact]
    public async Task UntouchedExport_Verifies()
    {
        await FillAndExportAsync();
        var result = LedgerAuditor.VerifyTiles(new DirectoryTileReader(_export), _checkpoint);
        Assert.Equal(700, result.EntriesChecked);
    }

    [Theory]
    [InlineData("tile/0/000", 0)]
    [InlineData("tile/0/001", 8191)]
    [InlineData("tile/0/002.p/188", 100)]
    [InlineData("tile/1/000.p/2", 33)]
    public async Task FlippedByteInATile_IsDetected(string tile, int offset)
    {
        await FillAndExportAsync();
        FlipByte(Path.Combine(_export, tile), offset);

        var ex = Assert.Throws<LedgerVerificationException>(() => LedgerAuditor.VerifyTiles(new DirectoryTileReader(_export), _checkpoint));
        Assert.Contains(ex.Failure, new[] { LedgerFailure.EntryMismatch, LedgerFailure.TileCorrupt, LedgerFailure.RootMismatch });
    }

    [Theory]
    [InlineData("tile/entries/000", 40)]
    [InlineData("tile/entries/001", 5000)]
    [InlineData("tile/entries/002.p/188", 1)]
    public async Task FlippedByteInAnEntryBundle_IsDetected(string bundle, int offset)
    {
        await FillAndExportAsync();
        FlipByte(Path.Combine(_export, bundle), offset);

        var ex = Assert.Throws<LedgerVerificationException>(() => LedgerAuditor.VerifyTiles(new DirectoryTileReader(_export), _checkpoint));
        Assert.Equal(LedgerFailure.EntryMismatch, ex.Failure);
    }

    [Fact]
    public async Task TruncatedOrMissingTile_IsDetected()
    {
        await FillAndExportAsync();
        var tile = Path.Combine(_export, "tile/0/001");
        File.WriteAllBytes(tile, File.ReadAllBytes(tile)[..100]);
        Assert.Equal(LedgerFailure.TileCorrupt, Assert.Throws<LedgerVerificationException>(() => LedgerAuditor.VerifyTiles(new DirectoryTileReader(_export), _checkpoint)).Failure);

        File.Delete(tile);
        Assert.Equal(LedgerFailure.TileMissing, Assert.Throws<LedgerVerificationException>(() => LedgerAuditor.VerifyTiles(new DirectoryTileReader(_export), _checkpoint)).Failure);
    }

    [Fact]
    public async Task ChangedEntryInTheDatabase_IsDetected()
    {
        await FillAndExportAsync();
        using (var connection = new SqliteConnection($"Data Source={Path.Combine(_ledger.Directory, "enclave.db")}"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            // Replace one character of entry 300's JSON: still valid JSON, but a different event.
            command.CommandText = "UPDATE ledger_entries SET data = CAST(replace(CAST(data AS TEXT), '\"n\":300', '\"n\":301') AS BLOB) WHERE idx = 300";
            Assert.Equal(1, command.ExecuteNonQuery());
        }

        using var reader = LedgerReader.Open(_ledger.Directory);
        var ex = Assert.Throws<LedgerVerificationException>(() => LedgerAuditor.VerifyTiles(reader.OpenTileReader(), _checkpoint));
        Assert.Equal(LedgerFailure.EntryMismatch, ex.Failure);
        Assert.Contains("entry 300", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChangedTileInTheDatabase_IsDetected()
    {
        await FillAndExportAsync();
        using (var connection = new SqliteConnection($"Data Source={Path.Combine(_ledger.Directory, "enclave.db")}"))
        {
            connection.Open();
            byte[] hashes;
            using (var read = connection.CreateCommand())
            {
                read.CommandText = "SELECT hashes FROM ledger_tiles WHERE level = 1 AND idx = 0";
                hashes = (byte[])read.ExecuteScalar()!;
            }

            hashes[5] ^= 0x80;
            using var write = connection.CreateCommand();
            write.CommandText = "UPDATE ledger_tiles SET hashes = $h WHERE level = 1 AND idx = 0";
            write.Parameters.AddWithValue("$h", hashes);
            Assert.Equal(1, write.ExecuteNonQuery());
        }

        using var reader = LedgerReader.Open(_ledger.Directory);
        Assert.Equal(LedgerFailure.TileCorrupt, Assert.Throws<LedgerVerificationException>(() => LedgerAuditor.VerifyTiles(reader.OpenTileReader(), _checkpoint)).Failure);
    }

    [Fact]
    public async Task AlteredCheckpoint_FailsItsSignature()
    {
        await FillAndExportAsync();
        var note = File.ReadAllText(Path.Combine(_export, "checkpoint"));
        var altered = note.Replace("\n700\n", "\n699\n", StringComparison.Ordinal);

        var ex = Assert.Throws<LedgerVerificationException>(() => LedgerAuditor.VerifyCheckpoint(Encoding.UTF8.GetBytes(altered), _ledger.VerifierKeys));
        Assert.Equal(LedgerFailure.BadSignature, ex.Failure);
    }

    [Fact]
    public async Task CheckpointOfAnotherLog_IsRejected()
    {
        await FillAndExportAsync();
        using var other = new TestLedger();
        var note = Encoding.UTF8.GetBytes(File.ReadAllText(Path.Combine(_export, "checkpoint")));

        Assert.Equal(LedgerFailure.BadSignature, Assert.Throws<LedgerVerificationException>(() => LedgerAuditor.VerifyCheckpoint(note, other.VerifierKeys)).Failure);
    }

    [Fact]
    public async Task ForkedHistory_FailsConsistency()
    {
        // Two copies of one log (same key) that diverge after entry 100: each is signed, but they are not one history.
        await FillAndExportAsync(100);
        var fork = Directory.CreateTempSubdirectory("enclave-fork-").FullName;
        try
        {
            foreach (var file in Directory.GetFiles(_ledger.Directory, "*", SearchOption.AllDirectories).Where(f => !f.EndsWith(".lock", StringComparison.Ordinal)))
            {
                var target = Path.Combine(fork, Path.GetRelativePath(_ledger.Directory, file));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(file, target);
            }

            Checkpoint original, forked;
            await using (var log = _ledger.Open())
            {
                await log.AppendAsync(TestLedger.Event(1000));
                original = Checkpoint.Parse(LedgerAuditor.VerifyCheckpoint(Encoding.UTF8.GetBytes(log.LatestCheckpoint()!.Note), _ledger.VerifierKeys).Format());
            }

            await using (var log = SqliteLedger.Open(new LedgerOptions { DataDirectory = fork }, TimeProvider.System))
            {
                await log.AppendAsync(TestLedger.Event(2000));
                await log.AppendAsync(TestLedger.Event(2001));
                forked = LedgerAuditor.VerifyCheckpoint(Encoding.UTF8.GetBytes(log.LatestCheckpoint()!.Note), _ledger.VerifierKeys);
                var proof = log.ProveConsistency(original.Size, forked.Size);
                var ex = Assert.Throws<LedgerVerificationException>(() => LedgerAuditor.VerifyConsistency(original, forked, proof));
                Assert.Equal(LedgerFailure.Inconsistent, ex.Failure);
            }
        }
        finally
        {
            Directory.Delete(fork, true);
        }
    }

    [Fact]
    public async Task RolledBackCheckpoint_IsRejected()
    {
        await FillAndExportAsync(10);
        var newer = _checkpoint;
        var older = newer with { Size = 5 };

        Assert.Equal(LedgerFailure.Inconsistent, Assert.Throws<LedgerVerificationException>(() => LedgerAuditor.VerifyConsistency(newer, older, [])).Failure);
    }

    private static void FlipByte(string path, int offset)
    {
        var bytes = File.ReadAllBytes(path);
        bytes[offset] ^= 0x01;
        File.WriteAllBytes(path, bytes);
    }

    public void Dispose()
    {
        _ledger.Dispose();
        Directory.Delete(_export, true);
    }
}
