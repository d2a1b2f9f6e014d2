using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text;
using Enclave.Core.Audit;
using Enclave.Inference.Tests.Upstream;
using Enclave.Ledger;
using Enclave.Policy.Identity;
using Enclave.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using OpenAI;
using OpenAI.Chat;

namespace Enclave.EndToEnd.Tests.Vendors;

/// <summary>
/// Azure OpenAI, Gemini and Bedrock behind one enclave built from configuration alone, as <c>enclave serve</c> builds
/// it (backends of kinds <c>azure-openai</c>, <c>gemini</c>, <c>bedrock</c>, keys from files): the official OpenAI
/// client gets each vendor's answer, whole and streamed, through the same <c>/v1/chat/completions</c>, and the ledger
/// names the vendor and region that answered. The vendors are wire-protocol test servers on loopback over https with
/// their own CAs (the Bedrock one checks the SigV4 signature).
/// </summary>
public sealed class VendorRoutesEndToEndTests : IAsyncLifetime
{
    private readonly string _root = Directory.CreateTempSubdirectory("enclave-vendor-routes-e2e-").FullName;
    private AzureOpenAiStub _azure = null!;
    private GeminiStub _gemini = null!;
    private BedrockStub _bedrock = null!;
    private WebApplication _app = null!;
    private string _baseUrl = string.Empty;
    private string _userKey = string.Empty;

    private string DataDirectory => Path.Combine(_root, "data");

    public async Task InitializeAsync()
    {
        _azure = await AzureOpenAiStub.StartAsync(https: true);
        _gemini = await GeminiStub.StartAsync(https: true);
        _bedrock = await BedrockStub.StartAsync(https: true);
        string KeyFile(string name, string key)
        {
            var path = Path.Combine(_root, name + ".key");
            File.WriteAllText(path, key + "\n");
            return "file:" + path;
        }

        SqliteLedger.Initialize(DataDirectory, "e2e.example/vendor-routes", postQuantum: false, TimeProvider.System);
        var keys = new ApiKeyStore(DataDirectory, TimeProvider.System);
        await keys.AddPrincipalAsync("vendor-user", PrincipalKind.User, [Roles.User], null);
        _userKey = (await keys.CreateKeyAsync("vendor-user", null, null)).Key;
        var settings = new Dictionary<string, string?>
        {
            ["Server:DataDirectory"] = DataDirectory,
            ["Server:Urls:0"] = "http://127.0.0.1:0",
            ["Policy:Jurisdictions:UNCLASSIFIED:0"] = "local",
            ["Policy:Jurisdictions:UNCLASSIFIED:1"] = "SE",
            ["Policy:Jurisdictions:UNCLASSIFIED:2"] = "EU",
            ["Policy:Jurisdictions:UNCLASSIFIED:3"] = "FR",
        };
        void Backend(int i, string name, string kind, string baseUrl, string keyReference, string certificatePem, string region, string model, string jurisdiction, string? apiVersion = null)
        {
            var prefix = $"Upstream:Backends:{i}:";
            var ca = Path.Combine(_root, name + "-ca.pem");
            File.WriteAllText(ca, certificatePem);
            settings[prefix + "CaCertificatePath"] = ca;
            settings[prefix + "Name"] = name;
            settings[prefix + "Kind"] = kind;
            settings[prefix + "BaseUrl"] = baseUrl;
            settings[prefix + "ApiKeyReference"] = keyReference;
            settings[prefix + "Region"] = region;
            settings[prefix + "Models:0"] = model;
            settings[prefix + "MaxRetries"] = "0";
            settings[prefix + "Labels:Classification"] = "UNCLASSIFIED";
            settings[prefix + "Labels:Jurisdiction"] = jurisdiction;
            settings[prefix + "Labels:LeavesEnclave"] = "true";
            if (apiVersion is not null)
            {
                settings[prefix + "ApiVersion"] = apiVersion;
            }

            settings[$"Models:{model}:Kind"] = "chat";
        }

        Backend(0, "azure", "azure-openai", _azure.BaseUrl, KeyFile("azure", AzureOpenAiStub.Key), _azure.CertificatePem!, "swedencentral", AzureOpenAiStub.Deployment, "SE", apiVersion: "2024-10-21");
        Backend(1, "gemini", "gemini", _gemini.BaseUrl, KeyFile("gemini", GeminiStub.Key), _gemini.CertificatePem!, "europe-west1", GeminiStub.Model, "EU");
        Backend(2, "bedrock", "bedrock", _bedrock.BaseUrl, KeyFile("bedrock", BedrockStub.AccessKeyId + ":" + BedrockStub.SecretAccessKey), _bedrock.CertificatePem!, BedrockStub.Region, BedrockStub.Model, "FR");
        _app = EnclaveHost.Create(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        await _app.StartAsync();
        _baseUrl = _app.Urls.First();
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _azure.DisposeAsync();
        await _gemini.DisposeAsync();
        await _bedrock.DisposeAsync();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // Pooled SQLite connections may hold the file a moment longer; temp is cleaned by the OS.
        }
    }

