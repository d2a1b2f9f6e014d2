namespace Enclave.Inference.Upstream;

/// <summary>
/// One upstream engine that speaks the OpenAI API (vLLM, llama.cpp server, Ollama, Foundry Local, a cloud vendor),
/// bound from configuration (<c>Enclave:Upstream:Backends:N</c>).
/// </summary>
public sealed record UpstreamBackendOptions
{
    /// <summary>Configured name (letters, digits, <c>.</c>, <c>_</c>, <c>-</c>), used in audit entries and errors.</summary>
    public string Name { get; init; } = "";

    /// <summary>
    /// The wire protocol the backend speaks (docs/vendors.md): <c>openai</c> (the default: vLLM, llama.cpp, Ollama,
    /// OpenAI), <c>azure-openai</c> (deployment URLs, <c>api-key</c> header), <c>anthropic</c> (the Messages API),
    /// <c>gemini</c> (generateContent), <c>bedrock</c> (Converse, signed with SigV4).
    /// </summary>
    public string Kind { get; init; } = UpstreamKinds.OpenAi;

    /// <summary>
    /// The vendor API version: <c>api-version</c> for <c>azure-openai</c> (required, e.g. <c>2024-10-21</c>),
    /// <c>anthropic-version</c> for <c>anthropic</c> (default <c>2023-06-01</c>). Not used by <c>openai</c>.
    /// </summary>
    public string? ApiVersion { get; init; }

    /// <summary>The vendor region the backend runs in (e.g. <c>swedencentral</c>, <c>eu-west-3</c>), recorded in <c>request.completed</c>.</summary>
    public string? Region { get; init; }

    /// <summary>
    /// <c>max_tokens</c> sent to a vendor that requires it (<c>anthropic</c>) when the request names none (1..1000000).
    /// </summary>
    public int DefaultMaxTokens { get; init; } = 4096;

    /// <summary>
    /// The OpenAI API root, <c>http</c> or <c>https</c>, without credentials, query or fragment, e.g.
    /// <c>http://10.0.0.5:8000/v1</c>. Requests go to <c>{BaseUrl}/chat/completions</c>, <c>/completions</c>,
    /// <c>/embeddings</c>.
    /// </summary>
    public string BaseUrl { get; init; } = "";

    /// <summary>
    /// Where the API key is, never the key itself: <c>env:NAME</c> or a bare upper-case <c>NAME</c> (an environment
    /// variable), or <c>file:PATH</c> or an absolute path (a file holding the key, e.g. a mounted secret). Resolved once
    /// at start-up and sent as <c>Authorization: Bearer</c>. Empty: no key (a local engine without authentication).
    /// </summary>
    public string? ApiKeyReference { get; init; }

    /// <summary>
    /// Azure OpenAI only: how requests are authenticated. <c>api-key</c> (the default): the key
    /// <see cref="ApiKeyReference"/> names, in the <c>api-key</c> header. <c>entra</c>: a Microsoft Entra ID access token
    /// as <c>Authorization: Bearer</c>: the token <see cref="ApiKeyReference"/> names (an environment variable, or a
    /// token file that another process keeps fresh, re-read whenever it changes), or, with
    /// <see cref="EntraTokenEndpoint"/>, one obtained with the OAuth 2.0 client-credentials grant
    /// (<see cref="ApiKeyReference"/> then names the client secret).
    /// </summary>
    public string AzureAuthentication { get; init; } = AzureAuthentications.ApiKey;

    /// <summary>
    /// The token endpoint for the client-credentials grant (<c>.../oauth2/v2.0/token</c>), a URL reachable inside the
    /// enclave (an identity proxy or a mirrored authority): only with <see cref="AzureAuthentication"/> <c>entra</c>.
    /// Tokens are cached until five minutes before they expire.
    /// </summary>
    public string? EntraTokenEndpoint { get; init; }

    /// <summary>The application (client) id for the client-credentials grant; required with <see cref="EntraTokenEndpoint"/>.</summary>
    public string? EntraClientId { get; init; }

    /// <summary>The scope asked for with the client-credentials grant.</summary>
    public string EntraScope { get; init; } = "https://cognitiveservices.azure.com/.default";

