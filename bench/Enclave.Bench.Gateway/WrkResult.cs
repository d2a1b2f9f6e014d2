namespace Enclave.Bench.Gateway;

/// <summary>What wrk's <c>done()</c> reported for one run (see <c>chat.lua</c>); latencies in milliseconds.</summary>
internal sealed record WrkResult
{
    public required long Requests { get; init; }
    public required double Seconds { get; init; }
    public required long Errors { get; init; }
    public required double MeanMs { get; init; }
    public required double P50Ms { get; init; }
    public required double P90Ms { get; init; }
    public required double P99Ms { get; init; }
    public required double P999Ms { get; init; }
    public required double MaxMs { get; init; }

    public double RequestsPerSecond => Requests / Seconds;
}
