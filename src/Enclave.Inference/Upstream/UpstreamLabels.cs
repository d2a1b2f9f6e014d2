namespace Enclave.Inference.Upstream;

/// <summary>
/// What a backend is accredited for. The access-control policy compares these with a request's label and the
/// caller's clearance and passes the router only the backends whose labels pass.
/// </summary>
public sealed record UpstreamLabels
{
    /// <summary>The highest classification the backend may see, e.g. <c>SECRET</c>.</summary>
    public string Classification { get; init; } = "";

    /// <summary>Where the backend runs, e.g. <c>FR</c> or <c>EU</c>.</summary>
    public string Jurisdiction { get; init; } = "";

    /// <summary>Whether data sent to the backend leaves the enclave (a cloud vendor); such traffic passes the egress guard.</summary>
    public bool LeavesEnclave { get; init; }
}
