using Enclave.Intel.Stix;
using Enclave.Intel.Stix.Patterns;

namespace Enclave.Intel.Indicators;

/// <summary>
/// Indicators ready for single-observable lookups at event speed. The disjuncts of a pattern's top-level OR that are
/// plain <c>=</c>/<c>IN</c> comparisons on an <see cref="IndexedProperty"/> go into exact-value hash sets (one per
/// property), CIDR blocks into a binary trie per address family, <c>LIKE '%.suffix'</c> on domain names into a suffix
/// table; every other disjunct (AND, NOT, MATCHES, ...) is kept as a residual sub-pattern and evaluated in full, but
/// only for observables of an object type it mentions. A hit counts only while its indicator is live (validity window,
/// not revoked). Immutable once built; safe for concurrent lookups.
/// </summary>
public sealed class IndicatorIndex
{
    private readonly List<IndicatorAssessment> _indicators = [];
    private readonly List<long> _validFrom = [];
    private readonly List<long> _validUntil = [];
    private readonly List<bool> _revoked = [];

    // Entry chains: value -> head; _entrySlot[e] is the indicator, _entryNext[e] the next entry or -1.
    private readonly List<int> _entrySlot = [];
    private readonly List<int> _entryNext = [];
    private readonly Dictionary<string, int>[] _exact = new Dictionary<string, int>[IndexedProperties.Count];
    private readonly Dictionary<UInt128, int>[] _hosts = [new(), new()];
    private readonly CidrTrie[] _tries = [new(), new()];
    private readonly Dictionary<string, int> _domainSuffixes = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, List<(int Slot, CompiledPattern Pattern)>> _residual = new(StringComparer.Ordinal);
    private readonly StixPatternEvaluator _evaluator;

    private IndicatorIndex(StixPatternEvaluator evaluator)
    {
        _evaluator = evaluator;
        for (var i = 0; i < _exact.Length; i++)
        {
            _exact[i] = new Dictionary<string, int>(IndexedProperties.IgnoresCase((IndexedProperty)i) ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal);
        }
    }

    /// <summary>Indicators held (every assessment given that is not <see cref="IndicatorStatus.NotEvaluable"/>).</summary>
    public int Count => _indicators.Count;

    /// <summary>Indexed values (hash-set entries, CIDR blocks and suffixes).</summary>
    public int IndexedValues => _entrySlot.Count;

    /// <summary>Residual sub-patterns evaluated in full.</summary>
    public int ResidualPatterns => _residual.Values.Sum(l => l.Count);

    public IndicatorAssessment this[int slot] => _indicators[slot];

    public static IndicatorIndex Build(IEnumerable<IndicatorAssessment> assessments, StixPatternEvaluator evaluator)
    {
        ArgumentNullException.ThrowIfNull(assessments);
        ArgumentNullException.ThrowIfNull(evaluator);
        var index = new IndicatorIndex(evaluator);
        foreach (var assessment in assessments)
        {
            if (assessment.Pattern is { } pattern)
            {
                index.Add(assessment, pattern);
            }
        }

        return index;
    }

    private void Add(IndicatorAssessment assessment, CompiledPattern pattern)
    {
        var slot = _indicators.Count;
        _indicators.Add(assessment);
        _validFrom.Add(assessment.Indicator.ValidFrom.UtcTicks);
        _validUntil.Add(assessment.Indicator.ValidUntil?.UtcTicks ?? long.MaxValue);
        _revoked.Add(assessment.Indicator.Revoked);

        // [A] OR [B] is [A OR B] for one observable. AND, FOLLOWEDBY and qualifiers need several observations: such a
        // pattern is never true for one observable and is kept for observed-data streams only.
        var disjuncts = new List<ComparisonExpression>();
        if (!FlattenObservations(pattern.Pattern.Root, disjuncts))
        {
            return;
        }

        foreach (var disjunct in disjuncts)
        {
            if (!TryIndex(slot, disjunct))
            {
                var sub = new CompiledPattern(pattern.Pattern with { Root = new ObservationComparison(disjunct) }, pattern.Regexes, pattern.Problems);
                foreach (var type in Types(disjunct).Distinct(StringComparer.Ordinal))
                {
                    if (!_residual.TryGetValue(type, out var list))
                    {
                        _residual[type] = list = [];
                    }

                    list.Add((slot, sub));
                }
            }
        }
    }

