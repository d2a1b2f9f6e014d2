using Enclave.Inference.Forge;
using Enclave.Inference.Gguf;
using Enclave.Inference.Onnx;

namespace Enclave.Inference.Tests.Gguf;

/// <summary>Forged GGUF models (F16 chat, Q4_0 chat, F32 embedding) loaded once through llama.cpp for a test class.</summary>
public sealed class GgufModelsFixture : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("enclave-gguf-").FullName;

    public GgufModelsFixture()
    {
        var options = new ForgeOptions { Seed = 3, Hidden = 64, Heads = 4, IntermediateSize = 128 };
        Forged = ModelForge.ForgeGguf(Path.Combine(_root, "chat"), options, GgufWeightType.F16);
        ModelForge.ForgeGguf(Path.Combine(_root, "q4"), options, GgufWeightType.Q4_0);
        ModelForge.ForgeGguf(Path.Combine(_root, "embed"), options, GgufWeightType.F32, embedding: true);
        var engine = new GgufEngineOptions { ContextLength = 256, Threads = 2, BatchSize = 64, Bounds = new OnnxEngineOptions { MaxConcurrentSequences = 2, MaxQueuedSequences = 1 } };
        Chat = GgufDecoderModel.Load(ChatPath, engine);
        Quantised = GgufDecoderModel.Load(Path.Combine(_root, "q4", ModelForge.GgufFileName), engine);
        Embedding = GgufEmbeddingModel.Load(Path.Combine(_root, "embed", ModelForge.GgufFileName), engine);
    }

    public ForgedModel Forged { get; }

    public string Root => _root;

    public string ChatPath => Path.Combine(_root, "chat", ModelForge.GgufFileName);

    public GgufDecoderModel Chat { get; }

    public GgufDecoderModel Quantised { get; }

    public GgufEmbeddingModel Embedding { get; }

    public OnnxInferenceBackend Backend(GgufDecoderModel? model = null)
    {
        var chat = model ?? Chat;
        return new OnnxInferenceBackend("gguf", new LocalChatModel(chat, chat.Tokenizer, chat.ChatTemplate), new LocalEmbeddingModel(Embedding, Embedding.Tokenizer));
    }

    public void Dispose()
    {
        Chat.Dispose();
        Quantised.Dispose();
        Embedding.Dispose();
        Directory.Delete(_root, recursive: true);
    }
}
