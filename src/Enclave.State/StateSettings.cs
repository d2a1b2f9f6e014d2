using Enclave.State.Postgres;

namespace Enclave.State;

/// <summary>Where an enclave keeps its state (configuration section <c>State</c>).</summary>
public enum StateProvider
{
    /// <summary><c>enclave.db</c> and <c>retention.db</c> in the data directory (the default of <c>up</c> and <c>serve</c>).</summary>
    Sqlite,

    /// <summary>A PostgreSQL database named by <see cref="StateSettings.ConnectionString"/>, shared by replicas.</summary>
    Postgres,
}

/// <summary>
/// The <c>State</c> section: <c>Provider</c> (<c>sqlite</c>, the default, or <c>postgres</c>) and, for PostgreSQL,
/// <c>ConnectionString</c> (an Npgsql connection string: <c>Host=db;Port=5432;Database=enclave;Username=enclave;Password=...</c>;
/// also <c>ENCLAVE__State__ConnectionString</c>). Validated at start, every problem listed.
/// </summary>
public sealed record StateSettings
{
    /// <summary>The configuration section's name.</summary>
    public const string Section = "State";

    /// <summary>The embedded default: SQLite files in the data directory.</summary>
    public static StateSettings Embedded { get; } = new();

    /// <summary>Which engine holds the state.</summary>
    public StateProvider Provider { get; init; } = StateProvider.Sqlite;

    /// <summary>The PostgreSQL connection string (Npgsql syntax); only with <see cref="StateProvider.Postgres"/>.</summary>
    public string? ConnectionString { get; init; }

    /// <summary>Values of the section that did not parse (a provider name not known); listed by <see cref="Validate"/>.</summary>
    public IReadOnlyList<string> ConfigurationProblems { get; init; } = [];

    /// <summary>
    /// Reads the section's values as given (<paramref name="provider"/> and <paramref name="connectionString"/> may be null):
    /// an unknown provider becomes a problem that <see cref="Validate"/> lists.
    /// </summary>
    public static StateSettings From(string? provider, string? connectionString)
    {
        var problems = new List<string>();
        var parsed = StateProvider.Sqlite;
        switch (provider?.Trim().ToLowerInvariant())
        {
            case null or "" or "sqlite":
                break;
            case "postgres" or "postgresql":
                parsed = StateProvider.Postgres;
                break;
            default:
                problems.Add($"{Section}:Provider '{provider}' is not known: use 'sqlite' (files in the data directory, the default) or 'postgres'");
                break;
        }

        return new StateSettings
        {
            Provider = parsed,
            ConnectionString = string.IsNullOrWhiteSpace(connectionString) ? null : connectionString,
            ConfigurationProblems = problems,
        };
    }

    /// <summary>Every problem of the settings (empty when they are usable). Never repeats a password.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>(ConfigurationProblems);
        if (Provider == StateProvider.Sqlite && ConnectionString is not null)
        {
            problems.Add($"{Section}:ConnectionString is set but {Section}:Provider is 'sqlite', which keeps its files in the data directory: set {Section}:Provider to 'postgres' or remove the connection string");
        }

        if (Provider == StateProvider.Postgres)
        {
            if (ConnectionString is null)
            {
                problems.Add($"{Section}:Provider is 'postgres' but {Section}:ConnectionString is empty: give an Npgsql connection string such as 'Host=db.example;Database=enclave;Username=enclave' (ENCLAVE__State__ConnectionString)");
            }
            else
            {
                try
                {
                    using var factory = new PostgresConnectionFactory(ConnectionString);
                }
                catch (ArgumentException ex)
                {
                    // Npgsql's messages name the keyword, not the value, so no password is repeated.
                    problems.Add($"{Section}:ConnectionString is not a valid PostgreSQL connection string: {ex.Message}");
                }
            }
        }

        return problems;
    }

    /// <summary>The provider only: the connection string may hold a password and is never printed.</summary>
    public override string ToString() => $"StateSettings {{ Provider = {Provider} }}";

    /// <summary>The connection factory these settings name (<paramref name="dataDirectory"/> for SQLite); validate first.</summary>
    public StateConnectionFactory CreateFactory(string dataDirectory) => Provider switch
    {
        StateProvider.Postgres => new PostgresConnectionFactory(ConnectionString ?? throw new InvalidOperationException($"{Section}:ConnectionString is required for postgres")),
        _ => new SqliteConnectionFactory(dataDirectory),
    };
}
