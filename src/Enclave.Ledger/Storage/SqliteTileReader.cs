using Enclave.Core;
using Enclave.Ledger.Tiles;
using Microsoft.Data.Sqlite;

namespace Enclave.Ledger.Storage;

/// <summary>Reads tiles and entry bundles straight from the ledger tables.</summary>
internal sealed class SqliteTileReader : ITileReader
{
    private readonly SqliteConnection _connection;
    private readonly SqliteTransaction? _transaction;

    public SqliteTileReader(SqliteConnection connection, SqliteTransaction? transaction = null)
    {
        _connection = connection;
        _transaction = transaction;
    }

    public byte[]? ReadTile(int level, long index, int width)
    {
        using var command = _connection.CreateCommand();
        command.Transaction = _transaction;
        command.CommandText = "SELECT hashes FROM ledger_tiles WHERE level = $l AND idx = $i";
        command.Parameters.AddWithValue("$l", level);
        command.Parameters.AddWithValue("$i", index);
        if (command.ExecuteScalar() is not byte[] hashes || hashes.Length < width * Sha256Digest.Size)
        {
            return null;
        }

        return hashes.Length == width * Sha256Digest.Size ? hashes : hashes.AsSpan(0, width * Sha256Digest.Size).ToArray();
    }

    public byte[]? ReadEntryBundle(long index, int width)
    {
        var entries = ReadEntries(index * TilePath.TileWidth, width);
        if (entries.Count != width)
        {
            return null;
        }

        var bundle = new byte[entries.Sum(e => 2 + e.Length)];
        var offset = 0;
        foreach (var entry in entries)
        {
            bundle[offset] = (byte)(entry.Length >> 8);
            bundle[offset + 1] = (byte)entry.Length;
            entry.CopyTo(bundle.AsSpan(offset + 2));
            offset += 2 + entry.Length;
        }

        return bundle;
    }

    public List<byte[]> ReadEntries(long start, int count)
    {
        using var command = _connection.CreateCommand();
        command.Transaction = _transaction;
        command.CommandText = "SELECT idx, data FROM ledger_entries WHERE idx >= $s AND idx < $e ORDER BY idx";
        command.Parameters.AddWithValue("$s", start);
        command.Parameters.AddWithValue("$e", start + count);
        using var reader = command.ExecuteReader();
        var entries = new List<byte[]>(count);
        var expected = start;
        while (reader.Read())
        {
            if (reader.GetInt64(0) != expected)
            {
                break;
            }

            entries.Add((byte[])reader.GetValue(1));
            expected++;
        }

        return entries;
    }
}
