using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.IdentityModel.Tokens;

namespace Enclave.Server.Auth;

/// <summary>
/// Reads the identity provider's public signing keys from a JWKS file (RFC 7517). Strict, because a mistake here
/// decides who gets in: every key must be an RSA (2048 bits or more) or EC (P-256, P-384, P-521) public key with a
/// unique <c>kid</c>; symmetric keys, private key members and keys for encryption are refused; the whole file is
/// checked and all problems reported at once.
/// </summary>
public static class JwksFile
{
    /// <summary>Largest JWKS file read.</summary>
    public const int MaxBytes = 1024 * 1024;

    /// <summary>Most keys in one file.</summary>
    public const int MaxKeys = 100;

    private static readonly string[] PrivateMembers = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

    /// <summary>Loads and checks the keys of <paramref name="path"/>.</summary>
    /// <exception cref="InvalidDataException">The file is not a valid JWKS of public signing keys; the message lists every problem.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static IReadOnlyList<SecurityKey> Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"the JWKS file '{path}' (Identity:Oidc:JwksFile) does not exist", path);
        }

        var length = new FileInfo(path).Length;
        if (length > MaxBytes)
        {
            throw new InvalidDataException($"the JWKS file '{path}' is {length} bytes; the limit is {MaxBytes}");
        }

        return Parse(File.ReadAllBytes(path), path);
    }

    /// <summary>Checks and converts the keys of a JWKS document; <paramref name="source"/> names it in messages.</summary>
    public static IReadOnlyList<SecurityKey> Parse(ReadOnlySpan<byte> json, string source)
    {
        if (json.Length > MaxBytes)
        {
            throw new InvalidDataException($"the JWKS '{source}' is {json.Length} bytes; the limit is {MaxBytes}");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { MaxDepth = 16, AllowDuplicateProperties = false });
            try
            {
                Enclave.Core.StrictJson.ValidateStrings(document.RootElement);
            }
            catch (JsonException)
            {
                document.Dispose();
                throw;
            }
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"the JWKS '{source}' is not valid JSON: {ex.Message}", ex);
        }
        catch (InvalidOperationException ex)
        {
            // The duplicate-member check throws this for a member name with a lone surrogate escape.
            throw new InvalidDataException($"the JWKS '{source}' has a member name that is not valid Unicode: {ex.Message}", ex);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty("keys", out var keys) || keys.ValueKind != JsonValueKind.Array)
            {
                throw new InvalidDataException($"the JWKS '{source}' must be an object with a 'keys' array (RFC 7517 section 5)");
            }

            var problems = new List<string>();
            var result = new List<SecurityKey>();
            var kids = new HashSet<string>(StringComparer.Ordinal);
            var index = 0;
            if (keys.GetArrayLength() > MaxKeys)
            {
                problems.Add($"{keys.GetArrayLength()} keys; at most {MaxKeys}");
            }
            else
            {
                foreach (var key in keys.EnumerateArray())
                {
                    if (ReadKey(key, index, kids, problems) is { } securityKey)
                    {
                        result.Add(securityKey);
                    }

                    index++;
                }
            }

            if (problems.Count == 0 && result.Count == 0)
            {
                problems.Add("it holds no keys");
            }

            return problems.Count == 0
                ? result
                : throw new InvalidDataException($"the JWKS '{source}' is not usable:\n- " + string.Join("\n- ", problems));
        }
    }

    private static SecurityKey? ReadKey(JsonElement key, int index, HashSet<string> kids, List<string> problems)
    {
        if (key.ValueKind != JsonValueKind.Object)
        {
            problems.Add($"key {index} is not an object");
            return null;
        }

        var kid = Text(key, "kid");
        var where = kid is null ? $"key {index}" : $"key {index} ('{Shorten(kid)}')";
        var before = problems.Count;
        if (string.IsNullOrEmpty(kid))
        {
            problems.Add($"{where} has no 'kid': tokens name their key by kid, and a token whose kid is not in the file is refused");
        }
        else if (!kids.Add(kid))
        {
            problems.Add($"{where}: the kid is used twice");
        }

        foreach (var member in PrivateMembers)
        {
            if (key.TryGetProperty(member, out _))
            {
                problems.Add($"{where} has the private or symmetric member '{member}': the file must hold public keys only (and that key is now exposed; rotate it)");
            }
        }

        if (Text(key, "use") is { } use && use != "sig")
        {
            problems.Add($"{where} is for '{Shorten(use)}', not signatures ('use' must be 'sig' or absent)");
        }

        if (Text(key, "alg") is { } alg && !OidcOptions.SupportedAlgorithms.Contains(alg, StringComparer.Ordinal))
        {
            problems.Add($"{where} declares algorithm '{Shorten(alg)}'; only {string.Join(", ", OidcOptions.SupportedAlgorithms)} are accepted");
        }

        var kty = Text(key, "kty");
        SecurityKey? result = null;
        try
        {
            switch (kty)
            {
                case "RSA":
                    var parameters = new RSAParameters { Modulus = Bytes(key, "n", where, problems), Exponent = Bytes(key, "e", where, problems) };
                    if (parameters.Modulus is { } modulus && parameters.Exponent is not null)
                    {
                        var bits = (modulus.Length - (modulus[0] == 0 ? 1 : 0)) * 8;
                        if (bits < 2048)
                        {
                            problems.Add($"{where} is a {bits}-bit RSA key; at least 2048 bits are required");
                        }
                        else
                        {
                            result = new RsaSecurityKey(parameters) { KeyId = kid };
                        }
                    }

                    break;
                case "EC":
                    var crv = Text(key, "crv");
                    ECCurve? curve = crv switch
                    {
                        "P-256" => ECCurve.NamedCurves.nistP256,
                        "P-384" => ECCurve.NamedCurves.nistP384,
                        "P-521" => ECCurve.NamedCurves.nistP521,
                        _ => null,
                    };
                    if (curve is null)
                    {
                        problems.Add($"{where} is on curve '{Shorten(crv)}'; only P-256, P-384 and P-521 are accepted");
                        break;
                    }

                    var x = Bytes(key, "x", where, problems);
                    var y = Bytes(key, "y", where, problems);
                    if (x is not null && y is not null)
                    {
                        // Importing checks that the point lies on the curve.
                        var ecdsa = ECDsa.Create(new ECParameters { Curve = curve.Value, Q = new ECPoint { X = x, Y = y } });
                        result = new ECDsaSecurityKey(ecdsa) { KeyId = kid };
                    }

                    break;
                case "oct":
                    problems.Add($"{where} is a symmetric ('oct') key: HMAC-signed tokens are never accepted");
                    break;
                default:
                    problems.Add($"{where} has key type '{Shorten(kty)}'; only RSA and EC public keys are accepted");
                    break;
            }
        }
        catch (Exception ex) when (ex is CryptographicException or InvalidDataException)
        {
            problems.Add($"{where} is not a valid {kty} public key: {ex.Message}");
        }

        return problems.Count == before ? result : null;
    }

    private static string? Text(JsonElement key, string name) =>
        key.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static byte[]? Bytes(JsonElement key, string name, string where, List<string> problems)
    {
        var text = Text(key, name);
        if (string.IsNullOrEmpty(text))
        {
            problems.Add($"{where} lacks '{name}'");
            return null;
        }

        try
        {
            return Base64UrlEncoder.DecodeBytes(text);
        }
        catch (FormatException)
        {
            problems.Add($"{where}: '{name}' is not base64url");
            return null;
        }
    }

    private static string Shorten(string? text) => text is null ? "(none)" : text.Length <= 40 ? text : text[..40] + "…";
}
