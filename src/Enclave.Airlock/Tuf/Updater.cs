namespace Enclave.Airlock.Tuf;

/// <summary>
/// The TUF client workflow (spec §5) over an <see cref="ITufMetadataSource"/>: root rotation chain, timestamp,
/// snapshot, targets and delegations, with thresholds, expiry, rollback, freeze and mix-and-match checks.
/// Work happens on a copy; <see cref="Trusted"/> and the store change only when everything verified.
/// Not thread-safe: one import at a time per updater.
/// </summary>
public sealed class Updater
{
    private readonly ITufMetadataSource _source;
    private readonly TimeProvider _time;
    private readonly TufUpdaterOptions _options;
    private readonly ITrustedStateStore? _store;

    /// <summary>Creates an updater starting from <paramref name="trusted"/>.</summary>
    public Updater(TrustedState trusted, ITufMetadataSource source, TimeProvider time, TufUpdaterOptions? options = null, ITrustedStateStore? store = null)
    {
        ArgumentNullException.ThrowIfNull(trusted);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(time);
        Trusted = trusted;
        _source = source;
        _time = time;
        _options = options ?? TufUpdaterOptions.Default;
        _store = store;
    }

    /// <summary>The committed trusted state.</summary>
    public TrustedState Trusted { get; private set; }

    /// <summary>
    /// Runs §5.3–§5.6: updates root, timestamp, snapshot and top-level targets, then commits.
    /// Throws <see cref="AirlockRejectedException"/> and leaves <see cref="Trusted"/> unchanged on any failure.
    /// </summary>
    public TrustedState Refresh()
    {
        var now = _time.GetUtcNow();
        var state = UpdateRoot(Trusted, now);
        state = UpdateTimestamp(state, now);
        CommitStep(state);
        state = UpdateSnapshot(state, now);
        CommitStep(state);
        state = UpdateTargets(state, now);
        Commit(state);
        return state;
    }

    /// <summary>
    /// Looks <paramref name="targetPath"/> up through the delegation graph (preorder, terminating delegations
    /// respected), loading and verifying delegated roles as needed. Returns null when no role lists it.
    /// Requires a prior <see cref="Refresh"/>.
    /// </summary>
    public TargetFile? FindTarget(string targetPath)
    {
        var found = Lookup(targetPath, out var updated);
        if (updated is not null)
        {
            Commit(updated);
        }

        return found;
    }

    /// <summary>
    /// Like <see cref="FindTarget"/>, but a missing target is a rejection (<see cref="AirlockRejection.UnknownTarget"/>)
    /// and then nothing is committed.
    /// </summary>
    public TargetFile RequireTarget(string targetPath)
    {
        var found = Lookup(targetPath, out var updated)
            ?? throw new AirlockRejectedException(AirlockRejection.UnknownTarget, $"unknown target: no trusted targets role lists \"{targetPath}\" (or a terminating delegation hides it); nothing was imported");
        if (updated is not null)
        {
            Commit(updated);
        }

        return found;
    }

