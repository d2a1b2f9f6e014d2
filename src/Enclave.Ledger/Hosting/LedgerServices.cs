using Enclave.Core.Audit;
using Enclave.Core.Hosting;
using Enclave.State;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Enclave.Ledger.Hosting;

/// <summary>Registers the audit ledger of the data directory.</summary>
public static class LedgerServices
{
    /// <summary>What the server writes in the data directory's lock while it holds the ledger.</summary>
    public const string Purpose = "enclave serve";

    /// <summary>
    /// <see cref="SqliteLedger"/> (and <see cref="ILedger"/>) over the data directory <paramref name="location"/> gives
    /// (with the checkpoint interval), its tables in the host's <see cref="StateConnectionFactory"/>: opened, or
    /// initialised with a new key pair when the directory has no ledger yet (the verifier key an
    /// <see cref="IStartupNotices"/> notice), when first resolved: start-up stage 1, <see cref="LedgerStartup"/>. The
    /// container owns it: it closes the ledger, and releases the directory's lock, when the host is disposed.
    /// </summary>
    public static IServiceCollection AddEnclaveLedger(this IServiceCollection services, Func<IServiceProvider, (string DataDirectory, TimeSpan CheckpointInterval)> location)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(location);
        services.TryAddSingleton(sp =>
        {
            var (dataDirectory, checkpointInterval) = location(sp);
            var notices = sp.GetRequiredService<IStartupNotices>();
            return OpenOrInitialize(dataDirectory, checkpointInterval, sp.GetRequiredService<TimeProvider>(), notices.Notice, sp.GetRequiredService<StateConnectionFactory>(), sp.GetService<ILogger<SqliteLedger>>());
        });
        services.TryAddSingleton<ILedger>(sp => sp.GetRequiredService<SqliteLedger>());
        services.AddStartupStage<LedgerStartup>();
        return services;
    }

    /// <summary>
    /// Opens the ledger of <paramref name="dataDirectory"/> as the server's writer, initialising it first (origin
    /// <see cref="DefaultOrigin"/>, one Ed25519 key) when there is none; <paramref name="notice"/> gets the new verifier key.
    /// </summary>
    public static SqliteLedger OpenOrInitialize(string dataDirectory, TimeSpan checkpointInterval, TimeProvider clock, Action<string> notice) =>
        OpenOrInitialize(dataDirectory, checkpointInterval, clock, notice, state: null);

    /// <summary>As <see cref="OpenOrInitialize(string, TimeSpan, TimeProvider, Action{string})"/>, with the ledger's tables in <paramref name="state"/> (null: <c>enclave.db</c>) and its log messages to <paramref name="logger"/>.</summary>
    public static SqliteLedger OpenOrInitialize(string dataDirectory, TimeSpan checkpointInterval, TimeProvider clock, Action<string> notice, StateConnectionFactory? state, ILogger<SqliteLedger>? logger = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(notice);
        var options = new LedgerOptions { DataDirectory = dataDirectory, Purpose = Purpose, CheckpointInterval = checkpointInterval, State = state };
        try
        {
            return SqliteLedger.Open(options, clock, logger);
        }
        catch (LedgerNotFoundException)
        {
            var keys = SqliteLedger.Initialize(dataDirectory, DefaultOrigin(), postQuantum: false, clock, state);
            notice($"initialised a new ledger in {dataDirectory}; its verifier key: {keys[0]}");
            return SqliteLedger.Open(options, clock, logger);
        }
    }

    /// <summary>The origin of a ledger the server initialises: <c>HOSTNAME/enclave-ledger</c>.</summary>
    public static string DefaultOrigin()
    {
        var host = new string([.. Environment.MachineName.ToLowerInvariant().Where(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.')]);
        return (host.Length == 0 ? "localhost" : host) + "/enclave-ledger";
    }
}
