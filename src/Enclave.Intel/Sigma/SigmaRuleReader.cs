using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Enclave.Intel.Indicators;

namespace Enclave.Intel.Sigma;

/// <summary>Reads Sigma rule files: detection rules, correlation rules, several per file (YAML documents).</summary>
public sealed class SigmaRuleReader(SigmaReaderOptions? options = null)
{
    private static readonly HashSet<string> KnownModifiers = new(StringComparer.Ordinal)
    {
        "contains", "startswith", "endswith", "all", "re", "i", "m", "s", "cidr", "base64", "base64offset", "windash",
        "utf16le", "utf16be", "utf16", "wide", "exists", "cased", "fieldref", "lt", "lte", "gt", "gte", "neq", "expand",
        "minute", "hour", "day", "week", "month", "year",
    };

    private static readonly char[] Dashes = ['-', '/', '\u2013', '\u2014', '\u2015'];

    private readonly SigmaReaderOptions _options = options ?? SigmaReaderOptions.Default;

    /// <summary>The outcome of reading one file.</summary>
    public sealed record Result(IReadOnlyList<SigmaRule> Rules, IReadOnlyList<SigmaCorrelationRule> Correlations, IReadOnlyList<SigmaFilter> Filters, IReadOnlyList<SigmaSkippedRule> Skipped);

    /// <summary>
    /// Reads a file's bytes. A file-level problem (oversized, invalid UTF-8, YAML syntax, anchors, duplicate keys)
    /// throws <see cref="SigmaRejectedException"/>; a rule that is malformed or uses what Enclave cannot evaluate is
    /// listed in <see cref="Result.Skipped"/> with its reason, and the file's other rules load.
    /// </summary>
    public Result Read(ReadOnlySpan<byte> bytes, string source)
    {
        var documents = SigmaYaml.ReadDocuments(bytes, source, _options);
        var rules = new List<SigmaRule>();
        var correlations = new List<SigmaCorrelationRule>();
        var filters = new List<SigmaFilter>();
        var skipped = new List<SigmaSkippedRule>();
        for (var i = 0; i < documents.Count; i++)
        {
            var where = documents.Count == 1 ? source : $"{source}#{i + 1}";
            var map = documents[i] as YamlMap;
            try
            {
                if (map is null)
                {
                    throw new SigmaRejectedException(SigmaRejection.InvalidField, "a rule document must be a mapping");
                }

                if (map["action"] is not null)
                {
                    throw new SigmaRejectedException(SigmaRejection.Unsupported, "rule collections with 'action' (global/reset/repeat) are not evaluated; write each rule whole");
                }

                if (map["filter"] is not null && map["detection"] is null)
                {
                    filters.Add(ReadFilter(map, where));
                }
                else if (map["correlation"] is not null)
                {
                    correlations.Add(ReadCorrelation(map, where));
                }
                else
                {
                    rules.Add(ReadRule(map, where));
                }
            }
            catch (SigmaRejectedException ex)
            {
                skipped.Add(new SigmaSkippedRule
                {
                    Source = where,
                    Id = map is null ? null : Text(map, "id"),
                    Title = map is null ? null : Text(map, "title"),
                    Reason = ex.Reason,
                    Detail = ex.Detail,
                });
            }
        }

        return new Result(rules, correlations, filters, skipped);
    }

    private static string? Text(YamlMap map, string key) => map[key] is YamlScalar s && !s.IsNull ? s.Value : null;

    private static string Required(YamlMap map, string key) =>
        Text(map, key) ?? throw new SigmaRejectedException(SigmaRejection.MissingField, $"no '{key}' (line {map.Line})");

    private static IReadOnlyList<string> TextList(YamlMap map, string key) => map[key] switch
    {
        null => [],
        YamlScalar s when s.IsNull => [],
        YamlScalar s => [s.Value],
        YamlSequence seq => seq.Items.Select(i => i is YamlScalar s ? s.Value : throw new SigmaRejectedException(SigmaRejection.InvalidField, $"line {i.Line}: '{key}' must be a list of values")).ToList(),
        var other => throw new SigmaRejectedException(SigmaRejection.InvalidField, $"line {other.Line}: '{key}' must be a list of values"),
    };

