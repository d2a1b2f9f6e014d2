using System.Text;
using Enclave.Airlock.Import;
using Enclave.Core;

namespace Enclave.Airlock.Tests.Import;

public sealed class ImportWorkflowTests
{
    [Fact]
    public async Task Import_ThenTwoDistinctApprovals_ActivatesIntoBlobStoreAndRegistry()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var files = ImportTestRepository.DemoModelFiles();
        var ledgerBefore = context.Ledger.Size;

        var imported = await context.ImportAsync(context.DemoBundle(), "user:alice");

        Assert.Equal(ImportState.Verified, imported.State);
        Assert.Equal(("model", "demo-chat", "1.0.0", "UNCLASSIFIED", "chat"), (imported.Kind, imported.Name, imported.Version, imported.Label, imported.Task));
        Assert.Equal(5, imported.Targets.Count);
        Assert.Equal(Sha256Digest.Compute(files["model.onnx"]), imported.Targets.Single(t => t.RelativePath == "model.onnx").Sha256);
        Assert.NotNull(imported.SbomSha256);
        Assert.NotNull(imported.ProvenanceSha256);
        Assert.Equal([context.Repo.Kinds["model"].Keys[0].KeyId], imported.SignerKeyIds);
        Assert.Equal(2, imported.RequiredApprovals);
        Assert.Equal(1, imported.TufVersions["model"]);

        // Verified is invisible: nothing activated, no blobs, no folder.
        Assert.Empty(context.Importer.ListActivated());
        Assert.Empty(context.Importer.ActivatedModels());
        Assert.Empty(context.Importer.Blobs.Enumerate());
        Assert.False(Directory.Exists(context.Importer.ArtifactsDirectory));
        Assert.Single(context.Importer.List(ImportState.Verified));

        var first = await context.Importer.ApproveAsync(imported.Id, "user:bob");
        Assert.Equal(ImportState.Verified, first.State);
        Assert.Equal(["user:bob"], first.Approvers);
        var again = await context.Importer.ApproveAsync(imported.Id, "user:bob");
        Assert.Equal(["user:bob"], again.Approvers);
        Assert.Empty(context.Importer.ActivatedModels());

        var activated = await context.Importer.ApproveAsync(imported.Id, "user:carol");

