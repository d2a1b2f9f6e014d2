using Enclave.Core;
using Enclave.Core.Artifacts;
using Enclave.Core.Audit;
using Enclave.Intel.Sigma;
using Enclave.State.Detections;

namespace Enclave.Intel.Detections;

/// <summary>
/// Airlock post-activation hook for <c>intel</c> bundles: the Sigma rule files in it (<c>*.yml</c>, <c>*.yaml</c>) become
/// the live rule set of the bundle's name (replacing an older version's), stored in <c>enclave.db</c> so they are live
/// again after a restart. Rules for another product than <c>enclave</c>, and rules the reader refuses, are listed with
/// their reason. Other files are left to the other hooks (STIX, MISP, OSV). The outcome is a <c>detections.loaded</c>
/// ledger entry; a bundle without rule files writes nothing.
/// </summary>
public sealed class SigmaRuleHook : IArtifactActivationHook
{
    /// <summary>Most rule files taken from one bundle (the rest are listed as skipped).</summary>
    public const int MaxRuleFiles = 1024;

    /// <summary>Most skipped rules named in one <c>detections.loaded</c> entry (all are counted).</summary>
    public const int MaxSkippedInLedgerEntry = 20;

    private readonly IDetectionStore _store;
    private readonly LiveSigmaRules _live;
    private readonly ILedger _ledger;
    private readonly TimeProvider _clock;
    private readonly SigmaReaderOptions _options;

    /// <summary>Stores rule sets in <paramref name="store"/>, makes them live in <paramref name="live"/>, records in <paramref name="ledger"/>.</summary>
    public SigmaRuleHook(IDetectionStore store, LiveSigmaRules live, ILedger ledger, TimeProvider clock, SigmaReaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(live);
        ArgumentNullException.ThrowIfNull(ledger);
        ArgumentNullException.ThrowIfNull(clock);
        _store = store;
        _live = live;
        _ledger = ledger;
        _clock = clock;
        _options = options ?? SigmaReaderOptions.Default;
    }

    /// <inheritdoc/>
    public string Kind => "intel";

    /// <inheritdoc/>
    public async Task OnActivatedAsync(ArtifactActivation activation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(activation);
        _ = await LoadAsync(activation, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Loads the rule files of one activated bundle; returns the ledger index of its <c>detections.loaded</c> entry, or
    /// null when the bundle holds no rule file or was loaded before.
    /// </summary>
    public async Task<long?> LoadAsync(ArtifactActivation activation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(activation);
        var candidates = activation.Files
            .Where(f => f.RelativePath.EndsWith(".yml", StringComparison.OrdinalIgnoreCase) || f.RelativePath.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase))
            .OrderBy(f => f.RelativePath, StringComparer.Ordinal)
            .ToList();
        if (candidates.Count == 0 || _store.HasRuleSet(activation.ImportId))
        {
            return null;
        }

        var skipped = new List<SigmaSkippedRule>();
        var files = new List<DetectionRuleFileRow>();
        foreach (var file in candidates)
        {
            if (files.Count >= MaxRuleFiles)
            {
                skipped.Add(new SigmaSkippedRule { Source = file.RelativePath, Reason = SigmaRejection.TooLarge, Detail = $"the bundle has more than {MaxRuleFiles} rule files; the rest were not read" });
                continue;
            }

            if (file.Length > _options.MaxFileBytes)
            {
                skipped.Add(new SigmaSkippedRule { Source = file.RelativePath, Reason = SigmaRejection.Oversized, Detail = $"{file.RelativePath}: {file.Length} bytes, more than the {_options.MaxFileBytes}-byte limit for a rule file" });
                continue;
            }

            var bytes = await ReadAsync(activation.Folder, file, cancellationToken).ConfigureAwait(false);
            if (bytes is null)
            {
                skipped.Add(new SigmaSkippedRule { Source = file.RelativePath, Reason = SigmaRejection.InvalidField, Detail = $"{file.RelativePath}: its content does not match the SHA-256 and length the airlock recorded; not loaded" });
                continue;
            }

            files.Add(new DetectionRuleFileRow(activation.ImportId, file.RelativePath, file.Sha256.ToString(), bytes));
        }

        var (set, otherProducts) = LiveSigmaRules.LoadFiles(files.Select(f => (f.Path, f.Content)), _options);
        skipped.AddRange(set.Skipped);
        skipped.AddRange(otherProducts);
        var live = set.Rules.Count - otherProducts.Count + set.Correlations.Count;
        var now = _clock.GetUtcNow();
        _store.PutRuleSet(new DetectionRuleSetRow(activation.Name, activation.ImportId, activation.Version, now, live, skipped.Count), files);
        _live.Reload();
        var details = new DetectionsLoadedDetails
        {
            ImportId = activation.ImportId,
            Name = activation.Name,
            Version = activation.Version,
            Files = files.Count,
            Rules = set.Rules.Count - otherProducts.Count,
            Correlations = set.Correlations.Count,
            Filters = set.Filters.Count,
            Skipped = skipped.Count,
            SkippedSamples = [.. skipped.Take(MaxSkippedInLedgerEntry).Select(s => new DetectionsSkippedSample
            {
                Source = Clip(s.Source, 200),
                Id = s.Id,
                Reason = s.Reason.ToString(),
                Detail = Clip(s.Detail, 300),
            })],
        };
        return await _ledger.AppendAsync(AuditEvent.Create(now, "system", "import:" + activation.ImportId, details), cancellationToken).ConfigureAwait(false);
    }

    private async Task<byte[]?> ReadAsync(string folder, ArtifactFile file, CancellationToken cancellationToken)
    {
        var path = Path.Combine(folder, file.RelativePath.Replace('/', Path.DirectorySeparatorChar));
        var bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        return bytes.LongLength == file.Length && Sha256Digest.Compute(bytes) == file.Sha256 ? bytes : null;
    }

    private static string Clip(string s, int max) => s.Length <= max ? s : s[..max] + "…";
}
