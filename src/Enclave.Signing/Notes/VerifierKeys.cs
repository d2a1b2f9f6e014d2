using Enclave.Core;

namespace Enclave.Signing.Notes;

/// <summary>Parses verifier keys (vkeys): <c>&lt;name&gt;+&lt;8 hex key ID&gt;+&lt;base64(type || public key)&gt;</c>.</summary>
public static class VerifierKeys
{
    /// <summary>
    /// Parses a vkey of type 0x01 (Ed25519 note signatures) or 0x06 (timestamped ML-DSA-44 checkpoint
    /// cosignatures). The key ID in the text must equal the one computed from the name, type and key.
    /// </summary>
    /// <exception cref="EnclaveFormatException">The text is malformed, the type is unsupported, the key is invalid, or the key ID does not match.</exception>
    public static INoteVerifier Parse(string vkey)
    {
        var (name, keyId, key) = KeyText.ParseVerifierKey(vkey);
        var type = key[0];
        var publicKey = key.AsSpan(1);
        INoteVerifier verifier = type switch
        {
            KeyText.Ed25519Type => Ed25519NoteVerifier.Create(name, publicKey)
                ?? throw new EnclaveFormatException(publicKey.Length != 32
                    ? $"verifier key '{name}' rejected: an Ed25519 public key is 32 bytes, got {publicKey.Length}"
                    : $"verifier key '{name}' rejected: the Ed25519 public key is not a valid point of prime order"),
            KeyText.MlDsa44CosignatureType => MlDsa44CosignatureVerifier.Create(name, publicKey)
                ?? throw new EnclaveFormatException(publicKey.Length != MlDsa44.PublicKeySize
                    ? $"verifier key '{name}' rejected: an ML-DSA-44 public key is {MlDsa44.PublicKeySize} bytes, got {publicKey.Length}"
                    : $"verifier key '{name}' rejected: a cosigner name is at most {MlDsa44.MaxNameBytes} UTF-8 bytes"),
            0x04 => throw new EnclaveFormatException($"verifier key '{name}' rejected: type 0x04 (timestamped Ed25519 cosignature) is not supported; use 0x01 or 0x06"),
            _ => throw new EnclaveFormatException($"verifier key '{name}' rejected: unknown signature type 0x{type:x2}; supported are 0x01 (Ed25519) and 0x06 (ML-DSA-44 cosignature)"),
        };

        if (verifier.KeyId != keyId)
        {
            throw new EnclaveFormatException($"verifier key '{name}' rejected: its key ID {KeyText.FormatKeyId(keyId)} does not match the key ({KeyText.FormatKeyId(verifier.KeyId)}); the text is corrupt or was edited");
        }

        return verifier;
    }
}
