using System.Net.Http.Headers;
using Enclave.Core.Audit;
using Enclave.Inference.Tests.Upstream;
using Enclave.Inference.Upstream;
using Enclave.Ledger;
using Enclave.Policy.Identity;
using Enclave.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Enclave.EndToEnd.Tests.Vendors;

/// <summary>
/// A real enclave on loopback whose only backend for <c>claude-sonnet-4-5</c> is a cloud vendor: an Anthropic
/// Messages API server on https (its own CA), labelled UNCLASSIFIED, jurisdiction US, leaving the enclave, with the
/// egress guard redacting on its route. The model itself is labelled SECRET//NOFORN, so only the backend's labels keep
/// SECRET requests from the vendor. The key is read from a file, as a mounted secret would be.
/// </summary>
public sealed class VendorEnclave : IAsyncLifetime
{
    public const string Model = "claude-sonnet-4-5";

    private WebApplication? _app;
    private UpstreamRouter? _router;

    public string DataDirectory { get; } = Directory.CreateTempSubdirectory("enclave-vendors-").FullName;

    public string BaseUrl { get; private set; } = string.Empty;

    internal AnthropicStub Anthropic { get; private set; } = null!;

    /// <summary>User key with no clearance claim (lowest level).</summary>
    public string UserKey { get; private set; } = string.Empty;

    /// <summary>User key cleared SECRET//NOFORN.</summary>
    public string SecretKey { get; private set; } = string.Empty;

    public async Task InitializeAsync()
    {
        Anthropic = await AnthropicStub.StartAsync(https: true);
        var caPath = Path.Combine(DataDirectory, "anthropic-ca.pem");
        await File.WriteAllTextAsync(caPath, Anthropic.CertificatePem);
        var keyPath = Path.Combine(DataDirectory, "anthropic.key");
        await File.WriteAllTextAsync(keyPath, AnthropicStub.Key + "\n");
        SqliteLedger.Initialize(DataDirectory, "e2e.example/vendors", postQuantum: false, TimeProvider.System);
        var keys = new ApiKeyStore(DataDirectory, TimeProvider.System);
        await keys.AddPrincipalAsync("plain-user", PrincipalKind.User, [Roles.User], null);
        UserKey = (await keys.CreateKeyAsync("plain-user", null, null)).Key;
        await keys.AddPrincipalAsync("secret-analyst", PrincipalKind.User, [Roles.User], "SECRET//NOFORN");
        SecretKey = (await keys.CreateKeyAsync("secret-analyst", null, null)).Key;

        var upstream = new UpstreamOptions
        {
            MaxRetryWait = TimeSpan.FromSeconds(1),
            RetryBackoff = TimeSpan.FromMilliseconds(10),
            Backends =
            [
                new UpstreamBackendOptions
                {
                    Name = "anthropic",
                    Kind = "anthropic",
                    BaseUrl = Anthropic.BaseUrl,
                    ApiKeyReference = "file:" + keyPath,
                    CaCertificatePath = caPath,
                    Region = "us-east-1",
                    Models = [Model],
                    MaxRetries = 0,
                    Labels = new UpstreamLabels { Classification = "UNCLASSIFIED", Jurisdiction = "US", LeavesEnclave = true },
                },
            ],
        };
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Server:DataDirectory"] = DataDirectory,
            ["Server:Urls:0"] = "http://127.0.0.1:0",
            [$"Models:{Model}:Kind"] = "chat",
            // The model may serve SECRET work (as an internal backend could); its only backend, the vendor, may not.
            [$"Models:{Model}:Label"] = "SECRET//NOFORN",
            ["Policy:Jurisdictions:UNCLASSIFIED:0"] = "local",
            ["Policy:Jurisdictions:UNCLASSIFIED:1"] = "US",
            ["Policy:Jurisdictions:SECRET:0"] = "local",
            ["Policy:Egress:Routes:anthropic"] = "Redact",
        }).Build();
        _router = new UpstreamRouter(upstream, TimeProvider.System);
        var catalog = new ModelCatalog(EnclaveConfiguration.UpstreamRoutes(_router, upstream, configuration));
        _app = EnclaveHost.Create(configuration, services => services.AddSingleton(catalog));
        await _app.StartAsync();
        BaseUrl = _app.Urls.First();
    }

    public HttpClient Client(string key)
    {
        var http = new HttpClient { BaseAddress = new Uri(BaseUrl) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return http;
    }

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

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        _router?.Dispose();
        await Anthropic.DisposeAsync();
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
