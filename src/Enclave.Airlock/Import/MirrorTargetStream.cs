using Enclave.Airlock.Bundles;
using Enclave.Core.Storage;

namespace Enclave.Airlock.Import;

/// <summary>
/// A target's body from the mirror, as the data of its tar entry: exactly <c>length</c> bytes (the length the
/// unverified metadata lists, written into the entry's header before the first byte arrives). A body that ends
/// early, or that has even one byte more, fails the stream with <see cref="BundleRejection.LengthMismatch"/>;
/// each read waits at most the idle timeout. Reports a length and a position because the tar writer asks for them;
/// it cannot seek.
/// </summary>
internal sealed class MirrorTargetStream(HttpResponseMessage response, Stream body, long length, string entryName, Uri url, TimeSpan idleTimeout) : ReadOnlyStream
{
    private long _position;

    // Seekable for the tar writer's sake only: it reads Length and Position to size the entry, then copies forward.
    public override bool CanSeek => true;

    public override long Length => length;

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        var remaining = length - _position;
        if (remaining == 0)
        {
            // The declared length is reached: the body must end here.
            var probe = new byte[1];
            if (await ReadBodyAsync(probe, cancellationToken).ConfigureAwait(false) > 0)
            {
                throw new BundleRejectedException(BundleRejection.LengthMismatch, $"the mirror sent more than the {length} bytes its metadata lists for {ArtifactNames.Printable(entryName)} ({url})");
            }

            return 0;
        }

        var read = await ReadBodyAsync(buffer[..(int)Math.Min(buffer.Length, remaining)], cancellationToken).ConfigureAwait(false);
        if (read == 0)
        {
            throw new BundleRejectedException(BundleRejection.LengthMismatch, $"the mirror sent {_position} bytes for {ArtifactNames.Printable(entryName)}; its metadata lists {length} ({url})");
        }

        _position += read;
        return read;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            body.Dispose();
            response.Dispose();
        }

        base.Dispose(disposing);
    }

    private async ValueTask<int> ReadBodyAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(idleTimeout);
        try
        {
            return await body.ReadAsync(buffer, wait.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (wait.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new MirrorPullException(url, $"{url} stalled: no data for {idleTimeout.TotalSeconds:0.#} s", e);
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            throw new MirrorPullException(url, $"{url} broke off after {_position} of {length} bytes: {e.Message}", e);
        }
    }
}
