using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Inference.Backends;
using Enclave.Inference.Forge;
using Enclave.Inference.Gguf;
using Enclave.Inference.Onnx;
using LLama;
using LLama.Native;

namespace Enclave.Inference.Tests.Gguf;

/// <summary>
/// The parts of the ONNX engine's request surface that GGUF models share through the one generation loop, checked on
/// llama.cpp's logits: greedy is the argmax of llama.cpp's own logits, logit_bias moves them, a JSON schema constrains
/// them to a document that validates, and an unsupported schema keyword is the same 400 naming it.
/// </summary>
public sealed class GgufRequestSurfaceTests(GgufModelsFixture models) : IClassFixture<GgufModelsFixture>
{
    [Fact]
    public async Task Greedy_IsTheArgmaxOfLlamaCppsOwnLogits_EveryStep()
    {
        // A reference loop straight on LLamaSharp (no engine): decode, take llama.cpp's argmax, append it; Q4_0, whose
        // logits agree bit for bit whatever runs beside a sequence.
        var path = Path.Combine(models.Root, "q4", ModelForge.GgufFileName);
        var prompt = models.Quantised.Tokenizer.Encode("hello world", addSpecialTokens: false);
        var expected = new List<int>();
        var (weights, parameters) = GgufLoader.Open(path, new GgufEngineOptions { ContextLength = 256, Threads = 2, BatchSize = 64 }, embeddings: false);
        using (weights)
        using (var context = weights.CreateContext(parameters))
        {
            var batch = new LLamaBatch();
            for (var i = 0; i < prompt.Count; i++)
            {
                batch.Add((LLamaToken)prompt[i], i, LLamaSeqId.Zero, logits: i == prompt.Count - 1);
            }

            for (var step = 0; step < 10; step++)
            {
                Assert.Equal(DecodeResult.Ok, context.NativeHandle.Decode(batch));
                var logits = context.NativeHandle.GetLogitsIth(batch.TokenCount - 1);
                var best = 0;
                for (var v = 1; v < logits.Length; v++)
                {
                    best = logits[v] > logits[best] ? v : best;
                }

                expected.Add(best);
                batch.Clear();
                batch.Add((LLamaToken)best, prompt.Count + step, LLamaSeqId.Zero, logits: true);
            }
        }

        var tokens = new List<int>();
        await foreach (var token in models.Quantised.GenerateTokensAsync(prompt, new SamplingOptions { Temperature = 0, MaxTokens = 10, IgnoreEos = true }))
        {
            tokens.Add(token.Id);
        }

        Assert.Equal(expected, tokens);
        Assert.True(expected.Distinct().Count() > 1, "a continuation of one token repeated proves little");
    }

    [Fact]
    public async Task LogitBias_MovesLlamaCppsLogits_BothWays()
    {
        var prompt = models.Chat.Tokenizer.Encode("hello world", addSpecialTokens: false);
        var greedy = await Tokens(prompt, new SamplingOptions { Temperature = 0, MaxTokens = 1, IgnoreEos = true });
        var banned = await Tokens(prompt, new SamplingOptions { Temperature = 0, MaxTokens = 1, IgnoreEos = true, LogitBias = new Dictionary<int, float> { [greedy[0]] = -100f } });
        Assert.NotEqual(greedy[0], banned[0]);

        var forced = await Tokens(prompt, new SamplingOptions { Temperature = 1, MaxTokens = 6, IgnoreEos = true, Seed = 3, LogitBias = new Dictionary<int, float> { [321] = 100f } });
        Assert.All(forced, id => Assert.Equal(321, id));
    }

    [Fact]
    public async Task JsonSchema_ConstrainsLlamaCppsLogits_ToADocumentThatValidates()
    {
        var request = Chat();
        request["max_tokens"] = 80;
        request["response_format"] = new JsonObject
        {
            ["type"] = "json_schema",
            ["json_schema"] = new JsonObject
            {
                ["name"] = "reading",
                ["strict"] = true,
                ["schema"] = JsonNode.Parse("""{"type":"object","properties":{"n":{"type":"integer","minimum":0,"maximum":9},"s":{"type":"string","maxLength":5}},"required":["n","s"],"additionalProperties":false}"""),
            },
        };
        var response = await models.Backend().ChatAsync(request, CancellationToken.None);

        Assert.Equal("stop", (string?)response.Body["choices"]![0]!["finish_reason"]);
        using var document = JsonDocument.Parse((string)response.Body["choices"]![0]!["message"]!["content"]!);
        Assert.Equal(["n", "s"], document.RootElement.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.InRange(document.RootElement.GetProperty("n").GetInt32(), 0, 9);
        Assert.InRange(document.RootElement.GetProperty("s").GetString()!.Length, 0, 5);
    }

    [Fact]
    public async Task AnUnsupportedSchemaKeyword_IsThe400NamingIt_AsOnOnnx()
    {
        var request = Chat();
        request["response_format"] = new JsonObject
        {
            ["type"] = "json_schema",
            ["json_schema"] = new JsonObject
            {
                ["name"] = "age",
                ["schema"] = JsonNode.Parse("""{"type":"object","properties":{"age":{"type":"integer","multipleOf":3}},"required":["age"]}"""),
            },
        };
        var e = await Assert.ThrowsAsync<BackendException>(() => models.Backend().ChatAsync(request, CancellationToken.None));
        Assert.Equal(400, e.StatusCode);
        Assert.Equal("response_format.json_schema.schema.properties.age.multipleOf", e.Param);
    }

    private async Task<List<int>> Tokens(IReadOnlyList<int> prompt, SamplingOptions sampling)
    {
        var tokens = new List<int>();
        await foreach (var token in models.Chat.GenerateTokensAsync(prompt, sampling))
        {
            tokens.Add(token.Id);
        }

        return tokens;
    }

    private static JsonObject Chat() => new()
    {
        ["model"] = "gguf",
        ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "Hello" }),
        ["seed"] = 6,
        ["temperature"] = 1.0,
    };
}
