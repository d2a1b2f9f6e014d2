using Enclave.Airlock.Tuf;
using Enclave.Signing.Keys;

namespace Enclave.Airlock.Tests.Tuf;

/// <summary>
/// The metadata parser's schema checks one field at a time: each refusal with its reason and the message that says
/// where (the path of the field), each bound at its value and one past it, and the shapes the specification allows.
/// </summary>
public sealed class MetadataParserEdgeTests : UpdaterTestBase
{
    private static readonly TufUpdaterOptions Options = TufUpdaterOptions.Default;

    private Dictionary<string, object?> Signed(string file) => TufTestRepository.Parse(Repo.Source.Files[file]);

    private byte[] Timestamp(Action<Dictionary<string, object?>> edit)
    {
        var signed = Signed("timestamp.json");
        edit(signed);
        return TufTestRepository.Envelope(signed, Repo.Keys["timestamp"]);
    }

    private static AirlockRejectedException Refused(AirlockRejection reason, Action parse)
    {
        var e = Assert.Throws<AirlockRejectedException>(parse);
        Assert.True(reason == e.Reason, $"expected {reason}, got {e.Reason}: {e.Detail}");
        return e;
    }

    private static Dictionary<string, object?> Obj(object? value) => (Dictionary<string, object?>)value!;

    // ---- common fields ----

    [Theory]
    [InlineData("1.0")]
    [InlineData("1.0.31")]
    [InlineData("1.20")]
    public void SpecVersion_OneDotAnything_IsAccepted(string version)
    {
        Assert.Equal(version, TufMetadataParser.ParseTimestamp(Timestamp(s => s["spec_version"] = version), Options).SpecVersion);
    }

    [Theory]
    [InlineData("1")]
    [InlineData("2.0.0")]
    [InlineData("1.0.0.0")]
    [InlineData("1..0")]
    [InlineData("1.0.")]
    [InlineData("1.a.0")]
    [InlineData("1.0a")]
    [InlineData("1.x1.0")]
    [InlineData("01.0")]
    [InlineData("")]
    public void SpecVersion_OtherThanOneDotDigits_IsRefused(string version)
    {
        var e = Refused(AirlockRejection.Malformed, () => TufMetadataParser.ParseTimestamp(Timestamp(s => s["spec_version"] = version), Options));

        Assert.Equal($"malformed metadata: timestamp has spec_version \"{version}\"; only 1.x is supported", e.Detail);
    }

    [Theory]
    [InlineData("2026-01-01T00:00:00+00:00")]
    [InlineData("2026-01-01 00:00:00Z")]
    [InlineData("2026-01-01T00:00:00.5Z")]
    [InlineData("2026-13-01T00:00:00Z")]
    public void Expires_OtherThanTheSpecForm_IsRefused(string expires)
    {
        var e = Refused(AirlockRejection.Malformed, () => TufMetadataParser.ParseTimestamp(Timestamp(s => s["expires"] = expires), Options));

        Assert.Equal($"malformed metadata: timestamp.expires \"{expires}\" is not YYYY-MM-DDTHH:MM:SSZ", e.Detail);
    }

    [Fact]
    public void Expires_IsReadAsUtc()
    {
        var timestamp = TufMetadataParser.ParseTimestamp(Timestamp(s => s["expires"] = "2030-02-03T04:05:06Z"), Options);

        Assert.Equal(new DateTimeOffset(2030, 2, 3, 4, 5, 6, TimeSpan.Zero), timestamp.Expires);
        Assert.Equal(TimeSpan.Zero, timestamp.Expires.Offset);
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(-1L)]
    [InlineData(2147483648L)]
    public void Version_OutsideOneToIntMax_IsRefused(long version)
    {
        var e = Refused(AirlockRejection.Malformed, () => TufMetadataParser.ParseTimestamp(Timestamp(s => s["version"] = version), Options));

        Assert.Equal($"malformed metadata: timestamp.version must be an integer from 1 to 2147483647, got {version}", e.Detail);
    }

    [Fact]
    public void Version_OfIntMax_IsAccepted()
    {
        Assert.Equal(int.MaxValue, TufMetadataParser.ParseTimestamp(Timestamp(s => s["version"] = (long)int.MaxValue), Options).Version);
    }

