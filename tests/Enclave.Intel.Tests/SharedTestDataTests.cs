namespace Enclave.Intel.Tests;

public sealed class SharedTestDataTests
{
    [Theory]
    [InlineData("stix")]
    [InlineData("misp")]
    [InlineData("sigma")]
    [InlineData("osv")]
    [InlineData("kev")]
    [InlineData("vex")]
    [InlineData("sbom")]
    public void SharedIntelFolder_HasReadmeAndData(string folder)
    {
        var readme = SharedTestData.Intel(Path.Combine(folder, "README.md"));
        Assert.True(File.Exists(readme), $"{readme} is missing");
        var data = Directory.EnumerateFiles(SharedTestData.Intel(folder), "*.json", SearchOption.AllDirectories).Count();
        Assert.True(data > 0, $"no JSON data under {folder}");
    }
}
