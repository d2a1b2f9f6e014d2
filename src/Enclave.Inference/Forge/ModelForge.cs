using System.Text.Json;

namespace Enclave.Inference.Forge;

/// <summary>
/// Writes small random-weight models in the layout that Hugging Face Optimum and ONNX Runtime GenAI export, for tests
/// and the demo. The graphs, the tokenizer and the chat template are real; the weights are seeded noise, so the text a
/// forged model writes means nothing. The same options give the same bytes.
/// </summary>
public static class ModelForge
{
    /// <summary>File name of the graph.</summary>
    public const string ModelFileName = "model.onnx";

    /// <summary>File name of the external weights the graph refers to.</summary>
    public const string DataFileName = "model.onnx_data";

    /// <summary>
    /// A Qwen2-style causal LM in <paramref name="outDir"/>: <c>config.json</c>, <c>generation_config.json</c>,
    /// <c>model.onnx</c> + <c>model.onnx_data</c>, <c>tokenizer.json</c>, <c>tokenizer_config.json</c> (ChatML template),
    /// and <c>genai_config.json</c> for ONNX Runtime GenAI.
    /// Existing files of those names are replaced.
    /// </summary>
    public static ForgedModel ForgeDecoder(string outDir, ForgeOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(outDir);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Directory.CreateDirectory(outDir);

        var vocabulary = ByteLevelBpeTrainer.Train(ForgeCorpus.Text, options.Vocab - 3);
        var specials = TokenizerFiles.SpecialIds(vocabulary.Tokens.Count);
        long parameters;
        using (var graph = new OnnxGraphBuilder(Path.Combine(outDir, DataFileName)))
        {
            parameters = DecoderGraph.Write(graph, options, vocabulary);
            graph.Save(Path.Combine(outDir, ModelFileName), "enclave_forged_decoder", DocString);
        }

        TokenizerFiles.WriteTokenizerJson(Path.Combine(outDir, "tokenizer.json"), vocabulary);
        TokenizerFiles.WriteTokenizerConfig(Path.Combine(outDir, "tokenizer_config.json"), vocabulary, withChatTemplate: true, options.MaxPositions);
        WriteJson(Path.Combine(outDir, "config.json"), json =>
        {
            json.WriteStartArray("architectures");
            json.WriteStringValue("Qwen2ForCausalLM");
            json.WriteEndArray();
            json.WriteNumber("attention_dropout", 0.0);
            json.WriteNumber("bos_token_id", specials.EndOfText);
            json.WriteNumber("eos_token_id", specials.ImEnd);
            json.WriteString("hidden_act", "silu");
            json.WriteNumber("hidden_size", options.Hidden);
            json.WriteNumber("initializer_range", 0.02);
            json.WriteNumber("intermediate_size", options.EffectiveIntermediate);
            json.WriteNumber("max_position_embeddings", options.MaxPositions);
            json.WriteNumber("max_window_layers", options.Layers);
            json.WriteString("model_type", "qwen2");
            json.WriteNumber("num_attention_heads", options.Heads);
            json.WriteNumber("num_hidden_layers", options.Layers);
            json.WriteNumber("num_key_value_heads", options.EffectiveKvHeads);
            json.WriteNumber("rms_norm_eps", DecoderGraph.RmsNormEpsilon);
            json.WriteNumber("rope_theta", DecoderGraph.RopeTheta);
            json.WriteNull("sliding_window");
            json.WriteBoolean("tie_word_embeddings", false);
            json.WriteString("torch_dtype", "float32");
            json.WriteBoolean("use_cache", true);
            json.WriteBoolean("use_sliding_window", false);
            json.WriteNumber("vocab_size", options.Vocab);
            WriteForgeNote(json, options, parameters);
        });
        WriteJson(Path.Combine(outDir, "generation_config.json"), json =>
        {
            json.WriteNumber("bos_token_id", specials.EndOfText);
            json.WriteBoolean("do_sample", true);
            json.WriteStartArray("eos_token_id");
            json.WriteNumberValue(specials.ImEnd);
            json.WriteNumberValue(specials.EndOfText);
            json.WriteEndArray();
            json.WriteNumber("pad_token_id", specials.EndOfText);
            json.WriteNumber("temperature", 0.7);
            json.WriteNumber("top_k", 20);
            json.WriteNumber("top_p", 0.8);
        });

        WriteJson(Path.Combine(outDir, "genai_config.json"), json => WriteGenAiConfig(json, options, specials));

        return new ForgedModel
        {
            Directory = Path.GetFullPath(outDir),
            Parameters = parameters,
            TokenizerVocabulary = specials.ImEnd + 1,
            EndOfTextId = specials.EndOfText,
            ImStartId = specials.ImStart,
            ImEndId = specials.ImEnd,
        };
    }

