using System.Text;
using System.Text.Json.Nodes;
using Enclave.Inference.Backends;
using Enclave.Inference.Onnx;
using Enclave.Inference.Text;

namespace Enclave.Inference.Tests.Onnx;

/// <summary>
/// The rest of the OpenAI request surface on the built-in engine: <c>n</c> choices from one prefill, logprobs and
/// top_logprobs, logit_bias, the presence and frequency penalties, and the legacy completions' logprobs.
/// </summary>
public sealed class RequestSurfaceTests(ForgedModelsFixture models) : IClassFixture<ForgedModelsFixture>
{
    private OnnxInferenceBackend Backend => new("local", new LocalChatModel(models.Decoder, models.Tokenizer, new PlainTemplate()), null);

    [Fact]
    public async Task N_GivesThatManyChoices_FromOnePrefill_EachAsItsOwnSeedWouldAlone()
    {
        var before = models.Decoder.TokensRun;
        var response = await Backend.ChatAsync(Chat(maxTokens: 5, seed: 7, n: 3), CancellationToken.None);
        var ran = models.Decoder.TokensRun - before;

        var choices = response.Body["choices"]!.AsArray();
        Assert.Equal([0, 1, 2], choices.Select(c => (int)c!["index"]!));
        var prompt = response.Usage!.Value.PromptTokens;
        Assert.Equal(15, response.Usage.Value.CompletionTokens);
        Assert.Equal(prompt + (3 * 4), ran); // the prompt ran once; each choice ran its own 4 steps after the first token

        for (var i = 0; i < 3; i++)
        {
            var alone = await Backend.ChatAsync(Chat(maxTokens: 5, seed: 7 + i, n: 1), CancellationToken.None);
            Assert.Equal((string?)alone.Body["choices"]![0]!["message"]!["content"], (string?)choices[i]!["message"]!["content"]);
        }
    }

    [Fact]
    public async Task N_Streamed_EachChoiceAddsUpToItsAnswer_AndUsageCountsThemAll()
    {
        var whole = await Backend.ChatAsync(Chat(maxTokens: 6, seed: 3, n: 2), CancellationToken.None);
        var request = Chat(maxTokens: 6, seed: 3, n: 2);
        request["stream"] = true;
        request["stream_options"] = new JsonObject { ["include_usage"] = true };
        var texts = new[] { new StringBuilder(), new StringBuilder() };
        var finishes = new string?[2];
        JsonObject? last = null;
        await foreach (var chunk in Backend.ChatStreamAsync(request, CancellationToken.None))
        {
            last = chunk;
            foreach (var choice in chunk["choices"]!.AsArray())
            {
                var index = (int)choice!["index"]!;
                texts[index].Append((string?)choice["delta"]!["content"]);
                finishes[index] ??= (string?)choice["finish_reason"];
            }
        }

        for (var i = 0; i < 2; i++)
        {
            Assert.Equal((string?)whole.Body["choices"]![i]!["message"]!["content"], texts[i].ToString());
            Assert.Equal("length", finishes[i]);
        }

        Assert.Equal(12, (int)last!["usage"]!["completion_tokens"]!);
    }

    [Fact]
    public async Task Logprobs_Greedy_EachTokenIsItsStepsBest_WithSortedAlternatives()
    {
        var request = Chat(maxTokens: 8, seed: 1, n: 1);
        request["temperature"] = 0;
        request["logprobs"] = true;
        request["top_logprobs"] = 3;
        var response = await Backend.ChatAsync(request, CancellationToken.None);
        var choice = response.Body["choices"]![0]!;
        var content = choice["logprobs"]!["content"]!.AsArray();
        Assert.Equal(8, content.Count);
        foreach (var entry in content)
        {
            var logprob = (double)entry!["logprob"]!;
            var top = entry["top_logprobs"]!.AsArray();
            Assert.Equal(3, top.Count);
            Assert.True(logprob <= 0);
            Assert.Equal(logprob, (double)top[0]!["logprob"]!, 5);
            Assert.Equal((string?)entry["token"], (string?)top[0]!["token"]);
            Assert.True((double)top[0]!["logprob"]! >= (double)top[1]!["logprob"]! && (double)top[1]!["logprob"]! >= (double)top[2]!["logprob"]!);
            Assert.True(top.Sum(t => Math.Exp((double)t!["logprob"]!)) <= 1.0001);
            Assert.NotEmpty(entry["bytes"]!.AsArray());
        }
    }

    [Fact]
    public async Task Logprobs_WithoutTopLogprobs_GiveEmptyAlternatives_AndOffMeansNull()
    {
        var request = Chat(maxTokens: 3, seed: 1, n: 1);
        request["logprobs"] = true;
        var response = await Backend.ChatAsync(request, CancellationToken.None);
        Assert.All(response.Body["choices"]![0]!["logprobs"]!["content"]!.AsArray(), e => Assert.Empty(e!["top_logprobs"]!.AsArray()));

        var off = await Backend.ChatAsync(Chat(maxTokens: 3, seed: 1, n: 1), CancellationToken.None);
        Assert.Null(off.Body["choices"]![0]!["logprobs"]);
    }