    [Fact]
    public void Type_OfAnotherRole_IsRefused_NamingBoth()
    {
        var e = Refused(AirlockRejection.Malformed, () => TufMetadataParser.ParseTimestamp(Timestamp(s => s["_type"] = "snapshot"), Options));

        Assert.Equal("malformed metadata: timestamp has _type \"snapshot\", expected \"timestamp\"", e.Detail);
    }

    [Fact]
    public void Signatures_MayBeExactlyTheBound_AndNotOneMore()
    {
        var twoKeys = TufTestRepository.Envelope(Signed("timestamp.json"), [Repo.Keys["timestamp"][0], TestKey.Ed25519()]);

        Assert.Equal(2, TufMetadataParser.ParseTimestamp(twoKeys, Options with { MaxSignatures = 2 }).Signatures.Count);
        var e = Refused(AirlockRejection.Oversized, () => TufMetadataParser.ParseTimestamp(twoKeys, Options with { MaxSignatures = 1 }));
        Assert.Equal("oversized metadata: timestamp carries 2 signatures, more than the limit of 1", e.Detail);
    }

    [Fact]
    public void Signatures_AreKeptInOrder_WithTheirKeyIdsAndHex()
    {
        var second = TestKey.Ed25519();
        var bytes = TufTestRepository.Envelope(Signed("timestamp.json"), [Repo.Keys["timestamp"][0], second]);

        var timestamp = TufMetadataParser.ParseTimestamp(bytes, Options);

        Assert.Equal([Repo.Keys["timestamp"][0].KeyId, second.KeyId], timestamp.Signatures.Select(s => s.KeyId));
        Assert.All(timestamp.Signatures, s => Assert.NotEmpty(Convert.FromHexString(s.SignatureHex)));
        Assert.Equal(bytes, timestamp.Bytes.ToArray());
    }

    // ---- root ----

    [Theory]
    [InlineData("root")]
    [InlineData("timestamp")]
    [InlineData("snapshot")]
    [InlineData("targets")]
    public void Root_WithoutATopLevelRole_IsRefused_NamingIt(string role)
    {
        var root = Repo.RootSigned();
        Obj(root["roles"]).Remove(role);

        var e = Refused(AirlockRejection.Malformed, () => TufMetadataParser.ParseRoot(TufTestRepository.Envelope(root, Repo.Keys["root"]), Options));

        Assert.Equal($"malformed metadata: root.roles has no \"{role}\" role", e.Detail);
    }

    [Fact]
    public void Root_RoleRefusals_SayWhichRoleAndWhy()
    {
        var root = Repo.RootSigned();
        var keyIds = (List<object?>)Obj(Obj(root["roles"])["snapshot"])["keyids"]!;
        var keyId = (string)keyIds[0]!;
        keyIds.Add(keyId);
        var e = Refused(AirlockRejection.Malformed, () => TufMetadataParser.ParseRoot(TufTestRepository.Envelope(root, Repo.Keys["root"]), Options));
        Assert.Equal("malformed metadata: root.roles.snapshot.keyids lists a key ID twice", e.Detail);

        keyIds.RemoveAt(1);
        var unknown = (keyId[0] == 'a' ? "b" : "a") + keyId[1..];
        keyIds.Add(unknown);
        e = Refused(AirlockRejection.Malformed, () => TufMetadataParser.ParseRoot(TufTestRepository.Envelope(root, Repo.Keys["root"]), Options));
        Assert.Equal($"malformed metadata: root.roles.snapshot.keyids names key {TufKey.Short(unknown)}, which is not in the keys object", e.Detail);

        keyIds.RemoveAt(1);
        Obj(Obj(root["roles"])["snapshot"])["threshold"] = 0L;
        e = Refused(AirlockRejection.Malformed, () => TufMetadataParser.ParseRoot(TufTestRepository.Envelope(root, Repo.Keys["root"]), Options));
        Assert.Equal("malformed metadata: root.roles.snapshot.threshold must be an integer from 1 to 2147483647, got 0", e.Detail);
    }