    private TargetFile? Lookup(string targetPath, out TrustedState? updated)
    {
        ArgumentNullException.ThrowIfNull(targetPath);
        updated = null;
        var state = Trusted;
        if (state.Targets is null || state.Snapshot is null)
        {
            throw new InvalidOperationException("call Refresh before looking up targets");
        }

        var now = _time.GetUtcNow();
        var delegated = new Dictionary<string, TargetsMetadata>(state.Delegated, StringComparer.Ordinal);
        var stack = new Stack<(string Role, TargetsMetadata? Parent, DelegatedRole? Delegation, int Depth)>();
        stack.Push(("targets", null, null, 0));
        var visited = new HashSet<string>(StringComparer.Ordinal);
        var delegatedBy = new Dictionary<string, string>(StringComparer.Ordinal);
        TargetFile? found = null;
        while (stack.Count > 0)
        {
            var (role, parent, delegation, depth) = stack.Pop();
            if (!visited.Add(role))
            {
                continue;
            }

            if (parent is not null)
            {
                delegatedBy[role] = parent.RoleName;
            }

            if (visited.Count > _options.MaxDelegations + 1)
            {
                throw new AirlockRejectedException(AirlockRejection.LimitExceeded, $"delegation limit: looking up \"{targetPath}\" visited more than {_options.MaxDelegations} delegated roles");
            }

            TargetsMetadata metadata;
            if (parent is null)
            {
                metadata = state.Targets;
            }
            else
            {
                // A cached role is reused only while the snapshot still lists its version and the current
                // delegation (whose keys may have changed with a new parent version) still authorises it.
                var cached = delegated.GetValueOrDefault(role);
                var loaded = cached;
                var signers = loaded is null || !IsCurrent(loaded, state.Snapshot) ? null : StillAuthorised(loaded, parent, delegation!, now);
                if (signers is null)
                {
                    loaded = LoadDelegated(state, role, parent, delegation!, now, cached);
                    delegated[role] = loaded;
                }
                else if (!signers.SameAs(loaded!.VerifiedSigners))
                {
                    // Still authorised, but by other keys than when it was cached (or it was cached unverified): the
                    // signers recorded are those of the delegation in force now.
                    loaded = loaded with { VerifiedSigners = signers };
                    delegated[role] = loaded;
                }

                metadata = loaded;
            }

            if (metadata.Targets.TryGetValue(targetPath, out var target))
            {
                found = target with { DelegationChain = Chain(role, delegatedBy) };
                break;
            }

            if (metadata.Delegations is null)
            {
                continue;
            }

            var children = new List<(string, TargetsMetadata?, DelegatedRole?, int)>();
            foreach (var child in metadata.Delegations.Roles)
            {
                if (!child.IsDelegatedPath(targetPath))
                {
                    continue;
                }

                children.Add((child.Name, metadata, child, depth + 1));
                if (child.Terminating)
                {
                    stack.Clear();
                    break;
                }
            }

            if (children.Count > 0 && depth >= _options.MaxDelegationDepth)
            {
                throw new AirlockRejectedException(AirlockRejection.LimitExceeded, $"delegation limit: \"{targetPath}\" is delegated deeper than {_options.MaxDelegationDepth} levels below targets");
            }

            for (var i = children.Count - 1; i >= 0; i--)
            {
                stack.Push(children[i]);
            }
        }

        if (delegated.Count != state.Delegated.Count || delegated.Any(d => !state.Delegated.TryGetValue(d.Key, out var old) || !ReferenceEquals(old, d.Value)))
        {
            updated = state with { Delegated = delegated };
        }

        return found;
    }

    // The roles lookup trusted on its way to role, from top-level targets down to role itself.
    private static IReadOnlyList<string> Chain(string role, Dictionary<string, string> delegatedBy)
    {
        var chain = new List<string> { role };
        while (delegatedBy.TryGetValue(chain[^1], out var parent))
        {
            chain.Add(parent);
        }

        chain.Reverse();
        return chain;
    }

    private void Commit(TrustedState state)
    {
        _store?.Commit(state);
        Trusted = state;
    }

    // With CommitEachStep, every verified step is kept even when a later one fails (the spec's client persists
    // each role as it verifies it); otherwise only a whole refresh is committed.
    private void CommitStep(TrustedState state)
    {
        if (_options.CommitEachStep)
        {
            Commit(state);
        }
    }

    // The keys of the current delegation that still verify a cached role, or null when it is no longer authorised.
    private TufSigners? StillAuthorised(TargetsMetadata metadata, TargetsMetadata parent, DelegatedRole delegation, DateTimeOffset now)
    {
        var count = TufSignatureVerifier.CountValid(metadata, parent.Delegations!.Keys, delegation.Role);
        return count.Valid >= count.Threshold
            && (count.PostQuantumValid || !_options.RequirePostQuantumSignature)
            && !metadata.IsExpired(now)
            && (!_options.RejectTargetsOutsideDelegatedPaths || metadata.Targets.Keys.All(delegation.IsDelegatedPath))
            ? count.Signers
            : null;
    }

    private static bool IsCurrent(TargetsMetadata metadata, SnapshotMetadata snapshot) =>
        snapshot.Meta.TryGetValue(metadata.RoleName + ".json", out var meta) && meta.Version == metadata.Version;

