using Enclave.Intel.Sigma;
using static Enclave.Intel.Tests.Sigma.SigmaTestSupport;

namespace Enclave.Intel.Tests.Sigma;

/// <summary>Selections, value modifiers, wildcards and conditions, each against events that must and must not match.</summary>
public sealed class SigmaDetectionTests
{
    private static bool Hit(string detection, params (string, string?)[] fields) => Rule(Detection(detection)).Matches(Event(fields));

    [Fact]
    public void MapIsAnd_ListIsOr_CaseInsensitiveByDefault()
    {
        const string d = "    sel:\n        a: x\n        b:\n            - one\n            - TWO\n    condition: sel";
        Assert.True(Hit(d, ("a", "X"), ("b", "two")));
        Assert.False(Hit(d, ("a", "x"), ("b", "three")));
        Assert.False(Hit(d, ("b", "one")));
    }

    [Fact]
    public void Wildcards_MatchAnyAndOne_AndEscapedWildcardsAreLiteral()
    {
        Assert.True(Hit("    sel:\n        a: 'ad*n?'\n    condition: sel", ("a", "administratorn1")));
        Assert.False(Hit("    sel:\n        a: 'ad*n?'\n    condition: sel", ("a", "adminxx")));
        Assert.True(Hit("    sel:\n        a: 'star\\*'\n    condition: sel", ("a", "star*")));
        Assert.False(Hit("    sel:\n        a: 'star\\*'\n    condition: sel", ("a", "stars")));
        Assert.True(Hit("    sel:\n        a: 'C:\\Windows\\\\*'\n    condition: sel", ("a", @"c:\windows\system32")));
    }

    [Fact]
    public void ContainsStartsEndsAll_Modifiers()
    {
        Assert.True(Hit("    sel:\n        a|contains: mid\n    condition: sel", ("a", "xxMIDyy")));
        Assert.True(Hit("    sel:\n        a|startswith: pre\n    condition: sel", ("a", "prefix")));
        Assert.False(Hit("    sel:\n        a|startswith: pre\n    condition: sel", ("a", "xprefix")));
        Assert.True(Hit("    sel:\n        a|endswith: .exe\n    condition: sel", ("a", "cmd.EXE")));
        const string all = "    sel:\n        a|contains|all:\n            - one\n            - two\n    condition: sel";
        Assert.True(Hit(all, ("a", "two and one")));
        Assert.False(Hit(all, ("a", "only one")));
    }

    [Fact]
    public void Cased_MakesMatchingCaseSensitive()
    {
        Assert.True(Hit("    sel:\n        a|cased: Admin\n    condition: sel", ("a", "Admin")));
        Assert.False(Hit("    sel:\n        a|cased: Admin\n    condition: sel", ("a", "admin")));
    }

    [Fact]
    public void NullMatchesAbsentOrNullField_ExistsChecksPresence()
    {
        Assert.True(Hit("    sel:\n        a: null\n    condition: sel", ("b", "x")));
        Assert.True(Hit("    sel:\n        a: null\n    condition: sel", ("a", null)));
        Assert.False(Hit("    sel:\n        a: null\n    condition: sel", ("a", "x")));
        Assert.True(Hit("    sel:\n        a|exists: true\n    condition: sel", ("a", null)));
        Assert.False(Hit("    sel:\n        a|exists: true\n    condition: sel", ("b", "x")));
        Assert.True(Hit("    sel:\n        a|exists: false\n    condition: sel", ("b", "x")));
    }

    [Fact]
    public void Regex_WithSubModifiers()
    {
        Assert.True(Hit("    sel:\n        a|re: '^ab+c$'\n    condition: sel", ("a", "abbbc")));
        Assert.False(Hit("    sel:\n        a|re: '^ab+c$'\n    condition: sel", ("a", "ABBBC")));
        Assert.True(Hit("    sel:\n        a|re|i: '^ab+c$'\n    condition: sel", ("a", "ABBBC")));
    }

