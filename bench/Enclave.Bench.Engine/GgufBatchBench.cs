// GGUF continuous batching (issue 16): aggregate tokens/s of a forged GGUF model with several concurrent streams,
// decoded together in one llama.cpp context (GgufBatcher: one llama_decode per step over every sequence) against the
// same streams each on its own llama.cpp context (Engine:Gguf:Bounds:ContinuousBatching false, as before batching).
// Usage: dotnet run -c Release -- gguf-batch [f16|q4_0] [threads] [tokens per stream] [rounds] [streams, comma-separated] [100m|10m]
// Both sides: the same file, threads and context (512 per sequence), 16-token prompts (a different one per stream),
// greedy decoding of `tokens` tokens per stream, all streams started together. Runs alternate per round; medians.
using System.Diagnostics;
using System.Globalization;
using Enclave.Inference.Forge;
using Enclave.Inference.Gguf;
using Enclave.Inference.Onnx;

internal static class GgufBatchBench
{
    public static async Task RunAsync(string[] args)
    {
        var weightType = args.Length > 0 && args[0] == "q4_0" ? GgufWeightType.Q4_0 : GgufWeightType.F16;
        var threads = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 2;
        var tokens = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 32;
        var rounds = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 3;
        var sizes = args.Length > 4 ? args[4].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray() : [1, 4, 8];
        var size = args.Length > 5 ? args[5] : "10m";
        var options = size == "100m"
            ? new ForgeOptions { Layers = 12, Hidden = 768, Heads = 12, KvHeads = 4, IntermediateSize = 2048, Vocab = 16384, MaxPositions = 1024, Seed = 1 }
            : new ForgeOptions { Layers = 4, Hidden = 384, Heads = 6, KvHeads = 2, IntermediateSize = 1024, Vocab = 4096, MaxPositions = 1024, Seed = 1 };
        var dir = Path.Combine(Path.GetTempPath(), $"ggufbench-{size}-{weightType}");
        var forged = ModelForge.ForgeGguf(dir, options, weightType);
        var path = Path.Combine(dir, ModelForge.GgufFileName);
        Console.WriteLine($"forged {size} {weightType}: {forged.Parameters:N0} parameters; threads {threads}, {tokens} tokens per stream, {rounds} rounds");

        var most = sizes.Max();
        int[][] prompts = [.. Enumerable.Range(0, most).Select(s => Enumerable.Range(0, 16).Select(i => ((i * 37) + (s * 101)) % 400).ToArray())];
        GgufEngineOptions Engine(bool batching) => new()
        {
            ContextLength = 512,
            Threads = threads,
            BatchSize = 512,
            Bounds = new OnnxEngineOptions { MaxConcurrentSequences = most, MaxQueuedSequences = most, ContinuousBatching = batching },
        };
        using var batched = GgufDecoderModel.Load(path, Engine(batching: true));
        using var alone = GgufDecoderModel.Load(path, Engine(batching: false));
        await Run(batched, prompts, most, tokens);
        await Run(alone, prompts, most, tokens);

        var single = 0.0;
        foreach (var streams in sizes)
        {
            var together = new List<double>();
            var separate = new List<double>();
            for (var round = 0; round < rounds; round++)
            {
                if (round % 2 == 0)
                {
                    together.Add(await Run(batched, prompts, streams, tokens));
                    separate.Add(await Run(alone, prompts, streams, tokens));
                }
                else
                {
                    separate.Add(await Run(alone, prompts, streams, tokens));
                    together.Add(await Run(batched, prompts, streams, tokens));
                }
            }

            var b = Median(together);
            var s = Median(separate);
            if (streams == 1)
            {
                single = b;
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"streams={streams}: batched {b:0.0} tok/s, one context per stream {s:0.0} tok/s, batched/separate {b / s:0.00}x, batched/single-stream {(single > 0 ? b / single : double.NaN):0.00}x"));
            Console.WriteLine("  batched rounds: " + string.Join(", ", together.Select(x => x.ToString("0.0", CultureInfo.InvariantCulture))) + "; separate rounds: " + string.Join(", ", separate.Select(x => x.ToString("0.0", CultureInfo.InvariantCulture))));
        }
    }

    /// <summary><paramref name="streams"/> greedy streams started together; aggregate tokens/s.</summary>
    private static async Task<double> Run(GgufDecoderModel model, int[][] prompts, int streams, int tokens)
    {
        var clock = Stopwatch.StartNew();
        var counts = await Task.WhenAll(Enumerable.Range(0, streams).Select(s => Task.Run(async () =>
        {
            var n = 0;
            await foreach (var unused in model.GenerateTokensAsync(prompts[s], new SamplingOptions { Temperature = 0, MaxTokens = tokens, IgnoreEos = true }))
            {
                n++;
            }

            return n;
        })));
        return counts.Sum() / clock.Elapsed.TotalSeconds;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
