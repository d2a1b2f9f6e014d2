using System.Text;
using Enclave.Airlock.Tuf;
using Enclave.Core;

namespace Enclave.Airlock.Tests.Tuf;

/// <summary>The attack corpus: each case asserts the rejection reason and that the trusted state did not change.</summary>
public sealed class UpdaterAttackTests : UpdaterTestBase
{
    private static byte[] Replace(byte[] bytes, string from, string to)
    {
        var text = Encoding.UTF8.GetString(bytes);
        Assert.Contains(from, text, StringComparison.Ordinal);
        return Encoding.UTF8.GetBytes(text.Replace(from, to, StringComparison.Ordinal));
    }

    // ---- signatures and thresholds ----

    [Fact]
    public void Refresh_RejectsTamperedTimestampBody_AsBadSignature()
    {
        var updater = Refreshed();
        NextRelease();
        var ts = Repo.Source.Files["timestamp.json"];
        Repo.Source.Files["timestamp.json"] = Replace(ts, "\"version\": 2,", "\"version\": 3,");

        Rejected(updater, AirlockRejection.BadSignature, () => updater.Refresh());
    }

    [Fact]
    public void Refresh_RejectsTamperedTargetsBody_SignedByRsaPss_AsBadSignature()
    {
        var updater = Refreshed();
        NextRelease();
        var targets = TufTestRepository.Parse(Repo.Source.Files["targets.json"]);
        var original = Repo.Source.Files["targets.json"];
        targets["expires"] = TufTestRepository.Iso(TufTestRepository.Start.AddYears(5));
        var doc = (Dictionary<string, object?>)TufJson.Parse(original, 64)!;
        doc["signed"] = targets;
        Repo.Source.Files["targets.json"] = TestJson.Serialize(doc);

        Rejected(updater, AirlockRejection.BadSignature, () => updater.Refresh());
    }

    [Fact]
    public void Refresh_RejectsFlippedByteInEcdsaSignature_AsBadSignature()
    {
        var updater = Refreshed();
        NextRelease();
        var doc = (Dictionary<string, object?>)TufJson.Parse(Repo.Source.Files["timestamp.json"], 64)!;
        var sig = (Dictionary<string, object?>)((List<object?>)doc["signatures"]!)[0]!;
        var hex = (string)sig["sig"]!;
        sig["sig"] = hex[..^2] + (hex[^2..] == "00" ? "01" : "00");
        Repo.Source.Files["timestamp.json"] = TestJson.Serialize(doc);

        Rejected(updater, AirlockRejection.BadSignature, () => updater.Refresh());
    }

    [Fact]
    public void Refresh_RejectsMissingSignatures_AsBelowThreshold()
    {
        var updater = Refreshed();
        NextRelease();
        Repo.Resign("timestamp.json", _ => { }, []);

        Rejected(updater, AirlockRejection.BelowThreshold, () => updater.Refresh());
    }

    [Fact]
    public void Refresh_RejectsSignatureByUnauthorisedKey_AsBelowThreshold()
    {
        var updater = Refreshed();
        NextRelease();
        Repo.Resign("timestamp.json", _ => { }, [TestKey.Ecdsa()]);

        Rejected(updater, AirlockRejection.BelowThreshold, () => updater.Refresh());
    }

    [Fact]
    public void Refresh_RejectsWrongKeyClaimingAnAuthorisedKeyId_AsBadSignature()
    {
        var updater = Refreshed();
        NextRelease();
        var signed = TufTestRepository.Parse(Repo.Source.Files["timestamp.json"]);
        var impostor = TestKey.Ecdsa();
        var sig = Convert.ToHexStringLower(impostor.SignRaw(TufJson.Canonicalize(signed)));
        var doc = new Dictionary<string, object?>
        {
            ["signed"] = signed,
            ["signatures"] = new List<object?> { new Dictionary<string, object?> { ["keyid"] = Repo.Keys["timestamp"][0].KeyId, ["sig"] = sig } },
        };
        Repo.Source.Files["timestamp.json"] = TestJson.Serialize(doc);

        Rejected(updater, AirlockRejection.BadSignature, () => updater.Refresh());
    }

