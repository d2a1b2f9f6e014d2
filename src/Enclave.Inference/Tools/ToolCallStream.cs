using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Enclave.Inference.Text;

namespace Enclave.Inference.Tools;

/// <summary>What a <see cref="ToolCallEvent"/> carries.</summary>
internal enum ToolCallEventKind
{
    /// <summary>Text of the answer's content.</summary>
    Content,

    /// <summary>A call begins: its index, ID and function name (in <see cref="ToolCallEvent.Text"/>).</summary>
    CallStart,

    /// <summary>A piece of the arguments of call <see cref="ToolCallEvent.Call"/>.</summary>
    Arguments,
}

/// <summary>One thing a <see cref="ToolCallStream"/> found: content text, a call's start, or a piece of its arguments.</summary>
internal readonly record struct ToolCallEvent(ToolCallEventKind Kind, string Text, int Call = -1, string? Id = null);

/// <summary>
/// Reads a model's answer for tool calls as it is decoded, in the call format of its family, and tells what it can
/// as soon as it can: content goes out as it comes, holding back only the characters that may still begin a call
/// marker (<c>&lt;tool_call&gt;</c>, <c>[TOOL_CALLS]</c>) and whitespace (dropped when a call follows it or ends the
/// answer). What a call is depends on whether its text was constrained:
/// <list type="bullet">
/// <item><b>Constrained</b> (tool_choice <c>required</c> or a named function): the answer is the call the grammar
/// allows, so a call starts as soon as its name is read (<c>{"name": "f", "arguments": {</c>) and its arguments go out
/// as they are decoded, without the whitespace outside strings.</item>
/// <item><b>Free</b> (tool_choice <c>auto</c>): a call is only what parses strictly as a call to a declared function
/// (<see cref="ToolCallFormats"/>), so a Hermes block is held from its marker to its end, Mistral's array from its
/// marker to the end of the answer, and a Llama answer that begins as a call to its end; then it goes out as a call
/// or, when it is not one, as content. Never a half-parsed call.</item>
/// </list>
/// The whole answer read at once (<see cref="ReadAll"/>) gives exactly what its pieces give read one by one, so a
/// streamed answer's deltas add up to the answer the same request gets unstreamed.
/// </summary>
internal sealed partial class ToolCallStream
{
    /// <summary>Characters of arguments per piece when a whole call is released at once (OpenAI sends a few tokens' worth at a time).</summary>
    internal const int ArgumentsPieceChars = 16;

    /// <summary>How much of a constrained call is read for its name and arguments key before it is left to be parsed whole.</summary>
    private const int MaxHeaderChars = 4096;

    private readonly ToolCallFormat _format;
    private readonly IReadOnlySet<string> _names;
    private readonly List<ToolCallEvent> _events = [];
    private readonly StringBuilder _pending = new();
    private string _space = string.Empty;
    private string _opener = string.Empty;
    private State _state;
    private int _depth;
    private bool _inString;
    private bool _escape;

    public ToolCallStream(ToolCallFormat format, IReadOnlySet<string> names, bool constrained)
    {
        ArgumentNullException.ThrowIfNull(names);
        _format = format;
        _names = names;
        _state = (constrained, format) switch
        {
            (true, ToolCallFormat.Mistral) => State.MistralArray,
            (true, _) => State.CallHeader,
            (false, ToolCallFormat.Llama3Json) => State.LlamaStart,
            _ => State.Text,
        };
    }

    private enum State
    {
        /// <summary>Content, watching for the family's marker.</summary>
        Text,

        /// <summary>Content that can no longer be a call (a Llama answer that did not begin as one).</summary>
        Plain,

        /// <summary>A free Hermes block, held until <c>&lt;/tool_call&gt;</c>.</summary>
        Block,

        /// <summary>Held to the end of the answer (a free Mistral array, a free Llama answer that begins as a call).</summary>
        Held,

        /// <summary>The start of a free Llama answer: a call or text?</summary>
        LlamaStart,

        /// <summary>A constrained call, until its name and the start of its arguments are read.</summary>
        CallHeader,

        /// <summary>A constrained call's arguments, released as they come.</summary>
        CallArguments,

        /// <summary>After a constrained call's arguments, up to the end of its object.</summary>
        CallTail,

