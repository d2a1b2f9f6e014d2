namespace Enclave.State.Migrations;

/// <summary>An upgrade of an existing database that the ledger has not recorded yet.</summary>
public sealed record StateUpgrade
{
    /// <summary>The database's short name (<c>enclave</c>, <c>retention</c>).</summary>
    public required string Database { get; init; }

    /// <summary>The version it was at (0: made before versioned migrations).</summary>
    public required int From { get; init; }

    /// <summary>The version it is at now.</summary>
    public required int To { get; init; }
}

/// <summary>
/// The upgrades waiting to be written to the ledger as <c>state.migrated</c> events. A migration may run in a process
/// that never opens the ledger writer (a CLI command); the rows stay unrecorded until one does, appends the event and
/// marks them (at least once: a crash between the append and the mark records the upgrade twice, never zero times).
/// </summary>
public sealed class StateUpgrades(StateConnectionFactory factory)
{
    private static readonly StateDatabase[] Databases = [StateDatabase.Enclave, StateDatabase.Retention];

    /// <summary>The unrecorded upgrades, one per database (from its oldest unrecorded version to its newest).</summary>
    public IReadOnlyList<StateUpgrade> Pending()
    {
        var pending = new List<StateUpgrade>();
        foreach (var database in Databases)
        {
            using var connection = factory.OpenReader(database);
            if (connection is null || !factory.Dialect.TableExists(connection, null, StateMigrator.VersionTable))
            {
                continue;
            }

            using var command = factory.Dialect.Command(connection, null, $"SELECT min(from_version), max(version) FROM {StateMigrator.VersionTable} WHERE upgrade = 1 AND recorded = 0");
            using var reader = command.ExecuteReader();
            if (reader.Read() && !reader.IsDBNull(0))
            {
                pending.Add(new StateUpgrade { Database = database.Name, From = reader.GetInt32(0), To = reader.GetInt32(1) });
            }
        }

        return pending;
    }

    /// <summary>Marks the steps of <paramref name="upgrade"/> as recorded in the ledger.</summary>
    public void MarkRecorded(StateUpgrade upgrade)
    {
        ArgumentNullException.ThrowIfNull(upgrade);
        var database = Databases.Single(d => d.Name == upgrade.Database);
        using var connection = factory.OpenWriter(database, pooled: true);
        factory.Dialect.NonQuery(
            connection,
            null,
            $"UPDATE {StateMigrator.VersionTable} SET recorded = 1 WHERE upgrade = 1 AND version <= $to",
            ("$to", upgrade.To));
    }
}
