using System.Text.Json.Nodes;
using Enclave.Inference.Backends;

namespace Enclave.Inference.Upstream;

/// <summary>Reads OpenAI <c>usage</c> objects that an upstream reports.</summary>
public static class UpstreamUsage
{
    /// <summary>
    /// The token counts in <paramref name="body"/>'s <c>usage</c> (a response, or the last chunk of a stream with
    /// <c>include_usage</c>); null when absent or not plausible (negative, fractional, too large), so that the caller
    /// counts locally instead of trusting a broken upstream. Embeddings report no completion tokens: 0.
    /// </summary>
    public static TokenUsage? Read(JsonObject? body)
    {
        if (body?["usage"] is not JsonObject usage)
        {
            return null;
        }

        if (!TryCount(usage["prompt_tokens"], out var prompt))
        {
            return null;
        }

        var completion = 0;
        if (usage["completion_tokens"] is { } node && !TryCount(node, out completion))
        {
            return null;
        }

        return new TokenUsage(prompt, completion);
    }

    private static bool TryCount(JsonNode? node, out int count)
    {
        count = 0;
        if (node is not JsonValue value)
        {
            return false;
        }

        long number;
        if (value.TryGetValue<long>(out var asLong))
        {
            number = asLong;
        }
        else if (value.TryGetValue<int>(out var asInt))
        {
            number = asInt;
        }
        else
        {
            return false;
        }

        if (number is < 0 or > int.MaxValue / 2)
        {
            return false;
        }

        count = (int)number;
        return true;
    }
}
