using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Enclave.Inference.Forge;

namespace Enclave.Inference.Tests.Gguf;

public sealed class GgufForgeTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("enclave-gguf-forge-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void ForgeGguf_WritesAGgufV3Header_WithLlamaMetadata_TheTokenizer_AndTheChatTemplate()
    {
        var forged = ModelForge.ForgeGguf(Path.Combine(_root, "m"), new ForgeOptions { Seed = 1 });
        var bytes = File.ReadAllBytes(Path.Combine(forged.Directory, ModelForge.GgufFileName));

        Assert.Equal("GGUF"u8.ToArray(), bytes[..4]);
        Assert.Equal(3u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(4)));
        Assert.Equal(3UL + (2UL * 9), BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(8))); // embeddings, norm, output + 9 per layer
        var text = Encoding.UTF8.GetString(bytes);
        foreach (var key in new[] { "general.architecture", "llama.context_length", "llama.embedding_length", "llama.block_count", "llama.attention.head_count_kv", "tokenizer.ggml.model", "tokenizer.ggml.tokens", "tokenizer.ggml.merges", "tokenizer.chat_template", "<|im_start|>", "blk.1.ffn_down.weight" })
        {
            Assert.Contains(key, text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void ForgeGguf_SameOptions_SameBytes_OtherSeed_OtherBytes()
    {
        string Hash(string name, int seed)
        {
            var forged = ModelForge.ForgeGguf(Path.Combine(_root, name), new ForgeOptions { Seed = seed }, GgufWeightType.Q4_0);
            return Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(Path.Combine(forged.Directory, ModelForge.GgufFileName))));
        }

        Assert.Equal(Hash("a", 5), Hash("b", 5));
        Assert.NotEqual(Hash("a", 5), Hash("c", 6));
    }

    [Fact]
    public void QuantizeQ4_0_MatchesGgmlsReference_OnAKnownBlock()
    {
        // x = -8..7 repeated: the largest magnitude is -8, so d = -8 / -8 = 1 and every weight is exact.
        var x = Enumerable.Range(0, 32).Select(i => (float)((i % 16) - 8)).ToArray();
        var block = new byte[18];
        GgufWriter.QuantizeQ4_0(x, block);

        Assert.Equal((Half)1f, BinaryPrimitives.ReadHalfLittleEndian(block));
        // q = x / d + 8.5 truncated: weight j in the low nibble, weight j + 16 in the high one.
        for (var j = 0; j < 16; j++)
        {
            Assert.Equal((byte)(j | (j << 4)), block[2 + j]);
        }

        var y = new float[32];
        GgufWriter.DequantizeQ4_0(block, y);
        Assert.Equal(x, y);
    }

    [Fact]
    public void QuantizeQ4_0_RoundTripsRandomWeights_WithinOneStep()
    {
        var random = new Random(11);
        var x = Enumerable.Range(0, 32).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
        var block = new byte[18];
        GgufWriter.QuantizeQ4_0(x, block);
        var y = new float[32];
        GgufWriter.DequantizeQ4_0(block, y);

        // Half a step from rounding, except the far end: the side opposite the largest magnitude reaches +8 steps, which
        // 4 bits clamp to +7 (ggml's min(15, ...)), one step off.
        var step = Math.Abs((float)BinaryPrimitives.ReadHalfLittleEndian(block));
        for (var i = 0; i < 32; i++)
        {
            Assert.InRange(Math.Abs(x[i] - y[i]), 0, step + 1e-3f);
        }

        Assert.True(x.Zip(y).Count(p => Math.Abs(p.First - p.Second) > (step * 0.5f) + 1e-3f) <= 1);
    }

    [Fact]
    public void ForgeGguf_Q4_0_KeepsRowsThatAreNotWholeBlocksInF16()
    {
        // Hidden 64 is two blocks; an MLP width of 176 is not, so ffn_down (rows of 176) stays F16 as llama.cpp's quantiser does.
        var forged = ModelForge.ForgeGguf(Path.Combine(_root, "q"), new ForgeOptions { Hidden = 64, IntermediateSize = 176 }, GgufWeightType.Q4_0);
        var f16 = ModelForge.ForgeGguf(Path.Combine(_root, "h"), new ForgeOptions { Hidden = 64, IntermediateSize = 176 }, GgufWeightType.F16);
        var q4Size = new FileInfo(Path.Combine(forged.Directory, ModelForge.GgufFileName)).Length;
        var f16Size = new FileInfo(Path.Combine(f16.Directory, ModelForge.GgufFileName)).Length;
        Assert.True(q4Size < f16Size * 0.6, $"Q4_0 {q4Size} bytes against F16 {f16Size}");
        Assert.Equal(forged.Parameters, f16.Parameters);
    }
}
