using System.Text.Json.Nodes;
using Enclave.Inference.Forge;
using Enclave.Inference.Onnx;
using Enclave.Inference.Structured;
using Enclave.Inference.Tests.Forge;
using Enclave.Inference.Tests.Tokenization;
using Enclave.Inference.Text;
using Microsoft.ML.OnnxRuntime;

namespace Enclave.Inference.Tests.Onnx;

/// <summary>
/// Two forged decoders, one per tokenizer family (the forge's byte-level BPE; the minimal SentencePiece fixture's
/// tokenizer in place of it), each loaded once with continuous batching off: the reference of a sequence run alone.
/// </summary>
public sealed class BatchingModelsFixture : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly Dictionary<string, (string Directory, OnnxDecoderModel Alone, ITextTokenizer Tokenizer)> _families = [];

    public BatchingModelsFixture()
    {
        var options = new ForgeOptions { Seed = 8, MaxPositions = 256 };
        var bpe = ModelForge.ForgeDecoder(_temp.Sub("bpe"), options);
        var sentencePiece = SentencePieceDecoders.Forge(_temp.Sub("sentencepiece"), options with { Seed = 9 });
        foreach (var (family, directory) in new[] { ("bpe", bpe.Directory), ("sentencepiece", sentencePiece.Directory) })
        {
            _families[family] = (directory, OnnxDecoderModel.Load(directory, Options with { ContinuousBatching = false }), TokenizerLoader.Load(directory).Tokenizer);
        }
    }

    /// <summary>Prompts run in pieces of 4 tokens, so a long one joins the batch over several steps.</summary>
    public static OnnxEngineOptions Options { get; } = new() { IntraOpThreads = 1, MaxConcurrentSequences = 8, MaxQueuedSequences = 16, PrefillChunkTokens = 4 };

    public OnnxDecoderModel Alone(string family) => _families[family].Alone;

    public ITextTokenizer Tokenizer(string family) => _families[family].Tokenizer;

    /// <summary>A model of its own with continuous batching on (each test sets its own worker hook).</summary>
    public OnnxDecoderModel Batched(string family) => OnnxDecoderModel.Load(_families[family].Directory, Options);

    public void Dispose()
    {
        foreach (var (_, alone, _) in _families.Values)
        {
            alone.Dispose();
        }

        _temp.Dispose();
    }
}

