using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Inference.Backends;
using Enclave.Inference.Onnx;

namespace Enclave.Inference.Tools;

/// <summary>What <c>tool_choice</c> asks of the model.</summary>
internal enum ToolChoiceMode
{
    /// <summary>The model answers in text; no call is parsed.</summary>
    None,

    /// <summary>The model decides: its output is parsed for calls in its family's format.</summary>
    Auto,

    /// <summary>At least one call to one of the tools, enforced by constrained decoding.</summary>
    Required,

    /// <summary>A call to the one named function, enforced by constrained decoding.</summary>
    Named,
}

/// <summary>One function of the request's <c>tools</c>; <see cref="Parameters"/> is its JSON Schema (an empty object schema when none is given).</summary>
internal sealed record ToolFunction(int Index, string Name, JsonNode Parameters);

/// <summary>
/// A chat request's <c>tools</c>, <c>tool_choice</c> and <c>parallel_tool_calls</c>, read strictly: every malformed
/// part is a 400 <see cref="BackendException"/> that names it, and the deprecated <c>functions</c> /
/// <c>function_call</c> are refused with the parameter to use instead.
/// </summary>
internal sealed record ToolRequest
{
    /// <summary>Most tools one request may declare (OpenAI's limit).</summary>
    public const int MaxTools = 128;

    public required IReadOnlyList<ToolFunction> Functions { get; init; }

    /// <summary>The request's <c>tools</c> array, as the chat template receives it.</summary>
    public required JsonArray Tools { get; init; }

    public required ToolChoiceMode Mode { get; init; }

    /// <summary>The function <c>tool_choice</c> names (mode <see cref="ToolChoiceMode.Named"/>).</summary>
    public ToolFunction? Named { get; init; }

    /// <summary><c>parallel_tool_calls</c> (default true): whether one answer may make several calls.</summary>
    public bool Parallel { get; init; } = true;

    /// <summary>Whether decoding is constrained to a call (required or a named function).</summary>
    public bool Forced => Mode is ToolChoiceMode.Required or ToolChoiceMode.Named;

    /// <summary>The functions a forced call may be to.</summary>
    public IReadOnlyList<ToolFunction> Callable => Named is { } named ? [named] : Functions;

    /// <summary>The request's tool fields, or null when it declares no tools (and sets no tool field).</summary>
    /// <exception cref="BackendException">400 naming the malformed or unsupported field.</exception>
    public static ToolRequest? Read(JsonObject request)
    {
        ArgumentNullException.ThrowIfNull(request);
        foreach (var (legacy, instead) in new[] { ("functions", "tools"), ("function_call", "tool_choice") })
        {
            if (request.TryGetPropertyValue(legacy, out var node) && node is not null)
            {
                throw OpenAiRequest.Invalid($"'{legacy}' is deprecated and not supported by the built-in engine; send '{instead}'", legacy);
            }
        }

        var hasTools = request.TryGetPropertyValue("tools", out var toolsNode) && toolsNode is not null;
        var parallel = ReadParallel(request);
        if (!hasTools)
        {
            foreach (var field in new[] { "tool_choice", "parallel_tool_calls" })
            {
                if (request.TryGetPropertyValue(field, out var node) && node is not null)
                {
                    throw OpenAiRequest.Invalid($"'{field}' is only allowed when 'tools' are given", field);
                }
            }

            return null;
        }

        if (toolsNode is not JsonArray tools || tools.Count is 0 or > MaxTools)
        {
            throw OpenAiRequest.Invalid($"'tools' must be an array of 1 to {MaxTools} tools", "tools");
        }

        var functions = new List<ToolFunction>(tools.Count);
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < tools.Count; i++)
        {
            var function = ReadTool(tools[i], i);
            if (!names.Add(function.Name))
            {
                throw OpenAiRequest.Invalid($"tools[{i}] declares function '{function.Name}' a second time", $"tools[{i}].function.name");
            }

            functions.Add(function);
        }