    private static bool FlattenObservations(ObservationExpression expression, List<ComparisonExpression> disjuncts)
    {
        switch (expression)
        {
            case ObservationComparison single:
                Flatten(single.Comparison, disjuncts);
                return true;
            case ObservationBinary { Operator: ObservationOperator.Or } or:
                return FlattenObservations(or.Left, disjuncts) && FlattenObservations(or.Right, disjuncts);
            default:
                return false;
        }
    }

    private static void Flatten(ComparisonExpression expression, List<ComparisonExpression> disjuncts)
    {
        if (expression is ComparisonBinary { IsAnd: false } or)
        {
            Flatten(or.Left, disjuncts);
            Flatten(or.Right, disjuncts);
        }
        else
        {
            disjuncts.Add(expression);
        }
    }

    private static IEnumerable<string> Types(ComparisonExpression expression) => expression switch
    {
        ComparisonBinary binary => Types(binary.Left).Concat(Types(binary.Right)),
        PropertyComparison comparison => [comparison.Path.ObjectType],
        _ => [],
    };

    private bool TryIndex(int slot, ComparisonExpression expression)
    {
        if (expression is not PropertyComparison { Negated: false } comparison || !IndexedProperties.TryGet(comparison.Path, out var property))
        {
            return false;
        }

        var constants = comparison.Operator switch
        {
            ComparisonOperator.Equal => [comparison.Constant!],
            ComparisonOperator.In => (IReadOnlyList<PatternConstant>)comparison.Constant!.Value,
            ComparisonOperator.IsSubset when property is IndexedProperty.Ipv4 or IndexedProperty.Ipv6 => [comparison.Constant!],
            ComparisonOperator.Like when property == IndexedProperty.Domain && IsSuffixLike(comparison.Constant!.AsString) => [comparison.Constant!],
            _ => null,
        };
        if (constants is null || constants.Any(c => c.Kind != ConstantKind.String))
        {
            return false;
        }

        if (property is IndexedProperty.Ipv4 or IndexedProperty.Ipv6)
        {
            var blocks = new List<IpPrefix>();
            foreach (var constant in constants)
            {
                if (!IpPrefix.TryParse(constant.AsString, out var block) || block.IsV6 != (property == IndexedProperty.Ipv6))
                {
                    return false; // not an address of that family: the evaluator decides (it will say no)
                }

                blocks.Add(block);
            }

            foreach (var block in blocks)
            {
                var family = block.IsV6 ? 1 : 0;
                if (block.Length == block.MaxLength)
                {
                    _hosts[family][block.Bits] = Link(slot, _hosts[family].GetValueOrDefault(block.Bits, -1));
                }
                else
                {
                    _tries[family].Add(block, head => Link(slot, head));
                }
            }

            return true;
        }

        foreach (var constant in constants)
        {
            if (comparison.Operator == ComparisonOperator.Like)
            {
                var suffix = constant.AsString[1..]; // "%.example.com" -> ".example.com"
                _domainSuffixes[suffix] = Link(slot, _domainSuffixes.GetValueOrDefault(suffix, -1));
            }
            else
            {
                var map = _exact[(int)property];
                map[constant.AsString] = Link(slot, map.GetValueOrDefault(constant.AsString, -1));
            }
        }

        return true;
    }

    private static bool IsSuffixLike(string like) => like.Length > 2 && like[0] == '%' && like[1] == '.' && like.IndexOfAny(['%', '_'], 1) < 0;

    private int Link(int slot, int next)
    {
        _entrySlot.Add(slot);
        _entryNext.Add(next);
        return _entrySlot.Count - 1;
    }

