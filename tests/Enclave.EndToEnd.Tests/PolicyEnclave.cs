using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text;
using System.Text.Json.Nodes;
using Enclave.Core.Audit;
using Enclave.Inference.Upstream;
using Enclave.Ledger;
using Enclave.Policy.Identity;
using Enclave.Server.Hosting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Enclave.EndToEnd.Tests;

/// <summary>
/// A real enclave on loopback in front of two real upstream servers: <c>internal</c> (http, inside the enclave,
/// accredited SECRET//NOFORN) and a cloud server (https with its own CA, leaves the enclave, accredited UNCLASSIFIED,
/// jurisdiction US) configured as two backends, <c>cloud-block</c> (egress action block) and <c>cloud-redact</c>
/// (redact). Policy, quotas and labels come from configuration exactly as <c>enclave serve</c> reads them.
/// </summary>
public sealed class PolicyEnclave : IAsyncLifetime
{
    private WebApplication? _app;
    private UpstreamRouter? _router;
    private IConfiguration _configuration = null!;
    private ModelCatalog _catalog = null!;

    public string DataDirectory { get; } = Directory.CreateTempSubdirectory("enclave-policy-").FullName;

    public string BaseUrl { get; private set; } = string.Empty;

    internal RecordingUpstream Internal { get; private set; } = null!;

    internal RecordingUpstream Cloud { get; private set; } = null!;

    /// <summary>Admin key: no clearance claim (lowest level).</summary>
    public string AdminKey { get; private set; } = string.Empty;

    /// <summary>User key cleared SECRET//NOFORN.</summary>
    public string SecretKey { get; private set; } = string.Empty;

    /// <summary>User key with 2 requests per minute.</summary>
    public string RateKey { get; private set; } = string.Empty;

    /// <summary>User key with 2 requests per day.</summary>
    public string BudgetKey { get; private set; } = string.Empty;

    public string AuditorKey { get; private set; } = string.Empty;

    public string UserKey { get; private set; } = string.Empty;

