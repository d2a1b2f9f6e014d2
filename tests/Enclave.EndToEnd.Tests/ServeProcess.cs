using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;

namespace Enclave.EndToEnd.Tests;

/// <summary>The real <c>enclave</c> process (enclave.dll beside the tests) for end-to-end tests: start it, wait until it listens, stop it.</summary>
internal static class ServeProcess
{
    /// <summary>Starts <c>enclave</c> with <paramref name="args"/>, with <paramref name="environment"/> added to its environment.</summary>
    public static Process Start(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "enclave.dll"));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        return Process.Start(info)!;
    }

    /// <summary>
    /// Runs <c>enclave serve</c> (<paramref name="args"/> after <c>serve</c>) until it listens, calls <paramref name="whileRunning"/>
    /// with the admin key it printed (empty when it printed none), then kills it. Returns the printed key, or null.
    /// </summary>
    public static async Task<string?> RunServerAsync(IReadOnlyDictionary<string, string>? environment, string[] args, Func<string, Task> whileRunning, TimeSpan startTimeout)
    {
        using var process = Start(environment, ["serve", .. args]);
        try
        {
            string? key = null;
            using var deadline = new CancellationTokenSource(startTimeout);
            while (await process.StandardOutput.ReadLineAsync(deadline.Token) is { } line)
            {
                if (line.Contains("ek_", StringComparison.Ordinal))
                {
                    key = line[line.IndexOf("ek_", StringComparison.Ordinal)..].Trim();
                }

                if (line.StartsWith("Enclave is listening on", StringComparison.Ordinal))
                {
                    break;
                }
            }

            if (process.HasExited)
            {
                Assert.Fail("enclave serve exited: " + await process.StandardError.ReadToEndAsync());
            }

            await whileRunning(key ?? string.Empty);
            return key;
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    /// <summary>Writes a configuration with one vLLM-like upstream at <paramref name="upstreamBaseUrl"/> serving chat model <c>echo-chat</c>.</summary>
    public static string WriteEchoUpstreamConfig(string path, string upstreamBaseUrl)
    {
        File.WriteAllText(path, new JsonObject
        {
            ["Upstream"] = new JsonObject
            {
                ["Backends"] = new JsonArray(new JsonObject
                {
                    ["Name"] = "vllm-a",
                    ["BaseUrl"] = upstreamBaseUrl,
                    ["Models"] = new JsonArray("echo-chat"),
                    ["Labels"] = new JsonObject { ["Classification"] = "UNCLASSIFIED", ["Jurisdiction"] = "local" },
                }),
            },
            ["Models"] = new JsonObject { ["echo-chat"] = new JsonObject { ["Kind"] = "chat" } },
        }.ToJsonString());
        return path;
    }

    /// <summary>A loopback port free a moment ago.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
