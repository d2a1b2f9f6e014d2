using System.Text.Json.Nodes;
using Enclave.Inference.Forge;
using Enclave.Inference.Onnx;
using Enclave.Inference.Tests.Forge;

namespace Enclave.Inference.Tests.Onnx;

public sealed class ModelFolderValidationTests
{
    private static readonly ForgeOptions Small = new() { Seed = 2, MaxPositions = 32 };

    [Theory]
    [InlineData("../../etc/passwd")]
    [InlineData("/etc/passwd")]
    [InlineData("sub/../../model.onnx_data")]
    [InlineData("..\\..\\etc\\passwd")]
    public void ExternalData_OutsideTheFolder_IsRefused_BeforeOnnxRuntimeReadsIt(string location)
    {
        using var temp = new TempDirectory();
        var dir = Forge(temp, location);

        var error = Assert.Throws<InvalidModelException>(() => OnnxDecoderModel.Load(dir));
        Assert.Equal(ModelRejectionReason.UnsafeExternalData, error.Reason);
        Assert.Contains($"'{location}' outside the model folder", error.Message, StringComparison.Ordinal);
        Assert.Contains("model.embed_tokens.weight", error.Message, StringComparison.Ordinal);
        Assert.All(error.Problems, p => Assert.Equal(ModelRejectionReason.UnsafeExternalData, p.Reason));
    }

