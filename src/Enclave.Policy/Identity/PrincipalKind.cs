namespace Enclave.Policy.Identity;

/// <summary>What a principal is: a person, or a service account used by software (a pipeline, a gateway).</summary>
public enum PrincipalKind
{
    /// <summary>A person; its principal ID is <c>user:&lt;name&gt;</c>.</summary>
    User,

    /// <summary>A service account; its principal ID is <c>service:&lt;name&gt;</c>.</summary>
    Service,
}
