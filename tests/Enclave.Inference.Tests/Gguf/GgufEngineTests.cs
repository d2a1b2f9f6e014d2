using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Inference.Backends;
using Enclave.Inference.Gguf;
using Enclave.Inference.Onnx;

namespace Enclave.Inference.Tests.Gguf;

/// <summary>Forged GGUF models through llama.cpp behind the engine's OpenAI surface: the same behaviour as ONNX models.</summary>
public sealed class GgufEngineTests(GgufModelsFixture models) : IClassFixture<GgufModelsFixture>
{
    [Fact]
    public void Load_ReadsTheTokenizer_TheChatTemplate_AndTheShape_FromTheGgufMetadata()
    {
        Assert.Equal(512, models.Chat.VocabSize);
        Assert.Equal(256, models.Chat.ContextLength);
        Assert.NotNull(models.Chat.ChatTemplate);
        Assert.Contains(models.Forged.ImEndId, models.Chat.Tokenizer.EndOfSequenceIds);
        var prompt = models.Chat.ChatTemplate!.Render([new Text.ChatMessage("user", "Hello")], addGenerationPrompt: true);
        Assert.Equal("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n", prompt);
        var ids = models.Chat.Tokenizer.Encode(prompt, addSpecialTokens: false);
        Assert.Equal(models.Forged.ImStartId, ids[0]); // special tokens written in the text are recognised
        Assert.Equal(prompt.Replace("<|im_start|>", string.Empty, StringComparison.Ordinal).Replace("<|im_end|>", string.Empty, StringComparison.Ordinal), models.Chat.Tokenizer.Decode(ids, skipSpecialTokens: true));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Chat_SameSeed_SameText_WithUsage(bool quantised)
    {
        var backend = models.Backend(quantised ? models.Quantised : models.Chat);
        var first = await backend.ChatAsync(Chat(maxTokens: 12, seed: 42), CancellationToken.None);
        var second = await backend.ChatAsync(Chat(maxTokens: 12, seed: 42), CancellationToken.None);

        var text = (string?)first.Body["choices"]![0]!["message"]!["content"];
        Assert.False(string.IsNullOrEmpty(text));
        Assert.Equal(text, (string?)second.Body["choices"]![0]!["message"]!["content"]);
        Assert.Equal(12, first.Usage!.Value.CompletionTokens);
        Assert.Equal(models.Chat.Tokenizer.Encode(models.Chat.ChatTemplate!.Render([new Text.ChatMessage("user", "Hello")], true), false).Count, first.Usage.Value.PromptTokens);
        Assert.Equal("length", (string?)first.Body["choices"]![0]!["finish_reason"]);
    }

    [Fact]
    public void Attention_DefaultsToFlashAttentionWithABf16Cache_AndRefusesAnF16CacheWithFlashAttentionUnlessExactBatchingIsOff()
    {
        var defaults = new GgufEngineOptions();
        Assert.True(defaults.FlashAttention);
        Assert.Equal(GgufCacheType.BF16, defaults.CacheType);
        Assert.True(defaults.ExactBatching);
        Assert.Empty(defaults.Validate());

        var f16 = Assert.Single(new GgufEngineOptions { CacheType = GgufCacheType.F16 }.Validate());
        Assert.StartsWith("Engine:Gguf: CacheType F16 with FlashAttention", f16, StringComparison.Ordinal);
        Assert.Contains("ExactBatching", f16, StringComparison.Ordinal);
        Assert.Empty(new GgufEngineOptions { CacheType = GgufCacheType.F16, ExactBatching = false }.Validate());
        Assert.Empty(new GgufEngineOptions { CacheType = GgufCacheType.F16, FlashAttention = false }.Validate());
        Assert.Empty(new GgufEngineOptions { CacheType = GgufCacheType.BF16, FlashAttention = false }.Validate());
        Assert.Empty(new GgufEngineOptions { CacheType = GgufCacheType.Q8_0 }.Validate());
        Assert.Contains("needs FlashAttention", Assert.Single(new GgufEngineOptions { CacheType = GgufCacheType.Q8_0, FlashAttention = false }.Validate()), StringComparison.Ordinal);
        Assert.Contains("CacheType must be", Assert.Single(new GgufEngineOptions { CacheType = (GgufCacheType)7 }.Validate()), StringComparison.Ordinal);
        var refused = Assert.Throws<ArgumentException>(() => GgufDecoderModel.Load(models.ChatPath, new GgufEngineOptions { CacheType = GgufCacheType.F16 }));
        Assert.Contains("ExactBatching", refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(GgufCacheType.F16, false, true)]
    [InlineData(GgufCacheType.F16, true, false)]
    [InlineData(GgufCacheType.BF16, false, true)]
    public async Task EveryAttentionSetting_Loads_AndGivesTheSameTextForTheSameSeed(GgufCacheType cache, bool flash, bool exact)
    {
        using var model = GgufDecoderModel.Load(models.ChatPath, new GgufEngineOptions { ContextLength = 256, Threads = 2, BatchSize = 64, CacheType = cache, FlashAttention = flash, ExactBatching = exact });
        var backend = models.Backend(model);
        var first = await backend.ChatAsync(Chat(maxTokens: 8, seed: 42), CancellationToken.None);
        var second = await backend.ChatAsync(Chat(maxTokens: 8, seed: 42), CancellationToken.None);
        Assert.Equal(8, first.Usage!.Value.CompletionTokens);
        Assert.Equal((string?)first.Body["choices"]![0]!["message"]!["content"], (string?)second.Body["choices"]![0]!["message"]!["content"]);
    }

    [Fact]
    public void ContinuousBatching_IsOnByDefault_AndBoundsContinuousBatchingFalseTurnsItOff()
    {
        var defaults = new GgufEngineOptions { ContextLength = 256, Threads = 2, BatchSize = 64 };
        Assert.True(defaults.Bounds.ContinuousBatching);
        using var batched = GgufDecoderModel.Load(models.ChatPath, defaults);
        Assert.NotNull(batched.Batcher);
        using var unbatched = GgufDecoderModel.Load(models.ChatPath, defaults with { Bounds = new OnnxEngineOptions { ContinuousBatching = false } });
        Assert.Null(unbatched.Batcher);
    }

    [Fact]
    public async Task Greedy_GivesTheSameTokens_WhateverTheSeed()
    {
        // Temperature 0: our sampler takes the argmax, whatever the seed (GgufRequestSurfaceTests checks it against
        // llama.cpp's own logits).
        var prompt = models.Chat.Tokenizer.Encode("hello world", addSpecialTokens: false);
        var tokens = new List<int>();
        await foreach (var token in models.Chat.GenerateTokensAsync(prompt, new SamplingOptions { Temperature = 0, MaxTokens = 8, IgnoreEos = true }))
        {
            tokens.Add(token.Id);
        }

        var again = new List<int>();
        await foreach (var token in models.Chat.GenerateTokensAsync(prompt, new SamplingOptions { Temperature = 0, MaxTokens = 8, IgnoreEos = true, Seed = 99 }))
        {
            again.Add(token.Id);
        }

        Assert.Equal(8, tokens.Count);
        Assert.Equal(tokens, again);
    }

    [Fact]
    public async Task ChatStream_MatchesTheNonStreamingAnswer_AndEndsWithUsage()
    {
        var backend = models.Backend();
        var whole = await backend.ChatAsync(Chat(maxTokens: 10, seed: 5), CancellationToken.None);
        var request = Chat(maxTokens: 10, seed: 5);
        request["stream"] = true;
        request["stream_options"] = new JsonObject { ["include_usage"] = true };
        var chunks = new List<JsonObject>();
        await foreach (var chunk in backend.ChatStreamAsync(request, CancellationToken.None))
        {
            chunks.Add(chunk);
        }

        var text = string.Concat(chunks.Where(c => c["choices"]!.AsArray().Count > 0).Select(c => (string?)c["choices"]![0]!["delta"]!["content"] ?? string.Empty));
        Assert.Equal((string?)whole.Body["choices"]![0]!["message"]!["content"], text);
        Assert.Equal(10, (int)chunks[^1]["usage"]!["completion_tokens"]!);
    }

    [Fact]
    public async Task NChoices_AndLogprobs_RunOnGguf_AsOnOnnx()
    {
        // Each further choice continues from the prompt (a copy of its cache in the batch) with the request's seed plus its
        // index, so choice 1 of n=2 is the answer of n=1 with seed + 1.
        var backend = models.Backend();
        var request = Chat(maxTokens: 6, seed: 11);
        request["n"] = 2;
        request["logprobs"] = true;
        request["top_logprobs"] = 2;
        var both = await backend.ChatAsync(request, CancellationToken.None);
        var choices = both.Body["choices"]!.AsArray();
        Assert.Equal(2, choices.Count);
        foreach (var choice in choices)
        {
            var content = choice!["logprobs"]!["content"]!.AsArray();
            Assert.NotEmpty(content);
            Assert.All(content, t => Assert.True((double)t!["logprob"]! <= 0 && t["top_logprobs"]!.AsArray().Count == 2));
        }

        var alone = await backend.ChatAsync(Chat(maxTokens: 6, seed: 12), CancellationToken.None);
        Assert.Equal((string?)alone.Body["choices"]![0]!["message"]!["content"], (string?)choices[1]!["message"]!["content"]);
    }

    [Fact]
    public async Task JsonObjectResponseFormat_GivesAJsonDocument_FromRandomWeights()
    {
        var request = Chat(maxTokens: 60, seed: 8);
        request["response_format"] = new JsonObject { ["type"] = "json_object" };
        var response = await models.Backend().ChatAsync(request, CancellationToken.None);

        var content = (string?)response.Body["choices"]![0]!["message"]!["content"];
        if ((string?)response.Body["choices"]![0]!["finish_reason"] == "stop")
        {
            using var document = JsonDocument.Parse(content!);
            Assert.Equal(JsonValueKind.Object, document.RootElement.ValueKind);
        }
        else
        {
            Assert.StartsWith("{", content, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task StopSequence_EndsTheTextBeforeIt()
    {
        var backend = models.Backend();
        var free = (string)(await backend.ChatAsync(Chat(maxTokens: 30, seed: 3), CancellationToken.None)).Body["choices"]![0]!["message"]!["content"]!;
        Assert.True(free.Length > 4, free);
        var stop = free.Substring(2, 2);
        var request = Chat(maxTokens: 30, seed: 3);
        request["stop"] = stop;
        var stopped = await backend.ChatAsync(request, CancellationToken.None);

        Assert.Equal(free[..free.IndexOf(stop, StringComparison.Ordinal)], (string?)stopped.Body["choices"]![0]!["message"]!["content"]);
        Assert.Equal("stop", (string?)stopped.Body["choices"]![0]!["finish_reason"]);
    }

    [Fact]
    public async Task Cancellation_StopsGeneration_AndFreesTheSlot()
    {
        using var cancel = new CancellationTokenSource();
        var prompt = models.Chat.Tokenizer.Encode("hello", addSpecialTokens: false);
        var seen = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in models.Chat.GenerateTokensAsync(prompt, new SamplingOptions { MaxTokens = 200, IgnoreEos = true }, cancel.Token))
            {
                if (++seen == 3)
                {
                    await cancel.CancelAsync();
                }
            }
        });

        Assert.Equal(3, seen);
        Assert.Equal(0, models.Chat.Scheduler.Running);
    }

    [Fact]
    public async Task BeyondTheSlotsAndTheQueue_Is503WithRetryAfter()
    {
        var prompt = models.Chat.Tokenizer.Encode("hello", addSpecialTokens: false);
        var sampling = new SamplingOptions { MaxTokens = 50, IgnoreEos = true };
        var running = new List<IAsyncEnumerator<GeneratedToken>>();
        try
        {
            for (var i = 0; i < 2; i++)
            {
                var e = models.Chat.GenerateTokensAsync(prompt, sampling).GetAsyncEnumerator();
                Assert.True(await e.MoveNextAsync());
                running.Add(e);
            }

            var queued = models.Chat.GenerateTokensAsync(prompt, sampling).GetAsyncEnumerator();
            var waiting = queued.MoveNextAsync();
            var refused = models.Chat.GenerateTokensAsync(prompt, sampling).GetAsyncEnumerator();
            var e503 = await Assert.ThrowsAsync<BackendException>(async () => await refused.MoveNextAsync());
            Assert.Equal(503, e503.StatusCode);
            Assert.NotNull(e503.RetryAfter);
            await running[0].DisposeAsync();
            running.RemoveAt(0);
            Assert.True(await waiting);
            await queued.DisposeAsync();
        }
        finally
        {
            foreach (var e in running)
            {
                await e.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task PromptLongerThanTheContext_Is400()
    {
        var e = await Assert.ThrowsAsync<BackendException>(async () =>
        {
            await foreach (var _ in models.Chat.GenerateTokensAsync(Enumerable.Repeat(5, 300).ToArray(), new SamplingOptions()))
            {
            }
        });
        Assert.Equal(400, e.StatusCode);
    }

    [Fact]
    public async Task Embeddings_AreUnitLength_Deterministic_AndDifferPerText()
    {
        var request = new JsonObject { ["model"] = "gguf", ["input"] = new JsonArray("the quick brown fox", "a different sentence", "the quick brown fox") };
        var response = await models.Backend().EmbeddingsAsync(request, CancellationToken.None);

        var vectors = response.Body["data"]!.AsArray().Select(d => d!["embedding"]!.AsArray().Select(v => (float)v!).ToArray()).ToArray();
        Assert.Equal(3, vectors.Length);
        Assert.All(vectors, v => Assert.Equal(64, v.Length));
        Assert.All(vectors, v => Assert.InRange(Math.Sqrt(v.Sum(x => (double)x * x)), 0.999, 1.001));
        Assert.Equal(vectors[0], vectors[2]);
        Assert.NotEqual(vectors[0], vectors[1]);
        Assert.True(response.Usage!.Value.PromptTokens > 3);
    }

    [Fact]
    public void Load_OfAMissingFile_IsAnInvalidModel_NamingIt()
    {
        var path = Path.Combine(models.Root, "absent.gguf");
        var e = Assert.Throws<InvalidModelException>(() => GgufDecoderModel.Load(path));
        Assert.Equal(ModelRejectionReason.MissingFile, e.Reason);
    }

    private static JsonObject Chat(int maxTokens, int seed) => new()
    {
        ["model"] = "gguf",
        ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "Hello" }),
        ["max_tokens"] = maxTokens,
        ["seed"] = seed,
        ["temperature"] = 1.0,
    };
}
