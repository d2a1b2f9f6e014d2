using Enclave.Airlock.Tuf;
using Enclave.Signing.Keys;

namespace Enclave.Airlock.Tests.Tuf;

/// <summary>
/// The updater at its edges, written from the mutants Stryker left alive (docs/testing.md): the exact refusal each
/// check makes (reason and message), the boundaries of its bounds, what it keeps, what it fetches again and what it
/// re-verifies, so that weakening any one check fails a test.
/// </summary>
public sealed class UpdaterEdgeTests : UpdaterTestBase
{
    private static readonly DateTimeOffset Start = TufTestRepository.Start;

    private static string At(DateTimeOffset time) => $"{time:u}";

    // ---- signatures ----

    [Fact]
    public void Refresh_RejectsATimestampSignedByTheSnapshotKey_WhichTheRootListsForAnotherRole()
    {
        var updater = Refreshed();
        NextRelease();
        Repo.Resign("timestamp.json", _ => { }, Repo.Keys["snapshot"]);

        var e = Rejected(updater, AirlockRejection.BelowThreshold, () => updater.Refresh());
        Assert.Equal("below threshold: timestamp version 2 has 0 of 1 required signatures by root 1's timestamp keys", e.Detail);
    }

    [Theory]
    [InlineData("not hex at all")]
    [InlineData("abc")]
    public void Refresh_RejectsASignatureThatIsNotHex_AsBadSignature_NamingTheKey(string sig)
    {
        var updater = Refreshed();
        NextRelease();
        var signed = TufTestRepository.Parse(Repo.Source.Files["timestamp.json"]);
        var keyId = Repo.Keys["timestamp"][0].KeyId;
        Repo.Source.Files["timestamp.json"] = TestJson.Serialize(new Dictionary<string, object?>
        {
            ["signed"] = signed,
            ["signatures"] = new List<object?> { new Dictionary<string, object?> { ["keyid"] = keyId, ["sig"] = sig } },
        });

        var e = Rejected(updater, AirlockRejection.BadSignature, () => updater.Refresh());
        Assert.Equal(
            $"bad signature: timestamp version 2 has 0 of 1 required signatures by root 1's timestamp keys; the signature by key {TufKey.Short(keyId)} does not verify (the body was altered or another key signed)",
            e.Detail);
    }

    [Fact]
    public void Refresh_NamesTheFirstAuthorisedKeyWhoseSignatureFails_WhenSeveralDo()
    {
        Repo.Keys["snapshot"] = [TestKey.Ed25519(), TestKey.Ecdsa()];
        Repo.Thresholds["snapshot"] = 2;
        Repo.PublishRoot();
        Repo.Publish();
        var updater = Refreshed();
        NextRelease();
        var signed = TufTestRepository.Parse(Repo.Source.Files["snapshot.json"]);
        var (first, second) = (Repo.Keys["snapshot"][0], Repo.Keys["snapshot"][1]);
        Repo.Source.Files["snapshot.json"] = TufTestRepository.Envelope(signed, [first, second], signOver: "{}"u8.ToArray());
        Repo.PublishTimestamp();

        var e = Rejected(updater, AirlockRejection.BadSignature, () => updater.Refresh());
        Assert.Equal(
            $"bad signature: snapshot version 2 has 0 of 2 required signatures by root 1's snapshot keys; the signature by key {TufKey.Short(first.KeyId)} does not verify (the body was altered or another key signed)",
            e.Detail);
    }

    [Fact]
    public void CountValid_CountsAKeyOnce_WhenMetadataBuiltInMemoryListsItsSignatureTwice()
    {
        // The parser refuses such metadata (key IDs in signatures are unique); the count must not rely on that.
        var timestamp = TufMetadataParser.ParseTimestamp(Repo.Source.Files["timestamp.json"], TufUpdaterOptions.Default);
        var root = TrustedState.FromRoot(Repo.RootV1).Root;
        var twice = timestamp with { Signatures = [timestamp.Signatures[0], timestamp.Signatures[0]] };
        var role = new TufRole { KeyIds = root.Roles["timestamp"].KeyIds, Threshold = 2 };

        var count = TufSignatureVerifier.CountValid(twice, root.Keys, role);

        Assert.Equal(1, count.Valid);
        Assert.Equal(2, count.Threshold);
        Assert.False(count.AuthorisedSignatureFailed);
        var e = Assert.Throws<AirlockRejectedException>(() => TufSignatureVerifier.Verify(twice, root.Keys, role, "two of one key"));
        Assert.Equal(AirlockRejection.BelowThreshold, e.Reason);
        Assert.Equal("below threshold: timestamp version 1 has 1 of 2 required signatures by two of one key", e.Detail);

        // A second, bad signature under the same key ID is not looked at: the key has signed once already.
        var bad = timestamp.Signatures[0] with { SignatureHex = "00" + timestamp.Signatures[0].SignatureHex[2..] };
        count = TufSignatureVerifier.CountValid(timestamp with { Signatures = [timestamp.Signatures[0], bad] }, root.Keys, role);
        Assert.Equal((1, false, (string?)null), (count.Valid, count.AuthorisedSignatureFailed, count.FailedKeyId));
    }

