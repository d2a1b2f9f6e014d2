using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Inference.Backends;
using Json.Schema;

namespace Enclave.Inference.Tests.Structured;

/// <summary>
/// The harshest honest test of constrained decoding: random-weight models (whose unconstrained text is noise) of both
/// tokenizer families must write, for every one of 200 seeds per schema, a document that an independent validator
/// (JsonSchema.Net, formats checked) accepts, and end it themselves (finish_reason "stop").
/// </summary>
public sealed class StructuredOutputTests(ConstrainedModelsFixture models) : IClassFixture<ConstrainedModelsFixture>
{
    public const int Seeds = 200;

    private static readonly EvaluationOptions Validation = new() { RequireFormatValidation = true, OutputFormat = OutputFormat.List };

    public static TheoryData<string, string> Corpus()
    {
        var data = new TheoryData<string, string>();
        foreach (var family in new[] { "bpe", "sentencepiece" })
        {
            foreach (var name in SchemaCorpus.Schemas.Keys)
            {
                data.Add(family, name);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Corpus))]
    public async Task EverySeed_WritesACompleteDocument_ThatAnIndependentValidatorAccepts(string family, string schemaName)
    {
        var schemaText = SchemaCorpus.Schemas[schemaName];
        var validator = JsonSchema.FromText(schemaText);
        var backend = models.Family(family);
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Clamp(Environment.ProcessorCount, 1, ConstrainedModelsFixture.EngineOptions.MaxConcurrentSequences) };
        await Parallel.ForEachAsync(Enumerable.Range(0, Seeds), parallel, async (seed, ct) =>
        {
            var response = await backend.ChatAsync(Request(JsonSchemaFormat(schemaText), seed), ct);
            var choice = response.Body["choices"]![0]!;
            var content = (string)choice["message"]!["content"]!;
            var problem = Check(validator, content, (string?)choice["finish_reason"]);
            if (problem is not null)
            {
                failures.Add($"seed {seed}: {problem}: {content}");
            }
        });

