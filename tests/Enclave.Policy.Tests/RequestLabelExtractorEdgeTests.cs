using Enclave.Policy.Labels;

namespace Enclave.Policy.Tests;

/// <summary>
/// The extractor's and the marking scanner's edges that mutation testing (issue #18) checks: argument checks, each
/// scanning bound at its value and one past it with the exact escalation, the fail-closed label and report of a
/// marking that only partly parses (banner and portion), and levels whose names are prefixes of one another.
/// </summary>
public sealed class RequestLabelExtractorEdgeTests
{
    private static readonly LabelScheme Scheme = LabelScheme.Default;

    [Fact]
    public void Constructors_NameTheirArgument()
    {
        var withDefault = new LabelExtractionOptions { DefaultLabel = Scheme.Lowest };
        Assert.Equal("scheme", Assert.Throws<ArgumentNullException>(() => new RequestLabelExtractor(null!, withDefault)).ParamName);
        Assert.Equal("scheme", Assert.Throws<ArgumentNullException>(() => new MarkingScanner(null!, TimeSpan.FromSeconds(1))).ParamName);
        Assert.Equal("messages", Assert.Throws<ArgumentNullException>(() => new RequestLabelExtractor(Scheme).Extract(null, null!)).ParamName);

        var outside = new LabelExtractionOptions { DefaultLabel = new SecurityLabel(Scheme.Levels.Count, 0, unrestricted: true, 0) };
        var e = Assert.Throws<ArgumentException>(() => new RequestLabelExtractor(Scheme, outside));
        Assert.Equal("the default label is outside the scheme (Parameter 'options')", e.Message);
    }

