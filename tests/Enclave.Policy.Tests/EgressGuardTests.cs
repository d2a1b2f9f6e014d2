using System.Security.Cryptography;
using Enclave.Policy.Egress;
using Enclave.Policy.Labels;

namespace Enclave.Policy.Tests;

public sealed class EgressGuardTests
{
    private static readonly LabelScheme Scheme = LabelScheme.Default;

    // Secrets are assembled at run time so that no secret-shaped literal sits in the repository.
    private static readonly string AwsKeyId = "AKIA" + "IOSFODNN7EXAMPLE";
    private static readonly string AwsSecret = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEKEY";
    private static readonly string GitHubToken = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8";
    private static readonly string SlackToken = "xoxb-" + "123456789012-aBcDeFgHiJkL";
    private static readonly string Jwt = "eyJhbGciOiJIUzI1NiJ9" + ".eyJzdWIiOiIxMjM0NTY3ODkwIn0" + ".dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";

    private static string RsaPem()
    {
        using var rsa = RSA.Create(2048);
        return rsa.ExportPkcs8PrivateKeyPem();
    }

    [Fact]
    public void PrivateKey_InAnUnclassifiedRequest_IsBlocked_WithItsLocation()
    {
        string pem = RsaPem();
        string before = "UNCLASSIFIED\nPlease debug this config:\n";
        string[] messages = ["hello", before + pem + "\nthanks"];

        EgressVerdict v = new EgressGuard(Scheme).Inspect(messages, EgressAction.Block);

        Assert.False(v.Allowed);
        Assert.Empty(v.Messages);
        EgressFinding f = Assert.Single(v.Findings);
        Assert.Equal(EgressRules.PrivateKey, f.RuleId);
        Assert.Equal(1, f.MessageIndex);
        Assert.Equal(before.Length, f.Start);
        Assert.Equal(pem.Length, f.Length);
        Assert.Contains(v.Reasons, r => r.Contains(EgressRules.PrivateKey, StringComparison.Ordinal) && r.Contains("message 1", StringComparison.Ordinal));
        Assert.DoesNotContain(v.Reasons, r => r.Contains("PRIVATE KEY-----", StringComparison.Ordinal));
    }

    [Fact]
    public void PrivateKey_IsRedacted_AndTheRestIsKept()
    {
        string pem = RsaPem();
        string[] messages = ["UNCLASSIFIED", "key:\n" + pem + "\nend"];

        EgressVerdict v = new EgressGuard(Scheme).Inspect(messages, EgressAction.Redact);

        Assert.True(v.Allowed);
        Assert.Equal("UNCLASSIFIED", v.Messages[0]);
        Assert.Equal("key:\n[REDACTED:secret.private-key]\nend", v.Messages[1]);
    }

    [Fact]
    public void TruncatedPrivateKey_WithoutEnd_IsStillFound()
    {
        string pem = RsaPem();
        string cut = pem[..(pem.Length / 2)];
        EgressVerdict v = new EgressGuard(Scheme).Inspect([cut], EgressAction.Redact);
        Assert.Equal("[REDACTED:secret.private-key]", v.Messages[0]);
    }

    [Fact]
    public void FindingsInSeveralMessages_KeepTheirOwnIndexes()
    {
        string[] messages = ["clean", "(S) first", "clean too", "id " + AwsKeyId];
        EgressVerdict v = new EgressGuard(Scheme).Inspect(messages, EgressAction.Redact);
        Assert.Equal([(1, EgressRules.Marking, 0), (3, EgressRules.AwsAccessKeyId, 3)], v.Findings.Select(f => (f.MessageIndex, f.RuleId, f.Start)));
        Assert.Equal(["clean", "[REDACTED:marking.classification] first", "clean too", "id [REDACTED:secret.aws-access-key-id]"], v.Messages);
    }

