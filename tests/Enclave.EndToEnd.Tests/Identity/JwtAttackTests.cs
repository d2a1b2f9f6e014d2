using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Enclave.Server.Auth;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenAI;
using OpenAI.Chat;

namespace Enclave.EndToEnd.Tests.Identity;

/// <summary>
/// OIDC bearer tokens against the real server on loopback: every forged, misdirected, stale or revoked token gets a
/// 401 and exactly one <c>auth.failed</c> ledger entry naming the reason (never the token); a Keycloak-shaped token
/// works with the official OpenAI client.
/// </summary>
public sealed class JwtAttackTests(IdentityFixture enclave) : IClassFixture<IdentityFixture>
{
    private TestTokens Tokens => enclave.Tokens;

    private static JsonObject Valid(string subject = "0b7c0d4e-attacker") => TestTokens.Payload(subject, "mallory", ["user"], "SECRET");

    public static TheoryData<string> Attacks => new()
    {
        "alg_none", "alg_none_uppercase", "hs256_with_public_key_pem", "hs256_with_public_key_der", "wrong_issuer", "wrong_audience",
        "expired", "not_yet_valid", "unknown_kid", "no_kid", "tampered_payload", "no_expiry", "stripped_signature", "signed_by_another_key",
        "no_alg", "rs384_not_configured", "garbage_header",
    };

