using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Enclave.Intel.Indicators;

namespace Enclave.Intel.Stix.Patterns;

/// <summary>
/// Evaluates STIX patterns against observations (STIX 2.1 section 9.7): a comparison expression against the
/// cyber-observable objects of one observation, following <c>_ref</c>/<c>_refs</c> references inside it; observation
/// operators and qualifiers over a time-ordered list of observations. Comparisons joined by AND on the same object type
/// must hold for the same object. Regexes are bounded: <see cref="RegexOptions.NonBacktracking"/>, or a match timeout.
/// </summary>
public sealed class StixPatternEvaluator
{
    private readonly StixEvaluatorOptions _options;

    public StixPatternEvaluator(StixEvaluatorOptions? options = null) => _options = options ?? StixEvaluatorOptions.Default;

    /// <summary>
    /// Compiles the regexes of <paramref name="pattern"/>. A comparison with an invalid regex is listed in
    /// <see cref="CompiledPattern.Problems"/> and is never true (fail closed: it cannot make anything match).
    /// </summary>
    public CompiledPattern Compile(StixPattern pattern)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        Dictionary<PropertyComparison, Lazy<Regex>>? regexes = null;
        List<string>? problems = null;
        foreach (var comparison in pattern.Comparisons)
        {
            if (comparison.Operator is ComparisonOperator.Matches or ComparisonOperator.Like)
            {
                try
                {
                    Validate(comparison);
                    var captured = comparison;
                    (regexes ??= new(ReferenceEqualityComparer.Instance))[comparison] = new Lazy<Regex>(() => BuildRegex(captured), LazyThreadSafetyMode.ExecutionAndPublication);
                }
                catch (StixPatternException ex)
                {
                    (problems ??= []).Add(ex.Message);
                }
            }
        }

