namespace Enclave.Policy.Egress;

/// <summary>What a route does when the egress guard finds something.</summary>
public enum EgressAction
{
    /// <summary>Refuse the request; nothing leaves the enclave.</summary>
    Block = 1,

    /// <summary>Replace each finding with <c>[REDACTED:&lt;rule&gt;]</c> and send the rest.</summary>
    Redact,
}
