using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Enclave.Bench.Gateway;

/// <summary>
/// The processes under test, each in its own process so that CPU accounting sees them apart: the stub upstream, the
/// bare forwarder in front of it, and the enclave gateway in front of it (with its data directory on the measured disk).
/// </summary>
internal sealed class Testbed : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly Dictionary<string, string> NoEnvironment = [];
    private readonly Dictionary<Target, BenchChild> _targets = [];
    private readonly List<BenchChild> _children = [];
    private readonly List<string> _dataDirectories = [];
    private readonly string _dataDirectory;
    private readonly bool _keep;

    private Testbed(string dataDirectory, bool keep)
    {
        _dataDirectory = dataDirectory;
        _keep = keep;
    }

    /// <summary>Where the gateway keeps its ledger and key store.</summary>
    public string DataDirectory => _dataDirectory;

    public static async Task<Testbed> StartAsync(BenchSettings settings, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(log);
        var data = settings.GatewayData is { } given
            ? Path.GetFullPath(given)
            : Path.Combine(settings.Root, $"enclave-gateway-bench-{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}-{Guid.NewGuid().ToString("N")[..8]}");
        var bed = new Testbed(data, settings.Keep || settings.GatewayData is not null);
        try
        {
            var stub = await bed.StartChildAsync("stub", ["stub"], NoEnvironment).ConfigureAwait(false);
            bed._targets[Target.Direct] = stub;
            log.WriteLine($"stub upstream at {stub.Ready.Url} (pid {stub.Pid})");
            if (settings.Targets.Contains(Target.Forwarder))
            {
                var forwarder = await bed.StartChildAsync("forwarder", ["forwarder", "--upstream", stub.Ready.Url], NoEnvironment).ConfigureAwait(false);
                bed._targets[Target.Forwarder] = forwarder;
                log.WriteLine($"bare forwarder at {forwarder.Ready.Url} (pid {forwarder.Pid})");
            }

            foreach (var target in settings.Targets.Where(IsGateway).Distinct())
            {
                var environment = new Dictionary<string, string>(settings.GatewayEnvironment, StringComparer.Ordinal);
                if (target == Target.GatewayNoDetections)
                {
                    environment["ENCLAVE__Detections__Enabled"] = "false";
                }

                var directory = target == Target.Gateway ? data : data + "-nodetections";
                var gateway = await bed.StartChildAsync(
                    Role(target),
                    ["gateway", "--upstream", stub.Ready.Url, "--data", directory, "--gateway-checkpoint-interval", settings.GatewayCheckpointInterval.TotalSeconds.ToString(CultureInfo.InvariantCulture), .. settings.GatewayArguments],
                    environment).ConfigureAwait(false);
                bed._targets[target] = gateway;
                bed._dataDirectories.Add(directory);
                var extra = (environment.Count == 0 ? string.Empty : ", environment " + string.Join(' ', environment.Select(kv => $"{kv.Key}={kv.Value}")))
                    + (settings.GatewayCheckpointInterval > TimeSpan.Zero ? $", checkpoint every {settings.GatewayCheckpointInterval.TotalSeconds:0.###} s" : string.Empty);
                log.WriteLine($"{Role(target)} at {gateway.Ready.Url} (pid {gateway.Pid}), data directory {directory}{extra}");
            }

            return bed;
        }
        catch
        {
            await bed.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public BenchChild this[Target target] => _targets[target];

    public static string Role(Target target) => target switch
    {
        Target.Direct => "stub",
        Target.Forwarder => "forwarder",
        Target.GatewayNoDetections => "gateway-nodetections",
        _ => "gateway",
    };

    /// <summary>Whether <paramref name="target"/> is an enclave gateway (ledger entries, a key), either variant.</summary>
    public static bool IsGateway(Target target) => target is Target.Gateway or Target.GatewayNoDetections;

    /// <summary>CPU used so far by every process of the bed, with <paramref name="loadPid"/> as the load tool.</summary>
    public CpuSample Sample(int loadPid)
    {
        var seconds = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["load"] = ProcessCpu.Seconds(loadPid),
        };
        if (loadPid != Environment.ProcessId)
        {
            seconds["bench"] = ProcessCpu.Seconds(Environment.ProcessId);
        }

        foreach (var (target, child) in _targets)
        {
            seconds[Role(target)] = child.CpuSeconds();
        }

        return new CpuSample { Timestamp = Stopwatch.GetTimestamp(), Seconds = seconds, MachineBusySeconds = ProcessCpu.MachineBusySeconds() };
    }

    /// <summary>
    /// One request to every target before any load: each answers 200 with a chat completion; the gateway also returns
    /// a ledger index, appends two entries, and refuses a request without a key (auth is really on).
    /// </summary>
    public async Task VerifyAsync(TextWriter log)
    {
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false });
        foreach (var (target, child) in _targets)
        {
            var before = IsGateway(target) ? (await child.StatsAsync().ConfigureAwait(false)).LedgerSize : -1;
            using var response = await SendAsync(http, child.Ready.Url, child.Ready.ApiKey).ConfigureAwait(false);
            var body = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                throw new InvalidOperationException($"{target}: expected 200 from {child.Ready.Url}{ChatRequest.Path}, got {(int)response.StatusCode}: {body}");
            }

            using var json = JsonDocument.Parse(body);
            var content = json.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString();
            var line = $"{target}: 200, {Encoding.UTF8.GetByteCount(body)} bytes, answer \"{content}\"";
            if (IsGateway(target))
            {
                var index = response.Headers.GetValues("Enclave-Ledger-Index").Single();
                var after = (await child.StatsAsync().ConfigureAwait(false)).LedgerSize;
                using var anonymous = await SendAsync(http, child.Ready.Url, apiKey: null).ConfigureAwait(false);
                if (anonymous.StatusCode != HttpStatusCode.Unauthorized || after - before != 2)
                {
                    throw new InvalidOperationException($"gateway: expected 2 ledger entries per request and 401 without a key; got {after - before} entries and {(int)anonymous.StatusCode}");
                }

                line += $", Enclave-Ledger-Index {index}, {after - before} ledger entries, {(int)anonymous.StatusCode} without a key";
            }

            log.WriteLine(line);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var child in Enumerable.Reverse(_children))
        {
            await child.DisposeAsync().ConfigureAwait(false);
        }

        foreach (var directory in _dataDirectories.Where(d => !_keep && Directory.Exists(d)))
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient http, string url, string? apiKey)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url + ChatRequest.Path)
        {
            Content = new StringContent(ChatRequest.Body, Encoding.UTF8, "application/json"),
        };
        if (apiKey is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        return http.SendAsync(request);
    }

    private async Task<BenchChild> StartChildAsync(string name, string[] arguments, IReadOnlyDictionary<string, string> environment)
    {
        var child = await BenchChild.StartAsync(name, arguments, environment, StartTimeout).ConfigureAwait(false);
        _children.Add(child);
        return child;
    }
}
