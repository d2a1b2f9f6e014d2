using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Enclave.Inference.Backends;
using Json.Schema;

namespace Enclave.Inference.Tests.Tools;

/// <summary>
/// <c>tool_choice</c> <c>required</c> and a named function are enforced by constrained decoding of the family's call
/// format: random-weight models (whose free text is noise) of both tokenizer families must, for every seed, answer with
/// calls to declared functions whose arguments an independent validator (JsonSchema.Net, formats checked) accepts.
/// </summary>
public sealed class ConstrainedToolCallTests(ToolModelsFixture models) : IClassFixture<ToolModelsFixture>
{
    public const int Seeds = 200;

    private static readonly EvaluationOptions Validation = new() { RequireFormatValidation = true, OutputFormat = OutputFormat.List };

    public static TheoryData<string, string, string> Cases()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var (family, template) in new[] { ("bpe", "forged"), ("sentencepiece", "qwen2.5") })
        {
            foreach (var choice in new[] { "required", "get_weather", "book", "now" })
            {
                data.Add(family, template, choice);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task EverySeed_CallsADeclaredFunction_WithArgumentsThatValidate(string family, string template, string choice)
    {
        var backend = template == "forged" ? models.Forged : models.Serve(family, template);
        await AssertEverySeedCalls(backend, choice, Seeds);
    }

    [Theory]
    [InlineData("sentencepiece", "mistral-v0.3", "required")]
    [InlineData("sentencepiece", "mistral-v0.3", "book")]
    [InlineData("bpe", "mistral-v0.3", "get_weather")]
    [InlineData("bpe", "llama3.1", "required")]
    [InlineData("bpe", "llama3.1", "book")]
    [InlineData("sentencepiece", "llama3.1", "get_weather")]
    public async Task OtherFamilies_EverySeed_CallsADeclaredFunction_WithArgumentsThatValidate(string family, string template, string choice)
    {
        await AssertEverySeedCalls(models.Serve(family, template), choice, 50);
    }

    [Theory]
    [InlineData("forged")]
    [InlineData("mistral-v0.3")]
    [InlineData("llama3.1")]
    public async Task ParallelToolCallsFalse_GivesExactlyOneCall(string template)
    {
        var backend = template == "forged" ? models.Forged : models.Serve("bpe", template);
        for (var seed = 0; seed < 20; seed++)
        {
            var response = await backend.ChatAsync(ToolCorpus.Request("required", seed, parallel: false), CancellationToken.None);
            Assert.Single(response.Body["choices"]![0]!["message"]!["tool_calls"]!.AsArray());
        }
    }

    [Fact]
    public async Task Streaming_ToolCallDeltas_AddUpToTheAnswer()
    {
        var backend = models.Forged;
        for (var seed = 0; seed < 10; seed++)
        {
            var whole = await backend.ChatAsync(ToolCorpus.Request(ToolCorpus.Named("book"), seed), CancellationToken.None);
            var request = ToolCorpus.Request(ToolCorpus.Named("book"), seed);
            request["stream"] = true;
            var arguments = new System.Text.StringBuilder();
            string? id = null, name = null, finish = null, role = null;
            var chunks = 0;
            await foreach (var chunk in backend.ChatStreamAsync(request, CancellationToken.None))
            {
                chunks++;
                Assert.Equal("chat.completion.chunk", (string?)chunk["object"]);
                var choice = chunk["choices"]![0]!;
                var delta = choice["delta"]!.AsObject();
                role ??= (string?)delta["role"];
                finish ??= (string?)choice["finish_reason"];
                if (delta["tool_calls"] is JsonArray calls)
                {
                    var call = Assert.Single(calls)!;
                    Assert.Equal(0, (int)call["index"]!);
                    if (call["id"] is not null)
                    {
                        Assert.Null(id); // the ID and name come once, in the call's first delta
                        id = (string?)call["id"];
                        Assert.Equal("function", (string?)call["type"]);
                        name = (string?)call["function"]!["name"];
                        Assert.Equal(string.Empty, (string?)call["function"]!["arguments"]);
                    }
                    else
                    {
                        Assert.NotNull(id);
                        arguments.Append((string?)call["function"]!["arguments"]);
                    }
                }
            }

            var expected = whole.Body["choices"]![0]!["message"]!["tool_calls"]![0]!;
            Assert.Equal("assistant", role);
            Assert.StartsWith("call_", id, StringComparison.Ordinal);
            Assert.Equal("book", name);
            Assert.Equal((string?)expected["function"]!["arguments"], arguments.ToString());
            Assert.Equal("stop", finish); // a named function: OpenAI's finish reason is "stop"
            Assert.True(chunks >= 4);
        }
    }

    [Theory]
    [InlineData("bpe", "forged", "auto")]
    [InlineData("bpe", "forged", "required")]
    [InlineData("bpe", "forged", "book")]
    [InlineData("sentencepiece", "qwen2.5", "required")]
    [InlineData("bpe", "mistral-v0.3", "required")]
    [InlineData("sentencepiece", "mistral-v0.3", "auto")]
    [InlineData("bpe", "llama3.1", "required")]
    [InlineData("bpe", "llama3.1", "auto")]
    public async Task Streaming_DeltasAddUpToTheUnstreamedAnswer_ForEverySeed(string family, string template, string choice)
    {
        var backend = template == "forged" ? models.Forged : models.Serve(family, template);
        var toolChoice = choice switch { "auto" or "required" => JsonValue.Create(choice), _ => (JsonNode)ToolCorpus.Named(choice) };
        for (var seed = 0; seed < 25; seed++)
        {
            var whole = await backend.ChatAsync(ToolCorpus.Request(toolChoice.DeepClone(), seed), CancellationToken.None);
            var streamed = await ToolStreams.FoldAsync(backend, ToolCorpus.Request(toolChoice.DeepClone(), seed));
            Assert.Equal(ToolStreams.Shape(whole.Body["choices"]![0]!), streamed);
        }
    }

    private static async Task AssertEverySeedCalls(IInferenceBackend backend, string choice, int seeds)
    {
        var toolChoice = choice == "required" ? JsonValue.Create("required") : (JsonNode)ToolCorpus.Named(choice);
        var validators = ToolCorpus.Parameters.ToDictionary(p => p.Key, p => JsonSchema.FromText(p.Value));
        var failures = new ConcurrentBag<string>();
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Clamp(Environment.ProcessorCount, 1, ToolModelsFixture.EngineOptions.MaxConcurrentSequences) };
        await Parallel.ForEachAsync(Enumerable.Range(0, seeds), parallel, async (seed, ct) =>
        {
            var response = await backend.ChatAsync(ToolCorpus.Request(toolChoice.DeepClone(), seed), ct);
            var choiceNode = response.Body["choices"]![0]!;
            var problem = Check(choiceNode, choice, validators);
            if (problem is not null)
            {
                failures.Add($"seed {seed}: {problem}: {choiceNode["message"]!.ToJsonString()}");
            }
        });

        Assert.True(failures.IsEmpty, $"{failures.Count} of {seeds} seeds failed, e.g.\n" + string.Join("\n", failures.Take(5)));
    }

    private static string? Check(JsonNode choice, string expected, Dictionary<string, JsonSchema> validators)
    {
        var finish = (string?)choice["finish_reason"];
        if (finish != (expected == "required" ? "tool_calls" : "stop"))
        {
            return $"finish_reason {finish}";
        }

        if (choice["message"]!["tool_calls"] is not JsonArray { Count: > 0 } calls)
        {
            return "no tool_calls";
        }

        foreach (var call in calls)
        {
            var name = (string)call!["function"]!["name"]!;
            if (expected != "required" && name != expected)
            {
                return $"called {name}, not {expected}";
            }

            if (!((string)call["id"]!).StartsWith("call_", StringComparison.Ordinal) || (string?)call["type"] != "function")
            {
                return "call without an id or type";
            }

            var arguments = System.Text.Json.JsonDocument.Parse((string)call["function"]!["arguments"]!);
            var result = validators[name].Evaluate(arguments.RootElement, Validation);
            if (!result.IsValid)
            {
                var errors = (result.Details ?? []).Where(d => d.Errors is not null).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"));
                return "arguments invalid: " + string.Join("; ", errors);
            }
        }

        return null;
    }
}
