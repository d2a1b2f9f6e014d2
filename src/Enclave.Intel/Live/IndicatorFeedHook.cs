using System.Text.Json;
using Enclave.Core.Artifacts;
using Enclave.Core.Audit;
using Enclave.Intel.Indicators;
using Enclave.Intel.Misp;
using Enclave.Intel.Stix;
using Enclave.Intel.Stix.Patterns;
using Enclave.State.Intel;

namespace Enclave.Intel.Live;

/// <summary>
/// Loads the threat intelligence of an activated <c>intel</c> bundle (airlock post-activation hook): every STIX 2.1
/// bundle (<c>*.json</c> whose top-level <c>type</c> is <c>bundle</c>) and every MISP feed (a folder with
/// <c>manifest.json</c> and event files, or single event files named <c>UUID.json</c> without a manifest) into the indicator store, in one transaction; a newer <c>modified</c> replaces
/// an older copy; indicators Enclave cannot evaluate are stored and counted with their reason. Then the live index is
/// rebuilt and a retro-hunt over the ledger history starts. Files that are not its own (OSV, KEV, VEX, Sigma rules,
/// attestations) are left alone; a bundle with none of its own changes nothing. The outcome is a ledger entry:
/// <c>intel.loaded</c> or <c>intel.rejected</c> (docs/audit-events.md).
/// </summary>
public sealed class IndicatorFeedHook : IArtifactActivationHook
{
    /// <summary>Most not-evaluable indicators named in one <c>intel.loaded</c> entry (all are counted and stored).</summary>
    public const int MaxSamplesInLedgerEntry = 20;

    private readonly IIndicatorStore _store;
    private readonly ILedger _ledger;
    private readonly TimeProvider _clock;
    private readonly LiveIndicators _live;
    private readonly RetroHunter? _hunter;
    private readonly StixReaderOptions _options;

    /// <summary>Loads into <paramref name="store"/>, recording in <paramref name="ledger"/>, refreshing <paramref name="live"/>, then hunting with <paramref name="hunter"/> (when given).</summary>
    public IndicatorFeedHook(IIndicatorStore store, ILedger ledger, TimeProvider clock, LiveIndicators live, RetroHunter? hunter = null, StixReaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(ledger);
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(live);
        _store = store;
        _ledger = ledger;
        _clock = clock;
        _live = live;
        _hunter = hunter;
        _options = options ?? StixReaderOptions.Default;
    }

    /// <inheritdoc/>
    public string Kind => "intel";

    /// <summary>The retro-hunt the last load started (completed when none was), for tests and shutdown.</summary>
    public Task<HuntResult?> LastHunt { get; private set; } = Task.FromResult<HuntResult?>(null);

