namespace Enclave.Core.Storage;

/// <summary>
/// What every read-only pass-through stream of the enclave shares (a split bundle's parts read as one, a mirror's target
/// body, a stream hashed as it is read): readable, never writable, forward-only unless a derived class says otherwise
/// (a tar writer asks a source for its length and position), <see cref="Flush"/> does nothing, and
/// <see cref="Seek"/>, <see cref="SetLength"/> and <see cref="Write"/> refuse. A derived class implements
/// <see cref="Stream.Read(byte[], int, int)"/> (and the span and asynchronous reads where it has a better one than
/// <see cref="Stream"/>'s).
/// </summary>
public abstract class ReadOnlyStream : Stream
{
    /// <inheritdoc/>
    public override bool CanRead => true;

    /// <inheritdoc/>
    public override bool CanSeek => false;

    /// <inheritdoc/>
    public override bool CanWrite => false;

    /// <inheritdoc/>
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc/>
    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <summary>Does nothing: nothing is ever written.</summary>
    public override void Flush()
    {
    }

    /// <inheritdoc/>
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
