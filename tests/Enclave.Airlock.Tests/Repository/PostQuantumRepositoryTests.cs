using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using Enclave.Airlock.Repository;
using Enclave.Airlock.Tuf;
using Enclave.Signing.Keys;

namespace Enclave.Airlock.Tests.Repository;

/// <summary><c>enclave trust init --post-quantum</c>: one ML-DSA-65 key per role beside the classical keys.</summary>
[Collection(RepositoryCollection.Name)]
public sealed class PostQuantumRepositoryTests(TemplateRepositories templates) : RepositoryTestBase(templates)
{
    private static readonly TufUpdaterOptions RequirePq = TufUpdaterOptions.Default with { RequirePostQuantumSignature = true };

    [Fact]
    public void PostQuantumRepository_ListsOneMlDsaKeyPerRole_KeepsClassicalThresholds_AndVerifiesWithTheOptionOnAndOff()
    {
        var repo = Copy(Templates.PostQuantum);
        var root = TufMetadataParser.ParseRoot(Pinned(repo), TufUpdaterOptions.Default);
        foreach (var role in new[] { "root", "targets", "snapshot", "timestamp" })
        {
            var keys = root.Roles[role].KeyIds.Select(id => root.Keys[id]).ToList();
            Assert.Single(keys, k => k.IsPostQuantum);
            Assert.Equal(keys.Count(k => !k.IsPostQuantum), root.Roles[role].Threshold);
            Assert.All(keys.Where(k => k.IsPostQuantum), k => Assert.Equal(("ml-dsa-65", "ml-dsa-65"), (k.KeyType, k.Scheme)));
        }

        Assert.Equal(2, root.Roles["root"].Threshold);
        foreach (var kind in TrustRepository.Kinds)
        {
            Assert.True(File.Exists(Key(repo, $"{kind}-ml-dsa-65")), kind);
        }

        var result = Create(repo, Model("demo.tar", WriteFile("model.onnx", BundleWriterTests.RandomBytes(300))));
        Assert.True(result.IsComplete);
        var bundle = result.Files.Single();
        var delegated = Import(bundle, Pinned(repo), RequirePq).Trusted.Delegated["model"];
        Assert.Equal(2, delegated.Signatures.Count);
        Assert.Equal(result.Targets.Count, Import(bundle, Pinned(repo), TufUpdaterOptions.Default).Targets.Count);
    }

    [Fact]
    public void ClassicalRepository_IsRejectedWithTheOptionOn_AndAcceptedWithItOff()
    {
        var repo = Copy(Templates.Basic);
        var bundle = Create(repo, Model("demo.tar", WriteFile("model.onnx", BundleWriterTests.RandomBytes(300)))).Files.Single();
        var e = Assert.Throws<AirlockRejectedException>(() => Import(bundle, Pinned(repo), RequirePq));
        Assert.Equal(AirlockRejection.MissingPostQuantumSignature, e.Reason);
        Assert.Contains("timestamp version", e.Detail, StringComparison.Ordinal);
        Assert.NotEmpty(Import(bundle, Pinned(repo)).Targets);
    }

