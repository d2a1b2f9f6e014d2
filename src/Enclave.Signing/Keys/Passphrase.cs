using System.Security.Cryptography;

namespace Enclave.Signing.Keys;

/// <summary>A key-file passphrase held in a char array that is wiped on <see cref="Dispose"/>.</summary>
public sealed class Passphrase : IDisposable
{
    private readonly char[] _chars;
    private bool _disposed;

    /// <summary>Takes ownership of <paramref name="chars"/> (wiped on dispose).</summary>
    public Passphrase(char[] chars)
    {
        ArgumentNullException.ThrowIfNull(chars);
        _chars = chars;
    }

    /// <summary>Copies <paramref name="text"/> (e.g. from an environment variable).</summary>
    public static Passphrase FromString(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return new Passphrase(text.ToCharArray());
    }

    /// <summary>Number of characters.</summary>
    public int Length => _chars.Length;

    /// <summary>The characters; valid until disposed.</summary>
    public ReadOnlySpan<char> Span
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _chars;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (!_disposed)
        {
            CryptographicOperations.ZeroMemory(System.Runtime.InteropServices.MemoryMarshal.AsBytes(_chars.AsSpan()));
            _disposed = true;
        }
    }
}
