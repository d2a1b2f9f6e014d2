using Enclave.Policy.Decisions;
using Enclave.Policy.Labels;

namespace Enclave.Policy.Tests;

/// <summary>
/// The decider's and the lattice's edges that the mutation run of issue #18 found unasserted: argument checks, labels
/// outside the scheme, a denial with an accredited backend, and the jurisdiction table's bounds.
/// </summary>
public sealed class PolicyDeciderEdgeTests
{
    private static readonly LabelScheme Scheme = LabelScheme.Default;

    private static readonly JurisdictionPolicy Jurisdictions = new(Scheme, new Dictionary<string, IReadOnlyList<string>>
    {
        ["UNCLASSIFIED"] = ["USA", "GBR"],
        ["SECRET"] = ["USA"],
        ["TOP SECRET"] = ["USA"],
    });

    private static readonly BackendCandidate OnPrem = new("onprem-gpu", B("TOP SECRET//SI/TK//NOFORN"), "USA", LeavesEnclave: false);

    private static SecurityLabel B(string banner) => Scheme.ParseBanner(banner);

    [Fact]
    public void Decider_NamesTheNullArgument()
    {
        Assert.Equal("scheme", Assert.Throws<ArgumentNullException>(() => new PolicyDecider(null!, Jurisdictions)).ParamName);
        Assert.Equal("jurisdictions", Assert.Throws<ArgumentNullException>(() => new PolicyDecider(Scheme, null!)).ParamName);
        var decider = new PolicyDecider(Scheme, Jurisdictions);
        Assert.Equal("request", Assert.Throws<ArgumentNullException>(() => decider.Decide(null!)).ParamName);
        var noCandidates = new PolicyRequest { UserClearance = B("SECRET"), RequestLabel = B("UNCLASSIFIED"), ModelLabel = B("SECRET"), Candidates = null! };
        Assert.Equal("request.Candidates", Assert.Throws<ArgumentNullException>(() => decider.Decide(noCandidates)).ParamName);
    }

    [Fact]
    public void ClearanceDenial_WithAnAccreditedBackend_RoutesNowhere_AndGivesTheOneReason()
    {
        PolicyDecision d = new PolicyDecider(Scheme, Jurisdictions).Decide(new PolicyRequest
        {
            UserClearance = B("UNCLASSIFIED"),
            RequestLabel = B("SECRET//NOFORN"),
            ModelLabel = B("TOP SECRET//NOFORN"),
            Candidates = [OnPrem],
        });

        Assert.False(d.Allowed);
        Assert.Empty(d.Backends);
        PolicyReason reason = Assert.Single(d.Reasons);
        Assert.Equal(PolicyRules.Clearance, reason.RuleId);
        Assert.Null(reason.BackendId);
        Assert.Equal("denied: your clearance does not dominate the request label SECRET//NOFORN; ask for a clearance covering it or lower the request's classification", reason.Message);
    }

    [Fact]
    public void ModelDenial_WithAnAccreditedBackend_RoutesNowhere_AndGivesTheOneReason()
    {
        PolicyDecision d = new PolicyDecider(Scheme, Jurisdictions).Decide(new PolicyRequest
        {
            UserClearance = B("TOP SECRET//SI/TK//NOFORN"),
            RequestLabel = B("SECRET//NOFORN"),
            ModelLabel = B("UNCLASSIFIED"),
            Candidates = [OnPrem],
        });

        Assert.False(d.Allowed);
        Assert.Empty(d.Backends);
        PolicyReason reason = Assert.Single(d.Reasons);
        Assert.Equal(PolicyRules.ModelLabel, reason.RuleId);
        Assert.Equal("denied: the model is labelled UNCLASSIFIED, which does not dominate the request label SECRET//NOFORN; choose a model imported at or above it", reason.Message);
    }

    [Fact]
    public void ExcludedBackends_AreNamed_AndTheDenialCountsThem()
    {
        var eu = new BackendCandidate("eu-gpu", B("TOP SECRET//SI/TK//NOFORN"), "EU", LeavesEnclave: false);
        var cloud = new BackendCandidate("cloud-api", B("UNCLASSIFIED"), "USA", LeavesEnclave: true);
        PolicyDecision d = new PolicyDecider(Scheme, Jurisdictions).Decide(new PolicyRequest
        {
            UserClearance = B("TOP SECRET//SI/TK//NOFORN"),
            RequestLabel = B("SECRET//NOFORN"),
            ModelLabel = B("TOP SECRET//NOFORN"),
            Candidates = [eu, cloud],
        });

        Assert.False(d.Allowed);
        Assert.Equal(
            [
                (PolicyRules.Jurisdiction, "eu-gpu", "backend 'eu-gpu' excluded: jurisdiction 'EU' is not allowed for SECRET data"),
                (PolicyRules.BackendAccreditation, "cloud-api", "backend 'cloud-api' excluded: its accreditation UNCLASSIFIED does not dominate the request label SECRET//NOFORN"),
                (PolicyRules.NoBackend, null, "denied: none of the model's 2 backends may process SECRET//NOFORN data"),
            ],
            d.Reasons.Select(r => (r.RuleId, r.BackendId, r.Message)));
    }

