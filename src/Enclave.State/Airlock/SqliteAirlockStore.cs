using System.Data.Common;

namespace Enclave.State.Airlock;

/// <summary>
/// The <c>airlock_*</c> tables of <c>enclave.db</c>: <c>airlock_trust</c>, <c>airlock_trust_pins</c>,
/// <c>airlock_imports</c>, <c>airlock_import_targets</c>, <c>airlock_approvals</c>, <c>airlock_artifacts</c>,
/// <c>airlock_promotions</c>. Each call opens its own connection (durable on return, <c>synchronous=FULL</c>).
/// </summary>
public sealed class SqliteAirlockStore(StateConnectionFactory factory) : IAirlockStore
{
    private SqlDialect Dialect => factory.Dialect;

    /// <inheritdoc/>
    public IAirlockTransaction Begin() => new Transaction(this, factory.OpenWriter(StateDatabase.Enclave, pooled: true));

    /// <inheritdoc/>
    public IReadOnlyList<TrustFileRow> TrustFiles()
    {
        using var connection = Open();
        using var command = Dialect.Command(connection, null, "SELECT file, role, version, bytes FROM airlock_trust");
        using var reader = command.ExecuteReader();
        var rows = new List<TrustFileRow>();
        while (reader.Read())
        {
            rows.Add(new TrustFileRow(reader.GetString(0), reader.GetString(1), reader.GetInt32(2), (byte[])reader.GetValue(3)));
        }

        return rows;
    }

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, int> TrustVersions()
    {
        using var connection = Open();
        using var command = Dialect.Command(connection, null, "SELECT role, version FROM airlock_trust ORDER BY role");
        using var reader = command.ExecuteReader();
        var versions = new Dictionary<string, int>(StringComparer.Ordinal);
        while (reader.Read())
        {
            versions[reader.GetString(0)] = reader.GetInt32(1);
        }

        return versions;
    }

    /// <inheritdoc/>
    public TrustPinRow? CurrentPin()
    {
        using var connection = Open();
        using var command = Dialect.Command(connection, null, "SELECT root_sha256, root_version, actor, forced, pinned FROM airlock_trust_pins ORDER BY seq DESC LIMIT 1");
        using var reader = command.ExecuteReader();
        return reader.Read()
            ? new TrustPinRow(reader.GetString(0), reader.GetInt32(1), reader.GetString(2), reader.GetInt64(3) != 0, SqlDialect.ParseTime(reader.GetString(4)))
            : null;
    }

    /// <inheritdoc/>
    public (string Id, string State)? FindLiveImport(string kind, string name, string version)
    {
        using var connection = Open();
        using var command = Dialect.Command(
            connection,
            null,
            "SELECT id, state FROM airlock_imports WHERE kind = $k AND name = $n AND version = $v AND state <> 'rejected'",
            ("$k", kind),
            ("$n", name),
            ("$v", version));
        using var reader = command.ExecuteReader();
        return reader.Read() ? (reader.GetString(0), reader.GetString(1)) : null;
    }

