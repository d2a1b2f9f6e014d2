using System.Text.Json.Nodes;
using Enclave.Inference.Forge;
using Enclave.Inference.Tests.Tokenization;

namespace Enclave.Inference.Tests.Forge;

/// <summary>
/// A forged decoder of the second tokenizer family the engine tests cover: a SentencePiece-style BPE with byte fallback
/// and the Replace/ByteFallback/Fuse/Strip decoder (Llama 2/Mistral style): the minimal-sentencepiece fixture's
/// tokenizer put in place of the forged one (its IDs are below the model's 512 logits), BOS and EOS set to its
/// <c>&lt;s&gt;</c> (1) and <c>&lt;/s&gt;</c> (2).
/// </summary>
internal static class SentencePieceDecoders
{
    /// <summary>Forges a decoder in <paramref name="directory"/> with <paramref name="options"/> and gives it the SentencePiece tokenizer.</summary>
    public static ForgedModel Forge(string directory, ForgeOptions options)
    {
        var model = ModelForge.ForgeDecoder(directory, options);
        var fixture = Path.Combine(Path.GetDirectoryName(ReferenceFixtures.Root)!, "..", "Enclave.Inference.Tests", "Text", "Fixtures", "minimal-sentencepiece");
        foreach (var file in new[] { "tokenizer.json", "tokenizer_config.json" })
        {
            File.Copy(Path.Combine(fixture, file), Path.Combine(model.Directory, file), overwrite: true);
        }

        File.WriteAllText(Path.Combine(model.Directory, "generation_config.json"), "{\"bos_token_id\":1,\"eos_token_id\":2}");
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(model.Directory, "config.json")))!.AsObject();
        config["bos_token_id"] = 1;
        config["eos_token_id"] = 2;
        File.WriteAllText(Path.Combine(model.Directory, "config.json"), config.ToJsonString());
        return model;
    }
}
