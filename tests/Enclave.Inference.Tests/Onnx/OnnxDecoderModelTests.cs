using System.Diagnostics;
using Enclave.Inference.Backends;
using Enclave.Inference.Onnx;

namespace Enclave.Inference.Tests.Onnx;

public sealed class OnnxDecoderModelTests(ForgedModelsFixture models) : IClassFixture<ForgedModelsFixture>
{
    private static readonly int[] Prompt = [12, 40, 7, 301, 99, 5, 250];

    private OnnxDecoderModel Model => models.Decoder;

    [Fact]
    public void Load_ReadsTheForgedConfig()
    {
        var config = Model.Config;
        Assert.Equal("qwen2", config.ModelType);
        Assert.Equal(2, config.Layers);
        Assert.Equal(4, config.AttentionHeads);
        Assert.Equal(2, config.KeyValueHeads);
        Assert.Equal(16, config.HeadDim);
        Assert.Equal(512, config.VocabSize);
        Assert.Equal(128, config.MaxPositions);
        Assert.Equal(new HashSet<int> { models.Forged.ImEndId, models.Forged.EndOfTextId }, config.EosTokenIds);
    }

    [Fact]
    public async Task Generate_WithTheSameSeed_GivesTheSameTokens_AndAnotherSeedOthers()
    {
        var sampling = new SamplingOptions { Temperature = 1f, Seed = 42, MaxTokens = 24, IgnoreEos = true };
        var first = await Tokens(Prompt, sampling);
        var second = await Tokens(Prompt, sampling);
        var other = await Tokens(Prompt, sampling with { Seed = 43 });

        Assert.Equal(24, first.Count);
        Assert.Equal(first, second);
        Assert.NotEqual(first, other);
    }

    [Fact]
    public async Task KvCacheGeneration_EqualsFullRecompute_TokenByToken()
    {
        var generated = await Tokens(Prompt, new SamplingOptions { Temperature = 0f, MaxTokens = 20, IgnoreEos = true });
        var sequence = new List<int>(Prompt);
        foreach (var token in generated)
        {
            var recomputed = Model.LogitsWithoutCache(sequence);
            Assert.Equal(Sampler.ArgMax(recomputed), token);
            sequence.Add(token);
        }

        // And the logits themselves, step by step, against a run of the whole sequence from an empty cache.
        using var cached = new DecoderSequence(Model);
        cached.Append(Prompt, CancellationToken.None);
        for (var i = Prompt.Length; i < sequence.Count; i++)
        {
            var reference = Model.LogitsWithoutCache(sequence[..i]);
            var logits = cached.Logits;
            for (var v = 0; v < reference.Length; v++)
            {
                Assert.True(Math.Abs(reference[v] - logits[v]) <= 1e-3f * Math.Max(1f, Math.Abs(reference[v])), $"step {i}, logit {v}: {logits[v]} vs {reference[v]}");
            }

            cached.Append([sequence[i]], CancellationToken.None);
        }

        Assert.Equal(sequence.Count, cached.Length);
    }

    [Fact]
    public async Task Generation_RunsThePromptOnce_ThenOneTokenPerStep()
    {
        using var model = OnnxDecoderModel.Load(models.Forged.Directory, ForgedModelsFixture.EngineOptions);
        var count = 0;
        await foreach (var unused in model.GenerateTokensAsync(Prompt, new SamplingOptions { Seed = 4, MaxTokens = 25, IgnoreEos = true }))
        {
            count++;
        }

        // The last token is sampled from the previous step's logits and never run itself.
        Assert.Equal(25, count);
        Assert.Equal(Prompt.Length + 25 - 1, model.TokensRun);
    }

    [Fact]
    public async Task ChunkedPrefill_GivesTheSameLogitsAndTokens_AsAWholePromptRun()
    {
        using var chunked = OnnxDecoderModel.Load(models.Forged.Directory, ForgedModelsFixture.EngineOptions with { PrefillChunkTokens = 3 });
        int[] prompt = [.. Prompt, .. Prompt, 1, 2, 3];
        var whole = Model.LogitsWithoutCache(prompt);
        var pieces = chunked.LogitsWithoutCache(prompt);
        for (var v = 0; v < whole.Length; v++)
        {
            Assert.Equal(whole[v], pieces[v], 3);
        }

        var sampling = new SamplingOptions { Temperature = 0f, MaxTokens = 10, IgnoreEos = true };
        var expected = await Tokens(prompt, sampling);
        var actual = new List<int>();
        await foreach (var token in chunked.GenerateTokensAsync(prompt, sampling))
        {
            actual.Add(token.Id);
        }

        Assert.Equal(expected, actual);
    }

    [Fact]
    public async Task TemperatureZero_IsGreedy_WhateverTheSeed()
    {
        var a = await Tokens(Prompt, new SamplingOptions { Temperature = 0f, Seed = 1, MaxTokens = 8, IgnoreEos = true });
        var b = await Tokens(Prompt, new SamplingOptions { Temperature = 0f, Seed = 2, MaxTokens = 8, IgnoreEos = true, TopP = 0.5f });
        var topK1 = await Tokens(Prompt, new SamplingOptions { Temperature = 1.5f, TopK = 1, MaxTokens = 8, IgnoreEos = true });
        Assert.Equal(a, b);
        Assert.Equal(a, topK1);
        Assert.Equal(Sampler.ArgMax(Model.LogitsWithoutCache(Prompt)), a[0]);
    }