    [Fact]
    public void NumbersCompareAsNumbers_LtGtNeq()
    {
        Assert.True(Hit("    sel:\n        status: 403\n    condition: sel", ("status", "403")));
        Assert.True(Hit("    sel:\n        n|gt: 10\n    condition: sel", ("n", "10.5")));
        Assert.False(Hit("    sel:\n        n|gt: 10\n    condition: sel", ("n", "10")));
        Assert.True(Hit("    sel:\n        n|lte: 10\n    condition: sel", ("n", "10")));
        Assert.False(Hit("    sel:\n        n|lt: 10\n    condition: sel", ("n", "abc")));
        Assert.True(Hit("    sel:\n        a|neq: x\n    condition: sel", ("a", "y")));
        Assert.False(Hit("    sel:\n        a|neq: x\n    condition: sel", ("a", "X")));
    }

    [Fact]
    public void Cidr_Fieldref_Windash_Base64_TimeParts()
    {
        Assert.True(Hit("    sel:\n        ip|cidr: 10.0.0.0/8\n    condition: sel", ("ip", "10.1.2.3")));
        Assert.False(Hit("    sel:\n        ip|cidr: 10.0.0.0/8\n    condition: sel", ("ip", "11.1.2.3")));
        Assert.True(Hit("    sel:\n        a|fieldref: b\n    condition: sel", ("a", "same"), ("b", "SAME")));
        Assert.False(Hit("    sel:\n        a|fieldref: b\n    condition: sel", ("a", "same"), ("b", "other")));
        Assert.True(Hit("    sel:\n        cmd|windash|contains: ' -enc '\n    condition: sel", ("cmd", "powershell /enc AAA")));
        Assert.True(Hit("    sel:\n        cmd|windash|contains: ' -enc '\n    condition: sel", ("cmd", "powershell \u2013enc AAA".Replace("\u2013", " \u2013", StringComparison.Ordinal))));
        Assert.True(Hit("    sel:\n        a|base64: 'hello'\n    condition: sel", ("a", "aGVsbG8=")));
        Assert.True(Hit("    sel:\n        a|wide|base64offset|contains: 'ping'\n    condition: sel", ("a", Convert.ToBase64String(System.Text.Encoding.Unicode.GetBytes("x ping y")))));
        Assert.True(Hit("    sel:\n        t|hour: 9\n    condition: sel", ("t", "2026-03-01T09:15:00Z")));
        Assert.False(Hit("    sel:\n        t|hour: 9\n    condition: sel", ("t", "2026-03-01T10:15:00Z")));
    }

    [Fact]
    public void Keywords_SearchEveryField_AndAllKeywordsNeedEach()
    {
        Assert.True(Hit("    keywords:\n        - 'jndi:'\n        - other\n    condition: keywords", ("x", "${JNDI:ldap}")));
        Assert.False(Hit("    keywords:\n        - 'jndi:'\n    condition: keywords", ("x", "plain")));
        const string all = "    keywords:\n        '|all':\n            - pkexec\n            - XAUTHORITY\n    condition: keywords";
        Assert.True(Hit(all, ("m", "pkexec said"), ("n", "XAUTHORITY bad")));
        Assert.False(Hit(all, ("m", "pkexec said")));
    }

    [Theory]
    [InlineData("sel1 and not filter", true, false)]
    [InlineData("1 of sel*", true, true)]
    [InlineData("all of sel*", false, false)]
    [InlineData("1 of them", true, true)]
    [InlineData("(sel1 or sel2) and not filter", true, false)]
    [InlineData("not (sel1 or sel2)", false, false)]
    public void Conditions_CombineSearchIdentifiers(string condition, bool onlySel1, bool sel2AndFilter)
    {
        var rule = Rule(Detection($"    sel1:\n        a: 1\n    sel2:\n        b: 2\n    filter:\n        c: 3\n    _hidden:\n        d: 4\n    condition: {condition}"));
        Assert.Equal(onlySel1, rule.Matches(Event(("a", "1"))));
        Assert.Equal(sel2AndFilter, rule.Matches(Event(("b", "2"), ("c", "3"))));
    }

    [Fact]
    public void AllOfThem_SkipsUnderscoreIdentifiers()
    {
        var rule = Rule(Detection("    sel1:\n        a: 1\n    _hidden:\n        d: 4\n    condition: all of them"));
        Assert.True(rule.Matches(Event(("a", "1"))));
    }

