namespace Enclave.Inference.Upstream;

/// <summary>The wire protocols an upstream backend may speak (<see cref="UpstreamBackendOptions.Kind"/>).</summary>
public enum UpstreamKind
{
    /// <summary>The OpenAI API: bodies pass through unchanged.</summary>
    OpenAi,

    /// <summary>Azure OpenAI: OpenAI bodies on deployment URLs with <c>api-version</c> and the <c>api-key</c> header.</summary>
    AzureOpenAi,

    /// <summary>The Anthropic Messages API, translated both ways.</summary>
    Anthropic,

    /// <summary>Google Gemini (<c>generateContent</c>, <c>streamGenerateContent</c>), translated both ways.</summary>
    Gemini,

    /// <summary>Amazon Bedrock Converse and ConverseStream, signed with AWS Signature Version 4.</summary>
    Bedrock,
}

/// <summary>The configuration names of <see cref="UpstreamKind"/>.</summary>
public static class UpstreamKinds
{
    public const string OpenAi = "openai";
    public const string AzureOpenAi = "azure-openai";
    public const string Anthropic = "anthropic";
    public const string Gemini = "gemini";
    public const string Bedrock = "bedrock";

    /// <summary>Every name, in documentation order.</summary>
    public static IReadOnlyList<string> All { get; } = [OpenAi, AzureOpenAi, Anthropic, Gemini, Bedrock];

    /// <summary>Parses a configuration name (case-insensitive); null and empty are <c>openai</c>.</summary>
    public static bool TryParse(string? text, out UpstreamKind kind)
    {
        kind = UpstreamKind.OpenAi;
        switch (text?.Trim().ToLowerInvariant())
        {
            case null or "" or OpenAi:
                return true;
            case AzureOpenAi:
                kind = UpstreamKind.AzureOpenAi;
                return true;
            case Anthropic:
                kind = UpstreamKind.Anthropic;
                return true;
            case Gemini:
                kind = UpstreamKind.Gemini;
                return true;
            case Bedrock:
                kind = UpstreamKind.Bedrock;
                return true;
            default:
                return false;
        }
    }

    /// <summary>The configuration name of <paramref name="kind"/>.</summary>
    public static string Name(UpstreamKind kind) => kind switch
    {
        UpstreamKind.AzureOpenAi => AzureOpenAi,
        UpstreamKind.Anthropic => Anthropic,
        UpstreamKind.Gemini => Gemini,
        UpstreamKind.Bedrock => Bedrock,
        _ => OpenAi,
    };
}