        Assert.True(failures.Count == 0, $"{failures.Count} of {Seeds} seeds failed, e.g.\n" + string.Join("\n", failures.Take(5)));
    }

    [Theory]
    [InlineData("bpe")]
    [InlineData("sentencepiece")]
    public async Task JsonObject_EverySeed_WritesAJsonObject(string family)
    {
        var backend = models.Family(family);
        for (var seed = 0; seed < 50; seed++)
        {
            var response = await backend.ChatAsync(Request(new JsonObject { ["type"] = "json_object" }, seed), CancellationToken.None);
            var choice = response.Body["choices"]![0]!;
            Assert.Equal("stop", (string?)choice["finish_reason"]);
            using var document = JsonDocument.Parse((string)choice["message"]!["content"]!);
            Assert.Equal(JsonValueKind.Object, document.RootElement.ValueKind);
        }
    }

    [Theory]
    [InlineData("bpe")]
    [InlineData("sentencepiece")]
    public async Task Streaming_UnderAConstraint_DeltasMakeAValidDocument(string family)
    {
        var schemaText = SchemaCorpus.Schemas["unions"];
        var validator = JsonSchema.FromText(schemaText);
        var backend = models.Family(family);
        for (var seed = 0; seed < 10; seed++)
        {
            var request = Request(JsonSchemaFormat(schemaText), seed);
            request["stream"] = true;
            var text = new System.Text.StringBuilder();
            string? finish = null;
            await foreach (var chunk in backend.ChatStreamAsync(request, CancellationToken.None))
            {
                var choice = chunk["choices"]![0]!;
                text.Append((string?)choice["delta"]!["content"]);
                finish ??= (string?)choice["finish_reason"];
            }

            var whole = await backend.ChatAsync(Request(JsonSchemaFormat(schemaText), seed), CancellationToken.None);
            Assert.Equal((string?)whole.Body["choices"]![0]!["message"]!["content"], text.ToString());
            Assert.Null(Check(validator, text.ToString(), finish));
        }
    }

    [Fact]
    public async Task MaxTokensBelowTheShortestDocument_EndsWithLength_AndAnIncompleteDocument()
    {
        var request = Request(JsonSchemaFormat(SchemaCorpus.Schemas["formats"]), seed: 1);
        request["max_tokens"] = 4;
        var response = await models.BytePairModel.ChatAsync(request, CancellationToken.None);
        var choice = response.Body["choices"]![0]!;
        Assert.Equal("length", (string?)choice["finish_reason"]);
        var content = (string)choice["message"]!["content"]!;
        Assert.StartsWith("{\"", content, StringComparison.Ordinal);
        Assert.ThrowsAny<JsonException>(() => JsonDocument.Parse(content));
        Assert.Equal(4, response.Usage!.Value.CompletionTokens);
    }

    [Theory]
    [InlineData("bpe")]
    [InlineData("sentencepiece")]
    public async Task MaxTokensThatLeaveRoomForADocument_AlwaysFinishIt(string family)
    {
        var schemaText = SchemaCorpus.Schemas["recursive-tree"];
        var validator = JsonSchema.FromText(schemaText);
        for (var seed = 0; seed < 40; seed++)
        {
            var request = Request(JsonSchemaFormat(schemaText), seed);
            request["max_tokens"] = 30; // {"value":0,"children":[]} is 25 bytes
            var response = await models.Family(family).ChatAsync(request, CancellationToken.None);
            var choice = response.Body["choices"]![0]!;
            Assert.Null(Check(validator, (string)choice["message"]!["content"]!, (string?)choice["finish_reason"]));
            Assert.True(response.Usage!.Value.CompletionTokens <= 30);
        }
    }

    [Fact]
    public async Task Completions_TakeAResponseFormatToo()
    {
        var schemaText = SchemaCorpus.Schemas["array"];
        var request = new JsonObject
        {
            ["model"] = "forged",
            ["prompt"] = "Numbers:",
            ["seed"] = 7,
            ["response_format"] = JsonSchemaFormat(schemaText),
        };
        var response = await models.BytePairModel.CompletionAsync(request, CancellationToken.None);
        var choice = response.Body["choices"]![0]!;
        Assert.Null(Check(JsonSchema.FromText(schemaText), (string)choice["text"]!, (string?)choice["finish_reason"]));
    }

    [Fact]
    public async Task IgnoreEos_WithAResponseFormat_IsRefused()
    {
        var request = Request(new JsonObject { ["type"] = "json_object" }, seed: 1);
        request["ignore_eos"] = true;
        var e = await Assert.ThrowsAsync<BackendException>(() => models.BytePairModel.ChatAsync(request, CancellationToken.None));
        Assert.Equal(400, e.StatusCode);
        Assert.Equal("ignore_eos", e.Param);
    }

    internal static JsonObject JsonSchemaFormat(string schemaText) => new()
    {
        ["type"] = "json_schema",
        ["json_schema"] = new JsonObject { ["name"] = "answer", ["strict"] = true, ["schema"] = JsonNode.Parse(schemaText) },
    };

    internal static JsonObject Request(JsonNode responseFormat, int seed) => new()
    {
        ["model"] = "forged",
        ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "Answer in JSON." }),
        ["seed"] = seed,
        ["temperature"] = 1.0,
        ["response_format"] = responseFormat,
    };

    private static string? Check(JsonSchema validator, string content, string? finishReason)
    {
        if (finishReason != "stop")
        {
            return $"finish_reason {finishReason}";
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(content);
        }
        catch (JsonException e)
        {
            return "not JSON: " + e.Message;
        }

        using (document)
        {
            var result = validator.Evaluate(document.RootElement, Validation);
            return result.IsValid ? null : "invalid: " + string.Join("; ", (result.Details ?? []).Where(d => d.Errors is not null).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}")));
        }
    }
}
