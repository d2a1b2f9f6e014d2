using Enclave.Inference.Text;
using Enclave.Inference.Tools;

namespace Enclave.Inference.Tests.Tools;

/// <summary>
/// The incremental call reader: content goes out as it comes and holds back only what may begin a call marker;
/// constrained calls start as soon as their name is read and their arguments go out as they come; free calls go out
/// once they parse strictly. Whatever the pieces, their events add up to the whole answer read at once.
/// </summary>
public sealed class ToolCallStreamTests
{
    private static readonly HashSet<string> Names = ["get_weather", "now"];

    public static TheoryData<ToolCallFormat, bool, string> Answers() => new()
    {
        { ToolCallFormat.Hermes, false, "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}\n</tool_call>\n<tool_call>\n{\"name\": \"now\", \"arguments\": {}}\n</tool_call>" },
        { ToolCallFormat.Hermes, false, "Plain text with a < and <tool and [TOOL_CALLS] in it.  " },
        { ToolCallFormat.Hermes, false, "<tool_call>{\"name\": \"rm_rf\", \"arguments\": {}}</tool_call> then text" },
        { ToolCallFormat.Hermes, false, "<tool_call>{\"name\": \"now\", \"name\": \"now\", \"arguments\": {}}</tool_call>" },
        { ToolCallFormat.Hermes, false, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": \"{\\\"city\\\": \\\"Tromsø\\\"}\"}" },
        { ToolCallFormat.Hermes, true, "{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Tromsø \\\"x\\\" }{\",\"unit\":\"c\"}}" },
        { ToolCallFormat.Hermes, true, "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Os" },
        { ToolCallFormat.Hermes, true, "{\"name\":\"now\",\"arguments\":{}}\n</tool_call>\nDone." },
        { ToolCallFormat.Hermes, true, "{\"arguments\":{},\"name\":\"now\"}" },
        { ToolCallFormat.Llama3Json, false, "<|python_tag|>{\"name\": \"get_weather\", \"parameters\": {\"city\": \"a;b\"}}; {\"name\": \"now\", \"parameters\": {}}" },
        { ToolCallFormat.Llama3Json, false, "{\"name\": \"now\", \"parameters\": {}}; and then" },
        { ToolCallFormat.Llama3Json, false, "  <|python_ta is not the tag" },
        { ToolCallFormat.Llama3Json, true, "{\"name\":\"now\",\"parameters\":{}};{\"name\":\"get_weather\",\"parameters\":{\"city\":\"x\"}}" },
        { ToolCallFormat.Mistral, false, "Sure. [TOOL_CALLS] [{\"name\": \"now\", \"arguments\": {}}, {\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}]" },
        { ToolCallFormat.Mistral, false, "Sure. [TOOL_CALLS] [{\"name\": \"now\", \"arguments\": {}}, {\"name\": \"nope\", \"arguments\": {}}]" },
        { ToolCallFormat.Mistral, false, "[TOOL_CALL" },
        { ToolCallFormat.Mistral, true, "[{\"name\":\"now\",\"arguments\":{}},{\"name\":\"get_weather\",\"arguments\":{\"city\":\"[]\"}}]" },
        { ToolCallFormat.Mistral, true, "{\"name\":\"now\",\"arguments\":{}}" },

        // Fuzz finding 11: constrained answers longer than the header's limit, malformed after a good header; read
        // whole they were left to be parsed at the end (content), in pieces the header matched first (a call).
        { ToolCallFormat.Hermes, true, "{\"name\": \"get_weather\", \"arguments\": {\"cit_call>\n<to" + new string('<', 5000) },
        { ToolCallFormat.Llama3Json, true, "{\"name\": \"get_weather\",\"parameters\": {" + new string('\ufffd', 5000) },
        { ToolCallFormat.Hermes, true, "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"" + new string('x', 5000) + "\"}}" },
    };

    [Theory]
    [MemberData(nameof(Answers))]
    public void AnySplit_AddsUpToTheWholeAnswer(ToolCallFormat format, bool constrained, string text)
    {
        var whole = Shape(new ToolCallStream(format, Names, constrained).ReadAll(text));
        for (var seed = 0; seed < 200; seed++)
        {
            var random = new Random(seed);
            var stream = new ToolCallStream(format, Names, constrained);
            var events = new List<ToolCallEvent>();
            for (var start = 0; start < text.Length;)
            {
                var length = Math.Min(text.Length - start, random.Next(1, 6));
                if (char.IsHighSurrogate(text[start + length - 1]) && start + length < text.Length)
                {
                    length++;
                }

                events.AddRange(stream.Push(text.Substring(start, length)));
                start += length;
            }

            events.AddRange(stream.Complete());
            Assert.Equal(whole, Shape(ToolCallStream.Collect(events)));
        }
    }

    [Fact]
    public void Content_GoesOutAsItComes_HoldingBackOnlyAPossibleMarker()
    {
        var stream = new ToolCallStream(ToolCallFormat.Hermes, Names, constrained: false);
        Assert.Equal(["Let me"], Texts(stream.Push("Let me")));
        Assert.Equal([" check."], Texts(stream.Push(" check.\n<tool_")));   // "\n<tool_" may begin a call
        Assert.Empty(stream.Push("call>\n{\"name\": \"now\", "));               // a free call is held to its end
        var events = stream.Push("\"arguments\": {}}\n</tool_call>");
        Assert.Equal(ToolCallEventKind.CallStart, events[0].Kind);
        Assert.Equal(("now", 0), (events[0].Text, events[0].Call));
        Assert.Equal("{}", events[1].Text);
        Assert.Empty(stream.Complete());                                        // the whitespace before the call is dropped
    }

