// Engine tokens/s versus a bare ONNX Runtime loop over the same forged model (issue 3, benchmark b).
// Usage: dotnet run -c Release -- [10m|100m] [intra-op threads] [tokens]
//        dotnet run -c Release -- grammar [tokens] [documents]   (constrained decoding: GrammarBench.cs)
//        dotnet run -c Release -- batch [threads] [tokens per stream] [rounds] [streams]   (continuous batching: BatchBench.cs)
//        dotnet run -c Release -- gguf [f16|q4_0] [threads] [tokens] [rounds] [100m|10m]   (GGUF through llama.cpp: GgufBench.cs)
//        dotnet run -c Release -- gguf-ab [f16|q4_0] [threads] [tokens] [rounds] [variants] [100m|10m]   (one GGUF stream, A/B of context settings and engine modes: GgufAbBench.cs)
//        dotnet run -c Release -- gguf-batch [f16|q4_0] [threads] [tokens per stream] [rounds] [streams] [100m|10m]   (GGUF batching: GgufBatchBench.cs)
// The bare loop uses the same session options and inputs, feeds present -> past and takes the argmax: the least any
// engine must do. The engine adds sampling, stop handling, the scheduler and streaming.
using System.Diagnostics;
using Enclave.Inference.Forge;
using Enclave.Inference.Onnx;
using Microsoft.ML.OnnxRuntime;

if (args.Length > 0 && args[0] == "gguf-batch")
{
    await GgufBatchBench.RunAsync(args[1..]);
    return;
}

if (args.Length > 0 && args[0] == "gguf-ab")
{
    await GgufAbBench.RunAsync(args[1..]);
    return;
}

if (args.Length > 0 && args[0] == "gguf")
{
    await GgufBench.RunAsync(args[1..]);
    return;
}

if (args.Length > 0 && args[0] == "batch")
{
    await BatchBench.RunAsync(args[1..]);
    return;
}

if (args.Length > 0 && args[0] == "grammar")
{
    await GrammarBench.RunAsync(args[1..]);
    return;
}

var size = args.Length > 0 ? args[0] : "10m";
var threads = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1;
var tokens = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 200;
var options = size == "100m"
    ? new ForgeOptions { Layers = 12, Hidden = 768, Heads = 12, KvHeads = 4, IntermediateSize = 2048, Vocab = 16384, MaxPositions = 1024, Seed = 1 }
    : new ForgeOptions { Layers = 4, Hidden = 384, Heads = 6, KvHeads = 2, IntermediateSize = 1024, Vocab = 4096, MaxPositions = 1024, Seed = 1 };
var dir = Path.Combine(Path.GetTempPath(), "onnxbench-" + size);
var forgeClock = Stopwatch.StartNew();
var forged = ModelForge.ForgeDecoder(dir, options);
Console.WriteLine($"forged {size}: {forged.Parameters:N0} parameters in {forgeClock.Elapsed.TotalSeconds:0.0} s");
int[] prompt = Enumerable.Range(0, 16).Select(i => (i * 37) % 400).ToArray();

var engineOptions = new OnnxEngineOptions { IntraOpThreads = threads, AllowSpinning = false };
using var model = OnnxDecoderModel.Load(dir, engineOptions);

async Task<double> Engine(SamplingOptions sampling)
{
    var clock = Stopwatch.StartNew();
    var n = 0;
    await foreach (var t in model.GenerateTokensAsync(prompt, sampling with { MaxTokens = tokens, IgnoreEos = true }))
    {
        n++;
    }
    return n / clock.Elapsed.TotalSeconds;
}

// Bare loop: same session options, same inputs, present -> past, argmax.
Enclave.Inference.Onnx.OnnxRuntimeEnvironment.EnsureTelemetryOff();
using var so = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
so.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
using var session = new InferenceSession(Path.Combine(dir, "model.onnx"), so);
double Bare()
{
    var layers = options.Layers;
    var kv = options.KvHeads ?? (options.Heads % 2 == 0 ? options.Heads / 2 : options.Heads); // the forge's default
    var hd = options.Hidden / options.Heads;
    var inputNames = new List<string> { "input_ids", "attention_mask", "position_ids" };
    var outputNames = new List<string> { "logits" };
    for (var i = 0; i < layers; i++) { inputNames.Add($"past_key_values.{i}.key"); inputNames.Add($"past_key_values.{i}.value"); outputNames.Add($"present.{i}.key"); outputNames.Add($"present.{i}.value"); }
    var past = new OrtValue[layers * 2];
    for (var i = 0; i < past.Length; i++) past[i] = OrtValue.CreateTensorValueFromMemory(Array.Empty<float>(), [1, kv, 0, hd]);
    var mask = new long[options.MaxPositions]; Array.Fill(mask, 1L);
    using var ro = new RunOptions();
    var clock = Stopwatch.StartNew();
    long[] ids = prompt.Select(x => (long)x).ToArray();
    var length = 0; var n = 0;
    while (n < tokens)
    {
        var count = ids.Length;
        var pos = Enumerable.Range(length, count).Select(x => (long)x).ToArray();
        using var a = OrtValue.CreateTensorValueFromMemory(ids, [1, count]);
        using var m = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, mask.AsMemory(0, length + count), [1, length + count]);
        using var p = OrtValue.CreateTensorValueFromMemory(pos, [1, count]);
        var inputs = new List<OrtValue> { a, m, p }; inputs.AddRange(past);
        var outputs = session.Run(ro, inputNames, inputs, outputNames);
        var logits = outputs[0].GetTensorDataAsSpan<float>().Slice((count - 1) * options.Vocab, options.Vocab);
        var best = 0; for (var v = 1; v < logits.Length; v++) if (logits[v] > logits[best]) best = v;
        outputs[0].Dispose();
        for (var i = 0; i < past.Length; i++) { past[i].Dispose(); past[i] = outputs[i + 1]; }
        length += count; n++;
        ids = [best];
    }
    foreach (var v in past) v.Dispose();
    return n / clock.Elapsed.TotalSeconds;
}

// warm-up
await Engine(new SamplingOptions { Temperature = 0 }); Bare();
var rounds = 5;
var bare = new List<double>(); var greedy = new List<double>(); var sampled = new List<double>();
for (var r = 0; r < rounds; r++)
{
    bare.Add(Bare());
    greedy.Add(await Engine(new SamplingOptions { Temperature = 0 }));
    sampled.Add(await Engine(new SamplingOptions { Temperature = 0.7f, TopP = 0.9f, TopK = 40, Seed = r }));
}
double Median(List<double> x) { var s = x.Order().ToList(); return s[s.Count / 2]; }
Console.WriteLine($"{size} threads={threads} tokens={tokens}: bare {Median(bare):0.0} tok/s, engine greedy {Median(greedy):0.0} tok/s ({Median(greedy) / Median(bare):0.000}), engine sampled (t=0.7, top_p=0.9, top_k=40) {Median(sampled):0.0} tok/s ({Median(sampled) / Median(bare):0.000})");
Console.WriteLine("bare: " + string.Join(", ", bare.Select(x => x.ToString("0.0"))));
Console.WriteLine("greedy: " + string.Join(", ", greedy.Select(x => x.ToString("0.0"))));
Console.WriteLine("sampled: " + string.Join(", ", sampled.Select(x => x.ToString("0.0"))));

