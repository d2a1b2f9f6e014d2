using System.Text;
using Enclave.Airlock.Tuf;

namespace Enclave.Airlock.Tests.Tuf;

/// <summary><see cref="DirectoryTrustedStateStore"/> and the updater's step-by-step commits (<see cref="TufUpdaterOptions.CommitEachStep"/>).</summary>
public sealed class DirectoryTrustedStateStoreTests : UpdaterTestBase, IDisposable
{
    private static readonly TufUpdaterOptions StepOptions = new() { CommitEachStep = true };
    private readonly string _dir = Directory.CreateTempSubdirectory("enclave-tuf-store-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string[] Files() => Directory.GetFiles(_dir).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;

    private int VersionOnDisk(string name) =>
        (int)(long)TufTestRepository.Parse(File.ReadAllBytes(Path.Combine(_dir, name)))["version"]!;

    private Updater StoreUpdater(DirectoryTrustedStateStore store) =>
        new(store.Load(StepOptions, out _), Repo.Source, Repo.Clock, StepOptions, store);

    [Fact]
    public void Commit_WritesTheExactVerifiedBytes_UnderClientNames_AndLoadRoundTrips()
    {
        var store = new DirectoryTrustedStateStore(_dir);
        store.Initialize(Repo.RootV1);
        var models = new TestDelegation { Name = "models/../x?", Paths = ["models/*"] };
        models.Targets["models/a"] = [1];
        Repo.Delegations.Add(models);
        Repo.Publish();
        var updater = StoreUpdater(store);
        updater.Refresh();
        updater.RequireTarget("models/a");

        Assert.Equal(["models%2F..%2Fx%3F.json", "root.json", "snapshot.json", "targets.json", "timestamp.json"], Files());
        Assert.Equal(Repo.Source.Files["snapshot.json"], File.ReadAllBytes(Path.Combine(_dir, "snapshot.json")));
        Assert.Equal(Repo.Source.Files["models/../x?.json"], File.ReadAllBytes(Path.Combine(_dir, "models%2F..%2Fx%3F.json")));

        var loaded = store.Load(StepOptions, out var ignored);
        Assert.Empty(ignored);
        Assert.Equal(1, loaded.Snapshot!.Version);
        Assert.True(loaded.Delegated.ContainsKey("models/../x?"));
        Repo.Source.Fetched.Clear();
        var again = new Updater(loaded, Repo.Source, Repo.Clock, StepOptions, store);
        again.Refresh();
        Assert.NotNull(again.FindTarget("models/a"));
        Assert.DoesNotContain("models/../x?.json", Repo.Source.Fetched);
    }

    [Fact]
    public void Initialize_RefusesARootNotSignedByItsOwnKeys_AndWritesNothing()
    {
        var store = new DirectoryTrustedStateStore(_dir);
        var unsigned = TufTestRepository.Envelope(Repo.RootSigned(), [TestKey.Ed25519()]);

        Assert.Throws<AirlockRejectedException>(() => store.Initialize(unsigned));
        Assert.Throws<AirlockRejectedException>(() => store.Initialize(Encoding.UTF8.GetBytes("{\"signed\":{}}")));
        Assert.Empty(Files());
    }

    [Fact]
    public void Load_WithoutRoot_Throws()
    {
        var store = new DirectoryTrustedStateStore(_dir);

        Assert.Throws<FileNotFoundException>(() => store.Load(StepOptions, out _));
    }

    [Fact]
    public void Load_DoesNotTrustALocalFileThatFailsVerification_NorWhatFollowsIt()
    {
        var store = new DirectoryTrustedStateStore(_dir);
        store.Initialize(Repo.RootV1);
        StoreUpdater(store).Refresh();
        var forged = TufTestRepository.Parse(Repo.Source.Files["snapshot.json"]);
        forged["version"] = 99L;
        File.WriteAllBytes(Path.Combine(_dir, "snapshot.json"), TufTestRepository.Envelope(forged, [TestKey.Ed25519()]));

        var state = store.Load(StepOptions, out var ignored);

        Assert.NotNull(state.Timestamp);
        Assert.Null(state.Snapshot);
        Assert.Null(state.Targets);
        Assert.Single(ignored);
        Assert.StartsWith("snapshot.json", ignored[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Commit_RemovesFilesOfRolesNoLongerTrusted_AfterFastForwardRecovery()
    {
        var store = new DirectoryTrustedStateStore(_dir);
        store.Initialize(Repo.RootV1);
        StoreUpdater(store).Refresh();
        Repo.RotateRoot("timestamp");
        Repo.Keys["timestamp"] = [TestKey.Ed25519()]; // the new root's timestamp key differs from what signed the published timestamp
        var updater = StoreUpdater(store);

        Assert.Throws<AirlockRejectedException>(() => updater.Refresh());

        // Root 2 was kept; the old timestamp and snapshot (signed by rotated-out keys) were dropped from disk too.
        Assert.Equal(2, VersionOnDisk("root.json"));
        Assert.Equal(["root.json", "targets.json"], Files());
    }

    [Fact]
    public void CommitEachStep_KeepsTheVerifiedTimestamp_WhenTheSnapshotFails()
    {
        var store = new DirectoryTrustedStateStore(_dir);
        store.Initialize(Repo.RootV1);
        StoreUpdater(store).Refresh();
        Repo.Versions["snapshot"] = 2;
        Repo.Versions["timestamp"] = 2;
        Repo.Publish();
        Repo.Source.Files["snapshot.json"] = Repo.Source.Files["1.snapshot.json"]; // mix-and-match: timestamp lists 2, repository serves 1

        var e = Assert.Throws<AirlockRejectedException>(() => StoreUpdater(store).Refresh());

        Assert.True(e.Reason is AirlockRejection.HashMismatch or AirlockRejection.LengthMismatch or AirlockRejection.MixAndMatch, e.Detail);
        Assert.Equal(2, VersionOnDisk("timestamp.json"));
        Assert.Equal(1, VersionOnDisk("snapshot.json"));
    }

    [Fact]
    public void CommitEachStep_KeepsANewRoot_EvenWhenItHasExpired()
    {
        var updater = Repo.NewUpdater(Store, StepOptions);
        updater.Refresh();
        Repo.Expires["root"] = TufTestRepository.Start; // already past on the repository clock
        Repo.Versions["root"]++;
        Repo.PublishRoot();

        var e = Assert.Throws<AirlockRejectedException>(() => updater.Refresh());

        Assert.Equal(AirlockRejection.Expired, e.Reason);
        Assert.Equal(2, updater.Trusted.Root.Version);
        Assert.Equal(2, Store.Commits[^1].Root.Version);
        Assert.Equal(1, Store.Commits[^1].Timestamp!.Version);
    }

    [Fact]
    public void CommitEachStep_KeepsEachVerifiedRoot_UpToTheOneThatFails()
    {
        var updater = Repo.NewUpdater(Store, StepOptions);
        updater.Refresh();
        Repo.RotateRoot("root");
        Repo.Versions["root"]++;
        Repo.PublishRoot([TestKey.Ed25519()]); // root 3 signed by a stranger

        var e = Assert.Throws<AirlockRejectedException>(() => updater.Refresh());

        Assert.Equal(AirlockRejection.BadRootRotation, e.Reason);
        Assert.Equal(2, updater.Trusted.Root.Version);
    }

    [Fact]
    public void WithoutCommitEachStep_AFailedRefreshCommitsNothing()
    {
        var updater = Refreshed();
        var commits = Store.Commits.Count;
        Repo.RotateRoot("root");
        Repo.Versions["timestamp"] = 2;
        Repo.Expires["timestamp"] = TufTestRepository.Start;
        Repo.PublishTimestamp();

        Rejected(updater, AirlockRejection.Freeze, () => updater.Refresh());
        Assert.Equal(commits, Store.Commits.Count);
        Assert.Equal(1, updater.Trusted.Root.Version);
    }
}