        var (mode, named) = ReadChoice(request["tool_choice"], functions);
        return new ToolRequest
        {
            Functions = functions,
            Tools = tools.DeepClone().AsArray(),
            Mode = mode,
            Named = named,
            Parallel = parallel,
        };
    }

    private static bool ReadParallel(JsonObject request)
    {
        if (!request.TryGetPropertyValue("parallel_tool_calls", out var node) || node is null)
        {
            return true;
        }

        return node.GetValueKind() switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw OpenAiRequest.Invalid("'parallel_tool_calls' must be true or false", "parallel_tool_calls"),
        };
    }

    private static ToolFunction ReadTool(JsonNode? node, int index)
    {
        var at = $"tools[{index}]";
        if (node is not JsonObject tool)
        {
            throw OpenAiRequest.Invalid($"{at} must be an object {{\"type\":\"function\",\"function\":{{...}}}}", at);
        }

        OnlyKeys(tool, at, "type", "function");
        if (tool["type"] is not JsonValue typeValue || !typeValue.TryGetValue<string>(out var type) || type != "function")
        {
            throw OpenAiRequest.Invalid($"{at}.type must be 'function' (the built-in engine calls functions only)", at + ".type");
        }

        if (tool["function"] is not JsonObject function)
        {
            throw OpenAiRequest.Invalid($"{at}.function must be an object with a name", at + ".function");
        }

        OnlyKeys(function, at + ".function", "name", "description", "parameters", "strict");
        if (function["name"] is not JsonValue nameValue || !nameValue.TryGetValue<string>(out var name) || !IsName(name))
        {
            throw OpenAiRequest.Invalid($"{at}.function.name must be 1 to 64 letters, digits, '_' or '-'", at + ".function.name");
        }

        if (function.TryGetPropertyValue("description", out var description) && description is not null && !(description is JsonValue dv && dv.TryGetValue<string>(out _)))
        {
            throw OpenAiRequest.Invalid($"{at}.function.description must be a string", at + ".function.description");
        }

        if (function.TryGetPropertyValue("strict", out var strict) && strict is not null && strict.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
        {
            throw OpenAiRequest.Invalid($"{at}.function.strict must be true or false", at + ".function.strict");
        }

        JsonNode parameters;
        if (!function.TryGetPropertyValue("parameters", out var parametersNode) || parametersNode is null)
        {
            // No parameters: the function takes none, so its arguments are the empty object.
            parameters = new JsonObject { ["type"] = "object", ["properties"] = new JsonObject(), ["additionalProperties"] = false };
        }
        else if (parametersNode is JsonObject)
        {
            parameters = parametersNode.DeepClone();
        }
        else
        {
            throw OpenAiRequest.Invalid($"{at}.function.parameters must be a JSON Schema object", at + ".function.parameters");
        }

        return new ToolFunction(index, name, parameters);
    }

    private static (ToolChoiceMode Mode, ToolFunction? Named) ReadChoice(JsonNode? node, List<ToolFunction> functions)
    {
        switch (node)
        {
            case null:
                return (ToolChoiceMode.Auto, null);
            case JsonValue value when value.TryGetValue<string>(out var text):
                return text switch
                {
                    "auto" => (ToolChoiceMode.Auto, null),
                    "none" => (ToolChoiceMode.None, null),
                    "required" => (ToolChoiceMode.Required, null),
                    _ => throw OpenAiRequest.Invalid("'tool_choice' must be 'auto', 'none', 'required' or {\"type\":\"function\",\"function\":{\"name\":...}}", "tool_choice"),
                };
            case JsonObject choice:
                OnlyKeys(choice, "tool_choice", "type", "function");
                if (choice["type"] is not JsonValue t || !t.TryGetValue<string>(out var type) || type != "function"
                    || choice["function"] is not JsonObject function || function.Count != 1
                    || function["name"] is not JsonValue n || !n.TryGetValue<string>(out var name))
                {
                    throw OpenAiRequest.Invalid("'tool_choice' as an object must be {\"type\":\"function\",\"function\":{\"name\":...}}", "tool_choice");
                }

                var named = functions.Find(f => f.Name == name)
                    ?? throw OpenAiRequest.Invalid($"'tool_choice' names function '{name}', which is not among the tools", "tool_choice.function.name");
                return (ToolChoiceMode.Named, named);
            default:
                throw OpenAiRequest.Invalid("'tool_choice' must be a string or an object", "tool_choice");
        }
    }

    private static bool IsName(string name) => name.Length is > 0 and <= 64 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');

    private static void OnlyKeys(JsonObject obj, string at, params string[] allowed)
    {
        foreach (var (key, _) in obj)
        {
            if (!allowed.Contains(key, StringComparer.Ordinal))
            {
                throw OpenAiRequest.Invalid($"'{at}.{key}' is not a field the built-in engine knows; the fields are {string.Join(", ", allowed)}", $"{at}.{key}");
            }
        }
    }
}
