using System.Security.Claims;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Core;
using Enclave.Policy.Requests;
using Enclave.Server.Hosting;
using Microsoft.Extensions.Configuration;

namespace Enclave.Policy.Tests;

/// <summary>
/// The request's text read on the parsed element (<see cref="RequestText.Collect(JsonElement, int)"/>, what every request
/// now passes) is the text the node walker of 71a5c31 read, string for string and path for path, and the redaction
/// and the policy's decision are the same whichever form the body is given in.
/// </summary>
public sealed class RequestTextTests
{
    public static TheoryData<string, string> Bodies()
    {
        var data = new TheoryData<string, string>
        {
            { "plain chat", """{"model":"m","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Say hello."}],"max_tokens":16,"temperature":0}""" },
            { "content parts, tools, nulls", """{"messages":[{"role":"user","content":[{"type":"text","text":"(S//NF) part"},{"type":"image_url","image_url":{"url":"data:x"}}]},{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]}],"model":"m","tools":[{"type":"function","function":{"name":"f","description":"SECRET stuff","parameters":{"type":"object","properties":{"a":{"type":"integer","enum":["x","y"]}}}}}],"user":"u1","stream":false}""" },
            { "nested model is text", """{"model":"m","metadata":{"model":"inner"},"input":["a","b",["c",{"model":"d"}]]}""" },
            { "escapes and non-ASCII", """{"model":"m","prompt":"\ud83d\ude00 é 中 \"q\" \n\u0001 bob@example.org"}""" },
            { "no strings", """{"model":"m","n":1,"b":true,"z":null,"a":[],"o":{}}""" },
            { "empty", "{}" },
        };
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Enclave.slnx")))
        {
            dir = dir.Parent;
        }

        foreach (var file in Directory.EnumerateFiles(Path.Combine(dir?.FullName ?? throw new DirectoryNotFoundException("Enclave.slnx"), "fuzz", "corpus", "openai-request")).Order(StringComparer.Ordinal))
        {
            data.Add("fuzz/corpus/openai-request/" + Path.GetFileName(file), File.ReadAllText(file));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Bodies))]
    public void Collect_OnTheElement_ReadsTheTextAndPathsTheNodeWalkerRead(string why, string json)
    {
        var node = (JsonObject)StrictJson.Parse(Encoding.UTF8.GetBytes(json))!;
        var element = StrictJson.ParseElement(Encoding.UTF8.GetBytes(json));

        var expected = NodeWalker.Collect(node, 1000);
        var actual = RequestText.Collect(element, 1000);

        Assert.Equal(expected, actual.Texts);
        Assert.False(actual.Truncated, why);
        Assert.Equal(expected, RequestText.Collect(node, 1000).Texts);
        for (var i = 0; i <= expected.Count; i++)
        {
            Assert.Equal(NodeWalker.PathOf(node, i), RequestText.PathOf(element, i));
        }
    }

    [Theory]
    [MemberData(nameof(Bodies))]
    public void Replace_NumbersTheStringsAsCollectDoes_AndLeavesTheRestAsItWas(string why, string json)
    {
        var element = StrictJson.ParseElement(Encoding.UTF8.GetBytes(json));
        var count = RequestText.Collect(element, 1000).Texts.Count;
        var marks = Enumerable.Range(0, count).Select(i => "#" + i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();

        var replaced = RequestText.Replace(element, marks);

        Assert.Equal(marks, RequestText.Collect(JsonViews.ElementOf(replaced), 1000).Texts);
        var back = RequestText.Replace(JsonViews.ElementOf(replaced), RequestText.Collect(element, 1000).Texts);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(json), back), why);
    }

    [Theory]
    [InlineData(10, 10, false)]
    [InlineData(10, 11, true)]
    [InlineData(0, 1, true)]
    public void Collect_StopsOneStringPastTheBound_AsTheNodeWalkerDid(int max, int strings, bool truncated)
    {
        var json = "{\"model\":\"m\",\"input\":[" + string.Join(',', Enumerable.Repeat("\"x\"", strings + 1)) + "]}";
        var element = StrictJson.ParseElement(Encoding.UTF8.GetBytes(json));
        var node = (JsonObject)JsonNode.Parse(json)!;

        var text = RequestText.Collect(element, max);

        Assert.Equal(truncated, text.Truncated);
        Assert.Equal(NodeWalker.Collect(node, max), text.Texts);
    }

    [Fact]
    public void Evaluate_OnTheElement_DecidesAsOnTheObject_RedactionIncluded()
    {
        var catalog = new ModelCatalog([new ModelRoute
        {
            Id = "m",
            Kind = "chat",
            BackendName = "upstream",
            Backends = [new RouteBackend("in", "UNCLASSIFIED", "local", false), new RouteBackend("out", "UNCLASSIFIED", "US", true)],
            SelectBackend = _ => throw new InvalidOperationException("not sent in these tests"),
        }]);
        var policy = EnclavePolicy.Create(
            new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Policy:Jurisdictions:UNCLASSIFIED:0"] = "local",
                ["Policy:Jurisdictions:UNCLASSIFIED:1"] = "US",
                ["Policy:Egress:Routes:out"] = "Redact",
            }).Build(),
            catalog);
        catalog.TryResolve("m", out var route);
        var user = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, "user:t")], "test"));
        const string json = """{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"mail bob@example.org please"},{"type":"text","text":"nothing here"}]}]}""";

        var fromObject = policy.Evaluate(user, null, (JsonObject)JsonNode.Parse(json)!, route);
        var fromElement = policy.Evaluate(user, null, StrictJson.ParseElement(Encoding.UTF8.GetBytes(json)), route);

        Assert.True(fromElement.Allowed);
        Assert.Equal(fromObject.ToLedger(policy.Scheme).ToJsonString(), fromElement.ToLedger(policy.Scheme).ToJsonString());
        var sent = fromElement.Selection().BodyFor("out", new JsonObject());
        Assert.True(JsonNode.DeepEquals(fromObject.Selection().BodyFor("out", new JsonObject()), sent));
        Assert.Equal("mail [REDACTED:pii.email] please", sent["messages"]![0]!["content"]![0]!["text"]!.GetValue<string>());
        Assert.Equal("messages[0].content[0].text", Assert.Single(fromElement.Egress).Findings.Single().Path);
    }

    [Fact]
    public void Collect_RefusesABodyThatIsNotAnObject()
    {
        Assert.Throws<ArgumentException>(() => RequestText.Collect(StrictJson.ParseElement("[\"x\"]"u8), 10));
    }

    /// <summary>The walkers of <c>RequestText</c> at 71a5c31, over <see cref="JsonNode"/> trees: the reference.</summary>
    private static class NodeWalker
    {
        public static List<string> Collect(JsonObject body, int max)
        {
            var texts = new List<string>();
            foreach (var (name, value) in body)
            {
                if (name != "model" && !Walk(value, texts, max))
                {
                    break;
                }
            }

            return texts;
        }

        public static string PathOf(JsonObject body, int target)
        {
            var index = 0;
            foreach (var (name, value) in body)
            {
                if (name != "model" && Find(value, name, target, ref index) is { } path)
                {
                    return path;
                }
            }

            return "string " + target.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        private static bool Walk(JsonNode? node, List<string> texts, int max)
        {
            switch (node)
            {
                case JsonObject o:
                    return o.All(p => Walk(p.Value, texts, max));
                case JsonArray a:
                    return a.All(i => Walk(i, texts, max));
                case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                    if (texts.Count > max)
                    {
                        return false;
                    }

                    texts.Add(v.GetValue<string>());
                    return true;
                default:
                    return true;
            }
        }

        private static string? Find(JsonNode? node, string path, int target, ref int index)
        {
            switch (node)
            {
                case JsonObject o:
                    foreach (var (name, v) in o)
                    {
                        if (Find(v, path + "." + name, target, ref index) is { } found)
                        {
                            return found;
                        }
                    }

                    return null;
                case JsonArray a:
                    for (var i = 0; i < a.Count; i++)
                    {
                        if (Find(a[i], path + "[" + i.ToString(System.Globalization.CultureInfo.InvariantCulture) + "]", target, ref index) is { } found)
                        {
                            return found;
                        }
                    }

                    return null;
                case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                    return index++ == target ? path : null;
                default:
                    return null;
            }
        }
    }
}
