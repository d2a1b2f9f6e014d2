using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Core;

namespace Enclave.Inference.Structured;

/// <summary>
/// Compiles a JSON Schema (the subset structured outputs use, draft 2020-12 spelling) into a <see cref="JsonGrammar"/>.
/// Supported: <c>type</c> (one or a list), <c>enum</c>, <c>const</c>, <c>properties</c>, <c>required</c>,
/// <c>additionalProperties</c>, <c>items</c>, <c>prefixItems</c>, <c>minItems</c>, <c>maxItems</c>, <c>anyOf</c>,
/// <c>oneOf</c> (when its branches provably exclude each other), <c>allOf</c> of one schema, <c>$ref</c> into the same
/// document with <c>$defs</c>/<c>definitions</c> (recursion included), <c>pattern</c> (<see cref="PatternCompiler"/>),
/// <c>format</c> <c>date-time</c>/<c>date</c>/<c>uuid</c>/<c>email</c>, <c>minLength</c>, <c>maxLength</c>,
/// <c>minimum</c>, <c>maximum</c>, <c>exclusiveMinimum</c>, <c>exclusiveMaximum</c>; annotations (<c>title</c>,
/// <c>description</c>, <c>default</c>, <c>examples</c>, ...) are read past. Any other keyword is a
/// <see cref="SchemaRejectedException"/> that names it: a constraint is never dropped.
/// </summary>
internal sealed class JsonSchemaCompiler
{
    /// <summary>Largest minLength/maxLength honoured.</summary>
    public const int MaxLength = 1_000_000;

    /// <summary>Largest minItems honoured (a document must be able to hold that many items).</summary>
    public const int MaxMinItems = 10_000;

    /// <summary>Most subschemas one schema may compile to.</summary>
    public const int MaxNodes = 10_000;

    private const string Year = "[1-8][0-9]{3}";
    private const string LeapYear = "([1-8][0-9](0[48]|[2468][048]|[13579][26])|(1[26]|2[048]|3[26]|4[048]|5[26]|6[048]|7[26]|8[048])00)";
    private const string Date =
        "(" + Year + "-(0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|" + Year + "-(0[469]|11)-(0[1-9]|[12][0-9]|30)|" +
        Year + "-02-(0[1-9]|1[0-9]|2[0-8])|" + LeapYear + "-02-29)";
    private const string Time = "([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,6})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])";

    /// <summary>
    /// The formats, as patterns of the strings this engine writes for them: a subset of each format that every
    /// validator accepts (years 1000-8999 so an offset never leaves the calendar, real days of each month and leap
    /// years, no leap second, at most 6 fraction digits, upper-case T and Z; plain dot-atom e-mail addresses within
    /// the RFC 5321 lengths: a local part of at most 59 characters, labels of at most 41).
    /// </summary>
    private static readonly Dictionary<string, string> Formats = new(StringComparer.Ordinal)
    {
        ["date-time"] = "^" + Date + "T" + Time + "$",
        ["date"] = "^" + Date + "$",
        ["uuid"] = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
        ["email"] = "^[A-Za-z0-9]{1,32}([._+-][A-Za-z0-9]{1,8}){0,3}@[A-Za-z0-9]{1,20}(-[A-Za-z0-9]{1,20})?(\\.[A-Za-z0-9]{1,20}(-[A-Za-z0-9]{1,20})?){0,2}\\.[A-Za-z]{2,10}$",
    };

    private static readonly HashSet<string> Annotations = new(StringComparer.Ordinal)
    {
        "title", "description", "$comment", "default", "examples", "deprecated", "readOnly", "writeOnly", "$schema",
    };

    private static readonly HashSet<string> ObjectKeywords = new(StringComparer.Ordinal) { "properties", "required", "additionalProperties" };
    private static readonly HashSet<string> ArrayKeywords = new(StringComparer.Ordinal) { "items", "prefixItems", "minItems", "maxItems" };
    private static readonly HashSet<string> StringKeywords = new(StringComparer.Ordinal) { "minLength", "maxLength", "pattern", "format" };
    private static readonly HashSet<string> NumberKeywords = new(StringComparer.Ordinal) { "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum" };
    private static readonly string[] AllTypes = ["object", "array", "string", "number", "boolean", "null"];

