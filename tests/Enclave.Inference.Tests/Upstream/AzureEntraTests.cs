using Enclave.Inference.Backends;
using Enclave.Inference.Upstream;
using static Enclave.Inference.Tests.Upstream.UpstreamTestKit;

namespace Enclave.Inference.Tests.Upstream;

/// <summary>
/// Azure OpenAI with a Microsoft Entra ID token (<c>AzureAuthentication: entra</c>) against the Azure stub on loopback:
/// a bearer token from configuration, a token file re-read when it changes, and the client-credentials grant against
/// the stub's token endpoint (cached until close to expiry, refused grants a 502 that names the OAuth error).
/// </summary>
public sealed class AzureEntraTests
{
    private static UpstreamBackendOptions Options(AzureOpenAiStub stub) => new()
    {
        Name = "azure",
        Kind = "azure-openai",
        AzureAuthentication = AzureAuthentications.Entra,
        BaseUrl = stub.BaseUrl,
        ApiKeyReference = "AZURE_TOKEN",
        ApiVersion = "2024-10-21",
        Models = [AzureOpenAiStub.Deployment],
        Labels = new UpstreamLabels { Classification = "UNCLASSIFIED", Jurisdiction = "SE" },
        Timeout = TimeSpan.FromSeconds(30),
    };

    private static UpstreamBackendOptions ClientCredentials(AzureOpenAiStub stub) => Options(stub) with
    {
        ApiKeyReference = "AZURE_CLIENT_SECRET",
        EntraTokenEndpoint = stub.BaseUrl + AzureOpenAiStub.TokenPath,
        EntraClientId = AzureOpenAiStub.ClientId,
    };

    [Fact]
    public async Task BearerTokenFromConfiguration_IsSentAsAuthorization_NotAsApiKey()
    {
        await using var stub = await AzureOpenAiStub.StartAsync();
        stub.AcceptedTokens["configured-token"] = true;
        using var backend = new OpenAiUpstreamBackend(Options(stub), "configured-token");

        var response = await backend.ChatAsync(ChatRequest(AzureOpenAiStub.Deployment), CancellationToken.None);

        var received = Assert.Single(stub.Received);
        Assert.Equal("Bearer configured-token", received.Authorization);
        Assert.True(string.IsNullOrEmpty(received.ApiKey));
        Assert.Equal("Azure heard: Say hello", ContentOf(response.Body));
    }

    [Fact]
    public async Task TokenFile_IsReReadWhenItChanges_WithoutARestart()
    {
        await using var stub = await AzureOpenAiStub.StartAsync();
        var path = Path.Combine(Path.GetTempPath(), $"enclave-entra-token-{Guid.NewGuid():N}");
        try
        {
            await File.WriteAllTextAsync(path, "token-one\n");
            stub.AcceptedTokens["token-one"] = true;
            using var backend = OpenAiUpstreamBackend.Create(Options(stub) with { ApiKeyReference = "file:" + path });
            await backend.ChatAsync(ChatRequest(AzureOpenAiStub.Deployment), CancellationToken.None);

            await File.WriteAllTextAsync(path, "token-two-refreshed\n");
            stub.AcceptedTokens.TryRemove("token-one", out _);
            stub.AcceptedTokens["token-two-refreshed"] = true;
            await backend.ChatAsync(ChatRequest(AzureOpenAiStub.Deployment), CancellationToken.None);

            Assert.Equal(["Bearer token-one", "Bearer token-two-refreshed"], stub.Received.Select(r => r.Authorization));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task ClientCredentials_FetchOneTokenAndReuseIt_UntilCloseToExpiry()
    {
        await using var stub = await AzureOpenAiStub.StartAsync();
        var time = new ManualTimeProvider();
        using var backend = new OpenAiUpstreamBackend(ClientCredentials(stub), AzureOpenAiStub.ClientSecret, time);

        await backend.ChatAsync(ChatRequest(AzureOpenAiStub.Deployment), CancellationToken.None);
        await backend.ChatAsync(ChatRequest(AzureOpenAiStub.Deployment), CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(stub.TokenLifetimeSeconds) - EntraTokenSource.RefreshMargin);
        await backend.ChatAsync(ChatRequest(AzureOpenAiStub.Deployment), CancellationToken.None);

        Assert.Equal(2, stub.TokensIssued);
        Assert.Equal(["Bearer entra-token-1", "Bearer entra-token-1", "Bearer entra-token-2"], stub.Received.Select(r => r.Authorization));
        var form = stub.TokenRequests.First();
        Assert.Equal("client_credentials", form["grant_type"]);
        Assert.Equal(AzureOpenAiStub.ClientId, form["client_id"]);
        Assert.Equal(AzureOpenAiStub.ClientSecret, form["client_secret"]);
        Assert.Equal("https://cognitiveservices.azure.com/.default", form["scope"]);
    }

    [Fact]
    public async Task ClientCredentials_ARefusedGrant_Is502NamingTheOAuthError_WithoutTheSecret_AndNothingReachesTheBackend()
    {
        await using var stub = await AzureOpenAiStub.StartAsync();
        using var backend = new OpenAiUpstreamBackend(ClientCredentials(stub), "not-the-secret");

        var error = await Assert.ThrowsAsync<BackendException>(() => backend.ChatAsync(ChatRequest(AzureOpenAiStub.Deployment), CancellationToken.None));

        Assert.Equal(502, error.StatusCode);
        Assert.Equal("upstream_authentication_error", error.ErrorType);
        Assert.Contains("invalid_client", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("not-the-secret", error.Message, StringComparison.Ordinal);
        Assert.Empty(stub.Received);
        Assert.False(await backend.CheckHealthAsync(CancellationToken.None));
    }

    [Theory]
    [InlineData("anthropic", "entra", null, null, "is for Kind 'azure-openai' only")]
    [InlineData("azure-openai", "certificate", null, null, "AzureAuthentication must be")]
    [InlineData("azure-openai", "api-key", "http://127.0.0.1:1/token", "client", "EntraTokenEndpoint needs AzureAuthentication 'entra'")]
    [InlineData("azure-openai", "entra", "http://127.0.0.1:1/token", null, "EntraClientId (1..128 characters) is required")]
    [InlineData("azure-openai", "entra", "ftp://idp/token", "client", "EntraTokenEndpoint must be an absolute http")]
    [InlineData("azure-openai", "entra", null, "client", "EntraClientId is set without EntraTokenEndpoint")]
    public void Options_ThatCannotWork_AreRefusedAtStart_WithTheProblemNamed(string kind, string authentication, string? endpoint, string? clientId, string problem)
    {
        var options = new UpstreamBackendOptions
        {
            Name = "azure",
            Kind = kind,
            AzureAuthentication = authentication,
            EntraTokenEndpoint = endpoint,
            EntraClientId = clientId,
            BaseUrl = "http://127.0.0.1:1",
            ApiKeyReference = "AZURE_TOKEN",
            ApiVersion = "2024-10-21",
            Models = ["m"],
            Labels = new UpstreamLabels { Classification = "UNCLASSIFIED", Jurisdiction = "SE" },
        };

        Assert.Contains(options.Validate(), p => p.Contains(problem, StringComparison.Ordinal));
    }
}
