using System.Text;
using Enclave.Airlock.Tuf;
using Microsoft.AspNetCore.Http;

namespace Enclave.Airlock.Tests.Tuf;

/// <summary><see cref="HttpMetadataSource"/> and the updater over it, against Kestrel on loopback.</summary>
public sealed class HttpMetadataSourceTests : IAsyncLifetime
{
    private readonly TufTestRepository _repo = new();
    private HttpRepositoryServer _server = null!;

    public async Task InitializeAsync() => _server = await HttpRepositoryServer.StartAsync(_repo);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private HttpMetadataSource Source(TimeSpan? timeout = null) => new(new Uri(_server.MetadataUrl), timeout: timeout);

    [Fact]
    public void Refresh_OverHttp_FetchesTheSpecSequence_WithoutConsistentSnapshots()
    {
        using var source = Source();
        var updater = new Updater(TrustedState.FromRoot(_repo.RootV1), source, _repo.Clock);

        var state = updater.Refresh();

        Assert.Equal(1, state.Targets!.Version);
        Assert.Equal(["2.root.json", "timestamp.json", "snapshot.json", "targets.json"], _server.MetadataRequests);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, source.Requests[0].Status);
    }

    [Fact]
    public void Refresh_OverHttp_FetchesVersionedSnapshotAndTargets_WithConsistentSnapshots()
    {
        _repo.ConsistentSnapshot = true;
        _repo.PublishRoot();
        _repo.Versions["targets"] = 3;
        _repo.Versions["snapshot"] = 2;
        _repo.Publish();
        using var source = Source();
        var updater = new Updater(TrustedState.FromRoot(_repo.RootV1), source, _repo.Clock);

        updater.Refresh();

        Assert.Equal(["2.root.json", "timestamp.json", "2.snapshot.json", "3.targets.json"], _server.MetadataRequests);
    }

    [Theory]
    [InlineData("?", "%3F.json")]
    [InlineData("#", "%23.json")]
    [InlineData("../delegatedrole", "..%2Fdelegatedrole.json")]
    [InlineData("/delegatedrole", "%2Fdelegatedrole.json")]
    [InlineData("a b", "a%20b.json")]
    public void Fetch_PercentEncodesRoleNamesIntoOneSegment(string role, string expected)
    {
        _repo.Source.Files[role + ".json"] = [1, 2, 3];
        using var source = Source();

        var bytes = source.Fetch(role, null, 100);

        Assert.Equal([1, 2, 3], bytes);
        Assert.Equal([expected], _server.MetadataRequests);
    }

    [Fact]
    public void Fetch_ReturnsNull_ForNotFoundAndForbidden()
    {
        _server.Intercept = async context =>
        {
            if (context.Request.Path.Value!.EndsWith("3.root.json", StringComparison.Ordinal))
            {
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                await context.Response.WriteAsync("no");
                return true;
            }

            return false;
        };
        using var source = Source();

        Assert.Null(source.Fetch("root", 2, 1000));
        Assert.Null(source.Fetch("root", 3, 1000));
    }

    [Fact]
    public void Fetch_ServerError_IsAFetchFailure_NotAMissingFile()
    {
        _server.Intercept = context =>
        {
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            return Task.FromResult(true);
        };
        using var source = Source();

        var e = Assert.Throws<TufFetchException>(() => source.Fetch("timestamp", null, 1000));
        Assert.Contains("500", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fetch_ReadsAtMostMaxLengthPlusOne_WhateverTheServerSends()
    {
        _repo.Source.Files["timestamp.json"] = new byte[4 * 1024 * 1024];
        using var source = Source();

        var bytes = source.Fetch("timestamp", null, 1000);

        Assert.Equal(1001, bytes!.Length);
    }

    [Fact]
    public void Fetch_ReadsAtMostMaxLengthPlusOne_WithoutContentLength()
    {
        _server.Intercept = async context =>
        {
            // Chunked, no Content-Length: the source must still stop at the limit.
            for (var i = 0; i < 64; i++)
            {
                await context.Response.Body.WriteAsync(new byte[64 * 1024]);
            }

            return true;
        };
        using var source = Source();

        var bytes = source.Fetch("snapshot", null, 100_000);

        Assert.Equal(100_001, bytes!.Length);
    }

    [Fact]
    public void Refresh_OverHttp_RejectsOversizedTimestamp()
    {
        var padded = TufTestRepository.Parse(_repo.Source.Files["timestamp.json"]);
        padded["padding"] = new string('x', 20_000);
        _repo.Source.Files["timestamp.json"] = TufTestRepository.Envelope(padded, _repo.Keys["timestamp"]);
        using var source = Source();
        var updater = new Updater(TrustedState.FromRoot(_repo.RootV1), source, _repo.Clock);

        var e = Assert.Throws<AirlockRejectedException>(() => updater.Refresh());

        Assert.Equal(AirlockRejection.Oversized, e.Reason);
    }

    [Fact]
    public void Fetch_GivesUp_WhenTheServerStalls()
    {
        _server.Intercept = async context =>
        {
            context.Response.ContentLength = 100;
            await context.Response.Body.WriteAsync(Encoding.ASCII.GetBytes("{"));
            await context.Response.Body.FlushAsync();
            await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
            return true;
        };
        using var source = Source(TimeSpan.FromMilliseconds(500));

        var e = Assert.Throws<TufFetchException>(() => source.Fetch("timestamp", null, 1000));
        Assert.Contains("did not answer", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Refresh_OverHttp_AcceptsRsaPkcs1v15Keys_WhichTheConformanceSimulatorSignsWith()
    {
        foreach (var role in new[] { "root", "timestamp", "snapshot", "targets" })
        {
            _repo.Keys[role] = [new RsaPkcs1TestKey()];
        }

        _repo.PublishRoot();
        _repo.Publish();
        using var source = Source();

        var state = new Updater(TrustedState.FromRoot(_repo.RootV1), source, _repo.Clock).Refresh();

        Assert.Equal("rsa-pkcs1v15-sha256", state.Root.Keys.Values.First().Scheme);
        Assert.Equal(1, state.Targets!.Version);
    }

    [Fact]
    public void Refresh_RejectsAPssSignature_MadeForAKeyListedAsPkcs1v15()
    {
        var pkcs1 = new RsaPkcs1TestKey();
        _repo.Keys["timestamp"] = [pkcs1];
        _repo.PublishRoot();
        _repo.Publish();
        var signed = TufTestRepository.Parse(_repo.Source.Files["timestamp.json"]);
        var pss = pkcs1.SignPss(TufJson.Canonicalize(signed));
        _repo.Source.Files["timestamp.json"] = TestJson.Serialize(new Dictionary<string, object?>
        {
            ["signed"] = signed,
            ["signatures"] = new List<object?> { new Dictionary<string, object?> { ["keyid"] = pkcs1.KeyId, ["sig"] = Convert.ToHexStringLower(pss) } },
        });
        using var source = Source();

        var e = Assert.Throws<AirlockRejectedException>(() => new Updater(TrustedState.FromRoot(_repo.RootV1), source, _repo.Clock).Refresh());

        Assert.Equal(AirlockRejection.BadSignature, e.Reason);
    }

    [Fact]
    public void Constructor_RefusesNonHttpUrls()
    {
        Assert.Throws<ArgumentException>(() => new HttpMetadataSource(new Uri("file:///etc/")));
        Assert.Throws<ArgumentException>(() => new HttpMetadataSource(new Uri("http://127.0.0.1/metadata?x=1")));
    }
}

/// <summary>An RSA key with securesystemslib's <c>rsa-pkcs1v15-sha256</c> scheme (tuf-conformance's default signer).</summary>
internal sealed class RsaPkcs1TestKey : TestKey
{
    private static readonly System.Security.Cryptography.RSA Shared = System.Security.Cryptography.RSA.Create(2048);
    private readonly Dictionary<string, object?> _key = Key("rsa", "rsa-pkcs1v15-sha256", Shared.ExportSubjectPublicKeyInfoPem());

    public override Dictionary<string, object?> KeyObject => _key;

    public override byte[] SignRaw(byte[] data) =>
        Shared.SignData(data, System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);

    public byte[] SignPss(byte[] data) =>
        Shared.SignData(data, System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pss);
}