    [Fact]
    public void Verify_WithoutThePostQuantumRequirement_AcceptsAClassicalThreshold_AndWithItNamesTheRole()
    {
        var timestamp = TufMetadataParser.ParseTimestamp(Repo.Source.Files["timestamp.json"], TufUpdaterOptions.Default);
        var root = TrustedState.FromRoot(Repo.RootV1).Root;

        TufSignatureVerifier.Verify(timestamp, root.Keys, root.Roles["timestamp"], "the timestamp keys", requirePostQuantum: false);
        var e = Assert.Throws<AirlockRejectedException>(() => TufSignatureVerifier.Verify(timestamp, root.Keys, root.Roles["timestamp"], "the timestamp keys", requirePostQuantum: true));

        Assert.Equal(AirlockRejection.MissingPostQuantumSignature, e.Reason);
        Assert.Equal(
            "missing post-quantum signature: timestamp version 1 carries no ml-dsa-65 signature by the timestamp keys, and this enclave requires one on every role (RequirePostQuantumSignature); sign the repository with --post-quantum keys, or pin a root that lists them",
            e.Detail);
    }

    [Fact]
    public void Rejection_ForcedReason_KeepsTheMessageOfWhatWentWrong()
    {
        var timestamp = TufMetadataParser.ParseTimestamp(Repo.Source.Files["timestamp.json"], TufUpdaterOptions.Default);
        var below = new TufSignatureVerifier.Count(0, 1, false, false, null);
        var bad = new TufSignatureVerifier.Count(0, 1, true, false, "0123456789abcdef");
        var nonCanonical = new TufSignatureVerifier.Count(0, 1, true, true, "0123456789abcdef");

        var e1 = TufSignatureVerifier.Rejection(below, timestamp, "k", AirlockRejection.BadRootRotation);
        var e2 = TufSignatureVerifier.Rejection(bad, timestamp, "k", AirlockRejection.BadRootRotation);
        var e3 = TufSignatureVerifier.Rejection(nonCanonical, timestamp, "k", null);
        var e4 = TufSignatureVerifier.Rejection(nonCanonical, timestamp, "k", AirlockRejection.BadRootRotation);

        Assert.Equal((AirlockRejection.BadRootRotation, "below threshold: timestamp version 1 has 0 of 1 required signatures by k"), (e1.Reason, e1.Detail));
        Assert.Equal((AirlockRejection.BadRootRotation, "bad signature: timestamp version 1 has 0 of 1 required signatures by k; the signature by key 0123456789ab does not verify (the body was altered or another key signed)"), (e2.Reason, e2.Detail));
        Assert.Equal((AirlockRejection.NonCanonical, "non-canonical: timestamp version 1 has 0 of 1 required signatures by k; key 0123456789ab signed a non-canonical encoding of the body, and signatures must be over canonical JSON"), (e3.Reason, e3.Detail));
        Assert.Equal(AirlockRejection.BadRootRotation, e4.Reason);
    }

    // ---- root ----

    [Fact]
    public void Refresh_LooksForNoRootAfterVersionIntMax()
    {
        Repo.Versions["root"] = int.MaxValue;
        var rootBytes = Repo.PublishRoot();
        var updater = new Updater(TrustedState.FromRoot(rootBytes), Repo.Source, Repo.Clock, store: Store);

        var state = updater.Refresh();

        Assert.Equal(int.MaxValue, state.Root.Version);
        Assert.DoesNotContain(Repo.Source.Fetched, name => name.EndsWith("root.json", StringComparison.Ordinal));
    }

    [Fact]
    public void Refresh_FollowsExactlyAsManyRootRotationsAsTheBound()
    {
        var updater = Refreshed(new TufUpdaterOptions { MaxRootRotations = 2 });
        Repo.RotateRoot("root");
        Repo.RotateRoot("root");

        Assert.Equal(3, updater.Refresh().Root.Version);

        Repo.RotateRoot();
        Repo.RotateRoot();
        Repo.RotateRoot();
        var e = Rejected(updater, AirlockRejection.LimitExceeded, () => updater.Refresh());
        Assert.Equal("root rotation limit: more than 2 new root versions after version 3; import in smaller steps or raise the limit", e.Detail);
    }

