using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Inference.Backends;

namespace Enclave.Inference.Onnx;

/// <summary>
/// Reads the fields of an OpenAI request body that the built-in engine interprets. Every malformed field is a
/// <see cref="BackendException"/> 400 <c>invalid_request_error</c> that names the parameter.
/// </summary>
internal readonly struct OpenAiRequest(JsonObject body)
{
    public JsonObject Body => body;

    public static BackendException Invalid(string message, string parameter) =>
        new(400, "invalid_request_error", $"{message} (parameter '{parameter}')") { Param = parameter };

    /// <summary>A JSON number, whatever .NET type a <see cref="JsonValue"/> was built from.</summary>
    public static bool TryNumber(JsonNode? node, out double number)
    {
        number = 0;
        return node is JsonValue value && value.GetValueKind() == JsonValueKind.Number
            && double.TryParse(value.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out number) && double.IsFinite(number);
    }

    /// <summary>A JSON number without fraction or exponent that fits a long.</summary>
    public static bool TryInteger(JsonNode? node, out long number)
    {
        number = 0;
        return node is JsonValue value && value.GetValueKind() == JsonValueKind.Number
            && long.TryParse(value.ToJsonString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out number);
    }

    /// <summary>A token ID: a JSON integer that fits an int.</summary>
    public static bool TryTokenId(JsonNode? node, out int id)
    {
        id = 0;
        if (TryInteger(node, out var number) && number is >= int.MinValue and <= int.MaxValue)
        {
            id = (int)number;
            return true;
        }

        return false;
    }

    public bool Has(string name) => body.TryGetPropertyValue(name, out var node) && node is not null;

    public double? Number(string name, double min, double max)
    {
        if (!body.TryGetPropertyValue(name, out var node) || node is null)
        {
            return null;
        }

        if (!TryNumber(node, out var number) || number < min || number > max)
        {
            throw Invalid($"'{name}' must be a number from {min} to {max}", name);
        }

        return number;
    }

    public long? Integer(string name, long min, long max)
    {
        if (!body.TryGetPropertyValue(name, out var node) || node is null)
        {
            return null;
        }

        if (!TryInteger(node, out var number) || number < min || number > max)
        {
            throw Invalid($"'{name}' must be an integer from {min} to {max}", name);
        }

        return number;
    }

    public bool Flag(string name)
    {
        if (!body.TryGetPropertyValue(name, out var node) || node is null)
        {
            return false;
        }

        return node.GetValueKind() switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Invalid($"'{name}' must be true or false", name),
        };
    }

    public string? String(string name)
    {
        if (!body.TryGetPropertyValue(name, out var node) || node is null)
        {
            return null;
        }

        return node is JsonValue value && value.TryGetValue<string>(out var text) ? text : throw Invalid($"'{name}' must be a string", name);
    }

    /// <summary>
    /// Sampling options from <c>temperature</c>, <c>top_p</c>, <c>top_k</c> (vLLM's extension), <c>seed</c>,
    /// <c>max_tokens</c> / <c>max_completion_tokens</c>, <c>stop</c>, <c>ignore_eos</c>; refuses <c>n</c> &gt; 1 and the
    /// fields this engine cannot honour (rather than silently ignoring them).
    /// </summary>
    public SamplingOptions Sampling(int maxStopSequences)
    {
        if (Integer("n", 1, 128) is > 1)
        {
            throw Invalid("the built-in engine generates one choice per request; send n = 1", "n");
        }

        foreach (var unsupported in new[] { "logprobs", "echo" })
        {
            if (Has(unsupported) && body[unsupported]!.GetValueKind() is not JsonValueKind.False)
            {
                throw Invalid($"the built-in engine does not support '{unsupported}'", unsupported);
            }
        }

        if (Integer("best_of", 1, 128) is > 1)
        {
            throw Invalid("the built-in engine does not support best_of > 1", "best_of");
        }

        var maxTokens = Integer("max_completion_tokens", 1, int.MaxValue) ?? Integer("max_tokens", 1, int.MaxValue);
        return new SamplingOptions
        {
            Temperature = (float)(Number("temperature", 0, 2) ?? 1.0),
            TopP = (float)(Number("top_p", double.Epsilon, 1) ?? 1.0),
            TopK = (int)(Integer("top_k", -1, int.MaxValue) is { } k && k > 0 ? k : 0),
            Seed = Integer("seed", long.MinValue, long.MaxValue) is { } seed ? unchecked((int)(seed ^ (seed >> 32))) : null,
            MaxTokens = maxTokens is { } m ? (int)m : null,
            Stop = Stops(maxStopSequences),
            IgnoreEos = Flag("ignore_eos"),
        };
    }

    private string[] Stops(int max)
    {
        if (!body.TryGetPropertyValue("stop", out var node) || node is null)
        {
            return [];
        }

        if (node is JsonValue single && single.TryGetValue<string>(out var one))
        {
            return one.Length == 0 ? [] : [one];
        }

        if (node is JsonArray array && array.Count <= max && array.All(item => item is JsonValue v && v.TryGetValue<string>(out _)))
        {
            return [.. array.Select(item => item!.GetValue<string>()).Where(s => s.Length > 0)];
        }

        throw Invalid($"'stop' must be a string or an array of at most {max} strings", "stop");
    }
}