    [Fact]
    public void Root_ConsistentSnapshot_IsFalseWhenAbsent_AndMustBeABoolean()
    {
        var root = Repo.RootSigned();
        root.Remove("consistent_snapshot");
        Assert.False(TufMetadataParser.ParseRoot(TufTestRepository.Envelope(root, Repo.Keys["root"]), Options).ConsistentSnapshot);

        root["consistent_snapshot"] = true;
        Assert.True(TufMetadataParser.ParseRoot(TufTestRepository.Envelope(root, Repo.Keys["root"]), Options).ConsistentSnapshot);

        root["consistent_snapshot"] = "yes";
        var e = Refused(AirlockRejection.Malformed, () => TufMetadataParser.ParseRoot(TufTestRepository.Envelope(root, Repo.Keys["root"]), Options));
        Assert.Equal("malformed metadata: root.consistent_snapshot is not a boolean", e.Detail);
    }

    [Fact]
    public void Root_Keys_MayBeExactlyTheBound_AndNotOneMore()
    {
        var bytes = Repo.RootV1;
        var count = Obj(Signed("1.root.json")["keys"]).Count;

        Assert.Equal(count, TufMetadataParser.ParseRoot(bytes, Options with { MaxKeys = count }).Keys.Count);
        var e = Refused(AirlockRejection.Oversized, () => TufMetadataParser.ParseRoot(bytes, Options with { MaxKeys = count - 1 }));
        Assert.Equal($"oversized metadata: root.keys has {count} keys, more than the limit of {count - 1}", e.Detail);
    }

    // ---- timestamp and snapshot ----

    [Fact]
    public void Timestamp_WithoutSnapshotJson_IsRefused()
    {
        var e = Refused(AirlockRejection.Malformed, () => TufMetadataParser.ParseTimestamp(Timestamp(s => s["meta"] = new Dictionary<string, object?>()), Options));

        Assert.Equal("malformed metadata: timestamp.meta has no \"snapshot.json\"", e.Detail);
    }

    [Fact]
    public void MetaFile_ReadsVersionLengthAndHashes_AndRefusesANegativeLengthOrVersionZero()
    {
        var meta = TufMetadataParser.ParseTimestamp(Repo.Source.Files["timestamp.json"], Options).SnapshotMeta;
        Assert.Equal((1, (long?)Repo.Source.Files["snapshot.json"].Length), (meta.Version, meta.Length));
        Assert.Equal(["sha256"], meta.Hashes!.Keys);

        var zero = TufMetadataParser.ParseTimestamp(Timestamp(s => Obj(Obj(s["meta"])["snapshot.json"])["length"] = 0L), Options).SnapshotMeta;
        Assert.Equal(0L, zero.Length);

        var e = Refused(AirlockRejection.Malformed, () => TufMetadataParser.ParseTimestamp(Timestamp(s => Obj(Obj(s["meta"])["snapshot.json"])["length"] = -1L), Options));
        Assert.Equal("malformed metadata: timestamp.meta[\"snapshot.json\"].length is negative", e.Detail);

        e = Refused(AirlockRejection.Malformed, () => TufMetadataParser.ParseTimestamp(Timestamp(s => Obj(Obj(s["meta"])["snapshot.json"])["version"] = 0L), Options));
        Assert.Equal("malformed metadata: timestamp.meta[\"snapshot.json\"].version must be an integer from 1 to 2147483647, got 0", e.Detail);

        e = Refused(AirlockRejection.Malformed, () => TufMetadataParser.ParseTimestamp(Timestamp(s => Obj(Obj(s["meta"])["snapshot.json"])["hashes"] = new Dictionary<string, object?>()), Options));
        Assert.Equal("malformed metadata: timestamp.meta[\"snapshot.json\"].hashes is empty", e.Detail);
    }

