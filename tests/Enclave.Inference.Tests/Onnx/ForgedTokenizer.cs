using System.Text;
using System.Text.Json;
using Enclave.Inference.Forge;
using Enclave.Inference.Text;

namespace Enclave.Inference.Tests.Onnx;

/// <summary>
/// Just enough of the forged byte-level BPE to decode generated IDs (the engine is driven with token IDs; the real
/// tokenizer.json loader lives in Enclave.Inference.Text). Decode maps each token's characters back to bytes and
/// decodes UTF-8 with replacement characters, as the Hugging Face ByteLevel decoder does.
/// </summary>
public sealed class ForgedTokenizer : ITextTokenizer
{
    private readonly string[] _tokens;
    private readonly HashSet<int> _special = [];
    private readonly Dictionary<byte, int> _byteIds = [];

    private ForgedTokenizer(string[] tokens, IReadOnlySet<int> eos)
    {
        _tokens = tokens;
        EndOfSequenceIds = eos;
    }

    public int VocabularySize => _tokens.Length;

    public IReadOnlySet<int> EndOfSequenceIds { get; init; }

    public static ForgedTokenizer Load(string directory)
    {
        using var json = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(directory, "tokenizer.json")));
        var vocab = json.RootElement.GetProperty("model").GetProperty("vocab");
        var added = json.RootElement.GetProperty("added_tokens");
        var tokens = new string[vocab.EnumerateObject().Count() + added.GetArrayLength()];
        foreach (var entry in vocab.EnumerateObject())
        {
            tokens[entry.Value.GetInt32()] = entry.Name;
        }

        var special = new List<int>();
        foreach (var token in added.EnumerateArray())
        {
            var id = token.GetProperty("id").GetInt32();
            tokens[id] = token.GetProperty("content").GetString()!;
            special.Add(id);
        }

        var eos = new HashSet<int> { Array.IndexOf(tokens, "<|im_end|>"), Array.IndexOf(tokens, "<|endoftext|>") };
        var tokenizer = new ForgedTokenizer(tokens, eos);
        tokenizer._special.UnionWith(special);
        for (var id = 0; id < tokens.Length; id++)
        {
            if (!tokenizer._special.Contains(id) && tokens[id].Length == 1)
            {
                tokenizer._byteIds[(byte)ByteLevel.ToByte(tokens[id][0])] = id;
            }
        }

        return tokenizer;
    }

    /// <summary>One token per UTF-8 byte (no merges): enough to build inputs in tests.</summary>
    public IReadOnlyList<int> Encode(string text, bool addSpecialTokens) =>
        Encoding.UTF8.GetBytes(text).Select(b => _byteIds[b]).ToList();

    public string Decode(IReadOnlyList<int> ids, bool skipSpecialTokens)
    {
        var bytes = new List<byte>();
        var text = new StringBuilder();
        foreach (var id in ids)
        {
            if (_special.Contains(id))
            {
                if (!skipSpecialTokens)
                {
                    text.Append(Encoding.UTF8.GetString([.. bytes])).Append(_tokens[id]);
                    bytes.Clear();
                }

                continue;
            }

            if ((uint)id >= (uint)_tokens.Length || _tokens[id] is null)
            {
                continue; // rows of the model beyond the tokenizer's vocabulary decode to nothing
            }

            foreach (var c in _tokens[id])
            {
                bytes.Add((byte)ByteLevel.ToByte(c));
            }
        }

        return text.Append(Encoding.UTF8.GetString([.. bytes])).ToString();
    }
}
