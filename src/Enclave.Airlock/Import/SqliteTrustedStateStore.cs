using Enclave.Airlock.Tuf;
using Enclave.Core;
using Enclave.State;
using Enclave.State.Airlock;

namespace Enclave.Airlock.Import;

/// <summary>
/// The airlock's durable TUF trusted state in the data directory's <c>enclave.db</c> (table <c>airlock_trust</c>):
/// the pinned (latest trusted) root and the last trusted version of every role, as the exact bytes that verified.
/// A commit replaces the whole state in one SQLite transaction, so a refresh step is applied entirely or not at all
/// (the atomic multi-file commit the TUF client workflow needs). Pins are recorded in <c>airlock_trust_pins</c>.
/// </summary>
public sealed class SqliteTrustedStateStore : ITrustedStateStore
{
    private readonly IAirlockStore _store;
    private readonly TufUpdaterOptions _options;
    private readonly TimeProvider _clock;

    /// <summary>Opens the store in <paramref name="dataDirectory"/> (migrating its database when needed).</summary>
    public SqliteTrustedStateStore(string dataDirectory, TimeProvider clock, TufUpdaterOptions? options = null)
        : this(new SqliteAirlockStore(EnclaveState.Open(ValidDirectory(dataDirectory), clock)), clock, options)
    {
    }

    /// <summary>The trusted state kept in <paramref name="store"/>.</summary>
    public SqliteTrustedStateStore(IAirlockStore store, TimeProvider clock, TufUpdaterOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(clock);
        _store = store;
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
        var files = new Dictionary<string, (string Role, byte[] Bytes)>(StringComparer.Ordinal);
        foreach (var file in _store.TrustFiles())
        {
            files[file.File] = (file.Role, file.Bytes);
        }

        return Load(files);
    }

    /// <summary>The trusted version of every role (<c>root</c>, <c>timestamp</c>, ..., delegated role names).</summary>
    public IReadOnlyDictionary<string, int> Versions() => _store.TrustVersions();

    /// <summary>The most recent pin, or null when no root was ever pinned.</summary>
    public TrustPin? CurrentPin() => _store.CurrentPin() is { } pin
        ? new TrustPin
        {
            RootSha256 = Sha256Digest.TryParseHex(pin.RootSha256, out var d) ? d : throw new InvalidDataException("airlock_trust_pins holds a malformed digest"),
            RootVersion = pin.RootVersion,
            Actor = pin.Actor,
            Forced = pin.Forced,
            Pinned = pin.Pinned,
        }
        : null;

    /// <summary>Replaces the persisted trusted state with <paramref name="state"/> in one transaction.</summary>
    public void Commit(TrustedState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        using var transaction = _store.Begin();
        Commit(state, transaction);
        transaction.Commit();
    }

    internal void Commit(TrustedState state, IAirlockTransaction transaction)
    {
        var files = new List<TrustFileRow>();
        void Put(string file, TufMetadata metadata, string role) => files.Add(new TrustFileRow(file, role, metadata.Version, metadata.Bytes.ToArray()));

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

        transaction.ReplaceTrust(files, _clock.GetUtcNow());
    }

    private TrustedState? Load(Dictionary<string, (string Role, byte[] Bytes)> files)
    {
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
                    metadata = metadata with { VerifiedSigners = TufSignatureVerifier.Verify(metadata, parent.Delegations.Keys, delegation.Role, $"the keys {parent.RoleName} delegates to {delegation.Name}") };
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

    internal static void RecordPin(IAirlockTransaction transaction, Sha256Digest rootSha256, int version, string actor, bool forced, DateTimeOffset now) =>
        transaction.RecordPin(new TrustPinRow(rootSha256.ToHex(), version, actor, forced, now));

    private static string ValidDirectory(string dataDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        return Path.GetFullPath(dataDirectory);
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
