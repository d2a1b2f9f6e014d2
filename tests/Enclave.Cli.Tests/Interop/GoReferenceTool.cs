namespace Enclave.Cli.Tests.Interop;

/// <summary>
/// Builds and runs tests/interop/go/enclave-interop, the checker written against Go's reference
/// golang.org/x/mod/sumdb/note and sumdb/tlog. Go and x/mod come from Debian packages
/// (golang-go, golang-golang-x-mod-dev) and are built in GOPATH mode: nothing is downloaded.
/// </summary>
internal sealed class GoReferenceTool
{
    /// <summary>Where golang-golang-x-mod-dev puts the x/mod sources (a GOPATH).</summary>
    public const string DebianGoPath = "/usr/share/gocode";

    public const string InstallCommand = "apt-get install -y golang-go golang-golang-x-mod-dev";

    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(5);

    private GoReferenceTool(string executable) => Executable = executable;

    public string Executable { get; }

    /// <summary>
    /// Builds the checker into <paramref name="outputDirectory"/>. Fails, never skips, when Go or x/mod
    /// is missing: on CI (CI=true) .ci/run should have installed them; elsewhere the message says how.
    /// </summary>
    public static async Task<GoReferenceTool> BuildAsync(string repositoryRoot, string outputDirectory)
    {
        var go = FindOnPath("go") ?? throw new InvalidOperationException(MissingMessage("the 'go' command is not on PATH"));
        var noteSources = Path.Combine(DebianGoPath, "src", "golang.org", "x", "mod", "sumdb", "note");
        if (!Directory.Exists(noteSources))
        {
            throw new InvalidOperationException(MissingMessage($"golang.org/x/mod is not in {noteSources}"));
        }

        var executable = Path.Combine(outputDirectory, "enclave-interop");
        var build = await ChildProcess.RunAsync(
            go,
            ["build", "-o", executable, "./tests/interop/go/enclave-interop"],
            workingDirectory: repositoryRoot,
            environment: GoEnvironment(),
            timeout: BuildTimeout);
        if (build.ExitCode != 0)
        {
            throw new InvalidOperationException($"building the Go interop checker failed (Go in GOPATH mode with GOPATH={DebianGoPath}):\n{build.Describe()}");
        }

        return new GoReferenceTool(executable);
    }

    public Task<ProcessResult> RunAsync(params string[] arguments) => ChildProcess.RunAsync(Executable, arguments);

    /// <summary>The repository root: the directory holding Enclave.slnx above the test assembly.</summary>
    public static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Enclave.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no Enclave.slnx in any directory above {AppContext.BaseDirectory}; the Go sources are found relative to the repository root");
    }

    private static Dictionary<string, string?> GoEnvironment() => new()
    {
        // GOPATH mode against the Debian x/mod sources; no module proxy, no user go.env, no cgo (no C compiler needed).
        ["GO111MODULE"] = "off",
        ["GOPATH"] = DebianGoPath,
        ["GOFLAGS"] = string.Empty,
        ["GOPROXY"] = "off",
        ["GOENV"] = "off",
        ["CGO_ENABLED"] = "0",

        // A writable build cache even where HOME is unset or read-only; Go's cache is safe to share between runs.
        ["GOCACHE"] = Path.Combine(Path.GetTempPath(), "enclave-interop-gocache"),
    };

    private static string MissingMessage(string what)
    {
        return string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase)
            ? $"Go interop tests cannot run on CI: {what}. .ci/run installs them ({InstallCommand}) before 'dotnet test'; check that its install step ran."
            : $"Go interop tests need Go and golang.org/x/mod, but {what}. Install them (Debian/Ubuntu; nothing is downloaded at test time): {InstallCommand} (as root, or with sudo)";
    }

    private static string? FindOnPath(string command)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, command);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
