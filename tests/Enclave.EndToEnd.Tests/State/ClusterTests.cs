using System.ClientModel;
using System.ClientModel.Primitives;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Enclave.Cli.Tests.Interop;
using Enclave.Core.Audit;
using Enclave.Ledger;
using Enclave.Ledger.Merkle;
using Enclave.Policy.Identity;
using Enclave.State;
using Enclave.State.Postgres;
using Enclave.State.Tests.Postgres;
using Npgsql;
using OpenAI;
using OpenAI.Chat;

namespace Enclave.EndToEnd.Tests.State;

/// <summary>
/// The cluster: a real PostgreSQL server, three real <c>enclave serve</c> processes on it (own data directories, the
/// same ledger keys) and real nginx in front of them on loopback. Thirty-two clients (the official OpenAI client) send
/// chat requests through nginx while the replica holding the checkpoint signer lease is killed with SIGKILL: another
/// takes the lease within 5 s; then a replica that does not sign is killed mid-batch too and the last one goes on alone;
/// no index is left empty or given twice, every request acknowledged with an <c>Enclave-Ledger-Index</c> is in the log at that
/// index with its request ID, <c>enclave ledger verify</c> accepts the checkpoint signed after the kill and its
/// consistency with the one signed before it (by different replicas), Go's sumdb/tlog verifier accepts the checkpoint
/// every replica serves and the consistency proofs across signers, and a key revoked through the balancer is refused
/// by every surviving replica within 1 s.
/// </summary>
public sealed class ClusterTests : IAsyncLifetime
{
    private const string Origin = "cluster.example/ledger";
    private const int Clients = 32;
    private static readonly TimeSpan TakeoverBound = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan PropagationBound = TimeSpan.FromSeconds(1);
    private readonly string _root = Directory.CreateTempSubdirectory("enclave-cluster-").FullName;
    private readonly string _connection = PostgresServer.Shared.CreateDatabase("cluster");
    private readonly List<Replica> _replicas = [];
    private VllmStub _upstream = null!;
    private Process? _nginx;
    private string _balancer = null!;
    private string _adminKey = null!;
    private IReadOnlyList<string> _verifierKeys = null!;

    public async Task InitializeAsync()
    {
        _upstream = await VllmStub.StartAsync();
        var first = Path.Combine(_root, "replica-0");
        var state = EnclaveState.Open(first, new StateSettings { Provider = StateProvider.Postgres, ConnectionString = _connection }, TimeProvider.System);
        try
        {
            _verifierKeys = SqliteLedger.Initialize(first, Origin, postQuantum: false, TimeProvider.System, state);
            _adminKey = new ApiKeyStore(first, TimeProvider.System, state: state).Create("cluster admin", "admin").Key;
        }
        finally
        {
            ((IDisposable)state).Dispose();
        }

        var config = ServeProcess.WriteEchoUpstreamConfig(Path.Combine(_root, "enclave.json"), _upstream.BaseUrl);
        for (var i = 0; i < 3; i++)
        {
            var directory = Path.Combine(_root, $"replica-{i}");
            if (i > 0)
            {
                CopyDirectory(Path.Combine(first, "keys"), Path.Combine(directory, "keys"));
            }

            _replicas.Add(await Replica.StartAsync(directory, config, _connection));
        }

        _balancer = await StartNginxAsync();
    }

    [Fact]
    public async Task SigkillOfTheSigner_UnderLoad_AnotherSignsWithin5s_EveryAcknowledgedRequestIsLogged_AndRevocationReachesEveryReplicaWithin1s()
    {
        var acknowledged = new ConcurrentBag<(long Index, string RequestId)>();
        var failures = 0;
        using var stop = new CancellationTokenSource();
        var client = new OpenAIClient(new ApiKeyCredential(_adminKey), new OpenAIClientOptions { Endpoint = new Uri(_balancer + "/v1"), RetryPolicy = new ClientRetryPolicy(0) });
        var load = Enumerable.Range(0, Clients).Select(c => Task.Run(async () =>
        {
            var chat = client.GetChatClient("echo-chat");
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                try
                {
                    var answer = await chat.CompleteChatAsync([new UserChatMessage($"client {c} request {n}")]);
                    var headers = answer.GetRawResponse().Headers;
                    Assert.True(headers.TryGetValue("Enclave-Ledger-Index", out var index));
                    Assert.True(headers.TryGetValue("X-Request-Id", out var requestId));
                    acknowledged.Add((long.Parse(index!, CultureInfo.InvariantCulture), requestId!));
                }
                catch (ClientResultException)
                {
                    Interlocked.Increment(ref failures); // the killed replica's requests in flight: never acknowledged
                }
            }
        })).ToList();

