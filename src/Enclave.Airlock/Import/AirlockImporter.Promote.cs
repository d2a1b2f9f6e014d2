using System.Data.Common;
using System.Text.Json;
using Enclave.Core;
using Enclave.Core.Audit;
using Enclave.Core.Storage;
using Enclave.State.Airlock;

namespace Enclave.Airlock.Import;

// Stage 4, promote: the approved artifact moved atomically into the blob store and the registry, undone if it does
// not commit.
public sealed partial class AirlockImporter
{
    private async Task PromoteAsync(ImportRecord record, string actor, string? via, CancellationToken cancellationToken)
    {
        var subject = "import:" + record.Id;
        var quarantine = QuarantineOf(record.Id);
        var sources = quarantine is null ? [] : QuarantinedFiles(record.Id, quarantine);
        if (quarantine is null || sources.Count != record.Targets.Count || sources.Values.Any(p => !File.Exists(p)))
        {
            throw new ImportWorkflowException(ImportWorkflowError.QuarantineLost, $"the quarantined files of {record.Id} are missing; it cannot be activated, only rejected (and the bundle imported again)");
        }

        var folder = ArtifactFolder(record.Kind, record.Name, record.Version);
        if (Directory.Exists(folder) || File.Exists(folder))
        {
            throw new IOException($"{folder} exists although no activated artifact owns it; move it away and approve again; nothing was changed");
        }

        var staging = Path.Combine(_staging, record.Id);
        var created = record.Targets.Select(t => t.Sha256).Distinct().Where(d => !Blobs.Contains(d)).ToList();
        var now = _clock.GetUtcNow();
        _store.StartPromotion(new PromotionRow(record.Id, folder, staging, JsonSerializer.Serialize(created.Select(d => d.ToHex()).ToList(), ImportJson.Default.ListString), now));

        var ledgered = false;
        var moved = false;
        try
        {
            Fault("promote.journal");
            foreach (var target in record.Targets.DistinctBy(t => t.Sha256))
            {
                Blobs.PutFile(sources[target.Path], target.Sha256, cancellationToken);
            }

            Fault("promote.blobs");
            Materialise(record, staging);
            Directory.CreateDirectory(Path.GetDirectoryName(folder)!);
            Directory.Move(staging, folder);
            moved = true;
            BlobStore.SyncDirectory(Path.GetDirectoryName(folder)!);
            Fault("promote.folder");

            await AppendAsync(actor, subject, ApprovedDetails(record, record.Approvers.Count + 1, via), cancellationToken).ConfigureAwait(false);
            ledgered = true;
            Fault("promote.approved");
            await AppendAsync(actor, subject, ActivatedDetails(record, via), cancellationToken).ConfigureAwait(false);
            Fault("promote.activated");

            using var transaction = _store.Begin();
            transaction.AddApproval(record.Id, actor, now);
            transaction.Activate(
                new ArtifactRow(record.Kind, record.Name, record.Version, record.Label, record.Task, record.Id, folder, record.ManifestSha256.ToHex(), now),
                actor);
            Fault("promote.commit");
            transaction.Commit();
            AirlockLog.Activated(_logger, record.Id, record.Kind, record.Name, record.Version);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            AirlockLog.ActivationFailed(_logger, e, record.Id);
            try
            {
                // The folder is removed only if this promotion made it: with a shared directory another replica may have
                // promoted the same import a moment earlier (its move won, ours failed on the existing folder).
                UndoPromotion(record.Id, moved ? folder : null, staging, created);
            }
            catch (Exception undo) when (undo is IOException or DbException or UnauthorizedAccessException)
            {
                // The journal row stays; RecoverAsync finishes the undo at the next start.
            }

            if (ledgered)
            {
                await TryAppendAsync(actor, subject, new ImportActivationFailedDetails
                {
                    Error = Short($"{e.GetType().Name}: {e.Message}"),
                    Detail = "the approval was not recorded and nothing was activated; approve again once the cause is fixed",
                }).ConfigureAwait(false);
            }

            throw;
        }

        DeleteDirectory(quarantine);
    }

    private void Materialise(ImportRecord record, string staging)
    {
        if (Directory.Exists(staging))
        {
            Directory.Delete(staging, recursive: true);
        }

        Directory.CreateDirectory(staging);
        var folders = new SortedSet<string>(StringComparer.Ordinal) { staging };
        foreach (var target in record.Targets)
        {
            var destination = Path.GetFullPath(Path.Combine(staging, target.RelativePath.Replace('/', Path.DirectorySeparatorChar)));
            if (!destination.StartsWith(staging + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                throw new IOException($"target {target.Path} resolves outside its artifact folder");
            }

            var parent = Path.GetDirectoryName(destination)!;
            Directory.CreateDirectory(parent);
            folders.Add(parent);
            Blobs.Link(target.Sha256, destination);
        }

        foreach (var folder in folders.Reverse())
        {
            BlobStore.SyncDirectory(folder);
        }
    }

    // Undoes a promotion that did not commit: the folder it made, the blobs it added, its journal row.
    private void UndoPromotion(string importId, string? folder, string staging, IReadOnlyList<Sha256Digest> created)
    {
        if (_store.IsActivated(importId))
        {
            // It did commit (the failure came after): nothing to undo but the journal row.
            _store.EndPromotion(importId);
            return;
        }

        DeleteDirectory(staging);
        if (folder is not null)
        {
            DeleteDirectory(folder);
        }
        var referenced = _store.ActivatedTargetDigests();

        foreach (var digest in created)
        {
            if (!referenced.Contains(digest.ToHex()))
            {
                Blobs.Delete(digest);
            }
        }

        _store.EndPromotion(importId);
    }

    private void MarkRejected(string id, string actor, string reason, DateTimeOffset now) =>
        _store.MarkRejected(id, actor, JsonSerializer.Serialize(new List<string> { reason }, ImportJson.Default.ListString), now);
}