    /// <inheritdoc/>
    public IReadOnlyList<ImportRow> Imports(string? id = null, string? state = null, string? kind = null)
    {
        // A filter left out is a NULL parameter: the CAST gives PostgreSQL its type, which "$x IS NULL" alone does not.
        using var connection = Open();
        using var command = Dialect.Command(
            connection,
            null,
            """
            SELECT i.id, i.kind, i.name, i.version, i.label, i.task, i.state, i.importer, i.signer_key_ids, i.sbom_sha256,
                   i.provenance_sha256, i.manifest_sha256, i.archive_bytes, i.tuf_versions, i.reasons, i.received, i.verified,
                   i.decided, i.decided_by, a.folder, i.quarantine, i.role_signers
            FROM airlock_imports i LEFT JOIN airlock_artifacts a ON a.import_id = i.id
            WHERE (CAST($id AS TEXT) IS NULL OR i.id = $id) AND (CAST($s AS TEXT) IS NULL OR i.state = $s) AND (CAST($k AS TEXT) IS NULL OR i.kind = $k)
            ORDER BY i.received DESC, i.id
            """,
            ("$id", id),
            ("$s", state),
            ("$k", kind));
        using var reader = command.ExecuteReader();
        var rows = new List<ImportRow>();
        while (reader.Read())
        {
            rows.Add(new ImportRow
            {
                Id = reader.GetString(0),
                Kind = reader.GetString(1),
                Name = reader.GetString(2),
                Version = reader.GetString(3),
                Label = reader.GetString(4),
                Task = NullableString(reader, 5),
                State = reader.GetString(6),
                Importer = reader.GetString(7),
                SignerKeyIdsJson = reader.GetString(8),
                SbomSha256 = NullableString(reader, 9),
                ProvenanceSha256 = NullableString(reader, 10),
                ManifestSha256 = reader.GetString(11),
                ArchiveBytes = reader.GetInt64(12),
                TufVersionsJson = reader.GetString(13),
                ReasonsJson = reader.GetString(14),
                Received = SqlDialect.ParseTime(reader.GetString(15)),
                Verified = SqlDialect.ParseTime(reader.GetString(16)),
                Decided = reader.IsDBNull(17) ? null : SqlDialect.ParseTime(reader.GetString(17)),
                DecidedBy = NullableString(reader, 18),
                Folder = NullableString(reader, 19),
                Quarantine = NullableString(reader, 20),
                RoleSignersJson = NullableString(reader, 21),
            });
        }

        return rows;
    }

    /// <inheritdoc/>
    public IReadOnlyList<ImportTargetRow> Targets(string importId)
    {
        using var connection = Open();
        using var command = Dialect.Command(connection, null, "SELECT path, type, sha256, length, quarantined FROM airlock_import_targets WHERE import_id = $id ORDER BY path", ("$id", importId));
        using var reader = command.ExecuteReader();
        var rows = new List<ImportTargetRow>();
        while (reader.Read())
        {
            rows.Add(new ImportTargetRow(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3), reader.GetString(4)));
        }

