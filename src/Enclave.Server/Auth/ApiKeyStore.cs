using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Data.Sqlite;

namespace Enclave.Server.Auth;

/// <summary>
/// API keys: 256 random bits behind a visible prefix ID (<c>ek_&lt;id&gt;_&lt;secret&gt;</c>). Only the SHA-256 of the secret
/// is stored (the secret has full entropy, so a slow hash adds nothing); lookups go by ID and compare the hash in
/// constant time. The key text is shown once, at creation.
/// </summary>
public sealed class ApiKeyStore
{
    private const string Prefix = "ek_";
    private readonly string _connectionString;
    private readonly TimeProvider _clock;

    public ApiKeyStore(string dataDirectory, TimeProvider clock)
    {
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(dataDirectory, "enclave.db"),
            Mode = SqliteOpenMode.ReadWriteCreate,
            DefaultTimeout = 30,
        }.ToString();
        _clock = clock;
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            CREATE TABLE IF NOT EXISTS api_keys (
                id TEXT PRIMARY KEY, secret_hash BLOB NOT NULL, name TEXT NOT NULL, role TEXT NOT NULL,
                created TEXT NOT NULL, expires TEXT, revoked TEXT) WITHOUT ROWID;
            """;
        command.ExecuteNonQuery();
    }

    /// <summary>Creates a key and returns its full text (shown once) with its record.</summary>
    public (string Key, ApiKeyRecord Record) Create(string name, string role, DateTimeOffset? expires = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(role);
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var secret = RandomNumberGenerator.GetBytes(32);
        try
        {
            var record = new ApiKeyRecord { Id = id, Name = name, Role = role, Created = _clock.GetUtcNow(), Expires = expires };
            using var connection = Open();
            using var command = connection.CreateCommand();
            command.CommandText = "INSERT INTO api_keys (id, secret_hash, name, role, created, expires) VALUES ($id, $h, $n, $r, $c, $e)";
            command.Parameters.AddWithValue("$id", id);
            command.Parameters.AddWithValue("$h", SHA256.HashData(secret));
            command.Parameters.AddWithValue("$n", name);
            command.Parameters.AddWithValue("$r", role);
            command.Parameters.AddWithValue("$c", record.Created.ToString("O", CultureInfo.InvariantCulture));
            command.Parameters.AddWithValue("$e", (object?)expires?.ToString("O", CultureInfo.InvariantCulture) ?? DBNull.Value);
            command.ExecuteNonQuery();
            return ($"{Prefix}{id}_{Base64Url(secret)}", record);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    /// <summary>Number of keys that are neither revoked nor expired.</summary>
    public int CountActive()
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM api_keys WHERE revoked IS NULL AND (expires IS NULL OR expires > $now)";
        command.Parameters.AddWithValue("$now", _clock.GetUtcNow().ToString("O", CultureInfo.InvariantCulture));
        return Convert.ToInt32(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    /// <summary>The record of a presented key when it is valid, active and unexpired; otherwise null.</summary>
    public ApiKeyRecord? Validate(string presented)
    {
        // ek_ + 12 hex + _ + 43 base64url
        if (presented.Length != Prefix.Length + 12 + 1 + 43 || !presented.StartsWith(Prefix, StringComparison.Ordinal) || presented[Prefix.Length + 12] != '_')
        {
            return null;
        }

        var id = presented.Substring(Prefix.Length, 12);
        Span<byte> secret = stackalloc byte[33];
        if (!TryFromBase64Url(presented.AsSpan(Prefix.Length + 13), secret, out var written) || written != 32)
        {
            return null;
        }

        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(secret[..32], hash);
        CryptographicOperations.ZeroMemory(secret);
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT secret_hash, name, role, created, expires, revoked FROM api_keys WHERE id = $id";
        command.Parameters.AddWithValue("$id", id);
        using var reader = command.ExecuteReader();
        if (!reader.Read())
        {
            return null;
        }

        var stored = (byte[])reader.GetValue(0);
        if (!CryptographicOperations.FixedTimeEquals(stored, hash) || !reader.IsDBNull(5))
        {
            return null;
        }

        var expires = reader.IsDBNull(4) ? (DateTimeOffset?)null : DateTimeOffset.Parse(reader.GetString(4), CultureInfo.InvariantCulture);
        if (expires is { } e && e <= _clock.GetUtcNow())
        {
            return null;
        }

        return new ApiKeyRecord
        {
            Id = id,
            Name = reader.GetString(1),
            Role = reader.GetString(2),
            Created = DateTimeOffset.Parse(reader.GetString(3), CultureInfo.InvariantCulture),
            Expires = expires,
        };
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection;
    }

    private static string Base64Url(ReadOnlySpan<byte> bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static bool TryFromBase64Url(ReadOnlySpan<char> text, Span<byte> output, out int written)
    {
        Span<char> padded = stackalloc char[48];
        var length = text.Length;
        if (length > 44)
        {
            written = 0;
            return false;
        }

        for (var i = 0; i < length; i++)
        {
            padded[i] = text[i] switch { '-' => '+', '_' => '/', '+' or '/' or '=' => '!', var c => c };
        }

        while (length % 4 != 0)
        {
            padded[length++] = '=';
        }

        return Convert.TryFromBase64Chars(padded[..length], output, out written);
    }
}

/// <summary>What is known about an API key (never its secret).</summary>
public sealed record ApiKeyRecord
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public required string Role { get; init; }
    public required DateTimeOffset Created { get; init; }
    public DateTimeOffset? Expires { get; init; }
}
