using Enclave.Signing.Keys;

namespace Enclave.Airlock.Repository;

/// <summary>What <see cref="TrustRepository.Initialize"/> creates.</summary>
public sealed record TrustInitOptions
{
    /// <summary>The repository folder; must not exist or be empty.</summary>
    public required string Directory { get; init; }

    /// <summary>Number of root keys.</summary>
    public required int RootKeys { get; init; }

    /// <summary>Root signatures required.</summary>
    public required int RootThreshold { get; init; }

    /// <summary>Keys per kind role (model, update, intel, dataset), for threshold signing by several holders.</summary>
    public int KindKeys { get; init; } = 1;

    /// <summary>Signatures each kind role requires.</summary>
    public int KindThreshold { get; init; } = 1;

    /// <summary>Algorithm of every generated key.</summary>
    public SigningKeyType KeyType { get; init; } = SigningKeyType.Ed25519;

    /// <summary>
    /// Also create one ML-DSA-65 key per top-level role and per kind role, listed in the role's key IDs, and sign
    /// with it wherever the role signs. Thresholds stay what the classical keys meet, so clients that ignore the
    /// unknown key type still verify.
    /// </summary>
    public bool PostQuantum { get; init; }

    /// <summary>Expiry of root, targets and the kind roles; default one year from now.</summary>
    public DateTimeOffset? Expires { get; init; }
}