    /// <summary>
    /// A BERT-style sentence-embedding encoder in <paramref name="outDir"/>: <c>config.json</c>, <c>model.onnx</c> +
    /// <c>model.onnx_data</c> (<c>input_ids</c>, <c>attention_mask</c>, <c>token_type_ids</c> to <c>last_hidden_state</c>),
    /// and the same byte-level BPE <c>tokenizer.json</c> as the decoder. Meant for mean pooling.
    /// </summary>
    public static ForgedModel ForgeEmbedding(string outDir, ForgeOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(outDir);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Directory.CreateDirectory(outDir);

        var vocabulary = ByteLevelBpeTrainer.Train(ForgeCorpus.Text, options.Vocab - 3);
        var specials = TokenizerFiles.SpecialIds(vocabulary.Tokens.Count);
        long parameters;
        using (var graph = new OnnxGraphBuilder(Path.Combine(outDir, DataFileName)))
        {
            parameters = EmbeddingGraph.Write(graph, options);
            graph.Save(Path.Combine(outDir, ModelFileName), "enclave_forged_encoder", DocString);
        }

        TokenizerFiles.WriteTokenizerJson(Path.Combine(outDir, "tokenizer.json"), vocabulary);
        TokenizerFiles.WriteTokenizerConfig(Path.Combine(outDir, "tokenizer_config.json"), vocabulary, withChatTemplate: false, options.MaxPositions);
        WriteJson(Path.Combine(outDir, "config.json"), json =>
        {
            json.WriteStartArray("architectures");
            json.WriteStringValue("BertModel");
            json.WriteEndArray();
            json.WriteNumber("attention_probs_dropout_prob", 0.0);
            json.WriteString("hidden_act", "gelu");
            json.WriteNumber("hidden_dropout_prob", 0.0);
            json.WriteNumber("hidden_size", options.Hidden);
            json.WriteNumber("initializer_range", 0.02);
            json.WriteNumber("intermediate_size", options.Hidden * 4);
            json.WriteNumber("layer_norm_eps", EmbeddingGraph.LayerNormEpsilon);
            json.WriteNumber("max_position_embeddings", options.MaxPositions);
            json.WriteString("model_type", "bert");
            json.WriteNumber("num_attention_heads", options.Heads);
            json.WriteNumber("num_hidden_layers", options.Layers);
            json.WriteNumber("pad_token_id", specials.EndOfText);
            json.WriteString("position_embedding_type", "absolute");
            json.WriteString("torch_dtype", "float32");
            json.WriteNumber("type_vocab_size", 2);
            json.WriteNumber("vocab_size", options.Vocab);
            WriteForgeNote(json, options, parameters);
        });

        return new ForgedModel
        {
            Directory = Path.GetFullPath(outDir),
            Parameters = parameters,
            TokenizerVocabulary = specials.ImEnd + 1,
            EndOfTextId = specials.EndOfText,
            ImStartId = specials.ImStart,
            ImEndId = specials.ImEnd,
        };
    }

    /// <summary>File name of a forged GGUF model.</summary>
    public const string GgufFileName = "model.gguf";

    /// <summary>
    /// A llama-architecture model as one GGUF v3 file, <c>model.gguf</c> in <paramref name="outDir"/>, for llama.cpp: the
    /// same vocabulary as <see cref="ForgeDecoder"/> (byte-level BPE with the ChatML special tokens, in
    /// <c>tokenizer.ggml.*</c>), <paramref name="template"/> in <c>tokenizer.chat_template</c> (a chat model; Qwen 2.5's,
    /// which takes tools, unless plain ChatML is asked for), the matrices
    /// as <paramref name="weightType"/>. With <paramref name="embedding"/> it is an embedding model instead
    /// (<c>llama.pooling_type</c> mean, no chat template). Layers, width, heads and vocabulary come from
    /// <paramref name="options"/>; with Q4_0, <c>Hidden</c> (and the MLP width) should be multiples of 32, or those
    /// matrices stay F16.
    /// </summary>
    public static ForgedModel ForgeGguf(string outDir, ForgeOptions options, GgufWeightType weightType = GgufWeightType.F16, bool embedding = false, ForgedChatTemplate template = ForgedChatTemplate.Qwen25)
    {
        ArgumentException.ThrowIfNullOrEmpty(outDir);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Directory.CreateDirectory(outDir);
        var vocabulary = ByteLevelBpeTrainer.Train(ForgeCorpus.Text, options.Vocab - 3);
        var specials = TokenizerFiles.SpecialIds(vocabulary.Tokens.Count);
        var parameters = GgufDecoder.Write(Path.Combine(outDir, GgufFileName), options, vocabulary, weightType, embedding, template);
        return new ForgedModel
        {
            Directory = Path.GetFullPath(outDir),
            Parameters = parameters,
            TokenizerVocabulary = specials.ImEnd + 1,
            EndOfTextId = specials.EndOfText,
            ImStartId = specials.ImStart,
            ImEndId = specials.ImEnd,
        };
    }

