using System.Globalization;

namespace Enclave.Inference.Forge;

/// <summary>
/// A Qwen2-style decoder in plain default-domain ONNX ops, with the inputs and outputs of an Optimum / ONNX Runtime
/// GenAI export: pre-norm blocks (RMSNorm from ReduceMean/Sqrt/Div), rotary position embeddings computed from
/// <c>position_ids</c>, grouped-query attention with biased q/k/v projections, a KV cache that is
/// <c>Concat(past, new)</c> along the sequence axis, a causal mask that honours <c>attention_mask</c>, and a SiLU-gated
/// MLP. Untied LM head.
/// </summary>
internal static class DecoderGraph
{
    public const float RmsNormEpsilon = 1e-6f;
    public const double RopeTheta = 10000.0;

    public static long Write(OnnxGraphBuilder g, ForgeOptions options, BpeVocabulary vocabulary)
    {
        var hidden = options.Hidden;
        var heads = options.Heads;
        var kvHeads = options.EffectiveKvHeads;
        var headDim = options.HeadDim;
        var intermediate = options.EffectiveIntermediate;
        var vocab = options.Vocab;
        var weights = new SeededWeights(options.Seed);

        g.Input("input_ids", OnnxGraphBuilder.ElementInt64, "batch_size", "sequence_length");
        g.Input("attention_mask", OnnxGraphBuilder.ElementInt64, "batch_size", "total_sequence_length");
        g.Input("position_ids", OnnxGraphBuilder.ElementInt64, "batch_size", "sequence_length");
        for (var i = 0; i < options.Layers; i++)
        {
            g.Input(Past(i, "key"), OnnxGraphBuilder.ElementFloat, "batch_size", kvHeads, "past_sequence_length", headDim);
            g.Input(Past(i, "value"), OnnxGraphBuilder.ElementFloat, "batch_size", kvHeads, "past_sequence_length", headDim);
        }

        g.Output("logits", OnnxGraphBuilder.ElementFloat, "batch_size", "sequence_length", vocab);
        for (var i = 0; i < options.Layers; i++)
        {
            g.Output(Present(i, "key"), OnnxGraphBuilder.ElementFloat, "batch_size", kvHeads, "total_sequence_length", headDim);
            g.Output(Present(i, "value"), OnnxGraphBuilder.ElementFloat, "batch_size", kvHeads, "total_sequence_length", headDim);
        }

        var embedTokens = g.Weight("model.embed_tokens.weight", [vocab, hidden], weights.Normal(vocab * hidden, 1.0));
        var x = g.Op("Gather", [embedTokens, "input_ids"], attributes: OnnxAttribute.Of("axis", 0L));

        var mask = CausalMask(g);
        var (cos, sin) = Rotary(g, headDim);

        var scale = g.ScalarFloat((float)(1.0 / Math.Sqrt(headDim)));
        for (var layer = 0; layer < options.Layers; layer++)
        {
            var prefix = string.Create(CultureInfo.InvariantCulture, $"model.layers.{layer}.");
            var h = RmsNorm(g, x, g.Weight(prefix + "input_layernorm.weight", [hidden], weights.Normal(hidden, 0.1, 1.0)));

            var q = Linear(g, weights, h, prefix + "self_attn.q_proj", hidden, heads * headDim, bias: true);
            var k = Linear(g, weights, h, prefix + "self_attn.k_proj", hidden, kvHeads * headDim, bias: true);
            var v = Linear(g, weights, h, prefix + "self_attn.v_proj", hidden, kvHeads * headDim, bias: true);

            var q4 = Heads(g, q, heads, headDim);
            var k4 = Heads(g, k, kvHeads, headDim);
            var v4 = Heads(g, v, kvHeads, headDim);
            q4 = ApplyRotary(g, q4, cos, sin, headDim);
            k4 = ApplyRotary(g, k4, cos, sin, headDim);

            var keys = g.Op("Concat", [Past(layer, "key"), k4], Present(layer, "key"), OnnxAttribute.Of("axis", 2L));
            var values = g.Op("Concat", [Past(layer, "value"), v4], Present(layer, "value"), OnnxAttribute.Of("axis", 2L));

            // Grouped-query attention without repeating K/V: the query heads that share a K/V head are stacked along
            // the sequence axis ([B, kv, rep*S, D]), multiplied, and unstacked for the mask and the softmax.
            var grouped = g.Op("Reshape", [q4, g.ConstInt64s(0, kvHeads, -1, headDim)]);
            var keysT = g.Op("Transpose", [keys], attributes: OnnxAttribute.Of("perm", new long[] { 0, 1, 3, 2 }));
            var scores = g.Op("Mul", [g.Op("MatMul", [grouped, keysT]), scale]);
            scores = g.Op("Reshape", [scores, g.ConstInt64s(0, heads, -1, 0)]);
            scores = g.Op("Add", [scores, mask]);
            var probabilities = g.Op("Softmax", [scores], attributes: OnnxAttribute.Of("axis", -1L));
            probabilities = g.Op("Reshape", [probabilities, g.ConstInt64s(0, kvHeads, -1, 0)]);
            var context = g.Op("MatMul", [probabilities, values]);
            context = g.Op("Reshape", [context, g.ConstInt64s(0, heads, -1, headDim)]);
            context = g.Op("Transpose", [context], attributes: OnnxAttribute.Of("perm", new long[] { 0, 2, 1, 3 }));
            context = g.Op("Reshape", [context, g.ConstInt64s(0, 0, heads * headDim)]);
            var attention = Linear(g, weights, context, prefix + "self_attn.o_proj", heads * headDim, hidden, bias: false);
            x = g.Op("Add", [x, attention]);

            var h2 = RmsNorm(g, x, g.Weight(prefix + "post_attention_layernorm.weight", [hidden], weights.Normal(hidden, 0.1, 1.0)));
            var gate = Linear(g, weights, h2, prefix + "mlp.gate_proj", hidden, intermediate, bias: false);
            var up = Linear(g, weights, h2, prefix + "mlp.up_proj", hidden, intermediate, bias: false);
            var activated = g.Op("Mul", [g.Op("Mul", [gate, g.Op("Sigmoid", [gate])]), up]);
            var down = Linear(g, weights, activated, prefix + "mlp.down_proj", intermediate, hidden, bias: false);
            x = g.Op("Add", [x, down]);
        }

        var final = RmsNorm(g, x, g.Weight("model.norm.weight", [hidden], weights.Normal(hidden, 0.1, 1.0)));
        // A wide LM head (std 2.5/sqrt(hidden)) gives logits with a standard deviation of about 2.5: peaked enough
        // that sampling is not uniform noise, flat enough that top-p and top-k have something to cut.
        var lmHead = g.Weight("lm_head.weight", [hidden, vocab], weights.Normal(hidden * vocab, 2.5 / Math.Sqrt(hidden)));
        g.Op("Add", [g.Op("MatMul", [final, lmHead]), g.Weight("lm_head.bias", [vocab], LogitBias(vocabulary, vocab))], "logits");
        return g.ParameterCount;
    }