    [Fact]
    public void Refresh_RejectsOneOfTwoRequiredSignatures_AsBelowThreshold()
    {
        Repo.Keys["snapshot"] = [TestKey.Ed25519(), TestKey.Ecdsa()];
        Repo.Thresholds["snapshot"] = 2;
        Repo.PublishRoot();
        Repo.Publish();
        var updater = Refreshed();
        NextRelease();
        Repo.Resign("snapshot.json", _ => { }, [Repo.Keys["snapshot"][1]]);
        Repo.PublishTimestamp();

        var e = Rejected(updater, AirlockRejection.BelowThreshold, () => updater.Refresh());
        Assert.Contains("1 of 2", e.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Refresh_RejectsSignaturesListingOneKeyIdThrice_AsMalformed()
    {
        Repo.Keys["snapshot"] = [TestKey.Ed25519(), TestKey.Ecdsa()];
        Repo.Thresholds["snapshot"] = 2;
        Repo.PublishRoot();
        Repo.Publish();
        var updater = Refreshed();
        NextRelease();
        var one = Repo.Keys["snapshot"][0];
        Repo.Resign("snapshot.json", _ => { }, [one, one, one]);
        Repo.PublishTimestamp();

        var e = Rejected(updater, AirlockRejection.Malformed, () => updater.Refresh());
        Assert.Contains("signatures[1] repeats key ID", e.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Refresh_RejectsAKeyIdListedTwice_EvenWhenTheDistinctSignaturesMeetTheThreshold()
    {
        // tuf-conformance: metadata whose signatures name the same key ID twice is invalid (key IDs are unique),
        // whatever the count of distinct valid signatures.
        Repo.Keys["snapshot"] = [TestKey.Ed25519(), TestKey.Ecdsa()];
        Repo.Thresholds["snapshot"] = 2;
        Repo.PublishRoot();
        Repo.Publish();
        var updater = Refreshed();
        NextRelease();
        var (one, two) = (Repo.Keys["snapshot"][0], Repo.Keys["snapshot"][1]);
        Repo.Resign("snapshot.json", _ => { }, [one, two, one]);
        Repo.PublishTimestamp();

        var e = Rejected(updater, AirlockRejection.Malformed, () => updater.Refresh());
        Assert.Contains("snapshot.signatures[2] repeats key ID", e.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void FromRoot_RejectsARootWhoseSignaturesListAKeyIdTwice()
    {
        var root = Repo.RootSigned();
        var key = Repo.Keys["root"][0];
        var bytes = TufTestRepository.Envelope(root, [key, key]);

        var e = Assert.Throws<AirlockRejectedException>(() => TrustedState.FromRoot(bytes));
        Assert.Equal(AirlockRejection.Malformed, e.Reason);
    }

    [Fact]
    public void FromRoot_RejectsRootNotSignedByItsOwnKeys()
    {
        var root = Repo.RootSigned();
        var bytes = TufTestRepository.Envelope(root, [TestKey.Ed25519()]);

        var e = Assert.Throws<AirlockRejectedException>(() => TrustedState.FromRoot(bytes));
        Assert.Equal(AirlockRejection.BelowThreshold, e.Reason);
    }

    // ---- expiry and freeze ----

    [Fact]
    public void Refresh_RejectsExpiredRoot()
    {
        var updater = Refreshed();
        NextRelease();
        Repo.Clock.Now = TufTestRepository.Start.AddDays(31);
        Repo.Expires["timestamp"] = Repo.Expires["snapshot"] = Repo.Expires["targets"] = TufTestRepository.Start.AddDays(90);
        Repo.Publish();

        Rejected(updater, AirlockRejection.Expired, () => updater.Refresh());
    }

    [Fact]
    public void Refresh_RejectsExpiredTimestamp_AsFreeze()
    {
        var updater = Refreshed();
        Repo.Expires["timestamp"] = TufTestRepository.Start.AddHours(2);
        NextRelease();
        Repo.Clock.Now = TufTestRepository.Start.AddHours(3);

        var e = Rejected(updater, AirlockRejection.Freeze, () => updater.Refresh());
        Assert.StartsWith("freeze: timestamp version 2 expired", e.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Refresh_RejectsReplayedStaleTimestamp_AsFreeze()
    {
        Repo.Expires["timestamp"] = TufTestRepository.Start.AddHours(2);
        Repo.Publish();
        var updater = Refreshed();
        Repo.Clock.Now = TufTestRepository.Start.AddDays(2); // the mirror keeps serving the same timestamp

        Rejected(updater, AirlockRejection.Freeze, () => updater.Refresh());
    }

    [Fact]
    public void Refresh_RejectsExpiredSnapshot()
    {
        var updater = Refreshed();
        Repo.Expires["snapshot"] = TufTestRepository.Start.AddHours(2);
        NextRelease();
        Repo.Clock.Now = TufTestRepository.Start.AddHours(3);

        Rejected(updater, AirlockRejection.Expired, () => updater.Refresh());
    }

    [Fact]
    public void Refresh_RejectsExpiredTargets()
    {
        var updater = Refreshed();
        Repo.Expires["targets"] = TufTestRepository.Start.AddHours(2);
        NextRelease();
        Repo.Clock.Now = TufTestRepository.Start.AddHours(3);

        Rejected(updater, AirlockRejection.Expired, () => updater.Refresh());
    }

    [Fact]
    public void RequireTarget_RejectsExpiredDelegatedRole()
    {
        var models = new TestDelegation { Name = "models", Paths = ["models/*"], Expires = TufTestRepository.Start.AddMinutes(30) };
        models.Targets["models/a"] = [1];
        Repo.Delegations.Add(models);
        Repo.Publish();
        var updater = Refreshed();

        Rejected(updater, AirlockRejection.Expired, () => updater.RequireTarget("models/a"));
    }

    // ---- rollback ----

    [Fact]
    public void Refresh_RejectsTimestampRollback()
    {
        NextRelease();
        var updater = Refreshed();
        Repo.Versions["timestamp"] = 1;
        Repo.PublishTimestamp();

        var e = Rejected(updater, AirlockRejection.Rollback, () => updater.Refresh());
        Assert.Equal("rollback: timestamp version 1 < trusted 2", e.Detail);
    }

    [Fact]
    public void Refresh_RejectsTimestampListingAnOlderSnapshot_AsRollback()
    {
        Repo.Versions["snapshot"] = 5;
        Repo.Publish();
        var updater = Refreshed();
        Repo.Versions["timestamp"]++;
        Repo.PublishTimestamp(snapshotVersion: 3);

        Rejected(updater, AirlockRejection.Rollback, () => updater.Refresh());
    }

    [Fact]
    public void Refresh_RejectsSnapshotRollback_WithTheOperatorMessage()
    {
        Repo.Versions["snapshot"] = 5;
        Repo.Publish();
        var updater = Refreshed();
        var old = TufTestRepository.Parse(Repo.Source.Files["snapshot.json"]);
        old["version"] = 3L;
        Repo.Source.Files["snapshot.json"] = TufTestRepository.Envelope(old, Repo.Keys["snapshot"]);
        Repo.Versions["timestamp"]++;
        Repo.PublishTimestamp(snapshotVersion: 6);

        var e = Rejected(updater, AirlockRejection.Rollback, () => updater.Refresh());
        Assert.Equal("rollback: snapshot version 3 < trusted 5", e.Detail);
    }

    [Fact]
    public void Refresh_RejectsSnapshotListingAnOlderTargetsVersion_AsRollback()
    {
        Repo.Versions["targets"] = 4;
        Repo.Publish();
        var updater = Refreshed();
        Repo.Versions["targets"] = 3;
        Repo.Versions["snapshot"]++;
        Repo.Versions["timestamp"]++;
        Repo.Publish();

        var e = Rejected(updater, AirlockRejection.Rollback, () => updater.Refresh());
        Assert.Contains("targets.json version 3 < trusted 4", e.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Refresh_RejectsSnapshotDroppingARole_AsRollback()
    {
        var models = new TestDelegation { Name = "models", Paths = ["models/*"] };
        Repo.Delegations.Add(models);
        Repo.Publish();
        var updater = Refreshed();
        Repo.Delegations.Clear();
        NextRelease();

        Rejected(updater, AirlockRejection.Rollback, () => updater.Refresh());
    }

    [Fact]
    public void Refresh_RejectsTargetsRollback_WhenAnOldSignedTargetsFileIsServed()
    {
        var oldTargets = Repo.Source.Files["targets.json"];
        Repo.Versions["targets"] = 2;
        Repo.Publish();
        var updater = Refreshed();
        NextRelease(); // snapshot 2 lists targets 3
        Repo.Source.Files["targets.json"] = oldTargets; // validly signed version 1

        var e = Rejected(updater, AirlockRejection.Rollback, () => updater.Refresh());
        Assert.Equal("rollback: targets version 1 < trusted 2", e.Detail);
    }

    [Fact]
    public void Refresh_RejectsRootClaimingAnOlderVersion_AsBadRootRotation()
    {
        var updater = Refreshed();
        Repo.Versions["root"] = 1;
        Repo.Source.Files["2.root.json"] = TufTestRepository.Envelope(Repo.RootSigned(), Repo.Keys["root"]);

        Rejected(updater, AirlockRejection.BadRootRotation, () => updater.Refresh());
    }

    // ---- mix-and-match ----

    [Fact]
    public void Refresh_RejectsTargetsVersionDifferentFromSnapshotMeta_AsMixAndMatch()
    {
        var updater = Refreshed();
        NextRelease();
        Repo.Versions["targets"] = 3;
        Repo.Source.Files["targets.json"] = TufTestRepository.Envelope(Repo.TargetsSigned("targets"), Repo.Keys["targets"]);

        var e = Rejected(updater, AirlockRejection.MixAndMatch, () => updater.Refresh());
        Assert.Contains("targets version 3 but snapshot 2 lists version 2", e.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Refresh_RejectsSnapshotVersionDifferentFromTimestampMeta_AsMixAndMatch()
    {
        var updater = Refreshed();
        NextRelease();
        Repo.Versions["timestamp"]++;
        Repo.PublishTimestamp(snapshotVersion: 3);

        Rejected(updater, AirlockRejection.MixAndMatch, () => updater.Refresh());
    }

    [Fact]
    public void RequireTarget_RejectsDelegatedRoleVersionDifferentFromSnapshot_AsMixAndMatch()
    {
        var models = new TestDelegation { Name = "models", Paths = ["models/*"] };
        models.Targets["models/a"] = [1];
        Repo.Delegations.Add(models);
        Repo.Publish();
        models.Version = 2;
        Repo.Source.Files["models.json"] = TufTestRepository.Envelope(Repo.TargetsSigned("models"), models.Keys);
        var updater = Refreshed();

        Rejected(updater, AirlockRejection.MixAndMatch, () => updater.RequireTarget("models/a"));
    }

    // ---- lengths and hashes of metadata ----

    [Fact]
    public void Refresh_RejectsSnapshotWhoseHashDiffersFromTimestamp()
    {
        var updater = Refreshed();
        NextRelease();
        var snapshot = TufTestRepository.Parse(Repo.Source.Files["snapshot.json"]);
        snapshot["expires"] = TufTestRepository.Iso(TufTestRepository.Start.AddDays(29));
        Repo.Source.Files["snapshot.json"] = TufTestRepository.Envelope(snapshot, Repo.Keys["snapshot"]);

        Rejected(updater, AirlockRejection.HashMismatch, () => updater.Refresh());
    }

    [Fact]
    public void Refresh_RejectsExtendedSnapshot_AsLengthMismatch()
    {
        var updater = Refreshed();
        NextRelease();
        Repo.Source.Files["snapshot.json"] = [.. Repo.Source.Files["snapshot.json"], (byte)' '];

        Rejected(updater, AirlockRejection.LengthMismatch, () => updater.Refresh());
    }

    [Fact]
    public void Refresh_RejectsTargetsWhoseHashDiffersFromSnapshot()
    {
        Repo.HashesInSnapshot = true;
        Repo.Publish();
        var updater = Refreshed();
        NextRelease();
        Repo.Source.Files["targets.json"] = Replace(Repo.Source.Files["targets.json"], "\"version\": 2", "\"version\": 7");

        Rejected(updater, AirlockRejection.HashMismatch, () => updater.Refresh());
    }

    // ---- root rotation ----

    [Fact]
    public void Refresh_RejectsRootThatSkipsAVersion()
    {
        var updater = Refreshed();
        Repo.Versions["root"] = 3;
        Repo.Source.Files["2.root.json"] = TufTestRepository.Envelope(Repo.RootSigned(), Repo.Keys["root"]);

        var e = Rejected(updater, AirlockRejection.BadRootRotation, () => updater.Refresh());
        Assert.Contains("exactly the previous version + 1", e.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Refresh_RejectsRootNotSignedByTheOldThreshold()
    {
        var updater = Refreshed();
        Repo.Keys["root"] = [TestKey.Ecdsa()];
        Repo.Versions["root"] = 2;
        Repo.PublishRoot(); // signed by the new key only

        var e = Rejected(updater, AirlockRejection.BadRootRotation, () => updater.Refresh());
        Assert.Contains("keys of trusted root version 1", e.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Refresh_RejectsRootNotSignedByTheNewThreshold()
    {
        var updater = Refreshed();
        var old = Repo.Keys["root"];
        Repo.Keys["root"] = [TestKey.Ed25519(), TestKey.Rsa()];
        Repo.Thresholds["root"] = 2;
        Repo.Versions["root"] = 2;
        Repo.PublishRoot([.. old, Repo.Keys["root"][0]]);

        var e = Rejected(updater, AirlockRejection.BadRootRotation, () => updater.Refresh());
        Assert.Contains("its own root keys", e.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Refresh_RejectsABadRootLaterInTheChain_AndKeepsTheOriginalRoot()
    {
        var updater = Refreshed();
        Repo.RotateRoot("root");
        Repo.RotateRoot("root");
        Repo.Versions["root"] = 4;
        Repo.PublishRoot([TestKey.Ed25519()]);

        Rejected(updater, AirlockRejection.BadRootRotation, () => updater.Refresh());
        Assert.Equal(1, updater.Trusted.Root.Version);
    }

    [Fact]
    public void Refresh_RejectsMoreRootRotationsThanTheBound()
    {
        var updater = Refreshed(new TufUpdaterOptions { MaxRootRotations = 2 });
        Repo.RotateRoot();
        Repo.RotateRoot();
        Repo.RotateRoot();

        Rejected(updater, AirlockRejection.LimitExceeded, () => updater.Refresh());
    }

    // ---- delegations ----

    [Fact]
    public void RequireTarget_RejectsDelegatedRoleListingAPathOutsideItsDelegation()
    {
        var models = new TestDelegation { Name = "models", Paths = ["models/*"] };
        models.Targets["models/a"] = [1];
        models.Targets["bin/evil"] = [2];
        Repo.Delegations.Add(models);
        Repo.Publish();
        var updater = Refreshed();

        var e = Rejected(updater, AirlockRejection.DelegationViolation, () => updater.RequireTarget("models/a"));
        Assert.Contains("\"bin/evil\"", e.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void RequireTarget_RejectsDelegatedRoleSignedByAKeyItWasNotDelegated()
    {
        var models = new TestDelegation { Name = "models", Paths = ["models/*"] };
        models.Targets["models/a"] = [1];
        Repo.Delegations.Add(models);
        Repo.Publish();
        Repo.Source.Files["models.json"] = TufTestRepository.Envelope(Repo.TargetsSigned("models"), Repo.Keys["targets"]);
        var updater = Refreshed();

        Rejected(updater, AirlockRejection.BelowThreshold, () => updater.RequireTarget("models/a"));
    }

    [Fact]
    public void RequireTarget_RespectsTerminatingDelegation_AndDoesNotConsultLaterRoles()
    {
        var trustedRole = new TestDelegation { Name = "models", Paths = ["models/*"], Terminating = true };
        var attacker = new TestDelegation { Name = "community", Paths = ["models/*"] };
        attacker.Targets["models/a"] = [6, 6, 6];
        Repo.Delegations.AddRange([trustedRole, attacker]);
        Repo.Publish();
        var updater = Refreshed();

        Rejected(updater, AirlockRejection.UnknownTarget, () => updater.RequireTarget("models/a"));
        Assert.DoesNotContain("community.json", Repo.Source.Fetched);
    }

    [Fact]
    public void RequireTarget_ConsultsLaterRoles_WhenTheFirstIsNotTerminating()
    {
        var first = new TestDelegation { Name = "models", Paths = ["models/*"] };
        var second = new TestDelegation { Name = "community", Paths = ["models/*"] };
        second.Targets["models/a"] = [1];
        Repo.Delegations.AddRange([first, second]);
        Repo.Publish();
        var updater = Refreshed();

        Assert.Equal("community", updater.RequireTarget("models/a").Role);
    }

    [Fact]
    public void RequireTarget_RejectsDelegationChainsDeeperThanTheBound()
    {
        Repo.Delegations.Add(new TestDelegation { Name = "d1", Paths = ["x/*"] });
        var d2 = new TestDelegation { Name = "d2", Parent = "d1", Paths = ["x/*"] };
        d2.Targets["x/found"] = [1];
        Repo.Delegations.Add(d2);
        Repo.Delegations.Add(new TestDelegation { Name = "d3", Parent = "d2", Paths = ["x/*"] });
        Repo.Publish();
        var updater = Refreshed(new TufUpdaterOptions { MaxDelegationDepth = 2 });

        Rejected(updater, AirlockRejection.LimitExceeded, () => updater.RequireTarget("x/y"));
        Assert.Equal("d2", updater.RequireTarget("x/found").Role); // within the bound, still found
    }

    [Fact]
    public void Refresh_RejectsDelegationToATopLevelRoleName()
    {
        Repo.Delegations.Add(new TestDelegation { Name = "snapshot", Paths = ["*"] });
        var updater = Repo.NewUpdater(Store);
        Repo.Publish();

        Rejected(updater, AirlockRejection.DelegationViolation, () => updater.Refresh());
    }

    // ---- canonical form, size and schema ----

    [Fact]
    public void Refresh_RejectsSignatureOverANonCanonicalBody()
    {
        var updater = Refreshed();
        NextRelease();
        var signed = TufTestRepository.Parse(Repo.Source.Files["timestamp.json"]);
        var doc = new Dictionary<string, object?> { ["signed"] = signed, ["signatures"] = new List<object?>() };
        var placeholder = TestJson.Serialize(doc);
        var raw = TestJson.Serialize(signed);
        var signer = Repo.Keys["timestamp"][0];
        var sigs = new List<object?> { new Dictionary<string, object?> { ["keyid"] = signer.KeyId, ["sig"] = Convert.ToHexStringLower(signer.SignRaw(raw)) } };
        // The file's "signed" value is exactly the bytes that were signed (pretty-printed, not canonical).
        var text = "{\"signed\":" + Encoding.UTF8.GetString(raw) + ",\"signatures\":" + Encoding.UTF8.GetString(TestJson.Serialize(sigs, indented: false)) + "}";
        Assert.NotEmpty(placeholder);
        Repo.Source.Files["timestamp.json"] = Encoding.UTF8.GetBytes(text);

        Rejected(updater, AirlockRejection.NonCanonical, () => updater.Refresh());
    }

    [Fact]
    public void Refresh_RejectsFloatsInSignedMetadata_AsNonCanonical()
    {
        var updater = Refreshed();
        NextRelease();
        Repo.Source.Files["timestamp.json"] = Replace(Repo.Source.Files["timestamp.json"], "\"version\": 2,", "\"version\": 2.0,");

        Rejected(updater, AirlockRejection.NonCanonical, () => updater.Refresh());
    }

    [Fact]
    public void Refresh_RejectsOversizedTimestamp()
    {
        var updater = Refreshed();
        NextRelease();
        Repo.Resign("timestamp.json", s => s["padding"] = new string('x', 20_000), Repo.Keys["timestamp"]);

        var e = Rejected(updater, AirlockRejection.Oversized, () => updater.Refresh());
        Assert.Contains("more than the limit of 16384", e.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Refresh_RejectsOversizedSnapshot_WhenTimestampListsNoLength()
    {
        var updater = Refreshed(new TufUpdaterOptions { MaxSnapshotBytes = 2048 });
        NextRelease();
        Repo.Resign("snapshot.json", s => s["padding"] = new string('x', 4096), Repo.Keys["snapshot"]);
        var timestamp = TufTestRepository.Common("timestamp", Repo.Versions["timestamp"], Repo.Expires["timestamp"]);
        timestamp["meta"] = new Dictionary<string, object?> { ["snapshot.json"] = new Dictionary<string, object?> { ["version"] = 2L } };
        Repo.Source.Files["timestamp.json"] = TufTestRepository.Envelope(timestamp, Repo.Keys["timestamp"]);

        Rejected(updater, AirlockRejection.Oversized, () => updater.Refresh());
    }

    [Fact]
    public void Refresh_RejectsDuplicateKeysInMetadata_AsMalformed()
    {
        var updater = Refreshed();
        NextRelease();
        Repo.Source.Files["timestamp.json"] = Replace(Repo.Source.Files["timestamp.json"], "\"version\": 2,", "\"version\": 2, \"version\": 9,");

        Rejected(updater, AirlockRejection.Malformed, () => updater.Refresh());
    }

    [Fact]
    public void Refresh_RejectsTruncatedTimestamp_AsMalformed()
    {
        var updater = Refreshed();
        NextRelease();
        var bytes = Repo.Source.Files["timestamp.json"];
        Repo.Source.Files["timestamp.json"] = bytes[..(bytes.Length / 2)];

        Rejected(updater, AirlockRejection.Malformed, () => updater.Refresh());
    }

    [Fact]
    public void Refresh_RejectsSnapshotServedAsTimestamp_AsMalformed()
    {
        var updater = Refreshed();
        NextRelease();
        Repo.Source.Files["timestamp.json"] = Repo.Source.Files["snapshot.json"];

        Rejected(updater, AirlockRejection.Malformed, () => updater.Refresh());
    }

    [Fact]
    public void Refresh_RejectsKeyWhoseIdIsNotItsHash_AsMalformed()
    {
        var updater = Refreshed();
        var root = Repo.RootSigned();
        root["version"] = 2L;
        var keys = (Dictionary<string, object?>)root["keys"]!;
        var timestampId = Repo.Keys["timestamp"][0].KeyId;
        var forged = "ab" + timestampId[2..];
        keys[forged] = keys[timestampId];
        Repo.Source.Files["2.root.json"] = TufTestRepository.Envelope(root, Repo.Keys["root"]);

        Rejected(updater, AirlockRejection.Malformed, () => updater.Refresh());
    }

    [Fact]
    public void Refresh_RejectsMissingTimestamp_AsUnknownRole()
    {
        var updater = Refreshed();
        Repo.Source.Files.Remove("timestamp.json");

        Rejected(updater, AirlockRejection.UnknownRole, () => updater.Refresh());
    }

    [Fact]
    public void Refresh_RejectsSnapshotThatDoesNotListTargets_AsUnknownRole()
    {
        var updater = Refreshed();
        NextRelease();
        Repo.Resign("snapshot.json", s => s["meta"] = new Dictionary<string, object?>(), Repo.Keys["snapshot"]);
        Repo.PublishTimestamp();

        Rejected(updater, AirlockRejection.Rollback, () => updater.Refresh());
        var fresh = Repo.NewUpdater(Store);
        Rejected(fresh, AirlockRejection.UnknownRole, () => fresh.Refresh());
    }

    [Fact]
    public void Refresh_AfterAnyRejection_StillAcceptsTheGenuineRelease()
    {
        var updater = Refreshed();
        NextRelease();
        var genuine = Repo.Source.Files["timestamp.json"];
        Repo.Source.Files["timestamp.json"] = Replace(genuine, "\"version\": 2,", "\"version\": 3,");
        Rejected(updater, AirlockRejection.BadSignature, () => updater.Refresh());

        Repo.Source.Files["timestamp.json"] = genuine;
        Assert.Equal(2, updater.Refresh().Timestamp!.Version);
        _ = Sha256Digest.Compute(genuine);
    }
}
