using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Enclave.Ledger;
using Enclave.Policy.Identity;
using Enclave.Server.Hosting;
using Microsoft.Extensions.Configuration;

namespace Enclave.EndToEnd.Tests;

public sealed class TransportSecurityTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("enclave-tls-").FullName;

    [Fact]
    public async Task Https_ServesWithTheConfiguredPemCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=enclave.test", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        var certPath = Path.Combine(_dir, "cert.pem");
        var keyPath = Path.Combine(_dir, "key.pem");
        File.WriteAllText(certPath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        var data = Path.Combine(_dir, "data");
        SqliteLedger.Initialize(data, "tls.example/ledger", false, TimeProvider.System);
        var apiKey = new ApiKeyStore(data, TimeProvider.System).Create("tls", "admin").Key;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Server:DataDirectory"] = data,
            ["Server:Urls:0"] = "https://127.0.0.1:0",
            ["Server:CertificatePath"] = certPath,
            ["Server:CertificateKeyPath"] = keyPath,
        }).Build();
        await using var app = EnclaveHost.Create(configuration);
        await app.StartAsync();

        X509Certificate2? presented = null;
        using var handler = new HttpClientHandler
        {
            // Trust exactly the test's certificate, nothing else.
            ServerCertificateCustomValidationCallback = (_, cert, _, _) =>
            {
                presented = cert is null ? null : X509CertificateLoader.LoadCertificate(cert.RawData);
                return cert is not null && cert.RawData.AsSpan().SequenceEqual(certificate.RawData);
            },
        };
        using var http = new HttpClient(handler) { BaseAddress = new Uri(app.Urls.First()) };
        http.DefaultRequestHeaders.Authorization = new("Bearer", apiKey);

        var response = await http.GetAsync("/v1/models");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(certificate.Thumbprint, presented?.Thumbprint);
        await app.StopAsync();
    }

    [Theory]
    [InlineData("http://0.0.0.0:8080", false, "non-loopback")]
    [InlineData("http://10.1.2.3:8080", false, "non-loopback")]
    [InlineData("https://127.0.0.1:8443", false, "--certificate")]
    [InlineData("ftp://127.0.0.1:21", false, "not an http")]
    public void Settings_RefuseUnsafeOrIncompleteListeners(string url, bool allowInsecure, string expected)
    {
        var problems = new ServerSettings { DataDirectory = _dir, Urls = [url], AllowInsecureHttp = allowInsecure }.Validate();
        Assert.Contains(problems, p => p.Contains(expected, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080")]
    [InlineData("http://localhost:8080")]
    [InlineData("http://[::1]:8080")]
    public void Settings_AllowPlainHttpOnLoopback(string url)
    {
        Assert.Empty(new ServerSettings { DataDirectory = _dir, Urls = [url] }.Validate());
    }

    [Fact]
    public void Settings_AllowPlainHttpElsewhereOnlyWhenAskedExplicitly()
    {
        Assert.Empty(new ServerSettings { DataDirectory = _dir, Urls = ["http://0.0.0.0:8080"], AllowInsecureHttp = true }.Validate());
    }

    public void Dispose() => Directory.Delete(_dir, true);
}