    /// <inheritdoc/>
    public async Task OnActivatedAsync(ArtifactActivation activation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(activation);
        _ = await LoadAsync(activation, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Loads one activated bundle; returns the <c>intel.loaded</c> details, or null when the bundle was already loaded,
    /// holds no STIX or MISP data, or was refused (then <c>intel.rejected</c> is in the ledger and the store is unchanged).
    /// </summary>
    public async Task<IntelLoadedDetails?> LoadAsync(ArtifactActivation activation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(activation);
        if (_store.HasSource(activation.ImportId))
        {
            return null;
        }

        var subject = "import:" + activation.ImportId;
        FeedContents contents;
        try
        {
            contents = Read(activation);
        }
        catch (Exception e) when (e is StixRejectedException or StixPatternException or JsonException or IOException or UnauthorizedAccessException or InvalidDataException)
        {
            await _ledger.AppendAsync(AuditEvent.Create(_clock.GetUtcNow(), "system", subject, new IntelRejectedDetails
            {
                ImportId = activation.ImportId,
                Name = activation.Name,
                Version = activation.Version,
                Reason = e is StixRejectedException s ? s.Reason.ToString() : e is IOException or UnauthorizedAccessException ? "Unreadable" : "Invalid",
                Error = Clip(e.Message, 1000),
            }), cancellationToken).ConfigureAwait(false);
            return null;
        }

        if (contents.Files == 0)
        {
            return null;
        }

        var now = _clock.GetUtcNow();
        var assessor = new IndicatorAssessor(new StixPatternEvaluator());
        var rows = new List<IndicatorRow>(contents.Indicators.Count);
        var notEvaluable = new List<(string Id, string Reason)>();
        var live = 0;
        foreach (var (indicator, source) in contents.Indicators.Values.OrderBy(i => i.Indicator.Id, StringComparer.Ordinal))
        {
            var assessment = assessor.Assess(indicator, source);
            if (assessment.Status == IndicatorStatus.NotEvaluable)
            {
                notEvaluable.Add((indicator.Id, assessment.Reasons.Count > 0 ? assessment.Reasons[0] : "not evaluable"));
            }
            else if (indicator.IsLiveAt(now))
            {
                live++;
            }

            rows.Add(new IndicatorRow
            {
                Id = indicator.Id,
                Modified = indicator.Modified,
                ImportId = activation.ImportId,
                Source = Clip(source, 500),
                Name = indicator.Name,
                Pattern = indicator.Pattern,
                PatternType = indicator.PatternType,
                ValidFrom = indicator.ValidFrom,
                ValidUntil = indicator.ValidUntil,
                Revoked = indicator.Revoked,
                Confidence = indicator.Confidence,
                Created = indicator.Created,
                Status = LiveIndicators.StatusName(assessment.Status),
                Reason = assessment.Reasons.Count == 0 ? null : Clip(string.Join("; ", assessment.Reasons), 2000),
            });
        }

        var arrived = _ledger.Size;
        var result = _store.Apply(
            new IndicatorSourceRow(activation.ImportId, activation.Name, activation.Version, now, arrived, rows.Count, notEvaluable.Count, contents.Skipped),
            rows);
        var details = new IntelLoadedDetails
        {
            ImportId = activation.ImportId,
            Name = activation.Name,
            Version = activation.Version,
            Sources = [.. contents.Sources],
            Indicators = rows.Count,
            Live = live,
            NotEvaluable = notEvaluable.Count,
            Skipped = contents.Skipped,
            Added = result.Added,
            Replaced = result.Replaced,
            KeptNewer = result.KeptNewer,
            NotEvaluableSamples = [.. notEvaluable.Take(MaxSamplesInLedgerEntry).Select(n => Clip(n.Id + ": " + n.Reason, 300))],
        };
        await _ledger.AppendAsync(AuditEvent.Create(now, "system", subject, details), cancellationToken).ConfigureAwait(false);
        _live.Reload();
        if (_hunter is not null)
        {
            // Everything before the indicators arrived, hunted in the background: an approval does not wait for it.
            LastHunt = _hunter.StartAsync("import:" + activation.ImportId, "system", 0, arrived);
        }

        return details;
    }

    private sealed record FeedContents(Dictionary<string, (StixIndicator Indicator, string Source)> Indicators, int Skipped, int Files, List<string> Sources);

    private FeedContents Read(ArtifactActivation activation)
    {
        var indicators = new Dictionary<string, (StixIndicator, string)>(StringComparer.Ordinal);
        var skipped = 0;
        var files = 0;
        var sources = new List<string>();
        var root = Path.GetFullPath(activation.Folder);
        var mispFolders = new SortedSet<string>(StringComparer.Ordinal);
        var stixReader = new StixBundleReader(_options);
        var mispReader = new MispFeedReader(_options);
        // A folder with a manifest.json is a MISP feed read whole (below); elsewhere an event file named UUID.json
        // ({"Event": {...}}, as MISP exports one event) is read on its own.
        var manifestFolders = activation.Files.Select(f => f.RelativePath)
            .Where(r => r == "manifest.json" || r.EndsWith("/manifest.json", StringComparison.Ordinal))
            .Select(r => r.Contains('/', StringComparison.Ordinal) ? r[..r.LastIndexOf('/')] : string.Empty)
            .ToHashSet(StringComparer.Ordinal);
        foreach (var relative in activation.Files.Select(f => f.RelativePath).Order(StringComparer.Ordinal))
        {
            // Attestations (the bundle's own SBOM and provenance) are not intelligence.
            if (relative.StartsWith('.') || relative.Contains("/.", StringComparison.Ordinal) || !relative.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var path = Path.GetFullPath(Path.Combine(root, relative.Replace('/', Path.DirectorySeparatorChar)));
            if (!path.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                throw new InvalidDataException($"{relative}: resolves outside the bundle's folder; nothing was loaded");
            }

            var name = relative[(relative.LastIndexOf('/') + 1)..];
            var folder = relative.Contains('/', StringComparison.Ordinal) ? relative[..relative.LastIndexOf('/')] : string.Empty;
            if (string.Equals(name, "manifest.json", StringComparison.Ordinal))
            {
                mispFolders.Add(folder);
                continue;
            }

            byte[] bytes;
            using (var stream = File.OpenRead(path))
            {
                bytes = StixJson.ReadBounded(stream, _options.MaxBytes, relative);
            }

            if (!IsStixBundle(bytes))
            {
                if (!manifestFolders.Contains(folder) && Guid.TryParse(name[..^".json".Length], out _) && IsMispEvent(bytes))
                {
                    var feed = mispReader.ReadEvent(bytes, relative);
                    files++;
                    sources.Add(relative);
                    skipped += feed.Skipped.Count;
                    foreach (var indicator in feed.Indicators)
                    {
                        Keep(indicators, indicator, "misp:" + relative);
                    }
                }

                continue;
            }

            var bundle = stixReader.Read(bytes, relative);
            files++;
            sources.Add(relative);
            skipped += bundle.Skipped.Count;
            foreach (var indicator in bundle.Indicators)
            {
                Keep(indicators, indicator, relative);
            }
        }

        foreach (var folder in mispFolders)
        {
            var feed = mispReader.ReadDirectory(folder.Length == 0 ? root : Path.Combine(root, folder.Replace('/', Path.DirectorySeparatorChar)));
            files++;
            sources.Add(folder.Length == 0 ? "manifest.json" : folder + "/manifest.json");
            skipped += feed.Skipped.Count;
            foreach (var indicator in feed.Indicators)
            {
                Keep(indicators, indicator, folder.Length == 0 ? "misp" : "misp:" + folder);
            }
        }

        return new FeedContents(indicators, skipped, files, sources);
    }

    private static void Keep(Dictionary<string, (StixIndicator Indicator, string Source)> indicators, StixIndicator indicator, string source)
    {
        if (!indicators.TryGetValue(indicator.Id, out var held) || held.Indicator.Modified < indicator.Modified)
        {
            indicators[indicator.Id] = (indicator, source);
        }
    }

    /// <summary>Whether the JSON's top-level <c>type</c> is <c>bundle</c> (only the top level is looked at; the strict reader follows).</summary>
    internal static bool IsStixBundle(ReadOnlySpan<byte> utf8) => TopLevel(utf8, "type"u8, JsonTokenType.String, "bundle"u8);

    /// <summary>Whether the JSON is an object with a top-level <c>Event</c> object, as a MISP event file is (the strict reader follows).</summary>
    internal static bool IsMispEvent(ReadOnlySpan<byte> utf8) => TopLevel(utf8, "Event"u8, JsonTokenType.StartObject, default);

    /// <summary>
    /// Whether the JSON is an object whose first property <paramref name="name"/> has a token of <paramref name="kind"/>
    /// (and, for a string, the value <paramref name="text"/>); only the top level is looked at.
    /// </summary>
    private static bool TopLevel(ReadOnlySpan<byte> utf8, ReadOnlySpan<byte> name, JsonTokenType kind, ReadOnlySpan<byte> text)
    {
        var reader = new Utf8JsonReader(utf8, isFinalBlock: false, new JsonReaderState(new JsonReaderOptions { MaxDepth = 256 }));
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isName = reader.ValueTextEquals(name);
                if (!reader.Read())
                {
                    return false;
                }

                if (isName)
                {
                    return reader.TokenType == kind && (kind != JsonTokenType.String || reader.ValueTextEquals(text));
                }

                if (!reader.TrySkip())
                {
                    return false;
                }
            }
        }
        catch (JsonException)
        {
            // Malformed before its type: not recognisably a STIX bundle.
        }

        return false;
    }

    private static string Clip(string s, int max) => s.Length <= max ? s : s[..max] + "…";
}
