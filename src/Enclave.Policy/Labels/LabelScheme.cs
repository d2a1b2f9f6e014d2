using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Text;

namespace Enclave.Policy.Labels;

/// <summary>
/// The configured vocabulary of labels: ordered levels (lowest first), known compartments, known releasability
/// codes (countries or organisations) and the owning code that NOFORN stands for. Parses and formats banner
/// markings (<c>TOP SECRET//SI/TK//REL TO USA, GBR</c>) and portion markings (<c>(TS//SI//NF)</c>).
/// </summary>
/// <remarks>
/// Grammar, strict and case-sensitive: <c>LEVEL [//COMP[/COMP]*] [//NOFORN | //REL TO CODE[, CODE]*]</c>; in a
/// portion the level is its abbreviation, the whole is in parentheses and <c>NF</c> may stand for NOFORN.
/// <c>REL TO</c> lists that contain only the owner format as NOFORN. Formatting never emits a caveat the parser
/// rejects, except the empty REL TO set a join of disjoint releasabilities produces, shown as
/// <c>REL TO (NONE)</c>, which is deliberately not accepted as input.
/// </remarks>
public sealed class LabelScheme
{
    /// <summary>The largest number of compartments, and of releasability codes, a scheme may hold.</summary>
    public const int MaxVocabulary = 64;

    private readonly FrozenDictionary<string, int> _levelByName;
    private readonly FrozenDictionary<string, int> _levelByAbbreviation;
    private readonly FrozenDictionary<string, int> _compartmentIndex;
    private readonly FrozenDictionary<string, int> _codeIndex;
    private readonly ulong _ownerBit;

    // Formatted markings, since a scheme is immutable: every policy decision formats the request's and the model's
    // labels, and a deployment uses a handful of distinct labels. Bounded so that labels built from untrusted input
    // cannot grow it without limit (past the bound a marking is formatted each time, as before).
    private readonly ConcurrentDictionary<(SecurityLabel Label, bool Portion), string> _formatted = new();
    private const int MaxFormattedCached = 1024;

    /// <summary>Creates and validates a scheme; every problem found is reported in one exception.</summary>
    /// <exception cref="ArgumentException">The configuration is invalid; the message lists every problem.</exception>
    public LabelScheme(
        IReadOnlyList<LabelLevel> levels,
        IReadOnlyList<string> compartments,
        IReadOnlyList<string> releasabilityCodes,
        string owner,
        int maxMarkingLength = 512)
    {
        ArgumentNullException.ThrowIfNull(levels);
        ArgumentNullException.ThrowIfNull(compartments);
        ArgumentNullException.ThrowIfNull(releasabilityCodes);
        ArgumentNullException.ThrowIfNull(owner);

        var problems = new List<string>();
        if (levels.Count == 0)
        {
            problems.Add("at least one level is required");
        }

        var byName = new Dictionary<string, int>(StringComparer.Ordinal);
        var byAbbreviation = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < levels.Count; i++)
        {
            LabelLevel level = levels[i];
            if (!IsWord(level.Name, allowSpace: true))
            {
                problems.Add($"level {i} name '{level.Name}' must be upper-case letters, digits and single spaces");
            }
            else if (!byName.TryAdd(level.Name, i))
            {
                problems.Add($"level name '{level.Name}' is given twice");
            }

            if (!IsWord(level.Abbreviation, allowSpace: false))
            {
                problems.Add($"level {i} abbreviation '{level.Abbreviation}' must be upper-case letters and digits");
            }
            else if (!byAbbreviation.TryAdd(level.Abbreviation, i))
            {
                problems.Add($"level abbreviation '{level.Abbreviation}' is given twice");
            }
        }

        var compartmentIndex = Index(compartments, "compartment", problems);
        var codeIndex = Index(releasabilityCodes, "releasability code", problems);
        if (compartmentIndex.ContainsKey("NOFORN") || compartmentIndex.ContainsKey("NF"))
        {
            problems.Add("NOFORN and NF are caveats and cannot be compartments");
        }

        if (!codeIndex.TryGetValue(owner, out int ownerIndex))
        {
            problems.Add($"owner '{owner}' must be one of the releasability codes");
        }

        if (maxMarkingLength is < 16 or > 65536)
        {
            problems.Add($"maxMarkingLength {maxMarkingLength} must be between 16 and 65536");
        }

        if (problems.Count > 0)
        {
            throw new ArgumentException("invalid label scheme: " + string.Join("; ", problems), nameof(levels));
        }

