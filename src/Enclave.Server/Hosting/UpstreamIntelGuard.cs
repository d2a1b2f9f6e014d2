using Enclave.Inference.Upstream;
using Enclave.Intel.Alerts;
using Enclave.Intel.Indicators;
using Enclave.Intel.Live;

namespace Enclave.Server.Hosting;

/// <summary>
/// Takes an upstream backend out of routing while its host matches a live threat-intelligence indicator
/// (<c>domain-name:value</c> exact or a listed parent zone, <c>url:value</c> for its base URL, an address or CIDR block
/// for an IP host), with an alert naming the backend and the indicator; it returns when no live indicator matches any
/// more (revoked by a newer bundle, or expired). Re-checked after every intel load and once a minute.
/// </summary>
public sealed class UpstreamIntelGuard : IDisposable
{
    /// <summary>How often expiry is re-checked between loads.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    private readonly UpstreamRouter _router;
    private readonly LiveIndicators _live;
    private readonly AlertService _alerts;
    private readonly Lock _gate = new();
    private readonly Action<Exception>? _onFailure;
    private ITimer? _timer;

    /// <summary>Guards <paramref name="router"/>'s backends with <paramref name="live"/>, raising through <paramref name="alerts"/>.</summary>
    public UpstreamIntelGuard(UpstreamRouter router, LiveIndicators live, AlertService alerts, Action<Exception>? onFailure = null)
    {
        ArgumentNullException.ThrowIfNull(router);
        ArgumentNullException.ThrowIfNull(live);
        ArgumentNullException.ThrowIfNull(alerts);
        _router = router;
        _live = live;
        _alerts = alerts;
        _onFailure = onFailure;
    }

    /// <summary>Applies now, after every reload of <see cref="LiveIndicators"/>, and every <see cref="Interval"/> on <paramref name="clock"/>.</summary>
    public void Start(TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(clock);
        _live.Changed += OnChanged;
        _timer = clock.CreateTimer(_ => Fire(), null, Interval, Interval);
        Fire();
    }

    private void OnChanged(object? sender, EventArgs e) => Fire();

    private void Fire() => _ = FireAsync();

    private async Task FireAsync()
    {
        try
        {
            await ApplyAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The withdrawal itself is applied before any alert is written; a failed alert is reported, not thrown on a timer.
            _onFailure?.Invoke(e);
        }
    }

    /// <summary>Re-checks every backend; returns the backends withdrawn now (name → why).</summary>
    public async Task<IReadOnlyDictionary<string, string>> ApplyAsync(CancellationToken cancellationToken = default)
    {
        var withdrawn = new Dictionary<string, string>(StringComparer.Ordinal);
        var hits = new List<(string Backend, string Host, IndicatorHit Hit)>();
        foreach (var (name, baseUrl) in _router.Backends)
        {
            foreach (var hit in Match(baseUrl))
            {
                withdrawn.TryAdd(name, $"its host matches threat-intelligence indicator {hit.IndicatorId}");
                hits.Add((name, hit.Value, hit));
            }
        }

        IReadOnlyDictionary<string, string> before;
        lock (_gate)
        {
            before = _router.Withdrawn;
            _router.Withdraw(withdrawn);
        }

        foreach (var (backend, host, hit) in hits.Where(h => !before.ContainsKey(h.Backend)))
        {
            await _alerts.RaiseAsync(
                new AlertRequest
                {
                    Kind = AlertKind.Intel,
                    Severity = AlertSeverity.High,
                    Title = Clip($"upstream backend {backend} taken out of routing: host {host} matched indicator {hit.Name ?? hit.IndicatorId}"),
                    Subject = "upstream:" + backend,
                    Evidence = new AlertEvidence
                    {
                        Summary = Clip($"The host {host} of upstream backend {backend} matches live indicator {hit.IndicatorId} (from import {hit.ImportId}); no request is routed to it until the indicator is revoked or expires."),
                        Facts = new Dictionary<string, string>(StringComparer.Ordinal)
                        {
                            ["indicator"] = hit.IndicatorId,
                            ["indicatorImport"] = hit.ImportId,
                            ["matched"] = Clip("host " + host),
                            ["backend"] = backend,
                        },
                    },
                    DeduplicationKey = Clip($"intel:{hit.IndicatorId}:upstream:{backend}:{hit.ImportId}"),
                },
                cancellationToken).ConfigureAwait(false);
        }

        return withdrawn;
    }

    private IEnumerable<IndicatorHit> Match(string baseUrl)
    {
        if (_live.IsEmpty || !Uri.TryCreate(baseUrl, UriKind.Absolute, out var uri))
        {
            return [];
        }

        var hits = new List<IndicatorHit>(_live.Match(IndexedProperty.Url, baseUrl));
        hits.AddRange(_live.Match(IndexedProperty.Url, baseUrl.TrimEnd('/')));
        var host = uri.IdnHost.Trim('[', ']');
        if (LedgerObservations.Address(host) is { } address)
        {
            hits.AddRange(_live.Match(address.Property, address.Value));
        }
        else
        {
            hits.AddRange(_live.Match(IndexedProperty.Domain, host));
        }

        return hits.DistinctBy(h => h.IndicatorId);
    }

    private static string Clip(string s) => s.Length <= 256 ? s : string.Concat(s.AsSpan(0, 255), "…");

    /// <inheritdoc/>
    public void Dispose()
    {
        _live.Changed -= OnChanged;
        _timer?.Dispose();
    }
}
