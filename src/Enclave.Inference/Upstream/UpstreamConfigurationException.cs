using Enclave.Core;

namespace Enclave.Inference.Upstream;

/// <summary>Which part of the upstream configuration cannot be used.</summary>
public enum UpstreamConfigurationError
{
    /// <summary>The options are invalid: a backend's URL, kind, bounds, certificate, or a model's settings.</summary>
    InvalidOptions,

    /// <summary>An <c>ApiKeyReference</c> is malformed, or the key it names is missing, empty, unreadable or not one token.</summary>
    ApiKey,
}

/// <summary>
/// The upstream configuration cannot be used: invalid options, or an API key reference that does not resolve.
/// Thrown at start-up; <see cref="Problems"/> lists every problem found. Messages never contain a key.
/// </summary>
public sealed class UpstreamConfigurationException : Exception, IEnclaveError<UpstreamConfigurationError>
{
    public UpstreamConfigurationException(IReadOnlyList<string> problems)
        : this(UpstreamConfigurationError.InvalidOptions, problems)
    {
    }

    /// <summary>Creates the exception from every problem found, with its reason.</summary>
    public UpstreamConfigurationException(UpstreamConfigurationError reason, IReadOnlyList<string> problems)
        : base(Describe(problems))
    {
        Reason = reason;
        Problems = problems;
    }

    public UpstreamConfigurationException()
        : this(["invalid upstream configuration"])
    {
    }

    public UpstreamConfigurationException(string message)
        : this([message])
    {
    }

    public UpstreamConfigurationException(string message, Exception innerException)
        : this(UpstreamConfigurationError.InvalidOptions, message, innerException)
    {
    }

    /// <summary>Creates the exception for one problem caused by another exception, with its reason.</summary>
    public UpstreamConfigurationException(UpstreamConfigurationError reason, string message, Exception innerException)
        : base(message, innerException)
    {
        Reason = reason;
        Problems = [message];
    }

    /// <summary>Which part of the configuration cannot be used.</summary>
    public UpstreamConfigurationError Reason { get; }

    /// <summary>Each problem, naming the backend and the setting.</summary>
    public IReadOnlyList<string> Problems { get; }

    private static string Describe(IReadOnlyList<string> problems)
    {
        ArgumentNullException.ThrowIfNull(problems);
        return problems.Count == 1
            ? "invalid upstream configuration: " + problems[0]
            : $"invalid upstream configuration ({problems.Count} problems): " + string.Join("; ", problems);
    }
}