    public async Task InitializeAsync()
    {
        Internal = await RecordingUpstream.StartAsync(https: false);
        Cloud = await RecordingUpstream.StartAsync(https: true);
        var caPath = Path.Combine(DataDirectory, "cloud-ca.pem");
        await File.WriteAllTextAsync(caPath, Cloud.CertificatePem);
        SqliteLedger.Initialize(DataDirectory, "e2e.example/policy", postQuantum: false, TimeProvider.System);
        // Real principals in the identity store: each with its own roles and clearance, so quotas are per principal.
        var keys = new ApiKeyStore(DataDirectory, TimeProvider.System);
        async Task<string> KeyFor(string name, string role, string? clearance = null)
        {
            await keys.AddPrincipalAsync(name, PrincipalKind.User, [role], clearance);
            return (await keys.CreateKeyAsync(name, null, null)).Key;
        }

        AdminKey = await KeyFor("admin", Roles.Admin);
        SecretKey = await KeyFor("secret-analyst", Roles.User, "SECRET//NOFORN");
        RateKey = await KeyFor("rate-limited", Roles.User);
        BudgetKey = await KeyFor("budgeted", Roles.User);
        AuditorKey = await KeyFor("auditor", Roles.Auditor);
        UserKey = await KeyFor("plain-user", Roles.User);
        await keys.AddPrincipalAsync("sam", PrincipalKind.User, [Roles.Analyst], "SECRET//NOFORN");
        await keys.AddPrincipalAsync("una", PrincipalKind.User, [Roles.User], null);
        await keys.AddPrincipalAsync("old", PrincipalKind.User, [Roles.User], "TOP SECRET//NOFORN");
        await keys.DisablePrincipalAsync("old");

        var upstream = new UpstreamOptions
        {
            MaxRetryWait = TimeSpan.FromSeconds(1),
            RetryBackoff = TimeSpan.FromMilliseconds(10),
            Backends =
            [
                new UpstreamBackendOptions
                {
                    Name = "internal",
                    BaseUrl = Internal.BaseUrl,
                    Models = ["chat-m", "embed-m", "open-m", "open-embed-m"],
                    MaxRetries = 1,
                    Labels = new UpstreamLabels { Classification = "SECRET//NOFORN", Jurisdiction = "local" },
                },
                new UpstreamBackendOptions
                {
                    Name = "cloud-block",
                    BaseUrl = Cloud.BaseUrl,
                    CaCertificatePath = caPath,
                    Models = ["chat-m", "embed-m", "cloud-block-m"],
                    MaxRetries = 0,
                    Labels = new UpstreamLabels { Classification = "UNCLASSIFIED", Jurisdiction = "US", LeavesEnclave = true },
                },
                new UpstreamBackendOptions
                {
                    Name = "cloud-redact",
                    BaseUrl = Cloud.BaseUrl,
                    CaCertificatePath = caPath,
                    Models = ["cloud-redact-m"],
                    MaxRetries = 0,
                    Labels = new UpstreamLabels { Classification = "UNCLASSIFIED", Jurisdiction = "US", LeavesEnclave = true },
                },
            ],
        };
        _configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Server:DataDirectory"] = DataDirectory,
            ["Server:Urls:0"] = "http://127.0.0.1:0",
            ["Models:chat-m:Kind"] = "chat",
            ["Models:chat-m:Label"] = "SECRET//NOFORN",
            ["Models:embed-m:Kind"] = "embedding",
            // Cleared for SECRET//NOFORN, so that it may embed the SECRET portions of uploaded documents (RetrievalTests).
            ["Models:embed-m:Label"] = "SECRET//NOFORN",
            // Unlabelled (the lowest level), so visible to callers without a clearance; chat-m and embed-m are not.
            ["Models:open-m:Kind"] = "chat",
            ["Models:open-embed-m:Kind"] = "embedding",
            ["Models:cloud-block-m:Kind"] = "chat",
            ["Models:cloud-redact-m:Kind"] = "chat",
            ["Policy:Jurisdictions:UNCLASSIFIED:0"] = "local",
            ["Policy:Jurisdictions:UNCLASSIFIED:1"] = "US",
            ["Policy:Jurisdictions:CUI:0"] = "local",
            ["Policy:Jurisdictions:SECRET:0"] = "local",
            ["Policy:Jurisdictions:TOP SECRET:0"] = "local",
            ["Policy:Egress:Routes:cloud-redact"] = "Redact",
            // Small chunks, so that the retrieval tests' paragraphs land in chunks of their own (RetrievalTests).
            ["Retrieval:ChunkChars"] = "80",
            ["Retrieval:EmbeddingModel"] = "embed-m",
            ["Retrieval:ChunkOverlapChars"] = "20",
            ["Quotas:Principals:0:Id"] = "user:rate-limited",
            ["Quotas:Principals:0:RequestsPerMinute"] = "2",
            ["Quotas:Principals:1:Id"] = "user:budgeted",
            ["Quotas:Principals:1:RequestsPerDay"] = "2",
        }).Build();
        _router = new UpstreamRouter(upstream, TimeProvider.System);
        _catalog = new ModelCatalog(EnclaveConfiguration.UpstreamRoutes(_router, upstream, _configuration));
        await StartAsync();
    }

    /// <summary>Stops the server (flushing quota counters as at shutdown) and starts a new one on the same data directory.</summary>
    public async Task RestartAsync()
    {
        await _app!.StopAsync();
        await _app.DisposeAsync();
        await StartAsync();
    }

    private async Task StartAsync()
    {
        // Policy, quotas and model labels from the configuration; the routes to the two upstreams are the fixture's.
        _app = EnclaveHost.Create(_configuration, services => services.AddSingleton(_catalog));
        await _app.StartAsync();
        BaseUrl = _app.Urls.First();
    }

    public HttpClient Client(string key)
    {
        var http = new HttpClient { BaseAddress = new Uri(BaseUrl) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return http;
    }

    /// <summary>POSTs a chat request with one user message and optional <c>Enclave-Classification</c> header.</summary>
    public async Task<HttpResponseMessage> ChatAsync(string key, string model, string content, string? classification = null)
    {
        using var http = Client(key);
        var body = new JsonObject { ["model"] = model, ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = content }) };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };
        if (classification is not null)
        {
            request.Headers.Add("Enclave-Classification", classification);
        }

        return await http.SendAsync(request);
    }

    public IReadOnlyList<(long Index, AuditEvent Event)> Entries()
    {
        using var reader = LedgerReader.Open(DataDirectory);
        var size = reader.TreeSize();
        var result = new List<(long, AuditEvent)>();
        for (long i = 0; i < size; i++)
        {
            result.Add((i, AuditEvent.Parse(reader.ReadEntry(i))));
        }

        return result;
    }

    public AuditEvent Entry(HttpResponseMessage response)
    {
        var index = long.Parse(response.Headers.GetValues("Enclave-Ledger-Index").Single(), System.Globalization.CultureInfo.InvariantCulture);
        return Entries().Single(e => e.Index == index).Event;
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        _router?.Dispose();
        await Internal.DisposeAsync();
        await Cloud.DisposeAsync();
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
