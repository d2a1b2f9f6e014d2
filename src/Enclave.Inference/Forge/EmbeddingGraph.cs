using System.Globalization;

namespace Enclave.Inference.Forge;

/// <summary>
/// A BERT-style encoder with the inputs and output of an Optimum feature-extraction export: word, learned position
/// and token-type embeddings, post-norm blocks (LayerNormalization, opset 17) with bidirectional attention masked by
/// <c>attention_mask</c>, a GELU (Erf) MLP, and <c>last_hidden_state</c> [batch, sequence, hidden] for mean pooling.
/// </summary>
internal static class EmbeddingGraph
{
    public const float LayerNormEpsilon = 1e-12f;

    public static long Write(OnnxGraphBuilder g, ForgeOptions options)
    {
        var hidden = options.Hidden;
        var heads = options.Heads;
        var headDim = options.HeadDim;
        var intermediate = hidden * 4;
        var vocab = options.Vocab;
        var weights = new SeededWeights(options.Seed);

        g.Input("input_ids", OnnxGraphBuilder.ElementInt64, "batch_size", "sequence_length");
        g.Input("attention_mask", OnnxGraphBuilder.ElementInt64, "batch_size", "sequence_length");
        g.Input("token_type_ids", OnnxGraphBuilder.ElementInt64, "batch_size", "sequence_length");
        g.Output("last_hidden_state", OnnxGraphBuilder.ElementFloat, "batch_size", "sequence_length", hidden);

        var axis0 = OnnxAttribute.Of("axis", 0L);
        var words = g.Op("Gather", [g.Weight("embeddings.word_embeddings.weight", [vocab, hidden], weights.Normal(vocab * hidden, 1.0)), "input_ids"], attributes: axis0);
        var length = g.Op("Gather", [g.Op("Shape", ["input_ids"]), g.ScalarInt64(1)], attributes: axis0);
        var positionIds = g.Op("Range", [g.ScalarInt64(0), length, g.ScalarInt64(1)]);
        var positions = g.Op("Gather", [g.Weight("embeddings.position_embeddings.weight", [options.MaxPositions, hidden], weights.Normal(options.MaxPositions * hidden, 0.5)), positionIds], attributes: axis0);
        var types = g.Op("Gather", [g.Weight("embeddings.token_type_embeddings.weight", [2, hidden], weights.Normal(2 * hidden, 0.5)), "token_type_ids"], attributes: axis0);
        var x = LayerNorm(g, weights, g.Op("Add", [g.Op("Add", [words, positions]), types]), "embeddings.LayerNorm", hidden);

        // BERT's extended mask: (1 - mask) * -1e9, broadcast over heads and queries.
        var maskFloat = g.Op("Cast", ["attention_mask"], attributes: OnnxAttribute.Of("to", (long)OnnxGraphBuilder.ElementFloat));
        var mask = g.Op("Mul", [g.Op("Sub", [g.ScalarFloat(1f), maskFloat]), g.ScalarFloat(-1e9f)]);
        mask = g.Op("Unsqueeze", [mask, g.ConstInt64s(1, 2)]);

        var scale = g.ScalarFloat((float)(1.0 / Math.Sqrt(headDim)));
        for (var layer = 0; layer < options.Layers; layer++)
        {
            var prefix = string.Create(CultureInfo.InvariantCulture, $"encoder.layer.{layer}.");
            var q = Heads(g, DecoderGraph.Linear(g, weights, x, prefix + "attention.self.query", hidden, hidden, bias: true), heads, headDim);
            var k = Heads(g, DecoderGraph.Linear(g, weights, x, prefix + "attention.self.key", hidden, hidden, bias: true), heads, headDim);
            var v = Heads(g, DecoderGraph.Linear(g, weights, x, prefix + "attention.self.value", hidden, hidden, bias: true), heads, headDim);
            var keysT = g.Op("Transpose", [k], attributes: OnnxAttribute.Of("perm", new long[] { 0, 1, 3, 2 }));
            var scores = g.Op("Add", [g.Op("Mul", [g.Op("MatMul", [q, keysT]), scale]), mask]);
            var probabilities = g.Op("Softmax", [scores], attributes: OnnxAttribute.Of("axis", -1L));
            var context = g.Op("Transpose", [g.Op("MatMul", [probabilities, v])], attributes: OnnxAttribute.Of("perm", new long[] { 0, 2, 1, 3 }));
            context = g.Op("Reshape", [context, g.ConstInt64s(0, 0, hidden)]);
            var attention = DecoderGraph.Linear(g, weights, context, prefix + "attention.output.dense", hidden, hidden, bias: true);
            x = LayerNorm(g, weights, g.Op("Add", [x, attention]), prefix + "attention.output.LayerNorm", hidden);

            var inner = DecoderGraph.Linear(g, weights, x, prefix + "intermediate.dense", hidden, intermediate, bias: true);
            inner = Gelu(g, inner);
            var output = DecoderGraph.Linear(g, weights, inner, prefix + "output.dense", intermediate, hidden, bias: true);
            var outputName = layer == options.Layers - 1 ? "last_hidden_state" : null;
            x = LayerNorm(g, weights, g.Op("Add", [x, output]), prefix + "output.LayerNorm", hidden, outputName);
        }

        return g.ParameterCount;
    }

    private static string LayerNorm(OnnxGraphBuilder g, SeededWeights weights, string x, string name, int hidden, string? output = null)
    {
        var gamma = g.Weight(name + ".weight", [hidden], weights.Normal(hidden, 0.1, 1.0));
        var beta = g.Weight(name + ".bias", [hidden], weights.Normal(hidden, 0.02));
        return g.Op("LayerNormalization", [x, gamma, beta], output, OnnxAttribute.Of("axis", -1L), OnnxAttribute.Of("epsilon", LayerNormEpsilon));
    }

    /// <summary>Exact GELU: 0.5 x (1 + erf(x / sqrt 2)).</summary>
    private static string Gelu(OnnxGraphBuilder g, string x)
    {
        var erf = g.Op("Erf", [g.Op("Div", [x, g.ScalarFloat((float)Math.Sqrt(2.0))])]);
        return g.Op("Mul", [g.Op("Mul", [x, g.ScalarFloat(0.5f)]), g.Op("Add", [erf, g.ScalarFloat(1f)])]);
    }

    private static string Heads(OnnxGraphBuilder g, string x, int count, int headDim)
    {
        var reshaped = g.Op("Reshape", [x, g.ConstInt64s(0, 0, count, headDim)]);
        return g.Op("Transpose", [reshaped], attributes: OnnxAttribute.Of("perm", new long[] { 0, 2, 1, 3 }));
    }
}
