namespace Enclave.Airlock.Repository;

/// <summary>Signature algorithms the repository generates keys for; all three verify in <see cref="Tuf.TufKey"/>.</summary>
public enum SigningKeyType
{
    /// <summary>Ed25519 (TUF <c>ed25519</c>/<c>ed25519</c>).</summary>
    Ed25519,

    /// <summary>ECDSA on P-256 with SHA-256, DER signatures (TUF <c>ecdsa</c>/<c>ecdsa-sha2-nistp256</c>).</summary>
    EcdsaP256,

    /// <summary>RSA 3072 with PSS, SHA-256, MGF1-SHA-256, 32-byte salt (TUF <c>rsa</c>/<c>rsassa-pss-sha256</c>).</summary>
    RsaPss,
}

/// <summary>Command-line names of <see cref="SigningKeyType"/>.</summary>
public static class SigningKeyTypes
{
    /// <summary>The names accepted by <see cref="Parse"/>.</summary>
    public static IReadOnlyList<string> Names { get; } = ["ed25519", "ecdsa-p256", "rsa-pss"];

    /// <summary>Parses <c>ed25519</c>, <c>ecdsa-p256</c> or <c>rsa-pss</c>.</summary>
    public static SigningKeyType Parse(string name) => name switch
    {
        "ed25519" => SigningKeyType.Ed25519,
        "ecdsa-p256" => SigningKeyType.EcdsaP256,
        "rsa-pss" => SigningKeyType.RsaPss,
        _ => throw new TrustRepositoryException(TrustRepositoryError.InvalidArgument, $"unknown key type \"{name}\"; use one of {string.Join(", ", Names)}"),
    };

    /// <summary>The command-line name of <paramref name="type"/>.</summary>
    public static string Name(SigningKeyType type) => Names[(int)type];
}