    /// <summary>Adds to <paramref name="slots"/> the indicators live at <paramref name="now"/> that match the value; returns how many were added.</summary>
    public int Match(IndexedProperty property, string value, DateTimeOffset now, List<int> slots)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(slots);
        var before = slots.Count;
        var ticks = now.UtcTicks;
        switch (property)
        {
            case IndexedProperty.Ipv4 or IndexedProperty.Ipv6:
                if (IpPrefix.TryParse(value, out var address) && address.IsV6 == (property == IndexedProperty.Ipv6))
                {
                    var family = address.IsV6 ? 1 : 0;
                    if (address.Length == address.MaxLength && _hosts[family].TryGetValue(address.Bits, out var host))
                    {
                        Collect(host, ticks, slots, before);
                    }

                    var state = (Index: this, Ticks: ticks, Slots: slots, Before: before);
                    _tries[family].Visit(address, ref state, static (int head, ref (IndicatorIndex Index, long Ticks, List<int> Slots, int Before) s) => s.Index.Collect(head, s.Ticks, s.Slots, s.Before));
                }

                break;
            case IndexedProperty.Domain:
                if (_exact[(int)property].TryGetValue(value, out var exact))
                {
                    Collect(exact, ticks, slots, before);
                }

                if (_domainSuffixes.Count > 0)
                {
                    var lookup = _domainSuffixes.GetAlternateLookup<ReadOnlySpan<char>>();
                    for (var dot = value.IndexOf('.', StringComparison.Ordinal); dot >= 0; dot = value.IndexOf('.', dot + 1))
                    {
                        if (lookup.TryGetValue(value.AsSpan(dot), out var head))
                        {
                            Collect(head, ticks, slots, before);
                        }
                    }
                }

                break;
            default:
                if (_exact[(int)property].TryGetValue(value, out var entry))
                {
                    Collect(entry, ticks, slots, before);
                }

                break;
        }

        if (_residual.Count > 0 && _residual.TryGetValue(IndexedProperties.ObjectType(property), out var residual))
        {
            MatchResidual(residual, ObservableFor(property, value), now, slots, before);
        }

        return slots.Count - before;
    }

    /// <summary>Any observable: indexed properties take the fast path; others are evaluated against the residual sub-patterns of their type.</summary>
    public int Match(Observable observable, DateTimeOffset now, List<int> slots)
    {
        ArgumentNullException.ThrowIfNull(observable);
        ArgumentNullException.ThrowIfNull(slots);
        if (IndexedProperties.TryGet(observable.Path, out var property))
        {
            return Match(property, observable.Value, now, slots);
        }

        var before = slots.Count;
        if (_residual.TryGetValue(observable.ObjectType, out var residual))
        {
            MatchResidual(residual, observable, now, slots, before);
        }

        return slots.Count - before;
    }

    private void MatchResidual(List<(int Slot, CompiledPattern Pattern)> residual, Observable observable, DateTimeOffset now, List<int> slots, int before)
    {
        StixObservedData? observation = null;
        foreach (var (slot, pattern) in residual)
        {
            if (IsLive(slot, now.UtcTicks) && !Contains(slots, before, slot))
            {
                observation ??= observable.ToObservation(now);
                if (_evaluator.Matches(pattern, observation))
                {
                    slots.Add(slot);
                }
            }
        }
    }

    private static Observable ObservableFor(IndexedProperty property, string value)
    {
        var path = property switch
        {
            IndexedProperty.Md5 => Hash("MD5"),
            IndexedProperty.Sha1 => Hash("SHA-1"),
            IndexedProperty.Sha256 => Hash("SHA-256"),
            IndexedProperty.Sha512 => Hash("SHA-512"),
            IndexedProperty.UserId => new ObjectPath("user-account", [PathStep.Property("user_id")]),
            IndexedProperty.ArtifactDigest or IndexedProperty.ModelDigest => new ObjectPath(IndexedProperties.ObjectType(property), [PathStep.Property("digest")]),
            _ => new ObjectPath(IndexedProperties.ObjectType(property), [PathStep.Property("value")]),
        };
        return new Observable(path, value);

        static ObjectPath Hash(string name) => new("file", [PathStep.Property("hashes"), PathStep.Property(name)]);
    }

    private bool IsLive(int slot, long ticks) => !_revoked[slot] && _validFrom[slot] <= ticks && ticks < _validUntil[slot];

    private void Collect(int head, long ticks, List<int> slots, int before)
    {
        for (var entry = head; entry >= 0; entry = _entryNext[entry])
        {
            var slot = _entrySlot[entry];
            if (IsLive(slot, ticks) && !Contains(slots, before, slot))
            {
                slots.Add(slot);
            }
        }
    }

    private static bool Contains(List<int> slots, int from, int slot)
    {
        for (var i = from; i < slots.Count; i++)
        {
            if (slots[i] == slot)
            {
                return true;
            }
        }

        return false;
    }
}