    [Fact]
    public async Task LogitBias_OfPlus100_MakesThatTokenTheOnlyOne_AndMinus100_BansIt()
    {
        var request = Chat(maxTokens: 6, seed: 2, n: 1);
        request["logit_bias"] = new JsonObject { ["104"] = 100 };
        var response = await Backend.ChatAsync(request, CancellationToken.None);
        var expected = models.Tokenizer.Decode(Enumerable.Repeat(104, 6).ToArray(), skipSpecialTokens: false);
        Assert.Equal(expected, (string?)response.Body["choices"]![0]!["message"]!["content"]);

        var prompt = models.Tokenizer.Encode(new PlainTemplate().Render([new ChatMessage("user", "Hello")], true), addSpecialTokens: false);
        var greedy = new SamplingOptions { Temperature = 0, MaxTokens = 1, IgnoreEos = true };
        var first = await FirstToken(prompt, greedy);
        var banned = await FirstToken(prompt, greedy with { LogitBias = new Dictionary<int, float> { [first] = -100 } });
        Assert.NotEqual(first, banned);
    }

    private async Task<int> FirstToken(IReadOnlyList<int> prompt, SamplingOptions sampling)
    {
        await foreach (var token in models.Decoder.GenerateTokensAsync(prompt, sampling))
        {
            return token.Id;
        }

        throw new InvalidOperationException("no token");
    }

    [Fact]
    public void Penalties_LowerTokensAlreadyGenerated_PresenceOnce_FrequencyPerTime()
    {
        var sampling = new SamplingOptions { Temperature = 0, PresencePenalty = 1f, FrequencyPenalty = 0.5f, LogitBias = new Dictionary<int, float> { [2] = 3f } };
        var step = new StepLogits(sampling, null, 4);
        var sampler = new Sampler(sampling, 0);
        float[] logits = [0f, 0.1f, 0f, 0f];
        var drawn = new List<int>();
        for (var i = 0; i < 5; i++)
        {
            var (id, _) = step.Draw(logits, sampler, 10);
            drawn.Add(id);
            step.Generated(id);
        }

        // Token 2: 3, then 3 - 1 - 0.5 = 1.5, then 1.0, then 0.5 (still above 0.1), then 0.0: token 1 (0.1) wins.
        Assert.Equal([2, 2, 2, 2, 1], drawn);
    }

    [Fact]
    public void Logprob_IsTheLogSoftmax_AndTopBreaksTiesByLowerId()
    {
        float[] logits = [1f, 2f, 2f, float.NegativeInfinity];
        var logprob = StepLogits.Logprob(logits, 0, 3);
        var logSum = Math.Log(Math.Exp(1) + (2 * Math.Exp(2)));
        Assert.Equal(1 - logSum, logprob.Logprob, 5);
        Assert.Equal([1, 2, 0], logprob.Top.Select(t => t.Id));
        Assert.Equal(2 - logSum, logprob.Top[0].Logprob, 5);
    }

    [Fact]
    public async Task Completions_N_AndLegacyLogprobs_AreParallelArrays()
    {
        var request = new JsonObject
        {
            ["model"] = "forged",
            ["prompt"] = "Once",
            ["max_tokens"] = 4,
            ["seed"] = 5,
            ["n"] = 2,
            ["logprobs"] = 2,
            ["ignore_eos"] = true,
        };
        var response = await Backend.CompletionAsync(request, CancellationToken.None);
        var choices = response.Body["choices"]!.AsArray();
        Assert.Equal(2, choices.Count);
        foreach (var choice in choices)
        {
            var logprobs = choice!["logprobs"]!;
            Assert.Equal(4, logprobs["tokens"]!.AsArray().Count);
            Assert.Equal(4, logprobs["token_logprobs"]!.AsArray().Count);
            Assert.Equal(4, logprobs["text_offset"]!.AsArray().Count);
            Assert.All(logprobs["top_logprobs"]!.AsArray(), t => Assert.InRange(t!.AsObject().Count, 1, 2));
        }

        Assert.Equal(8, response.Usage!.Value.CompletionTokens);
    }

    [Theory]
    [InlineData("""{"logprobs":6}""", "logprobs")]
    [InlineData("""{"echo":true}""", "echo")]
    [InlineData("""{"best_of":2}""", "best_of")]
    [InlineData("""{"messages":[]}""", "messages")]
    [InlineData("""{"n":0}""", "n")]
    public async Task Completions_UnsupportedOrMalformed_Are400_NamingTheParameter(string fields, string param)
    {
        var request = new JsonObject { ["model"] = "forged", ["prompt"] = "Once", ["max_tokens"] = 2 };
        foreach (var (key, value) in JsonNode.Parse(fields)!.AsObject())
        {
            request[key] = value?.DeepClone();
        }

        var e = await Assert.ThrowsAsync<BackendException>(() => Backend.CompletionAsync(request, CancellationToken.None));
        Assert.Equal(param, e.Param);
    }

    private static JsonObject Chat(int maxTokens, int seed, int n) => new()
    {
        ["model"] = "forged",
        ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "Hello" }),
        ["max_tokens"] = maxTokens,
        ["seed"] = seed,
        ["n"] = n,
        ["ignore_eos"] = true,
    };

    private sealed class PlainTemplate : IChatTemplate
    {
        public string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt) =>
            string.Concat(messages.Select(m => m.Role + ": " + m.Content + "\n")) + (addGenerationPrompt ? "assistant: " : string.Empty);
    }
}
