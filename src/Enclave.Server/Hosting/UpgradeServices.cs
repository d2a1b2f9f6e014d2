using System.Globalization;
using Enclave.Airlock.Import;
using Enclave.Core.Artifacts;
using Enclave.Core.Audit;
using Enclave.Core.Hosting;
using Enclave.Intel.Upgrades;
using Enclave.Intel.Vulnerabilities.Findings;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Enclave.Server.Hosting;

/// <summary>
/// Registers upgrades from activated <c>update</c> bundles: <see cref="UpgradeOptions"/> (section <c>Upgrade</c>,
/// validated on start) and <see cref="UpgradeService"/> over the install root, the airlock's activated updates and the
/// vulnerability view. Call after <see cref="VulnerabilityServices.AddEnclaveVulnerabilities"/>.
/// </summary>
public static class UpgradeServices
{
    /// <summary>The configuration section of <see cref="UpgradeOptions"/>.</summary>
    public const string Section = "Upgrade";

    public static IServiceCollection AddEnclaveUpgrade(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        if (services.Any(d => d.ServiceType == typeof(UpgradeService)))
        {
            return services;
        }

        services.AddValidatedRecord(() => Read(configuration), o => o.Validate());
        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<UpgradeOptions>();
            var root = options.InstallRoot ?? UpgradeOptions.DefaultInstallRoot(sp.GetRequiredService<ServerSettings>().DataDirectory);
            var importer = sp.GetRequiredService<AirlockImporter>();
            return new UpgradeService(
                new ReleaseInstaller(root, options.SelfCheckTimeout, sp.GetService<UpgradeFaultInjection>()?.Fault),
                () => [.. importer.ListActivated("update").Select(a => new UpdateArtifact
                {
                    Name = a.Name,
                    Version = a.Version,
                    ImportId = a.ImportId,
                    Folder = a.Folder,
                    Files = [.. a.Files.Select(f => new ArtifactFile(f.RelativePath, f.Sha256, f.Length))],
                    Activated = a.Activated,
                })],
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

/// <summary>
/// The <c>Upgrade</c> section. <see cref="InstallRoot"/>: where releases are installed (<c>releases/VERSION/</c>, links
/// <c>current</c>, <c>previous</c>, <c>staged</c>); default <c>enclave-install</c> beside the data directory.
/// <see cref="SelfCheckTimeout"/>: how long a release's <c>enclave version --json</c> may take (1 s to 10 min).
/// </summary>
public sealed record UpgradeOptions
{
    public string? InstallRoot { get; init; }

    public TimeSpan SelfCheckTimeout { get; init; } = TimeSpan.FromMinutes(1);

    internal IReadOnlyList<string> ConfigurationProblems { get; init; } = [];

    /// <summary><c>enclave-install</c> in the folder that holds the data directory (<c>./enclave-data</c> → <c>./enclave-install</c>).</summary>
    public static string DefaultInstallRoot(string dataDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(dataDirectory));
        return Path.Combine(Path.GetDirectoryName(full) ?? full, "enclave-install");
    }

    /// <summary>Every problem (empty when valid).</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>(ConfigurationProblems);
        if (SelfCheckTimeout < TimeSpan.FromSeconds(1) || SelfCheckTimeout > TimeSpan.FromMinutes(10))
        {
            problems.Add("Upgrade:SelfCheckTimeout must be between 00:00:01 and 00:10:00");
        }

        if (InstallRoot is { } root && root.IndexOfAny(Path.GetInvalidPathChars()) >= 0)
        {
            problems.Add("Upgrade:InstallRoot is not a valid path");
        }

        return problems;
    }
}

/// <summary>Test hook: a host that registers one makes each upgrade step call <see cref="Fault"/> at its named points (a disk error injected).</summary>
public sealed record UpgradeFaultInjection(Action<string> Fault);
