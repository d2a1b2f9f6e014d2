using Enclave.Airlock.Bundles;
using Enclave.Airlock.Import;
using Enclave.Core.Storage;
using Enclave.State;

namespace Enclave.Airlock.Tests.Import;

/// <summary>
/// Two replicas' importers on one shared directory (<see cref="AirlockImportOptions.SharedDirectory"/>) and one state:
/// each one's crash recovery removes its own debris and never the other's work in progress, and an import read by one
/// is activated by the other.
/// </summary>
public sealed class SharedDirectoryTests
{
    [Fact]
    public async Task RecoveryOfOneReplica_LeavesTheOthersPromotionQuarantineAndTemporaryBlobs_AndRemovesItsOwn()
    {
        var shared = Directory.CreateTempSubdirectory("enclave-shared-airlock-").FullName;
        using var atPromotion = new ManualResetEventSlim();
        using var resume = new ManualResetEventSlim();
        await using var a = await ImportTestContext.CreateAsync(configure: o => o with { SharedDirectory = shared });
        a.FaultPoint = step =>
        {
            if (step == "promote.folder")
            {
                atPromotion.Set();
                resume.Wait(TimeSpan.FromMinutes(1));
            }
        };
        var replicaB = Directory.CreateTempSubdirectory("enclave-replica-b-").FullName;
        var state = EnclaveState.Open(a.Data, a.Repo.Clock); // one state, as replicas on one PostgreSQL database
        var b = new AirlockImporter(
            new AirlockImportOptions { DataDirectory = replicaB, SharedDirectory = shared, State = state, Bundle = new BundleReaderOptions { FlushToDisk = false } },
            a.Ledger,
            a.Repo.Clock);
        try
        {
            var idA = ReplicaId.Of(a.Data);
            var idB = ReplicaId.Of(replicaB);
            Assert.NotEqual(idA, idB);

            // A: an import verified and awaiting approval, a bundle read in progress, a blob being written.
            var pending = await a.ImportAsync(a.DemoBundle());
            var quarantineA = Assert.Single(Directory.GetDirectories(Path.Combine(shared, "replicas", idA, "quarantine")));
            var readingA = Directory.CreateDirectory(Path.Combine(shared, "replicas", idA, "quarantine", "0123456789abcdef0123456789abcdef")).FullName;
            var writingA = Path.Combine(shared, "blobs", ".tmp", idA, "in-progress");
            Directory.CreateDirectory(Path.GetDirectoryName(writingA)!);
            File.WriteAllText(writingA, "half a blob");

            // B: the debris of its own crash.
            var readingB = Directory.CreateDirectory(Path.Combine(shared, "replicas", idB, "quarantine", "fedcba9876543210fedcba9876543210")).FullName;
            var writingB = Path.Combine(shared, "blobs", ".tmp", idB, "left-over");
            Directory.CreateDirectory(Path.GetDirectoryName(writingB)!);
            File.WriteAllText(writingB, "half a blob");
            var stagingB = Directory.CreateDirectory(Path.Combine(shared, "artifacts", ".staging", idB, "imp_gone")).FullName;

            // A's activating approval stops with its folder renamed into place, before the commit: a promotion in progress.
            await a.Importer.ApproveAsync(pending.Id, "user:bob");
            var approving = Task.Run(() => a.Importer.ApproveAsync(pending.Id, "user:carol"));
            Assert.True(atPromotion.Wait(TimeSpan.FromMinutes(1)), "replica A's promotion did not reach its folder");
            var folder = Path.Combine(shared, "artifacts", "model", "demo-chat", "1.0.0");
            Assert.True(Directory.Exists(folder));

            var report = await b.RecoverAsync();

            Assert.Empty(report.PromotionsUndone);
            Assert.Empty(report.ImportsLost);
            Assert.Equal([readingB], report.QuarantinesRemoved);
            Assert.Equal(1, report.TemporaryBlobsRemoved);
            Assert.False(File.Exists(writingB));
            Assert.False(Directory.Exists(stagingB));
            Assert.True(Directory.Exists(readingA), "replica B's recovery removed replica A's bundle read in progress");
            Assert.True(Directory.Exists(quarantineA), "replica B's recovery removed the quarantine of replica A's pending import");
            Assert.True(File.Exists(writingA), "replica B's recovery removed replica A's blob being written");
            Assert.True(Directory.Exists(folder), "replica B's recovery undid replica A's promotion in progress");

            resume.Set();
            var activated = await approving;
            Assert.Equal(ImportState.Activated, activated.State);
            var artifact = Assert.Single(b.ListActivated("model"));
            Assert.Equal(folder, artifact.Folder);
            Assert.All(Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories), f => Assert.True(new FileInfo(f).Length > 0));
            Assert.NotEmpty(b.Blobs.Enumerate());
            Assert.False(Directory.Exists(Path.Combine(a.Data, "blobs")), "a replica with a shared directory stored blobs in its data directory");
        }
        finally
        {
            resume.Set();
            Directory.Delete(replicaB, recursive: true);
            Directory.Delete(shared, recursive: true);
        }
    }

    [Fact]
    public async Task AnImportReadByOneReplica_IsActivatedByTheOther_FromTheSharedQuarantine()
    {
        var shared = Directory.CreateTempSubdirectory("enclave-shared-airlock-").FullName;
        await using var a = await ImportTestContext.CreateAsync(configure: o => o with { SharedDirectory = shared });
        var replicaB = Directory.CreateTempSubdirectory("enclave-replica-b-").FullName;
        var state = EnclaveState.Open(a.Data, a.Repo.Clock);
        var b = new AirlockImporter(
            new AirlockImportOptions { DataDirectory = replicaB, SharedDirectory = shared, State = state, Bundle = new BundleReaderOptions { FlushToDisk = false } },
            a.Ledger,
            a.Repo.Clock);
        try
        {
            var pending = await a.ImportAsync(a.DemoBundle());
            var quarantine = Assert.Single(Directory.GetDirectories(Path.Combine(shared, "replicas", ReplicaId.Of(a.Data), "quarantine")));

            await b.ApproveAsync(pending.Id, "user:bob");
            var activated = await b.ApproveAsync(pending.Id, "user:carol");

            Assert.Equal(ImportState.Activated, activated.State);
            Assert.False(Directory.Exists(quarantine));
            Assert.Equal(Path.Combine(shared, "artifacts", "model", "demo-chat", "1.0.0"), Assert.Single(a.Importer.ListActivated("model")).Folder);
            Assert.Equal(a.Importer.Blobs.Enumerate().Select(d => d.ToHex()).Order(), b.Blobs.Enumerate().Select(d => d.ToHex()).Order());
            Assert.NotEmpty(b.Blobs.Enumerate());
        }
        finally
        {
            Directory.Delete(replicaB, recursive: true);
            Directory.Delete(shared, recursive: true);
        }
    }
}
