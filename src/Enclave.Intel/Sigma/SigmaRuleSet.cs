namespace Enclave.Intel.Sigma;

/// <summary>
/// A loaded set of Sigma detection and correlation rules, with every file or rule that was not loaded listed with its
/// reason. Correlation references (by id or name) are resolved here; a correlation naming a rule not in the set is
/// listed (<see cref="SigmaRejection.UnknownRule"/>).
/// </summary>
public sealed class SigmaRuleSet
{
    private SigmaRuleSet(IReadOnlyList<SigmaRule> rules, IReadOnlyList<SigmaCorrelationRule> correlations, IReadOnlyList<SigmaFilter> filters, IReadOnlyList<SigmaSkippedRule> skipped)
    {
        Rules = rules;
        Correlations = correlations;
        Filters = filters;
        Skipped = skipped;
    }

    /// <summary>The meta filters applied (each to at least one rule of the set).</summary>
    public IReadOnlyList<SigmaFilter> Filters { get; }

    /// <summary>Deepest chain of correlations of correlations.</summary>
    public const int MaxChainDepth = 8;

    public IReadOnlyList<SigmaRule> Rules { get; }

    public IReadOnlyList<SigmaCorrelationRule> Correlations { get; }

    /// <summary>Files and rules not loaded, with the reason.</summary>
    public IReadOnlyList<SigmaSkippedRule> Skipped { get; }

    /// <summary>
    /// The names of the event fields the set's rules and correlations can read (detections with their filters,
    /// <c>fieldref</c> targets, correlations' <c>group-by</c>, <c>field</c> and alias targets, and the names an alias
    /// falls back to), so that a reader of events may leave every other field unread; null when some rule may read any
    /// field (a keyword search).
    /// </summary>
    public IReadOnlySet<string>? FieldsRead()
    {
        var fields = new HashSet<string>(StringComparer.Ordinal);
        foreach (var rule in Rules)
        {
            if (!rule.Detection.CollectFields(fields))
            {
                return null;
            }
        }

        foreach (var correlation in Correlations)
        {
            fields.UnionWith(correlation.GroupBy);
            if (correlation.Field is { } field)
            {
                fields.Add(field);
            }

            foreach (var perRule in correlation.Aliases.Values)
            {
                fields.UnionWith(perRule.Values);
            }
        }

        return fields;
    }

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
        return skipped.Count == 0 ? set : new SigmaRuleSet(set.Rules, set.Correlations, set.Filters, [.. skipped, .. set.Skipped]);
    }

    /// <summary>Loads rule files given as bytes, each with a name for messages.</summary>
    public static SigmaRuleSet Load(IEnumerable<(string Source, byte[] Bytes)> files, SigmaReaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(files);
        var reader = new SigmaRuleReader(options);
        var rules = new List<SigmaRule>();
        var correlations = new List<SigmaCorrelationRule>();
        var filters = new List<SigmaFilter>();
        var skipped = new List<SigmaSkippedRule>();
        foreach (var (source, bytes) in files)
        {
            try
            {
                var result = reader.Read(bytes, source);
                rules.AddRange(result.Rules);
                correlations.AddRange(result.Correlations);
                filters.AddRange(result.Filters);
                skipped.AddRange(result.Skipped);
            }
            catch (SigmaRejectedException ex)
            {
                skipped.Add(new SigmaSkippedRule { Source = source, Reason = ex.Reason, Detail = ex.Detail });
            }
        }

        // Meta filters: each named rule's detection becomes "detection and not filter" (for the filter's log source).
        var applied = new List<SigmaFilter>();
        foreach (var filter in filters)
        {
            var targets = rules.Select((r, i) => (r, i)).Where(x => filter.Rules.Any(n => n == x.r.Id || n == x.r.Name)).ToList();
            if (targets.Count == 0)
            {
                skipped.Add(new SigmaSkippedRule { Source = filter.Source, Id = filter.Id, Title = filter.Title, Reason = SigmaRejection.UnknownRule, Detail = $"the filter names no rule in the set (first: '{filter.Rules[0]}')" });
                continue;
            }

            foreach (var (rule, index) in targets)
            {
                rules[index] = rule with { Detection = new SigmaPredicate.And([rule.Detection, new SigmaPredicate.Not(filter.Condition)]) };
            }

            applied.Add(filter);
        }

        // A correlation may refer to rules and to other correlations (chains), resolved level by level.
        var known = new HashSet<string>(rules.SelectMany(r => new[] { r.Id, r.Name }).OfType<string>(), StringComparer.Ordinal);
        var resolved = new List<SigmaCorrelationRule>();
        var pending = correlations.ToList();
        for (var level = 0; level < MaxChainDepth && pending.Count > 0; level++)
        {
            var ready = pending.Where(c => c.Rules.All(known.Contains)).ToList();
            if (ready.Count == 0)
            {
                break;
            }

            foreach (var correlation in ready)
            {
                resolved.Add(correlation);
                pending.Remove(correlation);
                known.UnionWith(new[] { correlation.Id, correlation.Name }.OfType<string>());
            }
        }

        foreach (var correlation in pending)
        {
            var unknown = correlation.Rules.Where(r => !known.Contains(r)).ToList();
            var chained = unknown.Where(r => pending.Any(c => c.Id == r || c.Name == r)).ToList();
            skipped.Add(new SigmaSkippedRule
            {
                Source = correlation.Source,
                Id = correlation.Id,
                Title = correlation.Title,
                Reason = chained.Count > 0 ? SigmaRejection.Unsupported : SigmaRejection.UnknownRule,
                Detail = chained.Count > 0
                    ? $"the chain through correlation '{chained[0]}' is circular or deeper than {MaxChainDepth} levels"
                    : $"refers to rule '{unknown[0]}', which is not in the rule set" + (unknown.Count > 1 ? $" (and {unknown.Count - 1} more)" : string.Empty),
            });
        }

        return new SigmaRuleSet(rules, resolved, applied, skipped);
    }
}
