namespace Enclave.Inference.Upstream;

/// <summary>One attempt of a routed request: which backend, and how it answered (200 on success).</summary>
/// <param name="Backend">The backend's configured name.</param>
/// <param name="StatusCode">200, or the <see cref="Backends.BackendException.StatusCode"/> of the failure.</param>
/// <param name="ErrorType">Null on success, else the failure's error type.</param>
/// <param name="Waited">How long the router waited before this attempt (Retry-After or backoff).</param>
public sealed record UpstreamAttempt(string Backend, int StatusCode, string? ErrorType, TimeSpan Waited);