    [Theory]
    [InlineData("sel and", SigmaRejection.InvalidCondition)]
    [InlineData("sel and missing", SigmaRejection.InvalidCondition)]
    [InlineData("(sel", SigmaRejection.InvalidCondition)]
    [InlineData("1 of nothing*", SigmaRejection.InvalidCondition)]
    [InlineData("sel | count() > 5", SigmaRejection.Unsupported)]
    public void BadOrUnsupportedConditions_AreListedWithTheirReason(string condition, SigmaRejection reason)
    {
        var set = Rules(Detection($"    sel:\n        a: 1\n    condition: {condition}"));
        Assert.Empty(set.Rules);
        Assert.Equal(reason, Assert.Single(set.Skipped).Reason);
    }

    [Theory]
    [InlineData("a|nosuch: x", SigmaRejection.InvalidModifier)]
    [InlineData("a|expand: '%servers%'", SigmaRejection.Unsupported)]
    [InlineData("a|re: '(a)\\1'", SigmaRejection.Unsupported)]
    [InlineData("a|re: '(unclosed'", SigmaRejection.InvalidRegex)]
    [InlineData("a|cidr: not-an-ip", SigmaRejection.InvalidModifier)]
    [InlineData("a|gt: many", SigmaRejection.InvalidModifier)]
    [InlineData("a|utf16le: x", SigmaRejection.Unsupported)]
    public void UnevaluableModifiers_AreListedWithTheirReason_NeverDropped(string item, SigmaRejection reason)
    {
        var set = Rules(Detection($"    sel:\n        {item}\n    condition: sel"));
        Assert.Empty(set.Rules);
        var skipped = Assert.Single(set.Skipped);
        Assert.Equal(reason, skipped.Reason);
        Assert.Equal("r1", skipped.Id);
    }

    [Fact]
    public void MissingMandatoryFields_AreListed()
    {
        var set = Rules("title: t\nlogsource:\n    product: x\n", "title: t\ndetection:\n    sel:\n        a: 1\n    condition: sel\n", "logsource:\n    product: x\ndetection:\n    sel:\n        a: 1\n    condition: sel\n");
        Assert.Empty(set.Rules);
        Assert.All(set.Skipped, s => Assert.Equal(SigmaRejection.MissingField, s.Reason));
        Assert.Equal(3, set.Skipped.Count);
    }

    [Fact]
    public void MetaFilter_SuppressesTheNamedRule_OnlyForItsLogSource()
    {
        var filter = File.ReadAllText(SharedTestData.Intel("sigma/specification/example-filter_1.yml"));
        const string Target = "title: rar\nid: 6f3e2987-db24-4c78-a860-b4f4095a7095\nlogsource:\n    category: process_creation\n    product: windows\ndetection:\n    sel:\n        Image|endswith: '\\rar.exe'\n    condition: sel\n";
        var set = Rules(Target, filter);
        Assert.Empty(set.Skipped);
        Assert.Single(set.Filters);
        var rule = Assert.Single(set.Rules);
        var source = new SigmaLogSource { Product = "windows", Category = "process_creation" };
        SigmaEvent Run(string user) => SigmaEvent.FromFields(T0, source, new Dictionary<string, string?> { ["Image"] = @"C:\tools\rar.exe", ["User"] = user });
        Assert.True(rule.Matches(Run("bob")));
        Assert.False(rule.Matches(Run("adm_bob")));
    }

    [Fact]
    public void Expand_UsesConfiguredPlaceholderValues()
    {
        var options = new SigmaReaderOptions { Placeholders = new Dictionary<string, IReadOnlyList<string>> { ["admins"] = ["user:root", "user:admin"] } };
        var set = SigmaRuleSet.Load([("r.yml", System.Text.Encoding.UTF8.GetBytes(Detection("    sel:\n        actor|expand: '%admins%'\n    condition: sel")))], options);
        var rule = Assert.Single(set.Rules);
        Assert.True(rule.Matches(Event(("actor", "user:admin"))));
        Assert.False(rule.Matches(Event(("actor", "user:bob"))));
    }
}
