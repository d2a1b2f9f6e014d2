using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Enclave.EndToEnd.Tests.Upgrade;

/// <summary>
/// Two real builds of Enclave, published once per test run from this repository with <c>dotnet publish src/Enclave.Cli</c>
/// (framework-dependent for this machine's runtime identifier, each in its own <c>EnclaveBuildSlot</c> so the test's own
/// build is not touched): release
/// <see cref="OldVersion"/> built against an older Google.Protobuf (<see cref="OldProtobuf"/>, pinned through a copy of
/// <c>Directory.Packages.props</c>), and release <see cref="NewVersion"/> built as the repository stands — a patch release
/// that moves a dependency forward, as a fix for a vulnerable dependency would. Each publish folder holds the
/// <c>enclave</c> executable and the CycloneDX SBOM the build writes (<c>enclave.cdx.json</c>). The builds are kept in
/// <c>artifacts/upgrade-e2e/KEY/</c> (git-ignored), KEY being a SHA-256 of every source file and build setting they come
/// from, so a rerun over the same sources reuses them and any change to the sources builds them again.
/// </summary>
public sealed partial class EnclaveReleaseBuilds : IAsyncLifetime
{
    public const string OldVersion = "1.0.0";
    public const string NewVersion = "1.0.1";

    /// <summary>The Google.Protobuf of the old release (older than the repository's).</summary>
    public const string OldProtobuf = "3.36.1";

    private static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(20);

    private string _root = "";

    /// <summary>The publish folder of <see cref="OldVersion"/>.</summary>
    public string Old => Path.Combine(_root, OldVersion);

    /// <summary>The publish folder of <see cref="NewVersion"/>.</summary>
    public string New => Path.Combine(_root, NewVersion);

    /// <summary>The Google.Protobuf of the repository (the new release's).</summary>
    public string NewProtobuf { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var repository = RepositoryRoot();
        var packages = await File.ReadAllTextAsync(Path.Combine(repository, "Directory.Packages.props"));
        var pin = ProtobufPin().Match(packages);
        Assert.True(pin.Success, "Directory.Packages.props pins no Google.Protobuf version; the upgrade test needs a dependency whose version its two builds differ in");
        NewProtobuf = pin.Groups["version"].Value;
        Assert.True(Version.Parse(OldProtobuf) < Version.Parse(NewProtobuf), $"the repository's Google.Protobuf {NewProtobuf} is not newer than the old release's {OldProtobuf}");
        _root = Path.Combine(repository, "artifacts", "upgrade-e2e", SourceKey(repository));
        var oldPackages = Path.Combine(_root, "old-packages", "Directory.Packages.props");
        Directory.CreateDirectory(Path.GetDirectoryName(oldPackages)!);
        await File.WriteAllTextAsync(oldPackages, ProtobufPin().Replace(packages, m => m.Value.Replace(NewProtobuf, OldProtobuf, StringComparison.Ordinal)));

        await PublishAsync(repository, OldVersion, Old, "-p:DirectoryPackagesPropsPath=" + oldPackages);
        await PublishAsync(repository, NewVersion, New);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private static async Task PublishAsync(string repository, string version, string output, params string[] extra)
    {
        var complete = output + ".published"; // beside the folder, so the release itself holds only the publish output
        if (File.Exists(complete))
        {
            return; // built from the same sources by an earlier run
        }

        if (Directory.Exists(output))
        {
            Directory.Delete(output, recursive: true);
        }

        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = repository,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "publish", "src/Enclave.Cli", "-c", "Release", "-r", System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier, "--self-contained", "false", "-p:Version=" + version, "-p:EnclaveBuildSlot=upgrade-e2e-" + version, "-o", output, "--disable-build-servers", "-nodeReuse:false" }.Concat(extra))
        {
            start.ArgumentList.Add(argument);
        }

        // The test host's own MSBuild variables would steer the inner build to the test's SDK resolution state.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(key);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(PublishTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet publish of release {version} did not finish within {PublishTimeout}");
        }

        var log = await stdout + await stderr;
        Assert.True(process.ExitCode == 0, $"dotnet publish of release {version} failed ({process.ExitCode}):\n{(log.Length > 6000 ? log[^6000..] : log)}");
        Assert.True(File.Exists(Path.Combine(output, "enclave")), $"the publish of {version} has no 'enclave' executable");
        Assert.True(File.Exists(Path.Combine(output, "enclave.cdx.json")), $"the publish of {version} has no SBOM (enclave.cdx.json)");
        await File.WriteAllTextAsync(complete, version);
    }

    // SHA-256 over every file the builds come from: src/ (without bin/ and obj/) and the build settings at the root.
    private static string SourceKey(string repository)
    {
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        var files = Directory.EnumerateFiles(Path.Combine(repository, "src"), "*", SearchOption.AllDirectories)
            .Where(f => !f.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj"))
            .Concat(new[] { "Directory.Packages.props", "Directory.Build.props", "global.json" }.Select(f => Path.Combine(repository, f)).Where(File.Exists))
            .Select(f => Path.GetRelativePath(repository, f))
            .Order(StringComparer.Ordinal);
        foreach (var file in files)
        {
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes(file + "\0"));
            hash.AppendData(File.ReadAllBytes(Path.Combine(repository, file)));
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset())[..16];
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Enclave.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException($"no Enclave.slnx above {AppContext.BaseDirectory}");
    }

    [GeneratedRegex("""<PackageVersion Include="Google\.Protobuf" Version="(?<version>[0-9.]+)" />""")]
    private static partial Regex ProtobufPin();
}
