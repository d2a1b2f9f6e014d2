using System.Security.Claims;
using System.Text.Json.Nodes;
using Enclave.Policy.Configuration;
using Enclave.Policy.Decisions;
using Enclave.Policy.Identity;
using Enclave.Policy.Requests;
using Enclave.Server.Hosting;
using Enclave.Server.Policy;
using Microsoft.Extensions.Configuration;

namespace Enclave.Policy.Tests;

/// <summary>The server's policy glue: configuration, request bodies as clients send them, redaction, bounds.</summary>
public sealed class EnclavePolicyTests
{
    private static readonly Dictionary<string, string?> Jurisdictions = new()
    {
        ["Policy:Jurisdictions:UNCLASSIFIED:0"] = "local",
        ["Policy:Jurisdictions:UNCLASSIFIED:1"] = "US",
        ["Policy:Jurisdictions:SECRET:0"] = "local",
    };

    private static ModelRoute Route(string id, string? label, params RouteBackend[] backends) => new()
    {
        Id = id,
        Kind = "chat",
        BackendName = "upstream",
        Label = label,
        Backends = backends,
        SelectBackend = _ => throw new InvalidOperationException("not sent in these tests"),
    };

    private static (EnclavePolicy Policy, ModelCatalog Catalog) Build(Dictionary<string, string?>? extra = null, params ModelRoute[] routes)
    {
        var settings = new Dictionary<string, string?>(Jurisdictions);
        foreach (var (k, v) in extra ?? [])
        {
            settings[k] = v;
        }

        var catalog = new ModelCatalog(routes);
        return (EnclavePolicy.Create(new ConfigurationBuilder().AddInMemoryCollection(settings).Build(), catalog), catalog);
    }

    private static ClaimsPrincipal User(string? clearance) => new(new ClaimsIdentity(
        clearance is null ? [new Claim(ClaimTypes.NameIdentifier, "user:t")] : [new Claim(ClaimTypes.NameIdentifier, "user:t"), new Claim(EnclaveClaims.Clearance, clearance)],
        "test"));

