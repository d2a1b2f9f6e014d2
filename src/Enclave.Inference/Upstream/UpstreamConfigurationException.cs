namespace Enclave.Inference.Upstream;

/// <summary>
/// The upstream configuration cannot be used: invalid options, or an API key reference that does not resolve.
/// Thrown at start-up; <see cref="Problems"/> lists every problem found. Messages never contain a key.
/// </summary>
public sealed class UpstreamConfigurationException : Exception
{
    public UpstreamConfigurationException(IReadOnlyList<string> problems)
        : base(Describe(problems))
    {
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
        : base(message, innerException)
    {
        Problems = [message];
    }

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