        await WaitUntilAsync(() => acknowledged.Count >= 200, TimeSpan.FromSeconds(60), "the cluster did not answer 200 requests");
        var signer = SignerProcessId() ?? throw new InvalidOperationException("no replica holds the signer lease");
        var victim = _replicas.Single(r => r.Process.Id == signer);
        SignedCheckpoint beforeKill;
        using (var state = new PostgresConnectionFactory(_connection))
        using (var reader = LedgerReader.Open(victim.Directory, state))
        {
            beforeKill = reader.LatestCheckpoint()!;
        }

        victim.Process.Kill(); // SIGKILL: no shutdown, the lease goes when PostgreSQL notices the session is gone
        var sinceKill = Stopwatch.StartNew();
        int? successor;
        while ((successor = SignerProcessId()) is null || successor == signer)
        {
            Assert.True(sinceKill.Elapsed < TakeoverBound, $"no other replica took the signer lease within {TakeoverBound}");
            await Task.Delay(50);
        }

        Assert.Contains(_replicas, r => r.Process.Id == successor && r != victim);
        var atTakeover = acknowledged.Count;
        await WaitUntilAsync(() => acknowledged.Count >= atTakeover + 200, TimeSpan.FromSeconds(60), "the cluster did not go on answering after the kill");

        // A replica that does not sign is killed too, mid-batch: its sequencing transactions in flight roll back whole,
        // so no index is left empty and none is given twice; the last replica goes on alone.
        var sequencer = _replicas.First(r => r != victim && r.Process.Id != successor);
        sequencer.Process.Kill();
        var atSecondKill = acknowledged.Count;
        await WaitUntilAsync(() => acknowledged.Count >= atSecondKill + 100, TimeSpan.FromSeconds(60), "the last replica did not go on answering after the second kill");
        await stop.CancelAsync();
        await Task.WhenAll(load);

        // Every acknowledged request is in the log at its index, with its request ID, and a checkpoint covers them all
        // once the signer has integrated everything sequenced.
        var survivor = _replicas.Single(r => r.Process.Id == successor);
        var highest = acknowledged.Max(a => a.Index);
        using var postgres = new PostgresConnectionFactory(_connection);
        SignedCheckpoint afterKill = null!;
        await WaitUntilAsync(
            () =>
            {
                using var reader = LedgerReader.Open(survivor.Directory, postgres);
                afterKill = reader.LatestCheckpoint()!;
                return afterKill.Size > highest && afterKill.Size == reader.TreeSize() && reader.TreeSize() == reader.SequencedSize();
            },
            TakeoverBound,
            "the new signer did not integrate the log and publish a checkpoint covering it");
        using (var reader = LedgerReader.Open(survivor.Directory, postgres))
        {
            Assert.Equal(acknowledged.Count, acknowledged.Select(a => a.Index).Distinct().Count());
            var entries = new List<byte[]>();
            while (entries.Count < afterKill.Size)
            {
                var read = reader.ReadEntries(entries.Count, LedgerReader.MaxEntriesPerRead);
                Assert.NotEmpty(read);
                entries.AddRange(read);
            }

            Assert.Equal(afterKill.Size, entries.Count); // no index left empty
            Assert.Equal(MerkleProofs.Root(entries.Count, MemoryHashSource.FromLeafData(entries)), reader.RootHash(afterKill.Size));
            foreach (var (index, requestId) in acknowledged)
            {
                Assert.True(index < afterKill.Size, $"acknowledged index {index} is beyond the log's checkpoint {afterKill.Size}");
                var entry = JsonNode.Parse(reader.ReadEntry(index))!;
                Assert.Equal("request.admitted", entry["type"]!.GetValue<string>());
                Assert.Contains(requestId, entry.ToJsonString(), StringComparison.Ordinal);
            }

            // enclave ledger verify: the checkpoint signed after the kill, and its consistency with the one the killed
            // replica signed, by the proof the survivors serve.
            var proof = reader.ProveConsistency(beforeKill.Size, afterKill.Size);
            File.WriteAllText(Path.Combine(_root, "before.txt"), beforeKill.Note);
            File.WriteAllText(Path.Combine(_root, "after.txt"), afterKill.Note);
            File.WriteAllText(Path.Combine(_root, "proof.txt"), string.Join('\n', proof.Select(h => h.ToBase64())) + "\n");
            File.WriteAllText(Path.Combine(_root, "verifier.key"), _verifierKeys[0] + "\n");
        }

