namespace Enclave.State.Principals;

/// <summary>Users and service accounts (principals) and their API keys (only the SHA-256 of a key's secret is kept).</summary>
public interface IPrincipalStore
{
    /// <summary>Every principal.</summary>
    IReadOnlyList<PrincipalRow> ListPrincipals();

    /// <summary>Every key that belongs to a principal.</summary>
    IReadOnlyList<ApiKeyRow> ListKeys();

    /// <summary>A key and its principal, or null when there is no such key (or it belongs to none).</summary>
    (ApiKeyRow Key, PrincipalRow Principal)? FindKey(string id);

    /// <summary>Adds a principal.</summary>
    void AddPrincipal(PrincipalRow principal);

    /// <summary>Disables a principal that is enabled.</summary>
    void DisablePrincipal(string id, DateTimeOffset disabled);

    /// <summary>Sets a principal's roles (space-separated) and clearance.</summary>
    void UpdatePrincipal(string id, string roles, string? clearance);

    /// <summary>Adds a key.</summary>
    void AddKey(ApiKeyRow key);

    /// <summary>Revokes a key that is not revoked.</summary>
    void RevokeKey(string id, DateTimeOffset revoked);

    /// <summary>
    /// Keys from before principals existed (no owner): each is attached, in one transaction, to the principal
    /// <paramref name="ownerOf"/> names for its role (created when missing). Returns how many were attached.
    /// </summary>
    int AttachUnownedKeys(Func<string, PrincipalRow> ownerOf);
}

/// <summary>A stored principal. <see cref="Roles"/> is space-separated; <see cref="Kind"/> is <c>user</c> or <c>service</c>.</summary>
public sealed record PrincipalRow(string Id, string Name, string Kind, string Roles, string? Clearance, DateTimeOffset Created, DateTimeOffset? Disabled);

/// <summary>A stored API key: the SHA-256 of its secret, never the secret.</summary>
public sealed record ApiKeyRow(string Id, byte[] SecretHash, string Name, string PrincipalId, DateTimeOffset Created, DateTimeOffset? Expires, DateTimeOffset? Revoked);
