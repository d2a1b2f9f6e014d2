using Enclave.Inference.Text.Pipeline;

namespace Enclave.Inference.Text;

/// <summary>
/// A Hugging Face <c>tokenizer.json</c> tokenizer with a BPE or WordPiece model, encoding and decoding as
/// transformers.js does: added tokens are split out of the raw text first, each remaining section is normalized,
/// pre-tokenized and encoded by the model, and the post-processor adds its special tokens.
/// </summary>
internal sealed class HuggingFaceTokenizer : ITextTokenizer, ITokenBytes
{
    private readonly AddedTokenSplitter _splitter;
    private readonly TextNormalizer? _normalizer;
    private readonly TextPreTokenizer? _preTokenizer;
    private readonly ITokenModel _model;
    private readonly PostProcessor _postProcessor;
    private readonly TokenDecoder? _decoder;
    private readonly string?[] _idToToken;
    private readonly IReadOnlyDictionary<string, int> _tokenIds;
    private readonly string? _unknownToken;
    private readonly HashSet<string> _specialTokens;
    private readonly bool _cleanUpTokenizationSpaces;
    private readonly bool _removeSpace;
    private readonly int _maxEncodeChars;

    public HuggingFaceTokenizer(
        AddedTokenSplitter splitter,
        TextNormalizer? normalizer,
        TextPreTokenizer? preTokenizer,
        ITokenModel model,
        PostProcessor postProcessor,
        TokenDecoder? decoder,
        string?[] idToToken,
        IReadOnlyDictionary<string, int> tokenIds,
        string? unknownToken,
        HashSet<string> specialTokens,
        bool cleanUpTokenizationSpaces,
        bool removeSpace,
        int maxEncodeChars)
    {
        _splitter = splitter;
        _normalizer = normalizer;
        _preTokenizer = preTokenizer;
        _model = model;
        _postProcessor = postProcessor;
        _decoder = decoder;
        _idToToken = idToToken;
        _tokenIds = tokenIds;
        _unknownToken = unknownToken;
        _specialTokens = specialTokens;
        _cleanUpTokenizationSpaces = cleanUpTokenizationSpaces;
        _removeSpace = removeSpace;
        _maxEncodeChars = maxEncodeChars;
    }

    public int VocabularySize => _idToToken.Length;

    public IReadOnlySet<int> EndOfSequenceIds { get; private set; } = new HashSet<int>();

    /// <summary>Set once by the loader, which knows the chat template and the generation config.</summary>
    internal void SetEndOfSequenceIds(IReadOnlySet<int> ids) => EndOfSequenceIds = ids;

    public IReadOnlyList<int> Encode(string text, bool addSpecialTokens)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length > _maxEncodeChars)
        {
            throw new TokenizerException(
                TokenizerError.UnencodableText,
                $"text rejected: {text.Length} characters is more than the {_maxEncodeChars} a tokenizer encodes at once (TokenizerLimits.MaxEncodeChars)");
        }

        try
        {
            return EncodeCore(text, addSpecialTokens);
        }
        catch (System.Text.RegularExpressions.RegexMatchTimeoutException e)
        {
            throw new TokenizerException(
                TokenizerError.UnencodableText,
                $"text rejected: a pre-tokenizer regular expression took longer than {e.MatchTimeout} on it (TokenizerLimits.RegexMatchTimeout); nothing was encoded",
                e);
        }
    }

    private List<int> EncodeCore(string text, bool addSpecialTokens)
    {
        var ids = new List<int>(text.Length / 3 + 4);
        List<(string Text, AddedToken? Token)> sections = _splitter.Split(text);
        for (int index = 0; index < sections.Count; index++)
        {
            (string section, AddedToken? token) = sections[index];
            if (token is not null)
            {
                ids.Add(token.Id);
                continue;
            }

            if (section.Length == 0)
            {
                continue;
            }

            if (_removeSpace)
            {
                section = string.Join(' ', JsText.Trim(section).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
            }

            if (_normalizer is not null)
            {
                section = _normalizer.Normalize(section);
            }

            if (section.Length == 0)
            {
                continue;
            }

            List<string> pieces = _preTokenizer is null ? [section] : _preTokenizer.PreTokenize([section], index);
            int start = ids.Count;
            foreach (string piece in pieces)
            {
                _model.Encode(piece, ids);
            }

            if (_model.FuseUnknown && _model.UnknownId is { } unk)
            {
                FuseUnknown(ids, start, unk);
            }
        }

        if (addSpecialTokens)
        {
            _postProcessor.Apply(ids);
        }

        return ids;
    }

    public string Decode(IReadOnlyList<int> ids, bool skipSpecialTokens)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var tokens = new List<string>(ids.Count);
        foreach (int id in ids)
        {
            // An ID past the tokenizer's table (a model's padded embedding rows) decodes as the unknown token, or nothing.
            string? token = id >= 0 && id < _idToToken.Length ? _idToToken[id] ?? _unknownToken : _unknownToken;
            if (token is null || (skipSpecialTokens && _specialTokens.Contains(token)))
            {
                continue;
            }

            tokens.Add(token);
        }

        string text = _decoder is null ? string.Join(' ', tokens) : _decoder.Decode(tokens);
        return _cleanUpTokenizationSpaces ? CleanUpTokenization(text) : text;
    }

    /// <summary>The bytes the token adds mid-text; null for special tokens, IDs past the table, and a tokenizer without a decoder.</summary>
    public byte[]? TokenBytes(int id)
    {
        string? token = id >= 0 && id < _idToToken.Length ? _idToToken[id] : null;
        if (token is null || _specialTokens.Contains(token) || _decoder is null)
        {
            return null;
        }

        return _decoder.TokenBytes(token);
    }

    /// <summary>The ID of <paramref name="token"/> (a vocabulary entry or an added token), if any.</summary>
    public int? TokenId(string token) => _tokenIds.TryGetValue(token, out int id) ? id : null;

    private static void FuseUnknown(List<int> ids, int start, int unk)
    {
        int write = start;
        for (int read = start; read < ids.Count; read++)
        {
            if (ids[read] == unk && write > start && ids[write - 1] == unk)
            {
                continue;
            }

            ids[write++] = ids[read];
        }

        ids.RemoveRange(write, ids.Count - write);
    }

    // transformers' clean_up_tokenization: removes the space tokenizers of old put before punctuation and contractions.
    internal static string CleanUpTokenization(string text) => text
        .Replace(" .", ".", StringComparison.Ordinal)
        .Replace(" ?", "?", StringComparison.Ordinal)
        .Replace(" !", "!", StringComparison.Ordinal)
        .Replace(" ,", ",", StringComparison.Ordinal)
        .Replace(" ' ", "'", StringComparison.Ordinal)
        .Replace(" n't", "n't", StringComparison.Ordinal)
        .Replace(" 'm", "'m", StringComparison.Ordinal)
        .Replace(" 's", "'s", StringComparison.Ordinal)
        .Replace(" 've", "'ve", StringComparison.Ordinal)
        .Replace(" 're", "'re", StringComparison.Ordinal);
}
