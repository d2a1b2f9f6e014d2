using Enclave.Intel.Vulnerabilities.Sbom;

namespace Enclave.Cli.Tests;

/// <summary>
/// <c>enclave version --sbom</c> as a real process: Enclave's own SBOM, CycloneDX 1.6, from the dependency graph of the
/// build (enclave.deps.json beside the binary), the same bytes every time, readable by Enclave's own SBOM reader.
/// </summary>
public sealed class VersionSbomTests
{
    [Fact]
    public async Task VersionSbom_IsCycloneDx16_OfEveryPackageOfTheBuild_AndDeterministic()
    {
        var first = await RunAsync("version", "--sbom");
        var second = await RunAsync("version", "--sbom");

        Assert.Equal(first, second);
        var sbom = SbomReader.Read(System.Text.Encoding.UTF8.GetBytes(first), "enclave version --sbom");
        Assert.Equal(("CycloneDX", "1.6"), (sbom.Format, sbom.SpecVersion));
        Assert.All(sbom.Components, c => Assert.Null(c.PurlError));
        var purls = sbom.Components.Select(c => c.PurlText).ToHashSet(StringComparer.Ordinal);
        // Direct packages of the CLI and of the assemblies below it, and a transitive one, at their pinned versions.
        Assert.Contains("pkg:nuget/System.CommandLine@2.0.11", purls);
        Assert.Contains("pkg:nuget/Spectre.Console@0.57.2", purls);
        Assert.Contains("pkg:nuget/Semver@3.0.0", purls);
        Assert.Contains("pkg:nuget/Microsoft.Data.Sqlite@10.0.5", purls);
        Assert.Contains("pkg:nuget/SQLitePCLRaw.core@2.1.13", purls);
        Assert.Contains(purls, p => p!.StartsWith("pkg:nuget/Microsoft.NETCore.App.Runtime.", StringComparison.Ordinal));
        // Enclave's own projects are the SBOM's subject, not components.
        Assert.DoesNotContain(purls, p => p!.Contains("Enclave.", StringComparison.Ordinal));
        Assert.Contains("\"serialNumber\": \"urn:uuid:", first, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Version_NamesTheRelease()
    {
        var text = await RunAsync("version");

        Assert.Matches(@"^enclave \d+\.\d+\.\d+\S* \(\.NET \d+\.\d+\.\d+, \S+\)\n$", text);
    }

    private static async Task<string> RunAsync(params string[] args)
    {
        using var process = CliRunner.Start(args);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, await error);
        return await output;
    }
}
