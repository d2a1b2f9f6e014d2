namespace Enclave.Bench.Gateway;

/// <summary>What a load run is aimed at.</summary>
internal enum Target
{
    /// <summary>The stub upstream itself: the floor every other target is compared with.</summary>
    Direct,

    /// <summary>
    /// A bare .NET forwarder (Kestrel + one SocketsHttpHandler, body bytes copied through, nothing parsed): what any
    /// ASP.NET Core hop in front of the stub costs on this machine, before the enclave does any work of its own.
    /// </summary>
    Forwarder,

    /// <summary>The enclave server: API key check, two durable ledger appends, JSON in and out, upstream router.</summary>
    Gateway,

    /// <summary>
    /// The same gateway with the live detections off (<c>Detections:Enabled=false</c>), in its own process and data
    /// directory, loaded in the same rounds as <see cref="Gateway"/>: an interleaved A/B of what the detections cost.
    /// </summary>
    GatewayNoDetections,
}
