using System.Text;
using Enclave.Airlock.Tuf;
using Enclave.Core;

namespace Enclave.Airlock.Tests.Tuf;

/// <summary>A delegated role in a test repository.</summary>
internal sealed class TestDelegation
{
    public required string Name { get; init; }

    public string Parent { get; init; } = "targets";

    public List<TestKey> Keys { get; set; } = [TestKey.Ed25519()];

    public int Threshold { get; set; } = 1;

    public List<string>? Paths { get; set; }

    public List<string>? PathHashPrefixes { get; set; }

    public bool Terminating { get; set; }

    public int Version { get; set; } = 1;

    public DateTimeOffset? Expires { get; set; }

    public Dictionary<string, byte[]> Targets { get; } = new(StringComparer.Ordinal);
}

/// <summary>
/// Generates and signs a whole TUF repository (root, timestamp, snapshot, targets, delegations) into a
/// <see cref="MemorySource"/>. Mutate fields, call <see cref="Publish"/>, then attack single files.
/// </summary>
internal sealed class TufTestRepository
{
    public static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public TufTestRepository()
    {
        Keys["root"] = [TestKey.Ed25519()];
        Keys["timestamp"] = [TestKey.Ecdsa()];
        Keys["snapshot"] = [TestKey.Ed25519()];
        Keys["targets"] = [TestKey.Rsa()];
        foreach (var role in Keys.Keys)
        {
            Thresholds[role] = 1;
            Versions[role] = 1;
            Expires[role] = Start.AddDays(30);
        }

        Targets["models/demo.onnx"] = Encoding.UTF8.GetBytes("demo model bytes");
        PublishRoot();
        Publish();
    }

    public FakeClock Clock { get; } = new(Start.AddHours(1));

    public MemorySource Source { get; } = new();