        using (var verify = ServeProcess.Start(null, "ledger", "verify", "--key", Path.Combine(_root, "verifier.key"), "--checkpoint", Path.Combine(_root, "after.txt"), "--from", Path.Combine(_root, "before.txt"), "--proof", Path.Combine(_root, "proof.txt")))
        {
            var output = await verify.StandardOutput.ReadToEndAsync() + await verify.StandardError.ReadToEndAsync();
            await verify.WaitForExitAsync();
            Assert.True(verify.ExitCode == 0, "enclave ledger verify refused: " + output);
        }

        await VerifyWithGoAsync(survivor, victim, beforeKill, afterKill, acknowledged.First().Index);

        // A key created and revoked through the balancer: refused by every surviving replica within 1 s of the revocation.
        using var admin = new HttpClient { BaseAddress = new Uri(_balancer + "/") };
        admin.DefaultRequestHeaders.Authorization = new("Bearer", _adminKey);
        var created = JsonNode.Parse(await (await admin.PostAsJsonAsync("admin/v1/keys", new { user = "admin", name = "to revoke" })).Content.ReadAsStringAsync())!;
        var key = created["key"]!.GetValue<string>();
        var survivors = _replicas.Where(r => !r.Process.HasExited).Select(r => Client(r.BaseUrl, key)).ToList();
        foreach (var replica in survivors)
        {
            Assert.Equal(HttpStatusCode.OK, (await replica.GetAsync("v1/models")).StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, (await admin.DeleteAsync($"admin/v1/keys/{created["id"]!.GetValue<string>()}")).StatusCode);
        var sinceRevoke = Stopwatch.StartNew();
        foreach (var replica in survivors)
        {
            while ((await replica.GetAsync("v1/models")).StatusCode != HttpStatusCode.Unauthorized)
            {
                Assert.True(sinceRevoke.Elapsed < PropagationBound, $"a replica still accepted the revoked key {sinceRevoke.Elapsed} after the revocation");
                await Task.Delay(10);
            }

            replica.Dispose();
        }
    }