    private SigmaRule ReadRule(YamlMap map, string source)
    {
        var title = Required(map, "title");
        if (map["logsource"] is not YamlMap logsource)
        {
            throw new SigmaRejectedException(SigmaRejection.MissingField, $"no 'logsource' mapping (line {map.Line})");
        }

        if (map["detection"] is not YamlMap detection)
        {
            throw new SigmaRejectedException(SigmaRejection.MissingField, $"no 'detection' mapping (line {map.Line})");
        }

        var identifiers = new Dictionary<string, SigmaPredicate>(StringComparer.Ordinal);
        YamlNode? condition = null;
        foreach (var (name, node) in detection.Entries)
        {
            if (name == "condition")
            {
                condition = node;
            }
            else if (name == "timeframe")
            {
                continue; // only meaningful with the deprecated aggregations, which the condition parser refuses
            }
            else
            {
                identifiers[name] = Selection(name, node);
            }
        }

        var conditions = condition switch
        {
            YamlScalar s when !s.IsNull => [s.Value],
            YamlSequence seq when seq.Items.Count > 0 && seq.Items.All(i => i is YamlScalar) => seq.Items.Cast<YamlScalar>().Select(s => s.Value).ToList(),
            _ => throw new SigmaRejectedException(SigmaRejection.MissingField, $"no 'condition' in the detection (line {detection.Line})"),
        };
        var predicates = conditions.Select(c => SigmaConditionParser.Parse(c, identifiers)).ToList();
        return new SigmaRule
        {
            Title = title,
            Id = Text(map, "id"),
            Name = Text(map, "name"),
            Status = Text(map, "status"),
            Level = Text(map, "level"),
            Description = Text(map, "description"),
            LogSource = new SigmaLogSource { Product = Text(logsource, "product"), Category = Text(logsource, "category"), Service = Text(logsource, "service") },
            Tags = TextList(map, "tags"),
            FalsePositives = TextList(map, "falsepositives"),
            Condition = string.Join(" | ", conditions),
            Source = source,
            Detection = predicates.Count == 1 ? predicates[0] : new SigmaPredicate.Or(predicates),
        };
    }

    private SigmaPredicate Selection(string name, YamlNode node)
    {
        switch (node)
        {
            case YamlMap map:
                {
                    var parts = map.Entries.Select(e => FieldCondition(e.Key, e.Value, map.Line)).ToList();
                    return parts.Count == 1 ? parts[0] : new SigmaPredicate.And(parts);
                }

            case YamlSequence seq when seq.Items.All(i => i is YamlScalar):
                return FieldCondition(string.Empty, seq, seq.Line);
            case YamlSequence seq:
                {
                    var parts = new List<SigmaPredicate>();
                    var keywords = seq.Items.OfType<YamlScalar>().ToList();
                    if (keywords.Count > 0)
                    {
                        parts.Add(FieldCondition(string.Empty, new YamlSequence(keywords, seq.Line), seq.Line));
                    }

                    foreach (var item in seq.Items.Where(i => i is not YamlScalar))
                    {
                        parts.Add(item is YamlMap ? Selection(name, item) : throw new SigmaRejectedException(SigmaRejection.InvalidField, $"line {item.Line}: search identifier '{name}' holds a nested list"));
                    }

                    return parts.Count == 1 ? parts[0] : new SigmaPredicate.Or(parts);
                }

            case YamlScalar scalar:
                return FieldCondition(string.Empty, scalar, scalar.Line);
            default:
                throw new SigmaRejectedException(SigmaRejection.InvalidField, $"line {node.Line}: search identifier '{name}' has an unexpected shape");
        }
    }

