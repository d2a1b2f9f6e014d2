using Enclave.Core.Audit;
using Enclave.Ledger;
using Enclave.Server.Hosting.Startup;
using Enclave.State;
using Enclave.State.Changes;
using Enclave.State.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Enclave.Server.Hosting;

/// <summary>Registers the audit ledger of the data directory.</summary>
public static class LedgerServices
{
    /// <summary>What the server writes in the data directory's lock while it holds the ledger.</summary>
    public const string Purpose = "enclave serve";

    /// <summary>
    /// The enclave's state (<see cref="StateServices.AddEnclaveState"/>: <see cref="StateConnectionFactory"/>,
    /// <see cref="ServerSettings.State"/>: SQLite in the data directory or PostgreSQL, migrated when first resolved;
    /// <see cref="StateChanges"/>), and
    /// <see cref="SqliteLedger"/> (and <see cref="ILedger"/>) over <see cref="ServerSettings.DataDirectory"/>, opened, or
    /// initialised with a new key pair when the directory has no ledger yet, when first resolved (start-up stage 1,
    /// <see cref="LedgerStartup"/>). The container owns it: it closes the ledger, and releases the directory's lock,
    /// when the host is disposed.
    /// </summary>
    public static IServiceCollection AddEnclaveLedger(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);

        // The enclave's state (SQLite files in the data directory, or PostgreSQL), opened and migrated once for every
        // component, and the change feed between replicas: Enclave.State's own registration.
        services.AddEnclaveState(sp =>
        {
            var settings = sp.GetRequiredService<ServerSettings>();
            return (settings.DataDirectory, settings.State);
        });
        services.TryAddSingleton(sp =>
        {
            var settings = sp.GetRequiredService<ServerSettings>();
            var report = sp.GetRequiredService<EnclaveStartupReport>();
            return OpenOrInitialize(settings.DataDirectory, settings.CheckpointInterval, sp.GetRequiredService<TimeProvider>(), report.Notice, sp.GetRequiredService<StateConnectionFactory>(), sp.GetService<ILogger<SqliteLedger>>());
        });
        services.TryAddSingleton<ILedger>(sp => sp.GetRequiredService<SqliteLedger>());
        services.AddHostedService<LedgerStartup>();
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