    [Fact]
    public void Snapshot_Entries_MayBeExactlyTheBound_AndNotOneMore()
    {
        Repo.Delegations.Add(new TestDelegation { Name = "models", Paths = ["models/*"] });
        Repo.Publish();
        var bytes = Repo.Source.Files["snapshot.json"];

        Assert.Equal(2, TufMetadataParser.ParseSnapshot(bytes, bytes.Length, Options with { MaxEntries = 2 }).Meta.Count);
        var e = Refused(AirlockRejection.Oversized, () => TufMetadataParser.ParseSnapshot(bytes, bytes.Length, Options with { MaxEntries = 1 }));
        Assert.Equal("oversized metadata: snapshot.meta has 2 entries, more than the limit of 1", e.Detail);
        e = Refused(AirlockRejection.Oversized, () => TufMetadataParser.ParseSnapshot(bytes, bytes.Length - 1, Options));
        Assert.Equal($"oversized metadata: snapshot is {bytes.Length} bytes, more than the limit of {bytes.Length - 1}", e.Detail);
    }

    // ---- targets ----

    private byte[] Targets(Action<Dictionary<string, object?>> edit)
    {
        var signed = Repo.TargetsSigned("targets");
        edit(signed);
        return TufTestRepository.Envelope(signed, Repo.Keys["targets"]);
    }

    private static Dictionary<string, object?> Target(Dictionary<string, object?> signed) => Obj(Obj(signed["targets"])["models/demo.onnx"]);

    [Fact]
    public void Targets_Entries_MayBeExactlyTheBound_AndNotOneMore()
    {
        var bytes = Targets(s => Obj(s["targets"])["second"] = TufTestRepository.TargetEntry([1]));

        Assert.Equal(2, TufMetadataParser.ParseTargets(bytes, "targets", bytes.Length, Options with { MaxEntries = 2 }).Targets.Count);
        var e = Refused(AirlockRejection.Oversized, () => TufMetadataParser.ParseTargets(bytes, "targets", bytes.Length, Options with { MaxEntries = 1 }));
        Assert.Equal("oversized metadata: targets.targets has 2 entries, more than the limit of 1", e.Detail);
    }

    [Fact]
    public void Targets_EntryRefusals_NameThePath()
    {
        var e = Refused(AirlockRejection.Malformed, () => TufMetadataParser.ParseTargets(Targets(s => Target(s)["length"] = -1L), "targets", 1 << 20, Options));
        Assert.Equal("malformed metadata: targets.targets[\"models/demo.onnx\"].length is negative", e.Detail);

        e = Refused(AirlockRejection.Malformed, () => TufMetadataParser.ParseTargets(Targets(s => Target(s).Remove("hashes")), "targets", 1 << 20, Options));
        Assert.Equal("malformed metadata: targets.targets[\"models/demo.onnx\"] has no \"hashes\"", e.Detail);

        e = Refused(AirlockRejection.Malformed, () => TufMetadataParser.ParseTargets(Targets(s => Target(s)["hashes"] = new Dictionary<string, object?> { ["sha256"] = 5L }), "targets", 1 << 20, Options));
        Assert.Equal("malformed metadata: targets.targets[\"models/demo.onnx\"].hashes.sha256 is not a string", e.Detail);
    }

    [Fact]
    public void Targets_OfLengthZero_WithCustom_AreRead()
    {
        var bytes = Targets(s =>
        {
            Target(s)["length"] = 0L;
            Target(s)["custom"] = new Dictionary<string, object?> { ["b"] = 1L, ["a"] = "x" };
        });

        var target = TufMetadataParser.ParseTargets(bytes, "targets", bytes.Length, Options).Targets["models/demo.onnx"];

        Assert.Equal((0L, "{\"a\":\"x\",\"b\":1}", "targets"), (target.Length, target.CustomJson, target.Role));
    }