    [Fact]
    public void Refresh_RootRotationRefusals_SayWhichKeysFellShort_AndCarryTheSignatureCount()
    {
        var updater = Refreshed();
        var old = Repo.Keys["root"];
        Repo.Keys["root"] = [TestKey.Ed25519(), TestKey.Ecdsa()];
        Repo.Thresholds["root"] = 2;
        Repo.Versions["root"] = 2;
        Repo.PublishRoot(Repo.Keys["root"]);

        var byOld = Rejected(updater, AirlockRejection.BadRootRotation, () => updater.Refresh());
        Assert.Equal("bad root rotation: root version 2 has 0 of 1 required signatures by the keys of trusted root version 1", byOld.Detail);
        var inner = Assert.IsType<AirlockRejectedException>(byOld.InnerException);
        Assert.Equal("below threshold: root version 2 has 0 of 1 required signatures by root 1's keys", inner.Detail);

        Repo.PublishRoot([.. old, Repo.Keys["root"][1]]);
        var byNew = Rejected(updater, AirlockRejection.BadRootRotation, () => updater.Refresh());
        Assert.Equal("bad root rotation: root version 2 has 1 of 2 required signatures by its own root keys", byNew.Detail);
        inner = Assert.IsType<AirlockRejectedException>(byNew.InnerException);
        Assert.Equal("below threshold: root version 2 has 1 of 2 required signatures by its own keys", inner.Detail);
    }

    [Fact]
    public void Refresh_RejectsARootThatClaimsAnotherVersion_NamingBoth()
    {
        var updater = Refreshed();
        Repo.Versions["root"] = 3;
        Repo.Source.Files["2.root.json"] = TufTestRepository.Envelope(Repo.RootSigned(), Repo.Keys["root"]);

        var e = Rejected(updater, AirlockRejection.BadRootRotation, () => updater.Refresh());
        Assert.Equal("bad root rotation: fetched root 2 but it says version 3; each root must be exactly the previous version + 1", e.Detail);
    }

    [Fact]
    public void Refresh_RejectsAnExpiredRoot_SayingWhen()
    {
        var updater = Refreshed();
        Repo.Clock.Now = Start.AddDays(31);

        var e = Rejected(updater, AirlockRejection.Expired, () => updater.Refresh());
        Assert.Equal($"expired: root version 1 expired at {At(Start.AddDays(30))} (now {At(Start.AddDays(31))}); a newer root must be brought in", e.Detail);
    }

    [Fact]
    public void Refresh_AcceptsARootAtTheVeryLastSecondBeforeItExpires_AndNotAtIt()
    {
        var updater = Refreshed();
        Repo.Expires["timestamp"] = Repo.Expires["snapshot"] = Repo.Expires["targets"] = Start.AddDays(90);
        NextRelease();
        Repo.Clock.Now = Start.AddDays(30).AddSeconds(-1);
        updater.Refresh();

        Repo.Clock.Now = Start.AddDays(30);
        Rejected(updater, AirlockRejection.Expired, () => updater.Refresh());
    }

    [Fact]
    public void Refresh_AfterTheTargetsKeysRotate_NoLongerTrustsTargetsSignedByTheOldKey()
    {
        var updater = Refreshed();
        Repo.RotateRoot("targets");

        var e = Rejected(updater, AirlockRejection.BelowThreshold, () => updater.Refresh());
        Assert.Equal("below threshold: targets version 1 has 0 of 1 required signatures by root 2's targets keys", e.Detail);

        Repo.Publish(); // the repository re-signs targets with the new key
        Assert.Equal(2, updater.Refresh().Root.Version);
    }

    [Theory]
    [InlineData("threshold")]
    [InlineData("replace")]
    [InlineData("drop")]
    [InlineData("add")]
    public void Refresh_VerifiesTargetsAgain_WhenTheNewRootChangesTheTargetsRole(string change)
    {
        Repo.Keys["targets"] = [TestKey.Ed25519(), TestKey.Ecdsa()];
        Repo.PublishRoot();
        Repo.Publish();
        var updater = Refreshed();
        var kept = Repo.Keys["targets"][0];
        switch (change)
        {
            case "threshold":
                Repo.Thresholds["targets"] = 2;
                break;
            case "replace":
                Repo.Keys["targets"] = [kept, TestKey.Ed25519()];
                break;
            case "drop":
                Repo.Keys["targets"] = [kept];
                break;
            default:
                Repo.Keys["targets"] = [.. Repo.Keys["targets"], TestKey.Ed25519()];
                break;
        }

        Repo.Versions["root"]++;
        Repo.PublishRoot();
        Repo.Publish(); // the same targets version, signed by the role's keys now
        Repo.Source.Fetched.Clear();

        var state = updater.Refresh();

        Assert.Equal(2, state.Root.Version);
        Assert.Contains("targets.json", Repo.Source.Fetched);
    }

    [Fact]
    public void Refresh_KeepsTimestampSnapshotAndTargets_WhenTheNewRootLeavesTheirRolesAlone()
    {
        var updater = Refreshed();
        var before = updater.Trusted;
        Repo.RotateRoot("root");
        Repo.Source.Fetched.Clear();

        var after = updater.Refresh();

        Assert.Equal(2, after.Root.Version);
        Assert.Same(before.Timestamp, after.Timestamp);
        Assert.Same(before.Snapshot, after.Snapshot);
        Assert.Same(before.Targets, after.Targets);
        Assert.Equal(["2.root.json", "3.root.json", "timestamp.json"], Repo.Source.Fetched);
    }

