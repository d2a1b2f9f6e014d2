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
            // Flash attention off (llama.cpp's default, auto, turns it on for the CPU). With it on, a sequence whose
            // cache holds more than 256 tokens gets other logits (up to 0.07 apart on a forged model, not a last-bit
            // difference) when it is decoded in one llama_decode step with another sequence than when it is decoded
            // alone: the same seed then gave another answer depending on what else ran (a forced tool call's
            // arguments, streamed against unstreamed, issue 16). Without it, a sequence's logits do not depend on the
            // other sequences of its step (GgufBatchingTests), and unbatched contexts attend the same way as the batch.
            parameters.FlashAttention = false;
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
