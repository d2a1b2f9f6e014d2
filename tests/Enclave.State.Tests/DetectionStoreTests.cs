using Enclave.State.Detections;
using Microsoft.Extensions.Time.Testing;

namespace Enclave.State.Tests;

/// <summary>The detections' tables (migration 6) on both engines (a real SQLite file, a real PostgreSQL server): the feed cursor and the live Sigma rule sets.</summary>
public abstract class DetectionStoreTests : IDisposable
{
    private static readonly DateTimeOffset Now = DateTimeOffset.Parse("2027-01-02T03:04:05Z", System.Globalization.CultureInfo.InvariantCulture);
    private readonly StateTarget _state;
    private readonly SqliteDetectionStore _store;

    protected DetectionStoreTests(StateTarget state)
    {
        _state = state;
        _store = new SqliteDetectionStore(state.Open(new FakeTimeProvider(Now)));
    }

    public void Dispose()
    {
        _state.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public void Cursor_IsAbsentUntilWritten_ThenMovesAndSurvivesReopening()
    {
        Assert.Null(_store.ReadCursor("detections"));

        _store.WriteCursor("detections", 10, Now);
        _store.WriteCursor("detections", 42, Now.AddSeconds(1));
        _store.WriteCursor("other", 3, Now);

        var reopened = new SqliteDetectionStore(_state.Open(new FakeTimeProvider(Now)));
        Assert.Equal(42, reopened.ReadCursor("detections"));
        Assert.Equal(3, reopened.ReadCursor("other"));
        Assert.Throws<ArgumentOutOfRangeException>(() => _store.WriteCursor("detections", -1, Now));
    }

    [Fact]
    public void RuleSet_OfTheSameName_ReplacesTheOlderImportAndItsFiles()
    {
        _store.PutRuleSet(new DetectionRuleSetRow("soc-rules", "imp_1", "1.0", Now, 2, 1), [new("imp_1", "a.yml", "aa", [1, 2]), new("imp_1", "b.yml", "bb", [3])]);
        _store.PutRuleSet(new DetectionRuleSetRow("other", "imp_2", "7", Now, 1, 0), [new("imp_2", "c.yml", "cc", [4])]);

        _store.PutRuleSet(new DetectionRuleSetRow("soc-rules", "imp_3", "2.0", Now.AddDays(1), 5, 0), [new("imp_3", "a.yml", "dd", [5, 6])]);

        Assert.Equal([new DetectionRuleSetRow("other", "imp_2", "7", Now, 1, 0), new DetectionRuleSetRow("soc-rules", "imp_3", "2.0", Now.AddDays(1), 5, 0)], _store.RuleSets());
        Assert.False(_store.HasRuleSet("imp_1"));
        Assert.True(_store.HasRuleSet("imp_3"));
        Assert.Empty(_store.RuleFiles("imp_1"));
        var file = Assert.Single(_store.RuleFiles("imp_3"));
        Assert.Equal(("a.yml", "dd"), (file.Path, file.Sha256));
        Assert.Equal(new byte[] { 5, 6 }, file.Content);
    }

    [Fact]
    public void RuleSet_WithAFileOfAnotherImport_IsRefused_AndChangesNothing()
    {
        Assert.Throws<ArgumentException>(() => _store.PutRuleSet(new DetectionRuleSetRow("x", "imp_1", "1", Now, 1, 0), [new("imp_9", "a.yml", "aa", [1])]));

        Assert.Empty(_store.RuleSets());
        Assert.Empty(_store.RuleFiles("imp_9"));
    }
}

/// <summary>The <see cref="DetectionStoreTests"/> contract on a SQLite file.</summary>
public sealed class DetectionStoreOnSqlite() : DetectionStoreTests(new SqliteTarget());

/// <summary>The <see cref="DetectionStoreTests"/> contract on PostgreSQL.</summary>
public sealed class DetectionStoreOnPostgres(PostgresDatabase database) : DetectionStoreTests(database.Target()), IClassFixture<PostgresDatabase>;
