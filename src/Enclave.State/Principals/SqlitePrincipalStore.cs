using System.Globalization;
using System.Data.Common;

namespace Enclave.State.Principals;

/// <summary>The <c>principals</c> and <c>api_keys</c> tables of <c>enclave.db</c>.</summary>
public sealed class SqlitePrincipalStore(StateConnectionFactory factory) : IPrincipalStore
{
    private const string PrincipalColumns = "id, name, kind, roles, clearance, created, disabled";

    /// <inheritdoc/>
    public IReadOnlyList<PrincipalRow> ListPrincipals()
    {
        using var connection = Open();
        using var command = factory.Dialect.Command(connection, null, $"SELECT {PrincipalColumns} FROM principals");
        using var reader = command.ExecuteReader();
        var rows = new List<PrincipalRow>();
        while (reader.Read())
        {
            rows.Add(ReadPrincipal(reader, 0));
        }

        return rows;
    }

    /// <inheritdoc/>
    public IReadOnlyList<ApiKeyRow> ListKeys()
    {
        using var connection = Open();
        using var command = factory.Dialect.Command(connection, null, "SELECT id, secret_hash, name, principal, created, expires, revoked FROM api_keys WHERE principal IS NOT NULL");
        using var reader = command.ExecuteReader();
        var rows = new List<ApiKeyRow>();
        while (reader.Read())
        {
            rows.Add(ReadKey(reader));
        }

        return rows;
    }

    /// <inheritdoc/>
    public (ApiKeyRow Key, PrincipalRow Principal)? FindKey(string id)
    {
        using var connection = Open();
        using var command = factory.Dialect.Command(
            connection,
            null,
            """
            SELECT k.id, k.secret_hash, k.name, k.principal, k.created, k.expires, k.revoked,
                   p.id, p.name, p.kind, p.roles, p.clearance, p.created, p.disabled
            FROM api_keys k JOIN principals p ON p.id = k.principal WHERE k.id = $id
            """,
            ("$id", id));
        using var reader = command.ExecuteReader();
        return reader.Read() ? (ReadKey(reader), ReadPrincipal(reader, 7)) : null;
    }

    /// <inheritdoc/>
    public void AddPrincipal(PrincipalRow principal)
    {
        ArgumentNullException.ThrowIfNull(principal);
        Change((connection, transaction) => InsertPrincipal(connection, transaction, principal, ifMissing: false));
    }

    /// <inheritdoc/>
    public void DisablePrincipal(string id, DateTimeOffset disabled)
    {
        Change((connection, transaction) => factory.Dialect.NonQuery(connection, transaction, "UPDATE principals SET disabled = $d WHERE id = $id AND disabled IS NULL", ("$d", Format(disabled)), ("$id", id)));
    }

    /// <inheritdoc/>
    public void UpdatePrincipal(string id, string roles, string? clearance)
    {
        Change((connection, transaction) => factory.Dialect.NonQuery(connection, transaction, "UPDATE principals SET roles = $r, clearance = $c WHERE id = $id", ("$r", roles), ("$c", clearance), ("$id", id)));
    }

    /// <inheritdoc/>
    public void AddKey(ApiKeyRow key)
    {
        ArgumentNullException.ThrowIfNull(key);
        Change((connection, transaction) => factory.Dialect.NonQuery(
            connection,
            transaction,
            "INSERT INTO api_keys (id, secret_hash, name, role, created, expires, principal) VALUES ($id, $h, $n, '', $c, $e, $p)",
            ("$id", key.Id),
            ("$h", key.SecretHash),
            ("$n", key.Name),
            ("$c", Format(key.Created)),
            ("$e", key.Expires is { } e ? Format(e) : null),
            ("$p", key.PrincipalId)));
    }

    /// <inheritdoc/>
    public void RevokeKey(string id, DateTimeOffset revoked)
    {
        Change((connection, transaction) => factory.Dialect.NonQuery(connection, transaction, "UPDATE api_keys SET revoked = $r WHERE id = $id AND revoked IS NULL", ("$r", Format(revoked)), ("$id", id)));
    }

    /// <inheritdoc/>
    public int AttachUnownedKeys(Func<string, PrincipalRow> ownerOf)
    {
        ArgumentNullException.ThrowIfNull(ownerOf);
        using var connection = Open();
        using var transaction = factory.Dialect.BeginWrite(connection);
        var unowned = new List<(string Id, string Role)>();
        using (var select = factory.Dialect.Command(connection, transaction, "SELECT id, role FROM api_keys WHERE principal IS NULL"))
        using (var reader = select.ExecuteReader())
        {
            while (reader.Read())
            {
                unowned.Add((reader.GetString(0), reader.GetString(1)));
            }
        }

        foreach (var (id, role) in unowned)
        {
            var owner = ownerOf(role);
            InsertPrincipal(connection, transaction, owner, ifMissing: true);
            factory.Dialect.NonQuery(connection, transaction, "UPDATE api_keys SET principal = (SELECT id FROM principals WHERE name = $n) WHERE id = $key", ("$n", owner.Name), ("$key", id));
        }

        transaction.Commit();
        return unowned.Count;
    }

    private void InsertPrincipal(DbConnection connection, DbTransaction? transaction, PrincipalRow principal, bool ifMissing) =>
        factory.Dialect.NonQuery(
            connection,
            transaction,
            "INSERT INTO principals (id, name, kind, roles, clearance, created) VALUES ($id, $n, $k, $r, $c, $t)" + (ifMissing ? " ON CONFLICT DO NOTHING" : string.Empty),
            ("$id", principal.Id),
            ("$n", principal.Name),
            ("$k", principal.Kind),
            ("$r", principal.Roles),
            ("$c", principal.Clearance),
            ("$t", Format(principal.Created)));

    /// <summary>One change in one transaction that also announces it to the other replicas (<see cref="Changes.StateChanges"/>).</summary>
    private void Change(Action<DbConnection, DbTransaction> change)
    {
        using var connection = Open();
        using var transaction = factory.Dialect.BeginWrite(connection);
        change(connection, transaction);
        Changes.StateChanges.Announce(factory.Dialect, connection, transaction, Changes.StateTopics.Principals);
        transaction.Commit();
    }

    private DbConnection Open() => factory.OpenWriter(StateDatabase.Enclave, pooled: true);

    private static ApiKeyRow ReadKey(DbDataReader reader) => new(
        reader.GetString(0),
        (byte[])reader.GetValue(1),
        reader.GetString(2),
        reader.GetString(3),
        Parse(reader.GetString(4)),
        reader.IsDBNull(5) ? null : Parse(reader.GetString(5)),
        reader.IsDBNull(6) ? null : Parse(reader.GetString(6)));

    private static PrincipalRow ReadPrincipal(DbDataReader reader, int first) => new(
        reader.GetString(first),
        reader.GetString(first + 1),
        reader.GetString(first + 2),
        reader.GetString(first + 3),
        reader.IsDBNull(first + 4) ? null : reader.GetString(first + 4),
        Parse(reader.GetString(first + 5)),
        reader.IsDBNull(first + 6) ? null : Parse(reader.GetString(first + 6)));

    // Principals and keys keep the offset form of ISO 8601 ("+00:00") that they were always stored with.
    private static string Format(DateTimeOffset time) => time.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture);

    private static DateTimeOffset Parse(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
}
