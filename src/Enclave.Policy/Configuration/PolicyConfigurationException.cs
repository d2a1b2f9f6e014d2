namespace Enclave.Policy.Configuration;

/// <summary>The <c>Policy</c> or <c>Quotas</c> configuration (or a model's or backend's label) is invalid; lists every problem.</summary>
public sealed class PolicyConfigurationException : Exception
{
    public PolicyConfigurationException()
        : this([])
    {
    }

    public PolicyConfigurationException(string message)
        : this([message])
    {
    }

    public PolicyConfigurationException(string message, Exception innerException)
        : base(message, innerException)
    {
        Problems = [message];
    }

    /// <summary>Creates the exception from every problem found.</summary>
    public PolicyConfigurationException(IReadOnlyList<string> problems)
        : base("invalid policy configuration:\n- " + string.Join("\n- ", problems ?? []))
    {
        Problems = problems ?? [];
    }

    /// <summary>Every problem, one sentence each.</summary>
    public IReadOnlyList<string> Problems { get; }
}