    [Fact]
    public async Task MaxTokens_EndsGenerationWithLength()
    {
        var tokens = new List<GeneratedToken>();
        await foreach (var token in Model.GenerateTokensAsync(Prompt, new SamplingOptions { Seed = 3, MaxTokens = 5, IgnoreEos = true }))
        {
            tokens.Add(token);
        }

        Assert.Equal(5, tokens.Count);
        Assert.All(tokens[..4], t => Assert.Null(t.FinishReason));
        Assert.Equal(FinishReason.Length, tokens[4].FinishReason);

        var chunks = await Chunks(Prompt, new SamplingOptions { Seed = 3, MaxTokens = 5, IgnoreEos = true });
        Assert.Equal(FinishReason.Length, chunks[^1].FinishReason);
        Assert.Equal(5, chunks[^1].CompletionTokens);
        Assert.Equal(Prompt.Length, chunks[^1].PromptTokens);
    }

    [Fact]
    public async Task MaxTokens_IsCappedByTheContext()
    {
        var longPrompt = Enumerable.Range(0, 125).Select(i => i % 500).ToArray();
        var tokens = await Tokens(longPrompt, new SamplingOptions { Seed = 1, MaxTokens = 50, IgnoreEos = true });
        Assert.Equal(3, tokens.Count);
    }

    [Fact]
    public async Task EosToken_EndsGenerationWithStop_AndIsNotDecoded()
    {
        var greedy = new SamplingOptions { Temperature = 0f, MaxTokens = 10 };
        var first = (await Tokens(Prompt, greedy with { IgnoreEos = true }))[0];
        var tokenizer = models.Tokenizer;
        var withEos = new EosTokenizer(tokenizer, first);

        var chunks = await Chunks(Prompt, greedy, withEos);
        var last = Assert.Single(chunks);
        Assert.Equal(FinishReason.Stop, last.FinishReason);
        Assert.Equal(string.Empty, last.Text);
        Assert.Equal(1, last.CompletionTokens);
    }

    [Fact]
    public async Task StopSequence_SplitAcrossTokens_EndsTheTextBeforeIt()
    {
        var sampling = new SamplingOptions { Temperature = 0f, MaxTokens = 40, IgnoreEos = true };
        var tokens = await Tokens(Prompt, sampling);
        var pieces = tokens.Select(t => models.Tokenizer.Decode([t], skipSpecialTokens: true)).ToList();
        var full = models.Tokenizer.Decode(tokens, skipSpecialTokens: true);

        // A stop text made of the last character of one token and the first of the next (both clean ASCII or Latin).
        string? stop = null;
        for (var i = 3; i + 1 < pieces.Count && stop is null; i++)
        {
            if (pieces[i].Length > 0 && pieces[i + 1].Length > 0 && !pieces[i].Contains('\uFFFD', StringComparison.Ordinal) && !pieces[i + 1].Contains('\uFFFD', StringComparison.Ordinal))
            {
                stop = string.Concat(pieces[i][^1], pieces[i + 1][0]);
            }
        }

        Assert.NotNull(stop);
        var chunks = await Chunks(Prompt, sampling with { Stop = ["never appears \u2603", stop] });
        var text = string.Concat(chunks.Select(c => c.Text));
        Assert.Equal(full[..full.IndexOf(stop, StringComparison.Ordinal)], text);
        Assert.Equal(FinishReason.Stop, chunks[^1].FinishReason);
        Assert.DoesNotContain(stop, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StreamedText_EqualsTheDecodedTokens_WhenNothingStopsIt()
    {
        var sampling = new SamplingOptions { Seed = 9, MaxTokens = 30, IgnoreEos = true };
        var tokens = await Tokens(Prompt, sampling);
        var chunks = await Chunks(Prompt, sampling);
        Assert.Equal(models.Tokenizer.Decode(tokens, skipSpecialTokens: true), string.Concat(chunks.Select(c => c.Text)));
        Assert.All(chunks[..^1], c => Assert.Null(c.FinishReason));
    }

    [Fact]
    public async Task ConcurrentGenerations_OnOneSession_EqualSequentialOnes()
    {
        var requests = Enumerable.Range(0, 6)
            .Select(i => new SamplingOptions { Temperature = 0.9f, TopP = 0.95f, TopK = 50, Seed = 100 + i, MaxTokens = 16, IgnoreEos = true })
            .ToList();
        var sequential = new List<List<int>>();
        foreach (var request in requests)
        {
            sequential.Add(await Tokens(Prompt, request));
        }

        var concurrent = await Task.WhenAll(requests.Select(request => Task.Run(() => Tokens(Prompt, request))));
        for (var i = 0; i < requests.Count; i++)
        {
            Assert.Equal(sequential[i], concurrent[i]);
        }
    }

    [Fact]
    public async Task Cancellation_StopsGeneration_AndFreesTheSlot()
    {
        using var cts = new CancellationTokenSource();
        var received = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var token in Model.GenerateTokensAsync(Prompt, new SamplingOptions { Seed = 1, IgnoreEos = true }, cts.Token))
            {
                if (++received == 3)
                {
                    await cts.CancelAsync();
                }
            }
        });

