using Enclave.Server.Auth;

namespace Enclave.Fuzz.Targets;

/// <summary><see cref="JwksFile"/> (the offline OIDC key file): rejection is <see cref="InvalidDataException"/>.</summary>
internal static class JwksTarget
{
    public static Harness Harness { get; } = new()
    {
        Name = "jwks",
        Parser = "Enclave.Server.Auth.JwksFile",
        Run = Run,
        Seeds = () =>
        [
            Seeds.Text("rsa.json", """{"keys":[{"kty":"RSA","kid":"k1","use":"sig","alg":"RS256","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB"}]}"""),
            Seeds.Text("ec.json", """{"keys":[{"kty":"EC","crv":"P-256","kid":"e1","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}"""),
            Seeds.Text("okp.json", """{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"o1","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"""),
            Seeds.Text("private.json", """{"keys":[{"kty":"oct","k":"AAAA","kid":"s"}]}"""),
        ],
    };

    private static void Run(byte[] input)
    {
        try
        {
            JwksFile.Parse(input, "fuzz.jwks");
        }
        catch (InvalidDataException)
        {
        }
    }
}
