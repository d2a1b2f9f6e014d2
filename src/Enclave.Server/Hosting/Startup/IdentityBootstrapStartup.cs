using Enclave.Core.Audit;
using Enclave.Core.Hosting;
using Enclave.Ledger;
using Enclave.Policy.Identity;
using Enclave.Server.Auth;
using Microsoft.Extensions.DependencyInjection;

namespace Enclave.Server.Hosting.Startup;

/// <summary>
/// Start-up stage 4: makes sure the enclave can be administered (<see cref="IdentityBootstrap.EnsureAdminKeyAsync"/>,
/// kept in <see cref="ServerSettings.AdminKeyFile"/> when set). The outcome is in
/// <see cref="EnclaveStartupReport.AdminKey"/>: the host prints a key created now once; a problem is a notice.
/// Services are resolved when the stage runs, not when the host constructs it, so that nothing opens before its stage.
/// </summary>
internal sealed class IdentityBootstrapStartup(IServiceProvider services) : StartupStage(services)
{
    protected override async Task RunAsync(CancellationToken cancellationToken)
    {
        var settings = Services.GetRequiredService<ServerSettings>();
        var report = Services.GetRequiredService<EnclaveStartupReport>();
        var result = await IdentityBootstrap.EnsureAdminKeyAsync(
            Services.GetRequiredService<ApiKeyStore>(),
            Services.GetRequiredService<ILedger>(),
            Services.GetRequiredService<TimeProvider>(),
            settings.AdminKeyFile,
            cancellationToken).ConfigureAwait(false);
        report.AdminKey = result;
        if (result.Problem is not null)
        {
            report.Notice("warning: " + result.Problem);
        }
    }

}
