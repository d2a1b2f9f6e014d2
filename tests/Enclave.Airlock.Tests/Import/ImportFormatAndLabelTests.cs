using System.Formats.Tar;
using Enclave.Airlock.Bundles;
using Enclave.Airlock.Import;

namespace Enclave.Airlock.Tests.Import;

/// <summary>
/// What bundle-format.md promises and the trials found unenforced: regular files only (no directory entries, declared
/// or not), nothing after the selector that ends the metadata, and a bundle refused for its label leaving trust state
/// exactly as it was (so an older legitimate bundle still imports afterwards).
/// </summary>
public sealed class ImportFormatAndLabelTests
{
    private const string Prefix = "targets/model/demo-chat/1.0.0/";

    private static async Task<ImportRejectedException> RejectedAsync(ImportTestContext context, byte[] tar, ImportRejection reason, BundleRejection? bundle, Func<string, string?>? labelProblem = null)
    {
        var before = context.Capture();
        var e = await Assert.ThrowsAsync<ImportRejectedException>(() => context.Importer.ImportAsync(new MemoryStream(tar), "user:alice", labelProblem));
        Assert.True(reason == e.Reason, $"expected {reason}, got {e.Reason}: {e.Message}");
        Assert.True(bundle == e.BundleReason, $"expected bundle {bundle}, got {e.BundleReason}: {e.Message}");
        var events = context.AssertUnchanged(before, "import.received", "import.rejected");
        Assert.Equal(e.Code, events[1].Details!.Value.GetProperty("reason").GetString());
        Assert.Empty(context.QuarantineEntries());
        Assert.Empty(context.Importer.List());
        return e;
    }

    [Theory]
    [InlineData("targets/model/demo-chat/1.0.0/config/", true)]
    [InlineData("targets/model/demo-chat/1.0.0/extra/", true)]
    [InlineData("targets/", false)]
    public async Task Import_RefusesADirectoryEntry_DeclaredOrNot_AndLeavesStateUnchanged(string directory, bool amongTheTargets)
    {
        await using var context = await ImportTestContext.CreateAsync();
        var bundle = context.DemoBundle();
        var entry = new TestBundleEntry(directory, [], archive => archive.Entry(TarEntryType.Directory, directory, e => e.Mode = (UnixFileMode)0x1FF));
        if (amongTheTargets)
        {
            bundle.Entries.Insert(bundle.Entries.FindIndex(e => e.Name == Prefix + "model.onnx") + 1, entry);
        }
        else
        {
            bundle.InsertBeforeTargets(entry);
        }

        var e = await RejectedAsync(context, bundle.ToTar(), ImportRejection.Bundle, BundleRejection.DirectoryEntry);
        Assert.Equal("directory-entry", e.Code);
    }

    [Fact]
    public async Task Import_RefusesAMetadataEntryAfterBundleJson_AsUndeclared_AndLeavesStateUnchanged()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var bundle = context.DemoBundle();
        bundle.InsertBeforeTargets(new TestBundleEntry("metadata/extra.json", "{\"smuggled\":true}"u8.ToArray()));
        var e = await RejectedAsync(context, bundle.ToTar(), ImportRejection.Bundle, BundleRejection.UndeclaredEntry);
        Assert.Equal("undeclared-entry", e.Code);
        Assert.Contains("metadata/extra.json", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Import_RefusedForItsLabel_LeavesTrustStateUnchanged_AndAnOlderLegitimateBundleStillImports()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var older = context.DemoBundle().ToTar(); // release 1
        context.Repo.NextRelease();
        context.Repo.AddArtifact("model", "odd-label", "1.0.0", ImportTestRepository.DemoModelFiles("odd"), label: "BOGUS");
        context.Repo.Publish();
        var newer = context.Repo.Bundle("model", "odd-label", "1.0.0").ToTar(); // release 2, verified metadata
        string? LabelProblem(string label) => label == "BOGUS" ? "'BOGUS' is not a level of this enclave's scheme" : null;

        var e = await RejectedAsync(context, newer, ImportRejection.Label, bundle: null, LabelProblem);
        Assert.Equal("label", e.Code);
        Assert.Contains("'BOGUS' is not a level", e.Message, StringComparison.Ordinal);

        // Trust did not advance to release 2: release 1 is not a rollback.
        var record = await context.Importer.ImportAsync(new MemoryStream(older), "user:alice", LabelProblem);
        Assert.Equal(ImportState.Verified, record.State);
        Assert.Equal("demo-chat", record.Name);
    }
}