    private SigmaPredicate FieldCondition(string key, YamlNode valueNode, int line)
    {
        var parts = key.Split('|');
        var field = parts[0];
        var modifiers = parts.Skip(1).ToList();
        foreach (var modifier in modifiers)
        {
            if (!KnownModifiers.Contains(modifier))
            {
                throw new SigmaRejectedException(SigmaRejection.InvalidModifier, $"line {line}: unknown value modifier '{modifier}' in '{key}'");
            }
        }

        var values = valueNode switch
        {
            YamlScalar s => [s],
            YamlSequence seq when seq.Items.All(i => i is YamlScalar) => seq.Items.Cast<YamlScalar>().ToList(),
            _ => throw new SigmaRejectedException(SigmaRejection.InvalidField, $"line {valueNode.Line}: '{key}' must hold a value or a list of values"),
        };
        if (values.Count == 0)
        {
            throw new SigmaRejectedException(SigmaRejection.InvalidField, $"line {valueNode.Line}: '{key}' holds an empty list");
        }

        if (modifiers.Contains("expand"))
        {
            values = Expand(key, values, line);
            modifiers = modifiers.Where(m => m != "expand").ToList();
        }

        if (modifiers.Contains("exists"))
        {
            if (field.Length == 0 || values.Count != 1 || values[0].AsBool is not { } exists)
            {
                throw new SigmaRejectedException(SigmaRejection.InvalidModifier, $"line {line}: '{key}' needs a field and one value true or false");
            }

            return new SigmaPredicate.Exists(field, exists);
        }

        var cased = modifiers.Contains("cased");
        var all = modifiers.Contains("all");
        var negate = modifiers.Contains("neq");
        var comparison = cased ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase;
        var tests = new List<SigmaValueTest>();
        foreach (var value in values)
        {
            tests.AddRange(ValueTests(key, field, modifiers, value, cased, comparison, line));
            if (tests.Count > _options.MaxExpandedValues)
            {
                throw new SigmaRejectedException(SigmaRejection.TooLarge, $"line {line}: '{key}' expands to more than {_options.MaxExpandedValues} values");
            }
        }

        if (all && modifiers.Contains("windash"))
        {
            throw new SigmaRejectedException(SigmaRejection.Unsupported, $"line {line}: '{key}': 'all' with 'windash' is not evaluated");
        }

        if (field.Length == 0)
        {
            return new SigmaPredicate.Keywords(tests, all);
        }

        return new SigmaPredicate.Field(field, tests, all && !negate, negate);
    }

    private List<YamlScalar> Expand(string key, List<YamlScalar> values, int line)
    {
        var expanded = new List<YamlScalar>();
        foreach (var value in values)
        {
            var match = System.Text.RegularExpressions.Regex.Match(value.Value, "%([A-Za-z0-9_.-]+)%", RegexOptions.None, TimeSpan.FromSeconds(1));
            if (!match.Success)
            {
                expanded.Add(value);
                continue;
            }

            var name = match.Groups[1].Value;
            if (!_options.Placeholders.TryGetValue(name, out var replacements))
            {
                throw new SigmaRejectedException(SigmaRejection.Unsupported, $"line {line}: '{key}': placeholder %{name}% has no values (SigmaReaderOptions.Placeholders)");
            }

            expanded.AddRange(replacements.Select(r => new YamlScalar(value.Value.Replace(match.Value, r, StringComparison.Ordinal), Plain: false, value.Line)));
            if (expanded.Count > _options.MaxExpandedValues)
            {
                throw new SigmaRejectedException(SigmaRejection.TooLarge, $"line {line}: '{key}' expands to more than {_options.MaxExpandedValues} values");
            }
        }

        return expanded;
    }

