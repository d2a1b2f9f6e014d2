using System.Text;
using Enclave.Airlock.Tuf;
using Enclave.Core;

namespace Enclave.Airlock.Tests.Tuf;

public sealed class UpdaterHappyPathTests : UpdaterTestBase
{
    [Fact]
    public void Refresh_AcceptsRepositorySignedWithEd25519EcdsaAndRsaPss_AndExposesTargetFile()
    {
        var updater = Repo.NewUpdater(Store);
        var state = updater.Refresh();

        Assert.Equal(1, state.Timestamp!.Version);
        Assert.Equal(1, state.Snapshot!.Version);
        Assert.Equal(1, state.Targets!.Version);
        Assert.Single(Store.Commits);
        var target = updater.RequireTarget("models/demo.onnx");
        var content = Repo.Targets["models/demo.onnx"];
        Assert.Equal(content.Length, target.Length);
        Assert.Equal(Sha256Digest.Compute(content), target.Sha256);
        Assert.Equal("targets", target.Role);
    }

    [Fact]
    public void Refresh_AcceptsNewerRelease_AndCommitsIt()
    {
        var updater = Refreshed();
        NextRelease();

        var state = updater.Refresh();

        Assert.Equal(2, state.Targets!.Version);
        Assert.Same(state, updater.Trusted);
        Assert.Same(state, Store.Commits[^1]);
    }

    [Fact]
    public void Refresh_FollowsAThreeStepRootRotation_WithNewKeysEachStep()
    {
        var updater = Refreshed();
        Repo.RotateRoot("root");
        Repo.RotateRoot("root", "targets");
        Repo.RotateRoot("root");
        NextRelease();

        var state = updater.Refresh();

        Assert.Equal(4, state.Root.Version);
        Assert.Equal(2, state.Targets!.Version);
    }

    [Fact]
    public void Refresh_RecoversFromFastForward_WhenTimestampKeysRotate()
    {
        var updater = Refreshed();
        Repo.Versions["timestamp"] = 1000; // an attacker with the old timestamp key pushed version 1000
        Repo.PublishTimestamp();
        updater.Refresh();
        Assert.Equal(1000, updater.Trusted.Timestamp!.Version);

        Repo.RotateRoot("timestamp");
        Repo.Versions["timestamp"] = 2;
        Repo.PublishTimestamp();
        var state = updater.Refresh();

        Assert.Equal(2, state.Timestamp!.Version);
    }

    [Fact]
    public void Refresh_RecoversFromFastForward_WhenSnapshotKeysRotate()
    {
        var updater = Refreshed();
        Repo.Versions["snapshot"] = 500;
        Repo.Versions["timestamp"]++;
        Repo.Publish();
        updater.Refresh();

        Repo.RotateRoot("snapshot");
        Repo.Versions["snapshot"] = 2;
        Repo.Versions["timestamp"]++;
        Repo.Publish();
        var state = updater.Refresh();

        Assert.Equal(2, state.Snapshot!.Version);
    }

    [Fact]
    public void Refresh_AcceptsThresholdOfTwoMixedKeyTypes_IgnoringUnknownSigners()
    {
        Repo.Keys["snapshot"] = [TestKey.Ecdsa(), TestKey.Rsa(), TestKey.Ed25519()];
        Repo.Thresholds["snapshot"] = 2;
        Repo.PublishRoot();
        var snapshot = TufTestRepository.Parse(Repo.Source.Files["snapshot.json"]);
        Repo.Source.Files["snapshot.json"] = TufTestRepository.Envelope(snapshot, [Repo.Keys["snapshot"][0], TestKey.Ed25519(), Repo.Keys["snapshot"][1]]);
        Repo.PublishTimestamp();

        var state = Repo.NewUpdater(Store).Refresh();

        Assert.Equal(2, state.Root.Roles["snapshot"].Threshold);
    }

    [Fact]
    public void Refresh_WithConsistentSnapshot_FetchesVersionedFiles()
    {
        Repo.ConsistentSnapshot = true;
        Repo.PublishRoot();
        Repo.Publish();
        Repo.Source.Files.Remove("snapshot.json");
        Repo.Source.Files.Remove("targets.json");

        Repo.NewUpdater(Store).Refresh();

        Assert.Contains("1.snapshot.json", Repo.Source.Fetched);
        Assert.Contains("1.targets.json", Repo.Source.Fetched);
    }

    [Fact]
    public void FindTarget_WalksDelegationsByPathAndHashPrefix()
    {
        var models = new TestDelegation { Name = "models", Paths = ["models/*/*.onnx"] };
        models.Targets["models/llama/weights.onnx"] = Encoding.UTF8.GetBytes("weights");
        var hashed = new TestDelegation { Name = "bins", PathHashPrefixes = [Sha256Digest.Compute("bin/tool"u8).ToHex()[..2]] };
        hashed.Targets["bin/tool"] = Encoding.UTF8.GetBytes("tool");
        var nested = new TestDelegation { Name = "llama", Parent = "models", Paths = ["models/llama/*"] };
        nested.Targets["models/llama/tokenizer"] = Encoding.UTF8.GetBytes("tok");
        models.Paths.Add("models/llama/*");
        Repo.Delegations.AddRange([models, hashed, nested]);
        Repo.Publish();
        var updater = Refreshed();

        Assert.Equal("models", updater.RequireTarget("models/llama/weights.onnx").Role);
        Assert.Equal("bins", updater.RequireTarget("bin/tool").Role);
        Assert.Equal("llama", updater.RequireTarget("models/llama/tokenizer").Role);
        Assert.Null(updater.FindTarget("models/llama/nested/weights.onnx"));
        Assert.Equal(3, updater.Trusted.Delegated.Count);
    }

    [Fact]
    public void Refresh_IgnoresSignaturesByUnsupportedKeyTypes_WhenThresholdIsMetOtherwise()
    {
        var root = Repo.RootSigned();
        var keys = (Dictionary<string, object?>)root["keys"]!;
        var odd = new Dictionary<string, object?> { ["keytype"] = "sphincs", ["scheme"] = "sphincs-shake", ["keyval"] = new Dictionary<string, object?> { ["public"] = "00" } };
        var oddId = Sha256Digest.Compute(TufJson.Canonicalize(odd)).ToHex();
        keys[oddId] = odd;
        var timestampRole = (Dictionary<string, object?>)((Dictionary<string, object?>)root["roles"]!)["timestamp"]!;
        ((List<object?>)timestampRole["keyids"]!).Add(oddId);
        Repo.Source.Files["1.root.json"] = TufTestRepository.Envelope(root, Repo.Keys["root"]);

        var state = Repo.NewUpdater(Store).Refresh();

        Assert.False(state.Root.Keys[oddId].IsSupported);
    }

    [Fact]
    public void Refresh_AcceptsRsaPssSignaturesWithMaximumSaltLength()
    {
        Repo.Keys["targets"] = [new RsaMaxSaltTestKey()];
        Repo.PublishRoot();
        Repo.Publish();

        var state = Repo.NewUpdater(Store).Refresh();

        Assert.Equal(1, state.Targets!.Version);
    }
}