    [Fact]
    public void Delegations_RefuseBadNames_AndPathsTogetherWithHashPrefixes()
    {
        Repo.Delegations.Add(new TestDelegation { Name = "models", Paths = ["models/*"] });
        Dictionary<string, object?> Role(Dictionary<string, object?> s) => Obj(((List<object?>)Obj(s["delegations"])["roles"]!)[0]);

        foreach (var name in new[] { "", "root", "targets" })
        {
            var e = Refused(AirlockRejection.DelegationViolation, () => TufMetadataParser.ParseTargets(Targets(s => Role(s)["name"] = name), "targets", 1 << 20, Options));
            Assert.Equal($"delegation violation: targets.delegations.roles[0] has name \"{name}\", which is empty, a top-level role name or a duplicate", e.Detail);
        }

        var both = Refused(AirlockRejection.Malformed, () => TufMetadataParser.ParseTargets(Targets(s => Role(s)["path_hash_prefixes"] = new List<object?> { "ab" }), "targets", 1 << 20, Options));
        Assert.Equal("malformed metadata: targets.delegations.roles[0] has both \"paths\" and \"path_hash_prefixes\"", both.Detail);

        var nonString = Refused(AirlockRejection.Malformed, () => TufMetadataParser.ParseTargets(Targets(s => Role(s)["paths"] = new List<object?> { 1L }), "targets", 1 << 20, Options));
        Assert.Equal("malformed metadata: targets.delegations.roles[0].paths holds a non-string", nonString.Detail);

        var noTerminating = Refused(AirlockRejection.Malformed, () => TufMetadataParser.ParseTargets(Targets(s => Role(s).Remove("terminating")), "targets", 1 << 20, Options));
        Assert.Equal("malformed metadata: targets.delegations.roles[0].terminating is not a boolean", noTerminating.Detail);
    }

    [Fact]
    public void Delegations_RefuseTwoRolesOfOneName_AndMoreRolesThanTheBound()
    {
        Repo.Delegations.Add(new TestDelegation { Name = "models", Paths = ["models/*"] });
        Repo.Delegations.Add(new TestDelegation { Name = "other", Paths = ["other/*"] });
        var roles = (List<object?>)Obj(Repo.TargetsSigned("targets")["delegations"])["roles"]!;
        Assert.Equal(2, roles.Count);

        var e = Refused(AirlockRejection.DelegationViolation, () => TufMetadataParser.ParseTargets(Targets(s => Obj(((List<object?>)Obj(s["delegations"])["roles"]!)[1])["name"] = "models"), "targets", 1 << 20, Options));
        Assert.Equal("delegation violation: targets.delegations.roles[1] has name \"models\", which is empty, a top-level role name or a duplicate", e.Detail);

        var bytes = Targets(_ => { });
        Assert.Equal(2, TufMetadataParser.ParseTargets(bytes, "targets", 1 << 20, Options with { MaxDelegations = 2 }).Delegations!.Roles.Count);
        e = Refused(AirlockRejection.LimitExceeded, () => TufMetadataParser.ParseTargets(bytes, "targets", 1 << 20, Options with { MaxDelegations = 1 }));
        Assert.Equal("delegation limit: targets.delegations delegates to 2 roles, more than the limit of 1", e.Detail);
    }

    [Fact]
    public void Delegations_ReadPathsOrHashPrefixes_AndTerminating()
    {
        Repo.Delegations.Add(new TestDelegation { Name = "models", Paths = ["models/*", "weights/*"], Terminating = true });
        Repo.Delegations.Add(new TestDelegation { Name = "hashed", PathHashPrefixes = ["ab", "cd"] });
        var bytes = Targets(_ => { });

        var roles = TufMetadataParser.ParseTargets(bytes, "targets", bytes.Length, Options).Delegations!.Roles;

        Assert.Equal(("models", true, 2), (roles[0].Name, roles[0].Terminating, roles[0].Paths!.Count));
        Assert.Null(roles[0].PathHashPrefixes);
        Assert.Equal(("hashed", false, 2), (roles[1].Name, roles[1].Terminating, roles[1].PathHashPrefixes!.Count));
        Assert.Null(roles[1].Paths);
    }

    // ---- every nested field's shape, by the path its refusal names ----

    private static List<object?> Arr(object? value) => (List<object?>)value!;

    private static Dictionary<string, object?> FirstDelegatedRole(Dictionary<string, object?> targets) =>
        Obj(Arr(Obj(targets["delegations"])["roles"])[0]);