    private IEnumerable<SigmaValueTest> ValueTests(string key, string field, List<string> modifiers, YamlScalar value, bool cased, StringComparison comparison, int line)
    {
        bool Has(string m) => modifiers.Contains(m);
        string[] timeParts = ["minute", "hour", "day", "week", "month", "year"];
        var timePart = timeParts.FirstOrDefault(Has);

        if (value.IsNull)
        {
            if (modifiers.Any(m => m is not "all"))
            {
                throw new SigmaRejectedException(SigmaRejection.InvalidModifier, $"line {value.Line}: '{key}': null takes no modifiers");
            }

            return [new SigmaValueTest.NullTest()];
        }

        var compare = modifiers.FirstOrDefault(m => m is "lt" or "lte" or "gt" or "gte");
        if (compare is not null)
        {
            if (!SigmaValueTest.TryNumber(value.Value, out var number))
            {
                throw new SigmaRejectedException(SigmaRejection.InvalidModifier, $"line {value.Line}: '{key}': '{value.Value}' is not a number");
            }

            SigmaValueTest test = new SigmaValueTest.CompareTest(number, compare);
            return [timePart is null ? test : new SigmaValueTest.TimePartTest(timePart, test)];
        }

        if (timePart is not null)
        {
            if (!SigmaValueTest.TryNumber(value.Value, out var number))
            {
                throw new SigmaRejectedException(SigmaRejection.InvalidModifier, $"line {value.Line}: '{key}': '{value.Value}' is not a number");
            }

            return [new SigmaValueTest.TimePartTest(timePart, new SigmaValueTest.NumberEqualsTest(number, value.Value))];
        }

        if (Has("cidr"))
        {
            return IpPrefix.TryParse(value.Value.Trim(), out var prefix)
                ? [new SigmaValueTest.CidrTest(prefix)]
                : throw new SigmaRejectedException(SigmaRejection.InvalidModifier, $"line {value.Line}: '{key}': '{value.Value}' is not a CIDR block");
        }

        if (Has("re"))
        {
            return [Regex(key, value, Has("i"), Has("m"), Has("s"))];
        }

        if (modifiers.Any(m => m is "i" or "m" or "s"))
        {
            throw new SigmaRejectedException(SigmaRejection.InvalidModifier, $"line {line}: '{key}': 'i', 'm', 's' only follow 're'");
        }

        var kind = Has("contains") ? SigmaValueTest.StringTest.Kind.Contains
            : Has("startswith") ? SigmaValueTest.StringTest.Kind.StartsWith
            : Has("endswith") ? SigmaValueTest.StringTest.Kind.EndsWith
            : field.Length == 0 ? SigmaValueTest.StringTest.Kind.Contains
            : SigmaValueTest.StringTest.Kind.Equals;

        if (Has("fieldref"))
        {
            return [new SigmaValueTest.FieldRefTest(value.Value, kind, comparison)];
        }

        if (value.AsBool is { } flag && modifiers.Count == 0)
        {
            return [new SigmaValueTest.StringTest(flag ? "true" : "false", SigmaValueTest.StringTest.Kind.Equals, StringComparison.OrdinalIgnoreCase)];
        }

        if (value.Plain && kind == SigmaValueTest.StringTest.Kind.Equals && modifiers.Count == 0 && SigmaValueTest.TryNumber(value.Value, out var plainNumber)
            && value.Value.All(c => char.IsAsciiDigit(c) || c is '-' or '.'))
        {
            return [new SigmaValueTest.NumberEqualsTest(plainNumber, value.Value)];
        }

        var strings = Has("windash") ? Windash(value.Value, key, line) : [value.Value];
        var encoded = Has("base64") || Has("base64offset") || Has("utf16le") || Has("utf16be") || Has("utf16") || Has("wide");
        if (!encoded)
        {
            return strings.Select(s => WildcardPattern(s, key, line, Lead(kind), Trail(kind), cased));
        }

        if (!Has("base64") && !Has("base64offset"))
        {
            throw new SigmaRejectedException(SigmaRejection.Unsupported, $"line {line}: '{key}': a UTF-16 encoding without base64 cannot match a text field");
        }

        var tests = new List<SigmaValueTest>();
        foreach (var s in strings)
        {
            var bytes = Has("utf16le") || Has("wide") ? Encoding.Unicode.GetBytes(s)
                : Has("utf16be") ? Encoding.BigEndianUnicode.GetBytes(s)
                : Has("utf16") ? [.. Encoding.Unicode.GetPreamble(), .. Encoding.Unicode.GetBytes(s)]
                : Encoding.UTF8.GetBytes(s);
            if (Has("base64offset"))
            {
                foreach (var variant in Base64Offsets(bytes))
                {
                    tests.Add(SigmaValueTest.Pattern(variant, wildcards: false, leadingStar: true, trailingStar: true, cased: true, _options));
                }
            }
            else
            {
                tests.Add(SigmaValueTest.Pattern(Convert.ToBase64String(bytes), wildcards: false, Lead(kind), Trail(kind), cased: true, _options));
            }
        }

        return tests;

        static bool Lead(SigmaValueTest.StringTest.Kind k) => k is SigmaValueTest.StringTest.Kind.Contains or SigmaValueTest.StringTest.Kind.EndsWith;
        static bool Trail(SigmaValueTest.StringTest.Kind k) => k is SigmaValueTest.StringTest.Kind.Contains or SigmaValueTest.StringTest.Kind.StartsWith;
    }

