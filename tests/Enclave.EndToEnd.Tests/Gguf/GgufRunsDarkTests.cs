using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Enclave.Cli;
using Enclave.Inference.Forge;
using Enclave.Ledger;
using Enclave.Policy.Identity;

namespace Enclave.EndToEnd.Tests.Gguf;

/// <summary>
/// Runs dark with llama.cpp: <c>enclave serve</c> under <c>strace -f -e trace=network</c> loads a forged GGUF model
/// into llama.cpp (LLamaSharp's native library) and answers a chat; every network system call of every thread is
/// recorded, and none reaches anything but loopback or a Unix socket: no DNS query, no connection out.
/// docs/runs-dark.md has the record.
/// </summary>
public sealed class GgufRunsDarkTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("enclave-gguf-dark-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task Serve_WithAGgufModel_UnderStrace_OpensNoSocketBeyondLoopback()
    {
        Assert.True(File.Exists("/usr/bin/strace"), "strace is needed (.ci/run installs it)");
        var data = Path.Combine(_root, "data");
        SqliteLedger.Initialize(data, "e2e.example/gguf-dark", postQuantum: false, TimeProvider.System);
        var key = new ApiKeyStore(data, TimeProvider.System).Create("e2e admin", "admin").Key;
        var model = ModelForge.ForgeGguf(Path.Combine(_root, "model"), new ForgeOptions { Seed = 4 }, GgufWeightType.Q4_0).Directory;
        var output = new StringWriter();
        var error = new StringWriter();
        var added = await EnclaveCli.RunAsync(["models", "add", "--dev", "--data", data, "--name", "dark-gguf", "--kind", "chat", model], new CliContext { Out = output, Error = error, In = TextReader.Null, OpenStandardOutput = () => Stream.Null });
        Assert.True(added == 0, error.ToString());

        var port = FreePort();
        var trace = Path.Combine(_root, "trace.txt");
        var info = new ProcessStartInfo("/usr/bin/strace") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "-f", "-e", "trace=network", "-o", trace, "dotnet", Path.Combine(AppContext.BaseDirectory, "enclave.dll"), "serve", "--data", data, "--urls", $"http://127.0.0.1:{port}" })
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["DOTNET_EnableDiagnostics"] = "0"; // no diagnostics IPC socket: the trace holds only what Enclave and llama.cpp do
        using var process = Process.Start(info)!;
        _ = process.StandardOutput.ReadToEndAsync(); // drained, so the server never blocks on a full pipe
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            var deadline = DateTime.UtcNow.AddMinutes(3);
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            HttpResponseMessage? answer = null;
            while (answer is null && DateTime.UtcNow < deadline && !process.HasExited)
            {
                try
                {
                    using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
                    {
                        Content = JsonContent.Create(new JsonObject { ["model"] = "dark-gguf", ["max_tokens"] = 4, ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "Hello" }) }),
                    };
                    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
                    answer = await http.SendAsync(request);
                }
                catch (HttpRequestException)
                {
                    await Task.Delay(200); // not listening yet
                }
            }

            Assert.True(answer is not null, $"no answer from enclave serve: {(process.HasExited ? await stderr : "still starting")}");
            Assert.True(answer!.IsSuccessStatusCode, await answer.Content.ReadAsStringAsync());
            Assert.Equal("chat.completion", (string?)(await answer.Content.ReadFromJsonAsync<JsonObject>())!["object"]);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            await process.WaitForExitAsync();
        }

        var lines = await File.ReadAllLinesAsync(trace);
        Assert.Contains(lines, l => l.Contains("bind(", StringComparison.Ordinal) && l.Contains($"htons({port})", StringComparison.Ordinal)); // the trace is real
        var outward = lines.Where(l => (l.Contains("connect(", StringComparison.Ordinal) || l.Contains("sendto(", StringComparison.Ordinal) || l.Contains("sendmsg(", StringComparison.Ordinal))
            && (l.Contains("AF_INET", StringComparison.Ordinal) || l.Contains("htons(53)", StringComparison.Ordinal))
            && !l.Contains("127.0.0.1", StringComparison.Ordinal) && !l.Contains("\"::1\"", StringComparison.Ordinal) && !l.Contains("::ffff:127.0.0.1", StringComparison.Ordinal)).ToList();
        Assert.True(outward.Count == 0, "network calls beyond loopback:\n" + string.Join("\n", outward));
        Assert.DoesNotContain(lines, l => l.Contains("htons(53)", StringComparison.Ordinal));
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
