using System.Buffers;
using System.Text;

namespace Enclave.Inference.Text.Pipeline;

/// <summary>
/// A <c>tokenizer.json</c> WordPiece model (BERT): each word is split greedily into the longest vocabulary entries from
/// the left, every piece after the first carrying the continuation prefix (<c>##</c>). A word with a part no entry
/// covers, or longer than <c>max_input_chars_per_word</c> characters, becomes the unknown token as a whole, as in
/// Hugging Face tokenizers and google-research/bert. Written here rather than taken from Microsoft.ML.Tokenizers'
/// <c>WordPieceTokenizer</c>: that one brings its own BERT pre-tokenization and reads only <c>vocab.txt</c>, while this
/// engine composes the <c>tokenizer.json</c> pipeline itself (that library is the cross-check in the tests).
/// </summary>
internal sealed class WordPieceModel : ITokenModel
{
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _vocabulary;
    private readonly string _prefix;
    private readonly int _maxInputCharsPerWord;
    private readonly int _unknownId;

    public WordPieceModel(Dictionary<string, int> vocabulary, string continuingSubwordPrefix, int maxInputCharsPerWord, int unknownId)
    {
        _vocabulary = vocabulary.GetAlternateLookup<ReadOnlySpan<char>>();
        _prefix = continuingSubwordPrefix;
        _maxInputCharsPerWord = maxInputCharsPerWord;
        _unknownId = unknownId;
    }

    public int? UnknownId => _unknownId;

    public bool FuseUnknown => false;

    public void Encode(string piece, List<int> ids)
    {
        if (piece.Length == 0)
        {
            return;
        }

        // Characters are Unicode scalar values, as Rust's chars().count() counts them.
        if (piece.Length > _maxInputCharsPerWord && CountRunes(piece) > _maxInputCharsPerWord)
        {
            ids.Add(_unknownId);
            return;
        }

        int first = ids.Count;
        char[] buffer = ArrayPool<char>.Shared.Rent(_prefix.Length + piece.Length);
        try
        {
            _prefix.CopyTo(buffer);
            int start = 0;
            while (start < piece.Length)
            {
                int end = piece.Length;
                int found = -1;
                while (start < end)
                {
                    ReadOnlySpan<char> candidate;
                    if (start == 0)
                    {
                        candidate = piece.AsSpan(0, end);
                    }
                    else
                    {
                        piece.AsSpan(start, end - start).CopyTo(buffer.AsSpan(_prefix.Length));
                        candidate = buffer.AsSpan(0, _prefix.Length + end - start);
                    }

                    if (_vocabulary.TryGetValue(candidate, out int id))
                    {
                        found = id;
                        break;
                    }

                    // Back off one character (a surrogate pair is one).
                    end -= end - start >= 2 && char.IsLowSurrogate(piece[end - 1]) && char.IsHighSurrogate(piece[end - 2]) ? 2 : 1;
                }

                if (found < 0)
                {
                    ids.RemoveRange(first, ids.Count - first);
                    ids.Add(_unknownId);
                    return;
                }

                ids.Add(found);
                start = end;
            }
        }
        finally
        {
            ArrayPool<char>.Shared.Return(buffer);
        }
    }

    private static int CountRunes(string text)
    {
        int count = 0;
        foreach (Rune _ in text.EnumerateRunes())
        {
            count++;
        }

        return count;
    }
}