    private SigmaValueTest WildcardPattern(string value, string key, int line, bool leadingStar, bool trailingStar, bool cased)
    {
        try
        {
            return SigmaValueTest.Pattern(value, wildcards: true, leadingStar, trailingStar, cased, _options);
        }
        catch (NotSupportedException ex)
        {
            // The linear-time engine refuses a pattern whose automaton would pass its node limit: a long value with
            // '?' wildcards, case-insensitive, can (found by fuzz/, harness sigma, 30-minute run of session 9).
            throw new SigmaRejectedException(SigmaRejection.TooLarge, $"line {line}: '{key}': a value of {value.Length} characters whose wildcards make a pattern larger than the matcher takes ({ex.Message})");
        }
    }

    private SigmaValueTest Regex(string key, YamlScalar value, bool ignoreCase, bool multiline, bool singleline)
    {
        if (value.Value.Length > _options.MaxRegexLength)
        {
            throw new SigmaRejectedException(SigmaRejection.InvalidRegex, $"line {value.Line}: '{key}': a regular expression of {value.Value.Length} characters, more than {_options.MaxRegexLength}");
        }

        var regexOptions = RegexOptions.NonBacktracking | RegexOptions.CultureInvariant
            | (ignoreCase ? RegexOptions.IgnoreCase : RegexOptions.None)
            | (multiline ? RegexOptions.Multiline : RegexOptions.None)
            | (singleline ? RegexOptions.Singleline : RegexOptions.None);
        try
        {
            return new SigmaValueTest.RegexTest(new Regex(value.Value, regexOptions, _options.RegexMatchTimeout));
        }
        catch (NotSupportedException ex)
        {
            throw new SigmaRejectedException(SigmaRejection.Unsupported, $"line {value.Line}: '{key}': the regular expression uses a construct the linear-time engine refuses (backreference, lookaround, atomic group) or is too large for it: {ex.Message}");
        }
        catch (ArgumentException ex)
        {
            throw new SigmaRejectedException(SigmaRejection.InvalidRegex, $"line {value.Line}: '{key}': {ex.Message}");
        }
    }

    private List<string> Windash(string value, string key, int line)
    {
        var positions = new List<int>();
        for (var i = 0; i < value.Length; i++)
        {
            if (Array.IndexOf(Dashes, value[i]) >= 0)
            {
                positions.Add(i);
            }
        }

        var combinations = Math.Pow(Dashes.Length, positions.Count);
        if (combinations > _options.MaxExpandedValues)
        {
            throw new SigmaRejectedException(SigmaRejection.TooLarge, $"line {line}: '{key}': windash on '{value}' expands to more than {_options.MaxExpandedValues} values");
        }

        var results = new List<string> { value };
        foreach (var position in positions)
        {
            results = results.SelectMany(r => Dashes.Select(d =>
            {
                var chars = r.ToCharArray();
                chars[position] = d;
                return new string(chars);
            })).ToList();
        }

        return results;
    }

