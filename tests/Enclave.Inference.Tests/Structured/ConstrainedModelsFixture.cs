using System.Text.Json.Nodes;
using Enclave.Inference.Forge;
using Enclave.Inference.Onnx;
using Enclave.Inference.Tests.Forge;
using Enclave.Inference.Tests.Tokenization;
using Enclave.Inference.Text;

namespace Enclave.Inference.Tests.Structured;

/// <summary>
/// Two random-weight forged decoders, one per tokenizer family, each loaded with its real tokenizer.json through
/// <see cref="TokenizerLoader"/>: the forge's byte-level BPE (GPT-2/Qwen style) and a SentencePiece-style BPE with
/// byte fallback and the Replace/ByteFallback/Fuse/Strip decoder (Llama 2/Mistral style, the minimal-sentencepiece
/// fixture's tokenizer put in place of the forged one; its IDs are below the model's 512 logits).
/// </summary>
public sealed class ConstrainedModelsFixture : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly List<OnnxDecoderModel> _models = [];

    public ConstrainedModelsFixture()
    {
        var options = new ForgeOptions { Seed = 3, MaxPositions = 256 };
        var bpe = ModelForge.ForgeDecoder(_temp.Sub("bpe"), options);
        var sentencePiece = SentencePieceDecoders.Forge(_temp.Sub("sentencepiece"), options with { Seed = 4 });

        BytePairModel = Load("bpe", bpe.Directory);
        SentencePieceModel = Load("sentencepiece", sentencePiece.Directory);
    }

    public static OnnxEngineOptions EngineOptions { get; } = new() { IntraOpThreads = 1, MaxConcurrentSequences = 4, MaxQueuedSequences = 64 };

    public OnnxInferenceBackend BytePairModel { get; }

    public OnnxInferenceBackend SentencePieceModel { get; }

    public OnnxInferenceBackend Family(string family) => family == "bpe" ? BytePairModel : SentencePieceModel;

    public void Dispose()
    {
        foreach (var model in _models)
        {
            model.Dispose();
        }

        _temp.Dispose();
    }

    private OnnxInferenceBackend Load(string name, string directory)
    {
        var model = OnnxDecoderModel.Load(directory, EngineOptions);
        _models.Add(model);
        var tokenizer = TokenizerLoader.Load(directory);
        return new OnnxInferenceBackend(name, new LocalChatModel(model, tokenizer.Tokenizer, tokenizer.ChatTemplate), null);
    }
}
