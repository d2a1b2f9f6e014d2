using Enclave.Server.Hosting;
using Microsoft.Extensions.Configuration;

namespace Enclave.OperatorConsole.Tests;

/// <summary>The Settings page's redaction: by the key's name and by the value's look; plain values and paths are shown.</summary>
public sealed class EffectiveSettingsTests
{
    [Theory]
    [InlineData("Upstream:Backends:0:ApiKeyReference", "env:OPENAI_KEY")]
    [InlineData("Upstream:Backends:0:Headers:X-Api", "abc")]
    [InlineData("Identity:Oidc:ClientSecret", "abc")]
    [InlineData("Notes:SigningKey", "abc")]
    [InlineData("ConnectionStrings:Main", "Data Source=x")]
    [InlineData("Notes:db_password", "abc")]
    [InlineData("Notes:Anything", "ek_abc.def")]
    [InlineData("Notes:Anything", "Server=db;User Id=sa;Pwd=hunter2")]
    [InlineData("Notes:Anything", "Bearer abc")]
    [InlineData("Notes:Anything", "https://u:p@host.invalid/")]
    [InlineData("Notes:Anything", "-----BEGIN EC PRIVATE KEY-----")]
    public void Secret_IsRedacted(string key, string value) => Assert.True(EffectiveSettings.IsSecret(key, value));

    [Theory]
    [InlineData("Server:DataDirectory", "/var/lib/enclave")]
    [InlineData("Server:CertificateKeyPath", "/etc/enclave/tls.key.pem")]
    [InlineData("Server:AdminKeyFile", "/etc/enclave/admin.key")]
    [InlineData("Upstream:Backends:0:BaseUrl", "https://llm.enclave.internal/v1")]
    [InlineData("Console:BannerText", "SECRET//NOFORN")]
    public void PlainValue_IsShown(string key, string value) => Assert.False(EffectiveSettings.IsSecret(key, value));

    [Fact]
    public void Read_ListsEveryValueSorted_WithSecretsReplaced()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Server:Urls:0"] = "http://127.0.0.1:8080",
            ["Upstream:ApiKey"] = "sk-live-123",
        }).Build();

        var rows = new EffectiveSettings(configuration).Read();

        Assert.Equal(["Server:Urls:0", "Upstream:ApiKey"], rows.Select(r => r.Key).ToArray());
        Assert.Equal("http://127.0.0.1:8080", rows[0].Value);
        Assert.False(rows[0].Redacted);
        Assert.Equal(EffectiveSettings.Redacted, rows[1].Value);
        Assert.True(rows[1].Redacted);
    }
}