    [Fact]
    public void MetadataWithItsMlDsaSignaturesStripped_VerifiesOnClassicalThresholdsWithTheOptionOff_AndIsRejectedWithItOn()
    {
        var repo = Copy(Templates.PostQuantum);
        var files = MetadataFiles(repo);
        var root = TufMetadataParser.ParseRoot(files["1.root.json"], TufUpdaterOptions.Default);
        var pq = root.Keys.Values.Where(k => k.IsPostQuantum).Select(k => k.KeyId).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(4, pq.Count);
        foreach (var name in files.Keys.Where(n => n.EndsWith(".json", StringComparison.Ordinal) && !n.Contains("root", StringComparison.Ordinal)).ToList())
        {
            var envelope = (Dictionary<string, object?>)TufJson.Parse(files[name], 32)!;
            var signatures = (List<object?>)envelope["signatures"]!;
            var removed = signatures.RemoveAll(s => pq.Contains((string)((Dictionary<string, object?>)s!)["keyid"]!));
            Assert.Equal(name is "timestamp.json" or "snapshot.json" or "targets.json" ? 1 : 0, removed);
            files[name] = Tests.Tuf.TestJson.Serialize(envelope);
        }

        // The repository's timestamp and snapshot list versions only, so stripping signatures changes nothing else.
        new Updater(TrustedState.FromRoot(files["1.root.json"]), new InMemoryMetadataSource(files), TimeProvider.System).Refresh();
        var e = Assert.Throws<AirlockRejectedException>(() => new Updater(TrustedState.FromRoot(files["1.root.json"]), new InMemoryMetadataSource(files), TimeProvider.System, RequirePq).Refresh());
        Assert.Equal(AirlockRejection.MissingPostQuantumSignature, e.Reason);
        Assert.Contains("timestamp version 1", e.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void BundleSign_WithTheMlDsaKeyFile_AddsThePostQuantumSignatureTheEnclaveRequires()
    {
        var repo = Copy(Templates.PostQuantum);
        var result = Create(repo, Model("demo.tar", WriteFile("model.onnx", BundleWriterTests.RandomBytes(300))) with
        {
            KeyFiles = [Key(repo, "snapshot"), Key(repo, "timestamp"), Key(repo, "snapshot-ml-dsa-65"), Key(repo, "timestamp-ml-dsa-65"), Key(repo, "model")],
        });
        Assert.True(result.IsComplete); // the classical threshold is met
        var bundle = result.Files.Single();
        Import(bundle, Pinned(repo));
        var e = Assert.Throws<AirlockRejectedException>(() => Import(bundle, Pinned(repo), RequirePq));
        Assert.Equal(AirlockRejection.MissingPostQuantumSignature, e.Reason);
        Assert.Contains("model version", e.Detail, StringComparison.Ordinal);

        var signed = Sign(bundle, Key(repo, "model-ml-dsa-65"));
        Assert.Equal(["model.json"], signed.SignedFiles);
        Assert.Equal(2, Import(bundle, Pinned(repo), RequirePq).Trusted.Delegated["model"].Signatures.Count);
    }

    [Fact]
    public void MlDsaKeyFile_IsEncryptedPkcs8_RoundTrips_AndRefusesAWrongPassphrase()
    {
        var path = Path.Combine(Root, "pq.pem");
        using var passphrase = TemplateRepositories.Passphrase();
        using (var key = RepositoryKey.Generate(SigningKeyType.MlDsa65))
        {
            KeyFile.Write(path, key, passphrase);
            using var read = KeyFile.Read(path, passphrase);
            Assert.Equal(key.KeyId, read.KeyId);
            Assert.Equal(SigningKeyType.MlDsa65, read.Type);
            Assert.Equal(key.KeyId, KeyFile.ReadPublicKeyId(path));
        }

        var text = File.ReadAllText(path);
        Assert.StartsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----", text, StringComparison.Ordinal);
        var info = Pkcs8PrivateKeyInfo.DecryptAndDecode(TemplateRepositories.Secret, PemEncoding.Find(text) is var f ? Convert.FromBase64String(text[f.Base64Data]) : [], out _);
        Assert.Equal("2.16.840.1.101.3.4.3.18", info.AlgorithmId.Value);

        using var wrong = Passphrase.FromString("wrong passphrase entirely");
        Assert.Equal(SigningFailure.KeyDecryptionFailed, Assert.Throws<SigningException>(() => KeyFile.Read(path, wrong)).Reason);
        Assert.Equal(SigningFailure.InvalidArgument, Assert.Throws<SigningException>(() => SigningKeyTypes.Parse("ml-dsa-65")).Reason);
        Assert.Equal("ml-dsa-65", SigningKeyTypes.Name(SigningKeyType.MlDsa65));
    }

    [Fact]
    public void Rotation_WithPostQuantum_KeepsTheChainVerifiableWithTheOptionOn_AndWithoutItTheNewRootIsRefused()
    {
        var repo = Copy(Templates.PostQuantum);
        var pinned = Pinned(repo);
        using var passphrase = TemplateRepositories.Passphrase();
        var rotated = TrustRepository.Open(repo).RotateRoot(new RootRotationOptions { PostQuantum = true }, passphrase, TimeProvider.System);
        Assert.Equal(3, rotated.NewKeys.Count); // two classical keys as before, one ML-DSA-65
        Assert.Single(rotated.NewKeys, k => k.Type == SigningKeyType.MlDsa65);
        var second = TufMetadataParser.ParseRoot(File.ReadAllBytes(rotated.RootPath), TufUpdaterOptions.Default);
        Assert.Equal(2, second.Roles["root"].Threshold);
        var bundle = Create(repo, Model("demo.tar", WriteFile("model.onnx", BundleWriterTests.RandomBytes(200)))).Files.Single();
        Assert.Equal(2, Import(bundle, pinned, RequirePq).Trusted.Root.Version);

        var third = TrustRepository.Open(repo).RotateRoot(new RootRotationOptions(), passphrase, TimeProvider.System);
        Assert.Equal(2, third.NewKeys.Count);
        var next = Create(repo, Model("demo2.tar", WriteFile("model2.onnx", BundleWriterTests.RandomBytes(200))) with { Version = "1.0.1" }).Files.Single();
        Assert.Equal(3, Import(next, pinned).Trusted.Root.Version);
        var e = Assert.Throws<AirlockRejectedException>(() => Import(next, pinned, RequirePq));
        Assert.Equal(AirlockRejection.MissingPostQuantumSignature, e.Reason);
        Assert.Contains("root version 3", e.Detail, StringComparison.Ordinal);
    }

    private static Dictionary<string, byte[]> MetadataFiles(string repo) =>
        Directory.EnumerateFiles(Path.Combine(repo, "metadata")).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes, StringComparer.Ordinal);

}