    /// <summary>
    /// Go's reference verifier (golang.org/x/mod/sumdb/note and sumdb/tlog, tests/interop/go/enclave-interop) on what the
    /// cluster publishes: the checkpoint each surviving replica serves (<c>/admin/v1/ledger/checkpoint</c>), the ones the
    /// killed signer and its successor signed, the consistency of every one of them with the killed signer's (proofs
    /// across signers), and an acknowledged entry's inclusion in the successor's checkpoint.
    /// </summary>
    private async Task VerifyWithGoAsync(Replica survivor, Replica victim, SignedCheckpoint beforeKill, SignedCheckpoint afterKill, long acknowledgedIndex)
    {
        var go = await GoReferenceTool.BuildAsync(GoReferenceTool.FindRepositoryRoot(), _root);
        var keys = Path.Combine(_root, "go-keys.txt");
        File.WriteAllText(keys, string.Join('\n', _verifierKeys) + "\n");
        var checkpoints = new List<(string Name, string File, SignedCheckpoint Checkpoint)>
        {
            ("signed by the killed replica", Path.Combine(_root, "go-before.txt"), beforeKill),
            ("signed by its successor", Path.Combine(_root, "go-after.txt"), afterKill),
        };
        foreach (var replica in _replicas.Where(r => !r.Process.HasExited))
        {
            using var http = Client(replica.BaseUrl, _adminKey);
            var note = await http.GetStringAsync("admin/v1/ledger/checkpoint");
            checkpoints.Add(($"served by {replica.BaseUrl}", Path.Combine(_root, $"go-served-{new Uri(replica.BaseUrl).Port}.txt"), new SignedCheckpoint { Size = long.Parse(note.Split('\n')[1], CultureInfo.InvariantCulture), Note = note }));
        }

        using var postgres = new PostgresConnectionFactory(_connection);
        using var reader = LedgerReader.Open(survivor.Directory, postgres);
        foreach (var (name, file, checkpoint) in checkpoints)
        {
            File.WriteAllText(file, checkpoint.Note);
            var opened = await go.RunAsync("checkpoint", "-keys", keys, "-note", file);
            Assert.True(opened.ExitCode == 0, $"Go's note.Open refused the checkpoint {name}:\n{opened.Describe()}");
            Assert.Contains($"size: {checkpoint.Size}", opened.StdoutLines);
            Assert.Contains($"root: {reader.RootHash(checkpoint.Size).ToBase64()}", opened.StdoutLines);
            Assert.True(checkpoint.Size >= beforeKill.Size, $"the checkpoint {name} ({checkpoint.Size}) is older than one signed before it ({beforeKill.Size})");

            if (checkpoint.Size > beforeKill.Size)
            {
                var proof = Path.Combine(_root, $"go-consistency-{checkpoint.Size}.json");
                File.WriteAllText(proof, new JsonObject
                {
                    ["from"] = beforeKill.Size,
                    ["to"] = checkpoint.Size,
                    ["oldRootHash"] = reader.RootHash(beforeKill.Size).ToBase64(),
                    ["newRootHash"] = reader.RootHash(checkpoint.Size).ToBase64(),
                    ["proof"] = new JsonArray([.. reader.ProveConsistency(beforeKill.Size, checkpoint.Size).Select(h => (JsonNode)h.ToBase64())]),
                }.ToJsonString());
                var consistent = await go.RunAsync("consistency", "-keys", keys, "-old", checkpoints[0].File, "-note", file, "-proof", proof);
                Assert.True(consistent.ExitCode == 0, $"Go's tlog.CheckTree refused the consistency of the checkpoint {name} with the killed replica's:\n{consistent.Describe()}");
            }
        }

        var entry = reader.ReadEntry(acknowledgedIndex);
        var entryFile = Path.Combine(_root, "go-entry.json");
        File.WriteAllBytes(entryFile, entry);
        var inclusion = Path.Combine(_root, "go-inclusion.json");
        File.WriteAllText(inclusion, new JsonObject
        {
            ["index"] = acknowledgedIndex,
            ["treeSize"] = afterKill.Size,
            ["leafHash"] = MerkleHash.Leaf(entry).ToBase64(),
            ["rootHash"] = reader.RootHash(afterKill.Size).ToBase64(),
            ["proof"] = new JsonArray([.. reader.ProveInclusion(acknowledgedIndex, afterKill.Size).Select(h => (JsonNode)h.ToBase64())]),
        }.ToJsonString());
        var included = await go.RunAsync("inclusion", "-keys", keys, "-note", checkpoints[1].File, "-proof", inclusion, "-entry", entryFile);
        Assert.True(included.ExitCode == 0, $"Go's tlog.CheckRecord refused acknowledged entry {acknowledgedIndex}:\n{included.Describe()}");
    }