    // ---- timestamp ----

    [Fact]
    public void Refresh_WithNothingNew_KeepsWhatItTrusts_AndFetchesOnlyTheNextRootAndTheTimestamp()
    {
        var updater = Refreshed();
        var before = updater.Trusted;
        Repo.Source.Fetched.Clear();

        var after = updater.Refresh();

        Assert.Same(before.Timestamp, after.Timestamp);
        Assert.Same(before.Snapshot, after.Snapshot);
        Assert.Same(before.Targets, after.Targets);
        Assert.Same(before.Root, after.Root);
        Assert.Equal(["2.root.json", "timestamp.json"], Repo.Source.Fetched);
    }

    [Fact]
    public void Refresh_AcceptsANewTimestampForTheSameSnapshot_AndKeepsTheSnapshot()
    {
        var updater = Refreshed();
        var before = updater.Trusted;
        Repo.Versions["timestamp"]++;
        Repo.PublishTimestamp();

        var after = updater.Refresh();

        Assert.Equal(2, after.Timestamp!.Version);
        Assert.Same(before.Snapshot, after.Snapshot);
    }

    [Fact]
    public void Refresh_KeepsTheTrustedTimestampOfTheSameVersion_AndChecksItsFreshness()
    {
        Repo.Expires["timestamp"] = Start.AddHours(2);
        Repo.Publish();
        var updater = Refreshed();
        Repo.Expires["timestamp"] = Start.AddDays(10); // the same version re-signed with a later expiry
        Repo.PublishTimestamp();
        Repo.Clock.Now = Start.AddHours(3);

        var e = Rejected(updater, AirlockRejection.Freeze, () => updater.Refresh());
        Assert.Equal($"freeze: timestamp version 1 expired at {At(Start.AddHours(2))} (now {At(Start.AddHours(3))}); the source serves stale metadata", e.Detail);
    }

    [Fact]
    public void Refresh_TimestampRefusals_SayWhy()
    {
        Repo.Versions["snapshot"] = 5;
        Repo.Publish();
        var updater = Refreshed();
        Repo.Versions["timestamp"]++;
        Repo.PublishTimestamp(snapshotVersion: 3);

        var e = Rejected(updater, AirlockRejection.Rollback, () => updater.Refresh());
        Assert.Equal("rollback: timestamp 2 lists snapshot version 3 < trusted 5", e.Detail);

        Repo.Source.Files.Remove("timestamp.json");
        e = Rejected(updater, AirlockRejection.UnknownRole, () => updater.Refresh());
        Assert.Equal("unknown role: the source has no timestamp metadata", e.Detail);
    }

    [Fact]
    public void Refresh_AcceptsATimestampOfExactlyTheBound()
    {
        var length = Repo.Source.Files["timestamp.json"].Length;

        Assert.Equal(1, Repo.NewUpdater(Store, new TufUpdaterOptions { MaxTimestampBytes = length }).Refresh().Timestamp!.Version);
        var updater = Repo.NewUpdater(Store, new TufUpdaterOptions { MaxTimestampBytes = length - 1 });
        var e = Rejected(updater, AirlockRejection.Oversized, () => updater.Refresh());
        Assert.Equal($"oversized metadata: timestamp is {length} bytes, more than the limit of {length - 1}", e.Detail);
    }

    // ---- snapshot ----

    [Fact]
    public void Refresh_FetchesAnExpiredSnapshotOfTheSameVersionAgain_AndRejectsIt()
    {
        Repo.Expires["snapshot"] = Start.AddHours(2);
        Repo.Publish();
        var updater = Refreshed();
        Repo.Versions["timestamp"]++;
        Repo.PublishTimestamp();
        Repo.Clock.Now = Start.AddHours(3);
        Repo.Source.Fetched.Clear();

        var e = Rejected(updater, AirlockRejection.Expired, () => updater.Refresh());
        Assert.Equal($"expired: snapshot version 1 expired at {At(Start.AddHours(2))} (now {At(Start.AddHours(3))})", e.Detail);
        Assert.Contains("snapshot.json", Repo.Source.Fetched);
    }

