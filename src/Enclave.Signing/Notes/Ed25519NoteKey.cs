using System.Security.Cryptography;
using Enclave.Core;
using Org.BouncyCastle.Math.EC.Rfc8032;

namespace Enclave.Signing.Notes;

/// <summary>
/// An Ed25519 note signing key (signature type 0x01, c2sp.org/signed-note), with the private key text format of
/// golang.org/x/mod/sumdb/note: <c>PRIVATE+KEY+&lt;name&gt;+&lt;key ID&gt;+&lt;base64(0x01 || 32-byte seed)&gt;</c>.
/// Disposing wipes the seed. Signing is thread-safe.
/// </summary>
public sealed class Ed25519NoteKey : INoteSigner, IDisposable
{
    private const int SeedSize = 32;

    private readonly byte[] _seed;
    private readonly Ed25519NoteVerifier _verifier;
    private volatile bool _disposed;

    private Ed25519NoteKey(string name, byte[] seed)
    {
        _seed = seed;
        Span<byte> publicKey = stackalloc byte[Ed25519.PublicKeySize];
        Ed25519.GeneratePublicKey(seed, publicKey);
        // A key derived from a seed is always a valid point; null here would be a bug in the library.
        _verifier = Ed25519NoteVerifier.Create(name, publicKey)
            ?? throw new InvalidOperationException("Ed25519 produced an invalid public key");
    }

    /// <inheritdoc/>
    public string Name => _verifier.Name;

    /// <inheritdoc/>
    public uint KeyId => _verifier.KeyId;

    /// <summary>The public verifier key text, <c>&lt;name&gt;+&lt;key ID&gt;+&lt;base64(0x01 || public key)&gt;</c>.</summary>
    public string VerifierKey => _verifier.VerifierKey;

    /// <summary>The verifier of this key's signatures.</summary>
    public INoteVerifier Verifier => _verifier;

    /// <summary>Generates a new key from <see cref="RandomNumberGenerator"/>.</summary>
    /// <exception cref="ArgumentException">The name is not a valid note key name.</exception>
    public static Ed25519NoteKey Generate(string name)
    {
        KeyName.ThrowIfInvalid(name, nameof(name));
        var seed = new byte[SeedSize];
        RandomNumberGenerator.Fill(seed);
        return new Ed25519NoteKey(name, seed);
    }

    /// <summary>Parses the <c>PRIVATE+KEY+...</c> text written by <see cref="FormatPrivateKey"/> or Go's note package.</summary>
    /// <exception cref="EnclaveFormatException">The text is malformed, not an Ed25519 key, or its key ID does not match.</exception>
    public static Ed25519NoteKey ParsePrivateKey(string privateKeyText)
    {
        var (name, keyId, key) = KeyText.ParsePrivateKey(privateKeyText);
        try
        {
            if (key[0] != KeyText.Ed25519Type)
            {
                var hint = key[0] == KeyText.MlDsa44CosignatureType ? " (it is an ML-DSA-44 cosigner key; load it with MlDsa44CosignerKey)" : string.Empty;
                throw new EnclaveFormatException($"private key '{name}' rejected: type 0x{key[0]:x2} is not Ed25519 (0x01){hint}");
            }

            if (key.Length != 1 + SeedSize)
            {
                throw new EnclaveFormatException($"private key '{name}' rejected: an Ed25519 seed is {SeedSize} bytes, got {key.Length - 1}");
            }

            var parsed = new Ed25519NoteKey(name, key[1..]);
            if (parsed.KeyId != keyId)
            {
                parsed.Dispose();
                throw new EnclaveFormatException($"private key '{name}' rejected: its key ID {KeyText.FormatKeyId(keyId)} does not match the key ({KeyText.FormatKeyId(parsed.KeyId)}); the file is corrupt or was edited");
            }

            return parsed;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>The private key text. It is secret: store it readable by its owner only, never log it.</summary>
    public string FormatPrivateKey()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return KeyText.FormatPrivateKey(Name, KeyId, KeyText.Ed25519Type, _seed);
    }

    /// <inheritdoc/>
    public byte[] Sign(ReadOnlySpan<byte> noteText)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var signature = new byte[Ed25519.SignatureSize];
        Ed25519.Sign(_seed, noteText, signature);
        return signature;
    }

    /// <summary>Wipes the seed; the verifier stays usable.</summary>
    public void Dispose()
    {
        _disposed = true;
        CryptographicOperations.ZeroMemory(_seed);
    }

    /// <inheritdoc/>
    public override string ToString() => VerifierKey;
}