    [Fact]
    public void ExternalData_ThroughALink_IsRefused()
    {
        using var temp = new TempDirectory();
        var dir = Forge(temp, "weights.bin");
        var outside = temp.Sub("outside.bin");
        File.Copy(Path.Combine(dir, "model.onnx_data"), outside);
        File.CreateSymbolicLink(Path.Combine(dir, "weights.bin"), outside);

        var error = Assert.Throws<InvalidModelException>(() => OnnxDecoderModel.Load(dir));
        Assert.Equal(ModelRejectionReason.UnsafeExternalData, error.Reason);
        Assert.Contains("through a link", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ExternalData_PastTheEndOfItsFile_IsRefused()
    {
        using var temp = new TempDirectory();
        var dir = Forge(temp, "short.bin");
        File.WriteAllBytes(Path.Combine(dir, "short.bin"), new byte[100]);

        var error = Assert.Throws<InvalidModelException>(() => OnnxDecoderModel.Load(dir));
        Assert.Equal(ModelRejectionReason.UnsafeExternalData, error.Reason);
        Assert.Contains("which has only 100 bytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ExternalData_ThatIsMissing_IsRefused()
    {
        using var temp = new TempDirectory();
        var dir = Forge(temp, null);
        File.Delete(Path.Combine(dir, "model.onnx_data"));

        var error = Assert.Throws<InvalidModelException>(() => OnnxDecoderModel.Load(dir));
        Assert.Contains("not a file in the model folder", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TruncatedGraph_IsRefusedAsMalformed()
    {
        using var temp = new TempDirectory();
        var dir = Forge(temp, null);
        var path = Path.Combine(dir, "model.onnx");
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);

        var error = Assert.Throws<InvalidModelException>(() => OnnxDecoderModel.Load(dir));
        Assert.Equal(ModelRejectionReason.MalformedOnnx, error.Reason);
    }

    [Fact]
    public void GraphWithAnOversizedLength_IsRefusedAsMalformed()
    {
        using var temp = new TempDirectory();
        var dir = Forge(temp, null);
        var path = Path.Combine(dir, "model.onnx");
        var bytes = File.ReadAllBytes(path);
        // The graph field (7, length-delimited) follows ir_version, producer name and version, and the doc string;
        // find it and claim a length far beyond the file.
        var graphTag = Array.IndexOf(bytes, (byte)0x3A);
        Assert.True(graphTag > 0);
        byte[] huge = [0xFF, 0xFF, 0xFF, 0xFF, 0x0F];
        var tampered = bytes[..(graphTag + 1)].Concat(huge).Concat(bytes[(graphTag + 1)..]).ToArray();
        File.WriteAllBytes(path, tampered);

        var error = Assert.Throws<InvalidModelException>(() => OnnxDecoderModel.Load(dir));
        Assert.Equal(ModelRejectionReason.MalformedOnnx, error.Reason);
    }

    [Fact]
    public void ALengthReadPastItsMessagesEnd_IsAProblem_NotANegativeSeek()
    {
        // Found by fuzz/ (harness onnx, CI smoke run): a nested tensor whose length varint itself runs past the end of
        // its message; the negative remainder, cast to ulong, let any length through and the seek went negative.
        using var temp = new TempDirectory();
        var path = Path.Combine(temp.Path, "model.onnx");
        File.WriteAllBytes(path, Convert.FromHexString("0808120466757a7a3a510a0e0a017812017922a5a5a5a5a5a5a5a5a5112a254201776a110a086c6f636174696f6e1205772e62696e6a0b0a066f666673657412013070012a154201624a100000000000000000000000000000000042040a001011"));

        var problems = OnnxExternalDataValidator.Validate(path, temp.Path);
        var problem = Assert.Single(problems);
        Assert.Equal(ModelRejectionReason.MalformedOnnx, problem.Reason);
    }

    [Fact]
    public void FlippedBytesInTheGraph_EitherLoadOrAreRefused_NeverAnythingElse()
    {
        using var temp = new TempDirectory();
        var dir = Forge(temp, null);
        var path = Path.Combine(dir, "model.onnx");
        var original = File.ReadAllBytes(path);
        var refused = 0;
        for (var i = 0; i < 60; i++)
        {
            var position = (int)((long)i * 7919 % original.Length);
            var tampered = (byte[])original.Clone();
            tampered[position] ^= (byte)(1 << (i % 8));
            File.WriteAllBytes(path, tampered);
            try
            {
                using var model = OnnxDecoderModel.Load(dir, ForgedModelsFixture.EngineOptions);
            }
            catch (InvalidModelException)
            {
                refused++;
            }
        }

        Assert.InRange(refused, 1, 60);
    }

    [Fact]
    public void Config_ProblemsAreAllReported()
    {
        using var temp = new TempDirectory();
        var dir = Forge(temp, null);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!.AsObject();
        config["num_key_value_heads"] = 3;
        config["vocab_size"] = -1;
        config.Remove("max_position_embeddings");
        File.WriteAllText(Path.Combine(dir, "config.json"), config.ToJsonString());

        var error = Assert.Throws<InvalidModelException>(() => OnnxDecoderModel.Load(dir));
        Assert.Equal(ModelRejectionReason.InvalidConfig, error.Reason);
        Assert.Contains(error.Problems, p => p.Detail.Contains("num_key_value_heads (3)", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.Detail.Contains("'vocab_size' must be", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.Detail.Contains("'max_position_embeddings' is missing", StringComparison.Ordinal));
    }

    [Fact]
    public void Config_WithADuplicateKey_IsRefused()
    {
        using var temp = new TempDirectory();
        var dir = Forge(temp, null);
        var text = File.ReadAllText(Path.Combine(dir, "config.json"));
        File.WriteAllText(Path.Combine(dir, "config.json"), text.Replace("{", "{\n  \"hidden_size\": 4096,", StringComparison.Ordinal));

        var error = Assert.Throws<InvalidModelException>(() => OnnxDecoderModel.Load(dir));
        Assert.Contains("'hidden_size' twice", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingFiles_AreNamed()
    {
        using var temp = new TempDirectory();
        var error = Assert.Throws<InvalidModelException>(() => OnnxDecoderModel.Load(temp.Path));
        Assert.Equal(ModelRejectionReason.MissingFile, error.Reason);
        Assert.Contains("model.onnx is missing", error.Message, StringComparison.Ordinal);
        Assert.Contains("config.json is missing", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Config_ThatDisagreesWithTheGraph_IsRefused()
    {
        using var temp = new TempDirectory();
        var dir = Forge(temp, null);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!.AsObject();
        config["num_hidden_layers"] = 3;
        config["num_key_value_heads"] = 4;
        File.WriteAllText(Path.Combine(dir, "config.json"), config.ToJsonString());

        var error = Assert.Throws<InvalidModelException>(() => OnnxDecoderModel.Load(dir));
        Assert.Equal(ModelRejectionReason.IncompatibleGraph, error.Reason);
        Assert.Contains("no 'past_key_values.2.key'", error.Message, StringComparison.Ordinal);
        Assert.Contains("[batch, 4, sequence, 16]", error.Message, StringComparison.Ordinal);
        Assert.Contains("past_key_values.0.key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnEmbeddingModel_IsNotADecoder()
    {
        using var temp = new TempDirectory();
        var forged = ModelForge.ForgeEmbedding(temp.Sub("encoder"), Small);
        var error = Assert.Throws<InvalidModelException>(() => OnnxDecoderModel.Load(forged.Directory));
        Assert.Equal(ModelRejectionReason.IncompatibleGraph, error.Reason);
    }

    /// <summary>A forged decoder whose tensors name <paramref name="location"/> as their external data (null: the real file).</summary>
    private static string Forge(TempDirectory temp, string? location)
    {
        var dir = temp.Sub("model");
        ModelForge.ForgeDecoder(dir, Small);
        if (location is not null)
        {
            using var graph = new OnnxGraphBuilder(Path.Combine(dir, "model.onnx_data"), location);
            DecoderGraph.Write(graph, Small, ByteLevelBpeTrainer.Train(ForgeCorpus.Text, Small.Vocab - 3));
            graph.Save(Path.Combine(dir, "model.onnx"), "tampered", "tampered");
        }

        return dir;
    }
}
