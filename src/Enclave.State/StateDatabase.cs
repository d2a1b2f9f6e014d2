namespace Enclave.State;

/// <summary>
/// One database of a data directory: its file name, how durable a commit must be, and the migrations that build its
/// schema. <see cref="Enclave"/> (<c>enclave.db</c>) holds the ledger, the airlock, principals and keys, quotas and
/// the model registry; <see cref="Retention"/> (<c>retention.db</c>) holds retained prompts and answers apart, so that
/// purging them (secure delete) never touches the audit record.
/// </summary>
public sealed record StateDatabase
{
    /// <summary>The data directory's main database.</summary>
    public static StateDatabase Enclave { get; } = new()
    {
        Name = "enclave",
        FileName = "enclave.db",
        FullSync = true,
        SecureDelete = false,
        Migrations = State.Migrations.EnclaveMigrations.All,
    };

    /// <summary>Retained prompt and answer content (encrypted), kept apart from the audit record.</summary>
    public static StateDatabase Retention { get; } = new()
    {
        Name = "retention",
        FileName = "retention.db",
        FullSync = false,
        SecureDelete = true,
        Migrations = State.Migrations.RetentionMigrations.All,
    };

    /// <summary>A short name used in messages and in <c>state.migrated</c> events.</summary>
    public required string Name { get; init; }

    /// <summary>The file in the data directory.</summary>
    public required string FileName { get; init; }

    /// <summary>
    /// Whether a commit is durable when it returns (<c>synchronous=FULL</c>: the WAL is fsynced before COMMIT returns,
    /// which is what an acknowledged ledger append or import promises); otherwise <c>NORMAL</c> (durable at the next
    /// WAL checkpoint, never corrupt).
    /// </summary>
    public required bool FullSync { get; init; }

    /// <summary>Whether deleted content is overwritten with zeros (<c>secure_delete</c>).</summary>
    public required bool SecureDelete { get; init; }

    /// <summary>The migrations in order; the last one's version is the schema version this binary writes.</summary>
    internal IReadOnlyList<Migrations.Migration> Migrations { get; init; } = [];

    /// <summary>The schema version this binary writes.</summary>
    public int LatestVersion => Migrations.Count == 0 ? 0 : Migrations[^1].Version;

    /// <summary>The database's path in <paramref name="dataDirectory"/>.</summary>
    public string PathIn(string dataDirectory) => System.IO.Path.Combine(dataDirectory, FileName);
}
