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

    /// <summary>Most choices (<c>n</c>) one request may ask of the built-in engine.</summary>
    public const int MaxChoices = 16;

    /// <summary>Most entries of a <c>logit_bias</c> map.</summary>
    public const int MaxLogitBias = 1024;

    /// <summary>Most alternatives per token the legacy completions <c>logprobs</c> may ask for (OpenAI's limit).</summary>
    public const int MaxCompletionLogprobs = 5;

    /// <summary>The chat completions parameters the built-in engine implements (with vLLM's top_k and ignore_eos).</summary>
    private static readonly HashSet<string> ChatFields = new(StringComparer.Ordinal)
    {
        "model", "messages", "frequency_penalty", "logit_bias", "logprobs", "top_logprobs", "max_completion_tokens", "max_tokens",
        "n", "parallel_tool_calls", "presence_penalty", "response_format", "seed", "stop", "stream", "stream_options",
        "temperature", "tool_choice", "tools", "top_p", "user", "safety_identifier", "prompt_cache_key", "store", "modalities",
        "service_tier", "top_k", "ignore_eos", "functions", "function_call",
    };

    /// <summary>The completions parameters the built-in engine implements.</summary>
    private static readonly HashSet<string> CompletionFields = new(StringComparer.Ordinal)
    {
        "model", "prompt", "best_of", "echo", "frequency_penalty", "logit_bias", "logprobs", "max_tokens", "n", "presence_penalty",
        "seed", "stop", "stream", "stream_options", "suffix", "temperature", "top_p", "user", "response_format", "top_k", "ignore_eos",
    };

    /// <summary>OpenAI parameters the built-in engine cannot honour, with why.</summary>
    private static readonly Dictionary<string, string> Refused = new(StringComparer.Ordinal)
    {
        ["audio"] = "the built-in engine writes text only; it has no audio output",
        ["prediction"] = "the built-in engine does not support predicted outputs",
        ["web_search_options"] = "the built-in engine does not search the web (it runs dark)",
        ["reasoning_effort"] = "the built-in engine's models are not reasoning models with an effort setting",
        ["verbosity"] = "the built-in engine has no verbosity setting",
        ["metadata"] = "metadata is kept only with stored completions, which the built-in engine does not keep",
    };

    /// <summary>
    /// Every top-level field of a chat (<paramref name="chat"/>) or completions request is one the engine implements;
    /// a parameter OpenAI defines but the engine cannot honour, or one it does not know, is a 400 that names it.
    /// The informational fields (<c>user</c>, <c>safety_identifier</c>, <c>prompt_cache_key</c>) must be strings;
    /// <c>store</c> may only be false, <c>modalities</c> only <c>["text"]</c>, <c>service_tier</c> only auto or default.
    /// </summary>
    public void CheckFields(bool chat)
    {
        var known = chat ? ChatFields : CompletionFields;
        foreach (var (key, node) in body)
        {
            if (node is null)
            {
                continue;
            }

            if (Refused.TryGetValue(key, out var why))
            {
                throw Invalid(why, key);
            }

            if (!known.Contains(key))
            {
                throw Invalid($"unrecognized request argument '{key}' for {(chat ? "chat completions" : "completions")}", key);
            }
        }

        foreach (var name in new[] { "user", "safety_identifier", "prompt_cache_key" })
        {
            _ = String(name);
        }

        if (Flag("store"))
        {
            throw Invalid("the built-in engine does not store completions; send store false or leave it out", "store");
        }

        if (body["modalities"] is { } modalities && !(modalities is JsonArray { Count: 1 } m && m[0] is JsonValue v && v.TryGetValue<string>(out var text) && text == "text"))
        {
            throw Invalid("the built-in engine writes text only; 'modalities' may only be [\"text\"]", "modalities");
        }

        if (String("service_tier") is { } tier && tier is not ("auto" or "default"))
        {
            throw Invalid("the built-in engine has one service tier; 'service_tier' may be 'auto' or 'default'", "service_tier");
        }
    }

    /// <summary>How many choices to generate (<c>n</c>, 1 to <see cref="MaxChoices"/>).</summary>
    public int Choices() => (int)(Integer("n", 1, MaxChoices) ?? 1);

    /// <summary>
    /// Sampling options from <c>temperature</c>, <c>top_p</c>, <c>top_k</c> (vLLM's extension), <c>seed</c>,
    /// <c>max_tokens</c> / <c>max_completion_tokens</c>, <c>stop</c>, <c>presence_penalty</c>, <c>frequency_penalty</c>,
    /// <c>logit_bias</c>, <c>logprobs</c> (chat: true with <c>top_logprobs</c> 0..20; completions: 0..5),
    /// <c>ignore_eos</c>; refuses <c>echo</c> and <c>best_of</c> &gt; 1 rather than ignoring them.
    /// </summary>
    public SamplingOptions Sampling(int maxStopSequences, bool chat = true)
    {
        if (Has("echo") && body["echo"]!.GetValueKind() is not JsonValueKind.False)
        {
            throw Invalid("the built-in engine does not support 'echo'", "echo");
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
            PresencePenalty = (float)(Number("presence_penalty", -2, 2) ?? 0),
            FrequencyPenalty = (float)(Number("frequency_penalty", -2, 2) ?? 0),
            LogitBias = LogitBias(),
            Logprobs = chat ? ChatLogprobs() : (int?)Integer("logprobs", 0, MaxCompletionLogprobs),
            IgnoreEos = Flag("ignore_eos"),
        };
    }

    private int? ChatLogprobs()
    {
        var top = Integer("top_logprobs", 0, StepLogits.MaxTopLogprobs);
        if (!Flag("logprobs"))
        {
            return top is null ? null : throw Invalid("'top_logprobs' needs 'logprobs': true", "top_logprobs");
        }

        return (int)(top ?? 0);
    }

    private Dictionary<int, float> LogitBias()
    {
        var bias = new Dictionary<int, float>();
        if (!body.TryGetPropertyValue("logit_bias", out var node) || node is null)
        {
            return bias;
        }

        if (node is not JsonObject map || map.Count > MaxLogitBias)
        {
            throw Invalid($"'logit_bias' must be an object of at most {MaxLogitBias} token IDs to numbers from -100 to 100", "logit_bias");
        }

        foreach (var (key, value) in map)
        {
            if (!int.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out var id) || !TryNumber(value, out var number) || number is < -100 or > 100)
            {
                throw Invalid($"'logit_bias' maps token IDs (written as decimal strings) to numbers from -100 to 100; '{key}' is not one", "logit_bias");
            }

            bias[id] = (float)number;
        }

        return bias;
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
