using System.Collections.Concurrent;
using Enclave.Inference.Forge;
using Enclave.Inference.Gguf;
using Enclave.Inference.Onnx;

namespace Enclave.Inference.Tests.Gguf;

/// <summary>
/// The unbatched GGUF path (<c>Engine:Gguf:Bounds:ContinuousBatching</c> false) and embeddings call llama.cpp from a
/// thread of each context's own (<see cref="LlamaThread"/>), never from the thread-pool thread an <c>await</c>
/// resumed on (llama.cpp's OpenMP team belongs to the calling thread; docs/benchmarks.md, "OpenMP"); sequences still
/// run in parallel on their own contexts, give the batched path's tokens for the same seed, cancel, and fail cleanly.
/// </summary>
public sealed class GgufUnbatchedTests(GgufModelsFixture models) : IClassFixture<GgufModelsFixture>
{
    private static readonly GgufEngineOptions Unbatched = new() { ContextLength = 256, Threads = 2, BatchSize = 64, Bounds = new OnnxEngineOptions { ContinuousBatching = false, MaxConcurrentSequences = 2, MaxQueuedSequences = 1 } };

    [Fact]
    public async Task EveryDecodeOfASequence_RunsOnTheContextsOwnThread_WhicheverThreadTheReaderResumesOn()
    {
        using var model = GgufDecoderModel.Load(models.ChatPath, Unbatched);
        var decoders = new ConcurrentDictionary<Thread, int>();
        model.BeforeDecode = () => decoders.AddOrUpdate(Thread.CurrentThread, 1, (_, n) => n + 1);
        var readers = new HashSet<int>();
        var prompt = model.Tokenizer.Encode("hello world", addSpecialTokens: false);
        for (var request = 0; request < 2; request++)
        {
            await foreach (var _ in model.GenerateTokensAsync(prompt, new SamplingOptions { MaxTokens = 24, IgnoreEos = true, Seed = 1 }))
            {
                readers.Add(Environment.CurrentManagedThreadId);
                await Task.Yield(); // the next step is asked for from whichever pool thread this resumes on
                readers.Add(Environment.CurrentManagedThreadId);
            }
        }

        var (thread, decodes) = Assert.Single(decoders);
        Assert.Equal(2 * 24, decodes); // each request: the prompt (one piece) and 23 generated tokens
        Assert.False(thread.IsThreadPoolThread);
        Assert.StartsWith("enclave-gguf ", thread.Name, StringComparison.Ordinal);
        Assert.DoesNotContain(thread.ManagedThreadId, readers);
        Assert.Equal(1, model.Contexts); // the second request took the first one's context, and its thread, from the pool
    }

