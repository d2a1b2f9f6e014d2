namespace Enclave.OperatorConsole.Tests;

/// <summary>
/// A model that did not come through the airlock says where it came from instead of a lineage: an upstream backend's
/// model configured in <c>Upstream:Backends</c> (here one inside the enclave, on a loopback port nothing listens on: the
/// page reads the configuration, never the backend).
/// </summary>
public sealed class ModelOriginTests(ModelOriginTests.UpstreamFixture enclave) : IClassFixture<ModelOriginTests.UpstreamFixture>
{
    [Fact]
    public async Task UpstreamModel_SaysItIsAConfiguredUpstreamModel_WithItsBackend_AndNoAirlockLineage()
    {
        await using var context = await enclave.NewContextAsync();
        var page = await ConsoleFixture.SignInAsync(context, enclave.AdminKey);
        await page.GotoAsync("/console/models");
        var lineage = page.Locator("section.lineage[data-model='upstream-chat']");
        Assert.Equal(
            "configured upstream model, served by inside-llm: not brought in through the airlock, so it has no bundle, signers or approvals",
            (await lineage.Locator(".origin").TextContentAsync())!.Trim());
        Assert.Equal(0, await lineage.Locator(".bundle, .signers, .approvers, .activated").CountAsync());
        // No request yet: its usage is zero, from the rollup, and links to the Usage page filtered to it.
        var row = page.Locator("#models tbody tr", new() { HasText = "upstream-chat" });
        Assert.Equal("0", (await row.Locator(".usage-requests").TextContentAsync())!.Trim());
        Assert.Equal("/console/usage?range=month&by=principal&model=upstream-chat", await row.Locator(".usage-requests a").GetAttributeAsync("href"));
    }

    /// <summary>The console fixture with one upstream backend serving <c>upstream-chat</c>.</summary>
    public sealed class UpstreamFixture : ConsoleFixture
    {
        protected override Task<IReadOnlyDictionary<string, string?>> MoreSettingsAsync() => Task.FromResult<IReadOnlyDictionary<string, string?>>(new Dictionary<string, string?>
        {
            ["Upstream:Backends:0:Name"] = "inside-llm",
            ["Upstream:Backends:0:BaseUrl"] = "http://127.0.0.1:9/v1",
            ["Upstream:Backends:0:Models:0"] = "upstream-chat",
            ["Upstream:Backends:0:Labels:Classification"] = "UNCLASSIFIED",
            ["Upstream:Backends:0:Labels:Jurisdiction"] = "local",
        });
    }
}
