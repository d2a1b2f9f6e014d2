namespace Enclave.EndToEnd.Tests;

/// <summary>
/// Test classes that assert the values of instruments on <c>/metrics</c> run alone, after the parallel classes. The
/// tests start several enclaves in one process, and OpenTelemetry .NET's MeterProvider listens to every meter of a
/// name in the process, whichever host's <c>IMeterFactory</c> made it: another enclave's <c>Enclave.Intel</c> meter,
/// created or disposed by a test class running beside, can take over or end the metric stream that this enclave's
/// scrape reads (seen in CI as a gauge stuck at 0 for five seconds of re-scrapes while the store held the finding).
/// A production process hosts one enclave, so this concerns the tests only.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MetricsScrapeCollection
{
    /// <summary>The collection's name.</summary>
    public const string Name = "metrics scrapes (one enclave in the process)";
}