        /// <summary>After a constrained Hermes call: its closing tag, if written.</summary>
        HermesAfter,

        /// <summary>A constrained Mistral answer before its array opens.</summary>
        MistralArray,

        /// <summary>After a constrained Mistral call: another one, or the end of the array.</summary>
        MistralNext,

        /// <summary>After a constrained Llama call: another one after ';', or text.</summary>
        LlamaNext,
    }

    /// <summary>The calls started so far.</summary>
    public int Calls { get; private set; }

    /// <summary>Reads the next decoded text; returns what can be told now.</summary>
    public IReadOnlyList<ToolCallEvent> Push(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        _events.Clear();
        var rest = text;
        while (rest.Length > 0)
        {
            rest = _state switch
            {
                State.Text => InText(rest),
                State.Plain => InPlain(rest),
                State.Block => InBlock(rest),
                State.Held => InHeld(rest),
                State.LlamaStart => InLlamaStart(rest),
                State.CallHeader => InCallHeader(rest),
                State.CallArguments => InCallArguments(rest),
                State.CallTail => InCallTail(rest),
                State.HermesAfter => InHermesAfter(rest),
                State.MistralArray => InMistralArray(rest),
                State.MistralNext => InMistralNext(rest),
                _ => InLlamaNext(rest),
            };
        }

        return [.. _events];
    }

    /// <summary>The answer has ended: tells what was held back.</summary>
    public IReadOnlyList<ToolCallEvent> Complete()
    {
        _events.Clear();
        var held = _pending.ToString();
        _pending.Clear();
        switch (_state)
        {
            case State.Block:
                ResolveBlock(held, closed: false);
                break;
            case State.Held when _format == ToolCallFormat.Mistral:
                if (ToolCallFormats.TryMistralCalls(held, _names, out var mistral))
                {
                    mistral.ForEach(Call);
                }
                else
                {
                    Content(_opener + held);
                }

                break;
            case State.Held:
                if (ToolCallFormats.TryLlamaCalls(held, _names, out var llama))
                {
                    llama.ForEach(Call);
                }
                else
                {
                    Content(held);
                }

                break;
            case State.CallHeader when held.Trim().Length > 0:
                // A constrained answer whose call could not be read as it came (cut short, or written in another order).
                if (ToolCallFormats.TryCall(_format, held, _names, out var call))
                {
                    Call(call);
                }
                else
                {
                    Content(held);
                }

                break;
            default:
                Content(held);
                break;
        }

        if (Calls == 0 && _space.Length > 0)
        {
            _events.Add(new ToolCallEvent(ToolCallEventKind.Content, _space));
        }

        _space = string.Empty;
        return [.. _events];
    }

    /// <summary>The whole answer at once.</summary>
    public ParsedAnswer ReadAll(string text) => Collect([.. Push(text), .. Complete()]);

    /// <summary>The answer the events add up to: the content (null when the answer is only calls) and the calls.</summary>
    public static ParsedAnswer Collect(IEnumerable<ToolCallEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        var content = new StringBuilder();
        var calls = new List<(string Id, string Name, StringBuilder Arguments)>();
        foreach (var e in events)
        {
            switch (e.Kind)
            {
                case ToolCallEventKind.Content:
                    content.Append(e.Text);
                    break;
                case ToolCallEventKind.CallStart:
                    calls.Add((e.Id!, e.Text, new StringBuilder()));
                    break;
                default:
                    calls[e.Call].Arguments.Append(e.Text);
                    break;
            }
        }

        return new ParsedAnswer(
            calls.Count > 0 && content.Length == 0 ? null : content.ToString(),
            [.. calls.Select(c => new ParsedToolCall(c.Id, c.Name, c.Arguments.ToString()))]);
    }

    private string InText(string rest)
    {
        var marker = _format == ToolCallFormat.Mistral ? ToolCallFormats.MistralOpen : ToolCallFormats.HermesOpen;
        _pending.Append(rest);
        var text = _pending.ToString();
        _pending.Clear();
        var at = text.IndexOf(marker, StringComparison.Ordinal);
        if (at < 0)
        {
            var keep = MarkerStartAtEnd(text, marker);
            Content(text[..^keep]);
            _pending.Append(text, text.Length - keep, keep);
            return string.Empty;
        }

        Content(text[..at]);
        _opener = marker;
        _state = _format == ToolCallFormat.Mistral ? State.Held : State.Block;
        return text[(at + marker.Length)..];
    }