    /// <summary>
    /// A fixed bias on the logits so that the noise a forged model writes is mostly readable: single bytes that are
    /// not printable ASCII (the pieces of multi-byte characters, control characters) and the padding rows beyond the
    /// tokenizer's vocabulary are pushed down; merged tokens, learned from an ASCII corpus, are left alone.
    /// </summary>
    private static float[] LogitBias(BpeVocabulary vocabulary, int vocab)
    {
        var bias = new float[vocab];
        var tokens = vocabulary.Tokens.Count;
        for (var id = 0; id < vocab; id++)
        {
            if (id >= tokens + 3)
            {
                bias[id] = -12f;
            }
            else if (id < tokens && vocabulary.Tokens[id].Length == 1 && ByteLevel.ToByte(vocabulary.Tokens[id][0]) is var b && (b >= 0x7F || (b < 0x20 && b != '\n')))
            {
                bias[id] = -8f;
            }
        }

        return bias;
    }

    public static string Past(int layer, string kind) => string.Create(CultureInfo.InvariantCulture, $"past_key_values.{layer}.{kind}");

    public static string Present(int layer, string kind) => string.Create(CultureInfo.InvariantCulture, $"present.{layer}.{kind}");

    /// <summary>[B, 1, S, T] additive mask: 0 where query i (at cache index past+i) may see key j, -1e9 elsewhere.</summary>
    private static string CausalMask(OnnxGraphBuilder g)
    {
        var one = g.ScalarInt64(1);
        var total = g.Op("Gather", [g.Op("Shape", ["attention_mask"]), one], attributes: OnnxAttribute.Of("axis", 0L));
        var length = g.Op("Gather", [g.Op("Shape", ["input_ids"]), one], attributes: OnnxAttribute.Of("axis", 0L));
        var past = g.Op("Sub", [total, length]);
        var keyIndex = g.Op("Range", [g.ScalarInt64(0), total, one]);
        var queryIndex = g.Op("Unsqueeze", [g.Op("Range", [past, total, one]), g.ConstInt64s(1)]);
        var causal = g.Op("Unsqueeze", [g.Op("LessOrEqual", [keyIndex, queryIndex]), g.ConstInt64s(0, 1)]);
        var present = g.Op("Cast", ["attention_mask"], attributes: OnnxAttribute.Of("to", (long)OnnxGraphBuilder.ElementBool));
        present = g.Op("Unsqueeze", [present, g.ConstInt64s(1, 2)]);
        var allowed = g.Op("And", [causal, present]);
        return g.Op("Where", [allowed, g.ScalarFloat(0f), g.ScalarFloat(-1e9f)]);
    }