    [Fact]
    public void Refusals_OfAModelWithoutBackends_AndOfUnknownLevels_SayExactlyWhy()
    {
        PolicyDecision d = new PolicyDecider(Scheme, Jurisdictions).Decide(new PolicyRequest
        {
            UserClearance = B("SECRET"),
            RequestLabel = B("UNCLASSIFIED"),
            ModelLabel = B("UNCLASSIFIED"),
            Candidates = [],
        });
        Assert.Equal("denied: the model has no backends", Assert.Single(d.Reasons).Message);

        var e = Assert.Throws<ArgumentException>(() => new JurisdictionPolicy(Scheme, new Dictionary<string, IReadOnlyList<string>> { ["CONFIDENTIAL"] = ["USA"], ["RESTRICTED"] = [] }));
        Assert.StartsWith("invalid jurisdiction policy: level 'CONFIDENTIAL' is not in the label scheme; level 'RESTRICTED' is not in the label scheme", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ALabelAboveTheScheme_IsDenied_AndDescribedWithoutFormattingIt()
    {
        var outside = new SecurityLabel(Scheme.Levels.Count + 2, 0, unrestricted: true, 0);
        PolicyDecision d = new PolicyDecider(Scheme, Jurisdictions).Decide(new PolicyRequest
        {
            UserClearance = B("TOP SECRET//SI/TK//NOFORN"),
            RequestLabel = outside,
            ModelLabel = B("TOP SECRET//NOFORN"),
            Candidates = [OnPrem],
        });

        Assert.False(d.Allowed);
        Assert.Empty(d.Backends);
        var levels = Scheme.Levels.Count + 2;
        Assert.Contains(d.Reasons, r => r.RuleId == PolicyRules.Clearance && r.Message.Contains($"(label outside the scheme, level {levels})", StringComparison.Ordinal));
        Assert.Contains(d.Reasons, r => r.RuleId == PolicyRules.Jurisdiction
            && r.Message == $"backend 'onprem-gpu' excluded: jurisdiction 'USA' is not allowed for {Scheme.Levels[^1].Name} data");
    }

    [Fact]
    public void JurisdictionTable_OutsideItsLevels_AllowsNothing()
    {
        Assert.Equal(["GBR", "USA"], Jurisdictions.AllowedAt(0).Order(StringComparer.Ordinal));
        Assert.Empty(Jurisdictions.AllowedAt(1)); // CUI: no entry, fail closed
        Assert.Empty(Jurisdictions.AllowedAt(-1));
        Assert.Empty(Jurisdictions.AllowedAt(Scheme.Levels.Count));
        Assert.Equal(["USA"], Jurisdictions.AllowedAt(Scheme.Levels.Count - 1));
        Assert.True(Jurisdictions.IsAllowed(new SecurityLabel(Scheme.Levels.Count - 1, 0, true, 0), "USA"));
        Assert.False(Jurisdictions.IsAllowed(new SecurityLabel(Scheme.Levels.Count, 0, true, 0), "USA"));
        Assert.Equal("scheme", Assert.Throws<ArgumentNullException>(() => new JurisdictionPolicy(null!, new Dictionary<string, IReadOnlyList<string>>())).ParamName);
        Assert.Equal("allowedByLevel", Assert.Throws<ArgumentNullException>(() => new JurisdictionPolicy(Scheme, null!)).ParamName);
    }

    [Fact]
    public void SecurityLabel_RefusesANegativeLevel_AndDropsTheCodesOfAnUnrestrictedLabel()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SecurityLabel(-1, 0, unrestricted: true, 0));
        var unrestricted = new SecurityLabel(1, 0b10, unrestricted: true, 0b101);
        Assert.Equal(0UL, unrestricted.ReleasabilityMask);
        Assert.Equal(0b10UL, unrestricted.CompartmentMask);
        Assert.Equal(1, unrestricted.Level);
        Assert.Equal(0b101UL, new SecurityLabel(1, 0, unrestricted: false, 0b101).ReleasabilityMask);
        Assert.Equal(new SecurityLabel(1, 0b10, unrestricted: true, 0), unrestricted);
    }
}
