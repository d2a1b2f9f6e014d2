using System.Text.Json;
using System.Text.RegularExpressions;
using Enclave.Inference.Forge;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.Tokenizers;

namespace Enclave.Inference.Tests.Forge;

public sealed class ModelForgeTests
{
    private static readonly string[] DecoderFiles =
        ["config.json", "generation_config.json", "genai_config.json", "model.onnx", "model.onnx_data", "tokenizer.json", "tokenizer_config.json"];

    [Fact]
    public void ForgeDecoder_IsByteDeterministicForASeed_AndTheSeedChangesTheWeights()
    {
        using var temp = new TempDirectory();
        ModelForge.ForgeDecoder(temp.Sub("a"), new ForgeOptions { Seed = 7 });
        ModelForge.ForgeDecoder(temp.Sub("b"), new ForgeOptions { Seed = 7 });
        ModelForge.ForgeDecoder(temp.Sub("c"), new ForgeOptions { Seed = 8 });

        foreach (var file in DecoderFiles)
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(temp.Sub("a"), file)), File.ReadAllBytes(Path.Combine(temp.Sub("b"), file)));
        }

        Assert.NotEqual(File.ReadAllBytes(Path.Combine(temp.Sub("a"), "model.onnx_data")), File.ReadAllBytes(Path.Combine(temp.Sub("c"), "model.onnx_data")));
    }

    [Fact]
    public void ForgeEmbedding_IsByteDeterministicForASeed()
    {
        using var temp = new TempDirectory();
        ModelForge.ForgeEmbedding(temp.Sub("a"), new ForgeOptions { Seed = 3 });
        ModelForge.ForgeEmbedding(temp.Sub("b"), new ForgeOptions { Seed = 3 });
        foreach (var file in new[] { "config.json", "model.onnx", "model.onnx_data", "tokenizer.json" })
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(temp.Sub("a"), file)), File.ReadAllBytes(Path.Combine(temp.Sub("b"), file)));
        }
    }

    [Fact]
    public void ForgeDecoder_WritesTheOptimumLayout_WithKvCacheInputsAndOutputs()
    {
        using var temp = new TempDirectory();
        var forged = ModelForge.ForgeDecoder(temp.Path, new ForgeOptions { Layers = 2, Hidden = 64, Heads = 4, KvHeads = 2, Vocab = 512 });

        foreach (var file in DecoderFiles)
        {
            Assert.True(File.Exists(Path.Combine(temp.Path, file)), file);
        }

        using var config = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(temp.Path, "config.json")));
        var root = config.RootElement;
        Assert.Equal("qwen2", root.GetProperty("model_type").GetString());
        Assert.Equal(64, root.GetProperty("hidden_size").GetInt32());
        Assert.Equal(4, root.GetProperty("num_attention_heads").GetInt32());
        Assert.Equal(2, root.GetProperty("num_key_value_heads").GetInt32());
        Assert.Equal(2, root.GetProperty("num_hidden_layers").GetInt32());
        Assert.Equal(512, root.GetProperty("vocab_size").GetInt32());
        Assert.Equal(forged.ImEndId, root.GetProperty("eos_token_id").GetInt32());

        using var session = new InferenceSession(Path.Combine(temp.Path, "model.onnx"));
        Assert.Equal(
            ["input_ids", "attention_mask", "position_ids", "past_key_values.0.key", "past_key_values.0.value", "past_key_values.1.key", "past_key_values.1.value"],
            session.InputNames);
        Assert.Equal(["logits", "present.0.key", "present.0.value", "present.1.key", "present.1.value"], session.OutputNames);
        Assert.Equal([-1, 2, -1, 16], session.InputMetadata["past_key_values.1.value"].Dimensions);
        Assert.Equal([-1, -1, 512], session.OutputMetadata["logits"].Dimensions);

        // External data: every weight of 1 KiB or more lives in model.onnx_data, so the graph file stays small.
        Assert.True(new FileInfo(Path.Combine(temp.Path, "model.onnx")).Length < 32 * 1024);
        Assert.True(new FileInfo(Path.Combine(temp.Path, "model.onnx_data")).Length > forged.Parameters * 3);
    }

    [Fact]
    public void ForgedDecoder_RunsInOnnxRuntime_FromAnEmptyCache()
    {
        using var temp = new TempDirectory();
        ModelForge.ForgeDecoder(temp.Path, new ForgeOptions());
        using var session = new InferenceSession(Path.Combine(temp.Path, "model.onnx"));
        long[] ids = [1, 2, 3, 4, 5];
        var inputs = new Dictionary<string, OrtValue>
        {
            ["input_ids"] = OrtValue.CreateTensorValueFromMemory(ids, [1, 5]),
            ["attention_mask"] = OrtValue.CreateTensorValueFromMemory(new long[] { 1, 1, 1, 1, 1 }, [1, 5]),
            ["position_ids"] = OrtValue.CreateTensorValueFromMemory(new long[] { 0, 1, 2, 3, 4 }, [1, 5]),
        };
        for (var i = 0; i < 2; i++)
        {
            inputs[$"past_key_values.{i}.key"] = OrtValue.CreateTensorValueFromMemory(Array.Empty<float>(), [1, 2, 0, 16]);
            inputs[$"past_key_values.{i}.value"] = OrtValue.CreateTensorValueFromMemory(Array.Empty<float>(), [1, 2, 0, 16]);
        }

        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, inputs, session.OutputNames);
        Assert.Equal([1, 5, 512], outputs[0].GetTensorTypeAndShape().Shape);
        Assert.Equal([1, 2, 5, 16], outputs[1].GetTensorTypeAndShape().Shape);
        var logits = outputs[0].GetTensorDataAsSpan<float>().ToArray();
        Assert.All(logits, value => Assert.True(float.IsFinite(value)));
        var last = logits.AsSpan(4 * 512, 512);
        var mean = 0.0;
        foreach (var value in last)
        {
            mean += value;
        }

        mean /= 512;
        var variance = 0.0;
        foreach (var value in last)
        {
            variance += (value - mean) * (value - mean);
        }

        // Not degenerate: logits spread enough that sampling means something.
        Assert.InRange(Math.Sqrt(variance / 512), 0.5, 20);
        foreach (var value in inputs.Values)
        {
            value.Dispose();
        }
    }

    [Fact]
    public void ForgedDecoder_HonoursTheAttentionMask_SoALeftPaddedBatchRowEqualsItsUnpaddedRun()
    {
        using var temp = new TempDirectory();
        ModelForge.ForgeDecoder(temp.Path, new ForgeOptions());
        using var session = new InferenceSession(Path.Combine(temp.Path, "model.onnx"));

        // Row 0 is [7, 8, 9] left-padded to 5; row 1 is five real tokens.
        var batched = Logits(session, [0, 0, 7, 8, 9, 1, 2, 3, 4, 5], [0, 0, 1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 0, 1, 2, 0, 1, 2, 3, 4], batch: 2, length: 5);
        var single = Logits(session, [7, 8, 9], [1, 1, 1], [0, 1, 2], batch: 1, length: 3);
        var alone = Logits(session, [1, 2, 3, 4, 5], [1, 1, 1, 1, 1], [0, 1, 2, 3, 4], batch: 1, length: 5);

        for (var position = 0; position < 3; position++)
        {
            for (var v = 0; v < 512; v++)
            {
                Assert.Equal(single[(position * 512) + v], batched[((2 + position) * 512) + v], 3);
            }
        }

        for (var v = 0; v < 5 * 512; v++)
        {
            Assert.Equal(alone[v], batched[(5 * 512) + v], 3);
        }
    }

    private static float[] Logits(InferenceSession session, long[] ids, long[] mask, long[] positions, int batch, int length)
    {
        var inputs = new Dictionary<string, OrtValue>
        {
            ["input_ids"] = OrtValue.CreateTensorValueFromMemory(ids, [batch, length]),
            ["attention_mask"] = OrtValue.CreateTensorValueFromMemory(mask, [batch, length]),
            ["position_ids"] = OrtValue.CreateTensorValueFromMemory(positions, [batch, length]),
        };
        for (var i = 0; i < 2; i++)
        {
            inputs[$"past_key_values.{i}.key"] = OrtValue.CreateTensorValueFromMemory(Array.Empty<float>(), [batch, 2, 0, 16]);
            inputs[$"past_key_values.{i}.value"] = OrtValue.CreateTensorValueFromMemory(Array.Empty<float>(), [batch, 2, 0, 16]);
        }

        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, inputs, ["logits"]);
        var logits = outputs[0].GetTensorDataAsSpan<float>().ToArray();
        foreach (var value in inputs.Values)
        {
            value.Dispose();
        }

        return logits;
    }

    [Fact]
    public void ForgedTokenizer_IsAByteLevelBpeWhoseMergesAndSpecialTokensFitTheVocabulary()
    {
        using var temp = new TempDirectory();
        var forged = ModelForge.ForgeDecoder(temp.Path, new ForgeOptions { Vocab = 512 });
        using var tokenizerJson = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(temp.Path, "tokenizer.json")));
        var model = tokenizerJson.RootElement.GetProperty("model");
        Assert.Equal("BPE", model.GetProperty("type").GetString());
        var vocab = model.GetProperty("vocab").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32(), StringComparer.Ordinal);
        var merges = model.GetProperty("merges").EnumerateArray().Select(m => m.GetString()!).ToList();
        var added = tokenizerJson.RootElement.GetProperty("added_tokens").EnumerateArray()
            .ToDictionary(t => t.GetProperty("content").GetString()!, t => t.GetProperty("id").GetInt32(), StringComparer.Ordinal);

        Assert.Equal(509, vocab.Count);
        Assert.Equal(Enumerable.Range(0, 509), vocab.Values.Order());
        Assert.Equal(new Dictionary<string, int> { ["<|endoftext|>"] = 509, ["<|im_start|>"] = 510, ["<|im_end|>"] = 511 }, added);
        Assert.Equal(512, forged.TokenizerVocabulary);
        Assert.Equal("ByteLevel", tokenizerJson.RootElement.GetProperty("decoder").GetProperty("type").GetString());
        Assert.Equal(253, merges.Count);
        foreach (var merge in merges)
        {
            var parts = merge.Split(' ');
            Assert.Equal(2, parts.Length);
            Assert.Contains(parts[0], vocab.Keys);
            Assert.Contains(parts[1], vocab.Keys);
            Assert.Contains(parts[0] + parts[1], vocab.Keys);
        }

        using var config = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(temp.Path, "tokenizer_config.json")));
        Assert.Contains("<|im_start|>assistant", config.RootElement.GetProperty("chat_template").GetString(), StringComparison.Ordinal);
        Assert.Equal("<|im_end|>", config.RootElement.GetProperty("eos_token").GetString());

        // Microsoft.ML.Tokenizers' own byte-level BPE, built from the same vocabulary and merges, round-trips text.
        var pattern = tokenizerJson.RootElement.GetProperty("pre_tokenizer").GetProperty("pretokenizers")[0].GetProperty("pattern").GetProperty("Regex").GetString()!;
        var bpe = BpeTokenizer.Create(new BpeOptions(vocab)
        {
            Merges = merges,
            ByteLevel = true,
            PreTokenizer = new RegexPreTokenizer(new Regex(pattern, RegexOptions.Compiled), null),
        });
        const string Text = "The enclave runs in the dark: naïve café, 12345 and 😀 emoji.\n\n  spaces  ";
        var ids = bpe.EncodeToIds(Text);
        Assert.All(ids, id => Assert.InRange(id, 0, 508));
        Assert.True(ids.Count < System.Text.Encoding.UTF8.GetByteCount(Text), "merges shorten the byte sequence");
        Assert.Equal(Text, bpe.Decode(ids));
    }

    [Fact]
    public void ForgeOptions_ThatCannotMakeAModel_AreRefusedWithEveryProblem()
    {
        using var temp = new TempDirectory();
        var error = Assert.Throws<ArgumentException>(() =>
            ModelForge.ForgeDecoder(temp.Path, new ForgeOptions { Hidden = 30, Heads = 4, Vocab = 100 }));
        Assert.Contains("Hidden (30)", error.Message, StringComparison.Ordinal);
        Assert.Contains("Vocab must be", error.Message, StringComparison.Ordinal);
    }
}