    /// <summary>cos and sin of the rotary angles, [B, 1, S, D], from <c>position_ids</c> (rotate-half convention).</summary>
    private static (string Cos, string Sin) Rotary(OnnxGraphBuilder g, int headDim)
    {
        var inverse = new float[headDim / 2];
        for (var i = 0; i < inverse.Length; i++)
        {
            inverse[i] = (float)(1.0 / Math.Pow(RopeTheta, 2.0 * i / headDim));
        }

        var positions = g.Op("Cast", ["position_ids"], attributes: OnnxAttribute.Of("to", (long)OnnxGraphBuilder.ElementFloat));
        positions = g.Op("Unsqueeze", [positions, g.ConstInt64s(2)]);
        var angles = g.Op("Mul", [positions, g.ConstFloats(inverse)]);
        angles = g.Op("Concat", [angles, angles], attributes: OnnxAttribute.Of("axis", -1L));
        var cos = g.Op("Unsqueeze", [g.Op("Cos", [angles]), g.ConstInt64s(1)]);
        var sin = g.Op("Unsqueeze", [g.Op("Sin", [angles]), g.ConstInt64s(1)]);
        return (cos, sin);
    }

    private static string ApplyRotary(OnnxGraphBuilder g, string x, string cos, string sin, int headDim)
    {
        var half = headDim / 2;
        var axis = g.ConstInt64s(3);
        var first = g.Op("Slice", [x, g.ConstInt64s(0), g.ConstInt64s(half), axis]);
        var second = g.Op("Slice", [x, g.ConstInt64s(half), g.ConstInt64s(headDim), axis]);
        var rotated = g.Op("Concat", [g.Op("Neg", [second]), first], attributes: OnnxAttribute.Of("axis", 3L));
        return g.Op("Add", [g.Op("Mul", [x, cos]), g.Op("Mul", [rotated, sin])]);
    }

    /// <summary>[B, S, N*D] to [B, N, S, D].</summary>
    private static string Heads(OnnxGraphBuilder g, string x, int count, int headDim)
    {
        var reshaped = g.Op("Reshape", [x, g.ConstInt64s(0, 0, count, headDim)]);
        return g.Op("Transpose", [reshaped], attributes: OnnxAttribute.Of("perm", new long[] { 0, 2, 1, 3 }));
    }

    internal static string RmsNorm(OnnxGraphBuilder g, string x, string weight)
    {
        var meanSquare = g.Op("ReduceMean", [g.Op("Mul", [x, x])], attributes: [OnnxAttribute.Of("axes", new long[] { -1 }), OnnxAttribute.Of("keepdims", 1L)]);
        var rms = g.Op("Sqrt", [g.Op("Add", [meanSquare, g.ScalarFloat(RmsNormEpsilon)])]);
        return g.Op("Mul", [g.Op("Div", [x, rms]), weight]);
    }

    /// <summary>x @ W (+ b), W stored [in, out] as the ONNX exporters store MatMul weights; std 1/sqrt(in).</summary>
    internal static string Linear(OnnxGraphBuilder g, SeededWeights weights, string x, string name, int inputs, int outputs, bool bias)
    {
        var w = g.Weight(name + ".weight", [inputs, outputs], weights.Normal(inputs * outputs, 1.0 / Math.Sqrt(inputs)));
        var y = g.Op("MatMul", [x, w]);
        return bias ? g.Op("Add", [y, g.Weight(name + ".bias", [outputs], weights.Normal(outputs, 0.02))]) : y;
    }
}
