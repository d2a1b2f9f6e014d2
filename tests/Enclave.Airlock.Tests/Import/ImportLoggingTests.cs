using Enclave.Airlock.Import;
using Enclave.Core.Audit;
using Microsoft.Extensions.Logging;

namespace Enclave.Airlock.Tests.Import;

/// <summary>The importer logs each import verified, refused and activated, and what recovery did, under its own event IDs.</summary>
public sealed class ImportLoggingTests
{
    private const string Prefix = "targets/model/demo-chat/1.0.0/";

    [Fact]
    public async Task Import_ThenTwoApprovals_LogsVerified_ThenActivated()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var imported = await context.ImportAsync(context.DemoBundle());
        await context.Importer.ApproveAsync(imported.Id, "user:bob");
        await context.Importer.ApproveAsync(imported.Id, "user:carol");

        var records = context.Log.Collector.GetSnapshot();
        var verified = Assert.Single(records, r => r.Id.Id == 5001);
        Assert.Equal(LogLevel.Information, verified.Level);
        Assert.Equal(
            $"import {imported.Id} verified: model demo-chat 1.0.0, manifest {imported.ManifestSha256.ToHex()}, {imported.Targets.Count} target(s); it waits for 2 approval(s)",
            verified.Message);
        var activated = Assert.Single(records, r => r.Id.Id == 5005);
        Assert.Equal($"import {imported.Id} activated: model demo-chat 1.0.0", activated.Message);
        Assert.DoesNotContain(records, r => r.Level >= LogLevel.Warning);
    }

    [Fact]
    public async Task TamperedTarget_LogsTheRefusalWithItsCode_AndNothingVerified()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var bundle = Tampered(context);

        var rejected = await Assert.ThrowsAsync<ImportRejectedException>(() => context.ImportAsync(bundle));

        var records = context.Log.Collector.GetSnapshot();
        var refused = Assert.Single(records, r => r.Id.Id == 5002);
        Assert.Equal(LogLevel.Warning, refused.Level);
        Assert.Matches(@"^import imp_[0-9a-f]{24} refused \(hash-mismatch\); nothing was imported$", refused.Message);
        Assert.Equal("hash-mismatch", rejected.Code);
        Assert.DoesNotContain(records, r => r.Id.Id == 5001);
    }

    [Fact]
    public async Task RejectionThatCannotBeLedgered_IsLogged_AndTheOriginalFailureReported()
    {
        await using var context = await ImportTestContext.CreateAsync();
        context.Ledger.FailTypes.Add(AuditEventTypes.ImportRejected.Name);
        var bundle = Tampered(context);

        await Assert.ThrowsAsync<ImportRejectedException>(() => context.ImportAsync(bundle));

        var notWritten = Assert.Single(context.Log.Collector.GetSnapshot(), r => r.Id.Id == 5009);
        Assert.Equal(LogLevel.Error, notWritten.Level);
        Assert.StartsWith("the ledger entry import.rejected for import:imp_", notWritten.Message, StringComparison.Ordinal);
        Assert.IsType<IOException>(notWritten.Exception);
    }

    [Fact]
    public async Task Recovery_LogsWhatItDid_AndNothingWhenThereWasNothingToDo()
    {
        await using var context = await ImportTestContext.CreateAsync();
        await context.Importer.RecoverAsync();
        Assert.DoesNotContain(context.Log.Collector.GetSnapshot(), r => r.Id.Id == 5008);

        await context.ImportAsync(context.DemoBundle());
        foreach (var directory in context.QuarantineEntries())
        {
            Directory.Delete(directory, recursive: true);
        }

        await context.Importer.RecoverAsync();

        var recovered = Assert.Single(context.Log.Collector.GetSnapshot(), r => r.Id.Id == 5008);
        Assert.Contains("1 pending import(s) rejected because their quarantine vanished", recovered.Message, StringComparison.Ordinal);
    }

    // The demo bundle with one flipped byte in a target: refused as a hash mismatch.
    private static TestBundle Tampered(ImportTestContext context)
    {
        var bundle = context.DemoBundle();
        var content = bundle[Prefix + "tokenizer.json"].ToArray();
        content[5] ^= 0x01;
        bundle[Prefix + "tokenizer.json"] = content;
        return bundle;
    }
}
