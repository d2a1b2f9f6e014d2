using System.Text;
using Enclave.Inference.Onnx;

namespace Enclave.Inference.Tests.Onnx;

public sealed class TextStreamingTests(ForgedModelsFixture models) : IClassFixture<ForgedModelsFixture>
{
    [Fact]
    public void Detokenizer_NeverEmitsHalfACharacter_AcrossByteLevelTokens()
    {
        const string Text = "a😀é中\u00e9 z";
        var detokenizer = new IncrementalDetokenizer(models.Tokenizer);
        var pieces = new List<string>();
        foreach (var id in models.Tokenizer.Encode(Text, addSpecialTokens: false))
        {
            pieces.Add(detokenizer.Push(id));
        }

        pieces.Add(detokenizer.Flush());
        Assert.Equal(Text, string.Concat(pieces));
        Assert.All(pieces, piece => Assert.DoesNotContain('\uFFFD', piece));
        Assert.All(pieces, piece => Assert.False(piece.Length > 0 && char.IsLowSurrogate(piece[0])));
        // The four bytes of the emoji come out as one piece, on the fourth byte; nothing before it.
        var emoji = pieces.IndexOf("😀");
        Assert.Equal(["", "", ""], pieces[(emoji - 3)..emoji]);
    }

    [Fact]
    public void Detokenizer_FlushesAnUnfinishedCharacter_AsAReplacement()
    {
        var detokenizer = new IncrementalDetokenizer(models.Tokenizer);
        var bytes = Encoding.UTF8.GetBytes("😀");
        var ids = models.Tokenizer.Encode("😀", addSpecialTokens: false);
        Assert.Equal(bytes.Length, ids.Count);
        Assert.Equal(string.Empty, detokenizer.Push(ids[0]));
        Assert.Equal(string.Empty, detokenizer.Push(ids[1]));
        Assert.Equal("\uFFFD", detokenizer.Flush());
    }

    [Theory]
    [InlineData(new[] { "Hello wor", "ld, stop", "ped here" }, "stop", "Hello world, ")]
    [InlineData(new[] { "abc", "de", "f" }, "cdef", "ab")]
    [InlineData(new[] { "abc", "de", "f" }, "xyz", "abcdef")]
    [InlineData(new[] { "STOP at once" }, "STOP", "")]
    [InlineData(new[] { "s", "t", "o", "p" }, "stop", "")]
    [InlineData(new[] { "sto", "rm then stop" }, "stop", "storm then ")]
    public void StopMatcher_EmitsExactlyTheTextBeforeTheFirstStop(string[] pieces, string stop, string expected)
    {
        var matcher = new StopSequenceMatcher([stop, "\n\n"]);
        var emitted = new StringBuilder();
        foreach (var piece in pieces)
        {
            emitted.Append(matcher.Push(piece));
            if (matcher.Stopped)
            {
                break;
            }
        }

        emitted.Append(matcher.Flush());
        Assert.Equal(expected, emitted.ToString());
    }

    [Fact]
    public void StopMatcher_HoldsBackOnlyAPossibleStart()
    {
        var matcher = new StopSequenceMatcher(["END"]);
        Assert.Equal("some text ", matcher.Push("some text E"));
        Assert.Equal(string.Empty, matcher.Push("N"));
        Assert.Equal("ENx", matcher.Push("x"));
        Assert.Equal(string.Empty, matcher.Push("EN"));
        Assert.Equal(string.Empty, matcher.Push("D"));
        Assert.True(matcher.Stopped);
    }

    [Fact]
    public void StopMatcher_PicksTheEarliestOfSeveralStops()
    {
        var matcher = new StopSequenceMatcher(["world", "lo w"]);
        Assert.Equal("Hel", matcher.Push("Hello world"));
        Assert.True(matcher.Stopped);
        Assert.Equal(string.Empty, matcher.Push("more"));
    }
}
