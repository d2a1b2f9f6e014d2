using Enclave.Intel.Sigma;
using Enclave.State.Detections;

namespace Enclave.Intel.Detections;

/// <summary>
/// The Sigma rules live now: every rule set in <see cref="IDetectionStore"/> (one per intel artifact name, put there by
/// <see cref="SigmaRuleHook"/>), loaded together so correlations may name rules of another set. Thread-safe: the hook
/// reloads, the detection pipeline reads <see cref="Current"/> and rebuilds its engine when <see cref="Version"/> moves.
/// </summary>
public sealed class LiveSigmaRules
{
    private readonly IDetectionStore _store;
    private readonly SigmaReaderOptions? _options;
    private readonly Lock _gate = new();
    private Snapshot? _snapshot;

    /// <summary>Rules of the sets in <paramref name="store"/>.</summary>
    public LiveSigmaRules(IDetectionStore store, SigmaReaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
        _options = options;
    }

    /// <summary>The live rule set (loaded from the store on first use).</summary>
    public SigmaRuleSet Current => Load().Rules;

    /// <summary>Goes up by one each time the live set changes.</summary>
    public int Version => Load().Version;

    /// <summary>The live sets, as stored.</summary>
    public IReadOnlyList<DetectionRuleSetRow> Sets => Load().Sets;

    /// <summary>Reads the live sets from the store again (after a hook changed them).</summary>
    public void Reload()
    {
        lock (_gate)
        {
            _snapshot = Read((_snapshot?.Version ?? 0) + 1);
        }
    }

    /// <summary>Loads rule files the way the live set does (product <c>enclave</c> rules kept, the others listed as skipped).</summary>
    public static (SigmaRuleSet Rules, IReadOnlyList<SigmaSkippedRule> OtherProducts) LoadFiles(IEnumerable<(string Source, byte[] Bytes)> files, SigmaReaderOptions? options = null)
    {
        var set = SigmaRuleSet.Load(files, options);
        var others = set.Rules
            .Where(r => !string.Equals(r.LogSource.Product, "enclave", StringComparison.OrdinalIgnoreCase))
            .Select(r => new SigmaSkippedRule
            {
                Source = r.Source,
                Id = r.Id,
                Title = r.Title,
                Reason = SigmaRejection.Unsupported,
                Detail = $"logsource ({r.LogSource}) is not product: enclave; only the enclave's audit events are scored",
            })
            .ToList();
        return (set, others);
    }

    private Snapshot Load()
    {
        var snapshot = Volatile.Read(ref _snapshot);
        if (snapshot is not null)
        {
            return snapshot;
        }

        lock (_gate)
        {
            return _snapshot ??= Read(1);
        }
    }

    private Snapshot Read(int version)
    {
        var sets = _store.RuleSets();
        var files = sets.SelectMany(s => _store.RuleFiles(s.ImportId)).Select(f => ($"{f.ImportId}:{f.Path}", f.Content)).ToList();
        return new Snapshot(LoadFiles(files, _options).Rules, sets, version);
    }

    private sealed record Snapshot(SigmaRuleSet Rules, IReadOnlyList<DetectionRuleSetRow> Sets, int Version);
}