    /// <summary>Each case: the file it edits, the edit (of the signed body, or of the whole document) and the exact refusal.</summary>
    private static readonly Dictionary<string, (string File, Action<Dictionary<string, object?>> Edit, bool WholeDocument, string Message)> ShapeCases = new()
    {
        ["document"] = ("timestamp.json", d => d.Clear(), true, "timestamp has no \"signed\""),
        ["signed"] = ("timestamp.json", d => d["signed"] = "x", true, "timestamp.signed is not an object"),
        ["signatures"] = ("timestamp.json", d => d["signatures"] = new Dictionary<string, object?>(), true, "timestamp.signatures is not an array"),
        ["no signatures"] = ("timestamp.json", d => d.Remove("signatures"), true, "timestamp has no \"signatures\""),
        ["signature"] = ("timestamp.json", d => Arr(d["signatures"])[0] = "x", true, "timestamp.signatures[0] is not an object"),
        ["keyid"] = ("timestamp.json", d => Obj(Arr(d["signatures"])[0]).Remove("keyid"), true, "timestamp.signatures[0] has no \"keyid\""),
        ["sig"] = ("timestamp.json", d => Obj(Arr(d["signatures"])[0])["sig"] = 1L, true, "timestamp.signatures[0].sig is not a string"),
        ["no root keys"] = ("1.root.json", s => s.Remove("keys"), false, "root has no \"keys\""),
        ["no root roles"] = ("1.root.json", s => s.Remove("roles"), false, "root has no \"roles\""),
        ["no timestamp meta"] = ("timestamp.json", s => s.Remove("meta"), false, "timestamp has no \"meta\""),
        ["no snapshot meta"] = ("snapshot.json", s => s.Remove("meta"), false, "snapshot has no \"meta\""),
        ["root keys"] = ("1.root.json", s => s["keys"] = new List<object?>(), false, "root.keys is not an object"),
        ["root roles"] = ("1.root.json", s => s["roles"] = new List<object?>(), false, "root.roles is not an object"),
        ["root role"] = ("1.root.json", s => Obj(s["roles"])["snapshot"] = 1L, false, "root.roles.snapshot is not an object"),
        ["keyids"] = ("1.root.json", s => Obj(Obj(s["roles"])["targets"])["keyids"] = "x", false, "root.roles.targets.keyids is not an array"),
        ["keyid type"] = ("1.root.json", s => Obj(Obj(s["roles"])["targets"])["keyids"] = new List<object?> { 1L }, false, "root.roles.targets.keyids holds a non-string"),
        ["timestamp meta"] = ("timestamp.json", s => s["meta"] = new List<object?>(), false, "timestamp.meta is not an object"),
        ["meta length"] = ("timestamp.json", s => Obj(Obj(s["meta"])["snapshot.json"])["length"] = "1", false, "timestamp.meta[\"snapshot.json\"].length is not an integer"),
        ["snapshot meta"] = ("snapshot.json", s => s["meta"] = new List<object?>(), false, "snapshot.meta is not an object"),
        ["snapshot entry"] = ("snapshot.json", s => Obj(Obj(s["meta"])["targets.json"])["version"] = 0L, false, "snapshot.meta[\"targets.json\"].version must be an integer from 1 to 2147483647, got 0"),
        ["targets"] = ("targets.json", s => s["targets"] = new List<object?>(), false, "targets.targets is not an object"),
        ["target"] = ("targets.json", s => Obj(s["targets"])["models/demo.onnx"] = 1L, false, "targets.targets[\"models/demo.onnx\"] is not an object"),
        ["delegations"] = ("targets.json", s => s["delegations"] = new List<object?>(), false, "targets.delegations is not an object"),
        ["delegated keys"] = ("targets.json", s => Obj(s["delegations"])["keys"] = new List<object?>(), false, "targets.delegations.keys is not an object"),
        ["delegated roles"] = ("targets.json", s => Obj(s["delegations"])["roles"] = new Dictionary<string, object?>(), false, "targets.delegations.roles is not an array"),
        ["delegated role"] = ("targets.json", s => Arr(Obj(s["delegations"])["roles"])[0] = "x", false, "targets.delegations.roles[0] is not an object"),
        ["role name"] = ("targets.json", s => FirstDelegatedRole(s)["name"] = 1L, false, "targets.delegations.roles[0].name is not a string"),
        ["role keyids"] = ("targets.json", s => FirstDelegatedRole(s).Remove("keyids"), false, "targets.delegations.roles[0] has no \"keyids\""),
        ["prefixes"] = ("targets.json", s => { FirstDelegatedRole(s).Remove("paths"); FirstDelegatedRole(s)["path_hash_prefixes"] = new List<object?> { 1L }; }, false, "targets.delegations.roles[0].path_hash_prefixes holds a non-string"),
    };

