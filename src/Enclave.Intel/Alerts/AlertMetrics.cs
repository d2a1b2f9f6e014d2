using System.Diagnostics.Metrics;
using Enclave.State.Alerts;

namespace Enclave.Intel.Alerts;

/// <summary>
/// The alerts' instruments (meter <c>Enclave.Intel</c>): <c>enclave.alerts.raised</c> by kind and severity,
/// <c>enclave.alerts.changed</c> by kind and new state, and the gauge <c>enclave.alerts.unresolved</c> (open and
/// acknowledged alerts by kind, severity and state, read from the store when scraped). Tags are names from
/// <see cref="AlertNames"/>, never titles or evidence.
/// </summary>
public sealed class AlertMetrics
{
    /// <summary>The meter's name (add it to the metrics pipeline).</summary>
    public const string MeterName = "Enclave.Intel";

    private readonly Counter<long> _raised;
    private readonly Counter<long> _changed;

    /// <summary>Creates the instruments; <paramref name="store"/> backs the gauge.</summary>
    public AlertMetrics(IMeterFactory meters, IAlertStore store)
    {
        ArgumentNullException.ThrowIfNull(meters);
        ArgumentNullException.ThrowIfNull(store);
        var meter = meters.Create(MeterName);
        _raised = meter.CreateCounter<long>("enclave.alerts.raised", "{alert}", "Alerts raised, by kind and severity");
        _changed = meter.CreateCounter<long>("enclave.alerts.changed", "{alert}", "Alert lifecycle changes, by kind and the new state");
        meter.CreateObservableGauge(
            "enclave.alerts.unresolved",
            () => store.Count()
                .Where(c => c.State is "open" or "acknowledged")
                .Select(c => new Measurement<long>(c.Count, new("kind", c.Kind), new("severity", c.Severity), new("state", c.State))),
            "{alert}",
            "Open and acknowledged alerts, by kind, severity and state");
    }

    internal void Raised(AlertKind kind, AlertSeverity severity)
    {
        if (_raised.Enabled)
        {
            _raised.Add(1, new("kind", kind.Name()), new("severity", severity.Name()));
        }
    }

    internal void Changed(AlertKind kind, AlertState state)
    {
        if (_changed.Enabled)
        {
            _changed.Add(1, new("kind", kind.Name()), new("state", state.Name()));
        }
    }
}