    private static JsonObject Body(JsonNode content) =>
        new() { ["model"] = "m", ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = content }) };

    [Fact]
    public void InvalidConfiguration_ReportsEveryProblemAtOnce()
    {
        var ex = Assert.Throws<PolicyConfigurationException>(() => Build(
            new()
            {
                ["Policy:DefaultRequestLabel"] = "SEKRET",
                ["Policy:Jurisdictions:PUBLIC:0"] = "local",
                ["Policy:Egress:Routes:nobody"] = "Redact",
            },
            Route("m", "SECRET//BOGUS", new RouteBackend("b", "TOP SECRET//XX", "local", false))));

        Assert.Equal(5, ex.Problems.Count);
        Assert.Contains(ex.Problems, p => p.StartsWith("Policy:DefaultRequestLabel", StringComparison.Ordinal));
        Assert.Contains(ex.Problems, p => p.StartsWith("Policy:Jurisdictions", StringComparison.Ordinal) && p.Contains("PUBLIC", StringComparison.Ordinal));
        Assert.Contains(ex.Problems, p => p.StartsWith("model 'm' label", StringComparison.Ordinal));
        Assert.Contains(ex.Problems, p => p.StartsWith("backend 'b' accreditation", StringComparison.Ordinal));
        Assert.Contains(ex.Problems, p => p.Contains("nobody", StringComparison.Ordinal));
    }

    [Fact]
    public void MarkingInAContentPart_LabelsTheRequest()
    {
        var (policy, catalog) = Build(null, Route("m", "SECRET//NOFORN", new RouteBackend("in", "SECRET//NOFORN", "local", false), new RouteBackend("out", "UNCLASSIFIED", "US", true)));
        catalog.TryResolve("m", out var route);
        var parts = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = "first part" }, new JsonObject { ["type"] = "text", ["text"] = "(S//NF) second part" });

        var outcome = policy.Evaluate(User("SECRET//NOFORN"), null, Body(parts), route);

        Assert.True(outcome.Allowed);
        Assert.Equal("SECRET//NOFORN", policy.Scheme.FormatBanner(outcome.RequestLabel!.Label));
        Assert.Equal(["in"], outcome.Backends);
    }

    [Fact]
    public void Redaction_ReplacesOnlyTheFindings_InTheCopySentOut_AndLeavesTheClientBodyIntact()
    {
        var (policy, catalog) = Build(new() { ["Policy:Egress:Routes:out"] = "Redact" }, Route("m", null, new RouteBackend("in", "UNCLASSIFIED", "local", false), new RouteBackend("out", "UNCLASSIFIED", "US", true)));
        catalog.TryResolve("m", out var route);
        var body = Body(new JsonArray(
            new JsonObject { ["type"] = "text", ["text"] = "mail bob@example.org please" },
            new JsonObject { ["type"] = "text", ["text"] = "nothing here" }));
        var original = body.ToJsonString();

        var outcome = policy.Evaluate(User(null), null, body, route);
        var selection = outcome.Selection();
        var sent = selection.BodyFor("out", body);

        Assert.True(outcome.Allowed);
        Assert.Equal(original, body.ToJsonString());
        Assert.Same(body, selection.BodyFor("in", body));
        Assert.Equal("mail [REDACTED:pii.email] please", sent["messages"]![0]!["content"]![0]!["text"]!.GetValue<string>());
        Assert.Equal("nothing here", sent["messages"]![0]!["content"]![1]!["text"]!.GetValue<string>());
        Assert.Equal("m", sent["model"]!.GetValue<string>());
        var finding = Assert.Single(outcome.Egress).Findings.Single();
        Assert.Equal(("pii.email", "messages[0].content[0].text", 5), (finding.Rule, finding.Path, finding.Start));
    }

    [Fact]
    public void BlockedEgress_ExcludesOnlyTheLeavingBackend_WhenAnInternalOneRemains()
    {
        var (policy, catalog) = Build(null, Route("m", null, new RouteBackend("in", "UNCLASSIFIED", "local", false), new RouteBackend("out", "UNCLASSIFIED", "US", true)));
        catalog.TryResolve("m", out var route);

        var outcome = policy.Evaluate(User(null), null, Body("token: ghp_" + new string('a', 18) + new string('7', 18)), route);

        Assert.True(outcome.Allowed);
        Assert.Equal(["in"], outcome.Backends);
        Assert.False(outcome.Selection().IsAllowed("out"));
        Assert.Throws<InvalidOperationException>(() => outcome.Selection().BodyFor("out", new JsonObject()));
        Assert.Contains(outcome.Reasons, r => r.RuleId == "secret.github-token" && r.BackendId == "out");
    }

    [Fact]
    public void MoreStringsThanTheScanBound_LabelsTheRequestAtTheTop_AndDenies()
    {
        var (policy, catalog) = Build(null, Route("m", "SECRET", new RouteBackend("in", "SECRET", "local", false)));
        catalog.TryResolve("m", out var route);
        var many = new JsonArray([.. Enumerable.Range(0, 1100).Select(i => (JsonNode)new JsonObject { ["type"] = "text", ["text"] = "x" })]);

        var outcome = policy.Evaluate(User("TOP SECRET//SI/TK/HCS/G//NOFORN"), null, Body(many), route);

        Assert.False(outcome.Allowed);
        Assert.Equal(Enclave.Policy.Labels.LabelSource.Escalated, outcome.RequestLabel!.Source);
        Assert.Equal(PolicyRules.Clearance, outcome.Rule);
    }

    [Theory]
    [InlineData("SEKRET")]
    [InlineData("SECRET//")]
    [InlineData("")]
    public void MalformedClearanceClaim_IsDenied_NotTreatedAsLowest(string claim)
    {
        var (policy, catalog) = Build(null, Route("m", null, new RouteBackend("in", "UNCLASSIFIED", "local", false)));
        catalog.TryResolve("m", out var route);

        var outcome = policy.Evaluate(User(claim), null, Body("hello"), route);

        Assert.False(outcome.Allowed);
        Assert.Equal(PolicyRules.Clearance, outcome.Rule);
        Assert.Contains("not a valid marking", outcome.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("SECRET//NOFORN//NOFORN")]
    [InlineData("(S)")]
    [InlineData("secret")]
    public void ClassificationHeader_MalformedOrTampered_Is400(string header)
    {
        var (policy, catalog) = Build(null, Route("m", null, new RouteBackend("in", "UNCLASSIFIED", "local", false)));
        catalog.TryResolve("m", out var route);

        var outcome = policy.Evaluate(User(null), header + (header == "(S)" ? "x" : string.Empty), Body("hello"), route);

        Assert.False(outcome.Allowed);
        Assert.Equal(400, outcome.Status);
        Assert.Equal(EnclavePolicy.LabelHeaderRule, outcome.Rule);
    }

    [Fact]
    public void DefaultRequestLabel_AppliesToUnmarkedRequests()
    {
        var (policy, catalog) = Build(new() { ["Policy:DefaultRequestLabel"] = "SECRET" }, Route("m", "SECRET", new RouteBackend("in", "SECRET", "local", false)));
        catalog.TryResolve("m", out var route);

        Assert.False(policy.Evaluate(User(null), null, Body("plain text"), route).Allowed);
        Assert.True(policy.Evaluate(User("SECRET"), null, Body("plain text"), route).Allowed);
    }
}
