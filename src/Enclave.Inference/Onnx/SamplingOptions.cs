using Enclave.Inference.Structured;

namespace Enclave.Inference.Onnx;

/// <summary>How a request samples, with the OpenAI meanings and defaults.</summary>
public sealed record SamplingOptions
{
    /// <summary>0..2; 0 is greedy (argmax, no randomness).</summary>
    public float Temperature { get; init; } = 1f;

    /// <summary>Nucleus sampling: keep the most likely tokens whose probabilities add up to this (0 &lt; p ≤ 1).</summary>
    public float TopP { get; init; } = 1f;

    /// <summary>Keep only the k most likely tokens; 0 keeps all.</summary>
    public int TopK { get; init; }

    /// <summary>The same seed, prompt and options give the same tokens. Null draws a seed per request.</summary>
    public int? Seed { get; init; }

    /// <summary>Most tokens to generate; null is the rest of the context.</summary>
    public int? MaxTokens { get; init; }

    /// <summary>Texts that end generation; the stop text itself is not emitted.</summary>
    public IReadOnlyList<string> Stop { get; init; } = [];

    /// <summary>-2..2: subtracted from the logit of every token that was generated already (OpenAI's presence_penalty).</summary>
    public float PresencePenalty { get; init; }

    /// <summary>-2..2: subtracted from a token's logit once per time it was generated already (frequency_penalty).</summary>
    public float FrequencyPenalty { get; init; }

    /// <summary>Added to the logits of these token IDs (-100..100) before sampling (logit_bias).</summary>
    public IReadOnlyDictionary<int, float> LogitBias { get; init; } = new Dictionary<int, float>();

    /// <summary>Null: no log probabilities; else how many alternatives (0..20) each token reports with its own.</summary>
    public int? Logprobs { get; init; }

    /// <summary>Generate past EOS tokens (vLLM's <c>ignore_eos</c>), for benchmarks and tests.</summary>
    public bool IgnoreEos { get; init; }

    /// <summary>
    /// The documents the output must be (<c>response_format</c> json_object or json_schema): decoding is constrained
    /// to them token by token. Null: free text.
    /// </summary>
    public JsonGrammar? Grammar { get; init; }
}