    [Fact]
    public void Refresh_SnapshotRefusals_SayWhy()
    {
        var models = new TestDelegation { Name = "models", Paths = ["models/*"] };
        Repo.Delegations.Add(models);
        Repo.Versions["targets"] = 4;
        Repo.Publish();
        var updater = Refreshed();

        NextRelease();
        Repo.Source.Files.Remove("snapshot.json");
        var e = Rejected(updater, AirlockRejection.UnknownRole, () => updater.Refresh());
        Assert.Equal("unknown role: the source has no snapshot metadata (version 2 expected)", e.Detail);

        Repo.Delegations.Clear();
        Repo.Publish();
        e = Rejected(updater, AirlockRejection.Rollback, () => updater.Refresh());
        Assert.Equal("rollback: snapshot version 2 no longer lists models.json, which trusted snapshot 1 lists", e.Detail);

        Repo.Delegations.Add(models);
        Repo.Versions["targets"] = 3;
        Repo.Publish();
        e = Rejected(updater, AirlockRejection.Rollback, () => updater.Refresh());
        Assert.Equal("rollback: snapshot version 2 lists targets.json version 3 < trusted 4", e.Detail);

        Repo.Versions["targets"] = 5;
        Repo.Publish();
        Repo.Versions["timestamp"]++;
        Repo.PublishTimestamp(snapshotVersion: 3);
        e = Rejected(updater, AirlockRejection.MixAndMatch, () => updater.Refresh());
        Assert.Equal("mix-and-match: snapshot version 2 but timestamp 3 lists version 3", e.Detail);
    }

    [Fact]
    public void Refresh_AcceptsANewSnapshotListingTheSameTargetsVersion_AndKeepsTheTargets()
    {
        var updater = Refreshed();
        var before = updater.Trusted;
        Repo.Versions["snapshot"]++;
        Repo.Versions["timestamp"]++;
        Repo.Publish();
        Repo.Source.Fetched.Clear();

        var after = updater.Refresh();

        Assert.Equal(2, after.Snapshot!.Version);
        Assert.Same(before.Targets, after.Targets);
        Assert.DoesNotContain("targets.json", Repo.Source.Fetched);
    }

    [Fact]
    public void Refresh_AcceptsSnapshotAndTargetsLargerThanTheBounds_WhenTheirParentsListTheirLength()
    {
        Repo.HashesInSnapshot = true;
        Repo.Publish();
        var options = new TufUpdaterOptions { MaxSnapshotBytes = 64, MaxTargetsBytes = 64 };

        var state = Repo.NewUpdater(Store, options).Refresh();

        Assert.Equal(1, state.Targets!.Version);
        Assert.True(Repo.Source.Files["snapshot.json"].Length > 64 && Repo.Source.Files["targets.json"].Length > 64);
    }

    [Fact]
    public void Refresh_BoundsASnapshotWhoseLengthIsNotListed_AcceptingExactlyTheBound()
    {
        var length = Repo.Source.Files["snapshot.json"].Length;
        var timestamp = TufTestRepository.Common("timestamp", Repo.Versions["timestamp"], Repo.Expires["timestamp"]);
        timestamp["meta"] = new Dictionary<string, object?> { ["snapshot.json"] = new Dictionary<string, object?> { ["version"] = 1L } };
        Repo.Source.Files["timestamp.json"] = TufTestRepository.Envelope(timestamp, Repo.Keys["timestamp"]);

        Assert.Equal(1, Repo.NewUpdater(Store, new TufUpdaterOptions { MaxSnapshotBytes = length }).Refresh().Snapshot!.Version);
        var updater = Repo.NewUpdater(Store, new TufUpdaterOptions { MaxSnapshotBytes = length - 1 });
        var e = Rejected(updater, AirlockRejection.Oversized, () => updater.Refresh());
        Assert.Equal($"oversized metadata: snapshot.json is {length} bytes, more than the limit of {length - 1}", e.Detail);
    }

    [Fact]
    public void Refresh_BoundsTargetsWhoseLengthIsNotListed_AcceptingExactlyTheBound()
    {
        var length = Repo.Source.Files["targets.json"].Length;

        Assert.Equal(1, Repo.NewUpdater(Store, new TufUpdaterOptions { MaxTargetsBytes = length }).Refresh().Targets!.Version);
        var updater = Repo.NewUpdater(Store, new TufUpdaterOptions { MaxTargetsBytes = length - 1 });
        var e = Rejected(updater, AirlockRejection.Oversized, () => updater.Refresh());
        Assert.Equal($"oversized metadata: targets.json is {length} bytes, more than the limit of {length - 1}", e.Detail);
    }

    // ---- targets ----

    [Fact]
    public void Refresh_FetchesExpiredTargetsOfTheSameVersionAgain_AndRejectsThem()
    {
        Repo.Expires["targets"] = Start.AddHours(2);
        Repo.Publish();
        var updater = Refreshed();
        Repo.Versions["snapshot"]++;
        Repo.Versions["timestamp"]++;
        Repo.Publish();
        Repo.Clock.Now = Start.AddHours(3);

        var e = Rejected(updater, AirlockRejection.Expired, () => updater.Refresh());
        Assert.Equal($"expired: targets version 1 expired at {At(Start.AddHours(2))} (now {At(Start.AddHours(3))})", e.Detail);
    }

