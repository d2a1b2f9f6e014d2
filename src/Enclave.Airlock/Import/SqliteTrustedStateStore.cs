using Enclave.Airlock.Tuf;
using Enclave.Core;
using Microsoft.Data.Sqlite;

namespace Enclave.Airlock.Import;

/// <summary>
/// The airlock's durable TUF trusted state in the data directory's <c>enclave.db</c> (table <c>airlock_trust</c>):
/// the pinned (latest trusted) root and the last trusted version of every role, as the exact bytes that verified.
/// A commit replaces the whole state in one SQLite transaction, so a refresh step is applied entirely or not at all
/// (the atomic multi-file commit the TUF client workflow needs). Pins are recorded in <c>airlock_trust_pins</c>.
/// </summary>
public sealed class SqliteTrustedStateStore : ITrustedStateStore
{
    private readonly string _dataDirectory;
    private readonly TufUpdaterOptions _options;
    private readonly TimeProvider _clock;

    /// <summary>Opens the store in <paramref name="dataDirectory"/> (tables are created on first use).</summary>
    public SqliteTrustedStateStore(string dataDirectory, TimeProvider clock, TufUpdaterOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        ArgumentNullException.ThrowIfNull(clock);
        _dataDirectory = Path.GetFullPath(dataDirectory);
        _clock = clock;
        _options = options ?? TufUpdaterOptions.Default;
    }

    /// <summary>
    /// The persisted trusted state, or null when no root is pinned. Every file is verified again: timestamp, snapshot
    /// and targets against the root, delegated roles against the delegation that authorises them; a delegated role
    /// that no longer verifies is left out (it is fetched and verified again on the next lookup, and the snapshot's
    /// versions still bound it).
    /// </summary>
    public TrustedState? Load()
    {
        using var connection = ImportDatabase.Open(_dataDirectory);
        return Load(connection, null);
    }

    /// <summary>The trusted version of every role (<c>root</c>, <c>timestamp</c>, ..., delegated role names).</summary>
    public IReadOnlyDictionary<string, int> Versions()
    {
        using var connection = ImportDatabase.Open(_dataDirectory);
        using var command = ImportDatabase.Command(connection, null, "SELECT role, version FROM airlock_trust ORDER BY role");
        using var reader = command.ExecuteReader();
        var versions = new Dictionary<string, int>(StringComparer.Ordinal);
        while (reader.Read())
        {
            versions[reader.GetString(0)] = reader.GetInt32(1);
        }

        return versions;
    }

    /// <summary>The most recent pin, or null when no root was ever pinned.</summary>
    public TrustPin? CurrentPin()
    {
        using var connection = ImportDatabase.Open(_dataDirectory);
        return CurrentPin(connection);
    }

    /// <summary>Replaces the persisted trusted state with <paramref name="state"/> in one transaction.</summary>
    public void Commit(TrustedState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        using var connection = ImportDatabase.Open(_dataDirectory);
        using var transaction = connection.BeginTransaction();
        Commit(state, connection, transaction);
        transaction.Commit();
    }

    internal void Commit(TrustedState state, SqliteConnection connection, SqliteTransaction transaction)
    {
        var now = ImportDatabase.Time(_clock.GetUtcNow());
        ImportDatabase.NonQuery(connection, transaction, "DELETE FROM airlock_trust");
        void Put(string file, TufMetadata metadata, string role) => ImportDatabase.NonQuery(
            connection,
            transaction,
            "INSERT INTO airlock_trust (file, role, version, bytes, committed) VALUES ($f, $r, $v, $b, $t)",
            ("$f", file),
            ("$r", role),
            ("$v", metadata.Version),
            ("$b", metadata.Bytes.ToArray()),
            ("$t", now));

        Put("root.json", state.Root, "root");
        if (state.Timestamp is { } timestamp)
        {
            Put("timestamp.json", timestamp, "timestamp");
        }

        if (state.Snapshot is { } snapshot)
        {
            Put("snapshot.json", snapshot, "snapshot");
        }

        if (state.Targets is { } targets)
        {
            Put("targets.json", targets, "targets");
        }

        foreach (var (role, metadata) in state.Delegated.OrderBy(d => d.Key, StringComparer.Ordinal))
        {
            Put("delegated/" + DirectoryMetadataSource.FileName(role, null), metadata, role);
        }
    }