    /// <summary>
    /// A PEM file of CA certificates to trust for this backend's https certificate (a private CA, or the TLS proxy a
    /// disconnected network routes approved cloud traffic through). Null: the system's trust store. The host name is
    /// checked either way.
    /// </summary>
    public string? CaCertificatePath { get; init; }

    /// <summary>The model names this backend serves (its own names, as in its <c>/v1/models</c>).</summary>
    public IReadOnlyList<string> Models { get; init; } = [];

    /// <summary>What the backend is accredited for.</summary>
    public UpstreamLabels Labels { get; init; } = new();

    /// <summary>
    /// The most time a non-streaming request may take; for a stream, the most time until the response headers and
    /// between two events. Past it the request fails with 504 (retryable).
    /// </summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How many times the router retries this backend within one request before it fails over (0..10).</summary>
    public int MaxRetries { get; init; } = 2;

    /// <summary>
    /// Path of the health check (a <c>GET</c> that must answer 2xx): relative to <see cref="BaseUrl"/>
    /// (<c>models</c> is <c>{BaseUrl}/models</c>) or, starting with <c>/</c>, from the server root (vLLM's <c>/health</c>).
    /// </summary>
    public string HealthCheckPath { get; init; } = "models";

    /// <summary>Time between two health checks.</summary>
    public TimeSpan HealthCheckInterval { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>The most time one health check may take before the backend counts as down.</summary>
    public TimeSpan HealthCheckTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Largest non-streaming response body accepted; a larger one fails with 502 and is not read further.</summary>
    public int MaxResponseBytes { get; init; } = 64 * 1024 * 1024;

    /// <summary>Largest line of a server-sent-event stream, and largest <c>data</c> of one event; above it the stream fails.</summary>
    public int MaxSseLineBytes { get; init; } = 1024 * 1024;

    internal const int MaxResponseBytesLimit = 1024 * 1024 * 1024;
    internal const int MaxSseLineBytesLimit = 64 * 1024 * 1024;
    internal const int MinBufferBytes = 1024;

    /// <summary>Every problem with these options (empty when they are valid).</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        Validate($"upstream backend '{Name}'", problems);
        return problems;
    }

