using Enclave.Policy.Labels;

namespace Enclave.Policy.Tests;

/// <summary>
/// The label scheme's edges that mutation testing (issue #18) checks: argument checks, every configuration problem
/// and parse refusal by its exact message, the bounds of names, vocabularies and marking lengths (at the bound and one
/// past it), schemes whose owner is not the first code, and the 64-entry vocabularies whose masks fill a whole word.
/// </summary>
public sealed class LabelSchemeEdgeTests
{
    private static readonly LabelScheme Scheme = LabelScheme.Default;

    private static LabelScheme Fresh(int maxMarkingLength = 512) => new(
        [new LabelLevel("UNCLASSIFIED", "U"), new LabelLevel("CUI", "CUI"), new LabelLevel("SECRET", "S"), new LabelLevel("TOP SECRET", "TS")],
        ["SI", "TK", "HCS", "G"],
        ["USA", "GBR", "CAN", "AUS", "NZL", "NATO"],
        "USA",
        maxMarkingLength);

    /// <summary>Two levels, no compartments, the owner second: NOFORN is bit 1, not bit 0.</summary>
    private static LabelScheme OwnerSecond() => new([new LabelLevel("LOW", "L"), new LabelLevel("HIGH", "H")], [], ["GBR", "USA"], "USA");

    [Fact]
    public void Constructor_NamesTheNullArgument()
    {
        Assert.Equal("levels", Assert.Throws<ArgumentNullException>(() => new LabelScheme(null!, [], ["USA"], "USA")).ParamName);
        Assert.Equal("compartments", Assert.Throws<ArgumentNullException>(() => new LabelScheme([new LabelLevel("LOW", "L")], null!, ["USA"], "USA")).ParamName);
        Assert.Equal("releasabilityCodes", Assert.Throws<ArgumentNullException>(() => new LabelScheme([new LabelLevel("LOW", "L")], [], null!, "USA")).ParamName);
        Assert.Equal("owner", Assert.Throws<ArgumentNullException>(() => new LabelScheme([new LabelLevel("LOW", "L")], [], ["USA"], null!)).ParamName);
    }

    [Fact]
    public void Constructor_WithoutLevels_SaysSo()
    {
        var e = Assert.Throws<ArgumentException>(() => new LabelScheme([], [], ["USA"], "USA"));
        Assert.Equal("invalid label scheme: at least one level is required (Parameter 'levels')", e.Message);
        Assert.Equal("levels", e.ParamName);
    }

    [Fact]
    public void Constructor_ReportsEveryProblem_InOrder_InOneMessage()
    {
        var e = Assert.Throws<ArgumentException>(() => new LabelScheme(
            [
                new LabelLevel("LOW", "L"),
                new LabelLevel("LOW", "L"),
                new LabelLevel(" HIGH", "H "),
                new LabelLevel("TOP  SECRET", "T S"),
                new LabelLevel("HIGH ", "H1"),
                new LabelLevel(new string('A', 65), new string('B', 64)),
                new LabelLevel(new string('C', 64), "AZ09"),
            ],
            ["AZ09", "A@", "A[", "A/", "A:", "", "SI", "SI", "NF"],
            ["USA", "usa", "USA"],
            "GBR",
            maxMarkingLength: 15));

        string[] problems =
        [
            "level name 'LOW' is given twice",
            "level abbreviation 'L' is given twice",
            "level 2 name ' HIGH' must be upper-case letters, digits and single spaces",
            "level 2 abbreviation 'H ' must be upper-case letters and digits",
            "level 3 name 'TOP  SECRET' must be upper-case letters, digits and single spaces",
            "level 3 abbreviation 'T S' must be upper-case letters and digits",
            "level 4 name 'HIGH ' must be upper-case letters, digits and single spaces",
            $"level 5 name '{new string('A', 65)}' must be upper-case letters, digits and single spaces",
            "compartment 'A@' must be upper-case letters and digits",
            "compartment 'A[' must be upper-case letters and digits",
            "compartment 'A/' must be upper-case letters and digits",
            "compartment 'A:' must be upper-case letters and digits",
            "compartment '' must be upper-case letters and digits",
            "compartment 'SI' is given twice",
            "releasability code 'usa' must be upper-case letters and digits",
            "releasability code 'USA' is given twice",
            "NOFORN and NF are caveats and cannot be compartments",
            "owner 'GBR' must be one of the releasability codes",
            "maxMarkingLength 15 must be between 16 and 65536",
        ];
        Assert.Equal("invalid label scheme: " + string.Join("; ", problems) + " (Parameter 'levels')", e.Message);
    }