    [Theory]
    [MemberData(nameof(Attacks))]
    public async Task ForgedOrInvalidToken_Gets401_AndOneAuthFailedEntry_WithoutTheToken(string attack)
    {
        var (token, reason) = Forge(attack);

        var (status, body, entries) = await CallAsync(token, "/v1/models");

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("invalid_api_key", JsonNode.Parse(body)!["error"]!["code"]!.GetValue<string>());
        var failed = Assert.Single(entries, e => e.Type == "auth.failed");
        Assert.Equal("anonymous", failed.Actor);
        Assert.Equal("/v1/models", failed.Subject);
        var details = JsonNode.Parse(failed.Details!.Value.GetRawText())!;
        Assert.Equal("Oidc", details["scheme"]!.GetValue<string>());
        Assert.True(reason == details["reason"]!.GetValue<string>(), $"expected reason {reason}, recorded {details.ToJsonString()}");
        var signature = token.Split('.')[2];
        var recorded = failed.Details!.Value.GetRawText();
        Assert.DoesNotContain(token, recorded, StringComparison.Ordinal);
        if (signature.Length > 0)
        {
            Assert.DoesNotContain(signature, recorded, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task RefusedToken_RecordsItsKidAlgAndIssuer_ForTheOperator()
    {
        var payload = Valid();
        payload["iss"] = "https://evil.example/realms/x";
        var (_, _, entries) = await CallAsync(Tokens.Rs256(payload), "/admin/v1/whoami");

        var details = JsonNode.Parse(Assert.Single(entries, e => e.Type == "auth.failed").Details!.Value.GetRawText())!;
        Assert.Equal(TestTokens.RsaKid, details["kid"]!.GetValue<string>());
        Assert.Equal("RS256", details["alg"]!.GetValue<string>());
        Assert.Equal("https://evil.example/realms/x", details["iss"]!.GetValue<string>());
        Assert.Equal("127.0.0.1", details["remoteAddress"]!.GetValue<string>());
    }

    [Fact]
    public async Task RefusedToken_OnTheAdminApi_GetsProblemDetails()
    {
        var payload = Valid();
        payload["aud"] = "someone-else";
        var (status, body, _) = await CallAsync(Tokens.Rs256(payload), "/admin/v1/whoami");

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        var problem = JsonNode.Parse(body)!;
        Assert.Equal(401, problem["status"]!.GetValue<int>());
        Assert.Contains("aud", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DisabledUser_TokenRefused_AndRecorded()
    {
        await enclave.AddUserWithKeyAsync("dora", ["user"]);
        var token = Tokens.Rs256(TestTokens.Payload("sub-dora", "dora", ["user"], null));
        using (var before = enclave.Client(token))
        {
            Assert.Equal(HttpStatusCode.OK, (await before.GetAsync("/v1/models")).StatusCode);
        }

        using (var admin = enclave.Client(enclave.AdminKey))
        {
            Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync("/admin/v1/users/dora/disable", null)).StatusCode);
        }

        var (status, _, entries) = await CallAsync(token, "/v1/models");

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        var details = JsonNode.Parse(Assert.Single(entries, e => e.Type == "auth.failed").Details!.Value.GetRawText())!;
        Assert.Equal("principal_disabled", details["reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task KeycloakToken_WithRealmRolesAndClearance_WorksWithTheOpenAiClient_AndIsTheLedgerActor()
    {
        var token = Tokens.Rs256(TestTokens.Payload("f3a1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d", "erin", ["user", "analyst", "uma_authorization"], "SECRET//REL TO USA, GBR"));
        var client = new OpenAIClient(new ApiKeyCredential(token), new OpenAIClientOptions { Endpoint = new Uri(enclave.BaseUrl + "/v1"), RetryPolicy = new ClientRetryPolicy(0) });

        var answer = await client.GetChatClient("echo-chat").CompleteChatAsync([new UserChatMessage("single sign-on")]);

        Assert.Equal("echo: single sign-on", answer.Value.Content[0].Text);
        var admitted = enclave.Entries().Last(e => e.Type == "request.admitted");
        Assert.Equal("oidc:f3a1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d", admitted.Actor);

        using var http = enclave.Client(token);
        var me = JsonNode.Parse(await http.GetStringAsync("/admin/v1/whoami"))!;
        Assert.Equal("oidc:f3a1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d", me["id"]!.GetValue<string>());
        Assert.Equal("erin", me["name"]!.GetValue<string>());
        Assert.Equal(["analyst", "user"], me["roles"]!.AsArray().Select(r => r!.GetValue<string>()).Order().ToArray());
        Assert.Equal("SECRET//REL TO USA, GBR", me["clearance"]!.GetValue<string>());
        Assert.Equal("Oidc", me["authenticatedBy"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("PS256")]
    [InlineData("ES256")]
    public async Task OtherDefaultAlgorithms_AreAccepted(string algorithm)
    {
        var payload = TestTokens.Payload("sub-alg", "frank", ["auditor"], null);
        var token = algorithm == "PS256" ? Tokens.Ps256(payload) : Tokens.Es256(payload);
        using var http = enclave.Client(token);

        var response = await http.GetAsync("/admin/v1/ledger/checkpoint");

        Assert.NotEqual(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.NotEqual(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task TokenOfAUserInTheDirectory_GetsThatUsersRolesAndClearance_NotTheTokens()
    {
        using (var admin = enclave.Client(enclave.AdminKey))
        {
            var added = await admin.PostAsync("/admin/v1/users", new StringContent("""{"name":"gina","roles":["auditor"],"clearance":"TOP SECRET//SI"}""", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        }

        // The token claims admin and a low clearance; the directory says auditor, TOP SECRET//SI.
        using var http = enclave.Client(Tokens.Rs256(TestTokens.Payload("sub-gina", "gina", ["admin"], "UNCLASSIFIED")));
        var me = JsonNode.Parse(await http.GetStringAsync("/admin/v1/whoami"))!;

        Assert.Equal("user:gina", me["id"]!.GetValue<string>());
        Assert.Equal(["auditor"], me["roles"]!.AsArray().Select(r => r!.GetValue<string>()).ToArray());
        Assert.Equal("TOP SECRET//SI", me["clearance"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Forbidden, (await http.GetAsync("/admin/v1/users")).StatusCode);
    }

    [Fact]
    public async Task TokenWithAnInvalidClearance_IsRefused()
    {
        var (status, _, entries) = await CallAsync(Tokens.Rs256(TestTokens.Payload("sub-h", "hank", ["user"], "SECRET//ORCON")), "/v1/models");

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("invalid_clearance", JsonNode.Parse(Assert.Single(entries, e => e.Type == "auth.failed").Details!.Value.GetRawText())!["reason"]!.GetValue<string>());
    }

    [Fact]
    public void JwtScheme_HasNoAuthorityMetadataOrConfigurationManager_SoNothingIsEverFetched()
    {
        var options = enclave.App.Services.GetRequiredService<IOptionsMonitor<JwtBearerOptions>>().Get(EnclaveAuthentication.OidcScheme);

        Assert.Null(options.Authority);
        Assert.True(string.IsNullOrEmpty(options.MetadataAddress));
        Assert.Null(options.ConfigurationManager);
        Assert.Null(options.Configuration);
        Assert.False(options.RefreshOnIssuerKeyNotFound);
        Assert.False(options.TokenValidationParameters.TryAllIssuerSigningKeys);
        Assert.Equal(["RS256", "PS256", "ES256"], options.TokenValidationParameters.ValidAlgorithms);
    }

    private async Task<(HttpStatusCode Status, string Body, IReadOnlyList<Enclave.Core.Audit.AuditEvent> Entries)> CallAsync(string token, string path)
    {
        HttpStatusCode status = 0;
        var body = string.Empty;
        var entries = await enclave.EntriesDuringAsync(async () =>
        {
            using var http = enclave.Client(token);
            using var response = await http.GetAsync(path);
            status = response.StatusCode;
            body = await response.Content.ReadAsStringAsync();
        });
        return (status, body, entries);
    }

    private (string Token, string Reason) Forge(string attack)
    {
        var payload = Valid();
        switch (attack)
        {
            case "alg_none":
                return (TestTokens.Sign(new JsonObject { ["alg"] = "none", ["typ"] = "JWT", ["kid"] = TestTokens.RsaKid }, payload, _ => []), "algorithm_not_allowed");
            case "alg_none_uppercase":
                return (TestTokens.Sign(new JsonObject { ["alg"] = "None", ["typ"] = "JWT" }, payload, _ => []), "algorithm_not_allowed");
            case "hs256_with_public_key_pem":
                var pem = Encoding.ASCII.GetBytes(Tokens.Rsa.ExportSubjectPublicKeyInfoPem());
                return (TestTokens.Sign(new JsonObject { ["alg"] = "HS256", ["typ"] = "JWT", ["kid"] = TestTokens.RsaKid }, payload, input => HMACSHA256.HashData(pem, input)), "algorithm_not_allowed");
            case "hs256_with_public_key_der":
                var der = Tokens.Rsa.ExportSubjectPublicKeyInfo();
                return (TestTokens.Sign(new JsonObject { ["alg"] = "HS256", ["typ"] = "JWT", ["kid"] = TestTokens.RsaKid }, payload, input => HMACSHA256.HashData(der, input)), "algorithm_not_allowed");
            case "wrong_issuer":
                payload["iss"] = TestTokens.Issuer + "-evil";
                return (Tokens.Rs256(payload), "wrong_issuer");
            case "wrong_audience":
                payload["aud"] = "another-service";
                return (Tokens.Rs256(payload), "wrong_audience");
            case "expired":
                // Beyond the 60 s skew.
                payload["exp"] = DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeSeconds();
                payload["nbf"] = DateTimeOffset.UtcNow.AddHours(-1).ToUnixTimeSeconds();
                return (Tokens.Rs256(payload), "expired");
            case "not_yet_valid":
                payload["nbf"] = DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeSeconds();
                return (Tokens.Rs256(payload), "not_yet_valid");
            case "unknown_kid":
                return (Tokens.Rs256(payload, kid: "rsa-rotated-away"), "unknown_key");
            case "no_kid":
                return (TestTokens.Sign(new JsonObject { ["alg"] = "RS256", ["typ"] = "JWT" }, payload, input => Tokens.Rsa.SignData(input, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)), "unknown_key");
            case "tampered_payload":
                var genuine = Tokens.Rs256(payload).Split('.');
                var elevated = Valid();
                elevated["realm_access"] = new JsonObject { ["roles"] = new JsonArray("admin") };
                return ($"{genuine[0]}.{TestTokens.B64(Encoding.UTF8.GetBytes(elevated.ToJsonString()))}.{genuine[2]}", "bad_signature");
            case "no_expiry":
                payload.Remove("exp");
                return (Tokens.Rs256(payload), "no_expiry");
            case "stripped_signature":
                var parts = Tokens.Rs256(payload).Split('.');
                return ($"{parts[0]}.{parts[1]}.", "bad_signature");
            case "signed_by_another_key":
                using (var other = RSA.Create(2048))
                {
                    return (TestTokens.Sign(new JsonObject { ["alg"] = "RS256", ["typ"] = "JWT", ["kid"] = TestTokens.RsaKid }, payload, input => other.SignData(input, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)), "bad_signature");
                }

            case "no_alg":
                return (TestTokens.Sign(new JsonObject { ["typ"] = "JWT", ["kid"] = TestTokens.RsaKid }, payload, input => Tokens.Rsa.SignData(input, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)), "algorithm_not_allowed");
            case "rs384_not_configured":
                // A real RS384 signature by the trusted key: valid, but RS384 is not in the allowed list.
                return (TestTokens.Sign(new JsonObject { ["alg"] = "RS384", ["typ"] = "JWT", ["kid"] = TestTokens.RsaKid }, payload, input => Tokens.Rsa.SignData(input, HashAlgorithmName.SHA384, RSASignaturePadding.Pkcs1)), "algorithm_not_allowed");
            case "garbage_header":
                var signed = Tokens.Rs256(payload).Split('.');
                return ($"{TestTokens.B64("{\"alg\":"u8.ToArray())}.{signed[1]}.{signed[2]}", "malformed_token");
            default:
                throw new ArgumentOutOfRangeException(nameof(attack), attack, "unknown attack");
        }
    }
}
