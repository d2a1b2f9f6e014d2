using System.Security.Cryptography;
using Enclave.Core.Storage;

namespace Enclave.Airlock.Repository;

/// <summary>
/// Reads exactly <c>length</c> bytes of a source file for a tar entry, hashing them as they pass, so a file is never
/// held in memory. Presents itself as seekable with a fixed <see cref="Length"/> because the tar writer takes the
/// entry size from it; it never seeks. Reading stops at <c>length</c> even if the file grew.
/// </summary>
internal sealed class HashingReadStream(Stream inner, long length, Action<int>? onRead, bool leaveOpen = false) : ReadOnlyStream
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private long _read;

    public override bool CanSeek => true;

    public override long Length => length;

    public override long Position
    {
        get => _read;
        set
        {
            if (value != _read)
            {
                throw new NotSupportedException();
            }
        }
    }

    /// <summary>Bytes read.</summary>
    public long BytesRead => _read;

    /// <summary>SHA-256 of the bytes read, lower-case hex.</summary>
    public string Sha256Hex() => Convert.ToHexStringLower(_hash.GetCurrentHash());

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var remaining = length - _read;
        if (remaining <= 0)
        {
            return 0;
        }

        var n = inner.Read(buffer[..(int)Math.Min(buffer.Length, remaining)]);
        _hash.AppendData(buffer[..n]);
        _read += n;
        onRead?.Invoke(n);
        return n;
    }

    public override long Seek(long offset, SeekOrigin origin) =>
        (origin == SeekOrigin.Current && offset == 0) || (origin == SeekOrigin.Begin && offset == _read) ? _read : throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash.Dispose();
            if (!leaveOpen)
            {
                inner.Dispose();
            }
        }

        base.Dispose(disposing);
    }
}
