using Enclave.Inference.Onnx;
using LLama;
using LLama.Common;
using LLama.Exceptions;
using LLama.Native;

namespace Enclave.Inference.Gguf;

/// <summary>Opens a GGUF file with llama.cpp on the CPU, with the engine's configuration.</summary>
internal static class GgufLoader
{
    public static (LLamaWeights Weights, ModelParams Parameters) Open(string path, GgufEngineOptions options, bool embeddings)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new InvalidModelException(path, [new ModelProblem(ModelRejectionReason.MissingFile, $"{path} does not exist")]);
        }

        LlamaNative.EnsureConfigured();
        var parameters = new ModelParams(path)
        {
            GpuLayerCount = 0,
            LoadMode = options.MemoryMap ? LLamaLoadMode.MemoryMap : LLamaLoadMode.None,
            BatchSize = (uint)options.BatchSize,
            UBatchSize = (uint)options.BatchSize,
            SeqMax = 1,
            Embeddings = embeddings,
            PoolingType = embeddings ? LLamaPoolingType.Mean : LLamaPoolingType.Unspecified,
        };
        if (!embeddings)
        {
            // Attention as configured (GgufEngineOptions.FlashAttention, CacheType). With flash attention, llama.cpp's CPU
            // kernel splits a sequence's attention into one chunk of the cache per thread when the sequence is alone in
            // its step and its cache (rounded up to 256 cells) reaches 512 cells, for F16 and F32 caches only; beside other
            // sequences, or for other cache types, each head runs over the whole cache on one thread. The two sum in
            // another order (with F16 partial sums), so an F16 cache gave a sequence logits up to 0.07 apart alone and
            // batched (the same seed then gave another answer depending on what else ran, issue 16). A BF16 or Q8_0
            // cache always takes the whole-cache path: a sequence's logits do not depend on the other sequences of its
            // step (GgufBatchingTests), and unbatched contexts attend the same way as the batch.
            parameters.FlashAttention = options.FlashAttention;
            parameters.TypeK = parameters.TypeV = CacheType(options.CacheType);
        }

        if (options.Threads > 0)
        {
            parameters.Threads = options.Threads;
            parameters.BatchThreads = options.Threads;
        }

        LLamaWeights weights;
        try
        {
            weights = LLamaWeights.LoadFromFile(parameters);
        }
        catch (LoadWeightsFailedException e)
        {
            throw new InvalidModelException(path, [new ModelProblem(ModelRejectionReason.IncompatibleGraph, $"llama.cpp could not load {Path.GetFileName(path)}")], e);
        }

        var trained = weights.ContextSize > 0 ? weights.ContextSize : options.MaxContextLength;
        var context = options.ContextLength > 0 ? options.ContextLength : Math.Min(trained, options.MaxContextLength);
        parameters.ContextSize = (uint)context;
        if (embeddings)
        {
            // An embedding input is pooled from one batch: the batch holds a whole context.
            parameters.BatchSize = parameters.UBatchSize = (uint)context;
        }

        return (weights, parameters);
    }

    /// <summary>llama.cpp's type of a KV cache (LLamaSharp's enum has no BF16: ggml's number is used).</summary>
    private static GGMLType CacheType(GgufCacheType type) => type switch
    {
        GgufCacheType.F16 => GGMLType.GGML_TYPE_F16,
        GgufCacheType.Q8_0 => GGMLType.GGML_TYPE_Q8_0,
        _ => (GGMLType)30, // GGML_TYPE_BF16
    };

    /// <summary>The template variables <c>bos_token</c> and <c>eos_token</c>, as llama.cpp's vocabulary names them.</summary>
    public static Dictionary<string, string> SpecialTokens(LLamaWeights weights)
    {
        var tokens = new Dictionary<string, string>(StringComparer.Ordinal);
        var vocab = weights.Vocab;
        if (vocab.BOS is { } bos && vocab.LLamaTokenToString(bos, isSpecialToken: true) is { } bosText)
        {
            tokens["bos_token"] = bosText;
        }

        if (vocab.EOS is { } eos && vocab.LLamaTokenToString(eos, isSpecialToken: true) is { } eosText)
        {
            tokens["eos_token"] = eosText;
        }

        return tokens;
    }
}