        Assert.Equal(ImportState.Activated, activated.State);
        Assert.Equal(["user:bob", "user:carol"], activated.Approvers);
        Assert.Equal("user:carol", activated.DecidedBy);
        var model = Assert.Single(context.Importer.ActivatedModels());
        Assert.Equal(("demo-chat", "1.0.0", "UNCLASSIFIED", "chat"), (model.Name, model.Version, model.Label, model.Task));
        Assert.Equal(context.Importer.ArtifactFolder("model", "demo-chat", "1.0.0"), model.Folder);
        foreach (var (relative, content) in files)
        {
            Assert.Equal(content, File.ReadAllBytes(Path.Combine(model.Folder, relative)));
            var blob = context.Importer.Blobs.PathOf(Sha256Digest.Compute(content));
            Assert.Equal(content, File.ReadAllBytes(blob));
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead, File.GetUnixFileMode(blob));
            }
        }

        Assert.True(File.Exists(Path.Combine(model.Folder, ".attestations", "sbom.cdx.json")));
        Assert.Equal(5, context.Importer.Blobs.Enumerate().Count());
        Assert.Empty(context.QuarantineEntries());
        var artifact = Assert.Single(context.Importer.ListActivated());
        Assert.Equal(imported.ManifestSha256, artifact.ManifestSha256);
        Assert.Equal(imported.SignerKeyIds, artifact.SignerKeyIds);

        var events = context.LedgerEventsSince(ledgerBefore);
        Assert.Equal(["import.received", "import.verified", "import.approved", "import.approved", "import.activated"], events.Select(e => e.Type).ToArray());
        Assert.All(events, e => Assert.Equal("import:" + imported.Id, e.Subject));
        Assert.Equal(["user:alice", "user:alice", "user:bob", "user:carol", "user:carol"], events.Select(e => e.Actor).ToArray());
        var verified = events[1].Details!.Value;
        Assert.Equal(imported.ManifestSha256.ToHex(), verified.GetProperty("manifest_sha256").GetString());
        Assert.Equal(5, verified.GetProperty("targets").GetArrayLength());

        // Digests only, never content.
        var ledgerText = string.Concat(events.Select(e => Encoding.UTF8.GetString(e.ToCanonicalJson())));
        Assert.DoesNotContain("BPE", ledgerText, StringComparison.Ordinal);
        Assert.DoesNotContain("CycloneDX", ledgerText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Import_AdvancesTrustedVersionsOnlyWhenVerified_AndSurvivesReopening()
    {
        await using var context = await ImportTestContext.CreateAsync();
        Assert.Equal(new Dictionary<string, int> { ["root"] = 1 }, context.Importer.TrustStore.Versions());

        await context.ImportAsync(context.DemoBundle());

        var versions = context.Importer.TrustStore.Versions();
        Assert.Equal(1, versions["timestamp"]);
        Assert.Equal(1, versions["snapshot"]);
        Assert.Equal(1, versions["targets"]);
        Assert.Equal(1, versions["model"]);

        context.Repo.AddArtifact("model", "demo-chat", "1.1.0", ImportTestRepository.DemoModelFiles("v2"));
        context.Repo.NextRelease();
        context.NewImporter();
        var second = await context.ImportAsync(context.Repo.Bundle("model", "demo-chat", "1.1.0"));

        Assert.Equal(2, context.Importer.TrustStore.Versions()["snapshot"]);
        Assert.Equal(2, second.TufVersions["model"]);
        var reloaded = context.Importer.TrustStore.Load()!;
        Assert.Equal(2, reloaded.Delegated["model"].Version);
        Assert.Equal(2, context.Importer.List(ImportState.Verified).Count);
    }

    [Fact]
    public async Task Approve_ByTheImporter_IsRefused_AndChangesNothing()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var imported = await context.ImportAsync(context.DemoBundle(), "user:alice");
        var before = context.Capture();

        var e = await Assert.ThrowsAsync<ImportWorkflowException>(() => context.Importer.ApproveAsync(imported.Id, "user:alice"));

        Assert.Equal(ImportWorkflowError.SelfApproval, e.Error);
        var events = context.AssertUnchanged(before, "import.approval-refused");
        Assert.Equal("user:alice", events[0].Actor);
        Assert.Empty(context.Importer.Get(imported.Id)!.Approvers);
    }

    [Fact]
    public async Task Reject_RemovesQuarantine_AndTheImportCanNeverBeActivated()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var imported = await context.ImportAsync(context.DemoBundle(), "user:alice");
        Assert.NotEmpty(context.QuarantineEntries());
        await context.Importer.ApproveAsync(imported.Id, "user:bob");

        var rejected = await context.Importer.RejectAsync(imported.Id, "user:carol", "not the model we ordered");

        Assert.Equal(ImportState.Rejected, rejected.State);
        Assert.Equal(["not the model we ordered"], rejected.Reasons);
        Assert.Equal("user:carol", rejected.DecidedBy);
        Assert.Empty(context.QuarantineEntries());
        var e = await Assert.ThrowsAsync<ImportWorkflowException>(() => context.Importer.ApproveAsync(imported.Id, "user:dave"));
        Assert.Equal(ImportWorkflowError.NotPending, e.Error);
        Assert.Empty(context.Importer.ActivatedModels());
        Assert.Empty(context.Importer.Blobs.Enumerate());
        var last = context.LedgerEvent(context.Ledger.Size - 1);
        Assert.Equal("import.rejected", last.Type);
        Assert.Equal("rejected-by-approver", last.Details!.Value.GetProperty("reason").GetString());

        // A rejected version may be brought in again.
        var again = await context.ImportAsync(context.DemoBundle(), "user:alice");
        Assert.Equal(ImportState.Verified, again.State);
    }

    [Fact]
    public async Task ReimportOfTheSameVersion_IsRefused_WhilePendingAndAfterActivation()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var imported = await context.ImportAsync(context.DemoBundle());

        var before = context.Capture();
        var pending = await Assert.ThrowsAsync<ImportRejectedException>(() => context.ImportAsync(context.DemoBundle()));
        Assert.Equal(ImportRejection.AlreadyImported, pending.Reason);
        Assert.Contains(imported.Id, pending.Detail, StringComparison.Ordinal);
        context.AssertUnchanged(before, "import.received", "import.rejected");

        await context.Importer.ApproveAsync(imported.Id, "user:bob");
        await context.Importer.ApproveAsync(imported.Id, "user:carol");
        var activated = context.Capture();
        var after = await Assert.ThrowsAsync<ImportRejectedException>(() => context.ImportAsync(context.DemoBundle()));
        Assert.Equal(ImportRejection.AlreadyImported, after.Reason);
        context.AssertUnchanged(activated, "import.received", "import.rejected");
    }

    [Fact]
    public async Task IntelBundle_NeedsOneApproval_AndIsNotAModel()
    {
        await using var context = await ImportTestContext.CreateAsync();
        context.Repo.AddArtifact("intel", "feed", "2026.01.01", new Dictionary<string, byte[]> { ["indicators.json"] = "{\"type\":\"bundle\"}"u8.ToArray() }, label: "SECRET");
        context.Repo.Publish();

        var imported = await context.ImportAsync(context.Repo.Bundle("intel", "feed", "2026.01.01"));
        Assert.Equal(1, imported.RequiredApprovals);
        Assert.Null(imported.Task);
        var activated = await context.Importer.ApproveAsync(imported.Id, "user:bob");

        Assert.Equal(ImportState.Activated, activated.State);
        Assert.Equal("SECRET", Assert.Single(context.Importer.ListActivated("intel")).Label);
        Assert.Empty(context.Importer.ActivatedModels());
    }

    [Fact]
    public async Task ApprovalThresholds_AreConfigurablePerKind()
    {
        await using var context = await ImportTestContext.CreateAsync(configure: o => o with
        {
            RequiredApprovals = new Dictionary<string, int> { ["model"] = 3 },
        });
        var imported = await context.ImportAsync(context.DemoBundle());
        Assert.Equal(3, imported.RequiredApprovals);
        await context.Importer.ApproveAsync(imported.Id, "user:b");
        await context.Importer.ApproveAsync(imported.Id, "user:c");
        Assert.Equal(ImportState.Verified, context.Importer.Get(imported.Id)!.State);
        Assert.Equal(ImportState.Activated, (await context.Importer.ApproveAsync(imported.Id, "user:d")).State);
    }

    [Theory]
    [InlineData("logits", "chat")]
    [InlineData("last_hidden_state", "embedding")]
    public async Task ModelTask_IsDetectedFromTheOnnxOutputs_WhenTheCustomFieldIsAbsent(string output, string task)
    {
        await using var context = await ImportTestContext.CreateAsync();
        var files = new Dictionary<string, byte[]> { ["model.onnx"] = OnnxTestModel.WithOutput(output), ["tokenizer.json"] = "{}"u8.ToArray() };
        context.Repo.AddArtifact("model", "detected", "1", files, task: null);
        context.Repo.Publish();

        var imported = await context.ImportAsync(context.Repo.Bundle("model", "detected", "1"));
        await context.Importer.ApproveAsync(imported.Id, "user:b");
        await context.Importer.ApproveAsync(imported.Id, "user:c");

        Assert.Equal(task, imported.Task);
        Assert.Equal(task, Assert.Single(context.Importer.ActivatedModels()).Task);
    }

    [Fact]
    public async Task SplitBundleOnDisk_ImportsFromItsParts()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var tar = context.DemoBundle().ToTar();
        var path = Path.Combine(context.Data, "..", "demo.tar");
        var partSize = 4096;
        for (var i = 0; i * partSize < tar.Length; i++)
        {
            await File.WriteAllBytesAsync($"{path}.{i:000}", tar.AsSpan(i * partSize, Math.Min(partSize, tar.Length - (i * partSize))).ToArray());
        }

        var imported = await context.Importer.ImportAsync(path, "user:alice");

        Assert.Equal(ImportState.Verified, imported.State);
        Assert.Equal(tar.Length, imported.ArchiveBytes);
        Assert.Equal("demo.tar", context.LedgerEvent(context.Ledger.Size - 2).Details!.Value.GetProperty("source").GetString());
    }

    [Fact]
    public async Task PendingImport_SurvivesARestart_AndIsApprovedByANewInstance()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var imported = await context.ImportAsync(context.DemoBundle());
        await context.Importer.ApproveAsync(imported.Id, "user:bob");

        await context.CloseLedgerAsync();
        context.OpenLedger();
        context.NewImporter();
        var report = await context.Importer.RecoverAsync();

        Assert.Empty(report.QuarantinesRemoved);
        Assert.Empty(report.ImportsLost);
        Assert.Equal(ImportState.Activated, (await context.Importer.ApproveAsync(imported.Id, "user:carol")).State);
    }

    [Fact]
    public async Task Recover_RejectsAPendingImportWhoseQuarantineVanished()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var imported = await context.ImportAsync(context.DemoBundle());
        foreach (var directory in context.QuarantineEntries())
        {
            Directory.Delete(directory, recursive: true);
        }

        var report = await context.Importer.RecoverAsync();

        Assert.Equal([imported.Id], report.ImportsLost);
        Assert.Equal(ImportState.Rejected, context.Importer.Get(imported.Id)!.State);
        Assert.Equal("quarantine-lost", context.LedgerEvent(context.Ledger.Size - 1).Details!.Value.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task Pin_SameRootIsIdempotent_DifferentRootNeedsForce_AndForceResetsTrust()
    {
        await using var context = await ImportTestContext.CreateAsync();
        await context.ImportAsync(context.DemoBundle());
        var before = context.Capture();

        var same = await context.Importer.PinTrustAsync(context.Repo.RootV1, "user:admin");
        Assert.False(same.Changed);
        context.AssertUnchanged(before);

        var other = new ImportTestRepository();
        var conflict = await Assert.ThrowsAsync<ImportWorkflowException>(() => context.Importer.PinTrustAsync(other.RootV1, "user:admin"));
        Assert.Equal(ImportWorkflowError.TrustConflict, conflict.Error);
        context.AssertUnchanged(before);

        var forced = await context.Importer.PinTrustAsync(other.RootV1, "user:admin", force: true);
        Assert.True(forced.Changed);
        Assert.Equal(Sha256Digest.Compute(context.Repo.RootV1), forced.Replaced);
        Assert.Equal(new Dictionary<string, int> { ["root"] = 1 }, context.Importer.TrustStore.Versions());
        var pin = context.Importer.TrustStore.CurrentPin()!;
        Assert.True(pin.Forced);
        Assert.Equal(Sha256Digest.Compute(other.RootV1), pin.RootSha256);
        var entry = context.LedgerEvent(context.Ledger.Size - 1);
        Assert.Equal("import.trust-pinned", entry.Type);
        Assert.True(entry.Details!.Value.GetProperty("forced").GetBoolean());
    }

    [Fact]
    public async Task Pin_RefusesARootNotSignedByItsOwnKeys()
    {
        await using var context = await ImportTestContext.CreateAsync(pin: false);
        var repo = context.Repo;
        var forged = Enclave.Airlock.Tests.Tuf.TufTestRepository.Envelope(repo.RootSigned(), [Enclave.Airlock.Tests.Tuf.TestKey.Ed25519()]);
        var before = context.Capture();

        var e = await Assert.ThrowsAsync<ImportWorkflowException>(() => context.Importer.PinTrustAsync(forged, "user:admin"));

        Assert.Equal(ImportWorkflowError.InvalidRoot, e.Error);
        context.AssertUnchanged(before);
        Assert.Null(context.Importer.TrustStore.CurrentPin());
    }

    [Fact]
    public async Task TrustedStateStore_RoundTripsEveryRole_InOneCommit()
    {
        await using var context = await ImportTestContext.CreateAsync();
        await context.ImportAsync(context.DemoBundle());
        var store = new SqliteTrustedStateStore(context.Data, context.Repo.Clock);

        var loaded = store.Load()!;
        store.Commit(loaded);

        Assert.Equal(1, loaded.Timestamp!.Version);
        Assert.Equal(context.Repo.Files["model.json"], loaded.Delegated["model"].Bytes.ToArray());
        Assert.Equal(context.Repo.Files["snapshot.json"], loaded.Snapshot!.Bytes.ToArray());
        Assert.Equal(context.Importer.TrustStore.Versions(), store.Versions());
    }
}

