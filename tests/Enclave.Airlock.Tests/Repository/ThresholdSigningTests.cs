using Enclave.Airlock.Repository;
using Enclave.Airlock.Tuf;
using Enclave.Signing.Keys;

namespace Enclave.Airlock.Tests.Repository;

[Collection(RepositoryCollection.Name)]
public sealed class ThresholdSigningTests(TemplateRepositories templates) : RepositoryTestBase(templates)
{
    [Fact]
    public void TwoOfThree_BySeparateSignCalls_BelowThresholdIsRejectedUntilTheSecond()
    {
        var repo = Copy(Templates.Multi);
        var content = BundleWriterTests.RandomBytes(300_000);
        var created = Create(repo, Model("demo.tar", WriteFile("model.onnx", content)) with { KeyFiles = [Key(repo, "snapshot"), Key(repo, "timestamp")] });
        var bundle = created.Files.Single();
        var model = created.Signatures.Single(s => s.File == "model.json");
        Assert.Equal((0, 2, 3), (model.Valid, model.Threshold, model.MissingKeyIds.Count));
        Assert.False(created.IsComplete);
        Rejected(bundle, repo);

        var first = Sign(bundle, Key(repo, "model-1"));
        Assert.Equal(["model.json"], first.SignedFiles);
        Assert.False(first.IsComplete);
        Assert.False(first.Unchanged);
        Rejected(bundle, repo);

        // Idempotent: the same key again leaves the bundle byte for byte.
        var bytes = File.ReadAllBytes(bundle);
        Assert.True(Sign(bundle, Key(repo, "model-1")).Unchanged);
        Assert.Equal(bytes, File.ReadAllBytes(bundle));

        var second = Sign(bundle, Key(repo, "model-3"));
        Assert.True(second.IsComplete);
        var imported = Import(bundle, Pinned(repo));
        Assert.Equal(content, imported.Content("model/demo-chat/1.0.0/model.onnx"));

        var third = Sign(bundle, Key(repo, "model-2"));
        Assert.Equal(3, third.Signatures.Single(s => s.File == "model.json").Valid);
        Import(bundle, Pinned(repo));
    }

    [Fact]
    public void Sign_WithAKeyOfAnotherKind_IsRefused_AndLeavesTheBundle()
    {
        var repo = Copy(Templates.Multi);
        var bundle = Create(repo, Model("demo.tar", WriteFile("model.onnx", BundleWriterTests.RandomBytes(100))) with
        {
            KeyFiles = [Key(repo, "snapshot"), Key(repo, "timestamp"), Key(repo, "model-1")],
        }).Files.Single();
        var bytes = File.ReadAllBytes(bundle);
        var e = Assert.Throws<SigningException>(() => Sign(bundle, Key(repo, "update-1")));
        Assert.Equal(SigningFailure.KeyNotAuthorised, e.Reason);
        Assert.Equal(bytes, File.ReadAllBytes(bundle));
    }

    [Fact]
    public void Sign_SplitBundle_KeepsItSplit_AndItVerifies()
    {
        var repo = Copy(Templates.Multi);
        var content = BundleWriterTests.RandomBytes(700_000);
        var created = Create(repo, Model("split.tar", WriteFile("model.onnx", content)) with
        {
            KeyFiles = [Key(repo, "snapshot"), Key(repo, "timestamp"), Key(repo, "model-2")],
            SplitSize = 256 * 1024,
        });
        Assert.Equal(3, created.Files.Count);
        var signed = Sign(Path.Combine(Root, "split.tar.000"), Key(repo, "model-1"));
        Assert.True(signed.IsComplete);
        Assert.Equal(created.Files, signed.Files);
        Assert.Empty(Directory.EnumerateFiles(Root, "*.partial*", SearchOption.AllDirectories));
        Assert.Equal(content, Import(Path.Combine(Root, "split.tar"), Pinned(repo)).Content("model/demo-chat/1.0.0/model.onnx"));
    }

    [Fact]
    public void Sign_BundleWithAlteredTarget_IsRefused_AndLeavesIt()
    {
        var repo = Copy(Templates.Multi);
        var content = BundleWriterTests.RandomBytes(50_000);
        var bundle = Create(repo, Model("demo.tar", WriteFile("model.onnx", content)) with
        {
            KeyFiles = [Key(repo, "snapshot"), Key(repo, "timestamp"), Key(repo, "model-2")],
        }).Files.Single();
        var bytes = File.ReadAllBytes(bundle);
        bytes[bytes.AsSpan().IndexOf(content.AsSpan(0, 64)) + 1000] ^= 0x80;
        File.WriteAllBytes(bundle, bytes);

        var e = Assert.Throws<TrustRepositoryException>(() => Sign(bundle, Key(repo, "model-1")));
        Assert.Equal(TrustRepositoryError.BundleInvalid, e.Error);
        Assert.Equal(bytes, File.ReadAllBytes(bundle));
    }

    [Fact]
    public void Sign_TruncatedOrForeignFile_IsRefused()
    {
        var repo = Copy(Templates.Multi);
        var bundle = Create(repo, Model("demo.tar", WriteFile("model.onnx", BundleWriterTests.RandomBytes(20_000))) with
        {
            KeyFiles = [Key(repo, "snapshot"), Key(repo, "timestamp")],
        }).Files.Single();
        var bytes = File.ReadAllBytes(bundle);
        File.WriteAllBytes(bundle, bytes[..(bytes.Length / 2)]);
        Assert.Equal(TrustRepositoryError.BundleInvalid, Assert.Throws<TrustRepositoryException>(() => Sign(bundle, Key(repo, "model-1"))).Error);

        File.WriteAllBytes(bundle, bytes[..3000]);
        Assert.Equal(TrustRepositoryError.BundleInvalid, Assert.Throws<TrustRepositoryException>(() => Sign(bundle, Key(repo, "model-1"))).Error);

        var foreign = WriteFile("foreign.tar", BundleWriterTests.RandomBytes(4096));
        Assert.Equal(TrustRepositoryError.BundleInvalid, Assert.Throws<TrustRepositoryException>(() => Sign(foreign, Key(repo, "model-1"))).Error);
    }

    private void Rejected(string bundle, string repo)
    {
        var e = Assert.Throws<AirlockRejectedException>(() => Import(bundle, Pinned(repo)));
        Assert.Equal(AirlockRejection.BelowThreshold, e.Reason);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(Root, "enclave-data", "quarantine")));
    }
}
