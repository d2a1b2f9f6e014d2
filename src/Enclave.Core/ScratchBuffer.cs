using System.Buffers;

namespace Enclave.Core;

/// <summary>
/// A per-thread <see cref="ArrayBufferWriter{T}"/> for building a byte string that is then copied out once (canonical
/// JSON of audit events and request digests: several per API request). A fresh writer per call starts at a few hundred
/// bytes and grows by copying; the profile of the gateway showed that growth and the first array as a tenth of every
/// byte a request allocated. Not re-entrant on one thread: a nested <see cref="Rent"/> while one is out gets a writer of
/// its own. Writers that grew past <see cref="MaxKeptBytes"/> are dropped, not kept.
/// </summary>
internal static class ScratchBuffer
{
    private const int MaxKeptBytes = 64 * 1024;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? _kept;

    /// <summary>An empty writer: this thread's, or a new one while this thread's is out.</summary>
    public static ArrayBufferWriter<byte> Rent()
    {
        var writer = _kept;
        if (writer is null)
        {
            return new ArrayBufferWriter<byte>(1024);
        }

        _kept = null;
        writer.ResetWrittenCount();
        return writer;
    }

    /// <summary>Gives the writer back for the next <see cref="Rent"/> on this thread.</summary>
    public static void Return(ArrayBufferWriter<byte> writer)
    {
        if (writer.Capacity <= MaxKeptBytes)
        {
            writer.ResetWrittenCount();
            _kept = writer;
        }
    }

    /// <summary>Runs <paramref name="write"/> into a rented writer and returns a copy of what it wrote.</summary>
    public static byte[] Build<TState>(TState state, Action<TState, ArrayBufferWriter<byte>> write)
    {
        var writer = Rent();
        try
        {
            write(state, writer);
            return writer.WrittenSpan.ToArray();
        }
        finally
        {
            Return(writer);
        }
    }
}
