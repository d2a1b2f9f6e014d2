using Enclave.Inference.Forge;
using Enclave.Inference.Onnx;
using Enclave.Inference.Tests.Forge;

namespace Enclave.Inference.Tests.Onnx;

/// <summary>One forged decoder and one forged encoder per test class, loaded with one intra-op thread each.</summary>
public sealed class ForgedModelsFixture : IDisposable
{
    private readonly TempDirectory _temp = new();

    public ForgedModelsFixture()
    {
        Forged = ModelForge.ForgeDecoder(_temp.Sub("decoder"), DecoderOptions);
        ForgedEncoder = ModelForge.ForgeEmbedding(_temp.Sub("encoder"), new ForgeOptions { Seed = 11, MaxPositions = 64 });
        Decoder = OnnxDecoderModel.Load(Forged.Directory, EngineOptions);
        Encoder = OnnxEmbeddingModel.Load(ForgedEncoder.Directory, EngineOptions);
        Tokenizer = ForgedTokenizer.Load(Forged.Directory);
    }

    public static ForgeOptions DecoderOptions { get; } = new() { Seed = 5, MaxPositions = 128 };

    public static OnnxEngineOptions EngineOptions { get; } = new() { IntraOpThreads = 1, MaxConcurrentSequences = 4, MaxQueuedSequences = 16 };

    public ForgedModel Forged { get; }

    public ForgedModel ForgedEncoder { get; }

    public OnnxDecoderModel Decoder { get; }

    public OnnxEmbeddingModel Encoder { get; }

    public ForgedTokenizer Tokenizer { get; }

    /// <summary>A folder of its own, for tests that tamper with files or need other engine options.</summary>
    public string Scratch(string name) => _temp.Sub(name);

    public void Dispose()
    {
        Decoder.Dispose();
        Encoder.Dispose();
        _temp.Dispose();
    }
}
