using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Enclave.EndToEnd.Tests.Identity;

/// <summary>
/// An identity provider for tests: an RSA and an EC signing key whose public halves are in a JWKS file, and JWS
/// compact tokens built here byte by byte (not with the library the server validates with), so that attacks such as
/// <c>alg: none</c> or an HMAC keyed with the public key can be made exactly.
/// </summary>
public sealed class TestTokens : IDisposable
{
    public const string Issuer = "https://sso.enclave.test/realms/enclave";
    public const string Audience = "enclave-gateway";
    public const string RsaKid = "rsa-2026";
    public const string EcKid = "ec-2026";

    public RSA Rsa { get; } = RSA.Create(2048);

    public ECDsa Ec { get; } = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    /// <summary>The JWKS (public keys only) the server is configured with.</summary>
    public JsonObject Jwks()
    {
        var rsa = Rsa.ExportParameters(false);
        var ec = Ec.ExportParameters(false);
        return new JsonObject
        {
            ["keys"] = new JsonArray(
                new JsonObject { ["kty"] = "RSA", ["kid"] = RsaKid, ["use"] = "sig", ["alg"] = "RS256", ["n"] = B64(rsa.Modulus!), ["e"] = B64(rsa.Exponent!) },
                new JsonObject { ["kty"] = "EC", ["kid"] = EcKid, ["use"] = "sig", ["crv"] = "P-256", ["x"] = B64(ec.Q.X!), ["y"] = B64(ec.Q.Y!) }),
        };
    }

    /// <summary>A Keycloak-shaped access token payload: realm roles under <c>realm_access.roles</c>, a clearance claim.</summary>
    public static JsonObject Payload(string subject, string? userName, string[] realmRoles, string? clearance, TimeSpan? expiresIn = null, TimeSpan? notBeforeIn = null)
    {
        var now = DateTimeOffset.UtcNow;
        var payload = new JsonObject
        {
            ["iss"] = Issuer,
            ["aud"] = new JsonArray(Audience, "account"),
            ["sub"] = subject,
            ["typ"] = "Bearer",
            ["azp"] = "enclave-gateway",
            ["iat"] = now.AddMinutes(-1).ToUnixTimeSeconds(),
            ["nbf"] = (now + (notBeforeIn ?? TimeSpan.FromMinutes(-1))).ToUnixTimeSeconds(),
            ["exp"] = (now + (expiresIn ?? TimeSpan.FromMinutes(10))).ToUnixTimeSeconds(),
            ["realm_access"] = new JsonObject { ["roles"] = new JsonArray([.. realmRoles.Append("offline_access").Select(r => (JsonNode)r)]) },
            ["resource_access"] = new JsonObject { ["account"] = new JsonObject { ["roles"] = new JsonArray("manage-account") } },
            ["scope"] = "openid profile email",
        };
        if (userName is not null)
        {
            payload["preferred_username"] = userName;
        }

        if (clearance is not null)
        {
            payload["clearance"] = clearance;
        }

        return payload;
    }

    /// <summary>RS256 with the RSA key.</summary>
    public string Rs256(JsonObject payload, string kid = RsaKid) =>
        Sign(new JsonObject { ["alg"] = "RS256", ["typ"] = "JWT", ["kid"] = kid }, payload, input => Rsa.SignData(input, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));

    /// <summary>PS256 with the RSA key.</summary>
    public string Ps256(JsonObject payload) =>
        Sign(new JsonObject { ["alg"] = "PS256", ["typ"] = "JWT", ["kid"] = RsaKid }, payload, input => Rsa.SignData(input, HashAlgorithmName.SHA256, RSASignaturePadding.Pss));

    /// <summary>ES256 with the EC key (JWS signatures are the IEEE P1363 r||s form).</summary>
    public string Es256(JsonObject payload) =>
        Sign(new JsonObject { ["alg"] = "ES256", ["typ"] = "JWT", ["kid"] = EcKid }, payload, input => Ec.SignData(input, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));

    /// <summary>A token with any header, signed by <paramref name="signer"/> over <c>base64url(header).base64url(payload)</c>.</summary>
    public static string Sign(JsonObject header, JsonObject payload, Func<byte[], byte[]> signer)
    {
        var input = B64(Encoding.UTF8.GetBytes(header.ToJsonString())) + "." + B64(Encoding.UTF8.GetBytes(payload.ToJsonString()));
        return input + "." + B64(signer(Encoding.ASCII.GetBytes(input)));
    }

    public static string B64(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public void Dispose()
    {
        Rsa.Dispose();
        Ec.Dispose();
    }
}
