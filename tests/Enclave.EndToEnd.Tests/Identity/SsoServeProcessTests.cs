using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Enclave.Server.Hosting;

namespace Enclave.EndToEnd.Tests.Identity;

/// <summary>The real <c>enclave serve</c> process with single sign-on configured in its JSON file and environment.</summary>
public sealed class SsoServeProcessTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("enclave-sso-").FullName;
    private readonly TestTokens _tokens = new();

    [Fact]
    public async Task Serve_WithIdentityOidcConfig_AcceptsTheProvidersTokens_AndPrintsTheAdminKeyOnce()
    {
        var config = WriteConfig(_tokens.Jwks());
        var url = $"http://127.0.0.1:{FreePort()}";
        var data = Path.Combine(_root, "data");
        using var process = Start(["serve", "--data", data, "--urls", url, "--config", config], ("ENCLAVE__Identity__Oidc__ClockSkewSeconds", "30"));
        try
        {
            string? key = null;
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            while (await process.StandardOutput.ReadLineAsync(deadline.Token) is { } line && !line.StartsWith("Enclave is listening", StringComparison.Ordinal))
            {
                key ??= line.Contains("ek_", StringComparison.Ordinal) ? line[line.IndexOf("ek_", StringComparison.Ordinal)..].Trim() : null;
            }

            Assert.False(process.HasExited, "enclave serve exited");
            Assert.NotNull(key);
            using var http = new HttpClient { BaseAddress = new Uri(url) };

            http.DefaultRequestHeaders.Authorization = new("Bearer", _tokens.Es256(TestTokens.Payload("sub-proc", "olga", ["auditor"], "CUI")));
            var me = JsonNode.Parse(await http.GetStringAsync("/admin/v1/whoami"))!;
            Assert.Equal("oidc:sub-proc", me["id"]!.GetValue<string>());
            Assert.Equal("CUI", me["clearance"]!.GetValue<string>());

            http.DefaultRequestHeaders.Authorization = new("Bearer", key);
            var users = JsonNode.Parse(await http.GetStringAsync("/admin/v1/users"))!["users"]!.AsArray();
            Assert.Equal("user:admin", Assert.Single(users)!["id"]!.GetValue<string>());

            // 40 s past expiry: beyond the 30 s skew set through the environment (the file says 60 s).
            http.DefaultRequestHeaders.Authorization = new("Bearer", _tokens.Rs256(TestTokens.Payload("sub-proc", "olga", ["auditor"], null, expiresIn: TimeSpan.FromSeconds(-40))));
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/admin/v1/whoami")).StatusCode);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task Serve_WithAPrivateKeyInTheJwks_RefusesToStart_NamingTheProblem()
    {
        var jwks = _tokens.Jwks();
        jwks["keys"]![0]!["d"] = "AQAB";
        var config = WriteConfig(jwks);

        using var process = Start(["serve", "--data", Path.Combine(_root, "data-bad"), "--urls", "http://127.0.0.1:0", "--config", config]);
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.Equal(3, process.ExitCode);
        Assert.Contains("private or symmetric member 'd'", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_WithAnHmacAlgorithmConfigured_RefusesToStart()
    {
        var config = WriteConfig(_tokens.Jwks(), algorithms: ["RS256", "HS256"]);

        using var process = Start(["serve", "--data", Path.Combine(_root, "data-hmac"), "--urls", "http://127.0.0.1:0", "--config", config]);
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.Equal(3, process.ExitCode);
        Assert.Contains("'HS256' is not allowed", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Configuration_BindsTheIdentityOidcSection_WithoutAddingDefaultAlgorithms()
    {
        var config = WriteConfig(_tokens.Jwks(), algorithms: ["ES256"]);

        var oidc = EnclaveConfiguration.Oidc(EnclaveConfiguration.Load(config))!;

        Assert.Equal(TestTokens.Issuer, oidc.Issuer);
        Assert.Equal(TestTokens.Audience, oidc.Audience);
        Assert.Equal(["ES256"], oidc.EffectiveAlgorithms);
        Assert.Equal("realm_access.roles", oidc.RoleClaim);
        Assert.Equal("clearance", oidc.ClearanceClaim);
        Assert.Equal(60, oidc.ClockSkewSeconds);
        Assert.Null(EnclaveConfiguration.Oidc(EnclaveConfiguration.Load(null)));
    }

    private string WriteConfig(JsonObject jwks, string[]? algorithms = null)
    {
        var jwksPath = Path.Combine(_root, Guid.NewGuid().ToString("N") + ".jwks.json");
        File.WriteAllText(jwksPath, jwks.ToJsonString());
        var oidc = new JsonObject
        {
            ["Issuer"] = TestTokens.Issuer,
            ["Audience"] = TestTokens.Audience,
            ["JwksFile"] = jwksPath,
            ["RoleClaim"] = "realm_access.roles",
            ["ClearanceClaim"] = "clearance",
            ["ClockSkewSeconds"] = 60,
        };
        if (algorithms is not null)
        {
            oidc["Algorithms"] = new JsonArray([.. algorithms.Select(a => (JsonNode)a)]);
        }

        var path = Path.Combine(_root, Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(path, new JsonObject { ["Identity"] = new JsonObject { ["Oidc"] = oidc } }.ToJsonString());
        return path;
    }

    private static Process Start(string[] args, params (string Name, string Value)[] environment)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "enclave.dll"));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        return Process.Start(info)!;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        _tokens.Dispose();
        Directory.Delete(_root, recursive: true);
    }
}
