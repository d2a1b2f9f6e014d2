// In-process A/B of one greedy GGUF stream under several llama.cpp context settings and engine modes (issue 16: where
// the batched Q4_0 path loses against llama.cpp's own loop).
// Usage: dotnet run -c Release -- gguf-ab [f16|q4_0] [threads] [tokens] [rounds] [variant,variant,...] [100m|10m]
// Variants (the first is the baseline every other is divided by), a base and flags joined by '+':
//   loop          llama.cpp's loop (llama_decode and its greedy chain) on a context of 1024 tokens, one sequence
//   bctx          the same loop on a context as the engine's batch makes it: 4 sequences of 1024 (n_ctx 4096), non-unified KV
//   bctx-uni      the same with a unified KV cache
//     flags: fa (flash attention on), nofa (off), auto or none (llama.cpp's default, auto); bf16, q8 (KV cache type; F16 without)
//   engine-b      GgufDecoderModel batched (the default), through the DecodingLoop;  engine-u: one context per sequence
//     flags: the engine's defaults (flash attention, BF16 cache) without; nofa, f16, q8, inexact (ExactBatching false)
// e.g. loop+auto,engine-b,engine-b+nofa+f16,bctx+fa+bf16
// Every round runs each variant once, the order rotated by one each round, after one warm-up each; medians compared.
using System.Diagnostics;
using System.Globalization;
using Enclave.Inference.Forge;
using Enclave.Inference.Gguf;
using Enclave.Inference.Onnx;
using LLama;
using LLama.Common;
using LLama.Native;

internal static class GgufAbBench
{
    public static async Task RunAsync(string[] args)
    {
        var weightType = args.Length > 0 && args[0] == "q4_0" ? GgufWeightType.Q4_0 : GgufWeightType.F16;
        var threads = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 2;
        var tokens = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 128;
        var rounds = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 9;
        var names = (args.Length > 4 ? args[4] : "loop+auto,engine-b,engine-b+nofa+f16").Split(',');
        var size = args.Length > 5 ? args[5] : "100m";
        var options = size == "100m"
            ? new ForgeOptions { Layers = 12, Hidden = 768, Heads = 12, KvHeads = 4, IntermediateSize = 2048, Vocab = 16384, MaxPositions = 1024, Seed = 1 }
            : new ForgeOptions { Layers = 4, Hidden = 384, Heads = 6, KvHeads = 2, IntermediateSize = 1024, Vocab = 4096, MaxPositions = 1024, Seed = 1 };
        var dir = Path.Combine(Path.GetTempPath(), $"ggufbench-{size}-{weightType}");
        var forged = ModelForge.ForgeGguf(dir, options, weightType);
        var path = Path.Combine(dir, ModelForge.GgufFileName);
        Console.WriteLine($"forged {size} {weightType}: {forged.Parameters:N0} parameters; threads {threads}, {tokens} tokens, {rounds} rounds; variants {string.Join(", ", names)}");
        int[] prompt = [.. Enumerable.Range(0, 16).Select(i => (i * 37) % 400)];

        LlamaNative.EnsureConfigured(); // before the first native call: llama.cpp's log goes to the (absent) logger
        var disposables = new List<IDisposable>();
        var variants = new List<(string Name, Func<Task<double>> Run)>();
        LLamaWeights? weights = null;
        foreach (var name in names)
        {
            var parts = name.Split('+');
            var flags = parts[1..].ToHashSet(StringComparer.Ordinal);
            var flash = flags.Contains("fa") ? true : flags.Contains("auto") ? null : flags.Contains("nofa") ? false : (bool?)null;
            var cache = flags.Contains("bf16") ? (GGMLType)30 : flags.Contains("q8") ? GGMLType.GGML_TYPE_Q8_0 : GGMLType.GGML_TYPE_F16;
            switch (parts[0])
            {
                case "engine-b":
                case "engine-u":
                    {
                        var engineOptions = new GgufEngineOptions
                        {
                            ContextLength = 1024,
                            Threads = threads,
                            BatchSize = 512,
                            FlashAttention = flash ?? true,
                            CacheType = flags.Contains("f16") ? GgufCacheType.F16 : flags.Contains("q8") ? GgufCacheType.Q8_0 : GgufCacheType.BF16,
                            ExactBatching = !flags.Contains("inexact"),
                            Bounds = new OnnxEngineOptions { ContinuousBatching = parts[0] == "engine-b" },
                        };
                        var model = GgufDecoderModel.Load(path, engineOptions);
                        disposables.Add(model);
                        var sampling = new SamplingOptions { Temperature = 0, MaxTokens = tokens, IgnoreEos = true };
                        variants.Add((name, async () =>
                        {
                            var watch = Stopwatch.StartNew();
                            var n = 0;
                            await foreach (var _ in model.GenerateTokensAsync(prompt, sampling))
                            {
                                n++;
                            }

                            return n / watch.Elapsed.TotalSeconds;
                        }));
                        break;
                    }

                case "loop":
                case "bctx":
                case "bctx-uni":
                    {
                        var parameters = new ModelParams(path) { ContextSize = 1024, Threads = threads, BatchThreads = threads, BatchSize = 512, UBatchSize = 512, SeqMax = 1, GpuLayerCount = 0, FlashAttention = flash, TypeK = cache, TypeV = cache };
                        if (parts[0] != "loop")
                        {
                            parameters.ContextSize = 4096;
                            parameters.SeqMax = 4;
                            parameters.KVUnified = parts[0] == "bctx-uni";
                        }

                        weights ??= LLamaWeights.LoadFromFile(parameters);
                        var context = weights.CreateContext(parameters);
                        disposables.Add(context);
                        variants.Add((name, () => LoopThread.Run(() => Loop(context, prompt, tokens))));
                        break;
                    }

                default:
                    throw new ArgumentException("unknown variant " + name);
            }
        }

        foreach (var (_, run) in variants)
        {
            await run();
        }

        var results = variants.Select(_ => new List<double>()).ToArray();
        for (var round = 0; round < rounds; round++)
        {
            for (var k = 0; k < variants.Count; k++)
            {
                var v = (k + round) % variants.Count;
                results[v].Add(await variants[v].Run());
            }
        }

        var baseline = Median(results[0]);
        for (var v = 0; v < variants.Count; v++)
        {
            var median = Median(results[v]);
            // Per-round ratio to the baseline of the same round (adjacent runs share the neighbours' load), then median.
            var paired = Median([.. results[v].Zip(results[0], (a, b) => a / b)]);
            Console.WriteLine($"{variants[v].Name,-10} median {median,7:0.0} tok/s  ratio {median / baseline:0.000}  paired {paired:0.000}  [{string.Join(", ", results[v].Select(x => x.ToString("0", CultureInfo.InvariantCulture)))}]");
        }

        foreach (var d in disposables)
        {
            d.Dispose();
        }

        weights?.Dispose();
    }

    private static double Loop(LLamaContext context, int[] prompt, int tokens)
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
