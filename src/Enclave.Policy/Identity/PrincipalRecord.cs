namespace Enclave.Policy.Identity;

/// <summary>A user or service account as the identity store holds it.</summary>
public sealed record PrincipalRecord
{
    /// <summary>The name (<c>alice</c>), unique across users and service accounts.</summary>
    public required string Name { get; init; }

    /// <summary>User or service account.</summary>
    public required PrincipalKind Kind { get; init; }

    /// <summary>Its roles, a subset of <see cref="global::Enclave.Policy.Identity.Roles.All"/> in that order.</summary>
    public required IReadOnlyList<string> Roles { get; init; }

    /// <summary>Its clearance in canonical banner form; null means the label scheme's lowest level.</summary>
    public string? Clearance { get; init; }

    /// <summary>When it was added.</summary>
    public required DateTimeOffset Created { get; init; }

    /// <summary>When it was disabled; null while enabled.</summary>
    public DateTimeOffset? Disabled { get; init; }

    /// <summary>The principal ID, the ledger actor (<c>user:alice</c>, <c>service:ci</c>).</summary>
    public string Id => PrincipalNames.IdOf(Kind, Name);

    /// <summary>The directory contract's view of this principal.</summary>
    public PrincipalInfo ToInfo() => new(Id, Name, Roles, Clearance, Disabled is not null);
}
