namespace Enclave.Inference.Upstream;

/// <summary>What the router believes of a backend; it prefers, in order, Unknown/Up, Suspect, Down.</summary>
public enum UpstreamHealth
{
    /// <summary>Not checked yet; treated as up.</summary>
    Unknown,

    /// <summary>The last health check or request succeeded.</summary>
    Up,

    /// <summary>A request failed (5xx, connection, timeout) since the last success; used when no up backend is ready.</summary>
    Suspect,

    /// <summary>The last health check failed; used only as a last resort, when no other allowed backend is left.</summary>
    Down,
}
