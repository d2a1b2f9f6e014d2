using Enclave.Server.Hosting;
using Microsoft.Extensions.Configuration;

namespace Enclave.EndToEnd.Tests.Vendors;

/// <summary>Vendor backends configured as <c>enclave serve</c> reads them: bound from configuration, validated on start.</summary>
public sealed class VendorConfigurationTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("enclave-vendor-config-").FullName;

    [Fact]
    public async Task Start_WithVendorBackendsMisconfigured_FailsListingEveryProblem_BeforeTheLedgerIsCreated()
    {
        var data = Path.Combine(_root, "data");
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Server:DataDirectory"] = data,
            ["Server:Urls:0"] = "http://127.0.0.1:0",
            ["Upstream:Backends:0:Name"] = "azure-se",
            ["Upstream:Backends:0:Kind"] = "azure-openai",
            ["Upstream:Backends:0:BaseUrl"] = "https://contoso-se.openai.azure.com",
            ["Upstream:Backends:0:Models:0"] = "gpt4o-prod",
            ["Upstream:Backends:0:Labels:Classification"] = "UNCLASSIFIED",
            ["Upstream:Backends:0:Labels:Jurisdiction"] = "EU",
            ["Upstream:Backends:0:Labels:LeavesEnclave"] = "true",
            ["Upstream:Backends:1:Name"] = "bedrock-paris",
            ["Upstream:Backends:1:Kind"] = "bedrock",
            ["Upstream:Backends:1:BaseUrl"] = "https://bedrock-runtime.eu-west-3.amazonaws.com",
            ["Upstream:Backends:1:ApiKeyReference"] = "file:/run/secrets/aws",
            ["Upstream:Backends:1:Models:0"] = "anthropic.claude-3-haiku-20240307-v1:0",
            ["Upstream:Backends:1:Labels:Classification"] = "UNCLASSIFIED",
            ["Upstream:Backends:1:Labels:Jurisdiction"] = "FR",
            ["Upstream:Backends:1:Labels:LeavesEnclave"] = "true",
            ["Upstream:Backends:2:Name"] = "mistral",
            ["Upstream:Backends:2:Kind"] = "mistral",
            ["Upstream:Backends:2:BaseUrl"] = "https://api.mistral.ai/v1",
            ["Upstream:Backends:2:Models:0"] = "mistral-large",
            ["Upstream:Backends:2:Labels:Classification"] = "UNCLASSIFIED",
            ["Upstream:Backends:2:Labels:Jurisdiction"] = "FR",
        }).Build();
        await using var app = EnclaveHost.Create(configuration);

        var problems = EnclaveHost.Problems(await Assert.ThrowsAnyAsync<Exception>(() => app.StartAsync()));

        Assert.Contains(problems, p => p.Contains("('azure-se'): Kind 'azure-openai' needs ApiKeyReference", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("('azure-se'): Kind 'azure-openai' needs ApiVersion", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("('bedrock-paris'): Kind 'bedrock' needs Region", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("('mistral'): Kind must be one of openai, azure-openai, anthropic, gemini, bedrock (was 'mistral')", StringComparison.Ordinal));
        Assert.False(Directory.Exists(data), "the ledger must not be created for a configuration that cannot start");
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
