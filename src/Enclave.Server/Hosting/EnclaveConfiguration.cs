using System.Globalization;
using Enclave.Inference.Upstream;
using Enclave.Policy.Requests;
using Enclave.State.Retention;
using Microsoft.Extensions.Configuration;

namespace Enclave.Server.Hosting;

/// <summary>
/// Server configuration: an optional JSON file (<c>--config</c>) overlaid by <c>ENCLAVE__</c> environment variables
/// (e.g. <c>ENCLAVE__Upstream__Backends__0__BaseUrl</c>). Sections: <c>Upstream</c> (backends, retry policy, labels),
/// <c>Server</c> (<see cref="ServerSettings"/>: data directory, URLs, certificate; the CLI's options land here),
/// <c>Models</c> (per-model settings: <c>Kind</c>, <c>Label</c>), <c>Engine:Gguf</c> (GGUF models through llama.cpp:
/// <c>ContextLength</c>, <c>Threads</c>, <c>BatchSize</c>, <c>MemoryMap</c>, <c>FlashAttention</c>, <c>CacheType</c>, <c>ExactBatching</c>; <see cref="Enclave.Inference.Gguf.GgufEngineOptions"/>), <c>Engine:Onnx</c> (ONNX models: threads,
/// bounds, <c>ContinuousBatching</c>, <c>PrefillChunkTokens</c>; <see cref="Enclave.Inference.Onnx.OnnxEngineOptions"/>), <c>Policy</c> (label scheme, default request label,
/// jurisdictions, egress), <c>Quotas</c> (rates and budgets per principal and role), <c>Identity:Oidc</c> (single sign-on,
/// <see cref="Auth.OidcOptions"/>) <c>Retention</c> (encrypted content retention), <c>Responses</c> (stored responses:
/// <c>RetentionDays</c>, <c>PurgeInterval</c>, <c>MaxBackground</c>; <see cref="Responses.ResponsesOptions"/>), <c>Airlock</c> (approvals, signature requirements), <c>Audit</c>
/// (<see cref="Audit.AuditOptions.CompletionDurability"/>), <c>State</c> (<c>Provider</c>: <c>sqlite</c>, the default, or
/// <c>postgres</c>; <c>ConnectionString</c>: the Npgsql connection string for <c>postgres</c>, e.g.
/// <c>ENCLAVE__State__ConnectionString</c>; <see cref="Enclave.State.StateSettings"/>), <c>Vulns</c> (<c>MaxDataAge</c>, <c>BlockApprovalOnKev</c>:
/// <see cref="Enclave.Intel.Hosting.VulnerabilityServices.Read"/>) and <c>Upgrade</c> (<c>InstallRoot</c>, default <c>enclave-install</c> beside the
/// data directory; <c>SelfCheckTimeout</c>: <see cref="Enclave.Intel.Hosting.UpgradeServices.Read"/>).
/// </summary>
public static class EnclaveConfiguration
{
    public static IConfiguration Load(string? path)
    {
        var builder = new ConfigurationBuilder();
        if (path is not null)
        {
            if (!File.Exists(path))
            {
                throw new FileNotFoundException($"configuration file '{path}' does not exist", path);
            }

            builder.AddJsonFile(Path.GetFullPath(path), optional: false, reloadOnChange: false);
        }

        return builder.AddEnvironmentVariables("ENCLAVE__").Build();
    }

    /// <summary>The configuration section of <see cref="ServerSettings"/>'s own values.</summary>
    public const string ServerSection = "Server";