    [Fact]
    public void ConstrainedCall_StartsWithItsName_AndItsArgumentsGoOutAsTheyCome()
    {
        var stream = new ToolCallStream(ToolCallFormat.Hermes, Names, constrained: true);
        Assert.Empty(stream.Push("{\"name\":\"get_wea"));
        Assert.Empty(stream.Push("ther\",\"arguments\":"));                    // the call starts with its arguments' '{'
        var events = stream.Push("{\"city\": \"Os");
        Assert.Equal(ToolCallEventKind.CallStart, events[0].Kind);
        Assert.Equal(("get_weather", 0), (events[0].Text, events[0].Call));
        Assert.Matches("^call_[A-Za-z0-9]{24}$", events[0].Id);
        Assert.Equal(["{\"city\":\"Os"], Texts(events.Skip(1)));
        Assert.Equal(["lo\"}"], Texts(stream.Push("lo\"}}")));
        Assert.Empty(stream.Complete());
        Assert.Equal(1, stream.Calls);
    }

    [Fact]
    public void ConstrainedMistral_StreamsEachCallOfTheArray()
    {
        var stream = new ToolCallStream(ToolCallFormat.Mistral, Names, constrained: true);
        var events = stream.Push("[{\"name\":\"now\",\"arguments\":{}},{\"name\":\"get_weather\",\"arguments\":{\"city\":\"x\"");
        Assert.Equal(
            [(ToolCallEventKind.CallStart, "now", 0), (ToolCallEventKind.Arguments, "{}", 0), (ToolCallEventKind.CallStart, "get_weather", 1), (ToolCallEventKind.Arguments, "{\"city\":\"x\"", 1)],
            events.Select(e => (e.Kind, e.Text, e.Call)));
    }

    [Theory]
    [InlineData("<tool_call>{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}</tool_call>")] // truncated JSON
    [InlineData("<tool_call>{\"name\": \"now\", \"arguments\": {\"a\": \"\\ud800\"}}</tool_call>")]      // lone surrogate
    [InlineData("<tool_call>{\"name\": \"now\", \"arguments\": {}, \"arguments\": {}}</tool_call>")]    // duplicate key
    [InlineData("<tool_call>\u00ff\u0000{</tool_call>")]                                              // noise
    public void FreeCalls_ThatDoNotParseStrictly_StayContent_WhateverTheSplit(string text)
    {
        var stream = new ToolCallStream(ToolCallFormat.Hermes, Names, constrained: false);
        var events = text.Select(c => c.ToString()).SelectMany(stream.Push).Concat(stream.Complete()).ToList();
        Assert.All(events, e => Assert.Equal(ToolCallEventKind.Content, e.Kind));
        Assert.Equal(text, string.Concat(events.Select(e => e.Text)));
    }

    [Fact]
    public void AnOversizedConstrainedHeader_IsReadWhole_NotMatchedForever()
    {
        var stream = new ToolCallStream(ToolCallFormat.Hermes, Names, constrained: true);
        var text = "{\"name\":\"" + new string('x', 10_000) + "\",\"arguments\":{}}";
        Assert.Empty(stream.Push(text));
        Assert.Equal([ToolCallEventKind.Content], stream.Complete().Select(e => e.Kind));
    }

    [Theory]
    [InlineData(4096, true)]  // the header's '{' is the 4,096th character: a call, however the text arrives
    [InlineData(4097, false)] // one character later: past the limit, so the (truncated) call is content, whatever the split
    public void AHeaderEndingAtTheLimit_IsReadTheSameWholeAndInPieces(int headerEnd, bool call)
    {
        const string Header = "{\"name\": \"get_weather\", \"arguments\": {";
        var text = new string(' ', headerEnd - Header.Length) + Header + "\"city\": \"Oslo\"";
        var whole = new ToolCallStream(ToolCallFormat.Hermes, Names, constrained: true).ReadAll(text);
        Assert.Equal(call, whole.Calls.Count == 1);
        Assert.Equal(call ? "get_weather:{\"city\":\"Oslo\"" : text.TrimEnd() + "|", Shape(whole).Replace("<null>|", string.Empty, StringComparison.Ordinal));
        foreach (var piece in new[] { 1, 3, 4, 5, 7, 4095, 4097 })
        {
            var stream = new ToolCallStream(ToolCallFormat.Hermes, Names, constrained: true);
            var events = new List<ToolCallEvent>();
            for (var start = 0; start < text.Length; start += piece)
            {
                events.AddRange(stream.Push(text.Substring(start, Math.Min(piece, text.Length - start))));
            }

            events.AddRange(stream.Complete());
            Assert.Equal(Shape(whole), Shape(ToolCallStream.Collect(events)));
        }
    }

    private static string[] Texts(IEnumerable<ToolCallEvent> events) => [.. events.Select(e => e.Text)];

    /// <summary>An answer without its random call IDs.</summary>
    private static string Shape(ParsedAnswer answer) =>
        (answer.Content ?? "<null>") + "|" + string.Join("|", answer.Calls.Select(c => c.Name + ":" + c.Arguments));
}