    /// <summary>The three base64 forms of a value at byte offsets 0, 1 and 2, trimmed to the characters that do not depend on the neighbours (as pySigma does).</summary>
    private static IEnumerable<string> Base64Offsets(byte[] bytes)
    {
        int[] start = [0, 2, 3];
        int[] dropAtEnd = [0, 3, 2];
        for (var shift = 0; shift < 3; shift++)
        {
            var padded = new byte[shift + bytes.Length];
            bytes.CopyTo(padded, shift);
            var encoded = Convert.ToBase64String(padded);
            var stop = encoded.Length - dropAtEnd[(bytes.Length + shift) % 3];
            yield return stop > start[shift] ? encoded[start[shift]..stop] : string.Empty;
        }
    }

    private SigmaFilter ReadFilter(YamlMap map, string source)
    {
        var title = Required(map, "title");
        if (map["logsource"] is not YamlMap logsource)
        {
            throw new SigmaRejectedException(SigmaRejection.MissingField, $"no 'logsource' mapping (line {map.Line})");
        }

        if (map["filter"] is not YamlMap filter)
        {
            throw new SigmaRejectedException(SigmaRejection.InvalidField, "'filter' must be a mapping");
        }

        var rules = TextList(filter, "rules");
        if (rules.Count == 0)
        {
            throw new SigmaRejectedException(SigmaRejection.MissingField, "the filter names no 'rules'");
        }

        var identifiers = new Dictionary<string, SigmaPredicate>(StringComparer.Ordinal);
        foreach (var (name, node) in filter.Entries)
        {
            if (name is not "rules" and not "condition")
            {
                identifiers[name] = Selection(name, node);
            }
        }

        var condition = Text(filter, "condition") ?? throw new SigmaRejectedException(SigmaRejection.MissingField, "the filter has no 'condition'");
        var filterSource = new SigmaLogSource { Product = Text(logsource, "product"), Category = Text(logsource, "category"), Service = Text(logsource, "service") };
        return new SigmaFilter
        {
            Title = title,
            Id = Text(map, "id"),
            Rules = rules,
            LogSource = filterSource,
            Source = source,
            Condition = new SigmaPredicate.FromSource(filterSource, SigmaConditionParser.Parse(condition, identifiers)),
        };
    }