    /// <summary>
    /// The server settings: the <c>Server</c> section (<c>DataDirectory</c>, <c>SharedDirectory</c>, <c>Urls</c>, <c>CertificatePath</c>,
    /// <c>CertificateKeyPath</c>, <c>AllowInsecureHttp</c>, <c>MaxRequestBytes</c>, <c>MaxImportBytes</c>,
    /// <c>OtlpEndpoint</c>, <c>CheckpointInterval</c>, <c>AdminKeyFile</c>) with the <c>Retention</c>, <c>Airlock</c>,
    /// <c>Audit</c>, <c>Responses</c>, <c>State</c> and <c>Identity:Oidc</c> sections. Not validated here: a value that does not parse becomes a problem that
    /// <see cref="ServerSettings.Validate"/> lists with the others (the root validates at start).
    /// </summary>
    public static ServerSettings Server(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var problems = new List<string>();
        var section = configuration.GetSection(ServerSection);
        var defaults = new ServerSettings { DataDirectory = string.Empty };
        var urls = section.GetSection("Urls").GetChildren().Select(c => c.Value).OfType<string>().ToList();
        var otlp = section["OtlpEndpoint"];
        Uri? otlpEndpoint = null;
        if (!string.IsNullOrEmpty(otlp) && !Uri.TryCreate(otlp, UriKind.Absolute, out otlpEndpoint))
        {
            problems.Add($"{ServerSection}:OtlpEndpoint '{otlp}' is not an absolute URL");
        }

        return new ServerSettings
        {
            DataDirectory = section["DataDirectory"] ?? string.Empty,
            SharedDirectory = NullIfEmpty(section["SharedDirectory"]),
            Urls = urls.Count > 0 ? urls : defaults.Urls,
            CertificatePath = NullIfEmpty(section["CertificatePath"]),
            CertificateKeyPath = NullIfEmpty(section["CertificateKeyPath"]),
            AllowInsecureHttp = Parse(section, "AllowInsecureHttp", bool.Parse, defaults.AllowInsecureHttp, problems),
            MaxRequestBytes = Parse(section, "MaxRequestBytes", v => long.Parse(v, NumberStyles.None, CultureInfo.InvariantCulture), defaults.MaxRequestBytes, problems),
            MaxImportBytes = Parse(section, "MaxImportBytes", v => long.Parse(v, NumberStyles.None, CultureInfo.InvariantCulture), defaults.MaxImportBytes, problems),
            OtlpEndpoint = otlpEndpoint,
            CheckpointInterval = Parse(section, "CheckpointInterval", v => TimeSpan.Parse(v, CultureInfo.InvariantCulture), defaults.CheckpointInterval, problems),
            AdminKeyFile = NullIfEmpty(section["AdminKeyFile"]),
            State = Enclave.State.StateSettings.From(configuration["State:Provider"], configuration["State:ConnectionString"]),
            Retention = Bind(configuration, "Retention", () => new RetentionOptions(), problems),
            Responses = Bind(configuration, "Responses", () => new Responses.ResponsesOptions(), problems),
            Airlock = Bind(configuration, "Airlock", () => new AirlockSettings(), problems),
            Audit = Bind(configuration, "Audit", () => new Enclave.Server.Audit.AuditOptions(), problems),
            Oidc = configuration.GetSection("Identity:Oidc").Exists() ? Bind(configuration, "Identity:Oidc", () => new Auth.OidcOptions(), problems) : null,
            ConfigurationProblems = problems,
        };
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static T Parse<T>(IConfigurationSection section, string key, Func<string, T> parse, T fallback, List<string> problems)
    {
        var value = section[key];
        if (string.IsNullOrEmpty(value))
        {
            return fallback;
        }

        try
        {
            return parse(value);
        }
        catch (Exception ex) when (ex is FormatException or OverflowException)
        {
            problems.Add($"{section.Path}:{key} '{value}' is not a valid {typeof(T).Name}");
            return fallback;
        }
    }

    private static T Bind<T>(IConfiguration configuration, string path, Func<T> fallback, List<string> problems)
    {
        try
        {
            return configuration.GetSection(path).Get<T>() ?? fallback();
        }
        catch (InvalidOperationException ex)
        {
            problems.Add($"{path}: {ex.Message}");
            return fallback();
        }
    }

    /// <summary>The <c>Airlock</c> section (approvals per kind, post-quantum signatures, required attestations).</summary>
    public static AirlockSettings Airlock(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return configuration.GetSection("Airlock").Get<AirlockSettings>() ?? new AirlockSettings();
    }

    /// <summary>The <c>Audit</c> section (<c>CompletionDurability</c>: <c>before-answer</c>, the default, or <c>after-answer</c>).</summary>
    public static Enclave.Server.Audit.AuditOptions Audit(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return configuration.GetSection("Audit").Get<Enclave.Server.Audit.AuditOptions>() ?? new Enclave.Server.Audit.AuditOptions();
    }

    /// <summary>The <c>Retention</c> section (content retention; off unless configured).</summary>
    public static RetentionOptions Retention(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return configuration.GetSection("Retention").Get<RetentionOptions>() ?? new RetentionOptions();
    }

    /// <summary>The upstream settings, validated (all problems at once).</summary>
    public static UpstreamOptions Upstream(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var options = configuration.GetSection("Upstream").Get<UpstreamOptions>() ?? new UpstreamOptions();
        var problems = options.Validate();
        return problems.Count == 0 ? options : throw new UpstreamConfigurationException(problems);
    }

    /// <summary>The single sign-on settings (section <c>Identity:Oidc</c>), validated (all problems at once); null when the section is absent.</summary>
    public static Auth.OidcOptions? Oidc(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection("Identity:Oidc");
        if (!section.Exists())
        {
            return null;
        }

        var options = section.Get<Auth.OidcOptions>() ?? new Auth.OidcOptions();
        var problems = options.Validate();
        return problems.Count == 0 ? options : throw new ArgumentException("invalid configuration:\n- " + string.Join("\n- ", problems));
    }

    /// <summary>
    /// One route per model the upstream backends serve, listing the backends that serve it with their labels and the
    /// model's label (<c>Models:{id}:Label</c>, lowest level when absent). Each request gets the router's per-call view,
    /// restricted to the backends policy allows for it, with the body policy prepared for each (egress redaction).
    /// </summary>
    public static IEnumerable<ModelRoute> UpstreamRoutes(UpstreamRouter router, UpstreamOptions options, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(router);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(configuration);
        foreach (var model in options.Backends.SelectMany(b => b.Models).Distinct(StringComparer.Ordinal))
        {
            var kind = configuration[$"Models:{model}:Kind"] ?? "any";
            if (kind is not ("chat" or "embedding" or "any"))
            {
                throw new UpstreamConfigurationException([$"Models:{model}:Kind must be chat, embedding or any (was '{kind}')"]);
            }

            yield return new ModelRoute
            {
                Id = model,
                Kind = kind,
                BackendName = "upstream",
                Label = configuration[$"Models:{model}:Label"],
                Backends =
                [
                    .. options.Backends
                        .Where(b => b.Models.Contains(model, StringComparer.Ordinal))
                        .Select(b => new RouteBackend(b.Name, b.Labels.Classification, b.Labels.Jurisdiction, b.Labels.LeavesEnclave)),
                ],
                SelectBackend = selection => router.For(new UpstreamCall(
                    backend => selection.IsAllowed(backend.Name),
                    (backend, body) => selection.BodyFor(backend.Name, body))),
                OwnedBy = "upstream",
            };
        }
    }
}
