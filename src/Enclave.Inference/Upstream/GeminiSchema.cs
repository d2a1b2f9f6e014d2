using System.Text.Json;
using System.Text.Json.Nodes;
using static Enclave.Inference.Upstream.VendorTranslation;

namespace Enclave.Inference.Upstream;

/// <summary>
/// A JSON Schema as Gemini's <c>responseSchema</c>, the OpenAPI 3.0 schema subset <c>generateContent</c> takes: type
/// names upper-case, <c>["T","null"]</c> as <c>nullable</c>, and the keywords Gemini knows passed on. A keyword it
/// does not know is a 400 naming it (with its path), never dropped; the one exception is
/// <c>additionalProperties: false</c> (which strict OpenAI schemas must carry), dropped because Gemini answers with
/// the declared properties only.
/// </summary>
internal static class GeminiSchema
{
    /// <summary>The deepest nesting translated (a schema deeper than this is refused, not walked).</summary>
    public const int MaxDepth = 32;

    private static readonly HashSet<string> Copied = new(StringComparer.Ordinal)
    {
        "format", "description", "title", "nullable", "enum", "maxItems", "minItems", "minimum", "maximum", "minLength",
        "maxLength", "pattern", "required", "minProperties", "maxProperties", "propertyOrdering",
    };

    public static JsonObject Translate(UpstreamBackendOptions backend, JsonObject schema, string where) => Translate(backend, schema, where, 0);

    private static JsonObject Translate(UpstreamBackendOptions backend, JsonObject schema, string where, int depth)
    {
        if (depth > MaxDepth)
        {
            throw Unsupported(backend, where, $"the schema is nested deeper than {MaxDepth} levels");
        }

        var result = new JsonObject();
        foreach (var (key, value) in schema)
        {
            var at = where + "." + key;
            switch (key)
            {
                case "type":
                    Type(backend, value, at, result);
                    break;
                case "properties":
                    if (value is not JsonObject properties)
                    {
                        throw Invalid(at, "must be an object");
                    }

                    var translated = new JsonObject();
                    foreach (var (name, property) in properties)
                    {
                        translated[name] = Translate(backend, property as JsonObject ?? throw Invalid($"{at}.{name}", "must be a schema object"), $"{at}.{name}", depth + 1);
                    }

                    result["properties"] = translated;
                    break;
                case "items":
                    result["items"] = Translate(backend, value as JsonObject ?? throw Invalid(at, "must be a schema object"), at, depth + 1);
                    break;
                case "anyOf":
                    if (value is not JsonArray options)
                    {
                        throw Invalid(at, "must be an array of schemas");
                    }

                    result["anyOf"] = new JsonArray([.. options.Select((o, i) => (JsonNode)Translate(backend, o as JsonObject ?? throw Invalid($"{at}[{i}]", "must be a schema object"), $"{at}[{i}]", depth + 1))]);
                    break;
                case "additionalProperties" when value?.GetValueKind() == JsonValueKind.False:
                    break;
                case "$schema":
                    break; // names the dialect only
                case var copied when Copied.Contains(copied):
                    result[key] = value?.DeepClone();
                    break;
                default:
                    throw Unsupported(backend, at, "Gemini's responseSchema has no such keyword");
            }
        }

        return result;
    }

    private static void Type(UpstreamBackendOptions backend, JsonNode? value, string at, JsonObject result)
    {
        switch (value)
        {
            case JsonValue single when String(single) is { } name:
                result["type"] = Name(backend, name, at);
                break;
            case JsonArray many when many.Count is 1 or 2 && many.All(t => String(t) is not null):
                var names = many.Select(t => String(t)!).ToList();
                if (names.Remove("null"))
                {
                    result["nullable"] = true;
                }

                if (names.Count != 1)
                {
                    throw Unsupported(backend, at, "Gemini takes one type per schema (and 'null', as nullable)");
                }

                result["type"] = Name(backend, names[0], at);
                break;
            default:
                throw Invalid(at, "must be a type name or an array of type names");
        }
    }

    private static string Name(UpstreamBackendOptions backend, string name, string at) => name switch
    {
        "string" => "STRING",
        "number" => "NUMBER",
        "integer" => "INTEGER",
        "boolean" => "BOOLEAN",
        "array" => "ARRAY",
        "object" => "OBJECT",
        _ => throw Unsupported(backend, at, $"Gemini has no type '{UpstreamErrors.Sanitize(name)}'"),
    };
}
