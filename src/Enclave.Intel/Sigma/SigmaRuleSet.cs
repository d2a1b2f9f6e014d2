namespace Enclave.Intel.Sigma;

/// <summary>
/// A loaded set of Sigma detection and correlation rules, with every file or rule that was not loaded listed with its
/// reason. Correlation references (by id or name) are resolved here; a correlation naming a rule not in the set is
/// listed (<see cref="SigmaRejection.UnknownRule"/>).
/// </summary>
public sealed class SigmaRuleSet
{
    private SigmaRuleSet(IReadOnlyList<SigmaRule> rules, IReadOnlyList<SigmaCorrelationRule> correlations, IReadOnlyList<SigmaSkippedRule> skipped)
    {
        Rules = rules;
        Correlations = correlations;
        Skipped = skipped;
    }

    public IReadOnlyList<SigmaRule> Rules { get; }

    public IReadOnlyList<SigmaCorrelationRule> Correlations { get; }

    /// <summary>Files and rules not loaded, with the reason.</summary>
    public IReadOnlyList<SigmaSkippedRule> Skipped { get; }

    /// <summary>Loads rule files, and every <c>*.yml</c>/<c>*.yaml</c> below each folder given (in ordinal path order).</summary>
    public static SigmaRuleSet Load(IEnumerable<string> paths, SigmaReaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var files = new List<(string Source, byte[] Bytes)>();
        var skipped = new List<SigmaSkippedRule>();
        var max = (options ?? SigmaReaderOptions.Default).MaxFileBytes;
        foreach (var path in paths)
        {
            var names = Directory.Exists(path)
                ? Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Where(f => f.EndsWith(".yml", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase)).Order(StringComparer.Ordinal)
                : (IEnumerable<string>)[path];
            foreach (var file in names)
            {
                var length = new FileInfo(file).Length;
                if (length > max)
                {
                    skipped.Add(new SigmaSkippedRule { Source = file, Reason = SigmaRejection.Oversized, Detail = $"{file}: {length} bytes, more than the {max}-byte limit for a rule file" });
                    continue;
                }

                files.Add((file, File.ReadAllBytes(file)));
            }
        }

        var set = Load(files, options);
        return skipped.Count == 0 ? set : new SigmaRuleSet(set.Rules, set.Correlations, [.. skipped, .. set.Skipped]);
    }

    /// <summary>Loads rule files given as bytes, each with a name for messages.</summary>
    public static SigmaRuleSet Load(IEnumerable<(string Source, byte[] Bytes)> files, SigmaReaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(files);
        var reader = new SigmaRuleReader(options);
        var rules = new List<SigmaRule>();
        var correlations = new List<SigmaCorrelationRule>();
        var skipped = new List<SigmaSkippedRule>();
        foreach (var (source, bytes) in files)
        {
            try
            {
                var result = reader.Read(bytes, source);
                rules.AddRange(result.Rules);
                correlations.AddRange(result.Correlations);
                skipped.AddRange(result.Skipped);
            }
            catch (SigmaRejectedException ex)
            {
                skipped.Add(new SigmaSkippedRule { Source = source, Reason = ex.Reason, Detail = ex.Detail });
            }
        }

        var resolved = new List<SigmaCorrelationRule>();
        foreach (var correlation in correlations)
        {
            var unknown = correlation.Rules.Where(r => !rules.Any(b => b.Id == r || b.Name == r)).ToList();
            var chained = unknown.Where(r => correlations.Any(c => c.Id == r || c.Name == r)).ToList();
            if (unknown.Count == 0)
            {
                resolved.Add(correlation);
                continue;
            }

            skipped.Add(new SigmaSkippedRule
            {
                Source = correlation.Source,
                Id = correlation.Id,
                Title = correlation.Title,
                Reason = chained.Count > 0 ? SigmaRejection.Unsupported : SigmaRejection.UnknownRule,
                Detail = chained.Count > 0
                    ? $"correlation chains (a correlation of correlation '{chained[0]}') are not evaluated"
                    : $"refers to rule '{unknown[0]}', which is not in the rule set" + (unknown.Count > 1 ? $" (and {unknown.Count - 1} more)" : string.Empty),
            });
        }

        return new SigmaRuleSet(rules, resolved, skipped);
    }
}
