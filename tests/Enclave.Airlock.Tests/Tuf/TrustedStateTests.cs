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
