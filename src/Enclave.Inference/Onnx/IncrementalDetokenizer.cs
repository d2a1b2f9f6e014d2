using Enclave.Inference.Text;

namespace Enclave.Inference.Onnx;

/// <summary>
/// Turns generated token IDs into text pieces as they come. Byte-level tokens can end inside a UTF-8 sequence, which a
/// tokenizer decodes as U+FFFD; such text is held back until the following tokens complete the character. Decodes a
/// short window (from the last point where the text was complete), as vLLM and Hugging Face's streamers do, so a step
/// costs the same at token 10 and at token 10,000.
/// </summary>
internal sealed class IncrementalDetokenizer(ITextTokenizer tokenizer)
{
    /// <summary>A window this long that still ends in U+FFFD is a real replacement character, not a partial one.</summary>
    private const int MaxPendingTokens = 8;

    private readonly List<int> _ids = [];
    private int _prefixOffset;
    private int _readOffset;

    /// <summary>The text that <paramref name="id"/> completes; empty while a character is still incomplete.</summary>
    public string Push(int id)
    {
        _ids.Add(id);
        return Take(force: _ids.Count - _readOffset >= MaxPendingTokens);
    }

    /// <summary>Whatever is still held back, at the end of generation.</summary>
    public string Flush() => _readOffset < _ids.Count ? Take(force: true) : string.Empty;

    private string Take(bool force)
    {
        var prefix = Decode(_prefixOffset, _readOffset);
        var full = Decode(_prefixOffset, _ids.Count);
        if (full.Length > prefix.Length && (force || !full.EndsWith('\uFFFD')))
        {
            _prefixOffset = _readOffset;
            _readOffset = _ids.Count;
            return full[prefix.Length..];
        }

        if (force)
        {
            // Nothing printable (a dropped special token, say): move on without emitting.
            _prefixOffset = _readOffset = _ids.Count;
        }

        return string.Empty;
    }

    private string Decode(int start, int end) =>
        start == end ? string.Empty : tokenizer.Decode(_ids.GetRange(start, end - start), skipSpecialTokens: true);
}
