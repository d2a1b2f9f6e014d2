using Enclave.Policy.Labels;
using FsCheck.Xunit;

namespace Enclave.Policy.Tests;

public sealed class MarkingParserTests
{
    private static readonly LabelScheme Scheme = LabelScheme.Default;

    [Theory]
    [InlineData("UNCLASSIFIED")]
    [InlineData("CUI")]
    [InlineData("SECRET//NOFORN")]
    [InlineData("TOP SECRET//SI//REL TO USA, GBR")]
    [InlineData("TOP SECRET//SI/TK//NOFORN")]
    [InlineData("SECRET//REL TO USA, GBR, CAN, AUS, NZL")]
    public void Banner_RoundTrips_Exactly(string banner)
    {
        Assert.Equal(banner, Scheme.FormatBanner(Scheme.ParseBanner(banner)));
    }

    [Theory]
    [InlineData("(U)", "UNCLASSIFIED")]
    [InlineData("(CUI)", "CUI")]
    [InlineData("(S)", "SECRET")]
    [InlineData("(TS//SI)", "TOP SECRET//SI")]
    [InlineData("(S//NF)", "SECRET//NOFORN")]
    [InlineData("(S//NOFORN)", "SECRET//NOFORN")]
    [InlineData("(TS//SI/TK//REL TO USA, GBR)", "TOP SECRET//SI/TK//REL TO USA, GBR")]
    public void Portion_ParsesToTheSameLabelAsItsBanner(string portion, string banner)
    {
        Assert.Equal(Scheme.ParseBanner(banner), Scheme.ParsePortion(portion));
    }

    [Fact]
    public void Format_TheSameLabelAgain_GivesTheSameMarkings_BannerAndPortionKeptApart()
    {
        var label = Scheme.ParseBanner("TOP SECRET//SI//REL TO USA, GBR");

        // Formatted markings are kept per scheme; the second call must give the same text, and the portion form of
        // a label must not be confused with its banner form.
        Assert.Equal("TOP SECRET//SI//REL TO USA, GBR", Scheme.FormatBanner(label));
        Assert.Equal("(TS//SI//REL TO USA, GBR)", Scheme.FormatPortion(label));
        Assert.Equal("TOP SECRET//SI//REL TO USA, GBR", Scheme.FormatBanner(label));
        Assert.Equal("(TS//SI//REL TO USA, GBR)", Scheme.FormatPortion(label));
    }

    [Fact]
    public void Format_OfALabelOutsideTheScheme_IsRefusedEveryTime()
    {
        var outside = new SecurityLabel(9, 0, true, 0);

        Assert.Throws<ArgumentException>(() => TestSchemes.Small.FormatBanner(outside));
        Assert.Throws<ArgumentException>(() => TestSchemes.Small.FormatBanner(outside));
    }

    [Fact]
    public void RelToOwnerOnly_IsNoforn_AndOrderOfCodesDoesNotMatter()
    {
        Assert.Equal(Scheme.ParseBanner("SECRET//NOFORN"), Scheme.ParseBanner("SECRET//REL TO USA"));
        Assert.Equal(Scheme.ParseBanner("SECRET//REL TO USA, GBR"), Scheme.ParseBanner("SECRET//REL TO GBR, USA"));
        Assert.Equal("SECRET//REL TO USA, GBR", Scheme.FormatBanner(Scheme.ParseBanner("SECRET//REL TO GBR, USA")));
    }

