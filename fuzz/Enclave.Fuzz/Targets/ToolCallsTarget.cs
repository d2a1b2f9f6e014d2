using System.Text;
using System.Text.Json;
using Enclave.Core;
using Enclave.Inference.Text;
using Enclave.Inference.Tools;

namespace Enclave.Fuzz.Targets;

/// <summary>
/// What a model writes, read for tool calls (<see cref="ToolCallFormats.Parse"/>): the first byte picks the family
/// (Hermes/Qwen <c>&lt;tool_call&gt;</c> blocks, Llama 3 JSON, Mistral <c>[TOOL_CALLS]</c>), the rest is the answer.
/// The parser refuses nothing (what is not a call stays text), so any exception is a finding, and so is a call to an
/// undeclared function or with arguments that are not a JSON object. The same text is read again by the incremental
/// reader (<see cref="ToolCallStream"/>), free and constrained, in pieces whose size the first byte also picks: what the
/// pieces add up to differing from the whole text read at once is a finding.
/// </summary>
internal static class ToolCallsTarget
{
    private static readonly HashSet<string> Names = ["get_weather", "now"];

    public static Harness Harness { get; } = new()
    {
        Name = "tool-calls",
        Parser = "Enclave.Inference.Tools.ToolCallFormats.Parse and ToolCallStream (Hermes, Llama 3, Mistral call formats, whole and in pieces)",
        Run = Run,
        Seeds = () =>
        [
            Seeds.Text("hermes.txt", "\u0000Let me look.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}\n</tool_call>\n<tool_call>\n{\"name\": \"now\", \"arguments\": \"{}\"}\n</tool_call>"),
            Seeds.Text("llama3.txt", "\u0001<|python_tag|>{\"name\": \"get_weather\", \"parameters\": {\"city\": \"a;b\"}}; {\"name\": \"now\", \"parameters\": {}}"),
            Seeds.Text("mistral.txt", "\u0002Sure. [TOOL_CALLS] [{\"name\": \"now\", \"arguments\": {}, \"id\": \"abc123def\"}, {\"name\": \"get_weather\", \"arguments\": {\"city\": \"Tromsø\"}}]"),
        ],
    };

    private static void Run(byte[] input)
    {
        if (input.Length == 0)
        {
            return;
        }

        var format = (input[0] % 3) switch
        {
            0 => ToolCallFormat.Hermes,
            1 => ToolCallFormat.Llama3Json,
            _ => ToolCallFormat.Mistral,
        };
        var text = Encoding.UTF8.GetString(input, 1, input.Length - 1);
        var answer = ToolCallFormats.Parse(format, text, Names);
        var piece = (input[0] >> 2) % 7 + 1;
        foreach (var constrained in new[] { false, true })
        {
            var whole = Shape(new ToolCallStream(format, Names, constrained).ReadAll(text));
            var stream = new ToolCallStream(format, Names, constrained);
            var events = new List<ToolCallEvent>();
            for (var start = 0; start < text.Length; start += piece)
            {
                events.AddRange(stream.Push(text.Substring(start, Math.Min(piece, text.Length - start))));
            }

            events.AddRange(stream.Complete());
            if (Shape(ToolCallStream.Collect(events)) != whole)
            {
                throw new FuzzFindingException($"read in pieces of {piece} characters (constrained: {constrained}), the answer differs from the whole text read at once");
            }
        }

        foreach (var call in answer.Calls)
        {
            if (!Names.Contains(call.Name))
            {
                throw new FuzzFindingException($"a call to the undeclared function '{call.Name}'");
            }

            try
            {
                if (StrictJson.Parse(Encoding.UTF8.GetBytes(call.Arguments)) is not System.Text.Json.Nodes.JsonObject)
                {
                    throw new FuzzFindingException("a call's arguments are not a JSON object");
                }
            }
            catch (JsonException e)
            {
                throw new FuzzFindingException("a call's arguments are not valid JSON: " + e.Message, e);
            }
        }
    }

    /// <summary>An answer without its random call IDs.</summary>
    private static string Shape(ParsedAnswer answer) =>
        (answer.Content ?? "\u0000") + "\u0001" + string.Join("\u0001", answer.Calls.Select(c => c.Name + "\u0002" + c.Arguments));
}
