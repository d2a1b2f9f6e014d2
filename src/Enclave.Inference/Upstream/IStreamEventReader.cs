namespace Enclave.Inference.Upstream;

/// <summary>
/// Reads a vendor's stream one event at a time: server-sent events (<see cref="SseEventReader"/>) or the AWS
/// event-stream framing (<see cref="Aws.AwsEventStreamReader"/>).
/// </summary>
internal interface IStreamEventReader : IDisposable
{
    /// <summary>The event's name (<c>event:</c> line, or the event-stream's event type); null when it had none.</summary>
    string? EventName { get; }

    /// <summary>The event's data; valid until the next read.</summary>
    ReadOnlyMemory<byte> Data { get; }

    /// <summary>Reads the next event; false at the end of the stream.</summary>
    /// <exception cref="InvalidDataException">The stream is malformed or over its bounds.</exception>
    ValueTask<bool> ReadEventAsync(CancellationToken cancellationToken);
}
