using System.Diagnostics;
using System.Text.Json.Nodes;
using Enclave.Core.Audit;
using Enclave.Ledger;

namespace Enclave.EndToEnd.Tests;

/// <summary>
/// Runs dark, provably: <c>enclave up</c> inside a network namespace that has nothing but loopback (<c>unshare -n</c>,
/// <c>ip link set lo up</c>) forges its demo models, brings them in through the airlock (imported, verified, approved
/// by two approvers, activated), serves a chat and an embedding, lists the imports through the CLI and exports the
/// ledger. Nothing of that may need a network. The client runs inside the namespace too (bash's <c>/dev/tcp</c> and the
/// <c>enclave</c> CLI), since the namespace's loopback is its own. docs/runs-dark.md has the strace record.
/// </summary>
public sealed class RunsDarkTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("enclave-dark-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [NetworkNamespaceFact]
    public async Task Up_InANamespaceWithOnlyLoopback_ServesImportsApprovesAndExports()
    {
        var data = Path.Combine(_root, "data");
        var script = Path.Combine(_root, "dark.sh");
        var enclave = Path.Combine(AppContext.BaseDirectory, "enclave.dll");
        await File.WriteAllTextAsync(script, $$"""
            set -eu
            cd '{{_root}}'
            ip link set lo up
            if ip -o link show | grep -v ': lo:' | grep -q .; then echo "the namespace has interfaces besides loopback" >&2; exit 90; fi
            dotnet '{{enclave}}' up --data '{{data}}' --urls http://127.0.0.1:18080 --json > up.json 2> up.err &
            up=$!
            for _ in $(seq 1 1200); do [ -s up.json ] && break; kill -0 "$up" 2>/dev/null || { cat up.err >&2; exit 91; }; sleep 0.1; done
            key=$(sed -n 's/.*"apiKey":"\([^"]*\)".*/\1/p' up.json)
            chat=$(sed -n 's/.*"chatModel":"\([^"]*\)".*/\1/p' up.json)
            embed=$(sed -n 's/.*"embeddingModel":"\([^"]*\)".*/\1/p' up.json)
            post() {
              exec 3<>/dev/tcp/127.0.0.1/18080
              printf 'POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %s\r\nConnection: close\r\n\r\n%s' "$1" "$key" "${#2}" "$2" >&3
              cat <&3 > "$3"
              exec 3<&-
            }
            post /v1/chat/completions "{\"model\":\"$chat\",\"max_tokens\":4,\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}" chat.http
            post /v1/embeddings "{\"model\":\"$embed\",\"input\":\"Hello\"}" embed.http
            ENCLAVE_API_KEY="$key" dotnet '{{enclave}}' airlock list --server http://127.0.0.1:18080 --json > airlock.json
            kill -TERM "$up"
            wait "$up" || true
            dotnet '{{enclave}}' ledger export --data '{{data}}' --out '{{_root}}/published' > export.out
            """);

        var (command, args) = NetworkNamespaceFactAttribute.Wrap(script);
        var info = new ProcessStartInfo(command) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        var stdout = process.StandardOutput.ReadToEndAsync(deadline.Token);
        var stderr = process.StandardError.ReadToEndAsync(deadline.Token);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        Assert.True(process.ExitCode == 0, $"the script in the namespace failed ({process.ExitCode}): {await stderr} {await stdout} {Read("up.err")}");

        var chat = Read("chat.http");
        Assert.StartsWith("HTTP/1.1 200", chat, StringComparison.Ordinal);
        Assert.Contains("\"chat.completion\"", chat, StringComparison.Ordinal);
        var embedding = Read("embed.http");
        Assert.StartsWith("HTTP/1.1 200", embedding, StringComparison.Ordinal);
        Assert.Contains("\"embedding\"", embedding, StringComparison.Ordinal);

        var imports = JsonNode.Parse(Read("airlock.json"))!["imports"]!.AsArray();
        Assert.Equal(2, imports.Count(i => i!["state"]!.GetValue<string>() == "activated"));
        Assert.True(File.Exists(Path.Combine(_root, "published", "checkpoint")), Read("export.out"));

        using var reader = LedgerReader.Open(data);
        var types = Enumerable.Range(0, (int)reader.TreeSize()).Select(i => AuditEvent.Parse(reader.ReadEntry(i)).Type).ToList();
        Assert.Equal(2, types.Count(t => t == "import.verified"));
        Assert.Equal(2, types.Count(t => t == "import.activated"));
        Assert.Equal(2, types.Count(t => t == "request.completed"));
    }

    private string Read(string name)
    {
        var path = Path.Combine(_root, name);
        return File.Exists(path) ? File.ReadAllText(path) : $"({name} missing)";
    }
}

/// <summary>
/// A fact that needs a network namespace (<c>unshare</c> from util-linux, <c>ip</c> from iproute2, and the right to
/// create the namespace: root, or unprivileged user namespaces). Where that is missing it is skipped with the reason,
/// except under CI (<c>CI=true</c>), where it runs and fails saying what is missing.
/// </summary>
internal sealed class NetworkNamespaceFactAttribute : FactAttribute
{
    public NetworkNamespaceFactAttribute()
    {
        if (Problem() is { } problem && !string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            Skip = problem + " (under CI=true this test fails instead)";
        }
    }

    /// <summary>The command line that runs <paramref name="script"/> with bash in a new network namespace.</summary>
    public static (string Command, string[] Args) Wrap(string script)
    {
        if (Problem() is { } problem)
        {
            throw new InvalidOperationException("cannot create a network namespace to prove that Enclave runs dark: " + problem);
        }

        // Root creates the namespace directly; anyone else maps itself to root in a new user namespace first.
        return IsRoot()
            ? ("unshare", ["--net", "bash", script])
            : ("unshare", ["--map-root-user", "--net", "bash", script]);
    }

    private static string? Problem()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "network namespaces need Linux";
        }

        foreach (var tool in new[] { "unshare", "ip", "bash" })
        {
            if (!OnPath(tool))
            {
                return $"'{tool}' is not installed (Debian: apt-get install util-linux iproute2 bash)";
            }
        }

        var (command, args) = IsRoot() ? ("unshare", new[] { "--net", "true" }) : ("unshare", new[] { "--map-root-user", "--net", "true" });
        try
        {
            using var probe = Process.Start(new ProcessStartInfo(command, args) { RedirectStandardError = true, UseShellExecute = false })!;
            var error = probe.StandardError.ReadToEnd();
            probe.WaitForExit();
            return probe.ExitCode == 0 ? null : $"'{command} {string.Join(' ', args)}' failed: {error.Trim()}";
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return $"'{command}' could not be started: {e.Message}";
        }
    }

    private static bool IsRoot() => Environment.UserName == "root";

    private static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries).Any(d => File.Exists(Path.Combine(d, tool)));
}