    private readonly JsonNode _document;
    private readonly string _root;
    private readonly Dictionary<string, GrammarNode> _byPointer = new(StringComparer.Ordinal);
    private readonly Queue<(RefNode Node, string Pointer, string Param)> _refs = new();
    private readonly List<(AnyOfNode Node, string Param)> _oneOfs = [];
    private GrammarNode? _any;
    private int _nodes;
    private long _tableEntries;

    private JsonSchemaCompiler(JsonNode document, string rootParam)
    {
        _document = document;
        _root = rootParam;
    }

    /// <summary>Compiles <paramref name="schema"/>; errors name their place under <paramref name="rootParam"/>.</summary>
    /// <exception cref="SchemaRejectedException">The schema is malformed, uses what is not supported, or admits no document.</exception>
    public static JsonGrammar Compile(JsonNode schema, string rootParam, string digest)
    {
        ArgumentNullException.ThrowIfNull(schema);
        var compiler = new JsonSchemaCompiler(schema, rootParam);
        var root = compiler.CompileAt(schema, rootParam, string.Empty, isRoot: true);
        compiler.ResolveReferences();
        var grammar = new JsonGrammar(root, digest);
        compiler.CheckOneOfs();
        if (grammar.MinDocumentBytes >= GrammarMath.Infinite)
        {
            throw new SchemaRejectedException("the schema admits no JSON document (its constraints contradict each other, or a required recursion never ends)", rootParam);
        }

        return grammar;
    }

    /// <summary><c>{"type":"json_object"}</c>: any JSON object.</summary>
    public static JsonGrammar ForJsonObject(string digest)
    {
        var compiler = new JsonSchemaCompiler(new JsonObject(), "response_format");
        return new JsonGrammar(new ObjectNode([], compiler.Any()), digest);
    }

    private SchemaRejectedException Reject(string param, string message) => new(message + $" ({param})", param);

    private SchemaRejectedException Unsupported(string param, string keyword, string? why = null) =>
        new($"the schema keyword '{keyword}' is not supported by the built-in engine's constrained decoding{(why is null ? string.Empty : ": " + why)}; see docs/structured-outputs.md ({param})", param);

    private T Count<T>(T node)
        where T : GrammarNode
    {
        if (++_nodes > MaxNodes)
        {
            throw new SchemaRejectedException($"the schema is too large: more than {MaxNodes} subschemas", _root);
        }

        return node;
    }

    private GrammarNode Any()
    {
        if (_any is not null)
        {
            return _any;
        }

        var alternatives = new List<GrammarNode>();
        var any = new AnyOfNode(alternatives);
        _any = any;
        alternatives.Add(new ObjectNode([], any));
        alternatives.Add(new ArrayNode([], any, 0, int.MaxValue));
        alternatives.Add(new StringNode(CodePointDfa.AnyText, 0, null));
        alternatives.Add(new NumberNode(false, null, false, null, false));
        alternatives.Add(Literals("true", "false", "null"));
        return any;
    }

    private static LiteralNode Literals(params string[] texts) => new([.. texts.Select(Encoding.UTF8.GetBytes)]);

    private GrammarNode CompileAt(JsonNode? schema, string param, string pointer, bool isRoot = false)
    {
        if (_byPointer.TryGetValue(pointer, out var done))
        {
            return done;
        }

        var node = CompileSchema(schema, param, pointer, isRoot);
        _byPointer[pointer] = node;
        return node;
    }