    [Fact]
    public void Refresh_TargetsRefusals_SayWhy()
    {
        var updater = Refreshed();
        NextRelease();
        Repo.Source.Files.Remove("targets.json");
        var e = Rejected(updater, AirlockRejection.UnknownRole, () => updater.Refresh());
        Assert.Equal("unknown role: the source has no metadata for targets (version 2 expected)", e.Detail);

        Repo.Versions["targets"] = 3;
        Repo.Source.Files["targets.json"] = TufTestRepository.Envelope(Repo.TargetsSigned("targets"), Repo.Keys["targets"]);
        e = Rejected(updater, AirlockRejection.MixAndMatch, () => updater.Refresh());
        Assert.Equal("mix-and-match: targets version 3 but snapshot 2 lists version 2", e.Detail);

        Repo.Resign("snapshot.json", s => s["meta"] = new Dictionary<string, object?>(), Repo.Keys["snapshot"]);
        Repo.PublishTimestamp();
        var fresh = Repo.NewUpdater(Store);
        e = Rejected(fresh, AirlockRejection.UnknownRole, () => fresh.Refresh());
        Assert.Equal("unknown role: snapshot version 2 does not list targets.json", e.Detail);
    }

    // ---- delegations ----

    [Fact]
    public void RequireTarget_PrefersTheFirstDelegatedRole_WhenTwoListTheTarget()
    {
        var first = new TestDelegation { Name = "models", Paths = ["models/*"] };
        var second = new TestDelegation { Name = "community", Paths = ["models/*"] };
        first.Targets["models/a"] = [1];
        second.Targets["models/a"] = [2, 2];
        Repo.Delegations.AddRange([first, second]);
        Repo.Publish();
        var updater = Refreshed();

        var target = updater.RequireTarget("models/a");

        Assert.Equal(("models", 1L), (target.Role, target.Length));
        Assert.DoesNotContain("community.json", Repo.Source.Fetched);
    }

    [Fact]
    public void FindTarget_ReturnsNull_ForALeafRoleAtTheDepthBound_ThatDoesNotListIt()
    {
        Repo.Delegations.Add(new TestDelegation { Name = "d1", Paths = ["x/*"] });
        Repo.Delegations.Add(new TestDelegation { Name = "d2", Parent = "d1", Paths = ["y/*"] }); // delegates, but not x/
        Repo.Publish();
        var updater = Refreshed(new TufUpdaterOptions { MaxDelegationDepth = 1 });

        Assert.Null(updater.FindTarget("x/missing"));
        var e = Rejected(updater, AirlockRejection.UnknownTarget, () => updater.RequireTarget("x/missing"));
        Assert.Equal("unknown target: no trusted targets role lists \"x/missing\" (or a terminating delegation hides it); nothing was imported", e.Detail);
    }

    [Fact]
    public void RequireTarget_RefusesAChainDeeperThanTheBound_SayingSo()
    {
        Repo.Delegations.Add(new TestDelegation { Name = "d1", Paths = ["x/*"] });
        Repo.Delegations.Add(new TestDelegation { Name = "d2", Parent = "d1", Paths = ["x/*"] });
        Repo.Publish();
        var updater = Refreshed(new TufUpdaterOptions { MaxDelegationDepth = 1 });

        var e = Rejected(updater, AirlockRejection.LimitExceeded, () => updater.RequireTarget("x/y"));
        Assert.Equal("delegation limit: \"x/y\" is delegated deeper than 1 levels below targets", e.Detail);
    }

    [Fact]
    public void RequireTarget_VisitsAtMostTheBoundOfDelegatedRoles()
    {
        Repo.Delegations.Add(new TestDelegation { Name = "d1", Paths = ["x/*"] });
        var d2 = new TestDelegation { Name = "d2", Parent = "d1", Paths = ["x/*"] };
        d2.Targets["x/found"] = [1];
        Repo.Delegations.Add(d2);
        Repo.Delegations.Add(new TestDelegation { Name = "d3", Parent = "d2", Paths = ["x/*"] });
        Repo.Publish();
        var updater = Refreshed(new TufUpdaterOptions { MaxDelegations = 2 });

        Assert.Equal("d2", updater.RequireTarget("x/found").Role);
        var e = Rejected(updater, AirlockRejection.LimitExceeded, () => updater.RequireTarget("x/y"));
        Assert.Equal("delegation limit: looking up \"x/y\" visited more than 2 delegated roles", e.Detail);
    }

    [Fact]
    public void RequireTarget_CommitsALoadedDelegatedRoleOnce_AndReusesItWhileCurrent()
    {
        var models = new TestDelegation { Name = "models", Paths = ["models/*"] };
        models.Targets["models/a"] = [1];
        Repo.Delegations.Add(models);
        Repo.Publish();
        var updater = Refreshed();
        var commits = Store.Commits.Count;

        updater.RequireTarget("models/a");
        Assert.Equal(commits + 1, Store.Commits.Count);
        Assert.Equal(["models"], updater.Trusted.Delegated.Keys);
        var cached = updater.Trusted.Delegated["models"];

        Repo.Source.Fetched.Clear();
        var trusted = updater.Trusted;
        Assert.Equal(1L, updater.RequireTarget("models/a").Length);
        Assert.Empty(Repo.Source.Fetched);
        Assert.Equal(commits + 1, Store.Commits.Count);
        Assert.Same(trusted, updater.Trusted);
        Assert.Same(cached, updater.Trusted.Delegated["models"]);
    }

