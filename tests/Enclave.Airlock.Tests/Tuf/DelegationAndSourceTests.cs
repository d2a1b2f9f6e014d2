using System.Text;
using Enclave.Airlock.Tuf;

namespace Enclave.Airlock.Tests.Tuf;

public sealed class DelegationAndSourceTests : UpdaterTestBase
{
    [Theory]
    [InlineData("models/*", "models/a.onnx", true)]
    [InlineData("models/*", "models/llama/a.onnx", false)]
    [InlineData("models/*.onnx", "models/a.onnx", true)]
    [InlineData("models/*.onnx", "models/a.onnx.bak", false)]
    [InlineData("models/?.onnx", "models/a.onnx", true)]
    [InlineData("*", "a/b", false)]
    [InlineData("*/*", "a/b", true)]
    [InlineData("a/b", "a/b", true)]
    [InlineData("a/*b*c", "a/xxbyyc", true)]
    [InlineData("a*", "a*b", true)]
    [InlineData("a*c", "a*b", false)]
    [InlineData("models/*", "models/", true)]
    [InlineData("a**", "a", true)]
    [InlineData("*?", "", false)]
    [InlineData("a?", "a", false)]
    [InlineData("ab", "a", false)]
    [InlineData("a", "ab", false)]
    [InlineData("a*c", "abcbd", false)]
    [InlineData("*x", "abc", false)]
    [InlineData("?b", "ab", true)]
    [InlineData("??", "a/", false)]
    [InlineData("ab", "xb", false)]
    [InlineData("models/a.onnx", "models/b.onnx", false)]
    public void PathPattern_StarAndQuestionMarkNeverCrossSlash(string pattern, string path, bool expected)
    {
        Assert.Equal(expected, TufPathPattern.Matches(pattern, path));
    }

    [Fact]
    public void Refresh_CountsOneKeyListedUnderTwoIdsOnce_AndRejectsBelowThreshold()
    {
        var options = new TufUpdaterOptions { RequireKeyIdMatchesKey = false };
        var key = Repo.Keys["snapshot"][0];
        var root = Repo.RootSigned();
        var alias = "ab" + key.KeyId[2..];
        ((Dictionary<string, object?>)root["keys"]!)[alias] = key.KeyObject;
        var role = (Dictionary<string, object?>)((Dictionary<string, object?>)root["roles"]!)["snapshot"]!;
        ((List<object?>)role["keyids"]!).Add(alias);
        role["threshold"] = 2L;
        Repo.Source.Files["1.root.json"] = TufTestRepository.Envelope(root, Repo.Keys["root"]);
        var signed = TufTestRepository.Parse(Repo.Source.Files["snapshot.json"]);
        var sig = Convert.ToHexStringLower(key.SignRaw(TufJson.Canonicalize(signed)));
        Repo.Source.Files["snapshot.json"] = TestJson.Serialize(new Dictionary<string, object?>
        {
            ["signed"] = signed,
            ["signatures"] = new List<object?>
            {
                new Dictionary<string, object?> { ["keyid"] = key.KeyId, ["sig"] = sig },
                new Dictionary<string, object?> { ["keyid"] = alias, ["sig"] = sig },
            },
        });
        Repo.PublishTimestamp();
        var updater = Repo.NewUpdater(Store, options);

        Rejected(updater, AirlockRejection.BelowThreshold, () => updater.Refresh());
    }

