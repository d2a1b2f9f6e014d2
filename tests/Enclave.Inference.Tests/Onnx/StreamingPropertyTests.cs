using System.Text;
using Enclave.Inference.Onnx;
using FsCheck.Xunit;

namespace Enclave.Inference.Tests.Onnx;

public sealed class StreamingPropertyTests(ForgedModelsFixture models) : IClassFixture<ForgedModelsFixture>
{
    [Property(MaxTest = 500)]
    public bool StopMatcher_ForAnySplitOfAnyText_EmitsExactlyTheTextBeforeTheFirstStop(bool[] textBits, bool[] stopBits, int[] cuts)
    {
        var text = new string((textBits ?? []).Select(b => b ? 'a' : 'b').ToArray());
        var stop = new string((stopBits ?? []).Take(4).Select(b => b ? 'a' : 'b').ToArray());
        if (stop.Length == 0)
        {
            stop = "ab";
        }

        var matcher = new StopSequenceMatcher([stop]);
        var emitted = new StringBuilder();
        var start = 0;
        foreach (var cut in (cuts ?? []).Select(c => Math.Abs(c % (text.Length + 1))).Append(text.Length).Order())
        {
            emitted.Append(matcher.Push(text[start..Math.Max(start, cut)]));
            start = Math.Max(start, cut);
            if (matcher.Stopped)
            {
                break;
            }
        }

        emitted.Append(matcher.Flush());
        var index = text.IndexOf(stop, StringComparison.Ordinal);
        return emitted.ToString() == (index >= 0 ? text[..index] : text) && matcher.Stopped == (index >= 0);
    }

    [Property(MaxTest = 200)]
    public bool Detokenizer_ForAnyText_StreamsItExactly_WithoutReplacementCharacters(string? input)
    {
        // Any well-formed text, fed one byte-level token per UTF-8 byte.
        var text = Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(input ?? string.Empty));
        if (text.Contains('\uFFFD', StringComparison.Ordinal))
        {
            return true;
        }

        var detokenizer = new IncrementalDetokenizer(models.Tokenizer);
        var pieces = models.Tokenizer.Encode(text, addSpecialTokens: false).Select(detokenizer.Push).Append(detokenizer.Flush()).ToList();
        return string.Concat(pieces) == text && pieces.All(p => !p.Contains('\uFFFD', StringComparison.Ordinal));
    }
}