    [Theory]
    [InlineData("", MarkingError.Empty)]
    [InlineData("   ", MarkingError.Empty)]
    [InlineData("CONFIDENTIAL", MarkingError.UnknownLevel)]
    [InlineData("secret", MarkingError.UnknownLevel)]
    [InlineData("SECRET ", MarkingError.UnknownLevel)]
    [InlineData("TOP  SECRET", MarkingError.UnknownLevel)]
    [InlineData("SECRET//XYZ", MarkingError.UnknownCompartment)]
    [InlineData("SECRET//REL TO USA, FRA", MarkingError.UnknownReleasability)]
    [InlineData("SECRET//", MarkingError.Malformed)]
    [InlineData("SECRET////SI", MarkingError.Malformed)]
    [InlineData("SECRET//SI//TK", MarkingError.Malformed)]
    [InlineData("SECRET//si", MarkingError.Malformed)]
    [InlineData("SECRET//REL TO USA,GBR", MarkingError.Malformed)]
    [InlineData("SECRET//REL TO ", MarkingError.Malformed)]
    [InlineData("SECRET//NOFORN//SI", MarkingError.Malformed)]
    [InlineData("SECRET//NOFORN//REL TO USA", MarkingError.Duplicate)]
    [InlineData("SECRET//SI/SI", MarkingError.Duplicate)]
    [InlineData("SECRET//REL TO USA, USA", MarkingError.Duplicate)]
    [InlineData("SECRET//REL TO (NONE)", MarkingError.Malformed)]
    [InlineData("SECRET//NF", MarkingError.UnknownCompartment)]
    public void Banner_Rejects_WithReason(string banner, MarkingError reason)
    {
        var e = Assert.Throws<MarkingParseException>(() => Scheme.ParseBanner(banner));
        Assert.Equal(reason, e.Reason);
        Assert.Contains("rejected", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("S", MarkingError.Malformed)]
    [InlineData("(S", MarkingError.Malformed)]
    [InlineData("()", MarkingError.Malformed)]
    [InlineData("(SECRET)", MarkingError.UnknownLevel)]
    [InlineData("(C)", MarkingError.UnknownLevel)]
    [InlineData("(TS//ZZ)", MarkingError.UnknownCompartment)]
    [InlineData("(S//NF//NF)", MarkingError.Duplicate)]
    public void Portion_Rejects_WithReason(string portion, MarkingError reason)
    {
        var e = Assert.Throws<MarkingParseException>(() => Scheme.ParsePortion(portion));
        Assert.Equal(reason, e.Reason);
    }

    [Fact]
    public void Oversized_IsRejectedBeforeParsing_AndTheMessageIsBounded()
    {
        string huge = "SECRET//REL TO " + string.Join(", ", Enumerable.Repeat("USA", 10_000));
        var e = Assert.Throws<MarkingParseException>(() => Scheme.ParseBanner(huge));
        Assert.Equal(MarkingError.TooLong, e.Reason);
        Assert.True(e.Message.Length < 200);
        Assert.Equal(MarkingError.TooLong, Assert.Throws<MarkingParseException>(() => Scheme.ParseMarking(huge + "   ")).Reason);
    }

    [Fact]
    public void Errors_SayWhatWasWrong_AndWhatIsKnown()
    {
        var e = Assert.Throws<MarkingParseException>(() => Scheme.ParseBanner("SECRET//XYZ"));
        Assert.Contains("unknown compartment 'XYZ'", e.Message, StringComparison.Ordinal);
        Assert.Contains("SI, TK, HCS, G", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ControlCharacters_AreNotEchoedIntoErrors()
    {
        var e = Assert.Throws<MarkingParseException>(() => Scheme.ParseBanner("SECRET\n\u001b[31m"));
        Assert.DoesNotContain('\u001b', e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Property(MaxTest = 1000)]
    public bool BannerAndPortion_RoundTrip_ForEveryFormattableLabel(byte l, byte c, byte r, bool u)
    {
        var s = TestSchemes.Small;
        SecurityLabel label = TestSchemes.Label(l, c, r, u);
        if (!label.IsUnrestricted && label.ReleasabilityMask == 0)
        {
            return true; // REL TO (NONE) is formatted for display only, never accepted
        }

        return s.ParseBanner(s.FormatBanner(label)) == label
            && s.ParsePortion(s.FormatPortion(label)) == label
            && s.ParseMarking(" " + s.FormatBanner(label) + "\t") == label;
    }

    [Property(MaxTest = 1000)]
    public bool FlippingOneCharacter_NeverYieldsAnotherLabelSilently(byte l, byte c, byte r, bool u, int position, char replacement)
    {
        var s = TestSchemes.Small;
        SecurityLabel label = TestSchemes.Label(l, c, r, u);
        if (!label.IsUnrestricted && label.ReleasabilityMask == 0)
        {
            return true;
        }

        string banner = s.FormatBanner(label);
        int i = (int)((uint)position % (uint)banner.Length);
        string tampered = string.Concat(banner.AsSpan(0, i), replacement.ToString(), banner.AsSpan(i + 1));
        MarkingError error = s.TryParse(tampered, portion: false, out SecurityLabel parsed, out _);

        // Either rejected, or the flip produced another canonical marking that parsed to exactly what it says.
        return error != MarkingError.None || s.FormatBanner(parsed) == tampered;
    }

    [Fact]
    public void Scheme_ReportsEveryConfigurationProblem()
    {
        var e = Assert.Throws<ArgumentException>(() => new LabelScheme(
            [new LabelLevel("LOW", "L"), new LabelLevel("low", "L")],
            ["A", "A", "NOFORN"],
            ["USA"],
            "GBR"));
        Assert.Contains("level 1 name 'low'", e.Message, StringComparison.Ordinal);
        Assert.Contains("abbreviation 'L' is given twice", e.Message, StringComparison.Ordinal);
        Assert.Contains("compartment 'A' is given twice", e.Message, StringComparison.Ordinal);
        Assert.Contains("NOFORN", e.Message, StringComparison.Ordinal);
        Assert.Contains("owner 'GBR'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CustomScheme_ParsesItsOwnLevelsAndOwner()
    {
        var s = new LabelScheme(
            [new LabelLevel("OFFICIAL", "O"), new LabelLevel("OFFICIAL SENSITIVE", "OS"), new LabelLevel("SECRET", "S")],
            [],
            ["GBR", "USA"],
            "GBR");
        SecurityLabel label = s.ParseBanner("OFFICIAL SENSITIVE//NOFORN");
        Assert.Equal(1, label.Level);
        Assert.Equal("(OS//NF)", s.FormatPortion(label));
        Assert.Equal(s.Create("OFFICIAL SENSITIVE", releasableTo: ["GBR"]), label);
    }
}
