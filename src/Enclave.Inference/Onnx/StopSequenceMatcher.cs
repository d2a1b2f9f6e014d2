namespace Enclave.Inference.Onnx;

/// <summary>
/// Applies stop sequences to streamed text: emits everything before the first stop sequence and nothing of it or
/// after it, even when a stop sequence arrives split across pieces. Text that could still become the start of a stop
/// sequence is held back (at most the longest stop sequence less one character) until it is decided.
/// </summary>
internal sealed class StopSequenceMatcher(IReadOnlyList<string> stops)
{
    private string _pending = string.Empty;

    public bool Stopped { get; private set; }

    /// <summary>The text that is now safe to emit. After a stop (see <see cref="Stopped"/>) everything else is dropped.</summary>
    public string Push(string piece)
    {
        if (Stopped || piece.Length == 0)
        {
            return string.Empty;
        }

        if (stops.Count == 0)
        {
            return piece;
        }

        var text = _pending + piece;
        var first = -1;
        foreach (var stop in stops)
        {
            var index = text.IndexOf(stop, StringComparison.Ordinal);
            if (index >= 0 && (first < 0 || index < first))
            {
                first = index;
            }
        }

        if (first >= 0)
        {
            Stopped = true;
            _pending = string.Empty;
            return text[..first];
        }

        var keep = 0;
        foreach (var stop in stops)
        {
            for (var length = Math.Min(stop.Length - 1, text.Length); length > keep; length--)
            {
                if (text.AsSpan(text.Length - length).SequenceEqual(stop.AsSpan(0, length)))
                {
                    keep = length;
                    break;
                }
            }
        }

        _pending = text[^keep..];
        return text[..^keep];
    }

    /// <summary>The held-back text, at the end of generation (it turned out not to be a stop sequence).</summary>
    public string Flush()
    {
        var rest = Stopped ? string.Empty : _pending;
        _pending = string.Empty;
        return rest;
    }
}
