using System.Data.Common;

namespace Enclave.State.Migrations;

/// <summary>
/// One schema step: from <see cref="Version"/> - 1 to <see cref="Version"/>. <see cref="Apply"/> runs inside the
/// transaction that also records the new version, so a step is applied entirely or not at all.
/// </summary>
internal sealed record Migration(int Version, string Description, Action<MigrationContext> Apply);

/// <summary>
/// What a migration step works with. The same steps run on SQLite and PostgreSQL: write SQLite DDL with upper-case type
/// names through <see cref="Execute"/> and the dialect maps it; anything else that differs belongs in <see cref="SqlDialect"/>.
/// </summary>
internal sealed class MigrationContext(DbConnection connection, DbTransaction transaction, SqlDialect dialect, TimeProvider clock)
{
    public DbConnection Connection { get; } = connection;

    public DbTransaction Transaction { get; } = transaction;

    public SqlDialect Dialect { get; } = dialect;

    public TimeProvider Clock { get; } = clock;

    /// <summary>Runs DDL (or a data rewrite without parameters) written for SQLite, mapped to the engine's (<see cref="SqlDialect.Ddl"/>).</summary>
    public void Execute(string sql) => Dialect.Execute(Connection, Transaction, Dialect.Ddl(sql));

    public bool TableExists(string table) => Dialect.TableExists(Connection, Transaction, table);

    public bool ColumnExists(string table, string column) => Dialect.ColumnExists(Connection, Transaction, table, column);
}
