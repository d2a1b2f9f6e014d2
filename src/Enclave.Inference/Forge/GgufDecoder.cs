using System.Globalization;

namespace Enclave.Inference.Forge;

/// <summary>
/// A llama-architecture decoder as one GGUF v3 file, laid out as llama.cpp's <c>convert_hf_to_gguf.py</c> writes one:
/// <c>general.*</c> and <c>llama.*</c> hyperparameters, a byte-level BPE tokenizer (<c>tokenizer.ggml.model</c>
/// <c>gpt2</c>, pre-tokenizer <c>qwen2</c>, the forge's learned vocabulary and merges, the ChatML special tokens) with
/// <c>tokenizer.chat_template</c>, and the tensors <c>token_embd</c>, <c>blk.N.*</c>, <c>output_norm</c>,
/// <c>output</c>. Norms are F32; the matrices F32, F16 or Q4_0.
/// </summary>
internal static class GgufDecoder
{
    public static long Write(string path, ForgeOptions options, BpeVocabulary vocabulary, GgufWeightType weightType, bool embedding, ForgedChatTemplate template)
    {
        var hidden = options.Hidden;
        var kvWidth = options.EffectiveKvHeads * options.HeadDim;
        var intermediate = options.EffectiveIntermediate;
        var vocab = options.Vocab;
        var specials = TokenizerFiles.SpecialIds(vocabulary.Tokens.Count);
        var weights = new SeededWeights(options.Seed);
        var g = new GgufWriter();

        g.String("general.architecture", "llama");
        g.String("general.type", "model");
        g.String("general.name", embedding ? "enclave-forged-embedding" : "enclave-forged-decoder");
        g.String("general.description", "Forged by Enclave: random weights from a seed. Its text is noise; it exists to test the engine.");
        g.UInt32("general.file_type", weightType switch { GgufWeightType.F32 => 0u, GgufWeightType.F16 => 1u, _ => 2u });
        g.UInt32("general.quantization_version", 2);
        g.UInt32("general.alignment", GgufWriter.Alignment);
        g.UInt32("llama.context_length", (uint)options.MaxPositions);
        g.UInt32("llama.embedding_length", (uint)hidden);
        g.UInt32("llama.block_count", (uint)options.Layers);
        g.UInt32("llama.feed_forward_length", (uint)intermediate);
        g.UInt32("llama.attention.head_count", (uint)options.Heads);
        g.UInt32("llama.attention.head_count_kv", (uint)options.EffectiveKvHeads);
        g.UInt32("llama.rope.dimension_count", (uint)options.HeadDim);
        g.Float32("llama.rope.freq_base", (float)DecoderGraph.RopeTheta);
        g.Float32("llama.attention.layer_norm_rms_epsilon", DecoderGraph.RmsNormEpsilon);
        g.UInt32("llama.vocab_size", (uint)vocab);
        if (embedding)
        {
            g.UInt32("llama.pooling_type", 1); // mean
        }

        // The vocabulary: BPE tokens, the three special tokens, then unused control tokens up to the model's rows
        // (llama.cpp wants one token per row of token_embd).
        var tokens = new List<string>(vocab);
        var types = new List<int>(vocab);
        foreach (var token in vocabulary.Tokens)
        {
            tokens.Add(token);
            types.Add(1); // normal
        }

        tokens.AddRange([TokenizerFiles.EndOfText, TokenizerFiles.ImStart, TokenizerFiles.ImEnd]);
        types.AddRange([3, 3, 3]); // control
        for (var id = tokens.Count; id < vocab; id++)
        {
            tokens.Add(string.Create(CultureInfo.InvariantCulture, $"<|unused_{id}|>"));
            types.Add(5); // unused
        }

        g.String("tokenizer.ggml.model", "gpt2");
        g.String("tokenizer.ggml.pre", "qwen2");
        g.Strings("tokenizer.ggml.tokens", tokens);
        g.Int32s("tokenizer.ggml.token_type", types);
        g.Strings("tokenizer.ggml.merges", [.. vocabulary.Merges.Select(m => m.Left + " " + m.Right)]);
        g.UInt32("tokenizer.ggml.bos_token_id", (uint)specials.EndOfText);
        g.UInt32("tokenizer.ggml.eos_token_id", (uint)(embedding ? specials.EndOfText : specials.ImEnd));
        g.UInt32("tokenizer.ggml.padding_token_id", (uint)specials.EndOfText);
        g.Bool("tokenizer.ggml.add_bos_token", false);
        g.Bool("tokenizer.ggml.add_eos_token", false);
        if (!embedding)
        {
            g.String("tokenizer.chat_template", TokenizerFiles.Source(template));
        }

        uint Matrix(long rowLength) => weightType switch
        {
            GgufWeightType.F32 => GgufWriter.TypeF32,
            GgufWeightType.Q4_0 when rowLength % GgufWriter.Q4BlockWeights == 0 => GgufWriter.TypeQ4_0,
            _ => GgufWriter.TypeF16,
        };

        void Linear(string name, int inputs, int outputs, double? std = null) =>
            g.Tensor(name, [inputs, outputs], Matrix(inputs), () => weights.Normal(inputs * outputs, std ?? (1.0 / Math.Sqrt(inputs))));

        void Norm(string name) => g.Tensor(name, [hidden], GgufWriter.TypeF32, () => weights.Normal(hidden, 0.1, 1.0));

        g.Tensor("token_embd.weight", [hidden, vocab], Matrix(hidden), () => weights.Normal(vocab * hidden, 1.0));
        for (var layer = 0; layer < options.Layers; layer++)
        {
            var prefix = string.Create(CultureInfo.InvariantCulture, $"blk.{layer}.");
            Norm(prefix + "attn_norm.weight");
            Linear(prefix + "attn_q.weight", hidden, options.Heads * options.HeadDim);
            Linear(prefix + "attn_k.weight", hidden, kvWidth);
            Linear(prefix + "attn_v.weight", hidden, kvWidth);
            Linear(prefix + "attn_output.weight", options.Heads * options.HeadDim, hidden);
            Norm(prefix + "ffn_norm.weight");
            Linear(prefix + "ffn_gate.weight", hidden, intermediate);
            Linear(prefix + "ffn_up.weight", hidden, intermediate);
            Linear(prefix + "ffn_down.weight", intermediate, hidden);
        }

        Norm("output_norm.weight");
        Linear("output.weight", hidden, vocab, 2.5 / Math.Sqrt(hidden));
        return g.Save(path);
    }
}