    private const string DocString = "Forged by Enclave: random weights from a seed. Its text is noise; it exists to test the engine.";

    /// <summary>
    /// The ONNX Runtime GenAI description of the decoder, so the folder also loads in that runtime. The KV cache grows
    /// by concatenation, so past and present do not share a buffer.
    /// </summary>
    private static void WriteGenAiConfig(Utf8JsonWriter json, ForgeOptions options, (int EndOfText, int ImStart, int ImEnd) specials)
    {
        json.WriteStartObject("model");
        json.WriteNumber("bos_token_id", specials.EndOfText);
        json.WriteNumber("context_length", options.MaxPositions);
        json.WriteStartObject("decoder");
        json.WriteStartObject("session_options");
        json.WriteString("log_id", "onnxruntime-genai");
        json.WriteStartArray("provider_options");
        json.WriteEndArray();
        json.WriteEndObject();
        json.WriteString("filename", ModelFileName);
        json.WriteNumber("head_size", options.HeadDim);
        json.WriteNumber("hidden_size", options.Hidden);
        json.WriteStartObject("inputs");
        json.WriteString("input_ids", "input_ids");
        json.WriteString("attention_mask", "attention_mask");
        json.WriteString("position_ids", "position_ids");
        json.WriteString("past_key_names", "past_key_values.%d.key");
        json.WriteString("past_value_names", "past_key_values.%d.value");
        json.WriteEndObject();
        json.WriteStartObject("outputs");
        json.WriteString("logits", "logits");
        json.WriteString("present_key_names", "present.%d.key");
        json.WriteString("present_value_names", "present.%d.value");
        json.WriteEndObject();
        json.WriteNumber("num_attention_heads", options.Heads);
        json.WriteNumber("num_hidden_layers", options.Layers);
        json.WriteNumber("num_key_value_heads", options.EffectiveKvHeads);
        json.WriteEndObject();
        json.WriteStartArray("eos_token_id");
        json.WriteNumberValue(specials.ImEnd);
        json.WriteNumberValue(specials.EndOfText);
        json.WriteEndArray();
        json.WriteNumber("pad_token_id", specials.EndOfText);
        json.WriteString("type", "qwen2");
        json.WriteNumber("vocab_size", options.Vocab);
        json.WriteEndObject();
        json.WriteStartObject("search");
        json.WriteBoolean("do_sample", true);
        json.WriteNumber("max_length", options.MaxPositions);
        json.WriteNumber("num_beams", 1);
        json.WriteBoolean("past_present_share_buffer", false);
        json.WriteNumber("repetition_penalty", 1.0);
        json.WriteNumber("temperature", 0.7);
        json.WriteNumber("top_k", 20);
        json.WriteNumber("top_p", 0.8);
        json.WriteEndObject();
    }

    private static void WriteForgeNote(Utf8JsonWriter json, ForgeOptions options, long parameters)
    {
        json.WriteStartObject("enclave_forge");
        json.WriteString("note", DocString);
        json.WriteNumber("seed", options.Seed);
        json.WriteNumber("parameters", parameters);
        json.WriteEndObject();
    }

    /// <summary>Writes one JSON object to <paramref name="path"/> (indented, as Hugging Face exports are).</summary>
    internal static void WriteJson(string path, Action<Utf8JsonWriter> body)
    {
        using var stream = File.Create(path);
        using var json = new Utf8JsonWriter(stream, TokenizerFiles.WriterOptions);
        json.WriteStartObject();
        body(json);
        json.WriteEndObject();
    }
}

/// <summary>What <see cref="ModelForge"/> wrote.</summary>
public sealed record ForgedModel
{
    /// <summary>Absolute path of the model folder.</summary>
    public required string Directory { get; init; }

    /// <summary>Number of weights.</summary>
    public required long Parameters { get; init; }

    /// <summary>Tokens the tokenizer knows, special tokens included (at most the model's <c>vocab_size</c>).</summary>
    public required int TokenizerVocabulary { get; init; }

    /// <summary>ID of <c>&lt;|endoftext|&gt;</c> (BOS and padding).</summary>
    public required int EndOfTextId { get; init; }

    /// <summary>ID of <c>&lt;|im_start|&gt;</c>.</summary>
    public required int ImStartId { get; init; }

    /// <summary>ID of <c>&lt;|im_end|&gt;</c> (end of an assistant turn: the EOS of chat generation).</summary>
    public required int ImEndId { get; init; }
}
