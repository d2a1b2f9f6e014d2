using Enclave.Airlock.Tuf;

namespace Enclave.Airlock.Tests.Tuf;

public sealed class TrustedStateTests : UpdaterTestBase
{
    [Fact]
    public void Load_RoundTripsToFiles_AndKeepsRollbackProtection()
    {
        NextRelease();
        var updater = Refreshed();
        var files = updater.Trusted.ToFiles();

        var reloaded = TrustedState.Load(
            files["root.json"].ToArray(), files["timestamp.json"].ToArray(), files["snapshot.json"].ToArray(), files["targets.json"].ToArray());
        var restarted = new Updater(reloaded, Repo.Source, Repo.Clock, store: Store);
        Repo.Versions["timestamp"] = 1;
        Repo.PublishTimestamp();

        Assert.Equal(2, reloaded.Timestamp!.Version);
        Rejected(restarted, AirlockRejection.Rollback, () => restarted.Refresh());
    }

    [Fact]
    public void Load_RejectsPersistedTimestampNotSignedByTheTrustedRoot()
    {
        var updater = Refreshed();
        var files = updater.Trusted.ToFiles();
        var forged = TufTestRepository.Envelope(TufTestRepository.Parse(files["timestamp.json"].ToArray()), [TestKey.Ecdsa()]);

        var e = Assert.Throws<AirlockRejectedException>(() => TrustedState.Load(files["root.json"].ToArray(), forged, null, null));
        Assert.Equal(AirlockRejection.BelowThreshold, e.Reason);
    }

    [Theory]
    [InlineData("snapshot.json", "snapshot")]
    [InlineData("targets.json", "targets")]
    public void Load_RejectsAPersistedSnapshotOrTargetsNotSignedByTheTrustedRoot_SayingWhich(string file, string role)
    {
        var updater = Refreshed();
        var files = updater.Trusted.ToFiles().ToDictionary(f => f.Key, f => f.Value.ToArray());
        files[file] = TufTestRepository.Envelope(TufTestRepository.Parse(files[file]), [TestKey.Ed25519()]);

        var e = Assert.Throws<AirlockRejectedException>(() => TrustedState.Load(files["root.json"], files["timestamp.json"], files["snapshot.json"], files["targets.json"]));

        Assert.Equal(AirlockRejection.BelowThreshold, e.Reason);
        Assert.Equal($"below threshold: {role} version 1 has 0 of 1 required signatures by the trusted root's {role} keys", e.Detail);
    }

    [Fact]
    public void Load_OfRootAlone_TrustsOnlyTheRoot_AndFromRootSaysWhoseKeysFellShort()
    {
        var state = TrustedState.Load(Repo.RootV1, null, null, null);

        Assert.Equal(1, state.Root.Version);
        Assert.Null(state.Timestamp);
        Assert.Null(state.Snapshot);
        Assert.Null(state.Targets);
        Assert.Equal(["root.json"], state.ToFiles().Keys);
        var e = Assert.Throws<AirlockRejectedException>(() => TrustedState.FromRoot(TufTestRepository.Envelope(Repo.RootSigned(), [TestKey.Ed25519()])));
        Assert.Equal("below threshold: root version 1 has 0 of 1 required signatures by its own root keys", e.Detail);
    }

    [Fact]
    public void Load_AcceptsPersistedSnapshotAndTargetsLargerThanTheBounds_WhichTheyPassedWhenListedWithTheirLength()
    {
        Repo.HashesInSnapshot = true;
        Repo.Publish();
        var options = new TufUpdaterOptions { MaxSnapshotBytes = 64, MaxTargetsBytes = 64 };
        var files = Repo.NewUpdater(Store, options).Refresh().ToFiles();

        var state = TrustedState.Load(files["root.json"].ToArray(), files["timestamp.json"].ToArray(), files["snapshot.json"].ToArray(), files["targets.json"].ToArray(), options);

        Assert.Equal((1, 1), (state.Snapshot!.Version, state.Targets!.Version));
    }

    [Fact]
    public void ToFiles_WritesEveryTrustedRole_DelegatedOnesUnderTheirEncodedName()
    {
        var models = new TestDelegation { Name = "models/x", Paths = ["models/*"] };
        models.Targets["models/a"] = [1];
        Repo.Delegations.Add(models);
        Repo.Publish();
        var updater = Refreshed();
        updater.RequireTarget("models/a");

        var files = updater.Trusted.ToFiles();

        Assert.Equal(["root.json", "timestamp.json", "snapshot.json", "targets.json", "models%2Fx.json"], files.Keys);
        Assert.Equal(updater.Trusted.Delegated["models/x"].Bytes.ToArray(), files["models%2Fx.json"].ToArray());
        Assert.Equal(updater.Trusted.Targets!.Bytes.ToArray(), files["targets.json"].ToArray());
    }

    [Fact]
    public void Refresh_RejectsOversizedRootInTheRotationChain()
    {
        var updater = Refreshed(new TufUpdaterOptions { MaxRootBytes = 4096 });
        var root = Repo.RootSigned();
        root["version"] = 2L;
        root["padding"] = new string('x', 8192);
        Repo.Source.Files["2.root.json"] = TufTestRepository.Envelope(root, Repo.Keys["root"]);

        Rejected(updater, AirlockRejection.Oversized, () => updater.Refresh());
    }

    [Fact]
    public void RequireTarget_RejectsMoreDelegationsThanTheBound()
    {
        for (var i = 0; i < 5; i++)
        {
            Repo.Delegations.Add(new TestDelegation { Name = $"d{i}", Paths = ["x/*"] });
        }

        Repo.Publish();
        var updater = Repo.NewUpdater(Store, new TufUpdaterOptions { MaxDelegations = 3 });

        Rejected(updater, AirlockRejection.LimitExceeded, () => updater.Refresh());
    }

    [Fact]
    public void FindTarget_BeforeRefresh_IsAProgrammingError()
    {
        var updater = Repo.NewUpdater(Store);

        Assert.Throws<InvalidOperationException>(() => updater.FindTarget("models/demo.onnx"));
    }
}