    private TrustedState UpdateRoot(TrustedState state, DateTimeOffset now)
    {
        var original = state.Root;
        var root = original;
        var updated = state;
        for (var rotation = 0; ; rotation++)
        {
            if (root.Version == int.MaxValue)
            {
                break;
            }

            var next = root.Version + 1;
            var bytes = _source.Fetch("root", next, _options.MaxRootBytes);
            if (bytes is null)
            {
                break;
            }

            if (rotation >= _options.MaxRootRotations)
            {
                throw new AirlockRejectedException(AirlockRejection.LimitExceeded, $"root rotation limit: more than {_options.MaxRootRotations} new root versions after version {original.Version}; import in smaller steps or raise the limit");
            }

            var candidate = TufMetadataParser.ParseRoot(bytes, _options);
            var byOld = TufSignatureVerifier.CountValid(candidate, root.Keys, root.Roles["root"]);
            if (byOld.Valid < byOld.Threshold)
            {
                throw new AirlockRejectedException(AirlockRejection.BadRootRotation, $"bad root rotation: root version {candidate.Version} has {byOld.Valid} of {byOld.Threshold} required signatures by the keys of trusted root version {root.Version}", TufSignatureVerifier.Rejection(byOld, candidate, $"root {root.Version}'s keys", null));
            }

            if (_options.RequirePostQuantumSignature)
            {
                TufSignatureVerifier.RequirePostQuantum(byOld, candidate, $"the root keys of trusted root version {root.Version}");
            }

            var byNew = TufSignatureVerifier.CountValid(candidate, candidate.Keys, candidate.Roles["root"]);
            if (byNew.Valid < byNew.Threshold)
            {
                throw new AirlockRejectedException(AirlockRejection.BadRootRotation, $"bad root rotation: root version {candidate.Version} has {byNew.Valid} of {byNew.Threshold} required signatures by its own root keys", TufSignatureVerifier.Rejection(byNew, candidate, "its own keys", null));
            }

            if (_options.RequirePostQuantumSignature)
            {
                TufSignatureVerifier.RequirePostQuantum(byNew, candidate, "its own root keys");
            }

            if (candidate.Version != next)
            {
                throw new AirlockRejectedException(AirlockRejection.BadRootRotation, $"bad root rotation: fetched root {next} but it says version {candidate.Version}; each root must be exactly the previous version + 1");
            }

            // The root role's signers are those of its own keys: the keys this version says may sign roots.
            root = candidate with { VerifiedSigners = byNew.Signers };
            if (_options.CommitEachStep)
            {
                // Each verified root is kept before the next is fetched and before the expiry check (§5.3.8).
                updated = WithRoot(updated, root);
                Commit(updated);
            }
        }

        if (!ReferenceEquals(updated.Root, root))
        {
            updated = WithRoot(updated, root);
        }

        if (root.IsExpired(now))
        {
            throw new AirlockRejectedException(AirlockRejection.Expired, $"expired: root version {root.Version} expired at {root.Expires:u} (now {now:u}); a newer root must be brought in");
        }

        return updated;
    }

    // Trusts root, applying fast-forward recovery against the root that state trusted until now.
    private static TrustedState WithRoot(TrustedState state, RootMetadata root)
    {
        var original = state.Root;
        var updated = state with { Root = root };
        var timestampRotated = !root.Roles["timestamp"].SameKeysAs(original.Roles["timestamp"]);
        var snapshotRotated = !root.Roles["snapshot"].SameKeysAs(original.Roles["snapshot"]);
        var targetsRotated = !root.Roles["targets"].SameKeysAs(original.Roles["targets"]);
        if (timestampRotated || snapshotRotated)
        {
            // Fast-forward recovery (§5.3.11): versions signed by the replaced keys may have been pushed
            // arbitrarily high by an attacker, so they no longer bound what is accepted.
            updated = updated with { Timestamp = null, Snapshot = null };
        }

        if (snapshotRotated || targetsRotated)
        {
            updated = updated with { Targets = null, Delegated = new Dictionary<string, TargetsMetadata>(StringComparer.Ordinal) };
        }

        return updated;
    }

