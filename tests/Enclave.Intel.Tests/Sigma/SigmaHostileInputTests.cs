using System.Text;
using Enclave.Intel.Sigma;
using static Enclave.Intel.Tests.Sigma.SigmaTestSupport;

namespace Enclave.Intel.Tests.Sigma;

/// <summary>Tampered, truncated, duplicate-key, invalid UTF-8, oversized, alias-bomb and hostile-regex rule files.</summary>
public sealed class SigmaHostileInputTests
{
    private static readonly string Good = Detection("    sel:\n        a: 'x'\n    condition: sel");

    private static SigmaRejectedException Reject(byte[] bytes, SigmaReaderOptions? options = null) =>
        Assert.Throws<SigmaRejectedException>(() => new SigmaRuleReader(options).Read(bytes, "r.yml"));

    [Fact]
    public void ATagYamlCannotName_IsRefusedAsYamlSyntax_NotThrownThrough()
    {
        // Found by fuzz/ (harness sigma): YamlDotNet threw ArgumentException ("Global tags must be valid URIs").
        var ex = Reject(Encoding.UTF8.GetBytes("title: t\nlogsource:\n!!!!!!base]\n  product: x\n"));
        Assert.Equal(SigmaRejection.YamlSyntax, ex.Reason);
    }

    [Fact]
    public void AWildcardValueTooLargeForTheLinearTimeMatcher_IsRefusedAsTooLarge_NotThrownThrough()
    {
        // Found by fuzz/ (harness sigma): RegexOptions.NonBacktracking threw NotSupportedException (automaton nodes
        // over its limit) from a long keyword with a '?' wildcard (keywords match anywhere, case-insensitive).
        // The rule is skipped with its reason; the file's other rules still load.
        var value = new string('t', 7000) + "?" + new string('t', 7000);
        var set = SigmaRuleSet.Load([("r.yml", Encoding.UTF8.GetBytes(Detection($"    sel:\n        - '{value}'\n    condition: sel")))]);
        var skipped = Assert.Single(set.Skipped);
        Assert.Equal(SigmaRejection.TooLarge, skipped.Reason);
        Assert.Contains("14001 characters", skipped.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void DuplicateKey_IsRejected_NamingKeyAndLine()
    {
        var ex = Reject(Encoding.UTF8.GetBytes("title: a\ntitle: b\n"));
        Assert.Equal(SigmaRejection.DuplicateKey, ex.Reason);
        Assert.Contains("'title'", ex.Detail, StringComparison.Ordinal);
        Assert.Contains("line 2", ex.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void InvalidUtf8_IsRejected_WithItsOffset()
    {
        var bytes = Encoding.UTF8.GetBytes(Good);
        bytes[7] = 0xC3;
        bytes[8] = 0x28;
        var ex = Reject(bytes);
        Assert.Equal(SigmaRejection.InvalidUtf8, ex.Reason);
        Assert.Contains("offset 7", ex.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Oversized_IsRejectedBeforeParsing()
    {
        Assert.Equal(SigmaRejection.Oversized, Reject(Encoding.UTF8.GetBytes(Good), new SigmaReaderOptions { MaxFileBytes = 32 }).Reason);
    }

    [Fact]
    public void AliasBomb_IsRefused()
    {
        var bomb = new StringBuilder("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        for (var i = 1; i < 9; i++)
        {
            bomb.Append(CultureInfoInvariant($"{(char)('a' + i)}: &{(char)('a' + i)} [*{(char)('a' + i - 1)},*{(char)('a' + i - 1)},*{(char)('a' + i - 1)},*{(char)('a' + i - 1)}]\n"));
        }

        Assert.Equal(SigmaRejection.AnchorOrAlias, Reject(Encoding.UTF8.GetBytes(bomb.ToString())).Reason);
        Assert.Equal(SigmaRejection.AnchorOrAlias, Reject(Encoding.UTF8.GetBytes("title: *x\n")).Reason);
        Assert.Equal(SigmaRejection.AnchorOrAlias, Reject(Encoding.UTF8.GetBytes("base: &b {a: 1}\nrule:\n    <<: *b\n")).Reason);
        Assert.Equal(SigmaRejection.AnchorOrAlias, Reject(Encoding.UTF8.GetBytes("title: !!binary aGk=\n")).Reason);
    }

    [Fact]
    public void DeepNesting_AndTooManyNodes_AreRejected()
    {
        Assert.Equal(SigmaRejection.TooLarge, Reject(Encoding.UTF8.GetBytes("a: " + new string('[', 100) + new string(']', 100))).Reason);
        Assert.Equal(SigmaRejection.TooLarge, Reject(Encoding.UTF8.GetBytes("a: [" + string.Join(',', Enumerable.Repeat("1", 500)) + "]"), new SigmaReaderOptions { MaxNodes = 100 }).Reason);
    }

    [Fact]
    public void Truncation_AtEveryByte_NeverCrashes_AndNeverYieldsAWrongRule()
    {
        var bytes = Encoding.UTF8.GetBytes(Good);
        for (var cut = 0; cut < bytes.Length; cut++)
        {
            try
            {
                var result = new SigmaRuleReader().Read(bytes.AsSpan(0, cut), "r.yml");
                Assert.All(result.Rules, r => Assert.False(r.Matches(Event(("a", "y")))));
            }
            catch (SigmaRejectedException)
            {
                // a clear rejection is the expected outcome for most cuts
            }
        }

        var unterminated = Encoding.UTF8.GetBytes("title: 'open\ndetection: [");
        Assert.Equal(SigmaRejection.YamlSyntax, Reject(unterminated).Reason);
    }

    [Fact]
    public void FlippedBytes_EverywhereNeverCrash()
    {
        var bytes = Encoding.UTF8.GetBytes(Good);
        for (var i = 0; i < bytes.Length; i++)
        {
            var tampered = (byte[])bytes.Clone();
            tampered[i] ^= 0x55;
            try
            {
                new SigmaRuleReader().Read(tampered, "r.yml");
            }
            catch (SigmaRejectedException)
            {
                // rejected with a reason: fine
            }
        }
    }

    [Fact]
    public void HostileRegex_IsEvaluatedInLinearTime_AndDoesNotMatch()
    {
        var rule = Rule(Detection("    sel:\n        a|re: '^(a+)+$'\n    condition: sel"));
        Assert.False(rule.Matches(Event(("a", new string('a', 100_000) + "!"))));
        Assert.True(rule.Matches(Event(("a", new string('a', 1000)))));
    }

    [Fact]
    public void OverlongRegex_IsRejected()
    {
        var set = SigmaRuleSet.Load([("r.yml", Encoding.UTF8.GetBytes(Detection($"    sel:\n        a|re: '{new string('a', 5000)}'\n    condition: sel")))]);
        Assert.Equal(SigmaRejection.InvalidRegex, Assert.Single(set.Skipped).Reason);
    }

    [Fact]
    public void WindashExplosion_IsBounded()
    {
        var set = SigmaRuleSet.Load([("r.yml", Encoding.UTF8.GetBytes(Detection("    sel:\n        a|windash: '-a-b-c-d-e-f-g'\n    condition: sel")))]);
        Assert.Equal(SigmaRejection.TooLarge, Assert.Single(set.Skipped).Reason);
    }

    private static string CultureInfoInvariant(FormattableString text) => FormattableString.Invariant(text);

    // fuzz/ (harness sigma): YamlDotNet's scanner threw InvalidOperationException, not a YamlException, for an
    // unclosed flow sequence followed by another key. The first input is the fuzzer's, cut to its cause.
    [Theory]
    [InlineData("title: [gin\nid: fc12\n")]
    [InlineData("a: [b\nc:\n\" x\n")]
    [InlineData("title: [gin\nid: fc12\ncorrelation:\n\"   type: value_count\n    rules:\n    - 5636\n")]
    public void UnclosedFlowSequence_TheScannerCannotRead_IsRejectedAsYamlSyntax(string yaml)
    {
        var ex = Reject(Encoding.UTF8.GetBytes(yaml));
        Assert.Equal(SigmaRejection.YamlSyntax, ex.Reason);
        Assert.Contains("r.yml", ex.Detail, StringComparison.Ordinal);
    }
}