        Levels = [.. levels];
        Compartments = [.. compartments];
        ReleasabilityCodes = [.. releasabilityCodes];
        Owner = owner;
        MaxMarkingLength = maxMarkingLength;
        _levelByName = byName.ToFrozenDictionary(StringComparer.Ordinal);
        _levelByAbbreviation = byAbbreviation.ToFrozenDictionary(StringComparer.Ordinal);
        _compartmentIndex = compartmentIndex.ToFrozenDictionary(StringComparer.Ordinal);
        _codeIndex = codeIndex.ToFrozenDictionary(StringComparer.Ordinal);
        _ownerBit = 1UL << ownerIndex;
    }

    /// <summary>
    /// UNCLASSIFIED (U) &lt; CUI (CUI) &lt; SECRET (S) &lt; TOP SECRET (TS); compartments SI, TK, HCS, G;
    /// codes USA, GBR, CAN, AUS, NZL, NATO; owner USA.
    /// </summary>
    public static LabelScheme Default { get; } = new(
        [
            new LabelLevel("UNCLASSIFIED", "U"),
            new LabelLevel("CUI", "CUI"),
            new LabelLevel("SECRET", "S"),
            new LabelLevel("TOP SECRET", "TS"),
        ],
        ["SI", "TK", "HCS", "G"],
        ["USA", "GBR", "CAN", "AUS", "NZL", "NATO"],
        "USA");

    /// <summary>Levels, lowest first.</summary>
    public IReadOnlyList<LabelLevel> Levels { get; }

    /// <summary>Known compartments; compartment i is bit i of <see cref="SecurityLabel.CompartmentMask"/>.</summary>
    public IReadOnlyList<string> Compartments { get; }

    /// <summary>Known REL TO codes; code i is bit i of <see cref="SecurityLabel.ReleasabilityMask"/>.</summary>
    public IReadOnlyList<string> ReleasabilityCodes { get; }

    /// <summary>The code NOFORN releases to.</summary>
    public string Owner { get; }

    /// <summary>The longest marking the parsers accept.</summary>
    public int MaxMarkingLength { get; }

    /// <summary>The lowest level, no compartments, no caveat: the bottom of the lattice.</summary>
    public SecurityLabel Lowest => new(0, 0, unrestricted: true, 0);

    /// <summary>The highest level, every compartment, releasable to nobody: the top of the lattice.</summary>
    public SecurityLabel Highest =>
        new(Levels.Count - 1, Compartments.Count == 64 ? ulong.MaxValue : (1UL << Compartments.Count) - 1, unrestricted: false, 0);

    /// <summary>Level, compartments and (when not null) a REL TO set; NOFORN is <c>[Owner]</c>.</summary>
    /// <exception cref="ArgumentException">A name is not in the scheme.</exception>
    public SecurityLabel Create(string level, IEnumerable<string>? compartments = null, IEnumerable<string>? releasableTo = null)
    {
        ArgumentNullException.ThrowIfNull(level);
        if (!_levelByName.TryGetValue(level, out int levelIndex))
        {
            throw new ArgumentException($"unknown level '{level}'", nameof(level));
        }

        ulong compartmentMask = 0;
        foreach (string c in compartments ?? [])
        {
            compartmentMask |= _compartmentIndex.TryGetValue(c, out int i)
                ? 1UL << i
                : throw new ArgumentException($"unknown compartment '{c}'", nameof(compartments));
        }

        ulong rel = 0;
        foreach (string code in releasableTo ?? [])
        {
            rel |= _codeIndex.TryGetValue(code, out int i)
                ? 1UL << i
                : throw new ArgumentException($"unknown releasability code '{code}'", nameof(releasableTo));
        }

        return new SecurityLabel(levelIndex, compartmentMask, releasableTo is null, rel);
    }

    /// <summary>True when <paramref name="label"/> uses only levels, compartments and codes of this scheme.</summary>
    public bool Contains(SecurityLabel label) =>
        label.Level < Levels.Count
        && (label.CompartmentMask & ~Highest.CompartmentMask) == 0
        && (label.ReleasabilityMask & ~AllCodesMask) == 0;

    /// <summary>Parses a banner marking such as <c>SECRET//NOFORN</c>.</summary>
    /// <exception cref="MarkingParseException">The marking is rejected; <see cref="MarkingParseException.Reason"/> says why.</exception>
    public SecurityLabel ParseBanner(string marking)
    {
        MarkingError error = TryParse(marking, portion: false, out SecurityLabel label, out string message);
        return error == MarkingError.None ? label : throw new MarkingParseException(error, message);
    }

    /// <summary>Parses a portion marking such as <c>(TS//SI)</c>.</summary>
    /// <exception cref="MarkingParseException">The marking is rejected; <see cref="MarkingParseException.Reason"/> says why.</exception>
    public SecurityLabel ParsePortion(string marking)
    {
        MarkingError error = TryParse(marking, portion: true, out SecurityLabel label, out string message);
        return error == MarkingError.None ? label : throw new MarkingParseException(error, message);
    }

    /// <summary>Parses a banner, or a portion when it starts with '('; outer whitespace is ignored.</summary>
    /// <exception cref="MarkingParseException">The marking is rejected.</exception>
    public SecurityLabel ParseMarking(string marking)
    {
        ArgumentNullException.ThrowIfNull(marking);
        string trimmed = marking.Length <= MaxMarkingLength ? marking.Trim() : marking;
        return trimmed.StartsWith('(') ? ParsePortion(trimmed) : ParseBanner(trimmed);
    }

    /// <summary>Parses without throwing; returns <see cref="MarkingError.None"/> on success.</summary>
    public MarkingError TryParse(string marking, bool portion, out SecurityLabel label, out string message)
    {
        ArgumentNullException.ThrowIfNull(marking);
        label = default;
        if (marking.Length > MaxMarkingLength)
        {
            message = $"marking rejected: {marking.Length} characters is over the limit of {MaxMarkingLength}; shorten it";
            return MarkingError.TooLong;
        }

        if (string.IsNullOrWhiteSpace(marking))
        {
            message = "marking rejected: it is empty; give a level such as " + Levels[0].Name;
            return MarkingError.Empty;
        }

        string body = marking;
        if (portion)
        {
            if (marking.Length < 3 || marking[0] != '(' || marking[^1] != ')')
            {
                message = $"portion marking rejected: '{marking}' must be enclosed in parentheses, e.g. ({Levels[0].Abbreviation})";
                return MarkingError.Malformed;
            }

            body = marking[1..^1];
        }

        string kind = portion ? "portion marking" : "banner marking";
        string[] parts = body.Split("//");
        var levels = portion ? _levelByAbbreviation : _levelByName;
        if (!levels.TryGetValue(parts[0], out int level))
        {
            string known = string.Join(", ", Levels.Select(l => portion ? l.Abbreviation : l.Name));
            message = $"{kind} rejected: unknown level '{Printable(parts[0])}' in '{Printable(marking)}'; known levels are {known}";
            return MarkingError.UnknownLevel;
        }

        ulong compartments = 0;
        bool sawCompartments = false;
        bool sawCaveat = false;
        bool unrestricted = true;
        ulong rel = 0;
        for (int p = 1; p < parts.Length; p++)
        {
            string part = parts[p];
            if (part.Length == 0)
            {
                message = $"{kind} rejected: empty segment between '//' separators in '{Printable(marking)}'";
                return MarkingError.Malformed;
            }

            if (sawCaveat)
            {
                message = $"{kind} rejected: '{Printable(part)}' follows the releasability caveat in '{Printable(marking)}'; give compartments first and one caveat last";
                return sawCaveat && IsCaveat(part, portion) ? MarkingError.Duplicate : MarkingError.Malformed;
            }

            if (part == "NOFORN" || (portion && part == "NF"))
            {
                sawCaveat = true;
                unrestricted = false;
                rel = _ownerBit;
                continue;
            }

            if (part.StartsWith("REL TO ", StringComparison.Ordinal))
            {
                sawCaveat = true;
                unrestricted = false;
                MarkingError relError = ParseRelTo(part["REL TO ".Length..], kind, marking, out rel, out message);
                if (relError != MarkingError.None)
                {
                    return relError;
                }

                continue;
            }

            if (sawCompartments)
            {
                message = $"{kind} rejected: a second compartment segment '{Printable(part)}' in '{Printable(marking)}'; separate compartments with '/'";
                return MarkingError.Malformed;
            }

            sawCompartments = true;
            foreach (string c in part.Split('/'))
            {
                if (!IsWord(c, allowSpace: false))
                {
                    message = $"{kind} rejected: '{Printable(c)}' in '{Printable(marking)}' is not a compartment or caveat (upper-case letters and digits, separated by '/')";
                    return MarkingError.Malformed;
                }

                if (!_compartmentIndex.TryGetValue(c, out int ci))
                {
                    message = $"{kind} rejected: unknown compartment '{c}' in '{Printable(marking)}'; known compartments are {string.Join(", ", Compartments)}";
                    return MarkingError.UnknownCompartment;
                }

                ulong bit = 1UL << ci;
                if ((compartments & bit) != 0)
                {
                    message = $"{kind} rejected: compartment '{c}' is given twice in '{Printable(marking)}'";
                    return MarkingError.Duplicate;
                }

                compartments |= bit;
            }
        }

        label = new SecurityLabel(level, compartments, unrestricted, rel);
        message = string.Empty;
        return MarkingError.None;
    }

    /// <summary>Formats a banner marking; REL TO lists put the owner first, then scheme order.</summary>
    public string FormatBanner(SecurityLabel label) => Format(label, portion: false);

    /// <summary>Formats a portion marking such as <c>(S//NF)</c>.</summary>
    public string FormatPortion(SecurityLabel label) => Format(label, portion: true);

    private ulong AllCodesMask => ReleasabilityCodes.Count == 64 ? ulong.MaxValue : (1UL << ReleasabilityCodes.Count) - 1;

    private string Format(SecurityLabel label, bool portion)
    {
        if (_formatted.TryGetValue((label, portion), out var cached))
        {
            return cached;
        }

        var formatted = FormatNew(label, portion);
        if (_formatted.Count < MaxFormattedCached)
        {
            _formatted.TryAdd((label, portion), formatted);
        }

        return formatted;
    }

    private string FormatNew(SecurityLabel label, bool portion)
    {
        if (!Contains(label))
        {
            throw new ArgumentException("the label uses levels, compartments or codes outside this scheme", nameof(label));
        }

        var sb = new StringBuilder(64);
        if (portion)
        {
            sb.Append('(');
        }

        sb.Append(portion ? Levels[label.Level].Abbreviation : Levels[label.Level].Name);
        if (label.CompartmentMask != 0)
        {
            sb.Append("//");
            bool first = true;
            for (int i = 0; i < Compartments.Count; i++)
            {
                if ((label.CompartmentMask & (1UL << i)) != 0)
                {
                    sb.Append(first ? string.Empty : "/").Append(Compartments[i]);
                    first = false;
                }
            }
        }

        if (!label.IsUnrestricted)
        {
            if (label.ReleasabilityMask == _ownerBit)
            {
                sb.Append(portion ? "//NF" : "//NOFORN");
            }
            else if (label.ReleasabilityMask == 0)
            {
                sb.Append("//REL TO (NONE)");
            }
            else
            {
                sb.Append("//REL TO ");
                bool first = true;
                if ((label.ReleasabilityMask & _ownerBit) != 0)
                {
                    sb.Append(Owner);
                    first = false;
                }

                for (int i = 0; i < ReleasabilityCodes.Count; i++)
                {
                    ulong bit = 1UL << i;
                    if ((label.ReleasabilityMask & bit) != 0 && bit != _ownerBit)
                    {
                        sb.Append(first ? string.Empty : ", ").Append(ReleasabilityCodes[i]);
                        first = false;
                    }
                }
            }
        }

        if (portion)
        {
            sb.Append(')');
        }

        return sb.ToString();
    }

    private MarkingError ParseRelTo(string list, string kind, string marking, out ulong rel, out string message)
    {
        rel = 0;
        foreach (string code in list.Split(", "))
        {
            if (!IsWord(code, allowSpace: false))
            {
                message = $"{kind} rejected: REL TO list '{Printable(list)}' in '{Printable(marking)}' must be codes separated by ', '";
                return MarkingError.Malformed;
            }

            if (!_codeIndex.TryGetValue(code, out int i))
            {
                message = $"{kind} rejected: unknown releasability code '{code}' in '{Printable(marking)}'; known codes are {string.Join(", ", ReleasabilityCodes)}";
                return MarkingError.UnknownReleasability;
            }

            ulong bit = 1UL << i;
            if ((rel & bit) != 0)
            {
                message = $"{kind} rejected: releasability code '{code}' is given twice in '{Printable(marking)}'";
                return MarkingError.Duplicate;
            }

            rel |= bit;
        }

        message = string.Empty;
        return MarkingError.None;
    }

    private static bool IsCaveat(string part, bool portion) =>
        part == "NOFORN" || (portion && part == "NF") || part.StartsWith("REL TO ", StringComparison.Ordinal);

    private static Dictionary<string, int> Index(IReadOnlyList<string> names, string what, List<string> problems)
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        if (names.Count > MaxVocabulary)
        {
            problems.Add($"{names.Count} {what}s is over the limit of {MaxVocabulary}");
        }

        for (int i = 0; i < names.Count && i < MaxVocabulary; i++)
        {
            if (!IsWord(names[i], allowSpace: false))
            {
                problems.Add($"{what} '{names[i]}' must be upper-case letters and digits");
            }
            else if (!index.TryAdd(names[i], i))
            {
                problems.Add($"{what} '{names[i]}' is given twice");
            }
        }

        return index;
    }

    private static bool IsWord(string? s, bool allowSpace)
    {
        if (string.IsNullOrEmpty(s) || s.Length > 64 || s[0] == ' ' || s[^1] == ' ')
        {
            return false;
        }

        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            bool ok = c is (>= 'A' and <= 'Z') or (>= '0' and <= '9')
                || (allowSpace && c == ' ' && s[i - 1] != ' ');
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    private static string Printable(string s)
    {
        const int max = 64;
        var sb = new StringBuilder(Math.Min(s.Length, max) + 3);
        for (int i = 0; i < s.Length && i < max; i++)
        {
            sb.Append(char.IsControl(s[i]) ? '?' : s[i]);
        }

        return s.Length > max ? sb.Append("...").ToString() : sb.ToString();
    }
}