    private TrustedState UpdateTimestamp(TrustedState state, DateTimeOffset now)
    {
        var bytes = _source.Fetch("timestamp", null, _options.MaxTimestampBytes)
            ?? throw new AirlockRejectedException(AirlockRejection.UnknownRole, "unknown role: the source has no timestamp metadata");
        var timestamp = TufMetadataParser.ParseTimestamp(bytes, _options);
        timestamp = timestamp with { VerifiedSigners = TufSignatureVerifier.Verify(timestamp, state.Root.Keys, state.Root.Roles["timestamp"], $"root {state.Root.Version}'s timestamp keys", _options.RequirePostQuantumSignature) };

        if (state.Timestamp is { } trusted)
        {
            if (timestamp.Version < trusted.Version)
            {
                throw new AirlockRejectedException(AirlockRejection.Rollback, $"rollback: timestamp version {timestamp.Version} < trusted {trusted.Version}");
            }

            if (timestamp.SnapshotMeta.Version < trusted.SnapshotMeta.Version)
            {
                throw new AirlockRejectedException(AirlockRejection.Rollback, $"rollback: timestamp {timestamp.Version} lists snapshot version {timestamp.SnapshotMeta.Version} < trusted {trusted.SnapshotMeta.Version}");
            }

            if (timestamp.Version == trusted.Version)
            {
                // Same version: keep what we trust; its freshness is checked below all the same.
                timestamp = trusted;
            }
        }

        if (timestamp.IsExpired(now))
        {
            throw new AirlockRejectedException(AirlockRejection.Freeze, $"freeze: timestamp version {timestamp.Version} expired at {timestamp.Expires:u} (now {now:u}); the source serves stale metadata");
        }

        return state with { Timestamp = timestamp };
    }

    private TrustedState UpdateSnapshot(TrustedState state, DateTimeOffset now)
    {
        var meta = state.Timestamp!.SnapshotMeta;
        if (state.Snapshot is { } current && current.Version == meta.Version && !current.IsExpired(now))
        {
            return state;
        }

        var maxBytes = meta.Length ?? _options.MaxSnapshotBytes;
        var bytes = _source.Fetch("snapshot", state.Root.ConsistentSnapshot ? meta.Version : null, maxBytes)
            ?? throw new AirlockRejectedException(AirlockRejection.UnknownRole, $"unknown role: the source has no snapshot metadata (version {meta.Version} expected)");
        CheckBounded(bytes, meta, "snapshot.json", _options.MaxSnapshotBytes);
        TufSignatureVerifier.CheckMetaFile(bytes, meta, "snapshot.json");
        var snapshot = TufMetadataParser.ParseSnapshot(bytes, Math.Max(maxBytes, _options.MaxSnapshotBytes), _options);
        snapshot = snapshot with { VerifiedSigners = TufSignatureVerifier.Verify(snapshot, state.Root.Keys, state.Root.Roles["snapshot"], $"root {state.Root.Version}'s snapshot keys", _options.RequirePostQuantumSignature) };

        if (state.Snapshot is { } trusted)
        {
            if (snapshot.Version < trusted.Version)
            {
                throw new AirlockRejectedException(AirlockRejection.Rollback, $"rollback: snapshot version {snapshot.Version} < trusted {trusted.Version}");
            }

            foreach (var (name, trustedMeta) in trusted.Meta)
            {
                if (!snapshot.Meta.TryGetValue(name, out var newMeta))
                {
                    throw new AirlockRejectedException(AirlockRejection.Rollback, $"rollback: snapshot version {snapshot.Version} no longer lists {name}, which trusted snapshot {trusted.Version} lists");
                }

                if (newMeta.Version < trustedMeta.Version)
                {
                    throw new AirlockRejectedException(AirlockRejection.Rollback, $"rollback: snapshot version {snapshot.Version} lists {name} version {newMeta.Version} < trusted {trustedMeta.Version}");
                }
            }
        }

        if (snapshot.Version != meta.Version)
        {
            throw new AirlockRejectedException(AirlockRejection.MixAndMatch, $"mix-and-match: snapshot version {snapshot.Version} but timestamp {state.Timestamp.Version} lists version {meta.Version}");
        }

        if (snapshot.IsExpired(now))
        {
            throw new AirlockRejectedException(AirlockRejection.Expired, $"expired: snapshot version {snapshot.Version} expired at {snapshot.Expires:u} (now {now:u})");
        }

        return state with { Snapshot = snapshot };
    }

