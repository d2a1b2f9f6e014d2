using System.Text.Json.Nodes;
using Enclave.Inference.Forge;
using Enclave.Inference.Onnx;
using Enclave.Inference.Tests.Forge;
using Enclave.Inference.Tests.Tokenization;
using Enclave.Inference.Text;

namespace Enclave.Inference.Tests.Tools;

/// <summary>
/// Random-weight forged decoders of the two tokenizer families (the forge's byte-level BPE, and the minimal
/// SentencePiece-style BPE with byte fallback), with a context long enough for prompts that carry tool definitions,
/// each served behind the chat templates of the tool-calling families: the forge's own Qwen2.5 template (Hermes
/// <c>&lt;tool_call&gt;</c> blocks), and the reference Qwen2.5, Mistral v0.3 and Llama 3.1 templates.
/// </summary>
public sealed class ToolModelsFixture : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly List<OnnxDecoderModel> _models = [];
    private readonly Dictionary<string, LocalChatModel> _chats = [];

    public ToolModelsFixture()
    {
        var options = new ForgeOptions { Seed = 5, MaxPositions = 2048 };
        var bpe = ModelForge.ForgeDecoder(_temp.Sub("bpe"), options);
        var sentencePiece = SentencePieceDecoders.Forge(_temp.Sub("sentencepiece"), options with { Seed = 6 });

        Load("bpe", bpe.Directory);
        Load("sentencepiece", sentencePiece.Directory);
    }

    public static OnnxEngineOptions EngineOptions { get; } = new() { IntraOpThreads = 1, MaxConcurrentSequences = 4, MaxQueuedSequences = 64 };

    /// <summary>The forged byte-level BPE model with its own chat template (Qwen2.5 with tools).</summary>
    public OnnxInferenceBackend Forged => new("bpe", _chats["bpe"], null);

    /// <summary>The family's model, tokenizer and own chat template.</summary>
    public LocalChatModel Chat(string family) => _chats[family];

    /// <summary>
    /// <paramref name="family"/>'s model ("bpe" or "sentencepiece") behind the reference template
    /// <paramref name="template"/> ("qwen2.5", "mistral-v0.3", "llama3.1").
    /// </summary>
    public OnnxInferenceBackend Serve(string family, string template)
    {
        var index = JsonNode.Parse(File.ReadAllText(Path.Combine(ReferenceFixtures.Root, "templates", "index.json")))!.AsArray();
        var entry = index.Single(e => (string?)e!["name"] == template)!;
        var source = File.ReadAllText(Path.Combine(ReferenceFixtures.Root, "templates", (string)entry["file"]!));
        var specialTokens = entry["special_tokens"]!.AsObject().ToDictionary(p => p.Key, p => (string)p.Value!);
        var chat = _chats[family] with { ChatTemplate = JinjaChatTemplate.Parse(source, specialTokens) };
        return new OnnxInferenceBackend($"{family}-{template}", chat, null);
    }

    public void Dispose()
    {
        foreach (var model in _models)
        {
            model.Dispose();
        }

        _temp.Dispose();
    }

    private void Load(string name, string directory)
    {
        var model = OnnxDecoderModel.Load(directory, EngineOptions);
        _models.Add(model);
        var tokenizer = TokenizerLoader.Load(directory);
        _chats[name] = new LocalChatModel(model, tokenizer.Tokenizer, tokenizer.ChatTemplate);
    }
}
