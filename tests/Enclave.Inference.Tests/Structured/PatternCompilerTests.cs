using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Enclave.Inference.Structured;

namespace Enclave.Inference.Tests.Structured;

/// <summary>
/// The pattern automaton accepts exactly what .NET's ECMAScript-mode regular expressions match (an independent
/// engine), over patterns of the supported subset and strings around their edges; and the compiled grammar reads
/// known documents right.
/// </summary>
public sealed class PatternCompilerTests
{
    public static TheoryData<string> Patterns() =>
    [
        "^[A-Z]{3}-[0-9]{2,4}$",
        "ab+c",
        "^(yes|no|maybe)$",
        "^(0x)?[0-9a-fA-F]+$",
        "^a|b$",
        "^\\d{3}\\.\\d?$",
        "^[^aeiou\\s]*$",
        "x(?:ab)*y",
        "^(?<word>\\w+)-\\W?$",
        "^[\\]a-c-]+$",
        "^a{2,}b{0,1}c{1}$",
        "^.{2,3}$",
        "^\\u0041\\x42[\\t ]*$",
        "^(a|ab)(c|bcd)(d*)$",
        "",
        "^$",
    ];

    private static readonly string[] Samples =
    [
        "", "a", "b", "ab", "abc", "abbbc", "xabc", "ABC-12", "ABC-1234", "ABC-12345", "AB-12", "yes", "no", "maybe", "yess",
        "0x1F", "1f", "0x", "g", "123.", "123.4", "12.3", "bcd fgh", "bcdfgh", "xy", "xaby", "xababy", "xaby!", "foo_1-", "foo-!",
        "]]a-c", "aab", "aaac", "aabc", "ac", "abc ", "AB\t \t", "AB", "abcd", "abcdd", "abd", "zz", "zzz", "zzzz",
    ];

    [Theory]
    [MemberData(nameof(Patterns))]
    public void Automaton_AcceptsExactlyWhatAnEcmaScriptRegexMatches(string pattern)
    {
        var dfa = PatternCompiler.Compile(pattern, CharUniverse.Bmp);
        var reference = new Regex(pattern.Replace("(?<word>", "(?<word>", StringComparison.Ordinal), RegexOptions.ECMAScript);
        foreach (var sample in Samples)
        {
            Assert.True(reference.IsMatch(sample) == Accepts(dfa, sample), $"pattern {pattern} on '{sample}': regex {reference.IsMatch(sample)}");
        }
    }

    [Theory]
    [InlineData("""{"type":"object","properties":{"a":{"type":"integer","minimum":2},"b":{"type":"string","pattern":"^x+$"}},"required":["a"],"additionalProperties":false}""", """{"a":2,"b":"xx"}""", true)]
    [InlineData("""{"type":"object","properties":{"a":{"type":"integer","minimum":2},"b":{"type":"string","pattern":"^x+$"}},"required":["a"],"additionalProperties":false}""", """{"a":2}""", true)]
    [InlineData("""{"type":"object","properties":{"a":{"type":"integer","minimum":2},"b":{"type":"string","pattern":"^x+$"}},"required":["a"],"additionalProperties":false}""", """{"a":1}""", false)]
    [InlineData("""{"type":"object","properties":{"a":{"type":"integer","minimum":2},"b":{"type":"string","pattern":"^x+$"}},"required":["a"],"additionalProperties":false}""", """{"b":"x","a":2}""", false)]
    [InlineData("""{"type":"object","properties":{"a":{"type":"integer","minimum":2},"b":{"type":"string","pattern":"^x+$"}},"required":["a"],"additionalProperties":false}""", """{"a":2,"b":"xy"}""", false)]
    [InlineData("""{"type":"object","properties":{"a":{"type":"integer","minimum":2}},"required":["a"],"additionalProperties":false}""", """{"a":2,"c":1}""", false)]
    [InlineData("""{"type":"object","properties":{"a":{"type":"integer"}},"additionalProperties":{"type":"boolean"}}""", """{"z":true,"a":-3,"y":false}""", true)]
    [InlineData("""{"type":"object","properties":{"a":{"type":"integer"}},"additionalProperties":{"type":"boolean"}}""", """{"z":true,"z":false}""", false)]
    [InlineData("""{"type":"array","items":{"type":"number","exclusiveMaximum":1.5},"maxItems":2}""", """[1.4999,-0.5]""", true)]
    [InlineData("""{"type":"array","items":{"type":"number","exclusiveMaximum":1.5},"maxItems":2}""", """[1.5]""", false)]
    [InlineData("""{"type":"array","items":{"type":"number","exclusiveMaximum":1.5},"maxItems":2}""", """[1,1,1]""", false)]
    [InlineData("""{"type":"string","minLength":2,"maxLength":3}""", "\"h\\u00e9\"", false)]
    [InlineData("""{"type":"string","minLength":2,"maxLength":3}""", "\"hé\"", true)]
    [InlineData("""{"type":"string","minLength":2,"maxLength":3}""", "\"h\\n\"", true)]
    [InlineData("""{"type":"string","minLength":2,"maxLength":3}""", "\"hééé\"", false)]
    [InlineData("""{"$defs":{"n":{"type":"array","items":{"$ref":"#/$defs/n"}}},"$ref":"#/$defs/n"}""", "[[],[[]]]", true)]
    [InlineData("""{"$defs":{"n":{"type":"array","items":{"$ref":"#/$defs/n"}}},"$ref":"#/$defs/n"}""", "[[],[[]]", false)]
    [InlineData("""{"type":"string","format":"date"}""", "\"2024-02-29\"", true)]
    [InlineData("""{"type":"string","format":"date"}""", "\"2023-02-29\"", false)]
    [InlineData("""{"type":"string","format":"date"}""", "\"2100-02-29\"", false)]
    [InlineData("""{"type":"string","format":"date"}""", "\"2000-02-29\"", true)]
    [InlineData("""{"type":"string","format":"date"}""", "\"2023-04-31\"", false)]
    [InlineData("""{"type":"integer"}""", "007", false)]
    [InlineData("""{"type":"integer"}""", "-0", true)]
    [InlineData("""{"type":"integer"}""", " 1", false)]
    [InlineData("""{"enum":[1,12,"x"]}""", "12", true)]
    [InlineData("""{"enum":[1,12,"x"]}""", "2", false)]
    public void Grammar_ReadsKnownDocuments(string schema, string document, bool valid)
    {
        var grammar = ResponseFormat.Compile(JsonNode.Parse(schema)!);
        var state = grammar.Start().Advance(System.Text.Encoding.UTF8.GetBytes(document));
        Assert.Equal(valid, !state.IsDead && state.CanEnd);
    }

    private static bool Accepts(CodePointDfa dfa, string text)
    {
        var state = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            state = dfa.Step(state, rune.Value);
            if (state < 0)
            {
                return false;
            }
        }

        return dfa.Accepting[state];
    }
}
