using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Enclave.Core.Audit;
using Enclave.Ledger;

namespace Enclave.EndToEnd.Tests;

/// <summary>
/// A real <c>enclave serve</c> child under concurrent load (plain and streamed chat), SIGKILLed mid-flight: every answer
/// a client received in full (a 200 body read to its end, a stream read to <c>data: [DONE]</c>) has its durable
/// <c>request.completed</c> entry in the ledger read back afterwards (default <c>Audit:CompletionDurability</c>,
/// before-answer). The ledger's own SIGKILL test covers appends; this one covers the order of answer and record.
/// </summary>
public sealed class CompletionDurabilityCrashTests : IAsyncLifetime
{
    private const int Workers = 12;
    private const int AnswersBeforeKill = 400;

    private readonly string _root = Directory.CreateTempSubdirectory("enclave-durability-").FullName;
    private VllmStub _upstream = null!;

    public async Task InitializeAsync() => _upstream = await VllmStub.StartAsync();

    public async Task DisposeAsync()
    {
        await _upstream.DisposeAsync();
        Directory.Delete(_root, true);
    }

    [Fact]
    public async Task Sigkill_UnderLoad_EveryAnswerTheClientsReceived_HasItsDurableCompletionEntry()
    {
        var data = Path.Combine(_root, "data");
        var config = Path.Combine(_root, "enclave.json");
        await File.WriteAllTextAsync(config, new JsonObject
        {
            ["Upstream"] = new JsonObject
            {
                ["Backends"] = new JsonArray(new JsonObject
                {
                    ["Name"] = "vllm-a",
                    ["BaseUrl"] = _upstream.BaseUrl,
                    ["Models"] = new JsonArray("echo-chat"),
                    ["Labels"] = new JsonObject { ["Classification"] = "UNCLASSIFIED", ["Jurisdiction"] = "local" },
                }),
            },
            ["Models"] = new JsonObject { ["echo-chat"] = new JsonObject { ["Kind"] = "chat" } },
        }.ToJsonString());
        var url = $"http://127.0.0.1:{FreePort()}";

        using var server = Start("serve", "--data", data, "--urls", url, "--config", config);
        var received = new ConcurrentBag<(long Admitted, bool Streamed)>();
        try
        {
            var key = await WaitUntilListeningAsync(server);
            using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(30) };
            http.DefaultRequestHeaders.Authorization = new("Bearer", key);
            using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            var workers = Enumerable.Range(0, Workers).Select(w => Task.Run(async () =>
            {
                for (var n = 0; !stop.IsCancellationRequested; n++)
                {
                    var streamed = (w + n) % 3 == 0;
                    try
                    {
                        if (await ChatAsync(http, streamed, $"worker {w} request {n}", stop.Token) is { } admitted)
                        {
                            received.Add((admitted, streamed));
                        }
                    }
                    catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException)
                    {
                        // The server was killed under this request: it was never answered in full.
                        if (server.HasExited)
                        {
                            return;
                        }
                    }
                }
            })).ToArray();

            while (received.Count < AnswersBeforeKill && !stop.IsCancellationRequested && !server.HasExited)
            {
                await Task.Delay(10);
            }

            if (server.HasExited)
            {
                Assert.Fail("enclave serve exited under load: " + await server.StandardError.ReadToEndAsync());
            }

            server.Kill(); // SIGKILL: no flush, no dispose, the ledger's queue dies with the process
            await server.WaitForExitAsync();
            await stop.CancelAsync();
            await Task.WhenAll(workers);
        }
        finally
        {
            if (!server.HasExited)
            {
                server.Kill(entireProcessTree: true);
                await server.WaitForExitAsync();
            }
        }

        var answered = received.ToList();
        Assert.True(answered.Count >= AnswersBeforeKill, $"only {answered.Count} answers before the kill");
        Assert.Contains(answered, a => a.Streamed);

        using var reader = LedgerReader.Open(data);
        var completed = new HashSet<long>();
        for (long i = 0; i < reader.TreeSize(); i++)
        {
            var entry = AuditEvent.Parse(reader.ReadEntry(i));
            if (entry.Type == "request.completed")
            {
                completed.Add(entry.Details!.Value.GetProperty("admittedIndex").GetInt64());
            }
        }

        var missing = answered.Where(a => !completed.Contains(a.Admitted)).ToList();
        Assert.True(
            missing.Count == 0,
            $"{missing.Count} of {answered.Count} answers that reached their client have no request.completed entry (admitted at {string.Join(", ", missing.Take(10).Select(m => m.Admitted))})");
    }

    /// <summary>The admitted ledger index of a chat answered in full, or null when the answer was not a complete 200.</summary>
    private static async Task<long?> ChatAsync(HttpClient http, bool stream, string prompt, CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["model"] = "echo-chat",
            ["stream"] = stream,
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = prompt }),
        }.ToJsonString();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return null;
        }

        var admitted = long.Parse(response.Headers.GetValues("Enclave-Ledger-Index").Single(), System.Globalization.CultureInfo.InvariantCulture);
        if (!stream)
        {
            var answer = JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken))!;
            return answer["choices"]![0]!["message"]!["content"]!.GetValue<string>() == "echo: " + prompt ? admitted : null;
        }

        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line == "data: [DONE]")
            {
                return admitted;
            }
        }

        return null; // the stream ended without [DONE]: the client knows the answer is incomplete
    }

    private static async Task<string> WaitUntilListeningAsync(Process process)
    {
        string? key = null;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (await process.StandardOutput.ReadLineAsync(deadline.Token) is { } line)
        {
            if (line.Contains("ek_", StringComparison.Ordinal))
            {
                key = line[line.IndexOf("ek_", StringComparison.Ordinal)..].Trim();
            }

            if (line.StartsWith("Enclave is listening on", StringComparison.Ordinal))
            {
                return key ?? throw new InvalidOperationException("enclave serve printed no admin key");
            }
        }

        throw new InvalidOperationException("enclave serve exited before listening: " + await process.StandardError.ReadToEndAsync());
    }

    private static Process Start(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "enclave.dll"));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return Process.Start(info)!;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
