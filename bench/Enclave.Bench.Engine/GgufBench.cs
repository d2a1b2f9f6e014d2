// GGUF backend tokens/s versus llama.cpp's own loop through LLamaSharp over the same forged model (issue 16).
// Usage: dotnet run -c Release -- gguf [f16|q4_0] [threads] [tokens] [rounds] [100m|10m] [batched|unbatched] [fa-auto|fa-off]
// (the engine batched, its default, or one context per sequence, with its default attention: flash attention over a
// BF16 cache; llama.cpp's loop at its own default, flash attention auto over an F16 cache, or with flash attention off,
// as the engine ran before session 10)
// Both sides: the same model file, threads, context (1024) and batch (512), a 16-token prompt, greedy decoding for
// `tokens` tokens. Ours: GgufDecoderModel through the engine's DecodingLoop (scheduler, our sampler over llama.cpp's
// logits copied out each step, EOS and bounds). llama.cpp's: llama_decode and its greedy sampler chain, nothing else.
// Runs alternate (A/B, B/A...) `rounds` times after a warm-up; the medians are compared.
using System.Diagnostics;
using System.Globalization;
using Enclave.Inference.Forge;
using Enclave.Inference.Gguf;
using Enclave.Inference.Onnx;
using LLama;
using LLama.Common;
using LLama.Native;

internal static class GgufBench
{
    public static async Task RunAsync(string[] args)
    {
        var weightType = args.Length > 0 && args[0] == "q4_0" ? GgufWeightType.Q4_0 : GgufWeightType.F16;
        var threads = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 2;
        var tokens = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 128;
        var rounds = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 5;
        var size = args.Length > 4 ? args[4] : "100m";
        var options = size == "100m"
            ? new ForgeOptions { Layers = 12, Hidden = 768, Heads = 12, KvHeads = 4, IntermediateSize = 2048, Vocab = 16384, MaxPositions = 1024, Seed = 1 }
            : new ForgeOptions { Layers = 4, Hidden = 384, Heads = 6, KvHeads = 2, IntermediateSize = 1024, Vocab = 4096, MaxPositions = 1024, Seed = 1 };
        var dir = Path.Combine(Path.GetTempPath(), $"ggufbench-{size}-{weightType}");
        var clock = Stopwatch.StartNew();
        var forged = ModelForge.ForgeGguf(dir, options, weightType);
        var path = Path.Combine(dir, ModelForge.GgufFileName);
        Console.WriteLine($"forged {size} {weightType}: {forged.Parameters:N0} parameters, {new FileInfo(path).Length / 1e6:0.0} MB in {clock.Elapsed.TotalSeconds:0.0} s; threads {threads}, {tokens} tokens, {rounds} rounds");

        var batched = args.Length <= 5 || args[5] != "unbatched";
        var theirsFlashAttention = args.Length > 6 && args[6] == "fa-off" ? false : (bool?)null;
        Console.WriteLine($"engine {(batched ? "batched (GgufBatcher)" : "one context per sequence")}, flash attention over a BF16 cache; llama.cpp loop with flash attention {(theirsFlashAttention is null ? "auto (llama.cpp's default)" : "off")}, F16 cache");
        var engineOptions = new GgufEngineOptions { ContextLength = 1024, Threads = threads, BatchSize = 512, Bounds = new OnnxEngineOptions { ContinuousBatching = batched } };
        using var model = GgufDecoderModel.Load(path, engineOptions);
        int[] prompt = [.. Enumerable.Range(0, 16).Select(i => (i * 37) % 400)];
        var sampling = new SamplingOptions { Temperature = 0, MaxTokens = tokens, IgnoreEos = true };

        async Task<double> Ours()
        {
            var watch = Stopwatch.StartNew();
            var n = 0;
            await foreach (var _ in model.GenerateTokensAsync(prompt, sampling))
            {
                n++;
            }

            return n / watch.Elapsed.TotalSeconds;
        }

        var parameters = new ModelParams(path) { ContextSize = 1024, Threads = threads, BatchThreads = threads, BatchSize = 512, UBatchSize = 512, SeqMax = 1, GpuLayerCount = 0 };
        if (theirsFlashAttention is { } flash)
        {
            parameters.FlashAttention = flash;
        }
        using var weights = LLamaWeights.LoadFromFile(parameters);
        using var context = weights.CreateContext(parameters);
        // On one thread of its own, as the engine's batch decodes (LoopThread says why).
        Task<double> Theirs() => LoopThread.Run(TheirsOnce);
        double TheirsOnce()
        {
            context.NativeHandle.MemoryClear(data: false);
            using var chain = SafeLLamaSamplerChainHandle.Create(LLamaSamplerChainParams.Default());
            chain.AddGreedySampler();
            var batch = new LLamaBatch();
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < prompt.Length; i++)
            {
                batch.Add((LLamaToken)prompt[i], i, LLamaSeqId.Zero, i == prompt.Length - 1);
            }

            Check(context.NativeHandle.Decode(batch));
            var position = prompt.Length;
            for (var n = 1; ; n++)
            {
                var token = chain.Sample(context.NativeHandle, batch.TokenCount - 1);
                if (n == tokens)
                {
                    break;
                }

                batch.Clear();
                batch.Add(token, position++, LLamaSeqId.Zero, true);
                Check(context.NativeHandle.Decode(batch));
            }

            return tokens / watch.Elapsed.TotalSeconds;
        }

        await Ours();
        await Theirs();
        var ours = new List<double>();
        var theirs = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            if (round % 2 == 0)
            {
                ours.Add(await Ours());
                theirs.Add(await Theirs());
            }
            else
            {
                theirs.Add(await Theirs());
                ours.Add(await Ours());
            }
        }

        var ourMedian = Median(ours);
        var theirMedian = Median(theirs);
        Console.WriteLine($"engine (GgufDecoderModel, our sampler): median {ourMedian:0.0} tokens/s  [{string.Join(", ", ours.Select(v => v.ToString("0.0", CultureInfo.InvariantCulture)))}]");
        Console.WriteLine($"llama.cpp loop (LLamaSharp, greedy chain): median {theirMedian:0.0} tokens/s  [{string.Join(", ", theirs.Select(v => v.ToString("0.0", CultureInfo.InvariantCulture)))}]");
        Console.WriteLine($"ratio engine / llama.cpp: {ourMedian / theirMedian:0.000}");

        // A round's two runs are adjacent in time, so they share whatever the VM's neighbours were doing; the median of
        // the per-round ratios is steadier than the ratio of the medians when the rounds drift by 2x.
        Console.WriteLine($"paired: median of per-round ratios {Median([.. ours.Zip(theirs, (a, b) => a / b)]):0.000}");
    }

    private static void Check(DecodeResult result)
    {
        if (result != DecodeResult.Ok)
        {
            throw new InvalidOperationException($"llama_decode: {result}");
        }
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