    /// <summary>The process ID of the replica whose session holds the signer's advisory lock (its application name says).</summary>
    private int? SignerProcessId()
    {
        using var connection = new NpgsqlConnection(_connection);
        connection.Open();
        using var command = new NpgsqlCommand(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            connection);
        return command.ExecuteScalar() is string name && name.StartsWith("enclave-signer:", StringComparison.Ordinal)
            ? int.Parse(name[(name.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture)
            : null;
    }

    private async Task<string> StartNginxAsync()
    {
        var port = ServeProcess.FreePort();
        var directory = Path.Combine(_root, "nginx");
        Directory.CreateDirectory(directory);
        // The load balancer's directives of deploy/nginx/enclave.conf, on loopback without TLS.
        var servers = string.Join('\n', _replicas.Select(r => $"    server {new Uri(r.BaseUrl).Authority} max_fails=1 fail_timeout=5s;"));
        var conf = Path.Combine(directory, "nginx.conf");
        File.WriteAllText(conf, $$"""
            {{(Environment.UserName == "root" ? "user root;" : string.Empty)}}
            worker_processes 1;
            pid {{directory}}/nginx.pid;
            error_log {{directory}}/error.log warn;
            events { worker_connections 1024; }
            http {
                access_log off;
                client_body_temp_path {{directory}}/body;
                proxy_temp_path {{directory}}/proxy;
                fastcgi_temp_path {{directory}}/fastcgi;
                uwsgi_temp_path {{directory}}/uwsgi;
                scgi_temp_path {{directory}}/scgi;
                upstream enclave_replicas {
                    least_conn;
            {{servers}}
                    keepalive 64;
                }
                server {
                    listen 127.0.0.1:{{port}};
                    location / {
                        proxy_pass http://enclave_replicas;
                        proxy_http_version 1.1;
                        proxy_set_header Connection "";
                        proxy_set_header Host $host;
                        proxy_buffering off;
                        proxy_request_buffering off;
                        proxy_next_upstream error timeout;
                    }
                }
            }
            """);
        var info = new ProcessStartInfo("nginx") { UseShellExecute = false, RedirectStandardError = true };
        foreach (var arg in (string[])["-p", directory, "-c", conf, "-g", "daemon off;"])
        {
            info.ArgumentList.Add(arg);
        }

        _nginx = Process.Start(info)!;
        var url = $"http://127.0.0.1:{port}";
        using var http = new HttpClient();
        await WaitUntilAsync(
            () =>
            {
                try
                {
                    return http.GetAsync(url + "/readyz").GetAwaiter().GetResult().StatusCode == HttpStatusCode.OK;
                }
                catch (HttpRequestException)
                {
                    Assert.False(_nginx.HasExited, "nginx exited: " + _nginx.StandardError.ReadToEnd());
                    return false;
                }
            },
            TimeSpan.FromSeconds(30),
            "nginx did not answer /readyz");
        return url;
    }

    private static HttpClient Client(string baseUrl, string key)
    {
        var client = new HttpClient { BaseAddress = new Uri(baseUrl + "/") };
        client.DefaultRequestHeaders.Authorization = new("Bearer", key);
        return client;
    }

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string failure)
    {
        var waited = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(waited.Elapsed < timeout, failure);
            await Task.Delay(20);
        }
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    public async Task DisposeAsync()
    {
        if (_nginx is { HasExited: false })
        {
            _nginx.Kill(entireProcessTree: true); // the master and its worker: a killed master alone leaves the worker behind
            await _nginx.WaitForExitAsync();
        }

        _nginx?.Dispose();
        foreach (var replica in _replicas)
        {
            await replica.DisposeAsync();
        }

        await _upstream.DisposeAsync();
        PostgresServer.Shared.DropDatabase(_connection);
        Directory.Delete(_root, recursive: true);
    }

    /// <summary>One <c>enclave serve</c> process, its output drained so that it never blocks on a full pipe.</summary>
    private sealed class Replica : IAsyncDisposable
    {
        private Replica(Process process, string directory, string baseUrl)
        {
            Process = process;
            Directory = directory;
            BaseUrl = baseUrl;
        }

        public Process Process { get; }

        public string Directory { get; }

        public string BaseUrl { get; }

        public static async Task<Replica> StartAsync(string directory, string config, string connection)
        {
            var url = $"http://127.0.0.1:{ServeProcess.FreePort()}";
            var environment = new Dictionary<string, string>
            {
                ["ENCLAVE__State__Provider"] = "postgres",
                ["ENCLAVE__State__ConnectionString"] = connection,
            };
            var process = ServeProcess.Start(environment, "serve", "--data", directory, "--urls", url, "--config", config, "--checkpoint-interval", "0");
            try
            {
                var stderr = process.StandardError.ReadToEndAsync();
                using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(90));
                while (await process.StandardOutput.ReadLineAsync(deadline.Token) is { } line)
                {
                    if (line.StartsWith("Enclave is listening on", StringComparison.Ordinal))
                    {
                        _ = process.StandardOutput.ReadToEndAsync();
                        return new Replica(process, directory, url);
                    }
                }

                await process.WaitForExitAsync();
                Assert.Fail($"enclave serve on {directory} exited: {await stderr}");
                throw new InvalidOperationException();
            }
            catch (Exception) when (!process.HasExited)
            {
                // It never came up (the deadline passed): not left running for the rest of the test run.
                process.Kill(entireProcessTree: true);
                process.Dispose();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
            }

            await Process.WaitForExitAsync();
            Process.Dispose();
        }
    }
}
