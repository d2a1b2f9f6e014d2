// Continuous batching (issue 15): aggregate tokens/s of the engine with 1, 4, 8 and 16 concurrent streams on the 100M
// forged model, against a bare ONNX Runtime batched loop over the same batch sizes; time to first token under load.
// Usage: dotnet run -c Release -- batch [intra-op threads] [tokens per stream] [rounds] [streams, comma-separated]
// The bare batched loop is the least a batching engine must do: all B prompts (the same length) prefilled in one run
// [B, 16], then one run [B, 1] per step with present -> past fed back unchanged and an argmax per row. The engine adds
// what serving needs: streams arriving one by one (each prompt prefilled on its own, in pieces, between decode steps),
// the batched cache assembled when the batch changes, a sampler and a channel per stream, the scheduler.
using System.Diagnostics;
using System.Globalization;
using Enclave.Inference.Forge;
using Enclave.Inference.Onnx;
using Microsoft.ML.OnnxRuntime;

internal static class BatchBench
{
    public static async Task RunAsync(string[] args)
    {
        var threads = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 2;
        var tokens = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 64;
        var rounds = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 3;
        var sizes = args.Length > 3 ? args[3].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray() : [1, 4, 8, 16];
        var options = new ForgeOptions { Layers = 12, Hidden = 768, Heads = 12, KvHeads = 4, IntermediateSize = 2048, Vocab = 16384, MaxPositions = 1024, Seed = 1 };
        var dir = Path.Combine(Path.GetTempPath(), "onnxbench-100m");
        var forged = ModelForge.ForgeDecoder(dir, options);
        Console.WriteLine($"forged 100m: {forged.Parameters:N0} parameters; threads={threads} tokens/stream={tokens} rounds={rounds}");
        Console.WriteLine($"load before: {Load()}");

        var most = sizes.Max();
        int[][] prompts = [.. Enumerable.Range(0, most).Select(s => Enumerable.Range(0, 16).Select(i => ((i * 37) + (s * 101)) % 400).ToArray())];
        using var model = OnnxDecoderModel.Load(dir, new OnnxEngineOptions { IntraOpThreads = threads, AllowSpinning = false, MaxConcurrentSequences = most, MaxQueuedSequences = most });
        OnnxRuntimeEnvironment.EnsureTelemetryOff();
        using var so = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        so.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        using var session = new InferenceSession(Path.Combine(dir, "model.onnx"), so);

        // Warm-up of both at the largest size.
        await Engine(model, prompts, most, tokens);
        Bare(session, options, prompts, most, tokens);

        var single = 0.0;
        foreach (var streams in sizes)
        {
            var engine = new List<double>();
            var bare = new List<double>();
            var firsts = new List<double>();
            for (var r = 0; r < rounds; r++)
            {
                // Alternate which goes first, so a change of load hits both alike.
                if (r % 2 == 0)
                {
                    bare.Add(Bare(session, options, prompts, streams, tokens));
                }

                var (rate, ttft) = await Engine(model, prompts, streams, tokens);
                engine.Add(rate);
                firsts.AddRange(ttft);
                if (r % 2 == 1)
                {
                    bare.Add(Bare(session, options, prompts, streams, tokens));
                }
            }

            var e = Median(engine);
            var b = Median(bare);
            if (streams == 1)
            {
                single = e;
            }

            firsts.Sort();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"streams={streams}: engine {e:0.0} tok/s, bare batched {b:0.0} tok/s, engine/bare {e / b:0.000}, engine/single-stream {(single > 0 ? e / single : double.NaN):0.00}x, TTFT p50 {Percentile(firsts, 0.5):0} ms p99 {Percentile(firsts, 0.99):0} ms; max rows {model.Batcher?.MaxRows}; load {Load()}"));
            Console.WriteLine("  engine rounds: " + string.Join(", ", engine.Select(x => x.ToString("0.0", CultureInfo.InvariantCulture))) + "; bare rounds: " + string.Join(", ", bare.Select(x => x.ToString("0.0", CultureInfo.InvariantCulture))));
        }
    }

    /// <summary><paramref name="streams"/> requests started together, each its own stream; aggregate tokens/s and each stream's time to first token.</summary>
    private static async Task<(double Rate, List<double> FirstTokenMs)> Engine(OnnxDecoderModel model, int[][] prompts, int streams, int tokens)
    {
        var clock = Stopwatch.StartNew();
        var results = await Task.WhenAll(Enumerable.Range(0, streams).Select(s => Task.Run(async () =>
        {
            var first = -1.0;
            var n = 0;
            await foreach (var unused in model.GenerateTokensAsync(prompts[s], new SamplingOptions { Temperature = 0f, MaxTokens = tokens, IgnoreEos = true }))
            {
                if (n++ == 0)
                {
                    first = clock.Elapsed.TotalMilliseconds;
                }
            }

            return (n, first);
        })));
        var seconds = clock.Elapsed.TotalSeconds;
        return (results.Sum(r => r.n) / seconds, [.. results.Select(r => r.first)]);
    }

    /// <summary>The bare batched loop: one prefill run [B, 16], then [B, 1] per step, present -> past, argmax per row.</summary>
    private static double Bare(InferenceSession session, ForgeOptions options, int[][] prompts, int streams, int tokens)
    {
        var layers = options.Layers;
        var kv = options.KvHeads!.Value;
        var hd = options.Hidden / options.Heads;
        var inputNames = new List<string> { "input_ids", "attention_mask", "position_ids" };
        var outputNames = new List<string> { "logits" };
        for (var i = 0; i < layers; i++)
        {
            inputNames.Add($"past_key_values.{i}.key");
            inputNames.Add($"past_key_values.{i}.value");
            outputNames.Add($"present.{i}.key");
            outputNames.Add($"present.{i}.value");
        }

        var past = new OrtValue[layers * 2];
        for (var i = 0; i < past.Length; i++)
        {
            past[i] = OrtValue.CreateTensorValueFromMemory(Array.Empty<float>(), [streams, kv, 0, hd]);
        }

        var promptLength = prompts[0].Length;
        var mask = new long[streams * (promptLength + tokens)];
        Array.Fill(mask, 1L);
        using var ro = new RunOptions();
        var clock = Stopwatch.StartNew();
        var ids = new long[streams * promptLength];
        for (var s = 0; s < streams; s++)
        {
            for (var i = 0; i < promptLength; i++)
            {
                ids[(s * promptLength) + i] = prompts[s][i];
            }
        }

        var length = 0;
        var count = promptLength;
        var n = 0;
        while (true)
        {
            var positions = new long[streams * count];
            for (var s = 0; s < streams; s++)
            {
                for (var i = 0; i < count; i++)
                {
                    positions[(s * count) + i] = length + i;
                }
            }

            using var a = OrtValue.CreateTensorValueFromMemory(ids, [streams, count]);
            using var m = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, mask.AsMemory(0, streams * (length + count)), [streams, length + count]);
            using var p = OrtValue.CreateTensorValueFromMemory(positions, [streams, count]);
            var inputs = new List<OrtValue> { a, m, p };
            inputs.AddRange(past);
            var outputs = session.Run(ro, inputNames, inputs, outputNames);
            var logits = outputs[0].GetTensorDataAsSpan<float>();
            var next = new long[streams];
            for (var s = 0; s < streams; s++)
            {
                var row = logits.Slice((((s * count) + count - 1) * options.Vocab), options.Vocab);
                var best = 0;
                for (var v = 1; v < row.Length; v++)
                {
                    if (row[v] > row[best])
                    {
                        best = v;
                    }
                }

                next[s] = best;
            }

            outputs[0].Dispose();
            for (var i = 0; i < past.Length; i++)
            {
                past[i].Dispose();
                past[i] = outputs[i + 1];
            }

            length += count;
            n += streams;
            if (n >= streams * tokens)
            {
                break;
            }

            ids = next;
            count = 1;
        }

        foreach (var v in past)
        {
            v.Dispose();
        }

        return n / clock.Elapsed.TotalSeconds;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }

    private static double Percentile(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

    private static string Load() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}
