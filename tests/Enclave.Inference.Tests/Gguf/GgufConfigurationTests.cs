using Enclave.Inference.Forge;
using Enclave.Inference.Gguf;
using Enclave.Inference.Hosting;
using Enclave.Inference.Onnx;
using LLama.Native;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Enclave.Inference.Tests.Gguf;

/// <summary>
/// <c>Engine:Gguf</c> from configuration (docs/models.md, "Configuration"): every documented key binds, invalid values
/// stop the start with every problem listed, and context length, threads, batch and memory-mapping reach the
/// llama.cpp context the engine makes.
/// </summary>
public sealed class GgufConfigurationTests(GgufModelsFixture models) : IClassFixture<GgufModelsFixture>
{
    [Fact]
    public void EveryDocumentedKey_BindsFromConfiguration()
    {
        var options = Resolve(new()
        {
            ["Engine:Gguf:ContextLength"] = "96",
            ["Engine:Gguf:MaxContextLength"] = "4096",
            ["Engine:Gguf:Threads"] = "3",
            ["Engine:Gguf:BatchSize"] = "32",
            ["Engine:Gguf:MemoryMap"] = "false",
            ["Engine:Gguf:FlashAttention"] = "false",
            ["Engine:Gguf:CacheType"] = "F16",
            ["Engine:Gguf:ExactBatching"] = "true",
            ["Engine:Gguf:Bounds:ContinuousBatching"] = "false",
            ["Engine:Gguf:Bounds:MaxConcurrentSequences"] = "3",
            ["Engine:Gguf:Bounds:MaxQueuedSequences"] = "7",
            ["Engine:Gguf:Bounds:PrefillChunkTokens"] = "16",
        });

        Assert.Equal((96, 4096, 3, 32, false, false, GgufCacheType.F16, true), (options.ContextLength, options.MaxContextLength, options.Threads, options.BatchSize, options.MemoryMap, options.FlashAttention, options.CacheType, options.ExactBatching));
        Assert.Equal((false, 3, 7, 16), (options.Bounds.ContinuousBatching, options.Bounds.MaxConcurrentSequences, options.Bounds.MaxQueuedSequences, options.Bounds.PrefillChunkTokens));
        Assert.Equal(new GgufEngineOptions().MemoryMap, Resolve([]).MemoryMap); // nothing configured: the defaults
        Assert.True(Resolve([]).MemoryMap);
    }

    [Fact]
    public void InvalidValues_FailValidation_ListingEveryProblem()
    {
        var e = Assert.Throws<OptionsValidationException>(() => Resolve(new()
        {
            ["Engine:Gguf:ContextLength"] = "-1",
            ["Engine:Gguf:Threads"] = "5000",
            ["Engine:Gguf:BatchSize"] = "0",
        }));
        Assert.Contains(e.Failures, f => f.StartsWith("Engine:Gguf: ContextLength (-1)", StringComparison.Ordinal));
        Assert.Contains(e.Failures, f => f == "Engine:Gguf: Threads must be 0..1024 (was 5000)");
        Assert.Contains(e.Failures, f => f == "Engine:Gguf: BatchSize must be 1..65536 (was 0)");
    }

    [Fact]
    public void ContextLengthThreadsBatchAndMemoryMap_ReachTheLlamaCppContext()
    {
        var options = new GgufEngineOptions { ContextLength = 256, Threads = 3, BatchSize = 32, MemoryMap = false };
        var (weights, parameters) = GgufLoader.Open(models.ChatPath, options, embeddings: false);
        using (weights)
        {
            Assert.Equal(LLamaLoadMode.None, parameters.LoadMode);
            using var context = weights.CreateContext(parameters);
            Assert.Equal(256u, context.ContextSize); // llama.cpp pads a context to a multiple of 256: the engine bounds a sequence itself (below)
            Assert.Equal(3, context.GenerationThreads);
            Assert.Equal(3, context.BatchThreads);
            Assert.Equal(32u, context.BatchSize);
        }

        var (mapped, mappedParameters) = GgufLoader.Open(models.ChatPath, new GgufEngineOptions(), embeddings: false);
        using (mapped)
        {
            Assert.Equal(LLamaLoadMode.MemoryMap, mappedParameters.LoadMode);
            Assert.Equal(512u, mappedParameters.ContextSize); // ContextLength 0: the forged model's own llama.context_length (512)
        }
    }

    [Fact]
    public async Task AModelReadIntoMemory_GivesTheTokensOfTheMemoryMappedOne()
    {
        var options = new GgufEngineOptions { ContextLength = 128, Threads = 2, BatchSize = 64, Bounds = new OnnxEngineOptions { ContinuousBatching = false } };
        using var mapped = GgufDecoderModel.Load(models.ChatPath, options);
        using var read = GgufDecoderModel.Load(models.ChatPath, options with { MemoryMap = false });
        var prompt = mapped.Tokenizer.Encode("hello world", addSpecialTokens: false);
        var sampling = new SamplingOptions { MaxTokens = 12, IgnoreEos = true, Seed = 5 };
        Assert.Equal(await Tokens(mapped, prompt, sampling), await Tokens(read, prompt, sampling));
        Assert.Equal(128, read.ContextLength);
        var tooLong = await Assert.ThrowsAsync<Backends.BackendException>(() => Tokens(read, Enumerable.Repeat(5, 128).ToArray(), sampling));
        Assert.Equal(400, tooLong.StatusCode);
        Assert.Contains("this model's context is 128 tokens", tooLong.Message, StringComparison.Ordinal);
    }

    private static GgufEngineOptions Resolve(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        using var services = new ServiceCollection().AddEnclaveInferenceOptions(configuration).BuildServiceProvider();
        return services.GetRequiredService<IOptions<GgufEngineOptions>>().Value;
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