/// <summary>Minimal ONNX protobuf files for the task detector.</summary>
internal static class OnnxTestModel
{
    public static byte[] WithOutput(string outputName, string graphName = "g")
    {
        var valueInfo = Message(1, Encoding.UTF8.GetBytes(outputName));
        var input = Message(11, Message(1, "input_ids"u8.ToArray()));
        var initializer = Message(5, Concat(Message(8, "w"u8.ToArray()), Message(9, new byte[5000])));
        var graph = Concat(Message(2, Encoding.UTF8.GetBytes(graphName)), initializer, input, Message(12, valueInfo));
        return Concat([0x08, 0x08], Message(7, graph), Message(8, Concat(Message(1, []), [0x10, 0x11])));
    }

    /// <summary>A graph whose initializer keeps its data in an external file at <paramref name="location"/>.</summary>
    public static byte[] WithExternalData(string location)
    {
        var tensor = Concat(
            Message(8, "w"u8.ToArray()),
            Message(13, Concat(Message(1, "location"u8.ToArray()), Message(2, Encoding.UTF8.GetBytes(location)))),
            [0x70, 0x01]); // data_location = EXTERNAL
        var graph = Concat(Message(2, "g"u8.ToArray()), Message(5, tensor), Message(12, Message(1, "logits"u8.ToArray())));
        return Concat([0x08, 0x08], Message(7, graph), Message(8, Concat(Message(1, []), [0x10, 0x11])));
    }

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    private static byte[] Message(int field, byte[] body) => Concat(Varint((ulong)((field << 3) | 2)), Varint((ulong)body.Length), body);

    private static byte[] Varint(ulong value)
    {
        var bytes = new List<byte>();
        do
        {
            var b = (byte)(value & 0x7F);
            value >>= 7;
            bytes.Add(value != 0 ? (byte)(b | 0x80) : b);
        }
        while (value != 0);
        return [.. bytes];
    }
}