    private SigmaCorrelationRule ReadCorrelation(YamlMap map, string source)
    {
        var title = Required(map, "title");
        if (map["correlation"] is not YamlMap correlation)
        {
            throw new SigmaRejectedException(SigmaRejection.InvalidField, "'correlation' must be a mapping");
        }

        var typeText = Required(correlation, "type");
        var type = typeText switch
        {
            "event_count" => SigmaCorrelationType.EventCount,
            "value_count" => SigmaCorrelationType.ValueCount,
            "temporal" => SigmaCorrelationType.Temporal,
            "temporal_ordered" => SigmaCorrelationType.TemporalOrdered,
            "value_sum" => SigmaCorrelationType.ValueSum,
            "value_avg" => SigmaCorrelationType.ValueAvg,
            "value_percentile" => throw new SigmaRejectedException(SigmaRejection.Unsupported, "correlation type 'value_percentile' is not evaluated"),
            _ => throw new SigmaRejectedException(SigmaRejection.InvalidField, $"unknown correlation type '{typeText}'"),
        };
        var rules = TextList(correlation, "rules");
        if (rules.Count == 0)
        {
            throw new SigmaRejectedException(SigmaRejection.MissingField, "correlation has no 'rules'");
        }

        var timespanText = Required(correlation, "timespan");
        var match = System.Text.RegularExpressions.Regex.Match(timespanText, @"^([0-9]{1,6})([smhdwMy])$", RegexOptions.None, TimeSpan.FromSeconds(1));
        if (!match.Success)
        {
            throw new SigmaRejectedException(SigmaRejection.InvalidField, $"timespan '{timespanText}' is not a number and a unit (30s, 5m, 1h, 1d)");
        }

        var amount = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        var timespan = match.Groups[2].Value switch
        {
            "s" => TimeSpan.FromSeconds(amount),
            "m" => TimeSpan.FromMinutes(amount),
            "h" => TimeSpan.FromHours(amount),
            "d" => TimeSpan.FromDays(amount),
            "w" => TimeSpan.FromDays(7.0 * amount),
            "M" => TimeSpan.FromDays(30.0 * amount),
            _ => TimeSpan.FromDays(365.0 * amount),
        };
        if (timespan <= TimeSpan.Zero || timespan > TimeSpan.FromDays(366))
        {
            throw new SigmaRejectedException(SigmaRejection.InvalidField, $"timespan '{timespanText}' must be positive and at most a year");
        }

        var criteria = new List<(string, decimal)>();
        string? field = null;
        switch (correlation["condition"])
        {
            case null when type is SigmaCorrelationType.Temporal or SigmaCorrelationType.TemporalOrdered:
                criteria.Add(("gte", rules.Count));
                break;
            case YamlMap condition:
                foreach (var (op, node) in condition.Entries)
                {
                    if (op == "field")
                    {
                        field = node is YamlScalar f ? f.Value : throw new SigmaRejectedException(SigmaRejection.InvalidField, "condition 'field' must be a field name");
                    }
                    else if (op is "gt" or "gte" or "lt" or "lte" or "eq" or "neq")
                    {
                        criteria.Add((op, node is YamlScalar s && SigmaValueTest.TryNumber(s.Value, out var n) ? n : throw new SigmaRejectedException(SigmaRejection.InvalidField, $"condition '{op}' must be a number")));
                    }
                    else
                    {
                        throw new SigmaRejectedException(SigmaRejection.InvalidField, $"unknown correlation condition '{op}'");
                    }
                }

                break;
            default:
                throw new SigmaRejectedException(SigmaRejection.MissingField, "correlation has no 'condition' mapping");
        }

        if (criteria.Count == 0)
        {
            throw new SigmaRejectedException(SigmaRejection.MissingField, "the correlation condition has no criterion (gt, gte, lt, lte, eq, neq)");
        }

        if (type is SigmaCorrelationType.ValueCount or SigmaCorrelationType.ValueSum or SigmaCorrelationType.ValueAvg && field is null)
        {
            throw new SigmaRejectedException(SigmaRejection.MissingField, $"a {typeText} correlation needs 'field' in its condition");
        }

        var aliases = new Dictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.Ordinal);
        if (correlation["aliases"] is YamlMap aliasMap)
        {
            foreach (var (alias, node) in aliasMap.Entries)
            {
                aliases[alias] = node is YamlMap perRule
                    ? perRule.Entries.ToDictionary(e => e.Key, e => e.Value is YamlScalar s ? s.Value : throw new SigmaRejectedException(SigmaRejection.InvalidField, $"alias '{alias}' must map rule names to fields"), StringComparer.Ordinal)
                    : throw new SigmaRejectedException(SigmaRejection.InvalidField, $"alias '{alias}' must map rule names to fields");
            }
        }

        var generate = (map["generate"] ?? correlation["generate"]) switch
        {
            null => false,
            YamlScalar s when s.AsBool is { } b => b,
            _ => throw new SigmaRejectedException(SigmaRejection.InvalidField, "'generate' must be true or false"),
        };

        return new SigmaCorrelationRule
        {
            Title = title,
            Id = Text(map, "id"),
            Name = Text(map, "name"),
            Level = Text(map, "level"),
            Type = type,
            Rules = rules,
            GroupBy = TextList(correlation, "group-by"),
            Aliases = aliases,
            Timespan = timespan,
            Condition = criteria,
            Field = field,
            Generate = generate,
            Source = source,
        };
    }
}