    public static TheoryData<string> ShapeCaseNames => [.. ShapeCases.Keys];

    [Theory]
    [MemberData(nameof(ShapeCaseNames))]
    public void NestedFields_OfTheWrongShape_AreRefused_NamingTheirPath(string name)
    {
        Repo.Delegations.Add(new TestDelegation { Name = "models", Paths = ["models/*"] });
        Repo.Publish();
        var (file, edit, wholeDocument, message) = ShapeCases[name];
        var document = (Dictionary<string, object?>)TufJson.Parse(Repo.Source.Files[file], 64)!;
        edit(wholeDocument ? document : Obj(document["signed"]));
        var bytes = TestJson.Serialize(document);

        Action parse = file switch
        {
            "1.root.json" => () => TufMetadataParser.ParseRoot(bytes, Options),
            "timestamp.json" => () => TufMetadataParser.ParseTimestamp(bytes, Options),
            "snapshot.json" => () => TufMetadataParser.ParseSnapshot(bytes, bytes.Length, Options),
            _ => () => TufMetadataParser.ParseTargets(bytes, "targets", bytes.Length, Options),
        };

        Assert.Equal("malformed metadata: " + message, Refused(AirlockRejection.Malformed, parse).Detail);
    }

    [Fact]
    public void AKeyThatDoesNotParse_IsRefused_NamingItsPlaceAndShortId()
    {
        var root = Repo.RootSigned();
        var keyId = Repo.Keys["timestamp"][0].KeyId;
        Obj(Obj(root["keys"])[keyId]).Remove("scheme");

        var e = Refused(AirlockRejection.Malformed, () => TufMetadataParser.ParseRoot(TufTestRepository.Envelope(root, Repo.Keys["root"]), Options));

        Assert.Equal($"malformed metadata: root.keys[{TufKey.Short(keyId)}] has no \"scheme\"", e.Detail);
    }

    [Fact]
    public void DelegatedKeys_MayBeExactlyTheBound_AndNotOneMore_AndAreNamedByTheirPath()
    {
        Repo.Delegations.Add(new TestDelegation { Name = "models", Paths = ["models/*"], Keys = [TestKey.Ed25519(), TestKey.Ed25519()], Threshold = 2 });
        var bytes = Targets(_ => { });

        Assert.Equal(2, TufMetadataParser.ParseTargets(bytes, "targets", bytes.Length, Options with { MaxKeys = 2 }).Delegations!.Keys.Count);
        var e = Refused(AirlockRejection.Oversized, () => TufMetadataParser.ParseTargets(bytes, "targets", bytes.Length, Options with { MaxKeys = 1 }));
        Assert.Equal("oversized metadata: targets.delegations.keys has 2 keys, more than the limit of 1", e.Detail);
    }

    [Fact]
    public void Parse_KeepsTheSignedBodyExactlyAsReceived_AndItsCanonicalForm()
    {
        var bytes = Repo.Source.Files["timestamp.json"];
        var text = System.Text.Encoding.UTF8.GetString(bytes);

        var timestamp = TufMetadataParser.ParseTimestamp(bytes, Options);

        var raw = System.Text.Encoding.UTF8.GetString(timestamp.RawSigned);
        Assert.StartsWith("{", raw, StringComparison.Ordinal);
        Assert.EndsWith("}", raw, StringComparison.Ordinal);
        Assert.Contains(raw, text, StringComparison.Ordinal);
        Assert.Equal(TufJson.Canonicalize(Signed("timestamp.json")), timestamp.CanonicalSigned);
        Assert.Equal(Signed("timestamp.json").Keys, timestamp.Signed.Keys);
    }
}
