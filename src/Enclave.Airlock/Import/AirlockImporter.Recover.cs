using System.Text.Json;
using Enclave.Airlock.Bundles;
using Enclave.Core;
using Enclave.Core.Audit;

namespace Enclave.Airlock.Import;

// Stage 5, recover: crash recovery at start-up.
public sealed partial class AirlockImporter
{
    /// <summary>
    /// Cleans up after a crash; call once at startup while holding the data directory lock, before any import.
    /// Removes quarantines of interrupted reads and of imports that never committed, undoes promotions that never
    /// committed (their folder and new blobs), removes temporary blob files, and rejects pending imports whose
    /// quarantine has disappeared (recorded in the ledger as <c>import.rejected</c> by <c>system</c>).
    /// </summary>
    public async Task<ImportRecoveryReport> RecoverAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var removed = BundleReader.SweepIncomplete(_scratch).ToList();
            var temporary = Blobs.SweepTemporary();
            var undone = new List<string>();
            var journal = new List<(string Id, string Folder, string Staging, List<Sha256Digest> Created)>();
            foreach (var promotion in _store.Promotions())
            {
                if (!IsUnder(promotion.Staging, _staging))
                {
                    // Another replica's promotion (a shared directory): in progress there, or undone by its own recovery.
                    continue;
                }

                var created = JsonSerializer.Deserialize(promotion.CreatedBlobsJson, ImportJson.Default.ListString) ?? [];
                journal.Add((promotion.ImportId, promotion.Folder, promotion.Staging, created.Select(h => Sha256Digest.TryParseHex(h, out var d) ? d : throw new InvalidDataException("airlock_promotions holds a malformed digest")).ToList()));
            }

            foreach (var (id, folder, staging, created) in journal)
            {
                UndoPromotion(id, folder, staging, created);
                undone.Add(id);
            }

            DeleteDirectory(_staging);

            var pending = List(ImportState.Verified).ToDictionary(r => r.Id, r => QuarantineOf(r.Id), StringComparer.Ordinal);
            var live = pending.Values.Where(q => q is not null).Select(q => Path.GetFullPath(q!)).ToHashSet(StringComparer.Ordinal);
            var quarantineRoot = Path.Combine(_scratch, "quarantine");
            if (Directory.Exists(quarantineRoot))
            {
                foreach (var directory in Directory.EnumerateDirectories(quarantineRoot))
                {
                    if (!live.Contains(Path.GetFullPath(directory)))
                    {
                        DeleteDirectory(directory);
                        removed.Add(directory);
                    }
                }
            }

            var lost = new List<string>();
            foreach (var (id, quarantine) in pending)
            {
                if (quarantine is null || (!Directory.Exists(quarantine) && MayJudge(quarantine)))
                {
                    const string reason = "the quarantined files disappeared while the import waited for approval; import the bundle again";
                    await AppendAsync("system", "import:" + id, new ImportRejectedDetails { Stage = "recovery", Reason = "quarantine-lost", Detail = reason }, cancellationToken).ConfigureAwait(false);
                    MarkRejected(id, "system", reason, _clock.GetUtcNow());
                    lost.Add(id);
                }
            }

            if (removed.Count + undone.Count + temporary + lost.Count > 0)
            {
                AirlockLog.Recovered(_logger, removed.Count, undone.Count, temporary, lost.Count);
            }

            return new ImportRecoveryReport { QuarantinesRemoved = removed, PromotionsUndone = undone, TemporaryBlobsRemoved = temporary, ImportsLost = lost };
        }
        finally
        {
            _gate.Release();
        }
    }

    // With a shared directory a replica judges only its own quarantines: another's may be activated (and removed) as we look.
    private bool MayJudge(string quarantine) => _scratch == _data || IsUnder(quarantine, _scratch);

    private static bool IsUnder(string path, string folder) =>
        Path.GetFullPath(path).StartsWith(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder)) + Path.DirectorySeparatorChar, StringComparison.Ordinal);
}
