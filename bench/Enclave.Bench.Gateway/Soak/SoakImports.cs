using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Enclave.Airlock.Repository;
using Enclave.Signing.Keys;

namespace Enclave.Bench.Gateway.Soak;

/// <summary>
/// The soak's imports: a TUF repository made with the library (<see cref="TrustRepository"/>, as <c>enclave trust
/// init</c> does), its root pinned through <c>POST /admin/v1/airlock/trust</c>, and one signed dataset bundle per
/// import, all made before the load starts (signing decrypts the repository's keys, about a second of CPU each, which
/// would otherwise land inside the measured minutes). Each import is three requests through the airlock API: the
/// importer uploads the bundle (201, verified), the first approver approves (200, still verified), the second approves
/// (200, activated). Bundles go in the order they were made, so every one carries newer TUF metadata than the last.
/// </summary>
internal sealed class SoakImports : IDisposable
{
    private const string Secret = "soak benchmark repository passphrase";

    private readonly HttpClient _http;
    private readonly string _rootPath;
    private readonly IReadOnlyList<string> _bundles;
    private readonly IReadOnlyDictionary<string, string> _keys;
    private int _next;

    private SoakImports(Uri baseUrl, string rootPath, IReadOnlyList<string> bundles, IReadOnlyDictionary<string, string> keys)
    {
        _http = new HttpClient(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(60) };
        _rootPath = rootPath;
        _bundles = bundles;
        _keys = keys;
    }

    /// <summary>Bundles made.</summary>
    public int Count => _bundles.Count;

    /// <summary>Bundles imported so far.</summary>
    public int Imported => _next;

    /// <summary>How long making the repository and the bundles took.</summary>
    public TimeSpan Preparation { get; private set; }

    /// <summary>Size of one bundle file.</summary>
    public long BundleBytes { get; private set; }

    /// <summary>Makes a repository in <paramref name="scratch"/> and <paramref name="count"/> dataset bundles from it.</summary>
    public static SoakImports Prepare(string scratch, int count, Uri baseUrl, IReadOnlyDictionary<string, string> keys, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(log);
        var watch = Stopwatch.StartNew();
        using var passphrase = Passphrase.FromString(Secret);
        var trust = TrustRepository.Initialize(new TrustInitOptions { Directory = Path.Combine(scratch, "repo"), RootKeys = 1, RootThreshold = 1 }, passphrase, TimeProvider.System);
        var repository = TrustRepository.Open(trust.Directory);
        var content = Path.Combine(scratch, "content");
        Directory.CreateDirectory(content);
        var bundles = new List<string>(count);
        // Names unique to this run: on a prefilled data directory an earlier run's datasets are there already (versions are immutable).
        var run = Guid.NewGuid().ToString("N")[..8];
        for (var i = 0; i < count; i++)
        {
            // A few KiB of plain text per dataset, different each time (a new target digest per import). Datasets are
            // indexed documents since the retrieval work, so the file is text (.txt), not records of another format.
            var file = Path.Combine(content, "records.txt");
            File.WriteAllLines(file, Enumerable.Range(0, 64).Select(n => $"Soak benchmark record {n} of dataset {i}: plain text that the dataset index reads."));
            var output = Path.Combine(scratch, $"soak-{i:D4}.tar");
            var created = repository.CreateBundle(
                new BundleCreateOptions { Kind = "dataset", Name = $"soak-{run}-{i:D4}", Version = "1", Label = "UNCLASSIFIED", Sources = [file], Output = output },
                passphrase,
                TimeProvider.System);
            if (!created.IsComplete)
            {
                throw new InvalidOperationException($"bundle {output} is not completely signed");
            }

            bundles.Add(output);
            if ((i + 1) % 10 == 0)
            {
                log.WriteLine($"  {i + 1} of {count} bundles made");
            }
        }

        return new SoakImports(baseUrl, trust.RootPath, bundles, keys)
        {
            Preparation = watch.Elapsed,
            BundleBytes = bundles.Count == 0 ? 0 : new FileInfo(bundles[0]).Length,
        };
    }

    /// <summary>Pins the repository's root with the admin key (<paramref name="replace"/>: forced over a root pinned before, as in a prefilled data directory an earlier run used).</summary>
    public async Task PinAsync(string adminKey, bool replace = false)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, replace ? "/admin/v1/airlock/trust?force=true" : "/admin/v1/airlock/trust") { Content = new ByteArrayContent(await File.ReadAllBytesAsync(_rootPath).ConfigureAwait(false)) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", adminKey);
        using var response = await _http.SendAsync(request).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"pinning the soak repository's root: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync().ConfigureAwait(false)}");
        }
    }

    /// <summary>
    /// Imports the next bundle: upload, then two approvals. Each request is passed to <paramref name="record"/> with its
    /// send and end timestamps. False when every bundle has been imported already.
    /// </summary>
    public async Task<bool> ImportNextAsync(Action<long, long, SoakOutcome, string?> record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (_next >= _bundles.Count)
        {
            return false;
        }

        var bundle = _bundles[_next++];
        var (id, ok) = await StepAsync(record, "upload", HttpStatusCode.Created, "verified", () =>
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/admin/v1/airlock/imports") { Content = new StreamContent(File.OpenRead(bundle)) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-tar");
            request.Headers.Authorization = Bearer(SoakPrincipals.Importer);
            return request;
        }).ConfigureAwait(false);
        if (!ok)
        {
            return true;
        }

        (_, ok) = await StepAsync(record, "first approval", HttpStatusCode.OK, "verified", () => Approve(id!, SoakPrincipals.FirstApprover)).ConfigureAwait(false);
        if (ok)
        {
            await StepAsync(record, "second approval", HttpStatusCode.OK, "activated", () => Approve(id!, SoakPrincipals.SecondApprover)).ConfigureAwait(false);
        }

        return true;
    }

    public void Dispose() => _http.Dispose();

    private HttpRequestMessage Approve(string id, string approver) =>
        new(HttpMethod.Post, $"/admin/v1/airlock/imports/{Uri.EscapeDataString(id)}/approve") { Headers = { Authorization = Bearer(approver) } };

    private AuthenticationHeaderValue Bearer(string principal) => new("Bearer", _keys[principal]);

    private async Task<(string? Id, bool Ok)> StepAsync(Action<long, long, SoakOutcome, string?> record, string step, HttpStatusCode expected, string state, Func<HttpRequestMessage> build)
    {
        var sent = Stopwatch.GetTimestamp();
        string? error = null;
        string? id = null;
        try
        {
            using var request = build();
            using var response = await _http.SendAsync(request).ConfigureAwait(false);
            var text = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
            if (response.StatusCode != expected)
            {
                error = $"Import {step}: {(int)response.StatusCode} {(text.Length > 300 ? text[..300] : text)}";
            }
            else
            {
                var json = JsonNode.Parse(text) as JsonObject;
                id = json?["id"]?.GetValue<string>();
                var actual = json?["state"]?.GetValue<string>();
                if (id is null || actual != state)
                {
                    error = $"Import {step}: expected state {state}, got {actual ?? "none"}";
                }
            }
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException or System.Text.Json.JsonException or InvalidOperationException)
        {
            error = $"Import {step}: {e.GetType().Name}: {e.Message}";
        }

        record(sent, Stopwatch.GetTimestamp(), error is null ? SoakOutcome.Ok : SoakOutcome.Error, error);
        return (id, error is null);
    }
}