    [Fact]
    public void RequireTarget_SaysTheDelegationChain_AndEveryTrustedRoleCarriesOnlyTheKeysThatVerifiedIt()
    {
        // targets -> models (2 of 3 keys) -> onnx (1 key): the target is listed by onnx, two delegations down.
        var outsider = TestKey.Ed25519();
        var models = new TestDelegation { Name = "models", Paths = ["models/*", "models/*/*"], Keys = [TestKey.Ed25519(), TestKey.Ed25519(), TestKey.Ecdsa()], Threshold = 2 };
        var onnx = new TestDelegation { Name = "onnx", Parent = "models", Paths = ["models/onnx/*"] };
        onnx.Targets["models/onnx/a"] = [1];
        Repo.Delegations.Add(models);
        Repo.Delegations.Add(onnx);
        Repo.Publish();
        // models.json signed by its first and third keys, and by a key it does not authorise (the snapshot lists no hashes).
        Repo.Resign("models.json", _ => { }, [models.Keys[0], models.Keys[2], outsider]);
        var updater = Refreshed();

        var target = updater.RequireTarget("models/onnx/a");

        Assert.Equal("onnx", target.Role);
        Assert.Equal(["targets", "models", "onnx"], target.DelegationChain);
        var trusted = updater.Trusted;
        static string[] Ids(IEnumerable<TestKey> keys) => [.. keys.Select(k => k.KeyId).Order(StringComparer.Ordinal)];
        Assert.Equal(1, trusted.Root.VerifiedSigners!.Threshold);
        Assert.Equal(Ids(Repo.Keys["root"]), trusted.Root.VerifiedSigners.KeyIds);
        Assert.Equal(Ids(Repo.Keys["timestamp"]), trusted.Timestamp!.VerifiedSigners!.KeyIds);
        Assert.Equal(Ids(Repo.Keys["snapshot"]), trusted.Snapshot!.VerifiedSigners!.KeyIds);
        Assert.Equal(Ids(Repo.Keys["targets"]), trusted.Targets!.VerifiedSigners!.KeyIds);
        Assert.Equal(2, trusted.Delegated["models"].VerifiedSigners!.Threshold);
        Assert.Equal(Ids([models.Keys[0], models.Keys[2]]), trusted.Delegated["models"].VerifiedSigners!.KeyIds);
        Assert.Equal(1, trusted.Delegated["onnx"].VerifiedSigners!.Threshold);
        Assert.Equal(Ids(onnx.Keys), trusted.Delegated["onnx"].VerifiedSigners!.KeyIds);
    }

    [Fact]
    public void RequireTarget_RecordsTheKeysOfTheDelegationInForce_WhenACachedRoleIsStillAuthorisedByFewerOfThem()
    {
        var models = new TestDelegation { Name = "models", Paths = ["models/*"], Keys = [TestKey.Ed25519(), TestKey.Ed25519()], Threshold = 1 };
        models.Targets["models/a"] = [1];
        Repo.Delegations.Add(models);
        Repo.Publish();
        var updater = Refreshed();
        updater.RequireTarget("models/a");
        Assert.Equal(2, updater.Trusted.Delegated["models"].VerifiedSigners!.KeyIds.Count);

        // targets v2 drops the second key from the delegation; models.json (same version, cached) still verifies by the first.
        var cached = Repo.Source.Files["models.json"];
        var dropped = models.Keys[1];
        models.Keys.RemoveAt(1);
        NextRelease();
        Repo.Source.Files["models.json"] = cached;
        updater.Refresh();
        updater.RequireTarget("models/a");

        Assert.Equal([models.Keys[0].KeyId], updater.Trusted.Delegated["models"].VerifiedSigners!.KeyIds);
        Assert.DoesNotContain(dropped.KeyId, updater.Trusted.Delegated["models"].VerifiedSigners!.KeyIds);
    }

    [Fact]
    public void RequireTarget_ReverifiesACachedDelegatedRole_WhenTheParentChangesItsKeys()
    {
        var models = new TestDelegation { Name = "models", Paths = ["models/*"] };
        models.Targets["models/a"] = [1];
        Repo.Delegations.Add(models);
        Repo.Publish();
        var updater = Refreshed();
        updater.RequireTarget("models/a");

        // targets v2 delegates "models" to a new key; the cached models.json (same version) was signed by the old one.
        var stolen = Repo.Source.Files["models.json"];
        models.Keys = [TestKey.Ecdsa()];
        NextRelease();
        Repo.Source.Files["models.json"] = stolen;
        updater.Refresh();

        Rejected(updater, AirlockRejection.BelowThreshold, () => updater.RequireTarget("models/a"));
    }