    private TrustedState UpdateTargets(TrustedState state, DateTimeOffset now)
    {
        var snapshot = state.Snapshot!;
        if (!snapshot.Meta.TryGetValue("targets.json", out var meta))
        {
            throw new AirlockRejectedException(AirlockRejection.UnknownRole, $"unknown role: snapshot version {snapshot.Version} does not list targets.json");
        }

        if (state.Targets is { } current && current.Version == meta.Version && !current.IsExpired(now))
        {
            return state;
        }

        var targets = FetchTargets("targets", meta, state.Root.ConsistentSnapshot);
        targets = targets with { VerifiedSigners = TufSignatureVerifier.Verify(targets, state.Root.Keys, state.Root.Roles["targets"], $"root {state.Root.Version}'s targets keys", _options.RequirePostQuantumSignature) };
        CheckTargetsVersion(targets, meta, snapshot, state.Targets, now);
        // Delegated roles stay cached: each is re-checked against the new delegations before it is used,
        // and their versions keep bounding what later snapshots may list.
        return state with { Targets = targets };
    }

    private TargetsMetadata LoadDelegated(TrustedState state, string role, TargetsMetadata parent, DelegatedRole delegation, DateTimeOffset now, TargetsMetadata? trusted)
    {
        var snapshot = state.Snapshot!;
        if (!snapshot.Meta.TryGetValue(role + ".json", out var meta))
        {
            throw new AirlockRejectedException(AirlockRejection.UnknownRole, $"unknown role: snapshot version {snapshot.Version} does not list delegated role {role}.json");
        }

        var targets = FetchTargets(role, meta, state.Root.ConsistentSnapshot);
        targets = targets with { VerifiedSigners = TufSignatureVerifier.Verify(targets, parent.Delegations!.Keys, delegation.Role, $"the keys {parent.RoleName} delegates to {role}", _options.RequirePostQuantumSignature) };
        CheckTargetsVersion(targets, meta, snapshot, trusted, now);
        if (_options.RejectTargetsOutsideDelegatedPaths)
        {
            var outside = targets.Targets.Keys.Where(path => !delegation.IsDelegatedPath(path)).Take(5).ToList();
            if (outside.Count > 0)
            {
                throw new AirlockRejectedException(AirlockRejection.DelegationViolation, $"delegation violation: role {role} (version {targets.Version}) lists {string.Join(", ", outside.Select(p => $"\"{p}\""))}, outside the paths {parent.RoleName} delegates to it");
            }
        }

        return targets;
    }

    private TargetsMetadata FetchTargets(string role, MetaFile meta, bool consistent)
    {
        var maxBytes = meta.Length ?? _options.MaxTargetsBytes;
        var bytes = _source.Fetch(role, consistent ? meta.Version : null, maxBytes)
            ?? throw new AirlockRejectedException(AirlockRejection.UnknownRole, $"unknown role: the source has no metadata for {role} (version {meta.Version} expected)");
        CheckBounded(bytes, meta, role + ".json", _options.MaxTargetsBytes);
        TufSignatureVerifier.CheckMetaFile(bytes, meta, role + ".json");
        return TufMetadataParser.ParseTargets(bytes, role, Math.Max(maxBytes, _options.MaxTargetsBytes), _options);
    }

    private static void CheckTargetsVersion(TargetsMetadata targets, MetaFile meta, SnapshotMetadata snapshot, TargetsMetadata? trusted, DateTimeOffset now)
    {
        if (trusted is not null && targets.Version < trusted.Version)
        {
            throw new AirlockRejectedException(AirlockRejection.Rollback, $"rollback: {targets.RoleName} version {targets.Version} < trusted {trusted.Version}");
        }

        if (targets.Version != meta.Version)
        {
            throw new AirlockRejectedException(AirlockRejection.MixAndMatch, $"mix-and-match: {targets.RoleName} version {targets.Version} but snapshot {snapshot.Version} lists version {meta.Version}");
        }

        if (targets.IsExpired(now))
        {
            throw new AirlockRejectedException(AirlockRejection.Expired, $"expired: {targets.RoleName} version {targets.Version} expired at {targets.Expires:u} (now {now:u})");
        }
    }

    private static void CheckBounded(byte[] bytes, MetaFile meta, string name, long configuredMax)
    {
        if (meta.Length is null && bytes.LongLength > configuredMax)
        {
            throw new AirlockRejectedException(AirlockRejection.Oversized, $"oversized metadata: {name} is {bytes.LongLength} bytes, more than the limit of {configuredMax}");
        }
    }
}
