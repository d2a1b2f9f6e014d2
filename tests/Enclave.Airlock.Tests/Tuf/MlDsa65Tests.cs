using System.Text;
using Enclave.Airlock.Tuf;
using Enclave.Signing.Keys;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;

namespace Enclave.Airlock.Tests.Tuf;

/// <summary>An ML-DSA-65 key (BouncyCastle, hedged signing) for test repositories.</summary>
internal sealed class MlDsa65TestKey : TestKey
{
    private readonly MLDsaPrivateKeyParameters _key;
    private readonly Dictionary<string, object?> _object;

    public MlDsa65TestKey(byte[]? seed = null)
    {
        _key = MLDsaPrivateKeyParameters.FromSeed(MLDsaParameters.ml_dsa_65, seed ?? System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        _object = Key("ml-dsa-65", "ml-dsa-65", Convert.ToHexStringLower(_key.GetPublicKeyEncoded()));
    }

    public override Dictionary<string, object?> KeyObject => _object;

    public byte[] PublicKey => _key.GetPublicKeyEncoded();

    public override byte[] SignRaw(byte[] data)
    {
        var signer = new MLDsaSigner(MLDsaParameters.ml_dsa_65, deterministic: false);
        signer.Init(true, _key);
        signer.BlockUpdate(data, 0, data.Length);
        return signer.GenerateSignature();
    }
}

/// <summary>ML-DSA-65 (FIPS 204) keys and signatures in TUF metadata, and <see cref="TufUpdaterOptions.RequirePostQuantumSignature"/>.</summary>
public sealed class MlDsa65Tests : UpdaterTestBase
{
    private static readonly TufUpdaterOptions RequirePq = TufUpdaterOptions.Default with { RequirePostQuantumSignature = true };

