using Enclave.Policy.Decisions;
using Enclave.Policy.Labels;
using FsCheck.Xunit;

namespace Enclave.Policy.Tests;

public sealed class PolicyDeciderTests
{
    private static readonly LabelScheme Scheme = LabelScheme.Default;
    private static readonly string[] Jurisdictions = ["USA", "GBR", "EU", "CHN"];

    private static JurisdictionPolicy Policy(LabelScheme scheme) => new(scheme, new Dictionary<string, IReadOnlyList<string>>
    {
        ["UNCLASSIFIED"] = ["USA", "GBR", "EU"],
        ["CUI"] = ["USA", "GBR"],
        ["SECRET"] = ["USA"],
        ["TOP SECRET"] = ["USA"],
    });

    private static SecurityLabel B(string banner) => Scheme.ParseBanner(banner);

    private static PolicyDecider Decider() => new(Scheme, Policy(Scheme));

    private static readonly BackendCandidate OnPrem = new("onprem-gpu", B("TOP SECRET//SI/TK//NOFORN"), "USA", LeavesEnclave: false);
    private static readonly BackendCandidate Cloud = new("cloud-api", B("UNCLASSIFIED"), "USA", LeavesEnclave: true);

    [Fact]
    public void SecretRequest_IsRoutedOnlyToTheAccreditedBackend()
    {
        PolicyDecision d = Decider().Decide(new PolicyRequest
        {
            UserClearance = B("TOP SECRET//SI//NOFORN"),
            RequestLabel = B("SECRET//NOFORN"),
            ModelLabel = B("TOP SECRET//NOFORN"),
            Candidates = [Cloud, OnPrem],
        });

        Assert.True(d.Allowed);
        Assert.Equal([OnPrem], d.Backends);
        PolicyReason r = Assert.Single(d.Reasons);
        Assert.Equal(PolicyRules.BackendAccreditation, r.RuleId);
        Assert.Equal("cloud-api", r.BackendId);
        Assert.Contains("UNCLASSIFIED", r.Message, StringComparison.Ordinal);
        Assert.Contains("SECRET//NOFORN", r.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnclassifiedRequest_MayUseBoth_InTheGivenOrder()
    {
        PolicyDecision d = Decider().Decide(new PolicyRequest
        {
            UserClearance = B("SECRET//NOFORN"),
            RequestLabel = B("UNCLASSIFIED"),
            ModelLabel = B("UNCLASSIFIED"),
            Candidates = [Cloud, OnPrem],
        });
        Assert.True(d.Allowed);
        Assert.Equal([Cloud, OnPrem], d.Backends);
        Assert.Empty(d.Reasons);
    }

    [Fact]
    public void Denial_ReportsEveryReason()
    {
        PolicyDecision d = Decider().Decide(new PolicyRequest
        {
            UserClearance = B("CUI"),
            RequestLabel = B("SECRET"),
            ModelLabel = B("UNCLASSIFIED"),
            Candidates = [Cloud, new BackendCandidate("eu-gpu", B("TOP SECRET"), "EU", LeavesEnclave: false)],
        });

        Assert.False(d.Allowed);
        Assert.Empty(d.Backends);
        Assert.Equal(
            [PolicyRules.Clearance, PolicyRules.ModelLabel, PolicyRules.BackendAccreditation, PolicyRules.Jurisdiction, PolicyRules.NoBackend],
            d.Reasons.Select(r => r.RuleId));
        Assert.Contains("jurisdiction 'EU' is not allowed for SECRET data", d.Reasons[3].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ClearanceWithoutTheCaveat_CannotReadNofornData()
    {
        PolicyDecision d = Decider().Decide(new PolicyRequest
        {
            UserClearance = B("TOP SECRET//REL TO USA, GBR"),
            RequestLabel = B("SECRET//NOFORN"),
            ModelLabel = B("TOP SECRET//NOFORN"),
            Candidates = [OnPrem],
        });
        Assert.False(d.Allowed);
        Assert.Equal(PolicyRules.Clearance, d.Reasons[0].RuleId);
    }

    [Fact]
    public void NoCandidates_IsDenied_WithAReason()
    {
        PolicyDecision d = Decider().Decide(new PolicyRequest
        {
            UserClearance = B("SECRET"),
            RequestLabel = B("UNCLASSIFIED"),
            ModelLabel = B("UNCLASSIFIED"),
            Candidates = [],
        });
        Assert.False(d.Allowed);
        Assert.Equal(PolicyRules.NoBackend, Assert.Single(d.Reasons).RuleId);
    }

    [Fact]
    public void LevelWithoutJurisdictions_AllowsNone()
    {
        var partial = new JurisdictionPolicy(Scheme, new Dictionary<string, IReadOnlyList<string>> { ["UNCLASSIFIED"] = ["USA"] });
        Assert.False(partial.IsAllowed(B("CUI"), "USA"));
        Assert.True(partial.IsAllowed(B("UNCLASSIFIED"), "USA"));
        var e = Assert.Throws<ArgumentException>(() => new JurisdictionPolicy(Scheme, new Dictionary<string, IReadOnlyList<string>> { ["CONFIDENTIAL"] = ["USA"], ["RESTRICTED"] = [] }));
        Assert.Contains("CONFIDENTIAL", e.Message, StringComparison.Ordinal);
        Assert.Contains("RESTRICTED", e.Message, StringComparison.Ordinal);
    }

    [Property(MaxTest = 1000)]
    public bool NoAllowedRoute_EverIncludesABackendNotDominatingTheRequest(
        byte rl, byte rc, byte rr, bool ru, byte ul, byte uc, byte ur, bool uu, byte ml, byte mc, byte mr, bool mu, byte[] backendBytes)
    {
        var scheme = TestSchemes.Small;
        var decider = new PolicyDecider(scheme, Policy(scheme));
        SecurityLabel request = TestSchemes.Label(rl, rc, rr, ru);
        var candidates = new List<BackendCandidate>();
        for (int i = 0; backendBytes is not null && i + 4 < backendBytes.Length && candidates.Count < 8; i += 5)
        {
            candidates.Add(new BackendCandidate(
                $"b{i}",
                TestSchemes.Label(backendBytes[i], backendBytes[i + 1], backendBytes[i + 2], (backendBytes[i + 3] & 1) == 1),
                Jurisdictions[backendBytes[i + 4] % Jurisdictions.Length],
                LeavesEnclave: (backendBytes[i + 3] & 2) == 2));
        }

        var req = new PolicyRequest
        {
            UserClearance = TestSchemes.Label(ul, uc, ur, uu),
            RequestLabel = request,
            ModelLabel = TestSchemes.Label(ml, mc, mr, mu),
            Candidates = candidates,
        };
        PolicyDecision d = decider.Decide(req);
        var policy = Policy(scheme);

        bool sound = d.Backends.All(b => b.Accreditation.Dominates(request) && policy.IsAllowed(request, b.Jurisdiction));
        bool allowedOnlyWhenCleared = !d.Allowed || (req.UserClearance.Dominates(request) && req.ModelLabel.Dominates(request) && d.Backends.Count > 0);
        bool deniedHasNoRoute = d.Allowed || d.Backends.Count == 0;
        bool reasonsWhenDenied = d.Allowed || d.Reasons.Count > 0;
        bool complete = !d.Allowed || d.Backends.SequenceEqual(candidates.Where(b => b.Accreditation.Dominates(request) && policy.IsAllowed(request, b.Jurisdiction)));
        return sound && allowedOnlyWhenCleared && deniedHasNoRoute && reasonsWhenDenied && complete;
    }
}
