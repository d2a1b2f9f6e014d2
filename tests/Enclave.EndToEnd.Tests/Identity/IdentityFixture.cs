using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Enclave.Core.Audit;
using Enclave.Inference.Upstream;
using Enclave.Ledger;
using Enclave.Policy.Requests;
using Enclave.Server.Auth;
using Enclave.Server.Hosting;
using Enclave.Server.Hosting.Startup;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Enclave.EndToEnd.Tests.Identity;

/// <summary>
/// A real enclave on a loopback port with single sign-on configured (JWKS file of <see cref="TestTokens"/>,
/// Keycloak-style realm roles), in front of a real vLLM-like upstream. One per test class.
/// </summary>
public sealed class IdentityFixture : IAsyncLifetime
{
    private UpstreamRouter? _router;

    public string DataDirectory { get; } = Directory.CreateTempSubdirectory("enclave-identity-").FullName;

    public WebApplication App { get; private set; } = null!;

    public string BaseUrl { get; private set; } = string.Empty;

    public string AdminKey { get; private set; } = string.Empty;

    public TestTokens Tokens { get; } = new();

    internal VllmStub Upstream { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Upstream = await VllmStub.StartAsync();
        SqliteLedger.Initialize(DataDirectory, "identity.example/ledger", postQuantum: false, TimeProvider.System);
        var jwks = Path.Combine(DataDirectory, "sso-jwks.json");
        File.WriteAllText(jwks, Tokens.Jwks().ToJsonString());
        _router = new UpstreamRouter(new UpstreamOptions
        {
            Backends =
            [
                new UpstreamBackendOptions
                {
                    Name = "stub-vllm",
                    BaseUrl = Upstream.BaseUrl,
                    Models = ["echo-chat", "echo-embed"],
                    Labels = new UpstreamLabels { Classification = "UNCLASSIFIED", Jurisdiction = "local" },
                },
            ],
        });
        var catalog = new ModelCatalog([.. new[] { ("echo-chat", "chat"), ("echo-embed", "embedding") }.Select(m => new ModelRoute
        {
            Id = m.Item1,
            Kind = m.Item2,
            BackendName = "upstream",
            Backends = [new RouteBackend("stub-vllm", "UNCLASSIFIED", "local", LeavesEnclave: false)],
            SelectBackend = selection => _router.For(new UpstreamCall(b => selection.IsAllowed(b.Name), (b, body) => selection.BodyFor(b.Name, body))),
        })]);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Server:DataDirectory"] = DataDirectory,
            ["Server:Urls:0"] = "http://127.0.0.1:0",
            ["Identity:Oidc:Issuer"] = TestTokens.Issuer,
            ["Identity:Oidc:Audience"] = TestTokens.Audience,
            ["Identity:Oidc:JwksFile"] = jwks,
            ["Identity:Oidc:RoleClaim"] = "realm_access.roles",
            ["Identity:Oidc:ClearanceClaim"] = "clearance",
        }).Build();
        App = EnclaveHost.Create(configuration, services => services.AddSingleton(catalog));
        await App.StartAsync();
        BaseUrl = App.Urls.First();
        // A fresh enclave: start-up's identity bootstrap created the first admin key.
        AdminKey = App.Services.GetRequiredService<EnclaveStartupReport>().AdminKey!.Key!;
    }

    /// <summary>An HTTP client for the enclave sending <paramref name="bearer"/> (none when null).</summary>
    public HttpClient Client(string? bearer)
    {
        var http = new HttpClient { BaseAddress = new Uri(BaseUrl) };
        if (bearer is not null)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        return http;
    }

    /// <summary>Adds a principal through the admin API and returns a fresh key of it.</summary>
    public async Task<string> AddUserWithKeyAsync(string name, string[] roles, string? clearance = null, bool service = false)
    {
        using var admin = Client(AdminKey);
        var added = await admin.PostAsJsonAsync("/admin/v1/users", new JsonObject
        {
            ["name"] = name,
            ["kind"] = service ? "service" : "user",
            ["roles"] = new JsonArray([.. roles.Select(r => (JsonNode)r)]),
            ["clearance"] = clearance,
        });
        Assert.True(added.IsSuccessStatusCode, await added.Content.ReadAsStringAsync());
        var key = await admin.PostAsJsonAsync("/admin/v1/keys", new JsonObject { ["user"] = name });
        Assert.True(key.IsSuccessStatusCode, await key.Content.ReadAsStringAsync());
        return (await key.Content.ReadFromJsonAsync<JsonObject>())!["key"]!.GetValue<string>();
    }

    /// <summary>All audit events so far, read back through a read-only reader as an auditor would.</summary>
    public IReadOnlyList<AuditEvent> Entries()
    {
        using var reader = LedgerReader.Open(DataDirectory);
        var size = reader.TreeSize();
        var result = new List<AuditEvent>();
        for (long i = 0; i < size; i++)
        {
            result.Add(AuditEvent.Parse(reader.ReadEntry(i)));
        }

        return result;
    }

    /// <summary>The events appended while <paramref name="action"/> ran (the server is otherwise idle in these tests).</summary>
    public async Task<IReadOnlyList<AuditEvent>> EntriesDuringAsync(Func<Task> action)
    {
        var before = Entries().Count;
        await action();
        return [.. Entries().Skip(before)];
    }

    public async Task DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();

        _router?.Dispose();
        await Upstream.DisposeAsync();
        Tokens.Dispose();
        try
        {
            AuditVocabulary.AssertDeclared(DataDirectory);
        }
        finally
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
    }
}