        return rows;
    }

    /// <inheritdoc/>
    public IReadOnlyList<string> Approvers(string importId)
    {
        using var connection = Open();
        using var command = Dialect.Command(connection, null, "SELECT approver FROM airlock_approvals WHERE import_id = $id ORDER BY approved, approver", ("$id", importId));
        using var reader = command.ExecuteReader();
        var approvers = new List<string>();
        while (reader.Read())
        {
            approvers.Add(reader.GetString(0));
        }

        return approvers;
    }

    /// <inheritdoc/>
    public string? Quarantine(string importId)
    {
        using var connection = Open();
        return Dialect.Scalar(connection, null, "SELECT quarantine FROM airlock_imports WHERE id = $id", ("$id", importId)) as string;
    }

    /// <inheritdoc/>
    public bool IsActivated(string importId)
    {
        using var connection = Open();
        return Dialect.Scalar(connection, null, "SELECT 1 FROM airlock_artifacts WHERE import_id = $id", ("$id", importId)) is not null;
    }

    /// <inheritdoc/>
    public IReadOnlySet<string> ActivatedTargetDigests()
    {
        using var connection = Open();
        using var command = Dialect.Command(connection, null, "SELECT t.sha256 FROM airlock_import_targets t JOIN airlock_artifacts a ON a.import_id = t.import_id");
        using var reader = command.ExecuteReader();
        var digests = new HashSet<string>(StringComparer.Ordinal);
        while (reader.Read())
        {
            digests.Add(reader.GetString(0));
        }

        return digests;
    }

    /// <inheritdoc/>
    public IReadOnlyList<PromotionRow> Promotions()
    {
        using var connection = Open();
        using var command = Dialect.Command(connection, null, "SELECT import_id, folder, staging, created_blobs, started FROM airlock_promotions");
        using var reader = command.ExecuteReader();
        var rows = new List<PromotionRow>();
        while (reader.Read())
        {
            rows.Add(new PromotionRow(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), SqlDialect.ParseTime(reader.GetString(4))));
        }

        return rows;
    }

    /// <inheritdoc/>
    public void AddApproval(string importId, string approver, DateTimeOffset approved) =>
        WriteImport((connection, transaction) => InsertApproval(connection, transaction, importId, approver, approved));

    /// <inheritdoc/>
    public void MarkRejected(string importId, string actor, string reasonsJson, DateTimeOffset decided) =>
        WriteImport((connection, transaction) => Dialect.NonQuery(
            connection,
            transaction,
            "UPDATE airlock_imports SET state = 'rejected', reasons = $r, decided = $t, decided_by = $a, quarantine = NULL WHERE id = $id",
            ("$r", reasonsJson),
            ("$t", SqlDialect.FormatTime(decided)),
            ("$a", actor),
            ("$id", importId)));

    /// <inheritdoc/>
    public void StartPromotion(PromotionRow promotion)
    {
        ArgumentNullException.ThrowIfNull(promotion);
        using var connection = Open();
        Dialect.NonQuery(
            connection,
            null,
            "INSERT INTO airlock_promotions (import_id, folder, staging, created_blobs, started) VALUES ($id, $f, $s, $b, $t)",
            ("$id", promotion.ImportId),
            ("$f", promotion.Folder),
            ("$s", promotion.Staging),
            ("$b", promotion.CreatedBlobsJson),
            ("$t", SqlDialect.FormatTime(promotion.Started)));
    }

    /// <inheritdoc/>
    public void EndPromotion(string importId)
    {
        using var connection = Open();
        DeletePromotion(connection, null, importId);
    }

    private DbConnection Open() => factory.OpenWriter(StateDatabase.Enclave, pooled: true);

    /// <summary>A change of an import (its approvals, its state) in a transaction of its own that announces it to the other replicas.</summary>
    private void WriteImport(Action<DbConnection, DbTransaction> write)
    {
        using var connection = Open();
        using var transaction = connection.BeginTransaction();
        write(connection, transaction);
        Changes.StateChanges.Announce(Dialect, connection, transaction, Changes.StateTopics.Imports);
        transaction.Commit();
    }

    private static string? NullableString(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    private void InsertApproval(DbConnection connection, DbTransaction? transaction, string importId, string approver, DateTimeOffset approved) =>
        Dialect.NonQuery(
            connection,
            transaction,
            "INSERT INTO airlock_approvals (import_id, approver, approved) VALUES ($id, $a, $t) ON CONFLICT DO NOTHING",
            ("$id", importId),
            ("$a", approver),
            ("$t", SqlDialect.FormatTime(approved)));

    private void DeletePromotion(DbConnection connection, DbTransaction? transaction, string importId) =>
        Dialect.NonQuery(connection, transaction, "DELETE FROM airlock_promotions WHERE import_id = $id", ("$id", importId));

    private sealed class Transaction : IAirlockTransaction
    {
        private readonly SqliteAirlockStore _store;
        private readonly DbConnection _connection;
        private readonly DbTransaction _transaction;

        public Transaction(SqliteAirlockStore store, DbConnection connection)
        {
            _store = store;
            _connection = connection;
            try
            {
                _transaction = connection.BeginTransaction();
            }
            catch
            {
                connection.Dispose();
                throw;
            }
        }

        private SqlDialect Dialect => _store.Dialect;

        public void ReplaceTrust(IEnumerable<TrustFileRow> files, DateTimeOffset committed)
        {
            ArgumentNullException.ThrowIfNull(files);
            Dialect.NonQuery(_connection, _transaction, "DELETE FROM airlock_trust");
            var now = SqlDialect.FormatTime(committed);
            foreach (var file in files)
            {
                Dialect.NonQuery(
                    _connection,
                    _transaction,
                    "INSERT INTO airlock_trust (file, role, version, bytes, committed) VALUES ($f, $r, $v, $b, $t)",
                    ("$f", file.File),
                    ("$r", file.Role),
                    ("$v", file.Version),
                    ("$b", file.Bytes),
                    ("$t", now));
            }
        }

        public void RecordPin(TrustPinRow pin)
        {
            ArgumentNullException.ThrowIfNull(pin);
            Dialect.NonQuery(
                _connection,
                _transaction,
                "INSERT INTO airlock_trust_pins (root_sha256, root_version, actor, forced, pinned) VALUES ($d, $v, $a, $f, $t)",
                ("$d", pin.RootSha256),
                ("$v", pin.RootVersion),
                ("$a", pin.Actor),
                ("$f", pin.Forced ? 1 : 0),
                ("$t", SqlDialect.FormatTime(pin.Pinned)));
        }

        public void InsertImport(ImportRow import, IEnumerable<ImportTargetRow> targets)
        {
            ArgumentNullException.ThrowIfNull(import);
            ArgumentNullException.ThrowIfNull(targets);
            Dialect.NonQuery(
                _connection,
                _transaction,
                """
                INSERT INTO airlock_imports (id, kind, name, version, label, task, state, importer, signer_key_ids, sbom_sha256,
                    provenance_sha256, manifest_sha256, archive_bytes, tuf_versions, quarantine, reasons, received, verified, role_signers)
                VALUES ($id, $kind, $name, $version, $label, $task, $state, $importer, $signers, $sbom, $prov, $manifest,
                    $bytes, $tuf, $quarantine, $reasons, $received, $verified, $roles)
                """,
                ("$id", import.Id),
                ("$kind", import.Kind),
                ("$name", import.Name),
                ("$version", import.Version),
                ("$label", import.Label),
                ("$task", import.Task),
                ("$state", import.State),
                ("$importer", import.Importer),
                ("$signers", import.SignerKeyIdsJson),
                ("$sbom", import.SbomSha256),
                ("$prov", import.ProvenanceSha256),
                ("$manifest", import.ManifestSha256),
                ("$bytes", import.ArchiveBytes),
                ("$tuf", import.TufVersionsJson),
                ("$quarantine", import.Quarantine),
                ("$reasons", import.ReasonsJson),
                ("$received", SqlDialect.FormatTime(import.Received)),
                ("$verified", SqlDialect.FormatTime(import.Verified)),
                ("$roles", import.RoleSignersJson));
            foreach (var target in targets)
            {
                Dialect.NonQuery(
                    _connection,
                    _transaction,
                    "INSERT INTO airlock_import_targets (import_id, path, type, sha256, length, quarantined) VALUES ($id, $p, $t, $d, $l, $q)",
                    ("$id", import.Id),
                    ("$p", target.Path),
                    ("$t", target.Type),
                    ("$d", target.Sha256),
                    ("$l", target.Length),
                    ("$q", target.Quarantined));
            }

            // The other replicas' open consoles show it (on PostgreSQL; sent when this transaction commits).
            Changes.StateChanges.Announce(Dialect, _connection, _transaction, Changes.StateTopics.Imports);
        }

        public void AddApproval(string importId, string approver, DateTimeOffset approved)
        {
            _store.InsertApproval(_connection, _transaction, importId, approver, approved);
            Changes.StateChanges.Announce(Dialect, _connection, _transaction, Changes.StateTopics.Imports);
        }

        public void Activate(ArtifactRow artifact, string actor)
        {
            ArgumentNullException.ThrowIfNull(artifact);
            var now = SqlDialect.FormatTime(artifact.Activated);
            Dialect.NonQuery(
                _connection,
                _transaction,
                "UPDATE airlock_imports SET state = 'activated', decided = $t, decided_by = $a, quarantine = NULL WHERE id = $id AND state = 'verified'",
                ("$t", now),
                ("$a", actor),
                ("$id", artifact.ImportId));
            Dialect.NonQuery(
                _connection,
                _transaction,
                """
                INSERT INTO airlock_artifacts (kind, name, version, label, task, import_id, folder, manifest_sha256, activated)
                VALUES ($k, $n, $v, $l, $task, $id, $f, $m, $t)
                """,
                ("$k", artifact.Kind),
                ("$n", artifact.Name),
                ("$v", artifact.Version),
                ("$l", artifact.Label),
                ("$task", artifact.Task),
                ("$id", artifact.ImportId),
                ("$f", artifact.Folder),
                ("$m", artifact.ManifestSha256),
                ("$t", now));
            _store.DeletePromotion(_connection, _transaction, artifact.ImportId);

            // The other replicas serve it too (on PostgreSQL; sent when this transaction commits).
            Changes.StateChanges.Announce(Dialect, _connection, _transaction, Changes.StateTopics.Artifacts);
        }

        public void Commit() => _transaction.Commit();

        public void Dispose()
        {
            _transaction.Dispose();
            _connection.Dispose();
        }
    }
}
