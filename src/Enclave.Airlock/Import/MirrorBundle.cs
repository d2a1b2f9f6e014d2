using System.IO.Pipelines;

namespace Enclave.Airlock.Import;

/// <summary>
/// A bundle being produced from a mirror (<see cref="MirrorBundleSource.OpenAsync"/>): read <see cref="Stream"/> forward
/// once, e.g. with <see cref="AirlockImporter.ImportAsync(Stream, string, IProgress{long}?, CancellationToken)"/>. Its
/// memory stays bounded (the producer waits while about a mebibyte is unread). Disposing stops the producer.
/// </summary>
public sealed class MirrorBundle : IAsyncDisposable
{
    private readonly PipeReader _reader;
    private readonly CancellationTokenSource _cancel;

    internal MirrorBundle(PipeReader reader, Task producer, CancellationTokenSource cancel, IReadOnlyList<string> metadataEntries, IReadOnlyList<string> targets)
    {
        _reader = reader;
        _cancel = cancel;
        Completion = producer;
        MetadataEntries = metadataEntries;
        Targets = targets;
        Stream = reader.AsStream(leaveOpen: true);
    }

    /// <summary>The bundle tar.</summary>
    public Stream Stream { get; }

    /// <summary>The metadata entries, in order (<c>metadata/1.root.json</c>..., <c>metadata/bundle.json</c>).</summary>
    public IReadOnlyList<string> MetadataEntries { get; }

    /// <summary>The target paths the (unverified) metadata lists for the artifact, in the order they are streamed.</summary>
    public IReadOnlyList<string> Targets { get; }

    /// <summary>The producer: ends when the whole bundle was written, or with the mirror's failure.</summary>
    public Task Completion { get; }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _cancel.CancelAsync().ConfigureAwait(false);
        await _reader.CompleteAsync().ConfigureAwait(false);
        try
        {
            await Completion.ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The reader has already seen this failure, or stopped reading for a reason of its own.
        }

        await Stream.DisposeAsync().ConfigureAwait(false);
        _cancel.Dispose();
    }
}
