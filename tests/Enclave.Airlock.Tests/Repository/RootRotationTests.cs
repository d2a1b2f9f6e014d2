using Enclave.Airlock.Repository;
using Enclave.Airlock.Tuf;
using Enclave.Signing.Keys;

namespace Enclave.Airlock.Tests.Repository;

[Collection(RepositoryCollection.Name)]
public sealed class RootRotationTests(TemplateRepositories templates) : RepositoryTestBase(templates)
{
    [Fact]
    public void RotatedChain_IsFollowedByAnEnclavePinnedToRoot1()
    {
        var repo = Copy(Templates.Multi);
        var pinned = Pinned(repo);
        var second = Rotate(repo, new RootRotationOptions());
        var third = Rotate(repo, new RootRotationOptions { RootKeys = 2, RootThreshold = 1, KeyType = SigningKeyType.EcdsaP256 });
        Assert.Equal(2, second.Version);
        Assert.Equal(3, third.Version);
        Assert.All(second.Signatures.Concat(third.Signatures), s => Assert.True(s.IsComplete));
        Assert.Equal(3, Directory.EnumerateFiles(Path.Combine(repo, "metadata"), "*.root.json").Count());
        Assert.Equal(File.ReadAllBytes(third.RootPath), File.ReadAllBytes(Path.Combine(repo, "metadata", "root.json")));

        var result = Create(repo, Model("demo.tar", WriteFile("model.onnx", BundleWriterTests.RandomBytes(100))) with
        {
            KeyFiles = [Key(repo, "snapshot"), Key(repo, "timestamp"), Key(repo, "model-1"), Key(repo, "model-3")],
        });
        Assert.True(result.IsComplete);

        var imported = Import(result.Files.Single(), pinned);
        Assert.Equal(3, imported.Trusted.Root.Version);
        Assert.Equal(2, imported.Trusted.Root.Keys.Values.Count(k => k.KeyType == "ecdsa"));
    }

    [Fact]
    public void NewRoot_IsSignedByOldAndNewRootKeys_AndEachHalfIsRequired()
    {
        var repo = Copy(Templates.Multi);
        var rotated = Rotate(repo, new RootRotationOptions());
        var oldRoot = TufMetadataParser.ParseRoot(File.ReadAllBytes(Path.Combine(repo, "metadata", "1.root.json")), TufUpdaterOptions.Default);
        var newRootBytes = File.ReadAllBytes(rotated.RootPath);
        var newRoot = TufMetadataParser.ParseRoot(newRootBytes, TufUpdaterOptions.Default);
        Assert.Empty(oldRoot.Roles["root"].KeyIds.Intersect(newRoot.Roles["root"].KeyIds));

        foreach (var keep in new[] { oldRoot.Roles["root"].KeyIds, newRoot.Roles["root"].KeyIds })
        {
            // Strip one half's signatures: the enclave must refuse the chain.
            var envelope = (Dictionary<string, object?>)TufJson.Parse(newRootBytes, 32)!;
            envelope["signatures"] = ((List<object?>)envelope["signatures"]!).Where(s => keep.Contains((string)((Dictionary<string, object?>)s!)["keyid"]!)).ToList();
            var files = new Dictionary<string, byte[]>(StringComparer.Ordinal)
            {
                ["2.root.json"] = TestJsonBytes(envelope),
            };
            var updater = new Updater(TrustedState.FromRoot(Pinned(repo)), new InMemoryMetadataSource(files), TimeProvider.System);
            var e = Assert.Throws<AirlockRejectedException>(() => updater.Refresh());
            Assert.True(e.Reason is AirlockRejection.BadRootRotation or AirlockRejection.BelowThreshold, e.Reason + ": " + e.Detail);
        }
    }

    [Fact]
    public void Rotation_WithoutAThresholdOfOldRootKeys_IsRefused_AndChangesNothing()
    {
        var repo = Copy(Templates.Multi);
        var before = Snapshot(repo);
        using var passphrase = TemplateRepositories.Passphrase();
        var e = Assert.Throws<TrustRepositoryException>(() => TrustRepository.Open(repo).RotateRoot(
            new RootRotationOptions { KeyFiles = [Key(repo, "root-1")] }, passphrase, TimeProvider.System));
        Assert.Equal(TrustRepositoryError.BelowThreshold, e.Error);
        Assert.Contains("needs 2", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, Snapshot(repo));
    }

    [Fact]
    public void Rotation_WithWrongPassphrase_IsRefused_AndChangesNothing()
    {
        var repo = Copy(Templates.Basic);
        var before = Snapshot(repo);
        using var wrong = Passphrase.FromString("wrong passphrase entirely");
        var e = Assert.Throws<SigningException>(() => TrustRepository.Open(repo).RotateRoot(new RootRotationOptions(), wrong, TimeProvider.System));
        Assert.Equal(SigningFailure.KeyDecryptionFailed, e.Reason);
        Assert.Equal(before, Snapshot(repo));
    }

    private static RootRotationResult Rotate(string repo, RootRotationOptions options)
    {
        using var passphrase = TemplateRepositories.Passphrase();
        return TrustRepository.Open(repo).RotateRoot(options, passphrase, TimeProvider.System);
    }

    private static byte[] TestJsonBytes(Dictionary<string, object?> value) => Tuf.TestJson.Serialize(value);
}
