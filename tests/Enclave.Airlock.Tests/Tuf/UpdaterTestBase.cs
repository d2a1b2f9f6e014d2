using Enclave.Airlock.Tuf;

namespace Enclave.Airlock.Tests.Tuf;

public abstract class UpdaterTestBase
{
    internal TufTestRepository Repo { get; } = new();

    internal RecordingStore Store { get; } = new();

    /// <summary>An updater that has already trusted version 1 of every role.</summary>
    internal Updater Refreshed(TufUpdaterOptions? options = null)
    {
        var updater = Repo.NewUpdater(Store, options);
        updater.Refresh();
        return updater;
    }

    /// <summary>Advances every role one version and republishes.</summary>
    internal void NextRelease()
    {
        Repo.Versions["targets"]++;
        Repo.Versions["snapshot"]++;
        Repo.Versions["timestamp"]++;
        Repo.Publish();
    }

    /// <summary>Asserts the rejection reason, and that neither the updater's state nor the store changed.</summary>
    internal AirlockRejectedException Rejected(Updater updater, AirlockRejection reason, Action act)
    {
        var before = updater.Trusted;
        var commits = Store.Commits.Count;
        var e = Assert.Throws<AirlockRejectedException>(act);
        Assert.True(reason == e.Reason, $"expected {reason}, got {e.Reason}: {e.Detail}");
        Assert.Same(before, updater.Trusted);
        Assert.Equal(commits, Store.Commits.Count);
        return e;
    }
}
