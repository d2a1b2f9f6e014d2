using System.Text.Json.Nodes;

namespace Enclave.Inference.Tests.Tools;

/// <summary>Tools whose parameters exercise the schema compiler: enums and required fields, nesting and bounds, none at all.</summary>
internal static class ToolCorpus
{
    public const string Weather = """
        {"type":"function","function":{"name":"get_weather","description":"Weather in a city.","parameters":{"type":"object","properties":{"city":{"type":"string","minLength":1,"maxLength":20},"unit":{"type":"string","enum":["c","f"]}},"required":["city","unit"],"additionalProperties":false}}}
        """;

    public const string Booking = """
        {"type":"function","function":{"name":"book","parameters":{"type":"object","properties":{"guests":{"type":"integer","minimum":1,"maximum":8},"dates":{"type":"array","items":{"type":"string","format":"date"},"minItems":1,"maxItems":3},"note":{"anyOf":[{"type":"string","maxLength":10},{"type":"null"}]}},"required":["guests","dates"],"additionalProperties":false}}}
        """;

    public const string Now = """
        {"type":"function","function":{"name":"now"}}
        """;

    public static JsonArray Tools() => new(JsonNode.Parse(Weather), JsonNode.Parse(Booking), JsonNode.Parse(Now));

    /// <summary>The parameters schema of each tool by name (an empty object schema for a tool without parameters).</summary>
    public static IReadOnlyDictionary<string, string> Parameters { get; } = new Dictionary<string, string>
    {
        ["get_weather"] = JsonNode.Parse(Weather)!["function"]!["parameters"]!.ToJsonString(),
        ["book"] = JsonNode.Parse(Booking)!["function"]!["parameters"]!.ToJsonString(),
        ["now"] = """{"type":"object","properties":{},"additionalProperties":false}""",
    };

    public static JsonObject Request(JsonNode? toolChoice, int seed, bool? parallel = null)
    {
        var request = new JsonObject
        {
            ["model"] = "forged",
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "Plan my trip." }),
            ["tools"] = Tools(),
            ["seed"] = seed,
            ["temperature"] = 1.0,
            ["max_tokens"] = 200,
        };
        if (toolChoice is not null)
        {
            request["tool_choice"] = toolChoice;
        }

        if (parallel is { } p)
        {
            request["parallel_tool_calls"] = p;
        }

        return request;
    }

    public static JsonObject Named(string name) => new() { ["type"] = "function", ["function"] = new JsonObject { ["name"] = name } };
}