    [Fact]
    public void EcAndRsaPrivateKeys_AreFound_ButPublicKeysAreNot()
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var rsa = RSA.Create(2048);
        var guard = new EgressGuard(Scheme);
        Assert.Equal(EgressRules.PrivateKey, Assert.Single(guard.Inspect([ec.ExportECPrivateKeyPem()], EgressAction.Block).Findings).RuleId);
        Assert.Equal(EgressRules.PrivateKey, Assert.Single(guard.Inspect([rsa.ExportRSAPrivateKeyPem()], EgressAction.Block).Findings).RuleId);
        Assert.True(guard.Inspect([rsa.ExportSubjectPublicKeyInfoPem()], EgressAction.Block).Allowed);
    }

    public static TheoryData<string, string, string> SecretSamples => new()
    {
        { "creds: " + AwsKeyId + " in use", EgressRules.AwsAccessKeyId, AwsKeyId },
        { "aws_secret_access_key = " + AwsSecret, EgressRules.AwsSecretKey, AwsSecret },
        { "export GH=" + GitHubToken, EgressRules.GitHubToken, GitHubToken },
        { "slack " + SlackToken + " posted", EgressRules.SlackToken, SlackToken },
        { "Authorization: Bearer abcdef0123456789ABCDEFxyz", EgressRules.BearerToken, "abcdef0123456789ABCDEFxyz" },
        { "token " + Jwt, EgressRules.BearerToken, Jwt },
        { "api_key = \"9fK2mQ7xL4pR8sT1vW3yZ6aB\"", EgressRules.GenericApiKey, "9fK2mQ7xL4pR8sT1vW3yZ6aB\"" },
    };

    [Theory]
    [MemberData(nameof(SecretSamples))]
    public void Secrets_AreFound_AtTheirExactRange(string text, string rule, string secret)
    {
        EgressVerdict v = new EgressGuard(Scheme).Inspect([text], EgressAction.Block);
        Assert.False(v.Allowed);
        EgressFinding f = Assert.Single(v.Findings, x => x.RuleId == rule);
        string value = secret.TrimEnd('"');
        Assert.Equal(text.IndexOf(value, StringComparison.Ordinal), f.Start);
        Assert.Equal(value.Length, f.Length);
    }

    [Fact]
    public void OverlappingFindings_AreRedactedOnce()
    {
        EgressVerdict v = new EgressGuard(Scheme).Inspect(["Authorization: Bearer " + Jwt + " ok"], EgressAction.Redact);
        Assert.Equal(2, v.Findings.Count);
        Assert.Equal("Authorization: Bearer [REDACTED:secret.bearer-token] ok", v.Messages[0]);
    }

    [Fact]
    public void ClassificationMarkings_AreFound_AboveWhatTheRouteMayCarry()
    {
        string text = "UNCLASSIFIED header\n(S) convoy at dawn\nSECRET//NOFORN\n(U) weather";
        EgressVerdict v = new EgressGuard(Scheme).Inspect([text], EgressAction.Redact);
        Assert.Equal(2, v.Findings.Count);
        Assert.All(v.Findings, f => Assert.Equal(EgressRules.Marking, f.RuleId));
        Assert.Equal(text.IndexOf("(S)", StringComparison.Ordinal), v.Findings[0].Start);
        Assert.Equal(3, v.Findings[0].Length);
        Assert.Equal("UNCLASSIFIED header\n[REDACTED:marking.classification] convoy at dawn\n[REDACTED:marking.classification]\n(U) weather", v.Messages[0]);
    }

    [Fact]
    public void MaxEgressLabel_LetsItsOwnMarkingsThrough()
    {
        var guard = new EgressGuard(Scheme, new EgressOptions { MaxEgressLabel = Scheme.ParseBanner("CUI") });
        Assert.True(guard.Inspect(["(CUI) budget"], EgressAction.Block).Allowed);
        Assert.False(guard.Inspect(["(S) budget"], EgressAction.Block).Allowed);
    }

    [Theory]
    [InlineData("write to jane.doe@example.org today", "pii.email", "jane.doe@example.org")]
    [InlineData("call (555) 867-5309 now", "pii.phone", "(555) 867-5309")]
    [InlineData("call +1 555-867-5309 now", "pii.phone", "+1 555-867-5309")]
    [InlineData("SSN 123-45-6789 on file", "pii.us-ssn", "123-45-6789")]
    public void DefaultPii_IsFound(string text, string rule, string value)
    {
        EgressFinding f = Assert.Single(new EgressGuard(Scheme).Inspect([text], EgressAction.Block).Findings);
        Assert.Equal(rule, f.RuleId);
        Assert.Equal(text.IndexOf(value, StringComparison.Ordinal), f.Start);
        Assert.Equal(value.Length, f.Length);
    }

    [Fact]
    public void ConfiguredNationalId_IsFound_AndRedactedUnderItsRule()
    {
        var options = new EgressOptions { PiiDetectors = [new PiiDetector("pii.uk-nino", @"\b[A-CEGHJ-PR-TW-Z]{2}[0-9]{6}[A-D]\b")] };
        EgressVerdict v = new EgressGuard(Scheme, options).Inspect(["NI number AB123456C, email a@b.example"], EgressAction.Redact);
        Assert.Equal("NI number [REDACTED:pii.uk-nino], email a@b.example", v.Messages[0]);
    }

    [Fact]
    public void InvalidPiiDetectors_AreAllReported()
    {
        var options = new EgressOptions { PiiDetectors = [new PiiDetector("email", "x"), new PiiDetector("pii.bad", "(unclosed")] };
        var e = Assert.Throws<ArgumentException>(() => new EgressGuard(Scheme, options));
        Assert.Contains("'email'", e.Message, StringComparison.Ordinal);
        Assert.Contains("'pii.bad'", e.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string> OrdinarySamples => new()
    {
        "Hi team, the quarterly report is attached. Keep it secret until Monday; bearer bonds are out of scope.",
        "Select the file(s), then press OK. Version 1.2.3 shipped on 2024-05-01 at 12:30:00.",
        """
        public sealed class TokenCache
        {
            private readonly string _token = GetTokenFromConfiguration();
            private readonly string password = Environment.GetEnvironmentVariable("DB_PASSWORD");
            var apiKey = options.ApiKey; // read from the vault
            // sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            var id = Guid.Parse("3f2504e0-4f89-11d3-9a0c-0305e82c3301");
            var secret = configuration["Secret"];
            string auth = "Bearer " + token;
        }
        """,
        """
        def fetch(url, token=None):
            headers = {"Authorization": f"Bearer {token}"}
            return requests.get(url, headers=headers, timeout=30)
        # Listen on 127.0.0.1:8080; retry 3 times; see RFC 9110 section 15.5.
        """,
        "SELECT id, created_at FROM orders WHERE total > 1000.50 AND region = 'EMEA' LIMIT 25;",
        "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ\n-----END CERTIFICATE-----",
    };

    [Theory]
    [MemberData(nameof(OrdinarySamples))]
    public void OrdinaryTextAndCode_HaveNoFindings(string text)
    {
        EgressVerdict v = new EgressGuard(Scheme).Inspect([text], EgressAction.Block);
        Assert.True(v.Allowed, string.Join("; ", v.Reasons));
        Assert.Empty(v.Findings);
        Assert.Same(text, v.Messages[0]);
    }

    [Fact]
    public void OverTheInputBound_IsBlocked_EvenOnARedactRoute()
    {
        var guard = new EgressGuard(Scheme, new EgressOptions { MaxTotalChars = 100 });
        EgressVerdict v = guard.Inspect([new string('x', 101)], EgressAction.Redact);
        Assert.False(v.Allowed);
        Assert.Equal(EgressAction.Block, v.Action);
        Assert.Equal(EgressRules.Limit, Assert.Single(v.Findings).RuleId);
        Assert.Empty(v.Messages);
    }

    [Fact]
    public void ARegexTimeout_Blocks()
    {
        var options = new EgressOptions
        {
            PiiDetectors = [new PiiDetector("pii.pathological", "^(([a-z])+.)+[A-Z]([a-z])+$")],
            MatchTimeout = TimeSpan.FromMilliseconds(20),
        };
        EgressVerdict v = new EgressGuard(Scheme, options).Inspect([new string('a', 64) + "!"], EgressAction.Redact);
        Assert.False(v.Allowed);
        Assert.Contains(v.Findings, f => f.RuleId == EgressRules.Timeout);
    }

    [Theory]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaa1", false)]
    [InlineData("GetTokenFromConfiguration", false)]
    [InlineData("settings.Security.Token.Value1", false)]
    [InlineData("9fK2mQ7xL4pR8sT1vW3yZ6aB", true)]
    public void GenericKeyHeuristic_NeedsMixedHighEntropy(string value, bool expected)
    {
        Assert.Equal(expected, EgressGuard.LooksRandom(value, 3.5));
    }
    [Theory]
    [MemberData(nameof(SecretSamples))]
    public void RedactedOutput_HasNothingLeftToFind(string text, string rule, string secret)
    {
        var guard = new EgressGuard(Scheme);
        EgressVerdict v = guard.Inspect(["before " + text + " after"], EgressAction.Redact);
        Assert.True(v.Allowed);
        Assert.Contains("[REDACTED:" + rule + "]", v.Messages[0], StringComparison.Ordinal);
        Assert.DoesNotContain(secret.TrimEnd('"'), v.Messages[0], StringComparison.Ordinal);
        Assert.Empty(guard.Inspect(v.Messages, EgressAction.Block).Findings);
    }

    [Theory]
    [InlineData("to\u212Aen = 9fK2mQ7xL4pR8sT1vW3yZ6aBq", "secret.generic-api-key")]   // Kelvin sign for 'k'
    [InlineData("BEARER abcdefghijklmnopqrstuvwxyz0123", "secret.bearer-token")]
    [InlineData("Api-Key=9fK2mQ7xL4pR8sT1vW3yZ6aBq", "secret.generic-api-key")]
    public void The_literal_shortcut_never_hides_what_the_expression_finds(string text, string rule)
    {
        // The case-insensitive expressions match these spellings; the guard must find them even though an ordinal
        // ignore-case search for the keyword would not (the shortcut is off for such text).
        var expected = new System.Text.RegularExpressions.Regex(rule switch
        {
            "secret.bearer-token" => @"(?i)bearer",
            _ => @"(?i)(?:api[_-]?key|secret|token)",
        }, System.Text.RegularExpressions.RegexOptions.CultureInvariant).IsMatch(text);
        Assert.True(expected, "the test's own premise: the expression's keyword matches this spelling");
        EgressVerdict v = new EgressGuard(Scheme).Inspect([text], EgressAction.Block);
        Assert.Contains(v.Findings, f => f.RuleId == rule);
    }
}
