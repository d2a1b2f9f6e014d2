using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Server.Auth;
using Microsoft.IdentityModel.Tokens;

namespace Enclave.EndToEnd.Tests.Identity;

/// <summary>
/// The JWKS reader's, the SSO options' and the token helpers' edges that mutation testing (issue #18) checks: every
/// refusal by its exact text, each bound at its value and one past it (file size, key count, header length, claim
/// values, clock skew), every private member and curve by name, and the validation parameters the API and the
/// console share. Unit tests: no server, so a mutation run can use them as its filter.
/// </summary>
public sealed class JwksFileEdgeTests : IDisposable
{
    private readonly TestTokens _tokens = new();

    private static byte[] Utf8(JsonNode node) => Encoding.UTF8.GetBytes(node.ToJsonString());

    private static string Refusal(JsonNode jwks) =>
        Assert.Throws<InvalidDataException>(() => JwksFile.Parse(Utf8(jwks), "sso.jwks")).Message;

    private JsonObject RsaKey(string kid) =>
        new() { ["kty"] = "RSA", ["kid"] = kid, ["n"] = TestTokens.B64(_tokens.Rsa.ExportParameters(false).Modulus!), ["e"] = "AQAB" };

    [Fact]
    public void Load_NamesABadPath_AndAMissingFile()
    {
        Assert.Throws<ArgumentNullException>(() => JwksFile.Load(null!));
        Assert.Throws<ArgumentException>(() => JwksFile.Load(" "));

        var missing = Path.Combine(Path.GetTempPath(), $"missing-{Guid.NewGuid():N}.jwks");
        var ex = Assert.Throws<FileNotFoundException>(() => JwksFile.Load(missing));
        Assert.Equal($"the JWKS file '{missing}' (Identity:Oidc:JwksFile) does not exist", ex.Message);
        Assert.Equal(missing, ex.FileName);
    }

