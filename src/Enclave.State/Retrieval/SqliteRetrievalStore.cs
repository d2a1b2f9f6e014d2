using System.Data.Common;
using System.Runtime.InteropServices;

namespace Enclave.State.Retrieval;

/// <summary>The <c>retrieval_*</c> tables of <c>enclave.db</c>, on SQLite or PostgreSQL.</summary>
public sealed class SqliteRetrievalStore(StateConnectionFactory factory) : IRetrievalStore
{
    private const string FileColumns = "id, filename, purpose, bytes, sha256, doc_type, pages, label, owner, created, chunks, ledger_index";

    /// <inheritdoc/>
    public void PutFile(RetrievalFileRow file, IReadOnlyList<RetrievalChunkRow> chunks)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(chunks);
        if (chunks.FirstOrDefault(c => c.FileId != file.Id) is { } stray)
        {
            throw new ArgumentException($"chunk {stray.ChunkId} belongs to another file than {file.Id}", nameof(chunks));
        }

        if (chunks.Select(c => c.Index).Distinct().Count() != chunks.Count)
        {
            throw new ArgumentException($"two chunks of file {file.Id} share an index", nameof(chunks));
        }

        var dialect = factory.Dialect;
        using var connection = factory.OpenWriter(StateDatabase.Enclave, pooled: true);
        using var transaction = connection.BeginTransaction();
        dialect.NonQuery(
            connection,
            transaction,
            $"INSERT INTO retrieval_files ({FileColumns}) VALUES ($id, $f, $p, $b, $s, $t, $pg, $l, $o, $c, $n, $x)",
            ("$id", file.Id),
            ("$f", file.Filename),
            ("$p", file.Purpose),
            ("$b", file.Bytes),
            ("$s", file.Sha256),
            ("$t", file.DocumentType),
            ("$pg", file.Pages),
            ("$l", file.Label),
            ("$o", file.Owner),
            ("$c", SqlDialect.FormatTime(file.Created)),
            ("$n", file.Chunks),
            ("$x", file.LedgerIndex));
        foreach (var chunk in chunks)
        {
            dialect.NonQuery(
                connection,
                transaction,
                "INSERT INTO retrieval_chunks (file_id, chunk_index, start_char, label, text, model, embedding) VALUES ($f, $i, $s, $l, $t, $m, $e)",
                ("$f", chunk.FileId),
                ("$i", chunk.Index),
                ("$s", chunk.Start),
                ("$l", chunk.Label),
                ("$t", chunk.Text),
                ("$m", chunk.Model),
                ("$e", MemoryMarshal.AsBytes(chunk.Embedding.AsSpan()).ToArray()));
        }

