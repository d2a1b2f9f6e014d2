using System.Diagnostics.Metrics;

namespace Enclave.Intel.Tests;

/// <summary>An <see cref="IMeterFactory"/> for tests that build metrics-carrying services by hand; disposes its meters.</summary>
internal sealed class TestMeterFactory : IMeterFactory
{
    private readonly List<Meter> _meters = [];

    public Meter Create(MeterOptions options)
    {
        var meter = new Meter(options);
        _meters.Add(meter);
        return meter;
    }

    public void Dispose()
    {
        foreach (var meter in _meters)
        {
            meter.Dispose();
        }
    }
}
