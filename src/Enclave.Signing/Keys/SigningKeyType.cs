namespace Enclave.Signing.Keys;

/// <summary>
/// Signature algorithms the repository generates keys for; all verify in <see cref="TufKey"/>. The first three
/// are a repository's primary (classical) key type; <see cref="MlDsa65"/> is only ever an additional key per role
/// (<c>--post-quantum</c>).
/// </summary>
public enum SigningKeyType
{
    /// <summary>Ed25519 (TUF <c>ed25519</c>/<c>ed25519</c>).</summary>
    Ed25519,

    /// <summary>ECDSA on P-256 with SHA-256, DER signatures (TUF <c>ecdsa</c>/<c>ecdsa-sha2-nistp256</c>).</summary>
    EcdsaP256,

    /// <summary>RSA 3072 with PSS, SHA-256, MGF1-SHA-256, 32-byte salt (TUF <c>rsa</c>/<c>rsassa-pss-sha256</c>).</summary>
    RsaPss,

    /// <summary>
    /// ML-DSA-65 (FIPS 204, pure, empty context; TUF <c>ml-dsa-65</c>/<c>ml-dsa-65</c>, a type of this project's
    /// own). Added beside the classical keys by the trust repository's <c>--post-quantum</c>, never used alone.
    /// </summary>
    MlDsa65,
}

/// <summary>Command-line names of <see cref="SigningKeyType"/>.</summary>
public static class SigningKeyTypes
{
    /// <summary>The names accepted by <see cref="Parse"/> (the primary key types; ML-DSA-65 comes with <c>--post-quantum</c>).</summary>
    public static IReadOnlyList<string> Names { get; } = ["ed25519", "ecdsa-p256", "rsa-pss"];

    /// <summary>Parses <c>ed25519</c>, <c>ecdsa-p256</c> or <c>rsa-pss</c>.</summary>
    public static SigningKeyType Parse(string name) => name switch
    {
        "ed25519" => SigningKeyType.Ed25519,
        "ecdsa-p256" => SigningKeyType.EcdsaP256,
        "rsa-pss" => SigningKeyType.RsaPss,
        "ml-dsa-65" => throw new SigningException(SigningFailure.InvalidArgument, "ml-dsa-65 is added beside a classical key type, not used alone: keep --key-type and add --post-quantum"),
        _ => throw new SigningException(SigningFailure.InvalidArgument, $"unknown key type \"{name}\"; use one of {string.Join(", ", Names)}"),
    };

    /// <summary>The command-line name of <paramref name="type"/>.</summary>
    public static string Name(SigningKeyType type) => type == SigningKeyType.MlDsa65 ? "ml-dsa-65" : Names[(int)type];
}
