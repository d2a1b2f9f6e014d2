namespace Enclave.Intel.Upgrades;

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
