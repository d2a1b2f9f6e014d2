using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Enclave.Core;
using Org.BouncyCastle.Crypto.Parameters;

namespace Enclave.Signing.Notes;

/// <summary>
/// An ML-DSA-44 checkpoint cosigning key (signature type 0x06, c2sp.org/tlog-cosignature): each signature is
/// <c>u64 timestamp || ML-DSA-44 signature</c> over the <c>subtree/v1</c> cosigned_message of the checkpoint's
/// origin, size and root hash, so the note text must be a checkpoint. The timestamp is read from the
/// <see cref="TimeProvider"/>.
/// </summary>
/// <remarks>
/// Private key text: <c>PRIVATE+KEY+&lt;name&gt;+&lt;key ID&gt;+&lt;base64(0x06 || 32-byte seed)&gt;</c>. The seed is
/// the FIPS 204 key-generation seed ξ (BouncyCastle's <c>SeedOnly</c> encoding, the storage form RFC 9881
/// prefers), so the same text works with any FIPS 204 implementation that accepts seeds. Disposing wipes this
/// object's copy of the seed; BouncyCastle's expanded key cannot be wiped and is left to the garbage collector.
/// Signing is thread-safe.
/// </remarks>
public sealed class MlDsa44CosignerKey : INoteSigner, IDisposable
{
    private readonly byte[] _seed;
    private readonly MLDsaPrivateKeyParameters _privateKey;
    private readonly MlDsa44CosignatureVerifier _verifier;
    private readonly byte[] _nameUtf8;
    private readonly TimeProvider _clock;
    private volatile bool _disposed;

    private MlDsa44CosignerKey(string name, byte[] seed, TimeProvider clock)
    {
        _seed = seed;
        _clock = clock;
        _nameUtf8 = Encoding.UTF8.GetBytes(name);
        _privateKey = MlDsa44.PrivateKeyFromSeed(seed);
        _verifier = MlDsa44CosignatureVerifier.Create(name, _privateKey.GetPublicKeyEncoded())
            ?? throw new InvalidOperationException("ML-DSA-44 produced an unusable public key");
    }

    /// <inheritdoc/>
    public string Name => _verifier.Name;

    /// <inheritdoc/>
    public uint KeyId => _verifier.KeyId;

    /// <summary>The public verifier key text, <c>&lt;name&gt;+&lt;key ID&gt;+&lt;base64(0x06 || 1312-byte public key)&gt;</c>.</summary>
    public string VerifierKey => _verifier.VerifierKey;

    /// <summary>The verifier of this key's cosignatures.</summary>
    public INoteVerifier Verifier => _verifier;

    /// <summary>Generates a new key from a <see cref="RandomNumberGenerator"/> seed.</summary>
    /// <exception cref="ArgumentException">The name is not a valid note key name or is longer than 255 UTF-8 bytes.</exception>
    public static MlDsa44CosignerKey Generate(string name, TimeProvider clock)
    {
        ValidateName(name);
        ArgumentNullException.ThrowIfNull(clock);
        var seed = new byte[MlDsa44.SeedSize];
        RandomNumberGenerator.Fill(seed);
        return new MlDsa44CosignerKey(name, seed, clock);
    }

    /// <summary>Parses the <c>PRIVATE+KEY+...</c> text written by <see cref="FormatPrivateKey"/>.</summary>
    /// <exception cref="EnclaveFormatException">The text is malformed, not an ML-DSA-44 cosigner key, or its key ID does not match.</exception>
    public static MlDsa44CosignerKey ParsePrivateKey(string privateKeyText, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(clock);
        var (name, keyId, key) = KeyText.ParsePrivateKey(privateKeyText);
        try
        {
            if (key[0] != KeyText.MlDsa44CosignatureType)
            {
                var hint = key[0] == KeyText.Ed25519Type ? " (it is an Ed25519 note key; load it with Ed25519NoteKey)" : string.Empty;
                throw new EnclaveFormatException($"private key '{name}' rejected: type 0x{key[0]:x2} is not an ML-DSA-44 cosigner key (0x06){hint}");
            }

            if (key.Length != 1 + MlDsa44.SeedSize)
            {
                throw new EnclaveFormatException($"private key '{name}' rejected: an ML-DSA-44 seed is {MlDsa44.SeedSize} bytes, got {key.Length - 1}");
            }

            if (Encoding.UTF8.GetByteCount(name) > MlDsa44.MaxNameBytes)
            {
                throw new EnclaveFormatException($"private key '{name}' rejected: a cosigner name is at most {MlDsa44.MaxNameBytes} UTF-8 bytes");
            }

            var parsed = new MlDsa44CosignerKey(name, key[1..], clock);
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
        return KeyText.FormatPrivateKey(Name, KeyId, KeyText.MlDsa44CosignatureType, _seed);
    }

    /// <summary>Cosigns a checkpoint: returns <c>u64 timestamp || 2420-byte ML-DSA-44 signature</c>.</summary>
    /// <exception cref="EnclaveFormatException">The note text is not a checkpoint.</exception>
    /// <exception cref="InvalidOperationException">The clock reads a time before 1970.</exception>
    public byte[] Sign(ReadOnlySpan<byte> noteText)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!CheckpointHeader.TryParse(noteText, out var checkpoint, out var problem))
        {
            throw new EnclaveFormatException($"ML-DSA-44 cosigner '{Name}' signs checkpoints only, and this note text is not one: {problem}");
        }

        var now = _clock.GetUtcNow();
        var seconds = now.ToUnixTimeSeconds();
        if (seconds < 0)
        {
            throw new InvalidOperationException($"the clock reads {now:O}, before 1970; a cosignature timestamp cannot be negative");
        }

        var timestamp = (ulong)seconds;
        var message = MlDsa44.CosignedMessage(_nameUtf8, timestamp, checkpoint);
        var signature = MlDsa44.Sign(_privateKey, message);
        var result = new byte[MlDsa44.TimestampedSignatureSize];
        BinaryPrimitives.WriteUInt64BigEndian(result, timestamp);
        signature.CopyTo(result.AsSpan(sizeof(ulong)));
        return result;
    }

    /// <summary>Wipes this object's copy of the seed; the verifier stays usable.</summary>
    public void Dispose()
    {
        _disposed = true;
        CryptographicOperations.ZeroMemory(_seed);
    }

    /// <inheritdoc/>
    public override string ToString() => VerifierKey;

    private static void ValidateName(string name)
    {
        KeyName.ThrowIfInvalid(name, nameof(name));
        if (Encoding.UTF8.GetByteCount(name) > MlDsa44.MaxNameBytes)
        {
            throw new ArgumentException($"a cosigner name is at most {MlDsa44.MaxNameBytes} UTF-8 bytes", nameof(name));
        }
    }
}
