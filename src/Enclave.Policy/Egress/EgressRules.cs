namespace Enclave.Policy.Egress;

/// <summary>Rule IDs of the built-in egress detectors.</summary>
public static class EgressRules
{
    /// <summary>A classification marking the route is not accredited for.</summary>
    public const string Marking = "marking.classification";

    /// <summary>A PEM or PGP private key block.</summary>
    public const string PrivateKey = "secret.private-key";

    /// <summary>An AWS access key ID (AKIA..., ASIA...).</summary>
    public const string AwsAccessKeyId = "secret.aws-access-key-id";

    /// <summary>An AWS secret access key assigned to a recognisable name.</summary>
    public const string AwsSecretKey = "secret.aws-secret-key";

    /// <summary>A GitHub token (ghp_, gho_, ghu_, ghs_, ghr_, github_pat_).</summary>
    public const string GitHubToken = "secret.github-token";

    /// <summary>A Slack token (xoxb-, xoxp-, ...).</summary>
    public const string SlackToken = "secret.slack-token";

    /// <summary>A bearer credential after the word Bearer, or a bare JWT.</summary>
    public const string BearerToken = "secret.bearer-token";

    /// <summary>A high-entropy value assigned to a key-like name (api_key=..., token: ...).</summary>
    public const string GenericApiKey = "secret.generic-api-key";

    /// <summary>The request was too large to scan within the configured bounds.</summary>
    public const string Limit = "egress.limit";

    /// <summary>A detector ran past its match timeout.</summary>
    public const string Timeout = "egress.timeout";
}
