using System.Text.Json;

namespace Enclave.Inference.Onnx;

/// <summary>What the engine needs from a causal LM's <c>config.json</c> and <c>generation_config.json</c>.</summary>
public sealed record DecoderModelConfig
{
    public required string ModelType { get; init; }

    public required int HiddenSize { get; init; }

    public required int Layers { get; init; }

    public required int AttentionHeads { get; init; }

    public required int KeyValueHeads { get; init; }

    public required int HeadDim { get; init; }

    public required int VocabSize { get; init; }

    /// <summary>Context length in tokens, prompt and completion together.</summary>
    public required int MaxPositions { get; init; }

    public int? BosTokenId { get; init; }

    /// <summary>EOS IDs from both files (<c>eos_token_id</c> may be a number or a list in each).</summary>
    public required IReadOnlySet<int> EosTokenIds { get; init; }

    internal static DecoderModelConfig Read(string directory, OnnxEngineOptions options, List<ModelProblem> problems)
    {
        var config = ModelFolder.ReadJson(directory, "config.json", options.MaxConfigBytes, required: true, problems);
        var generation = ModelFolder.ReadJson(directory, "generation_config.json", options.MaxConfigBytes, required: false, problems);
        using (config)
        using (generation)
        {
            if (config is null)
            {
                return Empty;
            }

            var root = config.RootElement;
            var reader = new ConfigReader(root, "config.json", problems);
            var hidden = reader.Int("hidden_size", 1, 1 << 20);
            var layers = reader.Int("num_hidden_layers", 1, 4096);
            var heads = reader.Int("num_attention_heads", 1, 4096);
            var kvHeads = reader.Int("num_key_value_heads", 1, 4096, fallback: heads);
            var headDim = reader.Int("head_dim", 1, 1 << 16, fallback: heads > 0 && hidden % heads == 0 ? hidden / heads : 0);
            var vocab = reader.Int("vocab_size", 1, 1 << 24);
            var positions = reader.Int("max_position_embeddings", 2, 1 << 24);
            if (heads > 0 && kvHeads > 0 && heads % kvHeads != 0)
            {
                problems.Add(new ModelProblem(ModelRejectionReason.InvalidConfig, $"config.json: num_attention_heads ({heads}) is not a multiple of num_key_value_heads ({kvHeads})"));
            }

            if (headDim == 0)
            {
                problems.Add(new ModelProblem(ModelRejectionReason.InvalidConfig, $"config.json: hidden_size ({hidden}) is not a multiple of num_attention_heads ({heads}) and no head_dim is given"));
            }

            var eos = new HashSet<int>();
            reader.Ids("eos_token_id", vocab, eos);
            if (generation is not null)
            {
                new ConfigReader(generation.RootElement, "generation_config.json", problems).Ids("eos_token_id", vocab, eos);
            }

            var bos = new HashSet<int>();
            reader.Ids("bos_token_id", vocab, bos);
            return new DecoderModelConfig
            {
                ModelType = root.TryGetProperty("model_type", out var type) && type.ValueKind == JsonValueKind.String ? type.GetString()! : "unknown",
                HiddenSize = hidden,
                Layers = layers,
                AttentionHeads = heads,
                KeyValueHeads = kvHeads,
                HeadDim = headDim,
                VocabSize = vocab,
                MaxPositions = positions,
                BosTokenId = bos.Count == 1 ? bos.First() : null,
                EosTokenIds = eos,
            };
        }
    }

    private static readonly DecoderModelConfig Empty = new()
    {
        ModelType = "unknown",
        HiddenSize = 0,
        Layers = 0,
        AttentionHeads = 0,
        KeyValueHeads = 0,
        HeadDim = 0,
        VocabSize = 0,
        MaxPositions = 0,
        EosTokenIds = new HashSet<int>(),
    };
}

/// <summary>Reads bounded integers from a config object, recording what is missing or out of range.</summary>
internal readonly struct ConfigReader(JsonElement root, string file, List<ModelProblem> problems)
{
    public int Int(string name, int min, int max, int? fallback = null)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            if (fallback is { } f)
            {
                return f;
            }

            problems.Add(new ModelProblem(ModelRejectionReason.InvalidConfig, $"{file}: '{name}' is missing"));
            return 0;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var number) || number < min || number > max)
        {
            problems.Add(new ModelProblem(ModelRejectionReason.InvalidConfig, $"{file}: '{name}' must be an integer in {min}..{max} (was {value.GetRawText()})"));
            return 0;
        }

        return number;
    }

    /// <summary>Adds the token ID or IDs of <paramref name="name"/> (absent is fine) to <paramref name="into"/>.</summary>
    public void Ids(string name, int vocab, HashSet<int> into)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        var items = value.ValueKind == JsonValueKind.Array ? value.EnumerateArray().Take(1024).ToArray() : [value];
        foreach (var item in items)
        {
            if (item.ValueKind == JsonValueKind.Number && item.TryGetInt32(out var id) && id >= 0 && (vocab == 0 || id < vocab))
            {
                into.Add(id);
            }
            else
            {
                problems.Add(new ModelProblem(ModelRejectionReason.InvalidConfig, $"{file}: '{name}' must be token IDs below vocab_size {vocab} (was {item.GetRawText()})"));
            }
        }
    }
}