    [Fact]
    public void Files_AndDocuments_AtTheSizeBound_AreRead_AndOnePastItAreRefused()
    {
        var json = Utf8(_tokens.Jwks());
        byte[] atBound = [.. json, .. Enumerable.Repeat((byte)' ', JwksFile.MaxBytes - json.Length)];
        Assert.Equal(2, JwksFile.Parse(atBound, "sso.jwks").Count);
        Assert.Equal(
            "the JWKS 'sso.jwks' is 1048577 bytes; the limit is 1048576",
            Assert.Throws<InvalidDataException>(() => JwksFile.Parse([.. atBound, (byte)' '], "sso.jwks")).Message);

        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, atBound);
            Assert.Equal(2, JwksFile.Load(path).Count);
            File.WriteAllBytes(path, [.. atBound, (byte)' ']);
            Assert.Equal(
                $"the JWKS file '{path}' is 1048577 bytes; the limit is 1048576",
                Assert.Throws<InvalidDataException>(() => JwksFile.Load(path)).Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Documents_ThatAreNotAKeySet_SaySo()
    {
        Assert.StartsWith(
            "the JWKS 'sso.jwks' is not valid JSON: ",
            Assert.Throws<InvalidDataException>(() => JwksFile.Parse("{"u8, "sso.jwks")).Message,
            StringComparison.Ordinal);
        Assert.StartsWith(
            "the JWKS 'sso.jwks' is not valid JSON: ",
            Assert.Throws<InvalidDataException>(() => JwksFile.Parse("""{"keys":[{"kty":"EC","kid":"\ud800"}]}"""u8, "sso.jwks")).Message,
            StringComparison.Ordinal);

        foreach (var json in new[] { "[]", "{}", """{"keys":{}}""", """{"keys":5}""", """{"key":[]}""" })
        {
            var ex = Assert.Throws<InvalidDataException>(() => JwksFile.Parse(Encoding.UTF8.GetBytes(json), "sso.jwks"));
            Assert.Equal("the JWKS 'sso.jwks' must be an object with a 'keys' array (RFC 7517 section 5)", ex.Message);
        }

        Assert.Equal("the JWKS 'sso.jwks' is not usable:\n- it holds no keys", Refusal(new JsonObject { ["keys"] = new JsonArray() }));
    }

    [Fact]
    public void KeySets_OfExactly100Keys_AreRead_AndOf101AreRefused()
    {
        var keys = new JsonArray();
        for (var i = 0; i < JwksFile.MaxKeys; i++)
        {
            keys.Add(RsaKey($"k{i}"));
        }

        var jwks = new JsonObject { ["keys"] = keys };
        var read = JwksFile.Parse(Utf8(jwks), "sso.jwks");
        Assert.Equal(Enumerable.Range(0, JwksFile.MaxKeys).Select(i => $"k{i}"), read.Select(k => k.KeyId));

        keys.Add(RsaKey("k100"));
        Assert.Equal("the JWKS 'sso.jwks' is not usable:\n- 101 keys; at most 100", Refusal(jwks));
    }

    [Fact]
    public void EveryProblem_IsReportedOnce_InOrder_ByKeyIndexAndKid()
    {
        using var small = RSA.Create(2040);
        string longKid = new('k', 41);
        string kid40 = new('d', 40);
        var everyPrivateMember = RsaKey(longKid);
        everyPrivateMember["use"] = "enc";
        everyPrivateMember["alg"] = "HS256";
        foreach (var member in new[] { "d", "p", "q", "dp", "dq", "qi", "oth", "k" })
        {
            everyPrivateMember[member] = "AQAB";
        }

        var ec = _tokens.Ec.ExportParameters(false);
        var jwks = new JsonObject
        {
            ["keys"] = new JsonArray(
                "RSA",
                everyPrivateMember,
                new JsonObject { ["kty"] = "EC", ["kid"] = 5, ["crv"] = "P-256", ["x"] = TestTokens.B64(ec.Q.X!) },
                new JsonObject { ["kty"] = "oct", ["kid"] = kid40, ["k"] = "c2VjcmV0" },
                new JsonObject { ["kty"] = "OKP", ["kid"] = kid40 },
                new JsonObject { ["kid"] = "no-kty" },
                new JsonObject { ["kty"] = "EC", ["kid"] = "no-crv" },
                new JsonObject { ["kty"] = "RSA", ["kid"] = "no-e", ["n"] = TestTokens.B64(small.ExportParameters(false).Modulus!) },
                new JsonObject { ["kty"] = "RSA", ["kid"] = "bad-n", ["n"] = "!!!", ["e"] = "AQAB" },
                new JsonObject { ["kty"] = "RSA", ["kid"] = "small", ["n"] = TestTokens.B64(small.ExportParameters(false).Modulus!), ["e"] = "AQAB" }),
        };

        string shown = $"key 1 ('{new string('k', 40)}…')";
        string[] problems =
        [
            "key 0 is not an object",
            .. new[] { "d", "p", "q", "dp", "dq", "qi", "oth", "k" }.Select(m =>
                $"{shown} has the private or symmetric member '{m}': the file must hold public keys only (and that key is now exposed; rotate it)"),
            $"{shown} is for 'enc', not signatures ('use' must be 'sig' or absent)",
            $"{shown} declares algorithm 'HS256'; only RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512 are accepted",
            "key 2 has no 'kid': tokens name their key by kid, and a token whose kid is not in the file is refused",
            "key 2 lacks 'y'",
            $"key 3 ('{kid40}') has the private or symmetric member 'k': the file must hold public keys only (and that key is now exposed; rotate it)",
            $"key 3 ('{kid40}') is a symmetric ('oct') key: HMAC-signed tokens are never accepted",
            $"key 4 ('{kid40}'): the kid is used twice",
            $"key 4 ('{kid40}') has key type 'OKP'; only RSA and EC public keys are accepted",
            "key 5 ('no-kty') has key type '(none)'; only RSA and EC public keys are accepted",
            "key 6 ('no-crv') is on curve '(none)'; only P-256, P-384 and P-521 are accepted",
            "key 7 ('no-e') lacks 'e'",
            "key 8 ('bad-n'): 'n' is not base64url",
            "key 9 ('small') is a 2040-bit RSA key; at least 2048 bits are required",
        ];
        Assert.Equal("the JWKS 'sso.jwks' is not usable:\n- " + string.Join("\n- ", problems), Refusal(jwks));
    }

    [Fact]
    public void APointOffTheCurve_IsNamedWithTheKeyAndType()
    {
        var jwks = _tokens.Jwks();
        var ec = jwks["keys"]![1]!.AsObject();
        ec["y"] = ec["x"]!.GetValue<string>();
        Assert.StartsWith($"the JWKS 'sso.jwks' is not usable:\n- key 1 ('{TestTokens.EcKid}') is not a valid EC public key: ", Refusal(jwks), StringComparison.Ordinal);
    }

    [Fact]
    public void EveryCurve_AModulusWithALeadingZero_AndKeysWithoutUseOrAlg_AreAccepted()
    {
        var rsa = _tokens.Rsa.ExportParameters(false);
        var keys = new JsonArray(
            new JsonObject { ["kty"] = "RSA", ["kid"] = "zero", ["n"] = TestTokens.B64([0, .. rsa.Modulus!]), ["e"] = TestTokens.B64(rsa.Exponent!) });
        foreach (var (name, curve) in new[] { ("P-256", ECCurve.NamedCurves.nistP256), ("P-384", ECCurve.NamedCurves.nistP384), ("P-521", ECCurve.NamedCurves.nistP521) })
        {
            using var key = ECDsa.Create(curve);
            var q = key.ExportParameters(false).Q;
            keys.Add(new JsonObject { ["kty"] = "EC", ["kid"] = name, ["crv"] = name, ["x"] = TestTokens.B64(q.X!), ["y"] = TestTokens.B64(q.Y!) });
        }

        var read = JwksFile.Parse(Utf8(new JsonObject { ["keys"] = keys }), "sso.jwks");

        Assert.Equal(["zero", "P-256", "P-384", "P-521"], read.Select(k => k.KeyId));
        Assert.IsType<RsaSecurityKey>(read[0]);
        Assert.Equal([256, 384, 521], read.Skip(1).Select(k => Assert.IsType<ECDsaSecurityKey>(k).ECDsa.KeySize));
    }

    [Fact]
    public void AShortModulus_PaddedWithALeadingZero_IsCountedWithoutIt_AndRefused()
    {
        using var small = RSA.Create(2040);
        var p = small.ExportParameters(false);
        var jwks = new JsonObject
        {
            ["keys"] = new JsonArray(new JsonObject { ["kty"] = "RSA", ["kid"] = "padded", ["n"] = TestTokens.B64([0, .. p.Modulus!]), ["e"] = TestTokens.B64(p.Exponent!) }),
        };

        Assert.Equal("the JWKS 'sso.jwks' is not usable:\n- key 0 ('padded') is a 2040-bit RSA key; at least 2048 bits are required", Refusal(jwks));
    }

    [Fact]
    public void Options_MatchUsersByPreferredUsername_ByDefault() =>
        Assert.Equal("preferred_username", new OidcOptions().UserClaim);

    [Fact]
    public void Options_AreOnWhenAnyOfTheThreeSettingsIsSet()
    {
        Assert.False(new OidcOptions { Issuer = " ", Audience = "", JwksFile = "\t" }.Enabled);
        Assert.True(new OidcOptions { Issuer = "https://idp" }.Enabled);
        Assert.True(new OidcOptions { Audience = "enclave" }.Enabled);
        Assert.True(new OidcOptions { JwksFile = "sso.jwks" }.Enabled);
    }

    [Fact]
    public void Options_ListEveryProblem_ExactlyAndInOrder()
    {
        var problems = new OidcOptions
        {
            JwksFile = "sso.jwks",
            Algorithms = ["HS256", "ES384", "none"],
            ClockSkewSeconds = 301,
            RoleClaim = " ",
            ClearanceClaim = string.Empty,
        }.Validate();

        const string allowed = "use asymmetric signatures only (RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512)";
        Assert.Equal(
            [
                "Identity:Oidc:Issuer is required (the exact 'iss' of the identity provider's tokens)",
                "Identity:Oidc:Audience is required (the 'aud' the tokens are issued for)",
                $"Identity:Oidc:Algorithms: 'HS256' is not allowed; {allowed}",
                $"Identity:Oidc:Algorithms: 'none' is not allowed; {allowed}",
                "Identity:Oidc:ClockSkewSeconds must be between 0 and 300 (was 301)",
                "Identity:Oidc:RoleClaim must name a claim (e.g. 'roles' or 'realm_access.roles')",
                "Identity:Oidc:ClearanceClaim must name a claim (e.g. 'clearance')",
            ],
            problems);

        Assert.Equal(
            ["Identity:Oidc:JwksFile is required (the provider's public keys as a JWKS file; the enclave fetches nothing)"],
            new OidcOptions { Issuer = "https://idp", Audience = "enclave" }.Validate());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(300)]
    public void Options_AcceptAClockSkewAtEitherBound(int skew)
    {
        Assert.Empty(new OidcOptions { Issuer = "https://idp", Audience = "enclave", JwksFile = "sso.jwks", ClockSkewSeconds = skew }.Validate());
    }

    [Fact]
    public void Options_UseTheDefaultAlgorithms_OnlyWhenNoneAreConfigured()
    {
        Assert.Equal(["RS256", "PS256", "ES256"], new OidcOptions().EffectiveAlgorithms);
        Assert.Equal(["RS256", "PS256", "ES256"], new OidcOptions { Algorithms = [] }.EffectiveAlgorithms);
        Assert.Equal(["ES384"], new OidcOptions { Algorithms = ["ES384"] }.EffectiveAlgorithms);
    }

    [Fact]
    public void ValidationParameters_RequireEverything_AndTryOnlyTheNamedKey()
    {
        var keys = JwksFile.Parse(Utf8(_tokens.Jwks()), "sso.jwks");
        var p = OidcTokens.Parameters(new OidcOptions { Issuer = "https://idp", Audience = "enclave", JwksFile = "sso.jwks", ClockSkewSeconds = 42 }, keys);

        Assert.Equal(("https://idp", "enclave"), (p.ValidIssuer, p.ValidAudience));
        Assert.True(p.ValidateIssuer && p.ValidateAudience && p.ValidateLifetime && p.RequireAudience);
        Assert.True(p.RequireExpirationTime && p.RequireSignedTokens && p.ValidateIssuerSigningKey);
        Assert.False(p.TryAllIssuerSigningKeys);
        Assert.Equal(keys, p.IssuerSigningKeys);
        Assert.Equal(["RS256", "PS256", "ES256"], p.ValidAlgorithms);
        Assert.Equal(TimeSpan.FromSeconds(42), p.ClockSkew);
        Assert.Equal((ClaimTypes.Name, ClaimTypes.Role), (p.NameClaimType, p.RoleClaimType));
    }

    [Theory]
    [InlineData("""{"alg":"RS256","typ":"JWT"}""", "RS256")]
    [InlineData("""{"typ":"JWT"}""", "")]
    [InlineData("""{"alg":256}""", "")]
    [InlineData("""{"alg":null}""", "")]
    [InlineData("""["alg"]""", null)]
    [InlineData("""{"alg":""", null)]
    public void HeaderAlgorithm_ReadsTheAlgOfAnObjectHeader(string header, string? expected)
    {
        Assert.Equal(expected, OidcTokens.HeaderAlgorithm(Base64UrlEncoder.Encode(header) + ".e30.sig"));
    }

    [Fact]
    public void HeaderAlgorithm_IsNullWithoutAReadableHeaderOfAtMost4096Characters()
    {
        Assert.Null(OidcTokens.HeaderAlgorithm("no-dot-at-all"));
        Assert.Null(OidcTokens.HeaderAlgorithm(".e30.sig"));
        Assert.Null(OidcTokens.HeaderAlgorithm("!!!!.e30.sig"));

        // A header of 3,072 bytes is exactly 4,096 base64url characters.
        string prefix = "{\"alg\":\"ES256\",\"pad\":\"";
        string json = prefix + new string('a', 3072 - prefix.Length - 2) + "\"}";
        string header = Base64UrlEncoder.Encode(json);
        Assert.Equal(4096, header.Length);
        Assert.Equal("ES256", OidcTokens.HeaderAlgorithm(header + ".e30.sig"));
        Assert.Null(OidcTokens.HeaderAlgorithm(header + "A.e30.sig"));
    }

    [Fact]
    public void ClaimValues_ComeFromTheExactName_ThenADottedPath_AndAreBounded()
    {
        var many = new JsonArray();
        for (var i = 0; i < 300; i++)
        {
            many.Add($"r{i}");
        }

        var json = new JsonObject
        {
            ["roles"] = new JsonArray("reader", 5, "auditor"),
            ["realm_access"] = new JsonObject { ["roles"] = new JsonArray("admin"), ["flag"] = true },
            ["a.b"] = "top-level",
            ["a"] = new JsonObject { ["b"] = "nested" },
            ["clearance"] = "SECRET",
            ["many"] = many,
        };
        using var payload = JsonDocument.Parse(json.ToJsonString());
        var root = payload.RootElement;

        Assert.Equal(["reader", "auditor"], OidcTokens.Values(root, "roles"));
        Assert.Equal(["admin"], OidcTokens.Values(root, "realm_access.roles"));
        Assert.Equal(["top-level"], OidcTokens.Values(root, "a.b"));
        Assert.Equal(["SECRET"], OidcTokens.Values(root, "clearance"));
        Assert.Empty(OidcTokens.Values(root, "realm_access.flag"));
        Assert.Empty(OidcTokens.Values(root, "clearance.level"));
        Assert.Empty(OidcTokens.Values(root, "missing"));
        Assert.Equal(Enumerable.Range(0, 256).Select(i => $"r{i}"), OidcTokens.Values(root, "many"));
    }

    public void Dispose() => _tokens.Dispose();
}