public sealed class ContinuousBatchingTests(BatchingModelsFixture models) : IClassFixture<BatchingModelsFixture>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static readonly string[] Prompts =
    [
        "Hi",
        "The quick brown fox jumps",
        "Once upon a time, in a land far away, there lived a small dragon",
        "Tell me about the sea.",
        "A list of things: apples, pears, plums, cherries, figs, dates and grapes, all of them ripe and sweet today",
        "Why?",
    ];

    /// <summary>Mixed sampling: seeds, penalties, logit bias, logprobs with alternatives, a stop sequence, a JSON schema.</summary>
    private static SamplingOptions[] Requests()
    {
        var schema = ResponseFormat.Compile(JsonNode.Parse("""{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string","maxLength":6}},"required":["a","b"],"additionalProperties":false}""")!);
        return
        [
            new() { Temperature = 0.9f, TopP = 0.95f, TopK = 50, Seed = 1, MaxTokens = 40, IgnoreEos = true, Logprobs = 3 },
            new() { Temperature = 1f, Seed = 2, MaxTokens = 36, IgnoreEos = true, PresencePenalty = 0.6f, FrequencyPenalty = 0.4f, Logprobs = 0 },
            new() { Temperature = 0f, MaxTokens = 40, IgnoreEos = true, LogitBias = new Dictionary<int, float> { [5] = 4f, [9] = -3f }, Logprobs = 2 },
            new() { Temperature = 1.2f, Seed = 4, MaxTokens = 30, Stop = ["e", "a "], Logprobs = 1 },
            new() { Temperature = 1f, Seed = 5, MaxTokens = 48, Grammar = schema, Logprobs = 2 },
            new() { Temperature = 0.7f, Seed = 6, MaxTokens = 32, IgnoreEos = true },
        ];
    }

    [Theory]
    [InlineData("bpe")]
    [InlineData("sentencepiece")]
    public async Task SequencesDecodedTogether_EqualEachRunAlone_TokenForToken(string family)
    {
        var requests = Requests();
        var prompts = Prompts.Select(p => models.Tokenizer(family).Encode(p, addSpecialTokens: false)).ToArray();
        var alone = new List<Answer>();
        for (var i = 0; i < requests.Length; i++)
        {
            alone.Add(await Run(models.Alone(family), family, prompts[i], requests[i], 1, CancellationToken.None));
        }

        using var batched = models.Batched(family);
        var batcher = batched.Batcher!;
        var held = 0;
        batcher.BeforeStep = _ =>
        {
            // The worker waits on its first iteration until every prompt has joined, so they all prefill and decode together.
            if (Interlocked.Exchange(ref held, 1) == 0)
            {
                Assert.True(SpinWait.SpinUntil(() => batcher.Pending == requests.Length, Deadline), "every request joins");
            }
        };

        var together = await Task.WhenAll(requests.Select((request, i) => Task.Run(() => Run(batched, family, prompts[i], request, 1, CancellationToken.None))));
        for (var i = 0; i < requests.Length; i++)
        {
            AssertSame(alone[i], together[i], $"request {i}");
        }

        // The three that run their whole budget (no EOS, no stop) overlap whatever the others do.
        Assert.True(batcher.MaxRows >= 3, $"at most {batcher.MaxRows} rows decoded together");
        Assert.Equal(0, batched.Scheduler.Running);
    }

    [Theory]
    [InlineData("bpe")]
    [InlineData("sentencepiece")]
    public async Task JoinsMidDecode_AndACancellation_LeaveTheOthersUnchanged(string family)
    {
        // The first ones run long enough for the later ones' prompts to be prefilled while they decode.
        var requests = Requests().Select((r, i) => i is 0 or 1 ? r with { MaxTokens = 120 } : r).ToArray();
        var prompts = Prompts.Select(p => models.Tokenizer(family).Encode(p, addSpecialTokens: false)).ToArray();
        int[] first = [0, 1, 5];
        int[] later = [2, 4];
        var alone = new Dictionary<int, Answer>();
        foreach (var i in first.Concat(later))
        {
            alone[i] = await Run(models.Alone(family), family, prompts[i], requests[i], 1, CancellationToken.None);
        }

        using var batched = models.Batched(family);
        var batcher = batched.Batcher!;
        using var cancel = new CancellationTokenSource();
        using var atStep6 = new ManualResetEventSlim();
        var held = 0;
        batcher.BeforeStep = progress =>
        {
            if (Interlocked.Exchange(ref held, 1) == 0)
            {
                Assert.True(SpinWait.SpinUntil(() => batcher.Pending == first.Length, Deadline), "the first requests join");
            }

            if (progress.Steps >= 6 && progress.Prefilling == 0 && !atStep6.IsSet)
            {
                // Mid-decode: two more requests join and the one with index 5 is cancelled.
                atStep6.Set();
                Assert.True(SpinWait.SpinUntil(() => batcher.Pending == later.Length, Deadline), "the later requests join");
                cancel.Cancel();
            }
        };

        var running = first.ToDictionary(i => i, i => Task.Run(() => Run(batched, family, prompts[i], requests[i], 1, i == 5 ? cancel.Token : CancellationToken.None)));
        Assert.True(atStep6.Wait(Deadline), "the batch reaches step 6");
        foreach (var i in later)
        {
            running[i] = Task.Run(() => Run(batched, family, prompts[i], requests[i], 1, CancellationToken.None));
        }

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running[5]);
        foreach (var i in new[] { 0, 1, 2, 4 })
        {
            AssertSame(alone[i], await running[i], $"request {i}");
        }

        Assert.True(batcher.MaxRows >= 4, $"at most {batcher.MaxRows} rows decoded together");
        Assert.Equal(0, batched.Scheduler.Running);
    }

    [Theory]
    [InlineData("bpe")]
    [InlineData("sentencepiece")]
    public async Task ChoicesOfOneRequest_DecodeAsOneBatch_AndEqualTheChoicesRunOneAfterAnother(string family)
    {
        var prompt = models.Tokenizer(family).Encode(Prompts[2], addSpecialTokens: false);
        var sampling = new SamplingOptions { Temperature = 1f, Seed = 77, MaxTokens = 24, IgnoreEos = true, Logprobs = 2 };
        using var batched = models.Batched(family);
        var alone = await Choices(models.Alone(family), family, prompt, sampling, 4);
        var together = await Choices(batched, family, prompt, sampling, 4);
        Assert.Equal(4, together.Count);
        for (var choice = 0; choice < 4; choice++)
        {
            AssertSame(alone[choice], together[choice], $"choice {choice}");
        }

        Assert.Equal(4, batched.Batcher!.MaxRows);
        Assert.NotEqual(together[0].Text, together[1].Text);
    }

    [Fact]
    public async Task ABatchedModel_RunsEachPromptOnce_AndOneRowPerSequencePerStep()
    {
        using var batched = models.Batched("bpe");
        var before = batched.TokensRun;
        var prompt = models.Tokenizer("bpe").Encode(Prompts[1], addSpecialTokens: false);
        await Task.WhenAll(Enumerable.Range(0, 3).Select(i => Task.Run(async () =>
        {
            await foreach (var unused in batched.GenerateTokensAsync(prompt, new SamplingOptions { Seed = i, MaxTokens = 20, IgnoreEos = true }))
            {
            }
        })));

        // The last token of each sequence is drawn from the step before and never run itself.
        Assert.Equal(3 * (prompt.Count + 20 - 1), batched.TokensRun - before);
    }

    [Fact]
    public async Task UnloadingTheModel_WhileSequencesDecodeAndPrefill_FailsThemAndNothingElse()
    {
        var batched = models.Batched("bpe");
        var batcher = batched.Batcher!;
        var prompt = models.Tokenizer("bpe").Encode(Prompts[4], addSpecialTokens: false);
        using var decoding = new ManualResetEventSlim();
        batcher.BeforeStep = progress =>
        {
            if (progress.Rows >= 2)
            {
                decoding.Set();
            }
        };

        var running = Enumerable.Range(0, 4).Select(i => Task.Run(async () =>
        {
            await foreach (var unused in batched.GenerateTokensAsync(prompt, new SamplingOptions { Seed = i, MaxTokens = 150, IgnoreEos = true }))
            {
            }
        })).ToArray();
        Assert.True(decoding.Wait(Deadline), "two sequences decode together");
        batched.Dispose();
        foreach (var task in running)
        {
            var e = await Record.ExceptionAsync(() => task);
            Assert.True(e is ObjectDisposedException or OnnxRuntimeException or OperationCanceledException, $"{e?.GetType().Name}: {e?.Message}");
        }

        await Assert.ThrowsAsync<ObjectDisposedException>(async () =>
        {
            await foreach (var unused in batched.GenerateTokensAsync(prompt, new SamplingOptions { MaxTokens = 2 }))
            {
            }
        });
    }

    [Fact]
    public void BatchingOff_OrAGraphWithoutPositionIds_DecodesEachSequenceAlone()
    {
        Assert.Null(models.Alone("bpe").Batcher);
        using var batched = models.Batched("bpe");
        Assert.NotNull(batched.Batcher);
    }

    private static void AssertSame(Answer expected, Answer actual, string what)
    {
        Assert.True(expected.Text == actual.Text, $"{what}: '{actual.Text}' batched, '{expected.Text}' alone");
        Assert.Equal(expected.Finish, actual.Finish);
        Assert.Equal(expected.CompletionTokens, actual.CompletionTokens);
        Assert.Equal(expected.Logprobs.Select(l => l.Id), actual.Logprobs.Select(l => l.Id));
        for (var i = 0; i < expected.Logprobs.Count; i++)
        {
            Assert.True(Math.Abs(expected.Logprobs[i].Logprob - actual.Logprobs[i].Logprob) <= 1e-3f, $"{what}, token {i}: logprob {actual.Logprobs[i].Logprob} batched, {expected.Logprobs[i].Logprob} alone");
            Assert.Equal(expected.Logprobs[i].Top.Select(t => t.Id), actual.Logprobs[i].Top.Select(t => t.Id));
        }
    }

    private async Task<Answer> Run(OnnxDecoderModel model, string family, IReadOnlyList<int> prompt, SamplingOptions sampling, int choices, CancellationToken cancellationToken) =>
        (await Choices(model, family, prompt, sampling, choices, cancellationToken))[0];

    private async Task<List<Answer>> Choices(OnnxDecoderModel model, string family, IReadOnlyList<int> prompt, SamplingOptions sampling, int choices, CancellationToken cancellationToken = default)
    {
        var answers = Enumerable.Range(0, choices).Select(_ => new Answer()).ToList();
        await foreach (var chunk in model.GenerateTextAsync(prompt, models.Tokenizer(family), sampling, choices, cancellationToken))
        {
            var answer = answers[chunk.Index];
            answer.Text += chunk.Text;
            answer.Logprobs.AddRange(chunk.Logprobs);
            if (chunk.FinishReason is { } finish)
            {
                answer.Finish = finish;
                answer.CompletionTokens = chunk.CompletionTokens;
            }
        }

        return answers;
    }

    private sealed class Answer
    {
        public string Text { get; set; } = string.Empty;

        public List<TokenLogprob> Logprobs { get; } = [];

        public FinishReason? Finish { get; set; }

        public int CompletionTokens { get; set; }
    }
}