        return new CompiledPattern(pattern, regexes ?? NoRegexes, problems ?? (IReadOnlyList<string>)[]);
    }

    private static readonly Dictionary<PropertyComparison, Lazy<Regex>> NoRegexes = new(ReferenceEqualityComparer.Instance);

    /// <summary>Parses a MATCHES regex (the cheap interpreter form) so an invalid one is reported when the indicator is loaded.</summary>
    private static void Validate(PropertyComparison comparison)
    {
        if (comparison.Operator != ComparisonOperator.Matches)
        {
            return;
        }

        var source = comparison.Constant!.AsString;
        try
        {
            _ = new Regex(source, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        }
        catch (ArgumentException ex)
        {
            throw new StixPatternException($"MATCHES regex '{StixJson.Truncate(source)}' is invalid: {ex.Message}", ex);
        }
    }

    private Regex BuildRegex(PropertyComparison comparison)
    {
        var source = comparison.Constant!.AsString;
        if (comparison.Operator == ComparisonOperator.Like)
        {
            var regex = new StringBuilder("^");
            foreach (var c in source)
            {
                regex.Append(c switch { '%' => ".*", '_' => ".", _ => Regex.Escape(c.ToString()) });
            }

            try
            {
                return new Regex(regex.Append('$').ToString(), RegexOptions.NonBacktracking | RegexOptions.Singleline | RegexOptions.CultureInvariant);
            }
            catch (NotSupportedException)
            {
                // A pattern whose automaton would pass the linear engine's node limit (a long LIKE with '_'): the
                // backtracking engine, bounded by the timeout as MATCHES is, instead of an exception at evaluation.
                return new Regex(regex.ToString(), RegexOptions.Singleline | RegexOptions.CultureInvariant, _options.RegexTimeout);
            }
        }

        try
        {
            return new Regex(source, RegexOptions.NonBacktracking | RegexOptions.CultureInvariant);
        }
        catch (NotSupportedException)
        {
            // Backreferences, lookarounds, atomic groups: PCRE features the linear engine lacks. Bounded by a timeout.
            try
            {
                return new Regex(source, RegexOptions.CultureInvariant, _options.RegexTimeout);
            }
            catch (ArgumentException ex)
            {
                throw new StixPatternException($"MATCHES regex '{StixJson.Truncate(source)}' is invalid: {ex.Message}", ex);
            }
        }
        catch (ArgumentException ex)
        {
            throw new StixPatternException($"MATCHES regex '{StixJson.Truncate(source)}' is invalid: {ex.Message}", ex);
        }
    }

    /// <summary>Whether the pattern matches one observation (patterns needing several observations never do).</summary>
    public bool Matches(CompiledPattern pattern, StixObservedData observation) => Matches(pattern, [observation]);

    /// <summary>Whether the pattern matches the observations (any order; sorted by <c>first_observed</c> here).</summary>
    public bool Matches(CompiledPattern pattern, IReadOnlyList<StixObservedData> observations)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        ArgumentNullException.ThrowIfNull(observations);
        var ordered = observations.OrderBy(o => o.FirstObserved).ToList();
        return Bind(pattern, pattern.Pattern.Root, ordered).Count > 0;
    }

    private sealed record Binding(int[] Observations, DateTimeOffset First, DateTimeOffset Last);

    private List<Binding> Bind(CompiledPattern pattern, ObservationExpression expression, List<StixObservedData> observations)
    {
        switch (expression)
        {
            case ObservationComparison single:
            {
                var result = new List<Binding>();
                for (var i = 0; i < observations.Count; i++)
                {
                    if (Evaluate(pattern, single.Comparison, observations[i], needObjects: false) is not null)
                    {
                        result.Add(new Binding([i], observations[i].FirstObserved, observations[i].LastObserved));
                    }
                }

                return result;
            }

            case ObservationBinary { Operator: ObservationOperator.Or } or:
            {
                var result = Bind(pattern, or.Left, observations);
                result.AddRange(Bind(pattern, or.Right, observations));
                Check(result.Count);
                return result;
            }

            case ObservationBinary binary:
            {
                var left = Bind(pattern, binary.Left, observations);
                if (left.Count == 0)
                {
                    return left;
                }

                var right = Bind(pattern, binary.Right, observations);
                var result = new List<Binding>();
                foreach (var a in left)
                {
                    foreach (var b in right)
                    {
                        if (binary.Operator == ObservationOperator.FollowedBy && b.First < a.Last)
                        {
                            continue;
                        }

                        result.Add(Join(a, b));
                        Check(result.Count);
                    }
                }

                return result;
            }

            case ObservationQualified { Qualifier: WithinQualifier within } qualified:
            {
                var limit = TimeSpan.FromTicks((long)(within.Seconds * TimeSpan.TicksPerSecond));
                return Bind(pattern, qualified.Inner, observations).Where(b => b.Last - b.First <= limit).ToList();
            }

            case ObservationQualified { Qualifier: StartStopQualifier window } qualified:
                return Bind(pattern, qualified.Inner, observations).Where(b => b.First >= window.Start && b.Last < window.Stop).ToList();

            case ObservationQualified { Qualifier: RepeatsQualifier repeats } qualified:
            {
                // n bindings over distinct observations; consecutive runs in time order (the tightest, so a WITHIN
                // around the REPEATS sees the best candidates).
                var inner = Bind(pattern, qualified.Inner, observations).OrderBy(b => b.First).ThenBy(b => b.Last).ToList();
                var result = new List<Binding>();
                for (var start = 0; start + repeats.Times <= inner.Count; start++)
                {
                    var used = new HashSet<int>();
                    var joined = inner[start];
                    var ok = inner[start].Observations.All(used.Add);
                    for (var k = 1; ok && k < repeats.Times; k++)
                    {
                        ok = inner[start + k].Observations.All(used.Add);
                        joined = Join(joined, inner[start + k]);
                    }

                    if (ok)
                    {
                        result.Add(joined);
                        Check(result.Count);
                    }
                }

                return result;
            }

            default:
                throw new StixPatternException($"unknown observation expression {expression.GetType().Name}");
        }
    }

    private void Check(int count)
    {
        if (count > _options.MaxBindings)
        {
            throw new StixPatternException($"evaluation needs more than {_options.MaxBindings} combinations of observations; narrow the pattern with WITHIN or START/STOP");
        }
    }

    private static Binding Join(Binding a, Binding b) => new(
        a.Observations.Union(b.Observations).ToArray(),
        a.First < b.First ? a.First : b.First,
        a.Last > b.Last ? a.Last : b.Last);

    /// <summary>The objects (per type) that satisfy the comparison expression in one observation, or null when it is false.</summary>
    /// <remarks>
    /// With <paramref name="needObjects"/> false (no AND above, only whether it holds matters) an OR stops at the first
    /// true side.
    /// </remarks>
    private Dictionary<string, HashSet<string>>? Evaluate(CompiledPattern pattern, ComparisonExpression expression, StixObservedData observation, bool needObjects = true)
    {
        switch (expression)
        {
            case ComparisonBinary { IsAnd: true } and:
            {
                var left = Evaluate(pattern, and.Left, observation);
                if (left is null)
                {
                    return null;
                }

                var right = Evaluate(pattern, and.Right, observation);
                if (right is null)
                {
                    return null;
                }

                foreach (var (type, objects) in right)
                {
                    if (left.TryGetValue(type, out var mine))
                    {
                        mine.IntersectWith(objects);
                        if (mine.Count == 0)
                        {
                            return null;
                        }
                    }
                    else
                    {
                        left[type] = objects;
                    }
                }

                return left;
            }

            case ComparisonBinary or:
            {
                var left = Evaluate(pattern, or.Left, observation, needObjects);
                if (left is not null && !needObjects)
                {
                    return left;
                }

                var right = Evaluate(pattern, or.Right, observation, needObjects);
                if (left is null || right is null)
                {
                    return left ?? right;
                }

                foreach (var (type, objects) in right)
                {
                    if (left.TryGetValue(type, out var mine))
                    {
                        mine.UnionWith(objects);
                    }
                    else
                    {
                        left[type] = objects;
                    }
                }

                return left;
            }

            case PropertyComparison comparison:
            {
                HashSet<string>? matched = null;
                foreach (var (key, obj) in observation.Objects)
                {
                    if (obj.ValueKind != JsonValueKind.Object || !obj.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || !type.ValueEquals(comparison.Path.ObjectType))
                    {
                        continue;
                    }

                    if (Test(pattern, comparison, Resolve(obj, comparison.Path, observation)))
                    {
                        (matched ??= new HashSet<string>(StringComparer.Ordinal)).Add(key);
                    }
                }

                return matched is null ? null : new Dictionary<string, HashSet<string>>(StringComparer.Ordinal) { [comparison.Path.ObjectType] = matched };
            }

            default:
                throw new StixPatternException($"unknown comparison expression {expression.GetType().Name}");
        }
    }

    private static List<JsonElement> Resolve(JsonElement root, ObjectPath path, StixObservedData observation)
    {
        if (path.Steps.Count == 1 && path.Steps[0].Key is { } only && !only.EndsWith("_ref", StringComparison.Ordinal))
        {
            // The common case (ipv4-addr:value, file:name): one property, no list, no reference.
            return root.TryGetProperty(only, out var direct) ? [direct] : NoValues;
        }

        var current = new List<JsonElement> { root };
        string? previousKey = null;
        for (var i = 0; i < path.Steps.Count && current.Count > 0; i++)
        {
            var step = path.Steps[i];
            var next = new List<JsonElement>();
            var more = i + 1 < path.Steps.Count;
            foreach (var value in current)
            {
                if (step.IsIndex)
                {
                    if (value.ValueKind != JsonValueKind.Array)
                    {
                        continue;
                    }

                    var length = value.GetArrayLength();
                    if (step.Index is null)
                    {
                        next.AddRange(value.EnumerateArray().Select(item => Dereference(item, previousKey, more, observation)));
                    }
                    else if (step.Index.Value >= 0 && step.Index.Value < length)
                    {
                        next.Add(Dereference(value[step.Index.Value], previousKey, more, observation));
                    }
                }
                else if (value.ValueKind == JsonValueKind.Object && Lookup(value, step.Key!, previousKey) is { } found)
                {
                    next.Add(step.Key!.EndsWith("_ref", StringComparison.Ordinal) ? Dereference(found, step.Key, more, observation) : found);
                }
            }

            previousKey = step.Key ?? previousKey;
            current = next;
        }

        return current;
    }

    private static readonly List<JsonElement> NoValues = [];

    private static JsonElement? Lookup(JsonElement obj, string key, string? parentKey)
    {
        if (obj.TryGetProperty(key, out var exact))
        {
            return exact;
        }

        if (parentKey == "hashes")
        {
            // Hash algorithm names: MD5 = md5, SHA-256 = SHA256 = sha256 (STIX hash-algorithm-ov, and feeds' variants).
            var wanted = HashName(key);
            foreach (var property in obj.EnumerateObject())
            {
                if (HashName(property.Name) == wanted)
                {
                    return property.Value;
                }
            }
        }

        return null;
    }

    internal static string HashName(string name) => name.Replace("-", string.Empty, StringComparison.Ordinal).Replace("_", string.Empty, StringComparison.Ordinal).ToUpperInvariant();

    private static JsonElement Dereference(JsonElement value, string? key, bool more, StixObservedData observation) =>
        more && key is not null && (key.EndsWith("_ref", StringComparison.Ordinal) || key.EndsWith("_refs", StringComparison.Ordinal))
            && value.ValueKind == JsonValueKind.String && observation.Objects.TryGetValue(value.GetString()!, out var target)
            ? target
            : value;

    private bool Test(CompiledPattern pattern, PropertyComparison comparison, List<JsonElement> values)
    {
        if (comparison.Operator == ComparisonOperator.Exists)
        {
            return values.Count > 0;
        }

        foreach (var value in values)
        {
            if (value.ValueKind is JsonValueKind.Object or JsonValueKind.Array or JsonValueKind.Null)
            {
                continue;
            }

            // NOT negates the comparison of a value that exists (section 9.4): a missing property never matches.
            if (Compare(pattern, comparison, value) != comparison.Negated)
            {
                return true;
            }
        }

        return false;
    }

    private bool Compare(CompiledPattern pattern, PropertyComparison comparison, JsonElement value)
    {
        var constant = comparison.Constant!;
        switch (comparison.Operator)
        {
            case ComparisonOperator.Equal:
                return AreEqual(comparison.Path, value, constant);
            case ComparisonOperator.NotEqual:
                return !AreEqual(comparison.Path, value, constant);
            case ComparisonOperator.In:
                return ((IReadOnlyList<PatternConstant>)constant.Value).Any(item => AreEqual(comparison.Path, value, item));
            case ComparisonOperator.Less or ComparisonOperator.LessOrEqual or ComparisonOperator.Greater or ComparisonOperator.GreaterOrEqual:
                if (Order(value, constant) is not { } order)
                {
                    return false;
                }

                return comparison.Operator switch
                {
                    ComparisonOperator.Less => order < 0,
                    ComparisonOperator.LessOrEqual => order <= 0,
                    ComparisonOperator.Greater => order > 0,
                    _ => order >= 0,
                };
            case ComparisonOperator.Like or ComparisonOperator.Matches:
            {
                if (value.ValueKind != JsonValueKind.String)
                {
                    return false;
                }

                var text = value.GetString()!;
                if (text.Length > _options.MaxRegexInput)
                {
                    return false;
                }

                if (!pattern.Regexes.TryGetValue(comparison, out var regex))
                {
                    return comparison.Negated; // an invalid regex: with the NOT applied by the caller, never true
                }

                try
                {
                    return regex.Value.IsMatch(text);
                }
                catch (RegexMatchTimeoutException)
                {
                    return comparison.Negated; // bounded: a hostile regex costs at most the timeout and matches nothing
                }
            }

            case ComparisonOperator.IsSubset:
                return value.ValueKind == JsonValueKind.String && IpPrefix.TryParse(value.GetString(), out var inner)
                    && IpPrefix.TryParse(constant.AsString, out var outer) && outer.Contains(inner);
            case ComparisonOperator.IsSuperset:
                return value.ValueKind == JsonValueKind.String && IpPrefix.TryParse(value.GetString(), out var block)
                    && IpPrefix.TryParse(constant.AsString, out var member) && block.Contains(member);
            default:
                return false;
        }
    }

    /// <summary>Equality as Enclave applies it: hashes and domain names case-insensitive, an address equal to a CIDR constant when inside it.</summary>
    private static bool AreEqual(ObjectPath path, JsonElement value, PatternConstant constant)
    {
        switch (constant.Kind)
        {
            case ConstantKind.String when value.ValueKind == JsonValueKind.String:
            {
                var text = value.GetString()!;
                var wanted = constant.AsString;
                if (IsCaseInsensitive(path))
                {
                    return string.Equals(text, wanted, StringComparison.OrdinalIgnoreCase);
                }

                if (string.Equals(text, wanted, StringComparison.Ordinal))
                {
                    return true;
                }

                // Addresses compare as addresses: 2001:DB8::1 = 2001:db8::1, and an address (or block) equals a CIDR
                // constant it lies inside (the form feeds use: [ipv4-addr:value = '223.166.0.0/15']).
                return IsAddress(path) && IpPrefix.TryParse(wanted, out var block) && IpPrefix.TryParse(text, out var address) && block.Contains(address);
            }

            case ConstantKind.String when value.ValueKind == JsonValueKind.Number:
                return false;
            case ConstantKind.Integer or ConstantKind.Float:
                return Order(value, constant) == 0;
            case ConstantKind.Boolean:
                return value.ValueKind is JsonValueKind.True or JsonValueKind.False && value.GetBoolean() == (bool)constant.Value;
            case ConstantKind.Hex when value.ValueKind == JsonValueKind.String:
                return string.Equals(value.GetString(), Convert.ToHexString((byte[])constant.Value), StringComparison.OrdinalIgnoreCase);
            case ConstantKind.Binary when value.ValueKind == JsonValueKind.String:
                return value.TryGetBytesFromBase64(out var bytes) && bytes.AsSpan().SequenceEqual((byte[])constant.Value);
            case ConstantKind.Timestamp:
                return Order(value, constant) == 0;
            default:
                return false;
        }
    }

    internal static bool IsCaseInsensitive(ObjectPath path) =>
        (path.Steps.Count == 2 && path.Steps[0].Key == "hashes")
        || (path.Steps.Count == 1 && path.Steps[0].Key == "value" && path.ObjectType is "domain-name" or "email-addr")
        || (path.ObjectType.StartsWith("x-enclave-", StringComparison.Ordinal) && path.Steps.Count == 1 && path.Steps[0].Key == "digest");

    internal static bool IsAddress(ObjectPath path) =>
        path.Steps.Count >= 1 && path.Steps[^1].Key == "value" && (path.ObjectType is "ipv4-addr" or "ipv6-addr" || path.Steps.Count > 1);

    private static int? Order(JsonElement value, PatternConstant constant)
    {
        switch (constant.Kind)
        {
            case ConstantKind.Integer when value.ValueKind == JsonValueKind.Number:
                return value.TryGetInt64(out var l) ? l.CompareTo((long)constant.Value) : value.GetDouble().CompareTo((long)constant.Value);
            case ConstantKind.Float when value.ValueKind == JsonValueKind.Number:
                return value.GetDouble().CompareTo((double)constant.Value);
            case ConstantKind.Timestamp when value.ValueKind == JsonValueKind.String:
                return StixTimestamp.TryParse(value.GetString()!, out var t) ? t.CompareTo((DateTimeOffset)constant.Value) : null;
            case ConstantKind.String when value.ValueKind == JsonValueKind.String:
                return string.CompareOrdinal(value.GetString(), constant.AsString);
            default:
                return null;
        }
    }
}