    [Fact]
    public void Constructor_RefusesNofornAsACompartment()
    {
        var e = Assert.Throws<ArgumentException>(() => new LabelScheme([new LabelLevel("LOW", "L")], ["NOFORN"], ["USA"], "USA"));
        Assert.Equal("invalid label scheme: NOFORN and NF are caveats and cannot be compartments (Parameter 'levels')", e.Message);
    }

    [Theory]
    [InlineData(16)]
    [InlineData(65536)]
    public void MaxMarkingLength_AtEitherBound_IsAccepted(int max)
    {
        Assert.Equal(max, Fresh(max).MaxMarkingLength);
    }

    [Fact]
    public void MaxMarkingLength_OnePastTheUpperBound_IsRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => Fresh(65537));
        Assert.Equal("invalid label scheme: maxMarkingLength 65537 must be between 16 and 65536 (Parameter 'levels')", e.Message);
    }

    [Fact]
    public void Vocabularies_Of64_FillTheWholeMask_AndFormatEveryBit()
    {
        string[] compartments = [.. Enumerable.Range(0, 64).Select(i => $"C{i}")];
        string[] codes = [.. Enumerable.Range(0, 64).Select(i => $"R{i}")];
        var s = new LabelScheme([new LabelLevel("LOW", "L"), new LabelLevel("HIGH", "H")], compartments, codes, "R5");

        Assert.Equal(new SecurityLabel(1, ulong.MaxValue, unrestricted: false, 0), s.Highest);
        SecurityLabel all = s.Create("LOW", ["C0", "C63"], codes);
        Assert.Equal(new SecurityLabel(0, 1UL | (1UL << 63), unrestricted: false, ulong.MaxValue), all);
        Assert.True(s.Contains(all));
        Assert.True(s.Contains(s.Highest));

        string expected = "LOW//C0/C63//REL TO R5, " + string.Join(", ", codes.Where(c => c != "R5"));
        Assert.Equal(expected, s.FormatBanner(all));
        Assert.Equal(all, s.ParseBanner(expected));
        Assert.Equal("(L//C63//NF)", s.FormatPortion(new SecurityLabel(0, 1UL << 63, unrestricted: false, 1UL << 5)));
        Assert.Equal("(L//C0//REL TO R0)", s.FormatPortion(new SecurityLabel(0, 1, unrestricted: false, 1)));
    }

    [Fact]
    public void Vocabularies_Of65_AreRefused_AndNamesPastTheBoundAreNotRead()
    {
        string[] names = [.. Enumerable.Range(0, 64).Select(i => $"N{i}"), "x"];

        var compartments = Assert.Throws<ArgumentException>(() => new LabelScheme([new LabelLevel("LOW", "L")], names, ["USA"], "USA"));
        Assert.Equal("invalid label scheme: 65 compartments is over the limit of 64 (Parameter 'levels')", compartments.Message);

        var codes = Assert.Throws<ArgumentException>(() => new LabelScheme([new LabelLevel("LOW", "L")], [], names, "N0"));
        Assert.Equal("invalid label scheme: 65 releasability codes is over the limit of 64 (Parameter 'levels')", codes.Message);
    }

    [Fact]
    public void LowestAndHighest_AreTheBottomAndTopOfTheDefaultScheme()
    {
        Assert.Equal(new SecurityLabel(0, 0, unrestricted: true, 0), Scheme.Lowest);
        Assert.True(Scheme.Lowest.IsUnrestricted);
        Assert.Equal(new SecurityLabel(3, 0b1111, unrestricted: false, 0), Scheme.Highest);
        Assert.False(Scheme.Highest.IsUnrestricted);
    }

    [Fact]
    public void Create_BuildsTheExactBits_AndNamesWhatIsUnknown()
    {
        Assert.Equal(new SecurityLabel(2, 0, unrestricted: true, 0), Scheme.Create("SECRET"));
        Assert.Equal(new SecurityLabel(2, 0b0110, unrestricted: false, 0b0110), Scheme.Create("SECRET", ["TK", "HCS"], ["GBR", "CAN"]));
        Assert.Equal(new SecurityLabel(1, 0, unrestricted: false, 0), Scheme.Create("CUI", [], []));

        Assert.Equal("level", Assert.Throws<ArgumentNullException>(() => Scheme.Create(null!)).ParamName);
        Assert.Equal("unknown level 'CONFIDENTIAL' (Parameter 'level')", Assert.Throws<ArgumentException>(() => Scheme.Create("CONFIDENTIAL")).Message);
        Assert.Equal("unknown compartment 'ZZ' (Parameter 'compartments')", Assert.Throws<ArgumentException>(() => Scheme.Create("SECRET", ["SI", "ZZ"])).Message);
        Assert.Equal("unknown releasability code 'FRA' (Parameter 'releasableTo')", Assert.Throws<ArgumentException>(() => Scheme.Create("SECRET", null, ["USA", "FRA"])).Message);
    }

    [Fact]
    public void Create_OfANameListedTwice_SetsItsBitOnce()
    {
        Assert.Equal(Scheme.Create("SECRET", ["SI"], ["GBR"]), Scheme.Create("SECRET", ["SI", "SI"], ["GBR", "GBR"]));
        Assert.Equal(new SecurityLabel(2, 0b0011, unrestricted: false, 0b0011), Scheme.Create("SECRET", ["SI", "TK", "SI"], ["USA", "GBR", "USA"]));
    }

    [Fact]
    public void Constructor_RefusesVocabularyNamesWithASpace()
    {
        var e = Assert.Throws<ArgumentException>(() => new LabelScheme([new LabelLevel("LOW", "L")], ["S I"], ["US A", "USA"], "USA"));
        Assert.Equal(
            "invalid label scheme: compartment 'S I' must be upper-case letters and digits; releasability code 'US A' must be upper-case letters and digits (Parameter 'levels')",
            e.Message);
    }

    [Fact]
    public void Contains_RefusesEachPartOutsideTheScheme()
    {
        Assert.True(Scheme.Contains(new SecurityLabel(3, 0b1111, unrestricted: false, 0b111111)));
        Assert.False(Scheme.Contains(new SecurityLabel(4, 0, unrestricted: true, 0)));
        Assert.False(Scheme.Contains(new SecurityLabel(0, 0b10000, unrestricted: true, 0)));
        Assert.False(Scheme.Contains(new SecurityLabel(0, 0, unrestricted: false, 0b1000000)));
    }

    [Fact]
    public void AnOwnerThatIsNotTheFirstCode_IsNoforn_AndIsFormattedFirst()
    {
        LabelScheme s = OwnerSecond();
        Assert.Equal(new SecurityLabel(0, 0, unrestricted: false, 0b10), s.ParseBanner("LOW//NOFORN"));
        Assert.Equal(new SecurityLabel(1, 0, unrestricted: false, 0b10), s.ParsePortion("(H//NF)"));
        Assert.Equal("LOW//NOFORN", s.FormatBanner(new SecurityLabel(0, 0, unrestricted: false, 0b10)));
        Assert.Equal("LOW//REL TO GBR", s.FormatBanner(new SecurityLabel(0, 0, unrestricted: false, 0b01)));
        Assert.Equal("LOW//REL TO USA, GBR", s.FormatBanner(new SecurityLabel(0, 0, unrestricted: false, 0b11)));
        Assert.Equal("(H//REL TO USA, GBR)", s.FormatPortion(new SecurityLabel(1, 0, unrestricted: false, 0b11)));
        Assert.Equal(new SecurityLabel(0, 0, unrestricted: false, 0b11), s.ParseBanner("LOW//REL TO GBR, USA"));
    }

    [Fact]
    public void Format_OfRelToNone_IsShown_AndOfALabelOutsideTheScheme_IsRefused()
    {
        LabelScheme s = Fresh();
        Assert.Equal("SECRET//REL TO (NONE)", s.FormatBanner(new SecurityLabel(2, 0, unrestricted: false, 0)));
        Assert.Equal("(TS//SI/G//REL TO (NONE))", s.FormatPortion(new SecurityLabel(3, 0b1001, unrestricted: false, 0)));
        var e = Assert.Throws<ArgumentException>(() => s.FormatPortion(new SecurityLabel(0, 0b10000, unrestricted: true, 0)));
        Assert.Equal("the label uses levels, compartments or codes outside this scheme (Parameter 'label')", e.Message);
    }

    [Fact]
    public void Parsers_NameTheNullArgument()
    {
        Assert.Equal("marking", Assert.Throws<ArgumentNullException>(() => Scheme.ParseMarking(null!)).ParamName);
        Assert.Equal("marking", Assert.Throws<ArgumentNullException>(() => Scheme.TryParse(null!, portion: false, out _, out _)).ParamName);
    }

    [Fact]
    public void Markings_AtTheLengthBound_Parse_AndOnePastItAreRefused()
    {
        LabelScheme s = Fresh(16);
        Assert.Equal(s.Create("TOP SECRET", ["SI", "G"]), s.ParseBanner("TOP SECRET//SI/G"));
        Assert.Equal(s.Create("SECRET"), s.ParseMarking("  SECRET        "));

        // Over the bound it is refused as it came, even when trimming would bring it under.
        var padded = Assert.Throws<MarkingParseException>(() => s.ParseMarking("  SECRET         "));
        Assert.Equal(MarkingError.TooLong, padded.Reason);
        Assert.Equal("marking rejected: 17 characters is over the limit of 16; shorten it", padded.Message);

        Assert.Equal(MarkingError.TooLong, s.TryParse("TOP SECRET//SI/TK", portion: false, out SecurityLabel label, out string message));
        Assert.Equal(default(SecurityLabel), label);
        Assert.Equal("marking rejected: 17 characters is over the limit of 16; shorten it", message);
    }

    [Fact]
    public void ParseMarking_ChoosesTheGrammarByTheOpeningParenthesis()
    {
        var e = Assert.Throws<MarkingParseException>(() => Scheme.ParseMarking(" SECRET//REL TO (NONE) "));
        Assert.Equal(MarkingError.Malformed, e.Reason);
        Assert.Equal("banner marking rejected: REL TO list '(NONE)' in 'SECRET//REL TO (NONE)' must be codes separated by ', '", e.Message);
        Assert.Equal(Scheme.Create("SECRET", releasableTo: ["USA"]), Scheme.ParseMarking("\t(S//NF)\n"));
    }

    [Fact]
    public void TryParse_OfAValidMarking_GivesAnEmptyMessage()
    {
        Assert.Equal(MarkingError.None, Scheme.TryParse("SECRET//SI//REL TO USA, GBR", portion: false, out SecurityLabel label, out string message));
        Assert.Equal(Scheme.Create("SECRET", ["SI"], ["USA", "GBR"]), label);
        Assert.Equal(string.Empty, message);
        Assert.Equal(MarkingError.None, Scheme.TryParse("(S//NF)", portion: true, out _, out message));
        Assert.Equal(string.Empty, message);
    }

    [Theory]
    [InlineData("", MarkingError.Empty, "marking rejected: it is empty; give a level such as UNCLASSIFIED")]
    [InlineData("CONFIDENTIAL", MarkingError.UnknownLevel, "banner marking rejected: unknown level 'CONFIDENTIAL' in 'CONFIDENTIAL'; known levels are UNCLASSIFIED, CUI, SECRET, TOP SECRET")]
    [InlineData("SECRET\n\u001b[31m", MarkingError.UnknownLevel, "banner marking rejected: unknown level 'SECRET??[31m' in 'SECRET??[31m'; known levels are UNCLASSIFIED, CUI, SECRET, TOP SECRET")]
    [InlineData("SECRET////SI", MarkingError.Malformed, "banner marking rejected: empty segment between '//' separators in 'SECRET////SI'")]
    [InlineData("SECRET//NOFORN//SI", MarkingError.Malformed, "banner marking rejected: 'SI' follows the releasability caveat in 'SECRET//NOFORN//SI'; give compartments first and one caveat last")]
    [InlineData("SECRET//REL TO USA//SI", MarkingError.Malformed, "banner marking rejected: 'SI' follows the releasability caveat in 'SECRET//REL TO USA//SI'; give compartments first and one caveat last")]
    [InlineData("SECRET//REL TO USA//NOFORN", MarkingError.Duplicate, "banner marking rejected: 'NOFORN' follows the releasability caveat in 'SECRET//REL TO USA//NOFORN'; give compartments first and one caveat last")]
    [InlineData("SECRET//NOFORN//NF", MarkingError.Malformed, "banner marking rejected: 'NF' follows the releasability caveat in 'SECRET//NOFORN//NF'; give compartments first and one caveat last")]
    [InlineData("SECRET//SI//TK", MarkingError.Malformed, "banner marking rejected: a second compartment segment 'TK' in 'SECRET//SI//TK'; separate compartments with '/'")]
    [InlineData("SECRET//si", MarkingError.Malformed, "banner marking rejected: 'si' in 'SECRET//si' is not a compartment or caveat (upper-case letters and digits, separated by '/')")]
    [InlineData("SECRET//SI/T K", MarkingError.Malformed, "banner marking rejected: 'T K' in 'SECRET//SI/T K' is not a compartment or caveat (upper-case letters and digits, separated by '/')")]
    [InlineData("SECRET//REL TO USA, G B", MarkingError.Malformed, "banner marking rejected: REL TO list 'USA, G B' in 'SECRET//REL TO USA, G B' must be codes separated by ', '")]
    [InlineData("SECRET//SI/SI", MarkingError.Duplicate, "banner marking rejected: compartment 'SI' is given twice in 'SECRET//SI/SI'")]
    [InlineData("SECRET//REL TO USA,GBR", MarkingError.Malformed, "banner marking rejected: REL TO list 'USA,GBR' in 'SECRET//REL TO USA,GBR' must be codes separated by ', '")]
    [InlineData("SECRET//REL TO USA, FRA", MarkingError.UnknownReleasability, "banner marking rejected: unknown releasability code 'FRA' in 'SECRET//REL TO USA, FRA'; known codes are USA, GBR, CAN, AUS, NZL, NATO")]
    [InlineData("SECRET//REL TO USA, USA", MarkingError.Duplicate, "banner marking rejected: releasability code 'USA' is given twice in 'SECRET//REL TO USA, USA'")]
    public void Banner_Refusals_SayExactlyWhy(string marking, MarkingError reason, string message)
    {
        var e = Assert.Throws<MarkingParseException>(() => Scheme.ParseBanner(marking));
        Assert.Equal(reason, e.Reason);
        Assert.Equal(message, e.Message);
    }

    [Theory]
    [InlineData("S", "portion marking rejected: 'S' must be enclosed in parentheses, e.g. (U)")]
    [InlineData("(SS", "portion marking rejected: '(SS' must be enclosed in parentheses, e.g. (U)")]
    [InlineData("S//NF)", "portion marking rejected: 'S//NF)' must be enclosed in parentheses, e.g. (U)")]
    public void Portion_WithoutBothParentheses_IsMalformed(string marking, string message)
    {
        var e = Assert.Throws<MarkingParseException>(() => Scheme.ParsePortion(marking));
        Assert.Equal(MarkingError.Malformed, e.Reason);
        Assert.Equal(message, e.Message);
    }

    [Theory]
    [InlineData("(C//SI)", MarkingError.UnknownLevel, "portion marking rejected: unknown level 'C' in '(C//SI)'; known levels are U, CUI, S, TS")]
    [InlineData("(TS//ZZ)", MarkingError.UnknownCompartment, "portion marking rejected: unknown compartment 'ZZ' in '(TS//ZZ)'; known compartments are SI, TK, HCS, G")]
    [InlineData("(S//NF//NOFORN)", MarkingError.Duplicate, "portion marking rejected: 'NOFORN' follows the releasability caveat in '(S//NF//NOFORN)'; give compartments first and one caveat last")]
    [InlineData("(S//REL TO USA//NF)", MarkingError.Duplicate, "portion marking rejected: 'NF' follows the releasability caveat in '(S//REL TO USA//NF)'; give compartments first and one caveat last")]
    public void Portion_Refusals_SayExactlyWhy(string marking, MarkingError reason, string message)
    {
        var e = Assert.Throws<MarkingParseException>(() => Scheme.ParsePortion(marking));
        Assert.Equal(reason, e.Reason);
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void Errors_EchoAtMost64Characters_OfTheMarking()
    {
        string exactly64 = new('Q', 64);
        var at = Assert.Throws<MarkingParseException>(() => Scheme.ParseBanner(exactly64));
        Assert.Equal($"banner marking rejected: unknown level '{exactly64}' in '{exactly64}'; known levels are UNCLASSIFIED, CUI, SECRET, TOP SECRET", at.Message);

        var past = Assert.Throws<MarkingParseException>(() => Scheme.ParseBanner(exactly64 + "R"));
        Assert.Equal($"banner marking rejected: unknown level '{exactly64}...' in '{exactly64}...'; known levels are UNCLASSIFIED, CUI, SECRET, TOP SECRET", past.Message);
    }
}
