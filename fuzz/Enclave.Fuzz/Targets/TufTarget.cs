using System.Text;
using Enclave.Airlock.Tuf;
using Enclave.Signing.Keys;

namespace Enclave.Fuzz.Targets;

/// <summary>
/// TUF metadata (root, timestamp, snapshot, targets with delegations) and the airlock's own JSON reader under it:
/// rejection is <see cref="AirlockRejectedException"/>. Each input goes to every role's parser (a wrong
/// <c>_type</c> is refused at once). Key IDs are not required to match their keys here, so that a mutated key
/// still reaches the key parsers; the canonical form of what parses must be a fixed point.
/// </summary>
internal static class TufTarget
{
    private const string Ed25519Public = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

    private static readonly TufUpdaterOptions Options = new()
    {
        MaxRootBytes = 64 * 1024,
        MaxTimestampBytes = 64 * 1024,
        MaxSnapshotBytes = 64 * 1024,
        MaxTargetsBytes = 64 * 1024,
        RequireKeyIdMatchesKey = false,
    };

    public static Harness Harness { get; } = new()
    {
        Name = "tuf",
        Parser = "Enclave.Airlock.Tuf.TufMetadataParser, TufJson, TufKey",
        Run = Run,
        Seeds = () =>
        [
            ("root.json", Envelope(Root())),
            ("timestamp.json", Envelope(Common("timestamp", new Dictionary<string, object?> { ["meta"] = Map(("snapshot.json", MetaFile(3))) }))),
            ("snapshot.json", Envelope(Common("snapshot", new Dictionary<string, object?> { ["meta"] = Map(("targets.json", MetaFile(2)), ("team.json", MetaFile(1))) }))),
            ("targets.json", Envelope(Targets())),
        ],
    };

    private static void Run(byte[] input)
    {
        try
        {
            var value = TufJson.Parse(input, Options.MaxJsonDepth);
            var canonical = TufJson.Canonicalize(value);
            var again = TufJson.Canonicalize(TufJson.Parse(canonical, Options.MaxJsonDepth));
            if (!again.AsSpan().SequenceEqual(canonical))
            {
                throw new FuzzFindingException("TUF canonical JSON is not a fixed point");
            }
        }
        catch (AirlockRejectedException)
        {
            return;
        }

        Try(() => TufMetadataParser.ParseRoot(input, Options));
        Try(() => TufMetadataParser.ParseTimestamp(input, Options));
        Try(() => TufMetadataParser.ParseSnapshot(input, Options.MaxSnapshotBytes, Options));
        Try(() => TufMetadataParser.ParseTargets(input, "targets", Options.MaxTargetsBytes, Options));
        Try(() => TufMetadataParser.ParseTargets(input, "team", Options.MaxTargetsBytes, Options));
    }

    private static void Try(Action parse)
    {
        try
        {
            parse();
        }
        catch (AirlockRejectedException)
        {
        }
    }

    private static Dictionary<string, object?> Map(params (string Key, object? Value)[] entries)
    {
        var map = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (key, value) in entries)
        {
            map[key] = value;
        }

        return map;
    }

    private static Dictionary<string, object?> Key() =>
        Map(("keytype", "ed25519"), ("scheme", "ed25519"), ("keyval", Map(("public", Ed25519Public))));

    private static string KeyId() => TufKey.ComputeKeyId(Key());

    private static Dictionary<string, object?> MetaFile(long version) =>
        Map(("version", version), ("length", 512L), ("hashes", Map(("sha256", new string('a', 64)))));

    private static Dictionary<string, object?> Common(string type, Dictionary<string, object?> signed)
    {
        signed["_type"] = type;
        signed["spec_version"] = "1.0.31";
        signed["version"] = 2L;
        signed["expires"] = "2030-01-01T00:00:00Z";
        return signed;
    }

    private static Dictionary<string, object?> Root()
    {
        var role = Map(("keyids", new List<object?> { KeyId() }), ("threshold", 1L));
        return Common("root", Map(
            ("consistent_snapshot", true),
            ("keys", Map((KeyId(), Key()))),
            ("roles", Map(("root", role), ("timestamp", role), ("snapshot", role), ("targets", role)))));
    }

    private static Dictionary<string, object?> Targets()
    {
        var delegated = Map(
            ("name", "team"), ("keyids", new List<object?> { KeyId() }), ("threshold", 1L), ("terminating", true),
            ("paths", new List<object?> { "models/team/*" }));
        var target = Map(("length", 27L), ("hashes", Map(("sha256", new string('b', 64)))), ("custom", Map(("label", "UNCLASSIFIED"))));
        var delegations = Map(("keys", Map((KeyId(), Key()))), ("roles", new List<object?> { delegated }));
        return Common("targets", Map(("targets", Map(("models/demo/model.onnx", target))), ("delegations", delegations)));
    }

    private static byte[] Envelope(Dictionary<string, object?> signed)
    {
        var envelope = Map(("signed", signed), ("signatures", new List<object?> { Map(("keyid", KeyId()), ("sig", new string('c', 128))) }));
        return Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(TufJson.Canonicalize(envelope)));
    }
}
