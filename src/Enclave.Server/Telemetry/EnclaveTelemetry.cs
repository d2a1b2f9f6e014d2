using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Enclave.Server.Telemetry;

/// <summary>
/// The server's OpenTelemetry instruments (meter and activity source <c>Enclave.Server</c>). Tags carry model names,
/// endpoints and outcomes, never prompts, keys or user data.
/// </summary>
public sealed class EnclaveTelemetry
{
    public const string Name = "Enclave.Server";

    public static readonly ActivitySource ActivitySource = new(Name);

    private readonly Counter<long> _requests;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _tokens;

    public EnclaveTelemetry(IMeterFactory meters, Func<long> ledgerSize)
    {
        ArgumentNullException.ThrowIfNull(meters);
        var meter = meters.Create(Name);
        _requests = meter.CreateCounter<long>("enclave.requests", "{request}", "API requests by endpoint, model and outcome");
        _duration = meter.CreateHistogram<double>("enclave.request.duration", "s", "Time from admission to the last byte");
        _tokens = meter.CreateCounter<long>("enclave.tokens", "{token}", "Prompt and completion tokens by model");
        meter.CreateObservableGauge("enclave.ledger.size", ledgerSize, "{entry}", "Durable entries in the audit ledger");
    }

    public void RecordRequest(string endpoint, string model, string outcome, int status, TimeSpan duration, int? promptTokens, int? completionTokens)
    {
        if (_requests.Enabled)
        {
            _requests.Add(1, new("endpoint", endpoint), new("model", model), new("outcome", outcome), new("status", status));
        }

        if (_duration.Enabled)
        {
            _duration.Record(duration.TotalSeconds, new("endpoint", endpoint), new("model", model), new("outcome", outcome));
        }

        if (_tokens.Enabled)
        {
            if (promptTokens is { } p)
            {
                _tokens.Add(p, new("model", model), new("kind", "prompt"));
            }

            if (completionTokens is { } c)
            {
                _tokens.Add(c, new("model", model), new("kind", "completion"));
            }
        }
    }
}
