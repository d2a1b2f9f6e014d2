using Enclave.Airlock.Import;
using Enclave.Core;

namespace Enclave.Airlock.Tests.Import;

/// <summary>
/// Failures injected at every step of import, approval and promotion (a throwing step, a failing ledger, a blob
/// store that cannot write): each leaves the enclave exactly as it was before the operation, and the same operation
/// succeeds once the cause is gone.
/// </summary>
public sealed class ImportFailureTests
{
    private sealed class InjectedFailureException(string step) : IOException($"injected failure at {step}");

    [Theory]
    [InlineData("import.received", new[] { "import.received", "import.rejected" })]
    [InlineData("import.read", new[] { "import.received", "import.rejected" })]
    [InlineData("import.scanned", new[] { "import.received", "import.rejected" })]
    [InlineData("import.verified", new[] { "import.received", "import.verified", "import.rejected" })]
    [InlineData("import.commit", new[] { "import.received", "import.verified", "import.rejected" })]
    public async Task Import_FailingAtAnyStep_LeavesStateUnchanged_AndARetrySucceeds(string step, string[] ledger)
    {
        await using var context = await ImportTestContext.CreateAsync();
        context.FaultPoint = s =>
        {
            if (s == step)
            {
                throw new InjectedFailureException(s);
            }
        };
        var before = context.Capture();

        await Assert.ThrowsAsync<InjectedFailureException>(() => context.ImportAsync(context.DemoBundle()));

        var events = context.AssertUnchanged(before, ledger);
        Assert.Empty(context.QuarantineEntries());
        Assert.Equal("internal-error", events[^1].Details!.Value.GetProperty("reason").GetString());
        Assert.Equal(new Dictionary<string, int> { ["root"] = 1 }, context.Importer.TrustStore.Versions());

        context.FaultPoint = null;
        var retried = await context.ImportAsync(context.DemoBundle());
        Assert.Equal(ImportState.Verified, retried.State);
    }

    [Fact]
    public async Task Import_WhenTheLedgerRefusesTheFirstEntry_ChangesNothingAtAll()
    {
        await using var context = await ImportTestContext.CreateAsync();
        context.Ledger.FailTypes.Add("import.received");
        var before = context.Capture();

        await Assert.ThrowsAsync<IOException>(() => context.ImportAsync(context.DemoBundle()));

        context.AssertUnchanged(before);
        Assert.Empty(context.QuarantineEntries());
    }

    [Fact]
    public async Task Import_WhenTheLedgerRefusesTheVerifiedEntry_IsRejected_AndNothingIsTrusted()
    {
        await using var context = await ImportTestContext.CreateAsync();
        context.Ledger.FailTypes.Add("import.verified");
        var before = context.Capture();

        var e = await Assert.ThrowsAsync<IOException>(() => context.ImportAsync(context.DemoBundle()));

        Assert.Contains("injected ledger failure", e.Message, StringComparison.Ordinal);
        context.AssertUnchanged(before, "import.received", "import.rejected");
        Assert.Empty(context.QuarantineEntries());
        context.Ledger.FailTypes.Clear();
        Assert.Equal(ImportState.Verified, (await context.ImportAsync(context.DemoBundle())).State);
    }

    [Fact]
    public async Task Import_Cancelled_RemovesQuarantine_AndRecordsTheCancellation()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var before = context.Capture();
        using var cancel = new CancellationTokenSource();
        var progress = new SynchronousProgress(bytes =>
        {
            if (bytes > 0)
            {
                cancel.Cancel();
            }
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            context.Importer.ImportAsync(new MemoryStream(context.DemoBundle().ToTar()), "user:alice", progress, cancel.Token));

        var events = context.AssertUnchanged(before, "import.received", "import.rejected");
        Assert.Equal("cancelled", events[1].Details!.Value.GetProperty("reason").GetString());
    }

    [Theory]
    [InlineData("promote.journal", new string[0])]
    [InlineData("promote.blobs", new string[0])]
    [InlineData("promote.folder", new string[0])]
    [InlineData("promote.approved", new[] { "import.approved", "import.activation-failed" })]
    [InlineData("promote.activated", new[] { "import.approved", "import.activated", "import.activation-failed" })]
    [InlineData("promote.commit", new[] { "import.approved", "import.activated", "import.activation-failed" })]
    public async Task Activation_FailingAtAnyStep_LeavesThePendingImportAsItWas_AndApprovingAgainActivates(string step, string[] ledger)
    {
        await using var context = await ImportTestContext.CreateAsync();
        var imported = await context.ImportAsync(context.DemoBundle());
        await context.Importer.ApproveAsync(imported.Id, "user:bob");
        context.FaultPoint = s =>
        {
            if (s == step)
            {
                throw new InjectedFailureException(s);
            }
        };
        var before = context.Capture();

        await Assert.ThrowsAsync<InjectedFailureException>(() => context.Importer.ApproveAsync(imported.Id, "user:carol"));

        context.AssertUnchanged(before, ledger);
        Assert.Empty(context.Importer.Blobs.Enumerate());
        Assert.False(Directory.Exists(context.Importer.ArtifactFolder("model", "demo-chat", "1.0.0")));
        Assert.Empty(context.Importer.ActivatedModels());
        Assert.Equal(["user:bob"], context.Importer.Get(imported.Id)!.Approvers);

        context.FaultPoint = null;
        Assert.Equal(ImportState.Activated, (await context.Importer.ApproveAsync(imported.Id, "user:carol")).State);
        Assert.Single(context.Importer.ActivatedModels());
    }

