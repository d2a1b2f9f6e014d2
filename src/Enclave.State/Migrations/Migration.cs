using Microsoft.Data.Sqlite;

namespace Enclave.State.Migrations;

/// <summary>
/// One schema step: from <see cref="Version"/> - 1 to <see cref="Version"/>. <see cref="Apply"/> runs inside the
/// transaction that also records the new version, so a step is applied entirely or not at all.
/// </summary>
internal sealed record Migration(int Version, string Description, Action<MigrationContext> Apply);

/// <summary>What a migration step works with.</summary>
internal sealed class MigrationContext(SqliteConnection connection, SqliteTransaction transaction, SqlDialect dialect, TimeProvider clock)
{
    public SqliteConnection Connection { get; } = connection;

    public SqliteTransaction Transaction { get; } = transaction;

    public SqlDialect Dialect { get; } = dialect;

    public TimeProvider Clock { get; } = clock;

    public void Execute(string sql) => Dialect.Execute(Connection, Transaction, sql);

    public bool TableExists(string table) => Dialect.TableExists(Connection, Transaction, table);

    public bool ColumnExists(string table, string column) => Dialect.ColumnExists(Connection, Transaction, table, column);
}