    internal void Validate(string where, List<string> problems)
    {
        if (!IsValidName(Name))
        {
            problems.Add($"{where}: Name must be 1..64 letters, digits, '.', '_' or '-'");
        }

        ValidateBaseUrl(where, problems);
        ValidateKind(where, problems);
        ValidateEntra(where, problems);

        if (!UpstreamApiKey.TryParseReference(ApiKeyReference, out _, out var referenceProblem))
        {
            problems.Add($"{where}: ApiKeyReference {referenceProblem}");
        }

        if (Models is null || Models.Count == 0)
        {
            problems.Add($"{where}: Models must list at least one model name the backend serves");
        }
        else
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var model in Models)
            {
                if (string.IsNullOrWhiteSpace(model) || model.Length > 256)
                {
                    problems.Add($"{where}: Models has an empty or over-long (more than 256 characters) name");
                }
                else if (!seen.Add(model))
                {
                    problems.Add($"{where}: Models lists '{model}' twice");
                }
            }
        }

        if (Labels is null)
        {
            problems.Add($"{where}: Labels are required (Classification, Jurisdiction, LeavesEnclave)");
        }
        else
        {
            if (string.IsNullOrWhiteSpace(Labels.Classification))
            {
                problems.Add($"{where}: Labels.Classification is required (the highest classification the backend may see)");
            }

            if (string.IsNullOrWhiteSpace(Labels.Jurisdiction))
            {
                problems.Add($"{where}: Labels.Jurisdiction is required (where the backend runs)");
            }
        }

        if (CaCertificatePath is not null && !File.Exists(CaCertificatePath))
        {
            problems.Add($"{where}: CaCertificatePath '{CaCertificatePath}' does not exist");
        }

        CheckRange(where, problems, nameof(Timeout), Timeout, TimeSpan.FromMilliseconds(1), TimeSpan.FromHours(1));
        CheckRange(where, problems, nameof(HealthCheckInterval), HealthCheckInterval, TimeSpan.FromMilliseconds(1), TimeSpan.FromHours(1));
        CheckRange(where, problems, nameof(HealthCheckTimeout), HealthCheckTimeout, TimeSpan.FromMilliseconds(1), TimeSpan.FromMinutes(5));

        if (MaxRetries is < 0 or > 10)
        {
            problems.Add($"{where}: MaxRetries must be 0..10 (was {MaxRetries})");
        }

        if (string.IsNullOrWhiteSpace(HealthCheckPath) || HealthCheckPath.Contains("://", StringComparison.Ordinal)
            || HealthCheckPath.StartsWith("//", StringComparison.Ordinal) || HealthCheckPath.Any(char.IsControl))
        {
            problems.Add($"{where}: HealthCheckPath must be a path such as 'models' or '/health', not a URL");
        }

        if (MaxResponseBytes is < MinBufferBytes or > MaxResponseBytesLimit)
        {
            problems.Add($"{where}: MaxResponseBytes must be {MinBufferBytes}..{MaxResponseBytesLimit} (was {MaxResponseBytes})");
        }

        if (MaxSseLineBytes is < MinBufferBytes or > MaxSseLineBytesLimit)
        {
            problems.Add($"{where}: MaxSseLineBytes must be {MinBufferBytes}..{MaxSseLineBytesLimit} (was {MaxSseLineBytes})");
        }
    }

    private void ValidateEntra(string where, List<string> problems)
    {
        if (AzureAuthentication is not (AzureAuthentications.ApiKey or AzureAuthentications.Entra))
        {
            problems.Add($"{where}: AzureAuthentication must be '{AzureAuthentications.ApiKey}' or '{AzureAuthentications.Entra}' (was '{UpstreamErrors.Sanitize(AzureAuthentication ?? "")}')");
            return;
        }

        var entra = AzureAuthentication == AzureAuthentications.Entra;
        if (entra && UpstreamKinds.TryParse(Kind, out var kind) && kind != UpstreamKind.AzureOpenAi)
        {
            problems.Add($"{where}: AzureAuthentication '{AzureAuthentications.Entra}' is for Kind '{UpstreamKinds.AzureOpenAi}' only");
        }

        if (EntraTokenEndpoint is null)
        {
            if (EntraClientId is not null)
            {
                problems.Add($"{where}: EntraClientId is set without EntraTokenEndpoint");
            }

            return;
        }

        if (!entra)
        {
            problems.Add($"{where}: EntraTokenEndpoint needs AzureAuthentication '{AzureAuthentications.Entra}'");
        }

        if (!Uri.TryCreate(EntraTokenEndpoint, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            problems.Add($"{where}: EntraTokenEndpoint must be an absolute http:// or https:// URL");
        }
        else if (uri.UserInfo.Length > 0)
        {
            problems.Add($"{where}: EntraTokenEndpoint must not carry credentials (user:password@); the client secret is named by ApiKeyReference");
        }
        else if (Labels is { LeavesEnclave: true } && uri.Scheme != Uri.UriSchemeHttps && !uri.IsLoopback)
        {
            problems.Add($"{where}: EntraTokenEndpoint must use https (the client secret is sent to it)");
        }

        if (string.IsNullOrWhiteSpace(EntraClientId) || EntraClientId.Length > 128)
        {
            problems.Add($"{where}: EntraClientId (1..128 characters) is required with EntraTokenEndpoint");
        }

        if (string.IsNullOrWhiteSpace(EntraScope) || EntraScope.Length > 512)
        {
            problems.Add($"{where}: EntraScope must be 1..512 characters");
        }
    }

    private void ValidateBaseUrl(string where, List<string> problems)
    {
        if (!Uri.TryCreate(BaseUrl, UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            problems.Add($"{where}: BaseUrl must be an absolute http:// or https:// URL such as http://10.0.0.5:8000/v1");
            return;
        }

        if (uri.UserInfo.Length > 0)
        {
            // Do not echo the URL: its user-info may be a credential.
            problems.Add($"{where}: BaseUrl must not carry credentials (user:password@); use ApiKeyReference");
        }

        if (uri.Query.Length > 0 || uri.Fragment.Length > 0)
        {
            problems.Add($"{where}: BaseUrl must not have a query or fragment");
        }

        if (Labels is { LeavesEnclave: true } && uri.Scheme != Uri.UriSchemeHttps)
        {
            problems.Add($"{where}: a backend that leaves the enclave must use https (BaseUrl is {uri.Scheme}://{uri.Authority})");
        }
    }

    private void ValidateKind(string where, List<string> problems)
    {
        if (!UpstreamKinds.TryParse(Kind, out var kind))
        {
            problems.Add($"{where}: Kind must be one of {string.Join(", ", UpstreamKinds.All)} (was '{UpstreamErrors.Sanitize(Kind ?? "")}')");
            return;
        }

        if (kind is UpstreamKind.Bedrock && string.IsNullOrWhiteSpace(Region))
        {
            problems.Add($"{where}: Kind '{Kind}' needs Region (the AWS region requests are signed for, e.g. eu-west-3)");
        }

        if (kind is not UpstreamKind.OpenAi && string.IsNullOrWhiteSpace(ApiKeyReference))
        {
            problems.Add($"{where}: Kind '{Kind}' needs ApiKeyReference (the vendor refuses requests without a key)");
        }

        if (kind == UpstreamKind.AzureOpenAi && string.IsNullOrWhiteSpace(ApiVersion))
        {
            problems.Add($"{where}: Kind '{Kind}' needs ApiVersion (the api-version query parameter, e.g. 2024-10-21)");
        }

        if (kind is UpstreamKind.AzureOpenAi or UpstreamKind.Gemini)
        {
            // Azure deployment names and Gemini model names become a path segment of the URL.
            foreach (var model in Models ?? [])
            {
                if (!string.IsNullOrEmpty(model) && !IsValidName(model))
                {
                    problems.Add($"{where}: Models lists '{UpstreamErrors.Sanitize(model)}', which cannot be a {Kind} model name in a URL (letters, digits, '.', '_', '-')");
                }
            }
        }

        if (ApiVersion is not null && (ApiVersion.Length is 0 or > 64 || !ApiVersion.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_')))
        {
            problems.Add($"{where}: ApiVersion must be 1..64 letters, digits, '-', '.' or '_' such as 2024-10-21");
        }

        if (Region is not null && !IsValidName(Region))
        {
            problems.Add($"{where}: Region must be 1..64 letters, digits, '.', '_' or '-' such as eu-west-3");
        }

        if (DefaultMaxTokens is < 1 or > 1_000_000)
        {
            problems.Add($"{where}: DefaultMaxTokens must be 1..1000000 (was {DefaultMaxTokens})");
        }
    }

    /// <summary>The parsed <see cref="Kind"/>; call only on validated options.</summary>
    internal UpstreamKind ParsedKind() =>
        UpstreamKinds.TryParse(Kind, out var kind) ? kind : throw new UpstreamConfigurationException([$"upstream backend '{Name}': unknown Kind"]);

    private static void CheckRange(string where, List<string> problems, string name, TimeSpan value, TimeSpan min, TimeSpan max)
    {
        if (value < min || value > max)
        {
            problems.Add($"{where}: {name} must be {min:c}..{max:c} (was {value:c})");
        }
    }

    internal static bool IsValidName(string? name) =>
        !string.IsNullOrEmpty(name) && name.Length <= 64
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    /// <summary><see cref="BaseUrl"/> with a trailing slash, so that relative endpoint paths append to it.</summary>
    internal Uri BaseUri()
    {
        var text = BaseUrl.EndsWith('/') ? BaseUrl : BaseUrl + "/";
        return new Uri(text, UriKind.Absolute);
    }
}

/// <summary>The values of <see cref="UpstreamBackendOptions.AzureAuthentication"/>.</summary>
public static class AzureAuthentications
{
    /// <summary>The key in the <c>api-key</c> header.</summary>
    public const string ApiKey = "api-key";

    /// <summary>A Microsoft Entra ID access token as <c>Authorization: Bearer</c>.</summary>
    public const string Entra = "entra";
}