    [Fact]
    public void Constructor_RefusesEachBoundOfZero()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new RequestLabelExtractor(Scheme, new LabelExtractionOptions { MaxMessages = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RequestLabelExtractor(Scheme, new LabelExtractionOptions { MaxTotalChars = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RequestLabelExtractor(Scheme, new LabelExtractionOptions { MaxMarkings = 0 }));
    }

    [Fact]
    public void Messages_AtTheBound_AreScanned_AndOnePastItEscalates()
    {
        var x = new RequestLabelExtractor(Scheme, new LabelExtractionOptions { MaxMessages = 2 });
        RequestLabel at = x.Extract(null, ["(S) a", "b"]);
        Assert.Equal(LabelSource.Markings, at.Source);
        Assert.Equal(Scheme.Create("SECRET"), at.Label);

        RequestLabel past = x.Extract(null, ["(S) a", "b", "c"]);
        Assert.Equal(LabelSource.Escalated, past.Source);
        Assert.Equal(Scheme.Highest, past.Label);
        Assert.Equal("request has 3 messages, over the scanning limit of 2", past.Escalation);
        Assert.Equal(["request has 3 messages, over the scanning limit of 2; the request is labelled at the top of the lattice"], past.Problems);
        Assert.Empty(past.Markings);
    }

    [Fact]
    public void Characters_AtTheBound_AreScanned_AndOnePastItEscalates_WithoutScanningTheRest()
    {
        var x = new RequestLabelExtractor(Scheme, new LabelExtractionOptions { MaxTotalChars = 10, MaxMarkings = 1 });
        RequestLabel at = x.Extract(null, ["(U) 4567", "89"]);
        Assert.Equal(LabelSource.Markings, at.Source);
        Assert.Single(at.Markings);

        // The message that crosses the bound is not scanned: its markings would otherwise overflow MaxMarkings and
        // change the reason.
        RequestLabel past = x.Extract(null, ["(U) (U) (U) (U)"]);
        Assert.Equal(LabelSource.Escalated, past.Source);
        Assert.Equal(Scheme.Highest, past.Label);
        Assert.Equal("messages total over 10 characters, the scanning limit", past.Escalation);
        Assert.Equal(["messages total over 10 characters, the scanning limit; the request is labelled at the top of the lattice"], past.Problems);
        Assert.Empty(past.Markings);
    }

    [Fact]
    public void Markings_AtTheBound_AreJoined_AndOnePastItEscalates_KeepingThoseFound()
    {
        var x = new RequestLabelExtractor(Scheme, new LabelExtractionOptions { MaxMarkings = 3 });
        RequestLabel at = x.Extract(null, ["(U) (CUI) (S)"]);
        Assert.Equal(LabelSource.Markings, at.Source);
        Assert.Equal(Scheme.Create("SECRET"), at.Label);
        Assert.Equal(3, at.Markings.Count);

        RequestLabel past = x.Extract(null, ["(U) (CUI)", "(S) (U)"]);
        Assert.Equal(LabelSource.Escalated, past.Source);
        Assert.Equal(Scheme.Highest, past.Label);
        Assert.Equal("over 3 markings found, the scanning limit", past.Escalation);
        Assert.Equal(["over 3 markings found, the scanning limit; the request is labelled at the top of the lattice"], past.Problems);
        Assert.Equal(3, past.Markings.Count);
    }

    [Fact]
    public void ANullMessage_CountsAsEmpty()
    {
        var x = new RequestLabelExtractor(Scheme, new LabelExtractionOptions { MaxTotalChars = 1 });
        RequestLabel r = x.Extract(null, [null!]);
        Assert.Equal(LabelSource.Default, r.Source);
        Assert.Equal(Scheme.Lowest, r.Label);

        RequestLabel second = new RequestLabelExtractor(Scheme).Extract(null, [null!, "(S)"]);
        Assert.Equal([new FoundMarking(1, 0, 3, Scheme.Create("SECRET"), IsPortion: true, Problem: null)], second.Markings);
    }

    [Fact]
    public void APortionThatOnlyPartlyParses_CountsAtItsLevel_WithEveryCompartment_AndIsReported()
    {
        RequestLabel r = new RequestLabelExtractor(Scheme).Extract(null, ["see (TS//ZZ) here"]);

        const string problem = "portion marking rejected: unknown compartment 'ZZ' in '(TS//ZZ)'; known compartments are SI, TK, HCS, G";
        var label = new SecurityLabel(3, 0b1111, unrestricted: false, 0);
        Assert.Equal(LabelSource.Markings, r.Source);
        Assert.Equal(label, r.Label);
        Assert.Equal([new FoundMarking(0, 4, 8, label, IsPortion: true, problem)], r.Markings);
        Assert.Equal([$"message 0 at 4: {problem}; counted at its level with every compartment and no releasability (fail closed); correct the marking"], r.Problems);
    }

    [Fact]
    public void ABannerThatOnlyPartlyParses_CountsAtItsLevel_WithEveryCompartment_AndIsReported()
    {
        RequestLabel r = new RequestLabelExtractor(Scheme).Extract(null, ["nothing here", "CUI//SI//ZZ follows"]);

        const string problem = "banner marking rejected: a second compartment segment 'ZZ' in 'CUI//SI//ZZ'; separate compartments with '/'";
        var label = new SecurityLabel(1, 0b1111, unrestricted: false, 0);
        Assert.Equal(label, r.Label);
        Assert.Equal([new FoundMarking(1, 0, 11, label, IsPortion: false, problem)], r.Markings);
        Assert.Equal([$"message 1 at 0: {problem}; counted at its level with every compartment and no releasability (fail closed); correct the marking"], r.Problems);
    }

    [Fact]
    public void ALevelWhoseNameStartsAnother_IsFoundWhole()
    {
        var s = new LabelScheme(
            [new LabelLevel("OFFICIAL", "O"), new LabelLevel("OFFICIAL SENSITIVE", "OS"), new LabelLevel("SECRET", "S")],
            [],
            ["GBR", "USA"],
            "GBR");
        RequestLabel r = new RequestLabelExtractor(s).Extract(null, ["OFFICIAL SENSITIVE//NOFORN material and (O) notes"]);

        Assert.Equal(s.ParseBanner("OFFICIAL SENSITIVE//NOFORN"), r.Label);
        Assert.Equal(
            [
                new FoundMarking(0, 0, 26, s.ParseBanner("OFFICIAL SENSITIVE//NOFORN"), IsPortion: false, null),
                new FoundMarking(0, 40, 3, s.ParseBanner("OFFICIAL"), IsPortion: true, null),
            ],
            r.Markings);
    }
}
