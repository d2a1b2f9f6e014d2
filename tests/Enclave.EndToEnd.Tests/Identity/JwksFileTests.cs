using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Enclave.Server.Auth;
using Microsoft.IdentityModel.Tokens;

namespace Enclave.EndToEnd.Tests.Identity;

/// <summary>The JWKS file reader: only public RSA/EC signing keys with unique kids; hostile files are refused clearly.</summary>
public sealed class JwksFileTests : IDisposable
{
    private readonly TestTokens _tokens = new();

    private JsonObject Jwks() => _tokens.Jwks();

    [Fact]
    public void ValidFile_GivesOneKeyPerEntry_WithItsKid()
    {
        var keys = JwksFile.Parse(Encoding.UTF8.GetBytes(Jwks().ToJsonString()), "test");

        Assert.Collection(keys,
            k => Assert.Equal(TestTokens.RsaKid, Assert.IsType<RsaSecurityKey>(k).KeyId),
            k => Assert.Equal(TestTokens.EcKid, Assert.IsType<ECDsaSecurityKey>(k).KeyId));
    }

    // The cases are named, and the theory takes only the name: with the JSON itself as an argument the test names were
    // cut, and Stryker could not match them to its test run (docs/testing.md, the jwt core).
    private static readonly Lazy<IReadOnlyDictionary<string, (string Json, string Expected)>> HostileCases = new(BuildHostileCases);

    public static TheoryData<string> Hostile() => [.. HostileCases.Value.Keys];

    private static Dictionary<string, (string Json, string Expected)> BuildHostileCases()
    {
        var data = new Dictionary<string, (string Json, string Expected)>(StringComparer.Ordinal);
        void Add(string name, Action<JsonObject> change, string expected)
        {
            using var tokens = new TestTokens();
            var jwks = tokens.Jwks();
            change(jwks);
            data.Add(name, (jwks.ToJsonString(), expected));
        }

        JsonObject Rsa(JsonObject j) => j["keys"]![0]!.AsObject();
        JsonObject Ec(JsonObject j) => j["keys"]![1]!.AsObject();
        Add("symmetric", j => j["keys"]!.AsArray().Add(new JsonObject { ["kty"] = "oct", ["kid"] = "hmac", ["k"] = "c2VjcmV0" }), "symmetric ('oct') key");
        Add("private rsa", j => Rsa(j)["d"] = "AQAB", "private or symmetric member 'd'");
        Add("private ec", j => Ec(j)["d"] = "AQAB", "private or symmetric member 'd'");
        Add("no kid", j => Rsa(j).Remove("kid"), "has no 'kid'");
        Add("empty kid", j => Rsa(j)["kid"] = "", "has no 'kid'");
        Add("duplicate kid", j => Ec(j)["kid"] = TestTokens.RsaKid, "the kid is used twice");
        Add("encryption key", j => Rsa(j)["use"] = "enc", "is for 'enc'");
        Add("hmac alg", j => Rsa(j)["alg"] = "HS256", "declares algorithm 'HS256'");
        Add("none alg", j => Rsa(j)["alg"] = "none", "declares algorithm 'none'");
        Add("small rsa", j =>
        {
            using var small = RSA.Create(1024);
            Rsa(j)["n"] = TestTokens.B64(small.ExportParameters(false).Modulus!);
        }, "1024-bit RSA key");
        Add("missing modulus", j => Rsa(j).Remove("n"), "lacks 'n'");
        Add("not base64url", j => Rsa(j)["e"] = "!!!", "'e' is not base64url");
        Add("point off the curve", j => Ec(j)["y"] = Ec(j)["x"]!.GetValue<string>(), "not a valid EC public key");
        Add("truncated coordinate", j => Ec(j)["x"] = Ec(j)["x"]!.GetValue<string>()[..20], "not a valid EC public key");
        Add("unknown curve", j => Ec(j)["crv"] = "secp256k1", "curve 'secp256k1'");
        Add("unknown kty", j => Rsa(j)["kty"] = "OKP", "key type 'OKP'");
        Add("key not an object", j => j["keys"]!.AsArray().Add("RSA"), "is not an object");
        Add("empty", j => j["keys"] = new JsonArray(), "holds no keys");
        Add("keys not an array", j => j["keys"] = new JsonObject(), "'keys' array");
        Add("too many", j =>
        {
            var keys = new JsonArray();
            for (var i = 0; i < JwksFile.MaxKeys + 1; i++)
            {
                var copy = Rsa(j).DeepClone().AsObject();
                copy["kid"] = "k" + i;
                keys.Add(copy);
            }

            j["keys"] = keys;
        }, "at most 100");
        data.Add("duplicate keys member", ("""{"keys":[],"keys":[]}""", "not valid JSON"));
        data.Add("duplicate kty", ("""{"keys":[{"kty":"RSA","kty":"oct"}]}""", "not valid JSON"));
        data.Add("top level array", ("[]", "'keys' array"));
        data.Add("empty file", ("", "not valid JSON"));
        data.Add("nested too deep", (string.Concat(Enumerable.Repeat("[", 100)), "not valid JSON"));
        return data;
    }

