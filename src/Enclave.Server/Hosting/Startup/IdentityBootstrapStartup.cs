using Enclave.Core.Audit;
using Enclave.Ledger;
using Enclave.Server.Auth;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Enclave.Server.Hosting.Startup;

/// <summary>
/// Start-up stage 4: makes sure the enclave can be administered (<see cref="IdentityBootstrap.EnsureAdminKeyAsync"/>,
/// kept in <see cref="ServerSettings.AdminKeyFile"/> when set). The outcome is in
/// <see cref="EnclaveStartupReport.AdminKey"/>: the host prints a key created now once; a problem is a notice.
/// Services are resolved when the stage runs, not when the host constructs it, so that nothing opens before its stage.
/// </summary>
internal sealed class IdentityBootstrapStartup(IServiceProvider services) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = services.GetRequiredService<ServerSettings>();
        var report = services.GetRequiredService<EnclaveStartupReport>();
        var result = await IdentityBootstrap.EnsureAdminKeyAsync(
            services.GetRequiredService<ApiKeyStore>(),
            services.GetRequiredService<ILedger>(),
            services.GetRequiredService<TimeProvider>(),
            settings.AdminKeyFile,
            cancellationToken).ConfigureAwait(false);
        report.AdminKey = result;
        if (result.Problem is not null)
        {
            report.Notice("warning: " + result.Problem);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
