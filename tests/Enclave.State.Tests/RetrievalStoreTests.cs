using Enclave.State.Retrieval;
using Microsoft.Extensions.Time.Testing;

namespace Enclave.State.Tests;

/// <summary>The retrieval tables (migration 9) on both engines: files with their labelled chunks and embeddings, vector stores.</summary>
public abstract class RetrievalStoreTests : IDisposable
{
    private static readonly DateTimeOffset Now = DateTimeOffset.Parse("2027-01-02T03:04:05Z", System.Globalization.CultureInfo.InvariantCulture);
    private readonly StateTarget _state;
    private readonly SqliteRetrievalStore _store;

    protected RetrievalStoreTests(StateTarget state)
    {
        _state = state;
        _store = new SqliteRetrievalStore(state.Open(new FakeTimeProvider(Now)));
    }

    public void Dispose()
    {
        _state.Dispose();
        GC.SuppressFinalize(this);
    }

    private static RetrievalFileRow File(string id, DateTimeOffset created, int chunks = 2) =>
        new(id, id + ".md", "assistants", 123, new string('a', 64), "Markdown", 1, "UNCLASSIFIED", "alice", created, chunks, 7);

    private static RetrievalChunkRow Chunk(string file, int index, string label = "UNCLASSIFIED") =>
        new(file, index, index * 10, label, $"text {index} of {file}", "all-minilm-l6-v2", [index, 0.5f, -1.25f, float.Epsilon]);

    [Fact]
    public void File_WithItsChunks_ReadsBackExactly_AfterReopening()
    {
        var file = File("file-1", Now);
        _store.PutFile(file, [Chunk("file-1", 0), Chunk("file-1", 1, "SECRET")]);

        var reopened = new SqliteRetrievalStore(_state.Open(new FakeTimeProvider(Now)));
        Assert.Equal(file, reopened.GetFile("file-1"));
        Assert.Null(reopened.GetFile("file-2"));
        var chunks = reopened.ChunksOfFile("file-1");
        Assert.Equal([0, 1], chunks.Select(c => c.Index));
        Assert.Equal(["UNCLASSIFIED", "SECRET"], chunks.Select(c => c.Label));
        Assert.Equal(new float[] { 1, 0.5f, -1.25f, float.Epsilon }, chunks[1].Embedding);
        Assert.Equal("file-1:1", chunks[1].ChunkId);
        Assert.Equal(10, chunks[1].Start);
    }

    [Fact]
    public void StoreSignature_ChangesWhenAFileIsAddedOrRemoved_AndOnlyThen()
    {
        _store.PutFile(File("file-a", Now), [Chunk("file-a", 0)]);
        _store.PutFile(File("file-b", Now), [Chunk("file-b", 0)]);
        _store.PutVectorStore(new VectorStoreRow("vs_1", "handbook", "alice", Now));
        var empty = _store.StoreSignature("vs_1");

        _store.AddFileToStore("vs_1", "file-a", Now);
        var one = _store.StoreSignature("vs_1");
        _store.AddFileToStore("vs_1", "file-b", Now.AddSeconds(1));
        var two = _store.StoreSignature("vs_1");
        var unchanged = _store.StoreSignature("vs_1");
        _store.DeleteFile("file-a");
        var removed = _store.StoreSignature("vs_1");

        Assert.Equal(4, new[] { empty, one, two, removed }.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(two, unchanged);
        Assert.Equal(empty, _store.StoreSignature("vs_none"));
    }

    [Fact]
    public void File_WithAChunkOfAnotherFile_IsRefused_AndNothingIsWritten()
    {
        Assert.Throws<ArgumentException>(() => _store.PutFile(File("file-1", Now), [Chunk("file-1", 0), Chunk("file-9", 1)]));
        Assert.Throws<ArgumentException>(() => _store.PutFile(File("file-1", Now), [Chunk("file-1", 0), Chunk("file-1", 0)]));

        Assert.Empty(_store.ListFiles());
        Assert.Empty(_store.ChunksOfFile("file-1"));
        Assert.Empty(_store.ChunksOfFile("file-9"));
    }

    [Fact]
    public void VectorStore_SearchesTheChunksOfItsFiles_AndDeletingAFile_TakesItOutOfEveryStore()
    {
        _store.PutFile(File("file-a", Now), [Chunk("file-a", 0), Chunk("file-a", 1)]);
        _store.PutFile(File("file-b", Now.AddSeconds(1), 1), [Chunk("file-b", 0)]);
        _store.PutVectorStore(new VectorStoreRow("vs_1", "handbook", "alice", Now));
        _store.PutVectorStore(new VectorStoreRow("vs_2", "other", "bob", Now.AddSeconds(2)));

        Assert.True(_store.AddFileToStore("vs_1", "file-b", Now));
        Assert.True(_store.AddFileToStore("vs_1", "file-a", Now.AddSeconds(1)));
        Assert.False(_store.AddFileToStore("vs_1", "file-a", Now.AddSeconds(5)));
        Assert.True(_store.AddFileToStore("vs_2", "file-a", Now));
        Assert.Throws<ArgumentException>(() => _store.AddFileToStore("vs_9", "file-a", Now));
        Assert.Throws<ArgumentException>(() => _store.AddFileToStore("vs_1", "file-9", Now));

        Assert.Equal(["vs_1", "vs_2"], _store.ListVectorStores().Select(s => s.Id));
        Assert.Equal([("file-b", Now), ("file-a", Now.AddSeconds(1))], _store.FilesOfStore("vs_1"));
        Assert.Equal(["file-b:0", "file-a:0", "file-a:1"], _store.ChunksOfStore("vs_1").Select(c => c.ChunkId));

        Assert.True(_store.DeleteFile("file-a"));
        Assert.False(_store.DeleteFile("file-a"));
        Assert.Equal(["file-b:0"], _store.ChunksOfStore("vs_1").Select(c => c.ChunkId));
        Assert.Empty(_store.FilesOfStore("vs_2"));
        Assert.Empty(_store.ChunksOfFile("file-a"));

        Assert.True(_store.DeleteVectorStore("vs_1"));
        Assert.False(_store.DeleteVectorStore("vs_1"));
        Assert.Null(_store.GetVectorStore("vs_1"));
        Assert.NotNull(_store.GetFile("file-b"));
        Assert.Equal(new VectorStoreRow("vs_2", "other", "bob", Now.AddSeconds(2)), _store.GetVectorStore("vs_2"));
    }
}

/// <summary>The <see cref="RetrievalStoreTests"/> contract on a SQLite file.</summary>
public sealed class RetrievalStoreOnSqlite() : RetrievalStoreTests(new SqliteTarget());

/// <summary>The <see cref="RetrievalStoreTests"/> contract on PostgreSQL.</summary>
public sealed class RetrievalStoreOnPostgres(PostgresDatabase database) : RetrievalStoreTests(database.Target()), IClassFixture<PostgresDatabase>;