    [Fact]
    public async Task Activation_WhenTheBlobStoreCannotWrite_UndoesTheBlobsAlreadyWritten()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var imported = await context.ImportAsync(context.DemoBundle());
        await context.Importer.ApproveAsync(imported.Id, "user:bob");

        // A file where the shard folder of the last blob written must go: a real write failure, even for root.
        var last = imported.Targets.DistinctBy(t => t.Sha256).Last().Sha256.ToHex();
        var shard = Path.Combine(context.Data, "blobs", "sha256", last[..2], last[2..4]);
        Directory.CreateDirectory(Path.GetDirectoryName(shard)!);
        await File.WriteAllTextAsync(shard, "obstacle");
        var before = context.Capture();
        var written = new List<string>();
        context.FaultPoint = s =>
        {
            if (s == "promote.blobs")
            {
                written.Add(s);
            }
        };

        await Assert.ThrowsAnyAsync<IOException>(() => context.Importer.ApproveAsync(imported.Id, "user:carol"));

        Assert.Empty(written); // it failed inside the blob writes, not after them
        context.AssertUnchanged(before);
        Assert.Empty(context.Importer.Blobs.Enumerate());
        Assert.Equal(ImportState.Verified, context.Importer.Get(imported.Id)!.State);

        File.Delete(shard);
        Assert.Equal(ImportState.Activated, (await context.Importer.ApproveAsync(imported.Id, "user:carol")).State);
        Assert.Equal(5, context.Importer.Blobs.Enumerate().Count());
    }

    [Fact]
    public async Task Activation_WhenTheLedgerRefusesTheActivatedEntry_UndoesThePromotion()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var imported = await context.ImportAsync(context.DemoBundle());
        await context.Importer.ApproveAsync(imported.Id, "user:bob");
        context.Ledger.FailTypes.Add("import.activated");
        var before = context.Capture();

        await Assert.ThrowsAsync<IOException>(() => context.Importer.ApproveAsync(imported.Id, "user:carol"));

        var events = context.AssertUnchanged(before, "import.approved", "import.activation-failed");
        Assert.Contains("injected ledger failure", events[1].Details!.Value.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Empty(context.Importer.Blobs.Enumerate());
        context.Ledger.FailTypes.Clear();
        Assert.Equal(ImportState.Activated, (await context.Importer.ApproveAsync(imported.Id, "user:carol")).State);
    }

    [Fact]
    public async Task Activation_KeepsBlobsThatAnotherArtifactAlreadyUses()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var first = await context.ImportAsync(context.DemoBundle());
        await context.Importer.ApproveAsync(first.Id, "user:bob");
        await context.Importer.ApproveAsync(first.Id, "user:carol");
        var shared = ImportTestRepository.DemoModelFiles();
        context.Repo.AddArtifact("model", "demo-chat", "1.0.1", shared);
        context.Repo.NextRelease();
        var second = await context.ImportAsync(context.Repo.Bundle("model", "demo-chat", "1.0.1"));
        await context.Importer.ApproveAsync(second.Id, "user:bob");
        context.FaultPoint = s =>
        {
            if (s == "promote.commit")
            {
                throw new InjectedFailureException(s);
            }
        };
        var before = context.Capture();

        await Assert.ThrowsAsync<InjectedFailureException>(() => context.Importer.ApproveAsync(second.Id, "user:carol"));

        context.AssertUnchanged(before, "import.approved", "import.activated", "import.activation-failed");
        foreach (var content in shared.Values)
        {
            Assert.True(context.Importer.Blobs.Contains(Sha256Digest.Compute(content)));
        }

        Assert.True(File.Exists(Path.Combine(context.Importer.ArtifactFolder("model", "demo-chat", "1.0.0"), "model.onnx")));
    }

    [Fact]
    public async Task Approval_WhenTheLedgerRefusesIt_IsNotRecorded()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var imported = await context.ImportAsync(context.DemoBundle());
        context.Ledger.FailTypes.Add("import.approved");
        var before = context.Capture();

        await Assert.ThrowsAsync<IOException>(() => context.Importer.ApproveAsync(imported.Id, "user:bob"));

        context.AssertUnchanged(before);
        Assert.Empty(context.Importer.Get(imported.Id)!.Approvers);
    }

    [Fact]
    public async Task Reject_WhenTheLedgerRefusesIt_LeavesTheImportPending()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var imported = await context.ImportAsync(context.DemoBundle());
        context.Ledger.FailTypes.Add("import.rejected");
        var before = context.Capture();

        await Assert.ThrowsAsync<IOException>(() => context.Importer.RejectAsync(imported.Id, "user:bob", "no"));

        context.AssertUnchanged(before);
        Assert.Equal(ImportState.Verified, context.Importer.Get(imported.Id)!.State);
    }

    [Fact]
    public async Task Pin_WhenTheLedgerRefusesIt_PinsNothing()
    {
        await using var context = await ImportTestContext.CreateAsync(pin: false);
        context.Ledger.FailTypes.Add("import.trust-pinned");
        var before = context.Capture();

        await Assert.ThrowsAsync<IOException>(() => context.Importer.PinTrustAsync(context.Repo.RootV1, "user:admin"));

        context.AssertUnchanged(before);
        Assert.Null(context.Importer.TrustStore.Load());
    }

    private sealed class SynchronousProgress(Action<long> report) : IProgress<long>
    {
        public void Report(long value) => report(value);
    }
}