    internal TrustedState? Load(SqliteConnection connection, SqliteTransaction? transaction)
    {
        var files = new Dictionary<string, (string Role, byte[] Bytes)>(StringComparer.Ordinal);
        using (var command = ImportDatabase.Command(connection, transaction, "SELECT file, role, bytes FROM airlock_trust"))
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                files[reader.GetString(0)] = (reader.GetString(1), (byte[])reader.GetValue(2));
            }
        }

        if (!files.TryGetValue("root.json", out var root))
        {
            return null;
        }

        byte[]? Top(string name) => files.TryGetValue(name, out var f) ? f.Bytes : null;
        var state = TrustedState.Load(root.Bytes, Top("timestamp.json"), Top("snapshot.json"), Top("targets.json"), _options);
        if (state.Targets is null)
        {
            return state;
        }

        // Delegated roles: verified against whichever loaded role delegates them, breadth-first from targets.
        var pending = files.Where(f => f.Key.StartsWith("delegated/", StringComparison.Ordinal))
            .ToDictionary(f => f.Value.Role, f => f.Value.Bytes, StringComparer.Ordinal);
        var delegated = new Dictionary<string, TargetsMetadata>(StringComparer.Ordinal);
        var parents = new Queue<TargetsMetadata>([state.Targets]);
        while (parents.Count > 0 && pending.Count > 0)
        {
            var parent = parents.Dequeue();
            if (parent.Delegations is null)
            {
                continue;
            }

            foreach (var delegation in parent.Delegations.Roles)
            {
                if (!pending.Remove(delegation.Name, out var bytes))
                {
                    continue;
                }

                try
                {
                    var metadata = TufMetadataParser.ParseTargets(bytes, delegation.Name, Math.Max(bytes.LongLength, _options.MaxTargetsBytes), _options);
                    TufSignatureVerifier.Verify(metadata, parent.Delegations.Keys, delegation.Role, $"the keys {parent.RoleName} delegates to {delegation.Name}");
                    delegated[delegation.Name] = metadata;
                    parents.Enqueue(metadata);
                }
                catch (AirlockRejectedException)
                {
                    // No longer authorised by its parent (keys changed): re-fetched and verified on the next lookup.
                }
            }
        }

        return state with { Delegated = delegated };
    }

    internal static void RecordPin(SqliteConnection connection, SqliteTransaction transaction, Sha256Digest rootSha256, int version, string actor, bool forced, DateTimeOffset now) =>
        ImportDatabase.NonQuery(
            connection,
            transaction,
            "INSERT INTO airlock_trust_pins (root_sha256, root_version, actor, forced, pinned) VALUES ($d, $v, $a, $f, $t)",
            ("$d", rootSha256.ToHex()),
            ("$v", version),
            ("$a", actor),
            ("$f", forced ? 1 : 0),
            ("$t", ImportDatabase.Time(now)));

    internal static TrustPin? CurrentPin(SqliteConnection connection)
    {
        using var command = ImportDatabase.Command(connection, null, "SELECT root_sha256, root_version, actor, forced, pinned FROM airlock_trust_pins ORDER BY seq DESC LIMIT 1");
        using var reader = command.ExecuteReader();
        if (!reader.Read())
        {
            return null;
        }

        return new TrustPin
        {
            RootSha256 = Sha256Digest.TryParseHex(reader.GetString(0), out var d) ? d : throw new InvalidDataException("airlock_trust_pins holds a malformed digest"),
            RootVersion = reader.GetInt32(1),
            Actor = reader.GetString(2),
            Forced = reader.GetInt64(3) != 0,
            Pinned = ImportDatabase.ParseTime(reader.GetString(4)),
        };
    }
}

/// <summary>A root pinned out of band (<c>enclave airlock trust ROOT.json</c>).</summary>
public sealed record TrustPin
{
    /// <summary>SHA-256 of the pinned root file's bytes.</summary>
    public required Sha256Digest RootSha256 { get; init; }

    /// <summary>The pinned root's version.</summary>
    public required int RootVersion { get; init; }

    /// <summary>Who pinned it.</summary>
    public required string Actor { get; init; }

    /// <summary>Whether it replaced a different pinned root (explicitly forced).</summary>
    public required bool Forced { get; init; }

    /// <summary>When.</summary>
    public required DateTimeOffset Pinned { get; init; }
}