    [Fact]
    public void RequireTarget_LoadsANewerDelegatedRole_WhenTheSnapshotListsIt()
    {
        var models = new TestDelegation { Name = "models", Paths = ["models/*"] };
        models.Targets["models/a"] = [1];
        Repo.Delegations.Add(models);
        Repo.Publish();
        var updater = Refreshed();
        updater.RequireTarget("models/a");

        models.Version = 2;
        models.Targets["models/a"] = [1, 2, 3];
        NextRelease();
        updater.Refresh();

        Assert.Equal(3L, updater.RequireTarget("models/a").Length);
        Assert.Equal(2, updater.Trusted.Delegated["models"].Version);
    }

    [Fact]
    public void RequireTarget_RejectsACachedDelegatedRole_OnceItHasExpired()
    {
        var models = new TestDelegation { Name = "models", Paths = ["models/*"], Expires = Start.AddHours(2) };
        models.Targets["models/a"] = [1];
        Repo.Delegations.Add(models);
        Repo.Publish();
        var updater = Refreshed();
        updater.RequireTarget("models/a");
        Repo.Clock.Now = Start.AddHours(3);

        var e = Rejected(updater, AirlockRejection.Expired, () => updater.RequireTarget("models/a"));
        Assert.Equal($"expired: models version 1 expired at {At(Start.AddHours(2))} (now {At(Start.AddHours(3))})", e.Detail);
    }

    [Fact]
    public void RequireTarget_RejectsACachedDelegatedRole_WhenItsParentNarrowsItsPaths()
    {
        var models = new TestDelegation { Name = "models", Paths = ["models/*"] };
        models.Targets["models/a"] = [1];
        models.Targets["models/b"] = [2];
        Repo.Delegations.Add(models);
        Repo.Publish();
        var updater = Refreshed();
        updater.RequireTarget("models/a");

        models.Paths = ["models/a"];
        NextRelease();
        updater.Refresh();

        var e = Rejected(updater, AirlockRejection.DelegationViolation, () => updater.RequireTarget("models/a"));
        Assert.Equal("delegation violation: role models (version 1) lists \"models/b\", outside the paths targets delegates to it", e.Detail);
    }

    [Fact]
    public void RequireTarget_AllowsTargetsOutsideTheDelegatedPaths_WhenTheOptionIsOff_ButNeverServesThem()
    {
        var models = new TestDelegation { Name = "models", Paths = ["models/*"] };
        models.Targets["models/a"] = [1];
        models.Targets["bin/evil"] = [2];
        Repo.Delegations.Add(models);
        Repo.Publish();
        var updater = Refreshed(new TufUpdaterOptions { RejectTargetsOutsideDelegatedPaths = false });

        Assert.Equal("models", updater.RequireTarget("models/a").Role);
        Assert.Null(updater.FindTarget("bin/evil"));
        Repo.Source.Fetched.Clear();
        Assert.Equal("models", updater.RequireTarget("models/a").Role);
        Assert.Empty(Repo.Source.Fetched); // still authorised: reused, not fetched again
    }

    [Fact]
    public void RequireTarget_DelegatedRoleRefusals_SayWhy()
    {
        var models = new TestDelegation { Name = "models", Paths = ["models/*"] };
        models.Targets["models/a"] = [1];
        Repo.Delegations.Add(models);
        Repo.Publish();
        Repo.Source.Files["models.json"] = TufTestRepository.Envelope(Repo.TargetsSigned("models"), Repo.Keys["targets"]);
        var updater = Refreshed();

        var e = Rejected(updater, AirlockRejection.BelowThreshold, () => updater.RequireTarget("models/a"));
        Assert.Equal("below threshold: models version 1 has 0 of 1 required signatures by the keys targets delegates to models", e.Detail);

        Repo.Source.Files.Remove("models.json");
        e = Rejected(updater, AirlockRejection.UnknownRole, () => updater.RequireTarget("models/a"));
        Assert.Equal("unknown role: the source has no metadata for models (version 1 expected)", e.Detail);
    }

    // ---- arguments and order of calls ----

    [Fact]
    public void Updater_NamesItsMissingArguments()
    {
        var trusted = TrustedState.FromRoot(Repo.RootV1);

        Assert.Equal("trusted", Assert.Throws<ArgumentNullException>(() => new Updater(null!, Repo.Source, Repo.Clock)).ParamName);
        Assert.Equal("source", Assert.Throws<ArgumentNullException>(() => new Updater(trusted, null!, Repo.Clock)).ParamName);
        Assert.Equal("time", Assert.Throws<ArgumentNullException>(() => new Updater(trusted, Repo.Source, null!)).ParamName);
        Assert.Equal("targetPath", Assert.Throws<ArgumentNullException>(() => Refreshed().FindTarget(null!)).ParamName);
    }

