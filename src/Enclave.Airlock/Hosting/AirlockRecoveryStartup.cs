using Enclave.Airlock.Import;
using Enclave.Core.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Enclave.Airlock.Hosting;

/// <summary>
/// Start-up stage 2: airlock crash recovery (<see cref="AirlockImporter.RecoverAsync"/>), while the ledger holds the
/// data directory and before models are loaded from the airlock's state or the server listens. What it did goes to
/// the host's <see cref="IStartupNotices"/> in one line. The importer is resolved when the stage runs, not when the
/// host constructs its hosted services (which it does before it validates the configuration).
/// </summary>
internal sealed class AirlockRecoveryStartup(IServiceProvider services) : StartupStage(services)
{
    protected override async Task RunAsync(CancellationToken cancellationToken)
    {
        var importer = Services.GetRequiredService<AirlockImporter>();
        if ((await importer.RecoverAsync(cancellationToken).ConfigureAwait(false)).Describe() is { } recovered)
        {
            Services.GetRequiredService<IStartupNotices>().Notice(recovered);
        }
    }
}