    public Dictionary<string, List<TestKey>> Keys { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, int> Thresholds { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, int> Versions { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, DateTimeOffset> Expires { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, byte[]> Targets { get; } = new(StringComparer.Ordinal);

    public List<TestDelegation> Delegations { get; } = [];

    public bool ConsistentSnapshot { get; set; }

    public bool HashesInSnapshot { get; set; }

    public byte[] RootV1 => Source.Files["1.root.json"];

    public static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);

    public static Dictionary<string, object?> Common(string type, int version, DateTimeOffset expires) => new()
    {
        ["_type"] = type,
        ["spec_version"] = "1.0.31",
        ["version"] = (long)version,
        ["expires"] = Iso(expires),
    };

    public static byte[] Envelope(Dictionary<string, object?> signed, IEnumerable<TestKey> signers, byte[]? signOver = null)
    {
        var body = signOver ?? TufJson.Canonicalize(signed);
        var signatures = signers.Select(k => (object?)new Dictionary<string, object?>
        {
            ["keyid"] = k.KeyId,
            ["sig"] = Convert.ToHexStringLower(k.SignRaw(body)),
        }).ToList();
        return TestJson.Serialize(new Dictionary<string, object?> { ["signed"] = signed, ["signatures"] = signatures });
    }

    public static Dictionary<string, object?> Parse(byte[] envelope) =>
        (Dictionary<string, object?>)((Dictionary<string, object?>)TufJson.Parse(envelope, 64)!)["signed"]!;

    public Dictionary<string, object?> RootSigned()
    {
        var signed = Common("root", Versions["root"], Expires["root"]);
        var keys = new Dictionary<string, object?>();
        var roles = new Dictionary<string, object?>();
        foreach (var (role, roleKeys) in Keys)
        {
            foreach (var key in roleKeys)
            {
                keys[key.KeyId] = key.KeyObject;
            }

            roles[role] = new Dictionary<string, object?>
            {
                ["keyids"] = roleKeys.Select(k => (object?)k.KeyId).ToList(),
                ["threshold"] = (long)Thresholds[role],
            };
        }

        signed["keys"] = keys;
        signed["roles"] = roles;
        signed["consistent_snapshot"] = ConsistentSnapshot;
        return signed;
    }

    /// <summary>Writes the current root as <c>N.root.json</c>, signed by <paramref name="signers"/> (default: its own keys).</summary>
    public byte[] PublishRoot(IEnumerable<TestKey>? signers = null)
    {
        var bytes = Envelope(RootSigned(), signers ?? Keys["root"]);
        Source.Files[$"{Versions["root"]}.root.json"] = bytes;
        Source.Files["root.json"] = bytes;
        return bytes;
    }

    /// <summary>Rotates root to the next version with new keys for <paramref name="roles"/>, signed by old and new root keys.</summary>
    public void RotateRoot(params string[] roles)
    {
        var oldRootKeys = Keys["root"].ToList();
        foreach (var role in roles)
        {
            Keys[role] = [TestKey.Ed25519()];
        }

        Versions["root"]++;
        PublishRoot(oldRootKeys.Concat(Keys["root"]).DistinctBy(k => k.KeyId));
    }

    public static Dictionary<string, object?> TargetEntry(byte[] content) => new()
    {
        ["length"] = (long)content.Length,
        ["hashes"] = new Dictionary<string, object?> { ["sha256"] = Sha256Digest.Compute(content).ToHex() },
    };

    public Dictionary<string, object?> TargetsSigned(string role)
    {
        var delegation = Delegations.FirstOrDefault(d => d.Name == role);
        var signed = delegation is null
            ? Common("targets", Versions["targets"], Expires["targets"])
            : Common("targets", delegation.Version, delegation.Expires ?? Start.AddDays(30));
        var targets = delegation is null ? Targets : delegation.Targets;
        signed["targets"] = targets.ToDictionary(t => t.Key, t => (object?)TargetEntry(t.Value));
        var children = Delegations.Where(d => d.Parent == role).ToList();
        if (children.Count > 0)
        {
            var keys = new Dictionary<string, object?>();
            var roles = new List<object?>();
            foreach (var child in children)
            {
                foreach (var key in child.Keys)
                {
                    keys[key.KeyId] = key.KeyObject;
                }

                var entry = new Dictionary<string, object?>
                {
                    ["name"] = child.Name,
                    ["keyids"] = child.Keys.Select(k => (object?)k.KeyId).ToList(),
                    ["threshold"] = (long)child.Threshold,
                    ["terminating"] = child.Terminating,
                };
                if (child.Paths is not null)
                {
                    entry["paths"] = child.Paths.Select(p => (object?)p).ToList();
                }

                if (child.PathHashPrefixes is not null)
                {
                    entry["path_hash_prefixes"] = child.PathHashPrefixes.Select(p => (object?)p).ToList();
                }

                roles.Add(entry);
            }

            signed["delegations"] = new Dictionary<string, object?> { ["keys"] = keys, ["roles"] = roles };
        }

        return signed;
    }

    private void Put(string role, int version, byte[] bytes)
    {
        Source.Files[$"{role}.json"] = bytes;
        Source.Files[$"{version}.{role}.json"] = bytes;
    }

    /// <summary>Signs and writes targets, delegated roles, snapshot and timestamp from the current fields.</summary>
    public void Publish()
    {
        var meta = new Dictionary<string, object?>();
        var targetsBytes = Envelope(TargetsSigned("targets"), Keys["targets"]);
        Put("targets", Versions["targets"], targetsBytes);
        meta["targets.json"] = MetaEntry(Versions["targets"], targetsBytes, HashesInSnapshot);
        foreach (var delegation in Delegations)
        {
            var bytes = Envelope(TargetsSigned(delegation.Name), delegation.Keys);
            Put(delegation.Name, delegation.Version, bytes);
            meta[delegation.Name + ".json"] = MetaEntry(delegation.Version, bytes, HashesInSnapshot);
        }

        var snapshot = Common("snapshot", Versions["snapshot"], Expires["snapshot"]);
        snapshot["meta"] = meta;
        var snapshotBytes = Envelope(snapshot, Keys["snapshot"]);
        Put("snapshot", Versions["snapshot"], snapshotBytes);
        PublishTimestamp(snapshotBytes);
    }

    /// <summary>Signs and writes a timestamp for <paramref name="snapshotBytes"/> (default: the published snapshot).</summary>
    public void PublishTimestamp(byte[]? snapshotBytes = null, int? snapshotVersion = null)
    {
        snapshotBytes ??= Source.Files["snapshot.json"];
        var timestamp = Common("timestamp", Versions["timestamp"], Expires["timestamp"]);
        timestamp["meta"] = new Dictionary<string, object?> { ["snapshot.json"] = MetaEntry(snapshotVersion ?? Versions["snapshot"], snapshotBytes, true) };
        Source.Files["timestamp.json"] = Envelope(timestamp, Keys["timestamp"]);
    }

    public static Dictionary<string, object?> MetaEntry(int version, byte[] bytes, bool withHashes)
    {
        var entry = new Dictionary<string, object?> { ["version"] = (long)version };
        if (withHashes)
        {
            entry["length"] = (long)bytes.Length;
            entry["hashes"] = new Dictionary<string, object?> { ["sha256"] = Sha256Digest.Compute(bytes).ToHex() };
        }

        return entry;
    }

    /// <summary>Re-signs a role's file after <paramref name="edit"/> changes its signed body.</summary>
    public void Resign(string file, Action<Dictionary<string, object?>> edit, IEnumerable<TestKey> signers)
    {
        var signed = Parse(Source.Files[file]);
        edit(signed);
        Source.Files[file] = Envelope(signed, signers);
    }

    public Updater NewUpdater(RecordingStore? store = null, TufUpdaterOptions? options = null) =>
        new(TrustedState.FromRoot(RootV1, options), Source, Clock, options, store);
}
