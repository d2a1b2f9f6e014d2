using System.Globalization;

namespace Enclave.State.Models;

/// <summary>The <c>local_models</c> table of <c>enclave.db</c>.</summary>
public sealed class SqliteModelRegistryStore(StateConnectionFactory factory) : IModelRegistryStore
{
    /// <inheritdoc/>
    public void Upsert(LocalModelRow model)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var connection = factory.OpenWriter(StateDatabase.Enclave, pooled: true);
        factory.Dialect.NonQuery(
            connection,
            null,
            """
            INSERT INTO local_models (id, kind, path, digest, source, added, label) VALUES ($id, $k, $p, $d, $s, $a, $l)
            ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, path = excluded.path, digest = excluded.digest, source = excluded.source, added = excluded.added, label = excluded.label
            """,
            ("$id", model.Id),
            ("$k", model.Kind),
            ("$p", model.Path),
            ("$d", model.Digest),
            ("$s", model.Source),
            ("$a", model.Added.ToString("O", CultureInfo.InvariantCulture)),
            ("$l", model.Label));
    }

    /// <inheritdoc/>
    public bool Remove(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        using var connection = factory.OpenWriter(StateDatabase.Enclave, pooled: true);
        return factory.Dialect.NonQuery(connection, null, "DELETE FROM local_models WHERE id = $id", ("$id", id)) > 0;
    }

    /// <inheritdoc/>
    public IReadOnlyList<LocalModelRow> List()
    {
        using var connection = factory.OpenWriter(StateDatabase.Enclave, pooled: true);
        using var command = factory.Dialect.Command(connection, null, "SELECT id, kind, path, digest, source, added, label FROM local_models ORDER BY id");
        using var reader = command.ExecuteReader();
        var models = new List<LocalModelRow>();
        while (reader.Read())
        {
            models.Add(new LocalModelRow(
                reader.GetString(0),
                reader.GetString(1),
                reader.GetString(2),
                reader.GetString(3),
                reader.GetString(4),
                DateTimeOffset.Parse(reader.GetString(5), CultureInfo.InvariantCulture),
                reader.IsDBNull(6) ? null : reader.GetString(6)));
        }

        return models;
    }
}
