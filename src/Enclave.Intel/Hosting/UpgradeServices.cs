using System.Globalization;
using Enclave.Core.Audit;
using Enclave.Core.Hosting;
using Enclave.Intel.Upgrades;
using Enclave.Intel.Vulnerabilities.Findings;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Enclave.Intel.Hosting;

/// <summary>
/// Registers upgrades from activated <c>update</c> bundles: <see cref="UpgradeOptions"/> (section <c>Upgrade</c>,
/// validated on start) and <see cref="UpgradeService"/> over the install root, the airlock's activated updates and the
/// vulnerability view. Call after <see cref="VulnerabilityServices.AddEnclaveVulnerabilities"/>.
/// </summary>
public static class UpgradeServices
{
    /// <summary>The configuration section of <see cref="UpgradeOptions"/>.</summary>
    public const string Section = "Upgrade";

    /// <summary>
    /// <see cref="UpgradeOptions"/> from <paramref name="configuration"/> (validated on start, every problem listed) and
    /// <see cref="UpgradeService"/>, once: a second call adds nothing. What it needs of the host comes from
    /// <paramref name="host"/> when the service is first resolved: the data directory (the install root's default is
    /// beside it) and the activated <c>update</c> artifacts, listed afresh at each call (the airlock's, which this
    /// assembly does not reference). Enclave's own SBOM (<see cref="EnclaveSbom"/>), the vulnerability view and a
    /// <see cref="UpgradeFaultInjection"/> are used when the host registered them.
    /// </summary>
    public static IServiceCollection AddEnclaveUpgrade(this IServiceCollection services, IConfiguration configuration, Func<IServiceProvider, (string DataDirectory, Func<IReadOnlyList<UpdateArtifact>> Activated)> host)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(host);
        if (services.Any(d => d.ServiceType == typeof(UpgradeService)))
        {
            return services;
        }

        services.AddValidatedRecord(() => Read(configuration), o => o.Validate());
        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<UpgradeOptions>();
            var (dataDirectory, activated) = host(sp);
            var root = options.InstallRoot ?? UpgradeOptions.DefaultInstallRoot(dataDirectory);
            return new UpgradeService(
                new ReleaseInstaller(root, options.SelfCheckTimeout, sp.GetService<UpgradeFaultInjection>()?.Fault),
                activated,
                sp.GetService<VulnerabilityFindingsService>(),
                sp.GetRequiredService<ILedger>(),
                sp.GetRequiredService<TimeProvider>(),
                sp.GetService<EnclaveSbom>());
        });
        return services;
    }

    /// <summary>The <c>Upgrade</c> section: <c>InstallRoot</c> (default beside the data directory), <c>SelfCheckTimeout</c> (hh:mm:ss, default 1 minute).</summary>
    public static UpgradeOptions Read(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(Section);
        var problems = new List<string>();
        var options = new UpgradeOptions { InstallRoot = string.IsNullOrWhiteSpace(section["InstallRoot"]) ? null : section["InstallRoot"] };
        if (section["SelfCheckTimeout"] is { } timeout)
        {
            if (TimeSpan.TryParse(timeout, CultureInfo.InvariantCulture, out var parsed))
            {
                options = options with { SelfCheckTimeout = parsed };
            }
            else
            {
                problems.Add($"Upgrade:SelfCheckTimeout '{timeout}' is not a duration; write hh:mm:ss, e.g. 00:01:00");
            }
        }

        return options with { ConfigurationProblems = problems };
    }
}
