using Enclave.Airlock.Tuf;

namespace Enclave.Airlock.Tests.Tuf;

/// <summary>
/// <see cref="DirectoryTrustedStateStore"/> at its edges: the argument checks and their messages, which persisted
/// files are trusted when one is missing or fails, which files count as a delegated role's (and so are loaded and
/// removed) and which are left alone, and a file rewritten only when its bytes change.
/// </summary>
public sealed class DirectoryTrustedStateStoreEdgeTests : UpdaterTestBase, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("enclave-tuf-store-edge-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string[] Files() => Directory.GetFiles(_dir).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;

    private string PathOf(string name) => Path.Combine(_dir, name);

    /// <summary>A store holding every role of the test repository, with the delegated role <c>models</c>.</summary>
    private DirectoryTrustedStateStore FullStore(TufUpdaterOptions? options = null)
    {
        var models = new TestDelegation { Name = "models", Paths = ["models/*"] };
        models.Targets["models/a"] = [1];
        Repo.Delegations.Add(models);
        Repo.Publish();
        var store = new DirectoryTrustedStateStore(_dir);
        var updater = Repo.NewUpdater(null, options);
        updater.Refresh();
        updater.RequireTarget("models/a");
        store.Commit(updater.Trusted);
        Assert.Equal(["models.json", "root.json", "snapshot.json", "targets.json", "timestamp.json"], Files());
        return store;
    }

    [Fact]
    public void Constructor_RefusesANullOrEmptyOrMissingDirectory_SayingWhich()
    {
        Assert.Equal("directory", Assert.Throws<ArgumentNullException>(() => new DirectoryTrustedStateStore(null!)).ParamName);
        Assert.Equal("directory", Assert.Throws<ArgumentException>(() => new DirectoryTrustedStateStore("")).ParamName);
        var missing = PathOf("missing");

        var e = Assert.Throws<DirectoryNotFoundException>(() => new DirectoryTrustedStateStore(missing));

        Assert.Equal($"metadata directory {missing} does not exist", e.Message);
    }

    [Fact]
    public void LoadAndCommit_NameTheirMissingArgument_AndAMissingRootSaysWhereAndWhatToRun()
    {
        var store = new DirectoryTrustedStateStore(_dir);
        Assert.Equal("options", Assert.Throws<ArgumentNullException>(() => store.Load(null!, out _)).ParamName);
        Assert.Equal("state", Assert.Throws<ArgumentNullException>(() => store.Commit(null!)).ParamName);

        var e = Assert.Throws<FileNotFoundException>(() => store.Load(TufUpdaterOptions.Default, out _));

        Assert.Equal($"no trusted root: {PathOf("root.json")} does not exist (run init first)", e.Message);
        Assert.Equal(PathOf("root.json"), e.FileName);
    }

    [Fact]
    public void Load_OfEveryFile_TrustsEveryRole_AndTheDelegatedOne()
    {
        var state = FullStore().Load(TufUpdaterOptions.Default, out var ignored);

        Assert.Empty(ignored);
        Assert.Equal((1, 1, 1), (state.Timestamp!.Version, state.Snapshot!.Version, state.Targets!.Version));
        Assert.Equal(["models"], state.Delegated.Keys);
    }

    [Fact]
    public void Load_WithoutASnapshot_TrustsNeitherTheTargetsNorADelegatedRole_AndReportsNothing()
    {
        var store = FullStore();
        File.Delete(PathOf("snapshot.json"));

        var state = store.Load(TufUpdaterOptions.Default, out var ignored);

        Assert.Empty(ignored);
        Assert.NotNull(state.Timestamp);
        Assert.Null(state.Snapshot);
        Assert.Null(state.Targets);
        Assert.Empty(state.Delegated);
    }

    [Fact]
    public void Load_OfATimestampThatFails_TrustsOnlyTheRoot_NamingTheTimestamp()
    {
        var store = FullStore();
        File.WriteAllBytes(PathOf("timestamp.json"), TufTestRepository.Envelope(TufTestRepository.Parse(Repo.Source.Files["timestamp.json"]), [TestKey.Ecdsa()]));

        var state = store.Load(TufUpdaterOptions.Default, out var ignored);

        Assert.Equal(["timestamp.json: below threshold: timestamp version 1 has 0 of 1 required signatures by the trusted root's timestamp keys"], ignored);
        Assert.Null(state.Timestamp);
        Assert.Null(state.Snapshot);
        Assert.Empty(state.Delegated);
    }

    [Fact]
    public void Load_OfTargetsThatFail_KeepsTimestampAndSnapshot_AndLoadsNoDelegatedRole()
    {
        var store = FullStore();
        File.WriteAllBytes(PathOf("targets.json"), TufTestRepository.Envelope(TufTestRepository.Parse(Repo.Source.Files["targets.json"]), [TestKey.Ed25519()]));

        var state = store.Load(TufUpdaterOptions.Default, out var ignored);

        Assert.Equal(["targets.json: below threshold: targets version 1 has 0 of 1 required signatures by the trusted root's targets keys"], ignored);
        Assert.NotNull(state.Snapshot);
        Assert.Null(state.Targets);
        Assert.Empty(state.Delegated);
    }

    [Fact]
    public void Load_OfADelegatedFileThatDoesNotParse_SkipsOnlyIt_NamingIt()
    {
        var store = FullStore();
        File.WriteAllText(PathOf("models.json"), "{}");

        var state = store.Load(TufUpdaterOptions.Default, out var ignored);

        Assert.Equal(["models.json: malformed metadata: models has no \"signed\""], ignored);
        Assert.NotNull(state.Targets);
        Assert.Empty(state.Delegated);
    }

    [Fact]
    public void Load_AcceptsADelegatedFileLargerThanTheTargetsBound()
    {
        // The snapshot lists each file's length, so the updater accepted them above the bound.
        Repo.HashesInSnapshot = true;
        var options = new TufUpdaterOptions { MaxTargetsBytes = 64 };
        var store = FullStore(options);

        var state = store.Load(options, out var ignored);

        Assert.Empty(ignored);
        Assert.Equal(["models"], state.Delegated.Keys);
    }

    [Fact]
    public void FilesNotNamedLikeARolesMetadata_AreNeitherLoadedNorRemoved()
    {
        var store = FullStore();
        File.WriteAllText(PathOf(".json"), "{}");
        File.WriteAllText(PathOf("%.json"), "{}");
        File.WriteAllText(PathOf("notes.txt"), "kept");
        File.WriteAllText(PathOf("a b.json"), "{}");
        File.WriteAllText(PathOf("x"), "kept");

        var state = store.Load(TufUpdaterOptions.Default, out var ignored);
        store.Commit(TrustedState.FromRoot(Repo.RootV1));

        Assert.Empty(ignored);
        Assert.Equal(["models"], state.Delegated.Keys);
        Assert.Equal(["%.json", ".json", "a b.json", "notes.txt", "root.json", "x"], Files());
    }

    [Fact]
    public void Commit_WritesTheRootFirst_SoAWriteThatFailsLaterLeavesTheNewRoot()
    {
        var store = FullStore();
        var delegated = store.Load(TufUpdaterOptions.Default, out _).Delegated;
        Repo.Versions["root"]++;
        var root2 = Repo.PublishRoot();
        File.Delete(PathOf("models.json"));
        Directory.CreateDirectory(PathOf("models.json")); // "models.json" sorts before "root.json": it cannot be written

        Assert.ThrowsAny<UnauthorizedAccessException>(() => store.Commit(TrustedState.FromRoot(root2) with { Delegated = delegated }));

        Assert.Equal(root2, File.ReadAllBytes(PathOf("root.json")));
    }

    [Fact]
    public void Commit_ThatCannotWriteAFile_Throws()
    {
        var store = new DirectoryTrustedStateStore(_dir);
        Directory.CreateDirectory(PathOf($".root.json.{Environment.ProcessId}.tmp")); // where the root is written first

        Assert.ThrowsAny<UnauthorizedAccessException>(() => store.Initialize(Repo.RootV1));

        Assert.False(File.Exists(PathOf("root.json")));
    }

    [Fact]
    public void Commit_RewritesOnlyTheFilesWhoseBytesChanged()
    {
        var store = FullStore();
        var old = new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        foreach (var file in Files())
        {
            File.SetLastWriteTimeUtc(PathOf(file), old);
        }

        Repo.Versions["timestamp"]++;
        Repo.PublishTimestamp();
        var updater = new Updater(store.Load(TufUpdaterOptions.Default, out _), Repo.Source, Repo.Clock, null, store);
        updater.Refresh();

        Assert.Equal(2, updater.Trusted.Timestamp!.Version);
        Assert.NotEqual(old, File.GetLastWriteTimeUtc(PathOf("timestamp.json")));
        Assert.All(["root.json", "snapshot.json", "targets.json"], f => Assert.Equal(old, File.GetLastWriteTimeUtc(PathOf(f))));
    }
}