        Assert.Equal(3, received);
        Assert.Equal(0, Model.Scheduler.Running);
    }

    [Fact]
    public async Task Cancellation_BeforeTheFirstToken_GeneratesNothing()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var unused in Model.GenerateTextAsync(Prompt, models.Tokenizer, new SamplingOptions(), cts.Token))
            {
                Assert.Fail("no chunk after cancellation");
            }
        });
    }

    [Fact]
    public async Task Overload_BeyondSlotsAndQueue_Is503WithRetryAfter_AndTheQueueMovesOn()
    {
        using var model = OnnxDecoderModel.Load(models.Forged.Directory, ForgedModelsFixture.EngineOptions with
        {
            MaxConcurrentSequences = 1,
            MaxQueuedSequences = 1,
            RetryAfter = TimeSpan.FromSeconds(2),
        });
        var sampling = new SamplingOptions { Seed = 1, MaxTokens = 4, IgnoreEos = true };

        await using var running = model.GenerateTokensAsync(Prompt, sampling).GetAsyncEnumerator();
        Assert.True(await running.MoveNextAsync()); // holds the only slot

        await using var queued = model.GenerateTokensAsync(Prompt, sampling).GetAsyncEnumerator();
        var queuedFirst = queued.MoveNextAsync().AsTask(); // waits in the queue
        await WaitUntil(() => model.Scheduler.Queued == 1);
        Assert.False(queuedFirst.IsCompleted);

        await using var refused = model.GenerateTokensAsync(Prompt, sampling).GetAsyncEnumerator();
        var error = await Assert.ThrowsAsync<BackendException>(async () => await refused.MoveNextAsync());
        Assert.Equal(503, error.StatusCode);
        Assert.Equal("overloaded", error.ErrorType);
        Assert.Equal(TimeSpan.FromSeconds(2), error.RetryAfter);
        Assert.True(error.Retryable);

        while (await running.MoveNextAsync())
        {
        }

        Assert.True(await queuedFirst);
        Assert.Equal(0, model.Scheduler.Queued);
    }

    [Fact]
    public async Task InvalidRequests_Are400_WithTheParameterNamed()
    {
        async Task<BackendException> Refused(IReadOnlyList<int> prompt, SamplingOptions sampling) =>
            await Assert.ThrowsAsync<BackendException>(async () => await Tokens(prompt, sampling));

        Assert.Contains("vocabulary", (await Refused([1, 512], new SamplingOptions())).Message, StringComparison.Ordinal);
        Assert.Contains("context", (await Refused(new int[128], new SamplingOptions())).Message, StringComparison.Ordinal);
        Assert.Contains("temperature", (await Refused(Prompt, new SamplingOptions { Temperature = 3f })).Message, StringComparison.Ordinal);
        Assert.Contains("top_p", (await Refused(Prompt, new SamplingOptions { TopP = 0f })).Message, StringComparison.Ordinal);
        Assert.Contains("max_tokens", (await Refused(Prompt, new SamplingOptions { MaxTokens = 0 })).Message, StringComparison.Ordinal);
        var stop = await Refused(Prompt, new SamplingOptions { Stop = ["a", "b", "c", "d", "e"] });
        Assert.Equal(400, stop.StatusCode);
        Assert.Equal("invalid_request_error", stop.ErrorType);
    }

    private async Task<List<int>> Tokens(IReadOnlyList<int> prompt, SamplingOptions sampling)
    {
        var tokens = new List<int>();
        await foreach (var token in Model.GenerateTokensAsync(prompt, sampling))
        {
            tokens.Add(token.Id);
        }

        return tokens;
    }

    private async Task<List<GenerationChunk>> Chunks(IReadOnlyList<int> prompt, SamplingOptions sampling, Text.ITextTokenizer? tokenizer = null)
    {
        var chunks = new List<GenerationChunk>();
        await foreach (var chunk in Model.GenerateTextAsync(prompt, tokenizer ?? models.Tokenizer, sampling))
        {
            chunks.Add(chunk);
        }

        return chunks;
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "condition not reached in 10 s");
            await Task.Delay(5);
        }
    }

    /// <summary>The forged tokenizer with one more EOS ID.</summary>
    private sealed class EosTokenizer(ForgedTokenizer inner, int eos) : Text.ITextTokenizer
    {
        public int VocabularySize => inner.VocabularySize;

        public IReadOnlySet<int> EndOfSequenceIds { get; } = new HashSet<int>(inner.EndOfSequenceIds) { eos };

        public IReadOnlyList<int> Encode(string text, bool addSpecialTokens) => inner.Encode(text, addSpecialTokens);

        public string Decode(IReadOnlyList<int> ids, bool skipSpecialTokens) => inner.Decode(ids, skipSpecialTokens);
    }
}