    private string InPlain(string rest)
    {
        Content(rest);
        return string.Empty;
    }

    private string InBlock(string rest)
    {
        const string Close = ToolCallFormats.HermesClose;
        var from = Math.Max(0, _pending.Length - (Close.Length - 1));
        _pending.Append(rest);
        var at = _pending.ToString(from, _pending.Length - from).IndexOf(Close, StringComparison.Ordinal);
        if (at < 0)
        {
            return string.Empty;
        }

        at += from;
        var body = _pending.ToString(0, at);
        var after = _pending.ToString(at + Close.Length, _pending.Length - at - Close.Length);
        _pending.Clear();
        ResolveBlock(body, closed: true);
        _state = State.Text;
        return after;
    }

    private string InHeld(string rest)
    {
        _pending.Append(rest);
        return string.Empty;
    }

    private string InLlamaStart(string rest)
    {
        _pending.Append(rest);
        var text = _pending.ToString();
        var start = text.TrimStart();
        if (start.Length == 0 || (start.Length < ToolCallFormats.PythonTag.Length && ToolCallFormats.PythonTag.StartsWith(start, StringComparison.Ordinal)))
        {
            return string.Empty;
        }

        if (start[0] is '{' or ';' || start.StartsWith(ToolCallFormats.PythonTag, StringComparison.Ordinal))
        {
            _state = State.Held;
            return string.Empty;
        }

        _pending.Clear();
        _state = State.Plain;
        return text;
    }

    private string InCallHeader(string rest)
    {
        var before = _pending.Length;
        _pending.Append(rest);
        if (before >= MaxHeaderChars)
        {
            return string.Empty; // the header's first MaxHeaderChars were read without a call: read whole at the end
        }

        // Only the first MaxHeaderChars characters may hold the header, however the text arrives: matching that prefix
        // (never where a piece happens to end) is what makes the whole text and any split of it start the same call
        // (fuzz finding 11: a header matched in small pieces, but a long text read at once skipped the match).
        var text = _pending.ToString();
        var match = Header().Match(text, 0, Math.Min(text.Length, MaxHeaderChars));
        if (!match.Success
            || !TryName(match.Groups[1].Value, out var name)
            || !_names.Contains(name)
            || (match.Groups[2].Value == "parameters" && _format != ToolCallFormat.Llama3Json))
        {
            return string.Empty;
        }

        _pending.Clear();
        _space = string.Empty;
        _events.Add(new ToolCallEvent(ToolCallEventKind.CallStart, name, Calls++, ToolCallFormats.NewCallId()));
        (_depth, _inString, _escape) = (0, false, false);
        _state = State.CallArguments;
        return text[(match.Index + match.Length - 1)..]; // from the arguments' '{'
    }

    private string InCallArguments(string rest)
    {
        var arguments = new StringBuilder(rest.Length);
        var i = 0;
        while (i < rest.Length)
        {
            var c = rest[i++];
            if (_inString)
            {
                arguments.Append(c);
                if (_escape)
                {
                    _escape = false;
                }
                else if (c == '\\')
                {
                    _escape = true;
                }
                else if (c == '"')
                {
                    _inString = false;
                }

                continue;
            }

            if (c is ' ' or '\t' or '\n' or '\r')
            {
                continue; // compact, as the constrained grammar writes and as a parsed call's arguments are
            }

            arguments.Append(c);
            if (c == '"')
            {
                _inString = true;
            }
            else if (c is '{' or '[')
            {
                _depth++;
            }
            else if (c is '}' or ']' && --_depth == 0)
            {
                _state = State.CallTail;
                break;
            }
        }

        if (arguments.Length > 0)
        {
            _events.Add(new ToolCallEvent(ToolCallEventKind.Arguments, arguments.ToString(), Calls - 1));
        }

        return rest[i..];
    }

