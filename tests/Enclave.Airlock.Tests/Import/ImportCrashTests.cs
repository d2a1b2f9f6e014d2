using System.Diagnostics;
using System.Globalization;
using Enclave.Airlock.Import;
using Enclave.Core;

namespace Enclave.Airlock.Tests.Import;

/// <summary>
/// A real child process (tests/Enclave.Airlock.ImportHost) imports or approves against the data directory and is
/// SIGKILLed at a chosen point; after a restart (recovery, reopen) nothing of the interrupted operation is visible
/// and the same operation succeeds.
/// </summary>
public sealed class ImportCrashTests
{
    private const int LargeFileBytes = 64 * 1024 * 1024;

    private static Process StartHost(ImportTestContext context, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Enclave.Airlock.ImportHost.dll"));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["ENCLAVE_TEST_NOW"] = context.Repo.Clock.Now.ToString("O", CultureInfo.InvariantCulture);
        return Process.Start(info) ?? throw new InvalidOperationException("could not start the import host");
    }

    // Reads the child's output until it says it paused (it then blocks until killed).
    private static async Task<string> WaitUntilPausedAsync(Process child)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        while (await child.StandardOutput.ReadLineAsync(deadline.Token) is { } line)
        {
            if (line.StartsWith("paused ", StringComparison.Ordinal))
            {
                return line;
            }
        }

        throw new InvalidOperationException($"the import host exited ({child.ExitCode}) without pausing: {await child.StandardError.ReadToEndAsync(deadline.Token)}");
    }

    private static async Task KillAsync(Process child)
    {
        child.Kill(); // SIGKILL: no finally blocks, no dispose, no flush
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await child.WaitForExitAsync(deadline.Token);
    }

    [Fact]
    public async Task SigkillDuringTheCopyOfALargeBundle_LeavesNothingVisible_AndTheSameBundleImportsAfterRestart()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var files = ImportTestRepository.DemoModelFiles("large");
        files["model.data"] = new byte[LargeFileBytes];
        new Random(11).NextBytes(files["model.data"]);
        context.Repo.AddArtifact("model", "large", "1", files);
        context.Repo.Publish();
        var bundlePath = Path.Combine(context.Data, "..", "large.tar");
        await File.WriteAllBytesAsync(bundlePath, context.Repo.Bundle("model", "large", "1").ToTar());
        var before = context.Capture();
        await context.CloseLedgerAsync();

        using (var child = StartHost(context, "import", context.Data, bundlePath, "user:alice", (16 * 1024 * 1024).ToString(CultureInfo.InvariantCulture)))
        {
            await WaitUntilPausedAsync(child);

            // Killed mid-copy: a quarantine without its completion marker, the large file still incoming.
            var quarantine = Assert.Single(Directory.GetDirectories(Path.Combine(context.Data, "quarantine")));
            Assert.False(File.Exists(Path.Combine(quarantine, ".read-complete")));
            Assert.NotEmpty(Directory.GetFiles(Path.Combine(quarantine, ".incoming")));
            await KillAsync(child);
        }

        context.OpenLedger();
        context.NewImporter();
        var report = await context.Importer.RecoverAsync();

        Assert.Single(report.QuarantinesRemoved);
        Assert.Empty(context.QuarantineEntries());
        var events = context.AssertUnchanged(before, "import.received");
        Assert.Equal("user:alice", events[0].Actor);
        Assert.Empty(context.Importer.List());
        Assert.Equal(new Dictionary<string, int> { ["root"] = 1 }, context.Importer.TrustStore.Versions());

        var imported = await context.Importer.ImportAsync(bundlePath, "user:alice");
        Assert.Equal(ImportState.Verified, imported.State);
        Assert.Equal(Sha256Digest.Compute(files["model.data"]), imported.Targets.Single(t => t.RelativePath == "model.data").Sha256);
    }

    [Fact]
    public async Task SigkillDuringPromotion_IsUndoneAtRestart_AndApprovingAgainActivates()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var imported = await context.ImportAsync(context.DemoBundle());
        await context.Importer.ApproveAsync(imported.Id, "user:bob");
        var before = context.Capture();
        await context.CloseLedgerAsync();

        using (var child = StartHost(context, "approve", context.Data, imported.Id, "user:carol", "promote.folder"))
        {
            await WaitUntilPausedAsync(child);

            // Killed after the blobs and the artifact folder were written, before the ledger and the commit.
            Assert.True(Directory.Exists(Path.Combine(context.Data, "artifacts", "model", "demo-chat", "1.0.0")));
            Assert.NotEmpty(Directory.GetFiles(Path.Combine(context.Data, "blobs", "sha256"), "*", SearchOption.AllDirectories));
            await KillAsync(child);
        }

        context.OpenLedger();
        context.NewImporter();
        var report = await context.Importer.RecoverAsync();

        Assert.Equal([imported.Id], report.PromotionsUndone);
        context.AssertUnchanged(before);
        Assert.Empty(context.Importer.Blobs.Enumerate());
        Assert.Empty(context.Importer.ActivatedModels());
        Assert.Equal(["user:bob"], context.Importer.Get(imported.Id)!.Approvers);

        var activated = await context.Importer.ApproveAsync(imported.Id, "user:carol");
        Assert.Equal(ImportState.Activated, activated.State);
        Assert.Single(context.Importer.ActivatedModels());
    }
}
