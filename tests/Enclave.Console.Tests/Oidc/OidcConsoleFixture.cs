using System.Net;
using System.Net.Sockets;

namespace Enclave.OperatorConsole.Tests.Oidc;

/// <summary>
/// The console fixture with single sign-on configured (<c>Console:Oidc</c>) against a <see cref="TestIdentityProvider"/>
/// on loopback. The enclave's port is chosen before it starts, because its redirect URI is part of its configuration.
/// </summary>
public sealed class OidcConsoleFixture : ConsoleFixture
{
    public TestIdentityProvider Provider { get; } = new();

    protected override async Task<IReadOnlyDictionary<string, string?>> MoreSettingsAsync()
    {
        await Provider.StartAsync();
        var port = FreePort();
        Provider.RedirectUri = $"http://127.0.0.1:{port}/console/signin/oidc/callback";
        return new Dictionary<string, string?>
        {
            ["Server:Urls:0"] = $"http://127.0.0.1:{port}",
            ["Console:Oidc:Issuer"] = Provider.Issuer,
            ["Console:Oidc:ClientId"] = TestIdentityProvider.ClientId,
            ["Console:Oidc:RedirectUri"] = Provider.RedirectUri,
            ["Console:Oidc:ClockSkewSeconds"] = "0",
        };
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Provider.DisposeAsync();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
