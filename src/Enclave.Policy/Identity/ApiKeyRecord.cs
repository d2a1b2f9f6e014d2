namespace Enclave.Policy.Identity;

/// <summary>What is known about an API key (never its secret).</summary>
public sealed record ApiKeyRecord
{
    /// <summary>The visible ID: 12 hexadecimal digits (the key reads <c>ek_&lt;id&gt;_...</c>).</summary>
    public required string Id { get; init; }

    /// <summary>A label for people ("grafana scraper").</summary>
    public required string Name { get; init; }

    /// <summary>The principal the key authenticates as (<c>user:alice</c>).</summary>
    public required string PrincipalId { get; init; }

    /// <summary>When it was created.</summary>
    public required DateTimeOffset Created { get; init; }

    /// <summary>When it stops working; null for never.</summary>
    public DateTimeOffset? Expires { get; init; }

    /// <summary>When it was revoked; null while not revoked.</summary>
    public DateTimeOffset? Revoked { get; init; }
}

/// <summary>A key that passed validation, with the principal it authenticates as.</summary>
/// <param name="Key">The key's record.</param>
/// <param name="Principal">Its principal, enabled at validation time.</param>
public readonly record struct ValidatedKey(ApiKeyRecord Key, PrincipalRecord Principal);

/// <summary>Why a presented API key was refused (recorded in the ledger; clients get one generic message).</summary>
public enum KeyRejection
{
    /// <summary>Not refused.</summary>
    None,

    /// <summary>Not of the form <c>ek_&lt;12 hex&gt;_&lt;43 base64url&gt;</c>.</summary>
    Malformed,

    /// <summary>No key has this ID.</summary>
    UnknownKey,

    /// <summary>The ID exists but the secret does not match.</summary>
    WrongSecret,

    /// <summary>The key was revoked.</summary>
    Revoked,

    /// <summary>The key's expiry has passed.</summary>
    Expired,

    /// <summary>The key's principal is disabled.</summary>
    PrincipalDisabled,
}
