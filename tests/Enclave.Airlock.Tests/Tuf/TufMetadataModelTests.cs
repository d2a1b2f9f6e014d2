using Enclave.Airlock.Tuf;
using Enclave.Core;

namespace Enclave.Airlock.Tests.Tuf;

/// <summary>
/// The model's own decisions, asked directly: when metadata has expired, when two role definitions name the same keys
/// (which decides whether the updater verifies a role again after a root rotation), which paths a delegated role is
/// trusted for, and what the trusted state records of the keys that verified each file it loads.
/// </summary>
public sealed class TufMetadataModelTests : UpdaterTestBase
{
    private static TufRole Role(int threshold, params string[] keyIds) => new() { KeyIds = keyIds, Threshold = threshold };

    [Fact]
    public void IsExpired_FromTheExpiryInstantOn_AndNotOneTickBefore()
    {
        var timestamp = TufMetadataParser.ParseTimestamp(Repo.Source.Files["timestamp.json"], TufUpdaterOptions.Default);

        Assert.False(timestamp.IsExpired(timestamp.Expires.AddTicks(-1)));
        Assert.True(timestamp.IsExpired(timestamp.Expires));
        Assert.True(timestamp.IsExpired(timestamp.Expires.AddTicks(1)));
    }

    [Fact]
    public void SameKeysAs_NeedsTheSameThresholdAndTheSameSetOfKeys_InAnyOrder()
    {
        Assert.True(Role(1, "a", "b").SameKeysAs(Role(1, "b", "a")));
        Assert.False(Role(1, "a", "b").SameKeysAs(Role(2, "a", "b")));
        Assert.False(Role(1, "a", "b").SameKeysAs(Role(1, "a", "c")));
        Assert.False(Role(1, "a").SameKeysAs(Role(1, "a", "b")));
        Assert.False(Role(1, "a", "b").SameKeysAs(Role(1, "a")));
    }

    [Fact]
    public void IsDelegatedPath_MatchesAnyOfItsPatterns()
    {
        var role = new DelegatedRole { Name = "m", Role = Role(1, "a"), Terminating = false, Paths = ["other/*", "models/*"] };

        Assert.True(role.IsDelegatedPath("models/a.onnx"));
        Assert.True(role.IsDelegatedPath("other/b"));
        Assert.False(role.IsDelegatedPath("weights/c"));
    }

    [Fact]
    public void IsDelegatedPath_MatchesAnyOfItsHashPrefixes_InEitherCase()
    {
        var hash = Sha256Digest.Compute("bin/tool"u8).ToHex();
        var other = hash[0] == '0' ? "1" : "0";
        DelegatedRole Prefixes(params string[] prefixes) => new() { Name = "h", Role = Role(1, "a"), Terminating = false, PathHashPrefixes = prefixes };

        Assert.True(Prefixes(other, hash[..3]).IsDelegatedPath("bin/tool"));
        Assert.True(Prefixes(hash[..4].ToUpperInvariant()).IsDelegatedPath("bin/tool"));
        Assert.True(Prefixes(hash).IsDelegatedPath("bin/tool"));
        Assert.False(Prefixes(other).IsDelegatedPath("bin/tool"));
        Assert.False(Prefixes().IsDelegatedPath("bin/tool"));
    }

    [Fact]
    public void IsDelegatedPath_OfARoleWithNeitherPathsNorHashPrefixes_IsFalseForEveryPath()
    {
        var role = new DelegatedRole { Name = "none", Role = Role(1, "a"), Terminating = false };

        Assert.False(role.IsDelegatedPath("models/a.onnx"));
        Assert.False(role.IsDelegatedPath(""));
    }

    [Fact]
    public void FromRoot_AndLoad_NameTheMissingRoot()
    {
        Assert.Equal("rootJson", Assert.Throws<ArgumentNullException>(() => TrustedState.FromRoot(null!)).ParamName);
        Assert.Equal("rootJson", Assert.Throws<ArgumentNullException>(() => TrustedState.Load(null!, null, null, null)).ParamName);
    }

    [Fact]
    public void Load_RecordsWhichKeysVerifiedEachFile_AndNoDelegatedRoles()
    {
        var files = Refreshed().Trusted.ToFiles().ToDictionary(f => f.Key, f => f.Value.ToArray());

        var state = TrustedState.Load(files["root.json"], files["timestamp.json"], files["snapshot.json"], files["targets.json"]);

        foreach (var (metadata, role) in new TufMetadata[] { state.Root, state.Timestamp!, state.Snapshot!, state.Targets! }.Zip(new[] { "root", "timestamp", "snapshot", "targets" }))
        {
            Assert.Equal(role, metadata.RoleName);
            Assert.Equal(1, metadata.VerifiedSigners!.Threshold);
            Assert.Equal([Repo.Keys[role][0].KeyId], metadata.VerifiedSigners.KeyIds);
            Assert.Equal(files[role + ".json"], metadata.Bytes.ToArray());
        }

        Assert.Empty(state.Delegated);
        Assert.Equal(files.Keys, state.ToFiles().Keys);
    }

    [Fact]
    public void Load_RefusesAPersistedTimestampNotSignedByTheTrustedRoot_SayingWhoseKeys()
    {
        var files = Refreshed().Trusted.ToFiles().ToDictionary(f => f.Key, f => f.Value.ToArray());
        var forged = TufTestRepository.Envelope(TufTestRepository.Parse(files["timestamp.json"]), [TestKey.Ecdsa()]);

        var e = Assert.Throws<AirlockRejectedException>(() => TrustedState.Load(files["root.json"], forged, null, null));

        Assert.Equal(AirlockRejection.BelowThreshold, e.Reason);
        Assert.Equal("below threshold: timestamp version 1 has 0 of 1 required signatures by the trusted root's timestamp keys", e.Detail);
    }

    [Fact]
    public void Load_WithOptions_AppliesThemToTheRoot()
    {
        var root = Repo.RootV1;

        var e = Assert.Throws<AirlockRejectedException>(() => TrustedState.Load(root, null, null, null, new TufUpdaterOptions { MaxRootBytes = root.Length - 1 }));

        Assert.Equal(AirlockRejection.Oversized, e.Reason);
        Assert.Equal(1, TrustedState.Load(root, null, null, null, new TufUpdaterOptions { MaxRootBytes = root.Length }).Root.Version);
    }
}