    private string InCallTail(string rest)
    {
        var end = rest.IndexOf('}', StringComparison.Ordinal);
        if (end < 0)
        {
            return string.Empty;
        }

        _state = _format switch
        {
            ToolCallFormat.Mistral => State.MistralNext,
            ToolCallFormat.Llama3Json => State.LlamaNext,
            _ => State.HermesAfter,
        };
        return rest[(end + 1)..];
    }

    private string InHermesAfter(string rest)
    {
        const string Close = ToolCallFormats.HermesClose;
        _pending.Append(rest);
        var text = _pending.ToString();
        var start = text.TrimStart();
        if (start.Length == 0 || (start.Length < Close.Length && Close.StartsWith(start, StringComparison.Ordinal)))
        {
            return string.Empty;
        }

        _pending.Clear();
        _state = State.Text;
        return start.StartsWith(Close, StringComparison.Ordinal) ? start[Close.Length..] : text;
    }

    private string InMistralArray(string rest)
    {
        var start = rest.TrimStart();
        if (start.Length == 0)
        {
            return string.Empty;
        }

        if (start[0] == '[')
        {
            _state = State.CallHeader;
            return start[1..];
        }

        _state = State.Held; // not an array: read whole at the end
        return start;
    }

    private string InMistralNext(string rest)
    {
        var start = rest.TrimStart();
        if (start.Length == 0)
        {
            return string.Empty;
        }

        _state = start[0] == ',' ? State.CallHeader : State.Text;
        return start[0] is ',' or ']' ? start[1..] : start;
    }

    private string InLlamaNext(string rest)
    {
        var start = rest.TrimStart();
        if (start.Length == 0)
        {
            return string.Empty;
        }

        _state = start[0] == ';' ? State.CallHeader : State.Plain;
        return start[0] == ';' ? start[1..] : start;
    }

    /// <summary>A free Hermes block: a call when its body is one, else content with its tags.</summary>
    private void ResolveBlock(string body, bool closed)
    {
        if (ToolCallFormats.TryCall(_format, body, _names, out var call))
        {
            Call(call);
        }
        else
        {
            Content(_opener + body + (closed ? ToolCallFormats.HermesClose : string.Empty));
        }
    }

    /// <summary>A whole call at once: its start, then its arguments in pieces.</summary>
    private void Call(ParsedToolCall call)
    {
        _space = string.Empty;
        var index = Calls++;
        _events.Add(new ToolCallEvent(ToolCallEventKind.CallStart, call.Name, index, call.Id));
        var text = call.Arguments;
        for (var start = 0; start < text.Length;)
        {
            var length = Math.Min(ArgumentsPieceChars, text.Length - start);
            if (length < text.Length - start && char.IsHighSurrogate(text[start + length - 1]))
            {
                length++; // never split a surrogate pair
            }

            _events.Add(new ToolCallEvent(ToolCallEventKind.Arguments, text.Substring(start, length), index));
            start += length;
        }
    }

    /// <summary>Content, keeping back its trailing whitespace until more content (which releases it) or a call (which drops it).</summary>
    private void Content(string text)
    {
        var end = text.Length;
        while (end > 0 && char.IsWhiteSpace(text[end - 1]))
        {
            end--;
        }

        if (end == 0)
        {
            _space += text;
            return;
        }

        _events.Add(new ToolCallEvent(ToolCallEventKind.Content, _space + text[..end]));
        _space = text[end..];
    }

    /// <summary>How many characters at the end of <paramref name="text"/> may be the start of <paramref name="marker"/>.</summary>
    private static int MarkerStartAtEnd(string text, string marker)
    {
        for (var length = Math.Min(marker.Length - 1, text.Length); length > 0; length--)
        {
            if (text.AsSpan(text.Length - length).SequenceEqual(marker.AsSpan(0, length)))
            {
                return length;
            }
        }

        return 0;
    }

    private static bool TryName(string escaped, out string name)
    {
        name = string.Empty;
        try
        {
            name = JsonSerializer.Deserialize<string>("\"" + escaped + "\"") ?? string.Empty;
            return name.Length > 0;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>The start of a call object up to its arguments' opening brace.</summary>
    [GeneratedRegex("""\A\s*\{\s*"name"\s*:\s*"((?:[^"\\\r\n]|\\.)*)"\s*,\s*"(arguments|parameters)"\s*:\s*\{""", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex Header();
}