        transaction.Commit();
    }

    /// <inheritdoc/>
    public RetrievalFileRow? GetFile(string id) => Files("WHERE id = $id", ("$id", id)).SingleOrDefault();

    /// <inheritdoc/>
    public IReadOnlyList<RetrievalFileRow> ListFiles() => Files(string.Empty);

    /// <inheritdoc/>
    public bool DeleteFile(string id)
    {
        var dialect = factory.Dialect;
        using var connection = factory.OpenWriter(StateDatabase.Enclave, pooled: true);
        using var transaction = connection.BeginTransaction();
        dialect.NonQuery(connection, transaction, "DELETE FROM retrieval_vector_store_files WHERE file_id = $id", ("$id", id));
        dialect.NonQuery(connection, transaction, "DELETE FROM retrieval_chunks WHERE file_id = $id", ("$id", id));
        var deleted = dialect.NonQuery(connection, transaction, "DELETE FROM retrieval_files WHERE id = $id", ("$id", id));
        transaction.Commit();
        return deleted == 1;
    }

    /// <inheritdoc/>
    public IReadOnlyList<RetrievalChunkRow> ChunksOfFile(string fileId) => Chunks(
        "SELECT c.file_id, c.chunk_index, c.start_char, c.label, c.text, c.model, c.embedding FROM retrieval_chunks c WHERE c.file_id = $id ORDER BY c.chunk_index",
        fileId);

    /// <inheritdoc/>
    public IReadOnlyList<RetrievalChunkRow> ChunksOfStore(string storeId) => Chunks(
        """
        SELECT c.file_id, c.chunk_index, c.start_char, c.label, c.text, c.model, c.embedding
        FROM retrieval_vector_store_files m JOIN retrieval_chunks c ON c.file_id = m.file_id
        WHERE m.store_id = $id ORDER BY m.added, m.file_id, c.chunk_index
        """,
        storeId);

    /// <inheritdoc/>
    public string StoreSignature(string storeId)
    {
        using var connection = factory.OpenWriter(StateDatabase.Enclave, pooled: true);
        using var command = factory.Dialect.Command(connection, null, "SELECT COUNT(*), MAX(added) FROM retrieval_vector_store_files WHERE store_id = $id", ("$id", storeId));
        using var reader = command.ExecuteReader();
        reader.Read();
        return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{reader.GetInt64(0)}/{(reader.IsDBNull(1) ? string.Empty : reader.GetValue(1))}");
    }

    /// <inheritdoc/>
    public void PutVectorStore(VectorStoreRow store)
    {
        ArgumentNullException.ThrowIfNull(store);
        using var connection = factory.OpenWriter(StateDatabase.Enclave, pooled: true);
        factory.Dialect.NonQuery(
            connection,
            null,
            "INSERT INTO retrieval_vector_stores (id, name, owner, created) VALUES ($id, $n, $o, $c)",
            ("$id", store.Id),
            ("$n", store.Name),
            ("$o", store.Owner),
            ("$c", SqlDialect.FormatTime(store.Created)));
    }

    /// <inheritdoc/>
    public VectorStoreRow? GetVectorStore(string id) => Stores("WHERE id = $id", ("$id", id)).SingleOrDefault();

    /// <inheritdoc/>
    public IReadOnlyList<VectorStoreRow> ListVectorStores() => Stores(string.Empty);

    /// <inheritdoc/>
    public bool DeleteVectorStore(string id)
    {
        var dialect = factory.Dialect;
        using var connection = factory.OpenWriter(StateDatabase.Enclave, pooled: true);
        using var transaction = connection.BeginTransaction();
        dialect.NonQuery(connection, transaction, "DELETE FROM retrieval_vector_store_files WHERE store_id = $id", ("$id", id));
        var deleted = dialect.NonQuery(connection, transaction, "DELETE FROM retrieval_vector_stores WHERE id = $id", ("$id", id));
        transaction.Commit();
        return deleted == 1;
    }

    /// <inheritdoc/>
    public bool AddFileToStore(string storeId, string fileId, DateTimeOffset added)
    {
        var dialect = factory.Dialect;
        using var connection = factory.OpenWriter(StateDatabase.Enclave, pooled: true);
        using var transaction = connection.BeginTransaction();
        if (dialect.Scalar(connection, transaction, "SELECT count(*) FROM retrieval_vector_stores WHERE id = $id", ("$id", storeId)) is not (long and > 0))
        {
            throw new ArgumentException($"there is no vector store {storeId}", nameof(storeId));
        }

        if (dialect.Scalar(connection, transaction, "SELECT count(*) FROM retrieval_files WHERE id = $id", ("$id", fileId)) is not (long and > 0))
        {
            throw new ArgumentException($"there is no file {fileId}", nameof(fileId));
        }

        var inserted = dialect.NonQuery(
            connection,
            transaction,
            "INSERT INTO retrieval_vector_store_files (store_id, file_id, added) VALUES ($s, $f, $a) ON CONFLICT (store_id, file_id) DO NOTHING",
            ("$s", storeId),
            ("$f", fileId),
            ("$a", SqlDialect.FormatTime(added)));
        transaction.Commit();
        return inserted == 1;
    }

    /// <inheritdoc/>
    public IReadOnlyList<(string FileId, DateTimeOffset Added)> FilesOfStore(string storeId)
    {
        using var connection = factory.OpenWriter(StateDatabase.Enclave, pooled: true);
        using var command = factory.Dialect.Command(connection, null, "SELECT file_id, added FROM retrieval_vector_store_files WHERE store_id = $id ORDER BY added, file_id", ("$id", storeId));
        using var reader = command.ExecuteReader();
        var rows = new List<(string, DateTimeOffset)>();
        while (reader.Read())
        {
            rows.Add((reader.GetString(0), SqlDialect.ParseTime(reader.GetString(1))));
        }

        return rows;
    }

    private List<RetrievalFileRow> Files(string where, params (string Name, object? Value)[] parameters)
    {
        using var connection = factory.OpenWriter(StateDatabase.Enclave, pooled: true);
        using var command = factory.Dialect.Command(connection, null, $"SELECT {FileColumns} FROM retrieval_files {where} ORDER BY created, id", parameters);
        using var reader = command.ExecuteReader();
        var rows = new List<RetrievalFileRow>();
        while (reader.Read())
        {
            rows.Add(new RetrievalFileRow(
                reader.GetString(0),
                reader.GetString(1),
                reader.GetString(2),
                reader.GetInt64(3),
                reader.GetString(4),
                reader.GetString(5),
                (int)reader.GetInt64(6),
                reader.GetString(7),
                reader.GetString(8),
                SqlDialect.ParseTime(reader.GetString(9)),
                (int)reader.GetInt64(10),
                reader.GetInt64(11)));
        }

        return rows;
    }

    private List<VectorStoreRow> Stores(string where, params (string Name, object? Value)[] parameters)
    {
        using var connection = factory.OpenWriter(StateDatabase.Enclave, pooled: true);
        using var command = factory.Dialect.Command(connection, null, $"SELECT id, name, owner, created FROM retrieval_vector_stores {where} ORDER BY created, id", parameters);
        using var reader = command.ExecuteReader();
        var rows = new List<VectorStoreRow>();
        while (reader.Read())
        {
            rows.Add(new VectorStoreRow(reader.GetString(0), reader.GetString(1), reader.GetString(2), SqlDialect.ParseTime(reader.GetString(3))));
        }

        return rows;
    }

    private List<RetrievalChunkRow> Chunks(string sql, string id)
    {
        using var connection = factory.OpenWriter(StateDatabase.Enclave, pooled: true);
        using var command = factory.Dialect.Command(connection, null, sql, ("$id", id));
        using var reader = command.ExecuteReader();
        var rows = new List<RetrievalChunkRow>();
        while (reader.Read())
        {
            rows.Add(new RetrievalChunkRow(
                reader.GetString(0),
                (int)reader.GetInt64(1),
                (int)reader.GetInt64(2),
                reader.GetString(3),
                reader.GetString(4),
                reader.GetString(5),
                MemoryMarshal.Cast<byte, float>((byte[])reader.GetValue(6)).ToArray()));
        }

        return rows;
    }
}
