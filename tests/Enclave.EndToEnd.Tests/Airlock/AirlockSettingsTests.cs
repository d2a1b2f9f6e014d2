using Enclave.Server.Hosting;

namespace Enclave.EndToEnd.Tests.Airlock;

/// <summary>The <c>Airlock</c> configuration section reaches the import pipeline, and bad values are named.</summary>
public sealed class AirlockSettingsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("enclave-airlock-settings-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private Microsoft.Extensions.Configuration.IConfiguration Load(string json)
    {
        var path = Path.Combine(_dir, "enclave.json");
        File.WriteAllText(path, json);
        return EnclaveConfiguration.Load(path);
    }

    [Fact]
    public void Configured_approvals_and_signature_requirements_reach_the_importer_options()
    {
        var settings = EnclaveConfiguration.Airlock(Load("""
            { "Airlock": { "RequiredApprovals": { "model": 3, "intel": 2 }, "RequirePostQuantumSignature": true, "RequireSbom": true } }
            """));
        var options = settings.ToImportOptions(_dir);

        Assert.Empty(settings.Validate());
        Assert.Equal(3, options.ApprovalsFor("model"));
        Assert.Equal(2, options.ApprovalsFor("intel"));
        Assert.Equal(2, options.ApprovalsFor("update")); // unlisted kinds keep their defaults
        Assert.Equal(1, options.ApprovalsFor("dataset"));
        Assert.True(options.Tuf.RequirePostQuantumSignature);
        Assert.True(options.RequireSbom);
        Assert.False(options.RequireProvenance);
        Assert.Equal(_dir, options.DataDirectory);
    }

    [Fact]
    public void Without_a_section_the_defaults_apply()
    {
        var options = EnclaveConfiguration.Airlock(Load("{}")).ToImportOptions(_dir);
        Assert.Equal(2, options.ApprovalsFor("model"));
        Assert.Equal(1, options.ApprovalsFor("intel"));
        Assert.False(options.Tuf.RequirePostQuantumSignature);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(17)]
    [InlineData(-1)]
    public void Approvals_outside_1_to_16_are_refused_at_start_up(int count)
    {
        var settings = EnclaveConfiguration.Airlock(Load($$"""{ "Airlock": { "RequiredApprovals": { "model": {{count}} } } }"""));
        var problem = Assert.Single(settings.Validate());
        Assert.Contains("RequiredApprovals[model]", problem, StringComparison.Ordinal);
        var serverProblems = new ServerSettings { DataDirectory = _dir, Airlock = settings }.Validate();
        Assert.Contains(serverProblems, p => p.StartsWith("Airlock: ", StringComparison.Ordinal));
    }
}
