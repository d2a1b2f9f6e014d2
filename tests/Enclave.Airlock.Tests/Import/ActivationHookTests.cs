using Enclave.Airlock.Import;
using Enclave.Core;
using Enclave.Core.Artifacts;

namespace Enclave.Airlock.Tests.Import;

/// <summary>Work that follows activation (<see cref="IArtifactActivationHook"/>): called once, with the artifact's files, for its kind only.</summary>
public sealed class ActivationHookTests
{
    [Fact]
    public async Task HookForTheKind_IsCalledAfterActivation_WithTheMaterialisedFiles_OthersAreNot()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var model = new RecordingHook("model", context);
        var intel = new RecordingHook("intel", context);
        context.Importer.AddActivationHook(model);
        context.Importer.AddActivationHook(intel);
        var imported = await context.ImportAsync(context.DemoBundle(), "user:alice");

        await context.Importer.ApproveAsync(imported.Id, "user:bob");
        Assert.Empty(model.Calls);
        await context.Importer.ApproveAsync(imported.Id, "user:carol");

        var call = Assert.Single(model.Calls);
        Assert.Empty(intel.Calls);
        Assert.Equal(("model", "demo-chat", "1.0.0", imported.Id, "user:carol"), (call.Kind, call.Name, call.Version, call.ImportId, call.ActivatedBy));
        Assert.Equal(context.Importer.ArtifactFolder("model", "demo-chat", "1.0.0"), call.Folder);
        Assert.Equal(imported.Targets.Select(t => t.RelativePath).Order(StringComparer.Ordinal), call.Files.Select(f => f.RelativePath).Order(StringComparer.Ordinal));
        foreach (var file in call.Files)
        {
            Assert.Equal(file.Sha256, Sha256Digest.Compute(File.ReadAllBytes(Path.Combine(call.Folder, file.RelativePath))));
        }

        // The hook ran after import.activated was durable.
        Assert.Equal("import.activated", model.LastEntryTypeWhenCalled);
    }

    [Fact]
    public async Task FailingHook_IsRecorded_AndTheActivationStands()
    {
        await using var context = await ImportTestContext.CreateAsync();
        context.Importer.AddActivationHook(new RecordingHook("model", context) { Throw = true });
        var imported = await context.ImportAsync(context.DemoBundle(), "user:alice");
        await context.Importer.ApproveAsync(imported.Id, "user:bob");

        var activated = await context.Importer.ApproveAsync(imported.Id, "user:carol");

        Assert.Equal(ImportState.Activated, activated.State);
        Assert.Single(context.Importer.ActivatedModels());
        var last = context.LedgerEvent(context.Ledger.Size - 1);
        Assert.Equal(("import.hook-failed", "user:carol", "import:" + imported.Id), (last.Type, last.Actor, last.Subject));
        Assert.Equal("RecordingHook", last.Details!.Value.GetProperty("hook").GetString());
        Assert.Contains("hook broke", last.Details!.Value.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    private sealed class RecordingHook(string kind, ImportTestContext context) : IArtifactActivationHook
    {
        public List<ArtifactActivation> Calls { get; } = [];

        public bool Throw { get; init; }

        public string? LastEntryTypeWhenCalled { get; private set; }

        public string Kind => kind;

        public Task OnActivatedAsync(ArtifactActivation activation, CancellationToken cancellationToken)
        {
            Calls.Add(activation);
            LastEntryTypeWhenCalled = context.LedgerEvent(context.Ledger.Size - 1).Type;
            return Throw ? throw new InvalidOperationException("hook broke") : Task.CompletedTask;
        }
    }
}
