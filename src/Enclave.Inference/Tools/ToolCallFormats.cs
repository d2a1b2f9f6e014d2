using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Core;
using Enclave.Inference.Text;

namespace Enclave.Inference.Tools;

/// <summary>A call found in a model's output: the function, its arguments as JSON text, and the ID given to it.</summary>
internal sealed record ParsedToolCall(string Id, string Name, string Arguments);

/// <summary>A model's answer split into its text and its calls.</summary>
internal sealed record ParsedAnswer(string? Content, IReadOnlyList<ParsedToolCall> Calls);

/// <summary>
/// The call format of each model family: the text that opens a call (put after the prompt when a call is forced),
/// the JSON Schema of what follows (so that constrained decoding writes a call to a declared function whose arguments
/// are valid for its parameters), and the parser that finds calls in what the model wrote.
/// </summary>
internal static class ToolCallFormats
{
    internal const string HermesOpen = "<tool_call>";
    internal const string HermesClose = "</tool_call>";
    internal const string MistralOpen = "[TOOL_CALLS]";
    internal const string PythonTag = "<|python_tag|>";

    /// <summary>Arguments as compact JSON that keeps non-ASCII text readable (as OpenAI's are).</summary>
    private static readonly JsonSerializerOptions Compact = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The text a forced call starts with; decoding continues from it with the grammar of <see cref="CallSchema"/>.</summary>
    public static string Prefix(ToolCallFormat format) => format switch
    {
        ToolCallFormat.Hermes => HermesOpen + "\n",
        ToolCallFormat.Mistral => MistralOpen + " ",
        _ => string.Empty,
    };

    /// <summary>
    /// The schema of a forced call in <paramref name="format"/>: one call object (Hermes, Llama 3) whose name is one of
    /// <paramref name="functions"/> and whose arguments follow that function's parameters, or for Mistral an array of
    /// them (one item unless <paramref name="parallel"/>).
    /// </summary>
    public static JsonObject CallSchema(ToolCallFormat format, IReadOnlyList<ToolFunction> functions, bool parallel)
    {
        var argumentsKey = format == ToolCallFormat.Llama3Json ? "parameters" : "arguments";
        var calls = functions.Select(f => (JsonNode)new JsonObject
        {
            ["type"] = "object",
            ["properties"] = new JsonObject { ["name"] = new JsonObject { ["const"] = f.Name }, [argumentsKey] = f.Parameters.DeepClone() },
            ["required"] = new JsonArray("name", argumentsKey),
            ["additionalProperties"] = false,
        }).ToArray();
        var call = calls.Length == 1 ? calls[0].AsObject() : new JsonObject { ["anyOf"] = new JsonArray(calls) };
        if (format != ToolCallFormat.Mistral)
        {
            return call;
        }

        var array = new JsonObject { ["type"] = "array", ["items"] = call, ["minItems"] = 1 };
        if (!parallel)
        {
            array["maxItems"] = 1;
        }

        return array;
    }

    /// <summary>
    /// Splits <paramref name="text"/> into content and calls to the functions in <paramref name="names"/>. A call
    /// whose JSON does not parse, names an undeclared function, or has arguments that are not an object stays text.
    /// The same reading as a stream (<see cref="ToolCallStream"/>) given the whole answer at once.
    /// </summary>
    public static ParsedAnswer Parse(ToolCallFormat format, string text, IReadOnlySet<string> names) =>
        new ToolCallStream(format, names, constrained: false).ReadAll(text);

    /// <summary>An ID for a call, as OpenAI writes them: <c>call_</c> and 24 letters and digits.</summary>
    public static string NewCallId()
    {
        const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        return "call_" + RandomNumberGenerator.GetString(Alphabet, 24);
    }

    /// <summary>The calls of a whole Llama 3 answer: one call object, or several separated by ';'; false unless all of it is calls.</summary>
    internal static bool TryLlamaCalls(string text, IReadOnlySet<string> names, out List<ParsedToolCall> calls)
    {
        calls = [];
        var body = text.Trim();
        if (body.StartsWith(PythonTag, StringComparison.Ordinal))
        {
            body = body[PythonTag.Length..];
        }

        if (TryLlamaCall(body, names, out var single))
        {
            calls.Add(single);
            return true;
        }

        // Several calls separated by ';' (as Llama 3.2 writes parallel calls).
        foreach (var part in body.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!TryLlamaCall(part, names, out var call))
            {
                calls.Clear();
                return false;
            }

            calls.Add(call);
        }

        return calls.Count > 0;
    }

    /// <summary>The calls of the text after Mistral's marker: a JSON array of calls, all to declared functions; false otherwise.</summary>
    internal static bool TryMistralCalls(string afterMarker, IReadOnlySet<string> names, out List<ParsedToolCall> calls)
    {
        calls = [];
        if (Json(afterMarker) is not JsonArray { Count: > 0 } array)
        {
            return false;
        }

        foreach (var item in array)
        {
            if (!TryCallObject(item, "arguments", names, out var call))
            {
                calls.Clear();
                return false;
            }

            calls.Add(call);
        }

        return true;
    }

    /// <summary>One call object of <paramref name="format"/> (a Hermes block's body, a Llama call, a Mistral array item).</summary>
    internal static bool TryCall(ToolCallFormat format, string json, IReadOnlySet<string> names, out ParsedToolCall call) =>
        format == ToolCallFormat.Llama3Json ? TryLlamaCall(json, names, out call) : TryCall(json, "arguments", names, out call);

    private static bool TryLlamaCall(string json, IReadOnlySet<string> names, out ParsedToolCall call) =>
        TryCall(json, "parameters", names, out call) || TryCall(json, "arguments", names, out call);

    private static bool TryCall(string json, string argumentsKey, IReadOnlySet<string> names, out ParsedToolCall call) =>
        TryCallObject(Json(json), argumentsKey, names, out call);

    private static bool TryCallObject(JsonNode? node, string argumentsKey, IReadOnlySet<string> names, out ParsedToolCall call)
    {
        call = null!;
        if (node is not JsonObject obj || obj["name"] is not JsonValue nameValue || !nameValue.TryGetValue<string>(out var name) || !names.Contains(name))
        {
            return false;
        }

        // A model may write the arguments as an object or as a string holding one.
        var arguments = obj[argumentsKey];
        if (arguments is JsonValue stringValue && stringValue.TryGetValue<string>(out var argumentsText) && Json(argumentsText) is JsonObject fromString)
        {
            arguments = fromString;
        }

        if (arguments is not JsonObject)
        {
            return false;
        }

        call = new ParsedToolCall(NewCallId(), name, arguments.ToJsonString(Compact));
        return true;
    }

    private static JsonNode? Json(string text)
    {
        try
        {
            return StrictJson.Parse(Encoding.UTF8.GetBytes(text.Trim()));
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
