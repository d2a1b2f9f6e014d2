using System.Globalization;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace Enclave.Inference.Text.Pipeline;

/// <summary>
/// A <c>tokenizer.json</c> BPE model. The merging itself is Microsoft.ML.Tokenizers' <see cref="BpeTokenizer"/>
/// (vocabulary, merge ranks, priority-queue merge, word cache), called on one pre-tokenized piece at a time with its own
/// normalization and pre-tokenization off. Around it this class adds what that library lacks and Hugging Face
/// tokenizers have: <c>ignore_merges</c>, <c>byte_fallback</c> to <c>&lt;0xXX&gt;</c> tokens, and transformers.js's
/// handling of characters the vocabulary lacks (the library silently drops them when there is no unknown token).
/// </summary>
internal sealed class BpeModel : ITokenModel
{
    private readonly BpeTokenizer _engine;
    private readonly Dictionary<string, int> _vocabulary;
    private readonly Dictionary<string, int> _tokenIds;
    private readonly bool _ignoreMerges;
    private readonly bool _byteFallback;
    private readonly int[]? _byteTokenIds;

    public BpeModel(
        Dictionary<string, int> vocabulary,
        IReadOnlyList<(string Left, string Right)> merges,
        Dictionary<string, int> tokenIds,
        int? unknownId,
        bool fuseUnknown,
        bool byteFallback,
        bool ignoreMerges)
    {
        _vocabulary = vocabulary;
        _tokenIds = tokenIds;
        UnknownId = unknownId;
        FuseUnknown = fuseUnknown;
        _ignoreMerges = ignoreMerges;
        _byteFallback = byteFallback;
        if (byteFallback)
        {
            _byteTokenIds = new int[256];
            for (int b = 0; b < 256; b++)
            {
                _byteTokenIds[b] = vocabulary.TryGetValue(string.Create(CultureInfo.InvariantCulture, $"<0x{b:X2}>"), out int id) ? id : -1;
            }
        }

        var options = new BpeOptions(vocabulary)
        {
            Merges = merges.Select(m => m.Left + " " + m.Right),
            ByteLevel = false,
            PreTokenizer = null,
            Normalizer = null,
        };
        _engine = BpeTokenizer.Create(options);
    }

    public int? UnknownId { get; }

    public bool FuseUnknown { get; }

    /// <summary>Appends the IDs of one pre-tokenized piece to <paramref name="ids"/>.</summary>
    public void Encode(string piece, List<int> ids)
    {
        if (piece.Length == 0)
        {
            return;
        }

        if (_ignoreMerges && _tokenIds.TryGetValue(piece, out int whole))
        {
            ids.Add(whole);
            return;
        }

        // Characters outside the vocabulary never take part in a merge (every merge is checked against the
        // vocabulary at load), so the piece splits at them into runs the engine merges independently.
        int runStart = 0;
        int i = 0;
        while (i < piece.Length)
        {
            int width = char.IsHighSurrogate(piece[i]) && i + 1 < piece.Length && char.IsLowSurrogate(piece[i + 1]) ? 2 : 1;
            string symbol = piece.Substring(i, width);
            if (_vocabulary.ContainsKey(symbol))
            {
                i += width;
                continue;
            }

            EncodeRun(piece, runStart, i, ids);
            EncodeUnknown(symbol, ids);
            i += width;
            runStart = i;
        }

        EncodeRun(piece, runStart, piece.Length, ids);
    }

    private void EncodeRun(string piece, int start, int end, List<int> ids)
    {
        if (end > start)
        {
            ids.AddRange(_engine.EncodeToIds(piece.AsSpan(start, end - start), considerPreTokenization: false, considerNormalization: false));
        }
    }

    private void EncodeUnknown(string symbol, List<int> ids)
    {
        if (_byteTokenIds is not null)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(symbol);
            if (bytes.All(b => _byteTokenIds[b] >= 0))
            {
                foreach (byte b in bytes)
                {
                    ids.Add(_byteTokenIds[b]);
                }

                return;
            }
        }

        if (UnknownId is not { } unk)
        {
            int cp = char.IsSurrogatePair(symbol, 0) ? char.ConvertToUtf32(symbol, 0) : symbol[0];
            throw new TokenizerException(
                TokenizerError.UnencodableText,
                $"text rejected: character U+{cp:X4} is not in the tokenizer's vocabulary and the tokenizer has neither an unk_token nor byte_fallback; nothing was encoded");
        }

        ids.Add(unk);
    }
}
