using Enclave.Policy.Labels;
using FsCheck.Xunit;

namespace Enclave.Policy.Tests;

public sealed class RequestLabelExtractorTests
{
    private static readonly LabelScheme Scheme = LabelScheme.Default;

    [Fact]
    public void Header_WinsOverMarkings()
    {
        var x = new RequestLabelExtractor(Scheme);
        RequestLabel r = x.Extract("SECRET//NOFORN", ["TOP SECRET//SI text"]);
        Assert.Equal(LabelSource.Header, r.Source);
        Assert.Equal(Scheme.ParseBanner("SECRET//NOFORN"), r.Label);
    }

    [Fact]
    public void Header_MayBeAPortionMarking_WithOuterWhitespace()
    {
        RequestLabel r = new RequestLabelExtractor(Scheme).Extract(" (S//NF) ", []);
        Assert.Equal(Scheme.ParseBanner("SECRET//NOFORN"), r.Label);
    }

    [Fact]
    public void MalformedHeader_IsRejected_NotIgnored()
    {
        var e = Assert.Throws<MarkingParseException>(() => new RequestLabelExtractor(Scheme).Extract("SECRET//BOGUS", ["hello"]));
        Assert.Equal(MarkingError.UnknownCompartment, e.Reason);
    }

    [Fact]
    public void Markings_PickTheHighest_AcrossMessagesAndForms()
    {
        string[] messages =
        [
            "UNCLASSIFIED\n(U) The weather is fine.",
            "(S//NF) The convoy leaves at dawn.\n(CUI) Budget follows.",
            "Summary: TOP SECRET//SI//REL TO USA, GBR material attached",
        ];
        RequestLabel r = new RequestLabelExtractor(Scheme).Extract(null, messages);
        Assert.Equal(LabelSource.Markings, r.Source);

        // TS from the banner, SI, and releasability narrowed to USA by the NOFORN portion.
        Assert.Equal(Scheme.ParseBanner("TOP SECRET//SI//NOFORN"), r.Label);
        Assert.Equal(5, r.Markings.Count);
        FoundMarking ts = Assert.Single(r.Markings, m => m.MessageIndex == 2);
        Assert.Equal(messages[2].IndexOf("TOP SECRET", StringComparison.Ordinal), ts.Start);
        Assert.Equal("TOP SECRET//SI//REL TO USA, GBR".Length, ts.Length);
        Assert.Empty(r.Problems);
    }

    [Fact]
    public void PortionAlone_IsFound()
    {
        RequestLabel r = new RequestLabelExtractor(Scheme).Extract(null, ["(S) troop movements"]);
        Assert.Equal(Scheme.ParseBanner("SECRET"), r.Label);
    }

    [Fact]
    public void NoMarking_GivesTheConfiguredDefault()
    {
        var options = new LabelExtractionOptions { DefaultLabel = Scheme.ParseBanner("CUI") };
        RequestLabel r = new RequestLabelExtractor(Scheme, options).Extract(null, ["just a question about C#"]);
        Assert.Equal(LabelSource.Default, r.Source);
        Assert.Equal(Scheme.ParseBanner("CUI"), r.Label);
        Assert.Equal(Scheme.Lowest, new RequestLabelExtractor(Scheme).Extract(null, ["hi"]).Label);
    }

    [Theory]
    [InlineData("Keep this secret between us.")]
    [InlineData("The Secret Service visited; a SECRETARY answered.")]
    [InlineData("Select the file(s) and press OK.")]
    [InlineData("var cuisine = \"TOPSECRETSAUCE\";")]
    public void OrdinaryText_HasNoMarking(string text)
    {
        RequestLabel r = new RequestLabelExtractor(Scheme).Extract(null, [text]);
        Assert.Equal(LabelSource.Default, r.Source);
        Assert.Empty(r.Markings);
    }

    [Fact]
    public void UnparseableMarking_FailsClosedAtItsLevel_AndIsReported()
    {
        RequestLabel r = new RequestLabelExtractor(Scheme).Extract(null, ["SECRET//ZZZ spelled wrongly", "(U) fine"]);
        Assert.Equal(new SecurityLabel(2, Scheme.Highest.CompartmentMask, unrestricted: false, 0), r.Label);
        Assert.False(Scheme.ParseBanner("TOP SECRET//SI/TK/HCS/G//NOFORN").Dominates(r.Label));
        Assert.Contains(r.Problems, p => p.Contains("unknown compartment 'ZZZ'", StringComparison.Ordinal));
    }

    [Fact]
    public void OverTheScanBound_EscalatesToTheTopOfTheLattice()
    {
        var x = new RequestLabelExtractor(Scheme, new LabelExtractionOptions { MaxTotalChars = 100 });
        RequestLabel r = x.Extract(null, [new string('a', 60), new string('b', 60)]);
        Assert.Equal(LabelSource.Escalated, r.Source);
        Assert.Equal(Scheme.Highest, r.Label);
        Assert.Contains(r.Problems, p => p.Contains("scanning limit", StringComparison.Ordinal));
    }

    [Fact]
    public void TooManyMarkings_OrMessages_Escalate()
    {
        var x = new RequestLabelExtractor(Scheme, new LabelExtractionOptions { MaxMarkings = 3, MaxMessages = 2 });
        Assert.Equal(LabelSource.Escalated, x.Extract(null, ["(U) (U) (U) (U)"]).Source);
        Assert.Equal(LabelSource.Escalated, x.Extract(null, ["a", "b", "c"]).Source);
    }
    [Property(MaxTest = 300)]
    public bool Extraction_IsTheJoinOfEveryMarking(byte[] raw, bool[] portions)
    {
        var s = TestSchemes.Small;
        var labels = new List<SecurityLabel>();
        var messages = new List<string>();
        for (int i = 0; raw is not null && i + 3 < raw.Length && labels.Count < 12; i += 4)
        {
            SecurityLabel label = TestSchemes.Label(raw[i], raw[i + 1], raw[i + 2], (raw[i + 3] & 1) == 1);
            if (!label.IsUnrestricted && label.ReleasabilityMask == 0)
            {
                continue;
            }

            bool portion = portions is not null && portions.Length > 0 && portions[labels.Count % portions.Length];
            string marking = portion ? s.FormatPortion(label) : s.FormatBanner(label);
            labels.Add(label);
            messages.Add($"note {i}:\n{marking} the text of paragraph {i} follows, e.g. file(s) and the secret plan.\n");
        }

        RequestLabel r = new RequestLabelExtractor(s).Extract(null, messages);
        if (labels.Count == 0)
        {
            return r.Source == LabelSource.Default && r.Label == s.Lowest;
        }

        SecurityLabel expected = labels.Aggregate((a, b) => a.Join(b));
        return r.Source == LabelSource.Markings && r.Label == expected && r.Markings.Count == labels.Count && r.Problems.Count == 0;
    }
}
