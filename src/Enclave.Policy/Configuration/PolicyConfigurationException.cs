using Enclave.Core;

namespace Enclave.Policy.Configuration;

/// <summary>Which configuration is invalid.</summary>
public enum PolicyConfigurationError
{
    /// <summary>The <c>Policy</c> section: the label scheme, defaults, egress, routes.</summary>
    InvalidPolicy,

    /// <summary>The <c>Quotas</c> section.</summary>
    InvalidQuotas,

    /// <summary>A model's label or a backend's accreditation is not a valid marking of the scheme.</summary>
    InvalidLabel,
}

/// <summary>The <c>Policy</c> or <c>Quotas</c> configuration (or a model's or backend's label) is invalid; lists every problem.</summary>
public sealed class PolicyConfigurationException : Exception, IEnclaveError<PolicyConfigurationError>
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
        : this(PolicyConfigurationError.InvalidPolicy, problems)
    {
    }

    /// <summary>Creates the exception from every problem found, with its reason.</summary>
    public PolicyConfigurationException(PolicyConfigurationError reason, IReadOnlyList<string> problems)
        : base("invalid policy configuration:\n- " + string.Join("\n- ", problems ?? []))
    {
        Reason = reason;
        Problems = problems ?? [];
    }

    /// <summary>Which configuration is invalid.</summary>
    public PolicyConfigurationError Reason { get; }

    /// <summary>Every problem, one sentence each.</summary>
    public IReadOnlyList<string> Problems { get; }
}
