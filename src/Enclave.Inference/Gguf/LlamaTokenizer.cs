using System.Text;
using Enclave.Inference.Text;
using LLama.Native;

namespace Enclave.Inference.Gguf;

/// <summary>
/// llama.cpp's own tokenizer of a GGUF model (<c>tokenizer.ggml.*</c>), behind the engine's <see cref="ITextTokenizer"/>:
/// encoding recognises special tokens written in the text (as Hugging Face tokenizers do), decoding and
/// <see cref="TokenBytes"/> give each token's bytes, so streaming, stop sequences and constrained decoding work as for
/// ONNX models. The token pieces are read once at load.
/// </summary>
internal sealed class LlamaTokenizer : ITextTokenizer, ITokenBytes
{
    private readonly SafeLlamaModelHandle _model;
    private readonly byte[]?[] _pieces;
    private readonly bool _addBos;
    private readonly int _bos;

    public LlamaTokenizer(SafeLlamaModelHandle model)
    {
        _model = model;
        var vocab = model.Vocab;
        VocabularySize = vocab.Count;
        _pieces = new byte[]?[VocabularySize];
        var eos = new HashSet<int>();
        Span<byte> buffer = stackalloc byte[256];
        for (var id = 0; id < VocabularySize; id++)
        {
            var token = (LLamaToken)id;
            if (token.IsEndOfGeneration(vocab))
            {
                eos.Add(id);
            }

            if (token.IsControl(vocab))
            {
                continue; // writes no text
            }

            var length = (int)model.TokenToSpan(token, buffer, 0, special: false);
            _pieces[id] = length <= buffer.Length ? buffer[..length].ToArray() : Piece(token, length);
        }

        EndOfSequenceIds = eos;
        _addBos = vocab.ShouldAddBOS;
        _bos = vocab.BOS is { } bos ? (int)bos : -1;
    }

    public int VocabularySize { get; }

    public IReadOnlySet<int> EndOfSequenceIds { get; }

    public IReadOnlyList<int> Encode(string text, bool addSpecialTokens)
    {
        ArgumentNullException.ThrowIfNull(text);
        var tokens = _model.Tokenize(text, addSpecialTokens && _addBos && _bos >= 0, special: true, Encoding.UTF8);
        var ids = new int[tokens.Length];
        for (var i = 0; i < tokens.Length; i++)
        {
            ids[i] = (int)tokens[i];
        }

        return ids;
    }

    public string Decode(IReadOnlyList<int> ids, bool skipSpecialTokens)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var bytes = new List<byte>();
        foreach (var id in ids)
        {
            if ((uint)id >= (uint)_pieces.Length)
            {
                continue;
            }

            if (_pieces[id] is { } piece)
            {
                bytes.AddRange(piece);
            }
            else if (!skipSpecialTokens)
            {
                var length = (int)_model.TokenToSpan((LLamaToken)id, [], 0, special: true);
                bytes.AddRange(Piece((LLamaToken)id, length, special: true));
            }
        }

        return Encoding.UTF8.GetString([.. bytes]);
    }

    public byte[]? TokenBytes(int id) => (uint)id < (uint)_pieces.Length ? _pieces[id] : null;

    private byte[] Piece(LLamaToken token, int length, bool special = false)
    {
        var buffer = new byte[length];
        _model.TokenToSpan(token, buffer, 0, special);
        return buffer;
    }
}
