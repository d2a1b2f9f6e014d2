using System.Net;
using Enclave.State.Retention;

namespace Enclave.Server.Hosting;

/// <summary>How <c>enclave serve</c> runs.</summary>
public sealed record ServerSettings
{
    public required string DataDirectory { get; init; }

    /// <summary>
    /// A directory every replica mounts at the same path (<c>Server:SharedDirectory</c>): the airlock's blobs, activated
    /// artifacts and quarantines live there, so that an import read by one replica can be approved on another and a model
    /// activated on one is served by all. Null (the default): all in the data directory (one server). What the volume
    /// must guarantee is in docs/cluster.md.
    /// </summary>
    public string? SharedDirectory { get; init; }

    /// <summary>Addresses to listen on, e.g. <c>http://127.0.0.1:8080</c>.</summary>
    public IReadOnlyList<string> Urls { get; init; } = ["http://127.0.0.1:8080"];

    /// <summary>PEM certificate (chain) for https URLs.</summary>
    public string? CertificatePath { get; init; }

    /// <summary>PEM private key for <see cref="CertificatePath"/>.</summary>
    public string? CertificateKeyPath { get; init; }

    /// <summary>Permit plain HTTP on addresses other than loopback (traffic and API keys travel unencrypted).</summary>
    public bool AllowInsecureHttp { get; init; }

    /// <summary>Largest request body accepted.</summary>
    public long MaxRequestBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>
    /// Largest bundle <c>POST /admin/v1/airlock/imports</c> accepts (default 64 GiB); only that endpoint lifts
    /// <see cref="MaxRequestBytes"/>, and only for a caller allowed to import.
    /// </summary>
    public long MaxImportBytes { get; init; } = 64L * 1024 * 1024 * 1024;

    /// <summary>An OpenTelemetry collector inside the enclave to send traces and metrics to (OTLP); none by default.</summary>
    public Uri? OtlpEndpoint { get; init; }

    /// <summary>
    /// How often the ledger signs a checkpoint while entries arrive (zero: in every commit). Entries are durable
    /// before their append returns either way; the interval only bounds how far the newest signed checkpoint lags.
    /// Signing in every commit cost the gateway 12 % of its throughput (docs/benchmarks.md).
    /// </summary>
    public TimeSpan CheckpointInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The airlock's approvals per kind and signature requirements (configuration section <c>Airlock</c>).</summary>
    public AirlockSettings Airlock { get; init; } = new();

    /// <summary>How the request trail is written (configuration section <c>Audit</c>): completion entries durable before the answer by default.</summary>
    public Enclave.Server.Audit.AuditOptions Audit { get; init; } = new();

    /// <summary>
    /// Where the enclave's state is kept (configuration section <c>State</c>): SQLite files in the data directory by default,
    /// or a PostgreSQL database (<c>State:Provider = postgres</c>, <c>State:ConnectionString</c>).
    /// </summary>
    public Enclave.State.StateSettings State { get; init; } = Enclave.State.StateSettings.Embedded;

    /// <summary>Whether and how long prompts and answers are kept (encrypted); off by default.</summary>
    public RetentionOptions Retention { get; init; } = new();

    /// <summary>Stored responses of the Responses API: retention period, purge interval, background bound (section <c>Responses</c>).</summary>
    public Responses.ResponsesOptions Responses { get; init; } = new();
    /// <summary>Single sign-on with OIDC bearer tokens (configuration section <c>Identity:Oidc</c>); off when null.</summary>
    public Auth.OidcOptions? Oidc { get; init; }

    /// <summary>
    /// Where start-up keeps the first admin key (owner-only) instead of printing it once: <c>enclave up</c>'s demo key
    /// file, reused while it is valid. Null (the default): a key is created only when no enabled admin has one.
    /// </summary>
    public string? AdminKeyFile { get; init; }

    /// <summary>Values in the configuration that did not parse (<see cref="EnclaveConfiguration.Server"/>); listed by <see cref="Validate"/>.</summary>
    public IReadOnlyList<string> ConfigurationProblems { get; init; } = [];

    /// <summary>Every problem with these settings (empty when valid).</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>(ConfigurationProblems);
        if (string.IsNullOrWhiteSpace(DataDirectory))
        {
            problems.Add("a data directory is required (--data)");
        }

        if (SharedDirectory is not null && !Path.IsPathFullyQualified(SharedDirectory))
        {
            problems.Add($"Server:SharedDirectory '{SharedDirectory}' must be an absolute path, the same on every replica");
        }

        problems.AddRange(Audit.Validate());
        problems.AddRange(State.Validate());
        if (Urls.Count == 0)
        {
            problems.Add("at least one URL to listen on is required (--urls)");
        }

        foreach (var url in Urls)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                problems.Add($"'{url}' is not an http:// or https:// URL");
                continue;
            }

            if (uri.Scheme == Uri.UriSchemeHttps && (CertificatePath is null || CertificateKeyPath is null))
            {
                problems.Add($"'{url}' is https: give --certificate and --certificate-key (PEM files)");
            }

            if (uri.Scheme == Uri.UriSchemeHttp && !AllowInsecureHttp && !IsLoopback(uri.Host))
            {
                problems.Add($"'{url}' is plain HTTP on a non-loopback address: API keys and prompts would cross the network unencrypted. Use https with a certificate, or pass --allow-insecure-http to accept that risk");
            }
        }

        if (MaxRequestBytes is < 1024 or > 256L * 1024 * 1024)
        {
            problems.Add("MaxRequestBytes must be between 1 KiB and 256 MiB");
        }

        if (MaxImportBytes is < 1024 or > 16L * 1024 * 1024 * 1024 * 1024)
        {
            problems.Add("MaxImportBytes must be between 1 KiB and 16 TiB");
        }

        if (CheckpointInterval < TimeSpan.Zero || CheckpointInterval > TimeSpan.FromHours(1))
        {
            problems.Add("the checkpoint interval must be between 0 and 3600 seconds");
        }

        problems.AddRange(Retention.Validate());
        problems.AddRange(Responses.Validate());
        problems.AddRange(Airlock.Validate());
        if (Oidc is not null)
        {
            problems.AddRange(Oidc.Validate());
        }

        return problems;
    }

    internal static bool IsLoopback(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));
}