    private GrammarNode CompileSchema(JsonNode? schema, string param, string pointer, bool isRoot)
    {
        switch (schema)
        {
            case JsonValue value when value.GetValueKind() == JsonValueKind.True:
                return Any();
            case JsonValue value when value.GetValueKind() == JsonValueKind.False:
                return Count(new AnyOfNode([]));
            case JsonObject:
                break;
            default:
                throw Reject(param, "a schema must be a JSON object or a boolean");
        }

        var obj = (JsonObject)schema;
        if (++_nodes > MaxNodes)
        {
            throw new SchemaRejectedException($"the schema is too large: more than {MaxNodes} subschemas", _root);
        }

        var keywords = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, _) in obj)
        {
            if (Annotations.Contains(name) || name is "$defs" or "definitions")
            {
                continue;
            }

            if (name == "$id" && isRoot)
            {
                continue;
            }

            if (!(name is "type" or "enum" or "const" or "anyOf" or "oneOf" or "allOf" or "$ref" || ObjectKeywords.Contains(name) || ArrayKeywords.Contains(name) || StringKeywords.Contains(name) || NumberKeywords.Contains(name)))
            {
                throw Unsupported(Child(param, name), name);
            }

            keywords.Add(name);
        }

        CheckDefinitions(obj, param, pointer);

        // Keywords that stand for the whole schema: nothing else may constrain beside them.
        foreach (var exclusive in new[] { "$ref", "anyOf", "oneOf", "allOf" })
        {
            if (keywords.Contains(exclusive))
            {
                var other = keywords.FirstOrDefault(k => k != exclusive);
                if (other is not null)
                {
                    throw Unsupported(Child(param, other), other, $"'{other}' beside '{exclusive}' would have to hold together with it, which is not supported; move it into the {exclusive} branches");
                }

                return exclusive switch
                {
                    "$ref" => Reference(obj["$ref"], Child(param, "$ref")),
                    "anyOf" => Count(new AnyOfNode(Branches(obj["anyOf"], Child(param, "anyOf"), pointer + "/anyOf", "anyOf"))),
                    "oneOf" => OneOf(obj["oneOf"], Child(param, "oneOf"), pointer + "/oneOf"),
                    _ => AllOf(obj["allOf"], Child(param, "allOf"), pointer + "/allOf"),
                };
            }
        }

        var types = Types(obj, param, keywords);
        if (keywords.Contains("enum") || keywords.Contains("const"))
        {
            var other = keywords.FirstOrDefault(k => k is not ("enum" or "const" or "type"));
            if (other is not null)
            {
                throw Unsupported(Child(param, other), other, $"'{other}' beside 'enum'/'const' is not supported; list only the values that satisfy it");
            }

            return Enum(obj, param, types);
        }

        var alternatives = new List<GrammarNode>();
        foreach (var type in types)
        {
            alternatives.Add(type switch
            {
                "null" => Count(Literals("null")),
                "boolean" => Count(Literals("true", "false")),
                "string" => CompileString(obj, param),
                "integer" => CompileNumber(obj, param, integer: true),
                "number" => CompileNumber(obj, param, integer: false),
                "object" => CompileObject(obj, param, pointer),
                _ => CompileArray(obj, param, pointer),
            });
        }

        return alternatives.Count == 1 ? alternatives[0] : Count(new AnyOfNode(alternatives));
    }

    private void CheckDefinitions(JsonObject obj, string param, string pointer)
    {
        foreach (var container in new[] { "$defs", "definitions" })
        {
            if (obj.TryGetPropertyValue(container, out var defs) && defs is not JsonObject)
            {
                throw Reject(Child(param, container), $"'{container}' must be an object of schemas");
            }
        }
    }

    private List<string> Types(JsonObject obj, string param, HashSet<string> keywords)
    {
        var types = new List<string>();
        if (obj.TryGetPropertyValue("type", out var typeNode))
        {
            var items = typeNode switch
            {
                JsonValue v when v.TryGetValue<string>(out var one) => [one],
                JsonArray array when array.Count > 0 && array.All(t => t is JsonValue tv && tv.TryGetValue<string>(out _)) => array.Select(t => t!.GetValue<string>()).ToList(),
                _ => throw Reject(Child(param, "type"), "'type' must be a type name or a non-empty array of type names"),
            };
            foreach (var t in items)
            {
                if (t is not ("object" or "array" or "string" or "number" or "integer" or "boolean" or "null"))
                {
                    throw Reject(Child(param, "type"), $"'{t}' is not a JSON Schema type");
                }

                if (!types.Contains(t))
                {
                    types.Add(t);
                }
            }

            if (types.Contains("number") && types.Contains("integer"))
            {
                types.Remove("integer");
            }

            return types;
        }

        if (keywords.Contains("enum") || keywords.Contains("const"))
        {
            return [.. AllTypes, "integer"];
        }

        // No type: the values this engine writes are those the keywords present are about (a subset of what the
        // schema admits, so every document still validates); with none, any JSON value.
        if (keywords.Overlaps(ObjectKeywords))
        {
            types.Add("object");
        }

        if (keywords.Overlaps(ArrayKeywords))
        {
            types.Add("array");
        }

        if (keywords.Overlaps(StringKeywords))
        {
            types.Add("string");
        }

        if (keywords.Overlaps(NumberKeywords))
        {
            types.Add("number");
        }

        return types.Count > 0 ? types : [.. AllTypes];
    }

    private GrammarNode Enum(JsonObject obj, string param, List<string> types)
    {
        var values = new List<(JsonNode? Value, string Param)>();
        if (obj.TryGetPropertyValue("const", out var constant))
        {
            values.Add((constant, Child(param, "const")));
        }

        if (obj.TryGetPropertyValue("enum", out var enumNode))
        {
            if (enumNode is not JsonArray array || array.Count == 0)
            {
                throw Reject(Child(param, "enum"), "'enum' must be a non-empty array");
            }

            for (var i = 0; i < array.Count; i++)
            {
                values.Add((array[i], $"{Child(param, "enum")}[{i}]"));
            }
        }

        var literals = new List<byte[]>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var bothConstAndEnum = obj.ContainsKey("const") && obj.ContainsKey("enum");
        var constBytes = obj.ContainsKey("const") ? Canonical(values[0].Value, values[0].Param) : null;
        foreach (var (value, valueParam) in values)
        {
            var bytes = Canonical(value, valueParam);
            if (!types.Contains(KindOf(value)) && !(KindOf(value) == "integer" && types.Contains("number")))
            {
                continue;
            }

            if (bothConstAndEnum && !bytes.AsSpan().SequenceEqual(constBytes))
            {
                continue;
            }

            if (seen.Add(Convert.ToHexString(bytes)))
            {
                literals.Add(bytes);
            }
        }

        return Count(new LiteralNode(literals));
    }

    private byte[] Canonical(JsonNode? value, string param)
    {
        try
        {
            return CanonicalJson.Canonicalize(value);
        }
        catch (EnclaveFormatException e)
        {
            throw Reject(param, $"the value cannot be written as JSON: {e.Message}");
        }
    }

    private static string KindOf(JsonNode? value) => value switch
    {
        null => "null",
        JsonObject => "object",
        JsonArray => "array",
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => "string",
            JsonValueKind.True or JsonValueKind.False => "boolean",
            JsonValueKind.Number => IsInteger(v) ? "integer" : "number",
            _ => "null",
        },
        _ => "null",
    };

    private static bool IsInteger(JsonValue v) =>
        decimal.TryParse(v.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d == decimal.Truncate(d);

    private List<GrammarNode> Branches(JsonNode? node, string param, string pointer, string keyword)
    {
        if (node is not JsonArray array || array.Count == 0)
        {
            throw Reject(param, $"'{keyword}' must be a non-empty array of schemas");
        }

        var result = new List<GrammarNode>();
        for (var i = 0; i < array.Count; i++)
        {
            result.Add(CompileAt(array[i], $"{param}[{i}]", $"{pointer}/{i}"));
        }

        return result;
    }

    private GrammarNode OneOf(JsonNode? node, string param, string pointer)
    {
        var any = Count(new AnyOfNode(Branches(node, param, pointer, "oneOf")));
        _oneOfs.Add((any, param));
        return any;
    }

    private GrammarNode AllOf(JsonNode? node, string param, string pointer)
    {
        var branches = Branches(node, param, pointer, "allOf");
        if (branches.Count != 1)
        {
            throw Unsupported(param, "allOf", "only an allOf of exactly one schema is supported (schemas that must hold together are not merged)");
        }

        return branches[0];
    }

    private GrammarNode Reference(JsonNode? node, string param)
    {
        if (node is not JsonValue v || !v.TryGetValue<string>(out var reference))
        {
            throw Reject(param, "'$ref' must be a string");
        }

        if (!reference.StartsWith('#'))
        {
            throw Unsupported(param, "$ref", $"'{Short(reference)}' points outside this schema; only references into the same document ('#', '#/$defs/...') are supported");
        }

        var pointer = Uri.UnescapeDataString(reference[1..]);
        if (pointer.Length > 0 && pointer[0] != '/')
        {
            throw Unsupported(param, "$ref", $"'{Short(reference)}' is an anchor; only JSON Pointer references are supported");
        }

        var refNode = Count(new RefNode());
        _refs.Enqueue((refNode, pointer, param));
        return refNode;
    }

    private static string Short(string text) => text.Length > 80 ? text[..80] + "..." : text;

    private void ResolveReferences()
    {
        while (_refs.TryDequeue(out var item))
        {
            var (refNode, pointer, param) = item;
            var target = Resolve(pointer, param);
            refNode.Target = CompileAt(target, param + "->" + pointer, pointer);
        }
    }

    private JsonNode? Resolve(string pointer, string param)
    {
        var current = _document;
        if (pointer.Length == 0)
        {
            return current;
        }

        foreach (var raw in pointer[1..].Split('/'))
        {
            var token = raw.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
            current = current switch
            {
                JsonObject o when o.TryGetPropertyValue(token, out var child) && child is not null => child,
                JsonArray a when int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index < a.Count && a[index] is { } item => item,
                _ => throw Reject(param, $"'$ref' points to '#{pointer}', which is not in the schema"),
            };
        }

        return current;
    }

    private GrammarNode CompileString(JsonObject obj, string param)
    {
        var minLength = Length(obj, "minLength", param) ?? 0;
        var maxLength = Length(obj, "maxLength", param);
        if (maxLength < minLength)
        {
            return Count(new AnyOfNode([]));
        }

        var counted = obj.ContainsKey("minLength") || obj.ContainsKey("maxLength");
        string? pattern = null;
        var patternParam = param;
        if (obj.TryGetPropertyValue("pattern", out var patternNode))
        {
            patternParam = Child(param, "pattern");
            if (patternNode is not JsonValue pv || !pv.TryGetValue<string>(out pattern))
            {
                throw Reject(patternParam, "'pattern' must be a string");
            }
        }

        if (obj.TryGetPropertyValue("format", out var formatNode))
        {
            var formatParam = Child(param, "format");
            if (formatNode is not JsonValue fv || !fv.TryGetValue<string>(out var format))
            {
                throw Reject(formatParam, "'format' must be a string");
            }

            if (!Formats.TryGetValue(format, out var formatPattern))
            {
                throw Unsupported(formatParam, "format", $"the format '{Short(format)}' is not supported (supported: {string.Join(", ", Formats.Keys)})");
            }

            if (pattern is not null)
            {
                throw Unsupported(patternParam, "pattern", "'pattern' together with 'format' is not supported");
            }

            (pattern, patternParam) = (formatPattern, formatParam);
        }

        var universe = counted ? CharUniverse.SingleGrapheme : CharUniverse.Bmp;
        try
        {
            var dfa = pattern is null
                ? (counted ? new CodePointDfa([[.. CharUniverse.SingleGrapheme.Select(r => new CodePointTransition(r.Low, r.High, 0))]], [true]) : CodePointDfa.AnyText)
                : PatternCompiler.Compile(pattern, universe);
            // One bound for the whole schema, so that many long strings cannot add up to a large allocation.
            _tableEntries += (long)dfa.StateCount * ((maxLength ?? minLength) + 1L);
            if (_tableEntries > StringNode.MaxTableEntries)
            {
                throw new PatternException($"the schema's strings are too large to constrain together: their automata and lengths need more than {StringNode.MaxTableEntries} table entries");
            }

            return Count(new StringNode(dfa, minLength, maxLength));
        }
        catch (PatternException e)
        {
            var keyword = pattern is null ? (maxLength is not null ? "maxLength" : "minLength")
                : patternParam.EndsWith(".format", StringComparison.Ordinal) ? "format" : "pattern";
            throw Unsupported(pattern is null ? Child(param, keyword) : patternParam, keyword, e.Message);
        }
    }

    private int? Length(JsonObject obj, string keyword, string param)
    {
        if (!obj.TryGetPropertyValue(keyword, out var node))
        {
            return null;
        }

        if (!TryInteger(node, out var value) || value < 0)
        {
            throw Reject(Child(param, keyword), $"'{keyword}' must be a non-negative integer");
        }

        if (value > MaxLength)
        {
            throw Unsupported(Child(param, keyword), keyword, $"lengths above {MaxLength} are not supported");
        }

        return (int)value;
    }

    private static bool TryInteger(JsonNode? node, out long value)
    {
        value = 0;
        if (node is not JsonValue v || v.GetValueKind() != JsonValueKind.Number
            || !decimal.TryParse(v.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) || d != decimal.Truncate(d))
        {
            return false;
        }

        value = d > long.MaxValue ? long.MaxValue : d < long.MinValue ? long.MinValue : (long)d;
        return true;
    }

    private GrammarNode CompileNumber(JsonObject obj, string param, bool integer)
    {
        var minimum = Bound(obj, "minimum", param);
        var maximum = Bound(obj, "maximum", param);
        var exclusiveMinimum = Bound(obj, "exclusiveMinimum", param);
        var exclusiveMaximum = Bound(obj, "exclusiveMaximum", param);

        // The tighter of the inclusive and exclusive bound on each side.
        decimal? low = minimum;
        var lowExclusive = false;
        if (exclusiveMinimum is { } em && (low is null || em >= low))
        {
            (low, lowExclusive) = (em, true);
        }

        decimal? high = maximum;
        var highExclusive = false;
        if (exclusiveMaximum is { } eM && (high is null || eM <= high))
        {
            (high, highExclusive) = (eM, true);
        }

        return Count(new NumberNode(integer, low, lowExclusive, high, highExclusive));
    }

    /// <summary>A numeric bound; magnitudes beyond what any written number reaches are clamped (they decide nothing else).</summary>
    private decimal? Bound(JsonObject obj, string keyword, string param)
    {
        if (!obj.TryGetPropertyValue(keyword, out var node))
        {
            return null;
        }

        var p = Child(param, keyword);
        if (node is not JsonValue v || v.GetValueKind() != JsonValueKind.Number)
        {
            throw Reject(p, keyword.StartsWith("exclusive", StringComparison.Ordinal)
                ? $"'{keyword}' must be a number (draft 2020-12; the boolean form of draft 4 is not supported)"
                : $"'{keyword}' must be a number");
        }

        var text = v.ToJsonString();
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) || !double.IsFinite(d))
        {
            throw Reject(p, $"'{keyword}' is not a finite number");
        }

        const decimal Limit = 1e20m;
        if (Math.Abs(d) >= 1e20)
        {
            return d > 0 ? Limit : -Limit;
        }

        return decimal.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    private GrammarNode CompileObject(JsonObject obj, string param, string pointer)
    {
        var required = new List<string>();
        if (obj.TryGetPropertyValue("required", out var requiredNode))
        {
            if (requiredNode is not JsonArray array || !array.All(r => r is JsonValue rv && rv.TryGetValue<string>(out _)))
            {
                throw Reject(Child(param, "required"), "'required' must be an array of property names");
            }

            foreach (var r in array)
            {
                var name = r!.GetValue<string>();
                if (required.Contains(name))
                {
                    throw Reject(Child(param, "required"), $"'required' lists '{Short(name)}' twice");
                }

                required.Add(name);
            }
        }

        GrammarNode? additional;
        var additionalParam = Child(param, "additionalProperties");
        if (obj.TryGetPropertyValue("additionalProperties", out var additionalNode))
        {
            additional = additionalNode is JsonValue av && av.GetValueKind() == JsonValueKind.False
                ? null
                : CompileAt(additionalNode, additionalParam, pointer + "/additionalProperties");
        }
        else
        {
            additional = Any(); // JSON Schema's default: other properties may be anything
        }

        var properties = new List<ObjectProperty>();
        if (obj.TryGetPropertyValue("properties", out var propertiesNode))
        {
            if (propertiesNode is not JsonObject declared)
            {
                throw Reject(Child(param, "properties"), "'properties' must be an object of schemas");
            }

            foreach (var (name, schema) in declared)
            {
                var value = CompileAt(schema, Child(Child(param, "properties"), name), pointer + "/properties/" + Escape(name));
                properties.Add(new ObjectProperty(name, Key(name), value, required.Contains(name)));
            }
        }

        foreach (var name in required.Where(r => properties.All(p => p.Name != r)))
        {
            if (additional is null)
            {
                throw Reject(Child(param, "required"), $"'{Short(name)}' is required but not a declared property, and additionalProperties is false: no object can satisfy it");
            }

            properties.Add(new ObjectProperty(name, Key(name), additional, true));
        }

        return Count(new ObjectNode(properties, additional));
    }

    private static string Escape(string token) => token.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);

    private static byte[] Key(string name) => JsonEncodedText.Encode(name, JavaScriptEncoder.UnsafeRelaxedJsonEscaping).EncodedUtf8Bytes.ToArray();

    private GrammarNode CompileArray(JsonObject obj, string param, string pointer)
    {
        var prefix = new List<GrammarNode>();
        if (obj.TryGetPropertyValue("prefixItems", out var prefixNode))
        {
            prefix = Branches(prefixNode, Child(param, "prefixItems"), pointer + "/prefixItems", "prefixItems");
        }

        GrammarNode? items = Any();
        if (obj.TryGetPropertyValue("items", out var itemsNode))
        {
            if (itemsNode is JsonArray)
            {
                throw Unsupported(Child(param, "items"), "items", "the array form of 'items' (draft 7 tuples) is not supported; use 'prefixItems'");
            }

            items = itemsNode is JsonValue iv && iv.GetValueKind() == JsonValueKind.False ? null : CompileAt(itemsNode, Child(param, "items"), pointer + "/items");
        }

        var minItems = Length(obj, "minItems", param) ?? 0;
        if (minItems > MaxMinItems)
        {
            throw Unsupported(Child(param, "minItems"), "minItems", $"more than {MaxMinItems} required items is not supported");
        }

        var maxItems = obj.ContainsKey("maxItems") ? (int)Math.Min(int.MaxValue, (long)(MaxItemsValue(obj, param))) : int.MaxValue;
        return Count(new ArrayNode(prefix, items, minItems, maxItems));
    }

    private long MaxItemsValue(JsonObject obj, string param)
    {
        if (!TryInteger(obj["maxItems"], out var value) || value < 0)
        {
            throw Reject(Child(param, "maxItems"), "'maxItems' must be a non-negative integer");
        }

        return value;
    }

    /// <summary>
    /// A oneOf is honoured only when no document can match two of its branches: branches that begin differently
    /// (different types), literal branches with no value in common, or objects told apart by a required property whose
    /// allowed values (const/enum) do not overlap. Anything else could write a document that matches two branches.
    /// </summary>
    private void CheckOneOfs()
    {
        foreach (var (node, param) in _oneOfs)
        {
            var branches = node.Alternatives;
            for (var i = 0; i < branches.Count; i++)
            {
                for (var j = i + 1; j < branches.Count; j++)
                {
                    if (!Exclusive(branches[i], branches[j]))
                    {
                        throw Unsupported(param, "oneOf", $"branches {i} and {j} can match the same document; only oneOf whose branches differ in type, in their values, or in a required const/enum property is supported (use anyOf)");
                    }
                }
            }
        }
    }

    private static bool Exclusive(GrammarNode a, GrammarNode b)
    {
        a = Deref(a);
        b = Deref(b);
        var firstA = FirstBytes(a, 0);
        var firstB = FirstBytes(b, 0);
        if (!firstA.Overlaps(firstB))
        {
            return true;
        }

        if (a is LiteralNode la && b is LiteralNode lb)
        {
            return !la.Values.Any(x => lb.Values.Any(y => x.AsSpan().SequenceEqual(y)));
        }

        if (a is ObjectNode oa && b is ObjectNode ob)
        {
            foreach (var pa in oa.Properties.Where(p => p.Required))
            {
                var pb = ob.Properties.FirstOrDefault(p => p.Required && p.Name == pa.Name);
                if (pb is not null && Deref(pa.Value) is LiteralNode va && Deref(pb.Value) is LiteralNode vb
                    && !va.Values.Any(x => vb.Values.Any(y => x.AsSpan().SequenceEqual(y))))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static GrammarNode Deref(GrammarNode node)
    {
        for (var i = 0; i < 64 && node is RefNode { Target: { } target }; i++)
        {
            node = target;
        }

        return node;
    }

    private static HashSet<byte> FirstBytes(GrammarNode node, int depth)
    {
        node = Deref(node);
        var result = new HashSet<byte>();
        switch (node)
        {
            case LiteralNode literal:
                result.UnionWith(literal.Values.Select(v => v[0]));
                break;
            case StringNode:
                result.Add((byte)'"');
                break;
            case NumberNode:
                result.UnionWith("-0123456789"u8.ToArray());
                break;
            case ObjectNode:
                result.Add((byte)'{');
                break;
            case ArrayNode:
                result.Add((byte)'[');
                break;
            case AnyOfNode any when depth < 32:
                foreach (var alternative in any.Alternatives)
                {
                    result.UnionWith(FirstBytes(alternative, depth + 1));
                }

                break;
            default:
                result.UnionWith(Enumerable.Range(0, 256).Select(i => (byte)i));
                break;
        }

        return result;
    }

    private static string Child(string param, string name) => param + "." + name;
}