    [Theory]
    [MemberData(nameof(Hostile))]
    public void HostileFile_IsRefused_NamingTheProblem(string name)
    {
        var (json, expected) = HostileCases.Value[name];
        var refused = Assert.Throws<InvalidDataException>(() => JwksFile.Parse(Encoding.UTF8.GetBytes(json), "sso.jwks"));

        Assert.Contains(expected, refused.Message, StringComparison.Ordinal);
        Assert.Contains("sso.jwks", refused.Message, StringComparison.Ordinal);
    }

    // The cause the canonical-json fuzz harness (fuzz/) found: the duplicate-member check threw InvalidOperationException.
    [Fact]
    public void MemberNameWithALoneSurrogate_IsRefusedAsInvalidData()
    {
        var refused = Assert.Throws<InvalidDataException>(() => JwksFile.Parse("""{"keys":[],"\ud800":1}"""u8, "surrogate"));
        Assert.StartsWith("the JWKS 'surrogate' has a member name that is not valid Unicode: ", refused.Message, StringComparison.Ordinal);
    }

    // Found by the jwks fuzz harness (fuzz/): invalid UTF-8 or a lone surrogate in a string threw InvalidOperationException.
    [Fact]
    public void StringThatIsNotValidUnicode_IsRefusedAsInvalidData()
    {
        Assert.Throws<InvalidDataException>(() => JwksFile.Parse("""{"keys":[{"kty":"EC","crv":"P-256","kid":"\ud800"}]}"""u8, "surrogate"));
        Assert.Throws<InvalidDataException>(() => JwksFile.Parse([.. """{"keys":[{"kty":"EC","kid":"""u8, 0xC3, .. "\"}]}"u8], "utf8"));
    }

    [Fact]
    public void EveryTruncation_IsRefusedCleanly()
    {
        var bytes = Encoding.UTF8.GetBytes(Jwks().ToJsonString());
        for (var length = 0; length < bytes.Length; length++)
        {
            Assert.Throws<InvalidDataException>(() => JwksFile.Parse(bytes.AsSpan(0, length), "truncated"));
        }
    }

    [Fact]
    public void EveryFlippedByte_IsRefusedOrGivesUsableKeys_NeverAnotherException()
    {
        var bytes = Encoding.UTF8.GetBytes(Jwks().ToJsonString());
        for (var i = 0; i < bytes.Length; i++)
        {
            var copy = (byte[])bytes.Clone();
            copy[i] ^= 0x01;
            try
            {
                Assert.NotEmpty(JwksFile.Parse(copy, "flipped"));
            }
            catch (InvalidDataException)
            {
                // Refused with a message: fine.
            }
        }
    }

    [Fact]
    public void OversizedFile_IsRefusedBeforeParsing()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, new byte[JwksFile.MaxBytes + 1]);
            Assert.Contains("the limit is", Assert.Throws<InvalidDataException>(() => JwksFile.Load(path)).Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }

        Assert.Throws<FileNotFoundException>(() => JwksFile.Load(path));
    }

    [Fact]
    public void ReportsEveryProblemAtOnce()
    {
        var jwks = Jwks();
        jwks["keys"]![0]!.AsObject().Remove("kid");
        jwks["keys"]![1]!["d"] = "AQAB";

        var message = Assert.Throws<InvalidDataException>(() => JwksFile.Parse(Encoding.UTF8.GetBytes(jwks.ToJsonString()), "x")).Message;

        Assert.Contains("has no 'kid'", message, StringComparison.Ordinal);
        Assert.Contains("member 'd'", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "HS256" }, 60, "'HS256' is not allowed")]
    [InlineData(new[] { "none" }, 60, "'none' is not allowed")]
    [InlineData(new[] { "RS256" }, 301, "ClockSkewSeconds")]
    [InlineData(new[] { "RS256" }, -1, "ClockSkewSeconds")]
    public void Options_RefuseSymmetricOrNoneAlgorithmsAndWildSkew(string[] algorithms, int skew, string expected)
    {
        var options = new OidcOptions { Issuer = "https://idp", Audience = "enclave", JwksFile = "jwks.json", Algorithms = algorithms, ClockSkewSeconds = skew };

        Assert.Contains(options.Validate(), p => p.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Options_PartialConfiguration_ListsEveryMissingSetting()
    {
        var problems = new OidcOptions { Issuer = "https://idp" }.Validate();

        Assert.Contains(problems, p => p.Contains("Audience", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("JwksFile", StringComparison.Ordinal));
        Assert.Empty(new OidcOptions().Validate());
        Assert.False(new OidcOptions().Enabled);
    }

    public void Dispose() => _tokens.Dispose();
}
