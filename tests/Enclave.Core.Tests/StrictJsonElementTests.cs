using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Core;

namespace Enclave.Core.Tests;

/// <summary>
/// <see cref="StrictJson.ParseElement"/> (the form the server reads a request body in) refuses exactly what
/// <see cref="StrictJson.Parse"/> refuses, with the same message (a client sees one wording), and what it accepts
/// digests to the same canonical bytes as the node tree.
/// </summary>
public sealed class StrictJsonElementTests
{
    public static TheoryData<string, byte[]> Refused()
    {
        static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);
        var data = new TheoryData<string, byte[]>();
        foreach (var row in StrictJsonParseTests.Malformed)
        {
            data.Add((string)row[0], Utf8((string)row[1]));
        }

        foreach (var bad in new[] { new byte[] { 0xFF }, [0xC3], [0xED, 0xA0, 0x80], [0xC0, 0xAF] })
        {
            foreach (var (prefix, suffix) in new[] { ("{\"model\":\"a", "b\"}"), ("{\"a", "\":1}"), ("{\"x\":[{\"y\":\"", "\"}]}") })
            {
                data.Add($"invalid UTF-8 {Convert.ToHexString(bad)} in {prefix}", [.. Utf8(prefix), .. bad, .. Utf8(suffix)]);
            }
        }

        data.Add("number too large for a double", Utf8("""{"model":"a","temperature":1e400}"""));
        data.Add("negative number too large, nested", Utf8("""{"model":"a","x":[{"y":-1e999}]}"""));
        data.Add("too deep", Utf8("{\"a\":" + new string('[', 70) + new string(']', 70) + "}"));
        data.Add("truncated", Utf8("""{"model":"a","messages":[{"role":"user","""));
        data.Add("not JSON", Utf8("model=a"));
        data.Add("empty", []);
        data.Add("two values", Utf8("""{"a":1} {"b":2}"""));
        return data;
    }

    public static TheoryData<string, byte[]> Accepted()
    {
        var data = new TheoryData<string, byte[]>
        {
            { "escapes, pairs, non-ASCII", Encoding.UTF8.GetBytes("""{"model":"m","a":"\ud83d\ude00 é 中 \"q\" \\ \/ \n\t\u0001","b":[{"a":1},{"a":2.5e3}],"c":null,"d":true,"e":false,"f":-0.0,"g":1E-7,"h":{}}""") },
            { "top-level array", Encoding.UTF8.GetBytes("""[1,"two",{"three":3}]""") },
            { "top-level null", Encoding.UTF8.GetBytes("null") },
            { "member order kept", Encoding.UTF8.GetBytes("""{"z":1,"a":{"y":[],"b":""},"m":"x"}""") },
        };
        return data;
    }

    public static TheoryData<string> CorpusFiles() => [.. Corpus()];

    [Theory]
    [MemberData(nameof(Refused))]
    public void ParseElement_RefusesWhatParseRefuses_WithTheSameMessage(string why, byte[] body)
    {
        var expected = Assert.ThrowsAny<JsonException>(() => StrictJson.Parse(body, maxDepth: 64));
        var actual = Assert.ThrowsAny<JsonException>(() => StrictJson.ParseElement(body, maxDepth: 64));
        Assert.True(expected.Message == actual.Message, $"{why}: Parse said '{expected.Message}', ParseElement said '{actual.Message}'");
    }

    [Theory]
    [MemberData(nameof(Accepted))]
    public void ParseElement_AcceptsWhatParseAccepts_AndDigestsToTheSameCanonicalBytes(string why, byte[] body)
    {
        var node = StrictJson.Parse(body, maxDepth: 64);
        var element = StrictJson.ParseElement(body, maxDepth: 64);
        Assert.True(JsonNode.DeepEquals(node, JsonNode.Parse(element.GetRawText())), why);
        Assert.True(JsonNode.DeepEquals(node, JsonNode.Parse(JsonViews.ElementOf(node).GetRawText())), why);
        Assert.Equal(CanonicalJson.Canonicalize(node), CanonicalJson.Canonicalize(element));
        Assert.Equal(CanonicalJson.Sha256Hex(node), CanonicalJson.Sha256Hex(element));
    }

    [Theory]
    [MemberData(nameof(CorpusFiles))]
    public void ParseElement_AgreesWithParse_OnTheFuzzCorpora(string file)
    {
        var body = File.ReadAllBytes(file);
        JsonException? refused = null;
        try
        {
            _ = StrictJson.Parse(body, maxDepth: 64);
        }
        catch (JsonException e)
        {
            refused = e;
        }

        if (refused is not null)
        {
            Assert.Equal(refused.Message, Assert.ThrowsAny<JsonException>(() => StrictJson.ParseElement(body, maxDepth: 64)).Message);
        }
        else
        {
            ParseElement_AcceptsWhatParseAccepts_AndDigestsToTheSameCanonicalBytes(file, body);
        }
    }

    [Fact]
    public void ElementOf_ABuiltObject_HasItsMembersInOrder_AndIsNotChangedByLaterEdits()
    {
        var body = new JsonObject { ["model"] = "m", ["n"] = 1.5, ["when"] = new DateTimeOffset(2026, 12, 8, 0, 0, 0, TimeSpan.Zero), ["list"] = new JsonArray("a", null, true) };
        var element = JsonViews.ElementOf(body);
        Assert.Equal(["model", "n", "when", "list"], element.EnumerateObject().Select(p => p.Name));
        Assert.True(JsonNode.DeepEquals(body, JsonNode.Parse(element.GetRawText())));
        body["model"] = "changed";
        Assert.Equal("m", element.GetProperty("model").GetString());
    }

    // The fuzzers' seed corpora of request bodies and canonical JSON (fuzz/corpus), read from the repository.
    private static IEnumerable<string> Corpus()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Enclave.slnx")))
        {
            dir = dir.Parent;
        }

        if (dir is null)
        {
            throw new DirectoryNotFoundException($"Enclave.slnx not found above {AppContext.BaseDirectory}");
        }

        return new[] { "openai-request", "canonical-json" }
            .SelectMany(d => Directory.EnumerateFiles(Path.Combine(dir.FullName, "fuzz", "corpus", d)))
            .Order(StringComparer.Ordinal);
    }
}