    [Fact]
    public async Task ConcurrentSequences_DecodeOnAThreadPerContext_AndTheThreadsServeLaterRequests()
    {
        using var model = GgufDecoderModel.Load(models.ChatPath, Unbatched);
        var decoders = new ConcurrentDictionary<int, bool>();
        model.BeforeDecode = () => decoders[Environment.CurrentManagedThreadId] = Thread.CurrentThread.IsThreadPoolThread;
        var prompt = model.Tokenizer.Encode("hello", addSpecialTokens: false);
        var sampling = new SamplingOptions { MaxTokens = 16, IgnoreEos = true, Seed = 4 };

        // Both sequences hold their context at once: each has begun before either ends.
        await using var first = model.GenerateTokensAsync(prompt, sampling).GetAsyncEnumerator();
        await using var second = model.GenerateTokensAsync(prompt, sampling).GetAsyncEnumerator();
        Assert.True(await first.MoveNextAsync());
        Assert.True(await second.MoveNextAsync());
        List<int> a = [first.Current.Id], b = [second.Current.Id];
        while (await first.MoveNextAsync())
        {
            a.Add(first.Current.Id);
            Assert.True(await second.MoveNextAsync());
            b.Add(second.Current.Id);
        }

        Assert.Equal(a, b); // the same seed on two contexts, interleaved
        Assert.Equal(2, model.Contexts);
        Assert.Equal(2, decoders.Count);
        Assert.All(decoders.Values, Assert.False);

        var before = decoders.Keys.ToHashSet();
        await foreach (var _ in model.GenerateTokensAsync(prompt, sampling))
        {
        }

        Assert.Equal(before, decoders.Keys.ToHashSet());
        Assert.Equal(2, model.Contexts);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Unbatched_GivesTheBatchedPathsTokens_ForTheSameSeed(bool quantised)
    {
        var path = quantised ? Path.Combine(models.Root, "q4", ModelForge.GgufFileName) : models.ChatPath;
        using var unbatched = GgufDecoderModel.Load(path, Unbatched);
        using var batched = GgufDecoderModel.Load(path, Unbatched with { Bounds = new OnnxEngineOptions { MaxConcurrentSequences = 2, MaxQueuedSequences = 1 } });
        Assert.NotNull(batched.Batcher);
        var prompt = batched.Tokenizer.Encode("the quick brown fox", addSpecialTokens: false);
        var sampling = new SamplingOptions { MaxTokens = 20, IgnoreEos = true, Seed = 77, Temperature = 0.9f };
        Assert.Equal(await Tokens(batched, prompt, sampling), await Tokens(unbatched, prompt, sampling));
    }

    [Fact]
    public async Task Cancellation_BetweenSteps_StopsTheSequence_FreesTheSlot_AndItsContextServesTheNext()
    {
        using var model = GgufDecoderModel.Load(models.ChatPath, Unbatched);
        var prompt = model.Tokenizer.Encode("hello", addSpecialTokens: false);
        var sampling = new SamplingOptions { MaxTokens = 12, IgnoreEos = true, Seed = 9 };
        var whole = await Tokens(model, prompt, sampling);

        using var cancel = new CancellationTokenSource();
        var seen = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in model.GenerateTokensAsync(prompt, sampling with { MaxTokens = 200 }, cancel.Token))
            {
                if (++seen == 3)
                {
                    await cancel.CancelAsync();
                }
            }
        });

        Assert.Equal(3, seen);
        Assert.Equal(0, model.Scheduler.Running);
        Assert.Equal(whole, await Tokens(model, prompt, sampling)); // the context was cleared when given back
        Assert.Equal(1, model.Contexts);
    }

    [Fact]
    public async Task ACancellationBetweenThePiecesOfAPrompt_IsSeenOnTheContextsThread_AndTheContextIsReused()
    {
        using var model = GgufDecoderModel.Load(models.ChatPath, Unbatched);
        var prompt = Enumerable.Range(0, 150).Select(i => 10 + (i % 200)).ToArray(); // three pieces of 64 tokens at most
        var sampling = new SamplingOptions { MaxTokens = 4, IgnoreEos = true, Seed = 2 };
        var whole = await Tokens(model, prompt, sampling);

        using var cancel = new CancellationTokenSource();
        var decodes = 0;
        model.BeforeDecode = () =>
        {
            if (Interlocked.Increment(ref decodes) == 1)
            {
                cancel.Cancel(); // on the context's thread, while the reader waits for the prompt
            }
        };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in model.GenerateTokensAsync(prompt, sampling, cancel.Token))
            {
            }
        });

        Assert.Equal(1, decodes); // the second piece was not decoded
        Assert.Equal(0, model.Scheduler.Running);
        model.BeforeDecode = null;
        Assert.Equal(whole, await Tokens(model, prompt, sampling));
        Assert.Equal(1, model.Contexts);
    }

    [Fact]
    public async Task BeyondTheSlotsAndTheQueue_Is503WithRetryAfter_Unbatched()
    {
        using var model = GgufDecoderModel.Load(models.ChatPath, Unbatched);
        var prompt = model.Tokenizer.Encode("hello", addSpecialTokens: false);
        var sampling = new SamplingOptions { MaxTokens = 50, IgnoreEos = true };
        await using var first = model.GenerateTokensAsync(prompt, sampling).GetAsyncEnumerator();
        await using var second = model.GenerateTokensAsync(prompt, sampling).GetAsyncEnumerator();
        Assert.True(await first.MoveNextAsync());
        Assert.True(await second.MoveNextAsync());
        await using var queued = model.GenerateTokensAsync(prompt, sampling).GetAsyncEnumerator();
        var waiting = queued.MoveNextAsync();
        await using var refused = model.GenerateTokensAsync(prompt, sampling).GetAsyncEnumerator();
        var e503 = await Assert.ThrowsAsync<Backends.BackendException>(async () => await refused.MoveNextAsync());
        Assert.Equal(503, e503.StatusCode);
        Assert.NotNull(e503.RetryAfter);
        Assert.False(waiting.IsCompleted);
        await first.DisposeAsync();
        Assert.True(await waiting);
        Assert.Equal(2, model.Contexts); // the queued request took the first one's context
    }

    [Fact]
    public async Task ADecodeThatThrows_ThrowsToTheReader_AndTheContextsThreadGoesOn()
    {
        using var model = GgufDecoderModel.Load(models.ChatPath, Unbatched);
        var fail = true;
        model.BeforeDecode = () =>
        {
            if (fail)
            {
                throw new InvalidOperationException("thrown on the context's thread");
            }
        };
        var prompt = model.Tokenizer.Encode("hello", addSpecialTokens: false);
        var sampling = new SamplingOptions { MaxTokens = 4, IgnoreEos = true, Seed = 2 };
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => Tokens(model, prompt, sampling));
        Assert.Equal("thrown on the context's thread", e.Message);
        Assert.Equal(0, model.Scheduler.Running);

        fail = false;
        Assert.Equal(4, (await Tokens(model, prompt, sampling)).Count);
        Assert.Equal(1, model.Contexts);
    }

    [Fact]
    public async Task NChoices_Unbatched_EachChoiceIsTheSeedPlusItsIndexAlone()
    {
        using var model = GgufDecoderModel.Load(models.ChatPath, Unbatched);
        var prompt = model.Tokenizer.Encode("hello", addSpecialTokens: false);
        var sampling = new SamplingOptions { MaxTokens = 8, IgnoreEos = true, Seed = 30, Temperature = 1f };
        var texts = new string[2];
        await foreach (var chunk in model.GenerateTextAsync(prompt, model.Tokenizer, sampling, 2))
        {
            texts[chunk.Index] += chunk.Text;
        }

        var alone = string.Empty;
        await foreach (var chunk in model.GenerateTextAsync(prompt, model.Tokenizer, sampling with { Seed = 31 }))
        {
            alone += chunk.Text;
        }

        Assert.Equal(alone, texts[1]);
        Assert.Equal(2, model.Contexts); // the prompt's context and the further choice's
    }

    [Fact]
    public async Task Embeddings_DecodeOnTheContextsOwnThread_AndGiveTheSameVectors()
    {
        using var model = GgufEmbeddingModel.Load(Path.Combine(models.Root, "embed", ModelForge.GgufFileName), Unbatched);
        var decoders = new ConcurrentDictionary<Thread, int>();
        model.BeforeDecode = () => decoders.AddOrUpdate(Thread.CurrentThread, 1, (_, n) => n + 1);
        IReadOnlyList<int>[] inputs = [model.Tokenizer.Encode("the quick brown fox", false), model.Tokenizer.Encode("another one", false)];
        var first = await model.EmbedAsync(inputs);
        await Task.Yield();
        var second = await model.EmbedAsync(inputs);

        Assert.Equal(first, second);
        Assert.NotEqual(first[0], first[1]);
        var (thread, decodes) = Assert.Single(decoders);
        Assert.Equal(4, decodes);
        Assert.False(thread.IsThreadPoolThread);
        Assert.StartsWith("enclave-gguf ", thread.Name, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnloadingTheModel_EndsTheContextsThreads()
    {
        var model = GgufDecoderModel.Load(models.ChatPath, Unbatched);
        Thread? decoder = null;
        model.BeforeDecode = () => decoder = Thread.CurrentThread;
        var prompt = model.Tokenizer.Encode("hello", addSpecialTokens: false);
        await Tokens(model, prompt, new SamplingOptions { MaxTokens = 2, IgnoreEos = true });
        Assert.True(decoder!.IsAlive);

        model.Dispose();
        Assert.True(decoder.Join(TimeSpan.FromMinutes(1)), "the context's thread did not end");
        await Assert.ThrowsAsync<ObjectDisposedException>(() => Tokens(model, prompt, new SamplingOptions { MaxTokens = 2 }));
    }

    private static async Task<List<int>> Tokens(GgufDecoderModel model, IReadOnlyList<int> prompt, SamplingOptions sampling)
    {
        var tokens = new List<int>();
        await foreach (var token in model.GenerateTokensAsync(prompt, sampling))
        {
            tokens.Add(token.Id);
        }

        return tokens;
    }
}
