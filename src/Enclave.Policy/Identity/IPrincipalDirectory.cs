namespace Enclave.Policy.Identity;

/// <summary>Looks up what the enclave knows about a principal (user or service account): roles, clearance, status.</summary>
public interface IPrincipalDirectory
{
    /// <summary>The principal with this ID (<c>user:alice</c>) or name (<c>alice</c>); null when unknown.</summary>
    PrincipalInfo? Find(string idOrName);
}

/// <summary>A principal as the directory knows it.</summary>
/// <param name="Id">The principal ID, the ledger actor (<c>user:alice</c>).</param>
/// <param name="Name">The name (<c>alice</c>).</param>
/// <param name="Roles">Its roles (see <see cref="Identity.Roles"/>).</param>
/// <param name="Clearance">Its clearance in marking syntax; null means the label scheme's lowest level.</param>
/// <param name="Disabled">Whether it is disabled (its keys and tokens are refused).</param>
public sealed record PrincipalInfo(string Id, string Name, IReadOnlyList<string> Roles, string? Clearance, bool Disabled);