    [Fact]
    public void FindTarget_BeforeTargetsAreTrusted_IsAProgrammingError_EvenWithASnapshot()
    {
        // Each step kept: timestamp and snapshot are trusted, the targets that failed are not.
        var updater = Repo.NewUpdater(Store, new TufUpdaterOptions { CommitEachStep = true });
        Repo.Source.Files.Remove("targets.json");
        Assert.Throws<AirlockRejectedException>(() => updater.Refresh());
        Assert.NotNull(updater.Trusted.Snapshot);
        Assert.Null(updater.Trusted.Targets);

        var e = Assert.Throws<InvalidOperationException>(() => updater.FindTarget("models/demo.onnx"));
        Assert.Equal("call Refresh before looking up targets", e.Message);
    }

    [Fact]
    public void FindTarget_CommitsTheDelegatedRolesItLoaded()
    {
        var models = new TestDelegation { Name = "models", Paths = ["models/*"] };
        models.Targets["models/a"] = [1];
        Repo.Delegations.Add(models);
        Repo.Publish();
        var updater = Refreshed();
        var commits = Store.Commits.Count;

        Assert.Equal("models", updater.FindTarget("models/a")!.Role);

        Assert.Equal(commits + 1, Store.Commits.Count);
        Assert.Same(updater.Trusted, Store.Commits[^1]);
        Assert.True(updater.Trusted.Delegated.ContainsKey("models"));
    }

    [Fact]
    public void FindTarget_FollowsADelegationCycleOnce()
    {
        var d1 = new TestDelegation { Name = "d1", Paths = ["x/*"] };
        var d2 = new TestDelegation { Name = "d2", Parent = "d1", Paths = ["x/*"] };
        var back = new TestDelegation { Name = "d1", Parent = "d2", Paths = ["x/*"], Keys = d1.Keys }; // d2 delegates to d1 again
        Repo.Delegations.AddRange([d1, d2, back]);
        Repo.Publish();
        var updater = Refreshed();

        Assert.Null(updater.FindTarget("x/none"));
        Assert.Equal(["d1", "d2"], updater.Trusted.Delegated.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void RequireTarget_NamesTheFirstFivePathsOutsideTheDelegation()
    {
        var models = new TestDelegation { Name = "models", Paths = ["models/*"] };
        models.Targets["models/a"] = [1];
        for (var i = 1; i <= 6; i++)
        {
            models.Targets[$"bin/{i}"] = [(byte)i];
        }

        Repo.Delegations.Add(models);
        Repo.Publish();
        var updater = Refreshed();

        var e = Rejected(updater, AirlockRejection.DelegationViolation, () => updater.RequireTarget("models/a"));
        Assert.Equal("delegation violation: role models (version 1) lists \"bin/1\", \"bin/2\", \"bin/3\", \"bin/4\", \"bin/5\", outside the paths targets delegates to it", e.Detail);
    }

    [Fact]
    public void FindTarget_StopsAtATerminatingDelegation_EvenBelowAnotherRole_AndSkipsItsParentsLaterSiblings()
    {
        var first = new TestDelegation { Name = "first", Paths = ["x/*"] };
        var later = new TestDelegation { Name = "later", Paths = ["x/*"] };
        later.Targets["x/t"] = [1];
        var terminating = new TestDelegation { Name = "terminating", Parent = "first", Paths = ["x/*"], Terminating = true };
        Repo.Delegations.AddRange([first, later, terminating]);
        Repo.Publish();
        var updater = Refreshed();

        Assert.Null(updater.FindTarget("x/t"));
        Assert.DoesNotContain("later.json", Repo.Source.Fetched);
    }

    [Fact]
    public void Refresh_MetadataLengthAndHashRefusals_NameTheFile()
    {
        var updater = Refreshed();
        NextRelease();
        var snapshot = Repo.Source.Files["snapshot.json"];
        Repo.Source.Files["snapshot.json"] = [.. snapshot, (byte)' '];
        var e = Rejected(updater, AirlockRejection.LengthMismatch, () => updater.Refresh());
        Assert.Equal($"length mismatch: snapshot.json is {snapshot.Length + 1} bytes but its parent lists {snapshot.Length}", e.Detail);

        Repo.HashesInSnapshot = true;
        Repo.Publish();
        var targets = Repo.Source.Files["targets.json"];
        Repo.Source.Files["targets.json"] = [.. targets[..^1], (byte)(targets[^1] ^ 1)];
        e = Rejected(updater, AirlockRejection.HashMismatch, () => updater.Refresh());
        Assert.StartsWith("hash mismatch: targets.json has sha256 ", e.Detail, StringComparison.Ordinal);
    }
}
