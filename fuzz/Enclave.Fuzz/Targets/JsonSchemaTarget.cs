using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Core;
using Enclave.Inference.Structured;

namespace Enclave.Fuzz.Targets;

/// <summary>
/// Response formats and JSON Schemas from requests (<c>response_format</c>), through the built-in engine's constrained
/// decoding: <see cref="ResponseFormat.Read"/> (the schema compiler, the pattern compiler, the grammar's fixpoint),
/// then the compiled grammar stepped over the input's own bytes. A 400 is a rejection (<see cref="JsonException"/>,
/// <see cref="SchemaRejectedException"/>); any other exception would be a 500 and is a finding.
/// </summary>
internal static class JsonSchemaTarget
{
    public static Harness Harness { get; } = new()
    {
        Name = "json-schema",
        Parser = "Enclave.Inference.Structured.ResponseFormat, JsonSchemaCompiler, PatternCompiler",
        Run = Run,
        Seeds = () =>
        [
            Seeds.Text("object.json", """{"type":"json_schema","json_schema":{"name":"p","strict":true,"schema":{"type":"object","properties":{"name":{"type":"string","maxLength":12},"age":{"type":"integer","minimum":0,"exclusiveMaximum":150},"tags":{"type":"array","items":{"enum":["a","b",null,3]},"minItems":1,"maxItems":3}},"required":["name","age"],"additionalProperties":false}}}"""),
            Seeds.Text("recursive.json", """{"type":"json_schema","json_schema":{"name":"t","schema":{"$defs":{"n":{"type":"object","properties":{"v":{"type":["number","null"]},"c":{"type":"array","items":{"$ref":"#/$defs/n"}}},"required":["v","c"]}},"$ref":"#/$defs/n"}}}"""),
            Seeds.Text("patterns.json", """{"type":"json_schema","json_schema":{"name":"s","schema":{"anyOf":[{"type":"string","pattern":"^(?:[A-Z]{2,3}|x\\d+)-[^\\s]*$"},{"type":"string","format":"date-time"},{"type":"string","format":"email"},{"oneOf":[{"const":1},{"const":"1"}]}]}}}"""),
            Seeds.Text("json-object.json", """{"type":"json_object"}"""),
        ],
    };

    private static void Run(byte[] input)
    {
        JsonObject format;
        try
        {
            if (StrictJson.ParseNode(input, maxDepth: 64) is not JsonObject o)
            {
                return;
            }

            format = o;
        }
        catch (JsonException)
        {
            return;
        }

        JsonGrammar? grammar;
        try
        {
            ResponseFormat.ClearCache(); // each run compiles: the same input takes the same paths every time
            grammar = ResponseFormat.Read(new JsonObject { ["response_format"] = format });
        }
        catch (SchemaRejectedException)
        {
            return;
        }

        if (grammar is null)
        {
            return;
        }

        // Step the grammar over the input (any bytes): a state either dies or stays completable.
        var state = grammar.Start();
        foreach (var b in input)
        {
            state = state.Advance(b);
            if (state.IsDead)
            {
                break;
            }

            if (state.Min >= int.MaxValue / 4)
            {
                throw new FuzzFindingException("a live grammar state reports that it cannot be completed");
            }
        }
    }
}