    [Fact]
    public void RequireTarget_RejectsDelegatedRoleNotListedInSnapshot_AsUnknownRole()
    {
        var models = new TestDelegation { Name = "models", Paths = ["models/*"] };
        Repo.Delegations.Add(models);
        Repo.Publish();
        Repo.Resign("snapshot.json", s => ((Dictionary<string, object?>)s["meta"]!).Remove("models.json"), Repo.Keys["snapshot"]);
        Repo.PublishTimestamp();
        var updater = Refreshed();

        var e = Rejected(updater, AirlockRejection.UnknownRole, () => updater.RequireTarget("models/a"));
        Assert.Equal("unknown role: snapshot version 1 does not list delegated role models.json", e.Detail);
    }

    [Fact]
    public void DirectorySource_ServesARepository_AndNeverLeavesItsDirectory()
    {
        var dir = Directory.CreateTempSubdirectory("tuf-dir-source-");
        try
        {
            foreach (var (name, bytes) in Repo.Source.Files)
            {
                File.WriteAllBytes(Path.Combine(dir.FullName, name), bytes);
            }

            Directory.CreateDirectory(Path.Combine(dir.FullName, "inner"));
            File.WriteAllText(Path.Combine(dir.FullName, "secret.json"), "{}");
            var source = new DirectoryMetadataSource(Path.Combine(dir.FullName, "inner"));
            Assert.Null(source.Fetch("../secret", null, 1024));
            source = new DirectoryMetadataSource(dir.FullName);
            var updater = new Updater(TrustedState.FromRoot(Repo.RootV1), source, Repo.Clock);

            Assert.Equal(1, updater.Refresh().Targets!.Version);
            Assert.Equal("..%2Fsecret.json", DirectoryMetadataSource.FileName("../secret", null));
            Assert.Equal(101, source.Fetch("timestamp", null, 100)!.Length);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void TargetFile_ExposesCustomAsCanonicalJson()
    {
        var targets = Repo.TargetsSigned("targets");
        var entry = (Dictionary<string, object?>)((Dictionary<string, object?>)targets["targets"]!)["models/demo.onnx"]!;
        entry["custom"] = new Dictionary<string, object?> { ["label"] = "SECRET", ["kind"] = "model" };
        Repo.Source.Files["targets.json"] = TufTestRepository.Envelope(targets, Repo.Keys["targets"]);
        Repo.Versions["snapshot"]++;
        Repo.Versions["timestamp"]++;
        var snapshot = TufTestRepository.Common("snapshot", 2, Repo.Expires["snapshot"]);
        snapshot["meta"] = new Dictionary<string, object?> { ["targets.json"] = TufTestRepository.MetaEntry(1, Repo.Source.Files["targets.json"], true) };
        Repo.Source.Files["snapshot.json"] = TufTestRepository.Envelope(snapshot, Repo.Keys["snapshot"]);
        Repo.PublishTimestamp();

        var updater = Repo.NewUpdater(Store);
        updater.Refresh();

        Assert.Equal("{\"kind\":\"model\",\"label\":\"SECRET\"}", updater.RequireTarget("models/demo.onnx").CustomJson);
        Assert.Equal(16, Encoding.UTF8.GetByteCount("demo model bytes"));
    }

    [Fact]
    public void InMemorySource_ServesBundleMetadata_ByTufFileNames()
    {
        var source = new InMemoryMetadataSource(new Dictionary<string, byte[]>(Repo.Source.Files));
        var updater = new Updater(TrustedState.FromRoot(Repo.RootV1), source, Repo.Clock);

        Assert.Equal("models/demo.onnx", updater.Refresh().Targets!.Targets.Keys.Single());
        Assert.Null(source.Fetch("root", 2, 1024));
    }
}
