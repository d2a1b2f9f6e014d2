// Constrained decoding (issue 15): grammar compile time, and the per-token cost of the mask against the step time of
// the 10M forged model. Usage: dotnet run -c Release -- grammar [tokens per document] [documents]
using System.Diagnostics;
using System.Text.Json.Nodes;
using Enclave.Inference.Forge;
using Enclave.Inference.Onnx;
using Enclave.Inference.Structured;
using Enclave.Inference.Text;

internal static class GrammarBench
{
    private static readonly (string Name, string Schema)[] Corpus =
    [
        ("object", """{"type":"object","properties":{"name":{"type":"string","maxLength":40},"age":{"type":"integer","minimum":0,"maximum":150},"email":{"type":"string","format":"email"},"tags":{"type":"array","items":{"enum":["a","b","c"]},"maxItems":5}},"required":["name","age","email","tags"],"additionalProperties":false}"""),
        ("recursive", """{"$defs":{"node":{"type":"object","properties":{"value":{"type":"number","minimum":-1000,"maximum":1000},"children":{"type":"array","items":{"$ref":"#/$defs/node"},"maxItems":4}},"required":["value","children"],"additionalProperties":false}},"$ref":"#/$defs/node"}"""),
        ("formats", """{"type":"object","properties":{"when":{"type":"string","format":"date-time"},"id":{"type":"string","format":"uuid"},"day":{"type":"string","format":"date"},"code":{"type":"string","pattern":"^[A-Z]{3}-[0-9]{2,4}(-[a-z]+)?$"}},"required":["when","id","day","code"],"additionalProperties":false}"""),
    ];

    public static async Task RunAsync(string[] args)
    {
        var tokens = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 200;
        var documents = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 10;

        // 1. Compile time: every run compiles afresh (a different title makes a different canonical schema, so the cache misses).
        foreach (var (name, schema) in Corpus)
        {
            var times = new List<double>();
            for (var i = 0; i < 50; i++)
            {
                var node = JsonNode.Parse(schema)!.AsObject();
                node["title"] = $"bench-{Guid.NewGuid():N}";
                var clock = Stopwatch.StartNew();
                ResponseFormat.Compile(node);
                times.Add(clock.Elapsed.TotalMilliseconds);
            }

            Console.WriteLine($"compile {name}: median {Median(times):0.000} ms (first {times[0]:0.000} ms)");
        }

        // 2. Mask cost per token against the step time of the 10M forged model.
        var options = new ForgeOptions { Layers = 4, Hidden = 384, Heads = 6, KvHeads = 2, IntermediateSize = 1024, Vocab = 4096, MaxPositions = 1024, Seed = 1 };
        var dir = Path.Combine(Path.GetTempPath(), "onnxbench-grammar-10m");
        var forged = ModelForge.ForgeDecoder(dir, options);
        Console.WriteLine($"forged 10m: {forged.Parameters:N0} parameters, vocabulary {forged.TokenizerVocabulary}");
        using var model = OnnxDecoderModel.Load(dir, new OnnxEngineOptions { IntraOpThreads = 1, AllowSpinning = false });
        var tokenizer = TokenizerLoader.Load(dir).Tokenizer;
        var prompt = tokenizer.Encode("Answer in JSON:", addSpecialTokens: false);
        var vocabularyClock = Stopwatch.StartNew();
        var vocabulary = TokenVocabulary.For(tokenizer, options.Vocab);
        Console.WriteLine($"token trie: {vocabulary.TextTokens} tokens, {vocabulary.NodeCount} nodes, built in {vocabularyClock.Elapsed.TotalMilliseconds:0.0} ms");

        async Task<(int Tokens, double Seconds)> Run(SamplingOptions sampling)
        {
            var clock = Stopwatch.StartNew();
            var n = 0;
            await foreach (var chunk in model.GenerateTextAsync(prompt, tokenizer, sampling))
            {
                n = chunk.CompletionTokens;
            }

            return (n, clock.Elapsed.TotalSeconds);
        }

        // The mask alone, measured directly: a sequence driven by seeded random logits (the forged model's are random
        // too) through GrammarConstraint.Mask and Accept until its document is complete, timed per token.
        var eos = new HashSet<int>(tokenizer.EndOfSequenceIds);
        foreach (var (name, schema) in Corpus)
        {
            var grammar = ResponseFormat.Compile(JsonNode.Parse(schema)!);
            var perToken = new List<double>();
            var count = 0;
            for (var d = 0; d < documents * 4; d++)
            {
                var random = new Random(d);
                var constraint = new GrammarConstraint(grammar, vocabulary, eos);
                var logits = new float[options.Vocab];
                var clock = Stopwatch.StartNew();
                var steps = 0;
                for (var left = tokens; ; left--)
                {
                    for (var i = 0; i < logits.Length; i++)
                    {
                        logits[i] = (float)random.NextDouble();
                    }

                    constraint.Mask(logits, left - 1);
                    var best = 0;
                    for (var i = 1; i < logits.Length; i++)
                    {
                        if (logits[i] > logits[best])
                        {
                            best = i;
                        }
                    }

                    steps++;
                    if (eos.Contains(best) || left == 1)
                    {
                        break;
                    }

                    constraint.Accept(best);
                }

                perToken.Add(clock.Elapsed.TotalMilliseconds / steps);
                count += steps;
            }

            Console.WriteLine($"mask {name}: median {Median(perToken):0.000} ms/token ({count / (documents * 4)} tokens per document)");
        }

        await Run(new SamplingOptions { MaxTokens = 20, Seed = 1, IgnoreEos = true }); // warm-up
        foreach (var (name, schema) in Corpus)
        {
            var grammar = ResponseFormat.Compile(JsonNode.Parse(schema)!);
            await Run(new SamplingOptions { MaxTokens = 20, Seed = 1, Grammar = grammar });
            var free = new List<double>();
            var constrained = new List<double>();
            var produced = 0;
            for (var d = 0; d < documents; d++)
            {
                // Alternate, so that load on the machine falls on both alike.
                var f = await Run(new SamplingOptions { MaxTokens = tokens, Seed = d, IgnoreEos = true });
                free.Add(f.Seconds / f.Tokens);
                var c = await Run(new SamplingOptions { MaxTokens = tokens, Seed = d, Grammar = grammar });
                constrained.Add(c.Seconds / c.Tokens);
                produced += c.Tokens;
            }

            var step = Median(free) * 1000;
            var withMask = Median(constrained) * 1000;
            Console.WriteLine($"{name}: step {step:0.000} ms/token free, {withMask:0.000} ms/token constrained; mask {withMask - step:0.000} ms = {(withMask - step) / step:P1} of the step ({produced / documents} tokens per document)");
        }
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }
}