    [Fact]
    public void BouncyCastleSignature_OverFixedBytes_VerifiesThroughTheTufKey_AndNothingElseDoes()
    {
        // Fixed seed and message; the signature is made by BouncyCastle's own deterministic FIPS 204 signer,
        // independent of the project's signing path.
        var seed = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        var message = Encoding.ASCII.GetBytes("{\"_type\":\"timestamp\",\"version\":1}");
        var privateKey = MLDsaPrivateKeyParameters.FromSeed(MLDsaParameters.ml_dsa_65, seed);
        var signer = new MLDsaSigner(MLDsaParameters.ml_dsa_65, deterministic: true);
        signer.Init(true, privateKey);
        signer.BlockUpdate(message, 0, message.Length);
        var signature = signer.GenerateSignature();
        Assert.Equal(3309, signature.Length);
        Assert.Equal(1952, privateKey.GetPublicKeyEncoded().Length);

        var keyObject = new Dictionary<string, object?>
        {
            ["keytype"] = "ml-dsa-65",
            ["scheme"] = "ml-dsa-65",
            ["keyval"] = new Dictionary<string, object?> { ["public"] = Convert.ToHexStringLower(privateKey.GetPublicKeyEncoded()) },
        };
        var keyId = TufKey.ComputeKeyId(keyObject);
        var key = TufKey.Parse(keyId, keyObject, requireKeyIdMatch: true, "test key");
        Assert.True(key.IsSupported);
        Assert.True(key.IsPostQuantum);
        Assert.True(key.Verify(message, signature));

        var otherMessage = (byte[])message.Clone();
        otherMessage[^2] ^= 1;
        Assert.False(key.Verify(otherMessage, signature));
        var flipped = (byte[])signature.Clone();
        flipped[100] ^= 0x40;
        Assert.False(key.Verify(message, flipped));
        Assert.False(key.Verify(message, signature[..^1]));
        Assert.False(key.Verify(message, [.. signature, 0]));
        Assert.False(key.Verify(message, []));

        // A key of another parameter set under the ml-dsa-65 name does not parse as ML-DSA-65.
        var mlDsa44 = MLDsaPrivateKeyParameters.FromSeed(MLDsaParameters.ml_dsa_44, seed).GetPublicKeyEncoded();
        var wrong = new Dictionary<string, object?>(keyObject) { ["keyval"] = new Dictionary<string, object?> { ["public"] = Convert.ToHexStringLower(mlDsa44) } };
        var e = Assert.Throws<SigningException>(() => TufKey.Parse(TufKey.ComputeKeyId(wrong), wrong, requireKeyIdMatch: true, "test key"));
        Assert.Equal(SigningFailure.Malformed, e.Reason);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1951)]
    [InlineData(1953)]
    [InlineData(4000)]
    public void PublicKey_OfTheWrongLength_IsMalformed(int length)
    {
        var keyObject = new Dictionary<string, object?>
        {
            ["keytype"] = "ml-dsa-65",
            ["scheme"] = "ml-dsa-65",
            ["keyval"] = new Dictionary<string, object?> { ["public"] = Convert.ToHexStringLower(new byte[length]) },
        };
        var e = Assert.Throws<SigningException>(() => TufKey.Parse(TufKey.ComputeKeyId(keyObject), keyObject, requireKeyIdMatch: true, "root.keys[x]"));
        Assert.Equal(SigningFailure.Malformed, e.Reason);
        Assert.Contains("ML-DSA-65", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PublicKey_ThatIsNotHex_IsMalformed()
    {
        var keyObject = new Dictionary<string, object?>
        {
            ["keytype"] = "ml-dsa-65",
            ["scheme"] = "ml-dsa-65",
            ["keyval"] = new Dictionary<string, object?> { ["public"] = new string('z', 3904) },
        };
        var e = Assert.Throws<SigningException>(() => TufKey.Parse(TufKey.ComputeKeyId(keyObject), keyObject, requireKeyIdMatch: true, "root.keys[x]"));
        Assert.Equal(SigningFailure.Malformed, e.Reason);
    }

    [Fact]
    public void HybridRepository_VerifiesWithTheOptionOnAndOff()
    {
        AddPostQuantumKeys();
        Assert.Equal(1, Repo.NewUpdater(options: TufUpdaterOptions.Default).Refresh().Timestamp!.Version);
        var updater = Repo.NewUpdater(options: RequirePq);
        updater.Refresh();
        Assert.NotNull(updater.RequireTarget("models/demo.onnx"));
    }

    [Theory]
    [InlineData("timestamp")]
    [InlineData("snapshot")]
    [InlineData("targets")]
    public void ClassicalOnlyRepository_IsRejectedWithTheOptionOn_NamingTheRole(string role)
    {
        AddPostQuantumKeys();
        StripPostQuantumSignatures(role + ".json");
        if (role == "snapshot")
        {
            Repo.PublishTimestamp(); // the timestamp lists the snapshot's hash
        }

        var updater = Repo.NewUpdater(Store, RequirePq);
        var e = Rejected(updater, AirlockRejection.MissingPostQuantumSignature, () => updater.Refresh());
        Assert.Contains($"{role} version 1", e.Detail, StringComparison.Ordinal);

        // The classical threshold still holds without the ML-DSA signature when the option is off.
        Repo.NewUpdater(options: TufUpdaterOptions.Default).Refresh();
    }

    [Fact]
    public void RepositoryWithoutPostQuantumKeys_IsRejectedWithTheOptionOn()
    {
        var e = Assert.Throws<AirlockRejectedException>(() => Repo.NewUpdater(options: RequirePq).Refresh());
        Assert.Equal(AirlockRejection.MissingPostQuantumSignature, e.Reason);
        Assert.Contains("timestamp", e.Detail, StringComparison.Ordinal);
        Repo.NewUpdater(options: TufUpdaterOptions.Default).Refresh();
    }

    [Fact]
    public void TamperedPostQuantumSignature_NeverCounts_AndIsBadSignatureWhenNeeded()
    {
        AddPostQuantumKeys();
        EditPostQuantumSignature("timestamp.json", hex => hex[..100] + (hex[100] == '0' ? '1' : '0') + hex[101..]);

        // Option off: the classical signature meets threshold 1; the bad one is ignored.
        Repo.NewUpdater(options: TufUpdaterOptions.Default).Refresh();

        // Option on: a present but invalid ML-DSA signature is a bad signature.
        var e = Assert.Throws<AirlockRejectedException>(() => Repo.NewUpdater(options: RequirePq).Refresh());
        Assert.Equal(AirlockRejection.BadSignature, e.Reason);
        Assert.Contains("ml-dsa-65", e.Detail, StringComparison.Ordinal);

        // Where the ML-DSA signature is needed for the threshold, a tampered one does not count.
        Repo.Thresholds["timestamp"] = 2;
        Repo.Versions["root"]++;
        Repo.PublishRoot();
        Repo.Publish();
        Repo.NewUpdater(options: TufUpdaterOptions.Default).Refresh();
        EditPostQuantumSignature("timestamp.json", hex => hex[..100] + (hex[100] == '0' ? '1' : '0') + hex[101..]);
        e = Assert.Throws<AirlockRejectedException>(() => Repo.NewUpdater(options: TufUpdaterOptions.Default).Refresh());
        Assert.Equal(AirlockRejection.BadSignature, e.Reason);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3308)]
    [InlineData(3310)]
    [InlineData(5000)]
    public void PostQuantumSignature_OfTheWrongLength_IsRefusedWithoutAnException(int length)
    {
        AddPostQuantumKeys();
        Repo.Thresholds["timestamp"] = 2;
        Repo.Versions["root"]++;
        Repo.PublishRoot();
        Repo.Publish();
        EditPostQuantumSignature("timestamp.json", hex => Convert.ToHexStringLower(Convert.FromHexString(hex).Concat(new byte[Math.Max(0, length - 3309)]).Take(length).ToArray()));
        foreach (var options in new[] { TufUpdaterOptions.Default, RequirePq })
        {
            var e = Assert.Throws<AirlockRejectedException>(() => Repo.NewUpdater(options: options).Refresh());
            Assert.Equal(AirlockRejection.BadSignature, e.Reason);
        }
    }

    [Fact]
    public void PostQuantumSignature_CountsTowardTheThreshold_WhenTheClassicalOneIsMissing()
    {
        AddPostQuantumKeys();
        var classical = Repo.Keys["timestamp"].Where(k => k is not MlDsa65TestKey).Select(k => k.KeyId).ToHashSet();
        EditSignatures("timestamp.json", signatures => signatures.RemoveAll(s => classical.Contains((string)((Dictionary<string, object?>)s!)["keyid"]!)));
        Repo.NewUpdater(options: TufUpdaterOptions.Default).Refresh();
        Repo.NewUpdater(options: RequirePq).Refresh();
    }

    [Fact]
    public void RootRotation_WithTheOptionOn_NeedsPostQuantumSignaturesByOldAndNewRootKeys()
    {
        AddPostQuantumKeys();
        var oldPq = Repo.Keys["root"].OfType<MlDsa65TestKey>().Single();
        var oldClassical = Repo.Keys["root"].Where(k => k is not MlDsa65TestKey).ToList();
        var newKeys = new List<TestKey> { TestKey.Ed25519(), new MlDsa65TestKey() };
        Repo.Keys["root"] = newKeys;
        Repo.Versions["root"]++;

        // Signed by the old classical key and both new keys: old root's ML-DSA key is missing.
        Repo.PublishRoot([.. oldClassical, .. newKeys]);
        var e = Assert.Throws<AirlockRejectedException>(() => Repo.NewUpdater(options: RequirePq).Refresh());
        Assert.Equal(AirlockRejection.MissingPostQuantumSignature, e.Reason);
        Assert.Contains("trusted root version 1", e.Detail, StringComparison.Ordinal);
        Repo.NewUpdater(options: TufUpdaterOptions.Default).Refresh();

        // Signed by both old keys and the new classical key: the new root's own ML-DSA key is missing.
        Repo.PublishRoot([.. oldClassical, oldPq, newKeys[0]]);
        e = Assert.Throws<AirlockRejectedException>(() => Repo.NewUpdater(options: RequirePq).Refresh());
        Assert.Equal(AirlockRejection.MissingPostQuantumSignature, e.Reason);
        Assert.Equal(
            "missing post-quantum signature: root version 2 carries no ml-dsa-65 signature by its own root keys, and this enclave requires one on every role (RequirePostQuantumSignature); sign the repository with --post-quantum keys, or pin a root that lists them",
            e.Detail);

        Repo.PublishRoot([.. oldClassical, oldPq, .. newKeys]);
        Assert.Equal(2, Repo.NewUpdater(options: RequirePq).Refresh().Root.Version);
    }

    [Fact]
    public void DelegatedRole_WithTheOptionOn_NeedsItsOwnPostQuantumSignature()
    {
        AddPostQuantumKeys();
        Repo.Delegations.Add(new TestDelegation { Name = "model", Keys = [TestKey.Ed25519()], Paths = ["model/*"] });
        Repo.Delegations[0].Targets["model/a.bin"] = [1, 2, 3];
        Repo.Versions["targets"]++;
        Repo.Publish();
        var updater = Repo.NewUpdater(options: RequirePq);
        updater.Refresh();
        var e = Assert.Throws<AirlockRejectedException>(() => updater.RequireTarget("model/a.bin"));
        Assert.Equal(AirlockRejection.MissingPostQuantumSignature, e.Reason);
        Assert.Contains("model", e.Detail, StringComparison.Ordinal);

        Repo.Delegations[0].Keys.Add(new MlDsa65TestKey());
        Repo.Versions["targets"]++;
        Repo.Delegations[0].Version++;
        Repo.Publish();
        updater = Repo.NewUpdater(options: RequirePq);
        updater.Refresh();
        Assert.Equal(3, updater.RequireTarget("model/a.bin").Length);
    }

    [Fact]
    public void CachedDelegatedRole_WithTheOptionOn_IsVerifiedAgain_WhenItsParentReplacesThePostQuantumKey()
    {
        AddPostQuantumKeys();
        var model = new TestDelegation { Name = "model", Keys = [TestKey.Ed25519(), new MlDsa65TestKey()], Paths = ["model/*"] };
        model.Targets["model/a.bin"] = [1, 2, 3];
        Repo.Delegations.Add(model);
        Repo.Versions["targets"]++;
        Repo.Publish();
        var updater = Repo.NewUpdater(options: RequirePq);
        updater.Refresh();
        Assert.Equal(3, updater.RequireTarget("model/a.bin").Length);

        // The parent now delegates to another ML-DSA-65 key; the role itself (same version) still carries the old
        // key's signature, which no longer counts: the classical threshold alone is not enough.
        var signedByTheOldKeys = Repo.Source.Files["model.json"];
        model.Keys[1] = new MlDsa65TestKey();
        Repo.Versions["targets"]++;
        Repo.Versions["snapshot"]++;
        Repo.Versions["timestamp"]++;
        Repo.Publish();
        Repo.Source.Files["model.json"] = signedByTheOldKeys;
        updater.Refresh();

        var e = Assert.Throws<AirlockRejectedException>(() => updater.RequireTarget("model/a.bin"));
        Assert.Equal(AirlockRejection.MissingPostQuantumSignature, e.Reason);
        Assert.Equal(
            "missing post-quantum signature: model version 1 carries no ml-dsa-65 signature by the keys targets delegates to model, and this enclave requires one on every role (RequirePostQuantumSignature); sign the repository with --post-quantum keys, or pin a root that lists them",
            e.Detail);
    }

    /// <summary>Adds one ML-DSA-65 key to every top-level role (thresholds unchanged) and republishes version 1.</summary>
    private void AddPostQuantumKeys()
    {
        foreach (var role in Repo.Keys.Keys.ToList())
        {
            Repo.Keys[role].Add(new MlDsa65TestKey());
        }

        Repo.PublishRoot();
        Repo.Publish();
    }

    private void StripPostQuantumSignatures(string file)
    {
        var pq = Repo.Keys.Values.SelectMany(k => k).OfType<MlDsa65TestKey>().Select(k => k.KeyId).ToHashSet();
        EditSignatures(file, signatures => signatures.RemoveAll(s => pq.Contains((string)((Dictionary<string, object?>)s!)["keyid"]!)));
    }

    private void EditPostQuantumSignature(string file, Func<string, string> edit)
    {
        var pq = Repo.Keys.Values.SelectMany(k => k).OfType<MlDsa65TestKey>().Select(k => k.KeyId).ToHashSet();
        EditSignatures(file, signatures =>
        {
            foreach (var s in signatures.Cast<Dictionary<string, object?>>().Where(s => pq.Contains((string)s["keyid"]!)))
            {
                s["sig"] = edit((string)s["sig"]!);
            }
        });
    }

    private void EditSignatures(string file, Action<List<object?>> edit)
    {
        var envelope = (Dictionary<string, object?>)TufJson.Parse(Repo.Source.Files[file], 64)!;
        var signatures = (List<object?>)envelope["signatures"]!;
        edit(signatures);
        Repo.Source.Files[file] = TestJson.Serialize(envelope);
    }
}
