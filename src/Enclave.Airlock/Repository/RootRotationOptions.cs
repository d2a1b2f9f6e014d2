using Enclave.Signing.Keys;

namespace Enclave.Airlock.Repository;

/// <summary>What <see cref="TrustRepository.RotateRoot"/> makes.</summary>
public sealed record RootRotationOptions
{
    /// <summary>Number of new root keys; default the current number.</summary>
    public int? RootKeys { get; init; }

    /// <summary>Threshold of the new root; default the current threshold.</summary>
    public int? RootThreshold { get; init; }

    /// <summary>Algorithm of the new root keys.</summary>
    public SigningKeyType KeyType { get; init; } = SigningKeyType.Ed25519;

    /// <summary>Also give the new root one ML-DSA-65 key (see <see cref="TrustInitOptions.PostQuantum"/>); without it the new root has none.</summary>
    public bool PostQuantum { get; init; }

    /// <summary>Expiry of the new root; default one year from now.</summary>
    public DateTimeOffset? Expires { get; init; }

    /// <summary>Old root key files to sign with; default every key in the repository's <c>keys/</c>.</summary>
    public IReadOnlyList<string>? KeyFiles { get; init; }
}