    [Fact]
    public async Task EachVendor_AnswersTheOpenAiClient_WholeAndStreamed_AndTheLedgerNamesVendorAndRegion()
    {
        (string Model, string Heard, string Vendor, string Region)[] vendors =
        [
            (AzureOpenAiStub.Deployment, "Azure heard: ", "azure-openai", "swedencentral"),
            (GeminiStub.Model, "Gemini heard: ", "gemini", "europe-west1"),
            (BedrockStub.Model, "Bedrock heard: ", "bedrock", BedrockStub.Region),
        ];
        foreach (var (model, heard, vendor, region) in vendors)
        {
            var chat = new OpenAIClient(new ApiKeyCredential(_userKey), new OpenAIClientOptions { Endpoint = new Uri(_baseUrl + "/v1"), RetryPolicy = new ClientRetryPolicy(0) }).GetChatClient(model);

            var whole = await chat.CompleteChatAsync([new UserChatMessage("name a river")]);
            Assert.Equal(heard + "name a river", whole.Value.Content[0].Text);
            Assert.Equal(ChatFinishReason.Stop, whole.Value.FinishReason);
            var completed = Completed(whole.GetRawResponse());
            Assert.Equal(vendor, completed.Details!.Value.GetProperty("vendor").GetString());
            Assert.Equal(region, completed.Details!.Value.GetProperty("region").GetString());

            var streamed = new StringBuilder();
            ChatFinishReason? finish = null;
            await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("name a mountain")]))
            {
                streamed.Append(string.Concat(update.ContentUpdate.Select(p => p.Text)));
                finish ??= update.FinishReason;
            }

            Assert.Equal(heard + "name a mountain", streamed.ToString());
            Assert.Equal(ChatFinishReason.Stop, finish);
        }

        var byVendor = Entries().Where(e => e.Type == "request.completed" && e.Details!.Value.TryGetProperty("vendor", out _))
            .GroupBy(e => e.Details!.Value.GetProperty("vendor").GetString()).ToDictionary(g => g.Key!, g => g.Count());
        Assert.Equal(new Dictionary<string, int> { ["azure-openai"] = 2, ["gemini"] = 2, ["bedrock"] = 2 }, byVendor);
    }

    private AuditEvent Completed(PipelineResponse response)
    {
        var index = long.Parse(response.Headers.TryGetValue("Enclave-Ledger-Index", out var value) ? value! : throw new InvalidOperationException("no Enclave-Ledger-Index header"), System.Globalization.CultureInfo.InvariantCulture);
        return Entries().Single(e => e.Type == "request.completed" && e.Details!.Value.GetProperty("admittedIndex").GetInt64() == index);
    }

    private List<AuditEvent> Entries()
    {
        using var reader = LedgerReader.Open(DataDirectory);
        var size = reader.TreeSize();
        return [.. Enumerable.Range(0, (int)size).Select(i => AuditEvent.Parse(reader.ReadEntry(i)))];
    }
}
