using System.Text.Json.Nodes;
using Enclave.Inference.Backends;
using Enclave.Inference.Structured;

namespace Enclave.Inference.Tests.Structured;

/// <summary>
/// A schema the compiler cannot honour exactly is a 400 that names the keyword and where it is (the OpenAI error
/// object's param), never a constraint silently dropped and never a 500; malformed response formats likewise.
/// </summary>
public sealed class SchemaRefusalTests(ConstrainedModelsFixture models) : IClassFixture<ConstrainedModelsFixture>
{
    private const string Root = "response_format.json_schema.schema";

    [Theory]
    [InlineData("""{"type":"integer","multipleOf":3}""", Root + ".multipleOf", "multipleOf")]
    [InlineData("""{"type":"object","properties":{"ip":{"type":"string","format":"ipv4"}}}""", Root + ".properties.ip.format", "ipv4")]
    [InlineData("""{"type":"array","uniqueItems":true}""", Root + ".uniqueItems", "uniqueItems")]
    [InlineData("""{"type":"object","patternProperties":{"^a":{"type":"string"}}}""", Root + ".patternProperties", "patternProperties")]
    [InlineData("""{"type":"object","minProperties":1}""", Root + ".minProperties", "minProperties")]
    [InlineData("""{"not":{"type":"string"}}""", Root + ".not", "not")]
    [InlineData("""{"if":{"type":"string"},"then":{"minLength":1}}""", Root + ".if", "if")]
    [InlineData("""{"type":"array","contains":{"type":"string"}}""", Root + ".contains", "contains")]
    [InlineData("""{"type":"object","properties":{"a":{"type":"string","pattern":"(a)\\1"}}}""", Root + ".properties.a.pattern", "back-reference")]
    [InlineData("""{"type":"string","pattern":"a(?=b)"}""", Root + ".pattern", "lookaround")]
    [InlineData("""{"type":"string","pattern":"\\bword"}""", Root + ".pattern", "word boundary")]
    [InlineData("""{"type":"string","pattern":"\\p{L}"}""", Root + ".pattern", "property escape")]
    [InlineData("""{"type":"string","pattern":"a^b"}""", Root + ".pattern", "anchor")]
    [InlineData("""{"type":"string","pattern":"[a-"}""", Root + ".pattern", "unclosed")]
    [InlineData("""{"type":"string","pattern":"a{2000}"}""", Root + ".pattern", "more than 1000")]
    [InlineData("""{"type":"string","format":"date-time","pattern":"^2"}""", Root + ".pattern", "together with 'format'")]
    [InlineData("""{"$ref":"https://example.com/schema.json"}""", Root + ".$ref", "outside this schema")]
    [InlineData("""{"$ref":"#node"}""", Root + ".$ref", "anchor")]
    [InlineData("""{"$defs":{"a":{"type":"string"}},"$ref":"#/$defs/a","minLength":2}""", Root + ".minLength", "beside '$ref'")]
    [InlineData("""{"oneOf":[{"type":"string"},{"type":"string","maxLength":3}]}""", Root + ".oneOf", "use anyOf")]
    [InlineData("""{"allOf":[{"type":"string"},{"maxLength":3}]}""", Root + ".allOf", "exactly one")]
    [InlineData("""{"type":"string","enum":["a","bb"],"maxLength":1}""", Root + ".maxLength", "beside 'enum'")]
    [InlineData("""{"type":"array","items":[{"type":"string"}]}""", Root + ".items", "prefixItems")]
    [InlineData("""{"type":"array","prefixItems":[{"type":"string","maxLength":900000},{"type":"string","maxLength":900000},{"type":"string","maxLength":900000},{"type":"string","maxLength":900000},{"type":"string","maxLength":900000}]}""", Root + ".prefixItems[4].maxLength", "too large")]
    [InlineData("""{"type":"string","pattern":"^[ab]*a[ab]{20}$"}""", Root + ".pattern", "too")]
    [InlineData("""{"type":"object","properties":{"a":{"$id":"https://example.com/a","type":"string"}}}""", Root + ".properties.a.$id", "$id")]
    public async Task UnsupportedKeyword_Is400_NamingIt(string schema, string param, string mentioned)
    {
        var e = await RefusedAsync(StructuredOutputTests.JsonSchemaFormat(schema));
        Assert.Equal(param, e.Param);
        Assert.Contains(mentioned, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"type":"strin"}""", Root + ".type")]
    [InlineData("""{"type":"string","minLength":-1}""", Root + ".minLength")]
    [InlineData("""{"type":"string","maxLength":1.5}""", Root + ".maxLength")]
    [InlineData("""{"type":"object","required":"a"}""", Root + ".required")]
    [InlineData("""{"type":"object","required":["a","a"]}""", Root + ".required")]
    [InlineData("""{"$ref":"#/$defs/missing"}""", Root + ".$ref")]
    [InlineData("""{"anyOf":[]}""", Root + ".anyOf")]
    [InlineData("""{"enum":[]}""", Root + ".enum")]
    [InlineData("""{"type":"number","minimum":"0"}""", Root + ".minimum")]
    [InlineData("""{"type":"number","exclusiveMinimum":true}""", Root + ".exclusiveMinimum")]
    [InlineData("""{"type":"object","properties":{"a":5}}""", Root + ".properties.a")]
    [InlineData("""{"type":"object","properties":{},"required":["a"],"additionalProperties":false}""", Root + ".required")]
    [InlineData("""{"type":"integer","minimum":5,"maximum":4}""", Root)]
    [InlineData("""{"type":"integer","exclusiveMinimum":1,"exclusiveMaximum":2}""", Root)]
    [InlineData("""{"type":"object","properties":{"next":{"$ref":"#"}},"required":["next"]}""", Root)]
    [InlineData("""{"type":"array","items":false,"minItems":1}""", Root)]
    [InlineData("""{"type":"string","pattern":"[]"}""", Root)]
    [InlineData("5", Root)]
    [InlineData("false", Root)]
    public async Task MalformedOrUnsatisfiableSchema_Is400(string schema, string param)
    {
        var e = await RefusedAsync(StructuredOutputTests.JsonSchemaFormat(schema));
        Assert.Equal(param, e.Param);
    }

    [Theory]
    [InlineData("\"json\"", "response_format")]
    [InlineData("""{"type":"xml"}""", "response_format.type")]
    [InlineData("""{"type":"json_object","schema":{}}""", "response_format.schema")]
    [InlineData("""{"type":"json_schema"}""", "response_format.json_schema")]
    [InlineData("""{"type":"json_schema","json_schema":{"schema":{}}}""", "response_format.json_schema.name")]
    [InlineData("""{"type":"json_schema","json_schema":{"name":"a b","schema":{}}}""", "response_format.json_schema.name")]
    [InlineData("""{"type":"json_schema","json_schema":{"name":"a","schema":{},"strict":"yes"}}""", "response_format.json_schema.strict")]
    [InlineData("""{"type":"json_schema","json_schema":{"name":"a","schema":{},"extra":1}}""", "response_format.json_schema.extra")]
    public async Task MalformedResponseFormat_Is400(string format, string param)
    {
        var e = await RefusedAsync(JsonNode.Parse(format)!);
        Assert.Equal(param, e.Param);
    }

    [Fact]
    public async Task RefusalsHappenBeforeAnyToken_InStreamingToo()
    {
        var request = StructuredOutputTests.Request(StructuredOutputTests.JsonSchemaFormat("""{"type":"integer","multipleOf":3}"""), 1);
        request["stream"] = true;
        var e = await Assert.ThrowsAsync<BackendException>(async () =>
        {
            await foreach (var _ in models.BytePairModel.ChatStreamAsync(request, CancellationToken.None))
            {
            }
        });
        Assert.Equal(400, e.StatusCode);
        Assert.Equal(Root + ".multipleOf", e.Param);
    }

    [Fact]
    public void TheSameSchema_InAnotherSpelling_IsCompiledOnce()
    {
        var a = JsonNode.Parse("""{"type":"object","properties":{"k":{"type":"string","maxLength":7}},"required":["k"],"additionalProperties":false,"title":"cache-test"}""")!;
        var b = JsonNode.Parse("""{ "additionalProperties" : false, "title":"cache-test", "required":["k"], "type":"object", "properties":{"k":{"maxLength":7.0,"type":"string"}} }""")!;
        var first = ResponseFormat.Compile(a);
        var compilations = ResponseFormat.Compilations;
        var second = ResponseFormat.Compile(b);
        Assert.Same(first, second);
        Assert.Equal(compilations, ResponseFormat.Compilations);
    }

    private async Task<BackendException> RefusedAsync(JsonNode responseFormat)
    {
        var e = await Assert.ThrowsAsync<BackendException>(() => models.BytePairModel.ChatAsync(StructuredOutputTests.Request(responseFormat, 1), CancellationToken.None));
        Assert.Equal(400, e.StatusCode);
        Assert.Equal("invalid_request_error", e.ErrorType);
        return e;
    }
}
