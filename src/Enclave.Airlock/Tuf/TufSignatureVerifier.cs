using System.Security.Cryptography;
using Enclave.Signing.Keys;

namespace Enclave.Airlock.Tuf;

/// <summary>
/// Threshold verification (spec §5): counts distinct authorised key IDs whose signature verifies over the
/// canonical form of <c>signed</c>. A key ID listed twice counts once; keys the role does not authorise are ignored.
/// ML-DSA-65 keys count like any other; whether a valid one signed is reported separately, for
/// <see cref="TufUpdaterOptions.RequirePostQuantumSignature"/>.
/// </summary>
internal static class TufSignatureVerifier
{
    /// <summary>The outcome of counting: valid distinct keys, and what went wrong with the others.</summary>
    internal readonly record struct Count(int Valid, int Threshold, bool AuthorisedSignatureFailed, bool SignedOverNonCanonicalBody, string? FailedKeyId, bool PostQuantumValid = false, string? FailedPostQuantumKeyId = null, IReadOnlyList<string>? ValidKeyIds = null)
    {
        /// <summary>The keys that counted (one key ID per distinct key, ordinal order) and the threshold they were held to.</summary>
        public TufSigners Signers => new() { Threshold = Threshold, KeyIds = ValidKeyIds ?? [] };
    }

    public static Count CountValid(TufMetadata metadata, IReadOnlyDictionary<string, TufKey> keys, TufRole role)
    {
        // Distinct keys, not distinct IDs: one key listed under two IDs must not count twice.
        var valid = new HashSet<string>(StringComparer.Ordinal);
        var validKeyIds = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var failed = false;
        var nonCanonical = false;
        var postQuantum = false;
        string? failedKeyId = null;
        string? failedPostQuantum = null;
        var rawDiffers = !metadata.RawSigned.AsSpan().SequenceEqual(metadata.CanonicalSigned);
        foreach (var signature in metadata.Signatures)
        {
            if (!role.KeyIds.Contains(signature.KeyId) || !seen.Add(signature.KeyId) || !keys.TryGetValue(signature.KeyId, out var key))
            {
                continue;
            }

            byte[] sig;
            try
            {
                sig = Convert.FromHexString(signature.SignatureHex);
            }
            catch (FormatException)
            {
                failed = true;
                failedKeyId ??= signature.KeyId;
                failedPostQuantum ??= key.IsPostQuantum ? signature.KeyId : null;
                continue;
            }

            if (key.Verify(metadata.CanonicalSigned, sig))
            {
                if (valid.Add(key.Identity))
                {
                    validKeyIds.Add(signature.KeyId);
                }

                postQuantum |= key.IsPostQuantum;
            }
            else
            {
                failed = true;
                failedKeyId ??= signature.KeyId;
                failedPostQuantum ??= key.IsPostQuantum ? signature.KeyId : null;
                nonCanonical |= rawDiffers && key.Verify(metadata.RawSigned, sig);
            }
        }

        validKeyIds.Sort(StringComparer.Ordinal);
        return new Count(valid.Count, role.Threshold, failed, nonCanonical, failedKeyId, postQuantum, failedPostQuantum, validKeyIds);
    }

    /// <summary>
    /// Throws unless a threshold of <paramref name="role"/>'s keys signed <paramref name="metadata"/> and, when
    /// <paramref name="requirePostQuantum"/>, one of them is a valid ML-DSA-65 signature; returns the keys that counted.
    /// </summary>
    public static TufSigners Verify(TufMetadata metadata, IReadOnlyDictionary<string, TufKey> keys, TufRole role, string signerDescription, bool requirePostQuantum = false)
    {
        var count = CountValid(metadata, keys, role);
        if (count.Valid < count.Threshold)
        {
            throw Rejection(count, metadata, signerDescription, null);
        }

        if (requirePostQuantum)
        {
            RequirePostQuantum(count, metadata, signerDescription);
        }

        return count.Signers;
    }

    /// <summary>
    /// Unless a valid ML-DSA-65 signature counted, throws <see cref="AirlockRejection.BadSignature"/> when an
    /// authorised ML-DSA-65 signature is present but does not verify, else
    /// <see cref="AirlockRejection.MissingPostQuantumSignature"/>.
    /// </summary>
    public static void RequirePostQuantum(Count count, TufMetadata metadata, string signerDescription)
    {
        if (count.PostQuantumValid)
        {
            return;
        }

        if (count.FailedPostQuantumKeyId is { } failed)
        {
            throw new AirlockRejectedException(AirlockRejection.BadSignature, $"bad signature: the {MlDsa65.Scheme} signature on {metadata.RoleName} version {metadata.Version} by key {TufKey.Short(failed)} ({signerDescription}) does not verify (the body was altered, the signature damaged, or another key signed), and this enclave requires a post-quantum signature on every role");
        }

        throw new AirlockRejectedException(AirlockRejection.MissingPostQuantumSignature, $"missing post-quantum signature: {metadata.RoleName} version {metadata.Version} carries no {MlDsa65.Scheme} signature by {signerDescription}, and this enclave requires one on every role (RequirePostQuantumSignature); sign the repository with --post-quantum keys, or pin a root that lists them");
    }

    public static AirlockRejectedException Rejection(Count count, TufMetadata metadata, string signerDescription, AirlockRejection? forced)
    {
        var what = $"{metadata.RoleName} version {metadata.Version} has {count.Valid} of {count.Threshold} required signatures by {signerDescription}";
        if (count.SignedOverNonCanonicalBody)
        {
            return new(forced ?? AirlockRejection.NonCanonical, $"non-canonical: {what}; key {TufKey.Short(count.FailedKeyId ?? "")} signed a non-canonical encoding of the body, and signatures must be over canonical JSON");
        }

        if (count.AuthorisedSignatureFailed)
        {
            return new(forced ?? AirlockRejection.BadSignature, $"bad signature: {what}; the signature by key {TufKey.Short(count.FailedKeyId ?? "")} does not verify (the body was altered or another key signed)");
        }

        return new(forced ?? AirlockRejection.BelowThreshold, $"below threshold: {what}");
    }

    /// <summary>Checks a metadata file's bytes against the length and hashes its parent lists.</summary>
    public static void CheckMetaFile(byte[] bytes, MetaFile meta, string name)
    {
        if (meta.Length is { } length && bytes.LongLength != length)
        {
            throw new AirlockRejectedException(AirlockRejection.LengthMismatch, $"length mismatch: {name} is {bytes.LongLength} bytes but its parent lists {length}");
        }

        if (meta.Hashes is null)
        {
            return;
        }

        var checkedAny = false;
        foreach (var (algorithm, hex) in meta.Hashes)
        {
            byte[] actual;
            switch (algorithm)
            {
                case "sha256":
                    actual = SHA256.HashData(bytes);
                    break;
                case "sha512":
                    actual = SHA512.HashData(bytes);
                    break;
                default:
                    continue;
            }

            checkedAny = true;
            byte[] expected;
            try
            {
                expected = Convert.FromHexString(hex);
            }
            catch (FormatException e)
            {
                throw new AirlockRejectedException(AirlockRejection.Malformed, $"malformed metadata: the {algorithm} hash listed for {name} is not hex", e);
            }

            if (!CryptographicOperations.FixedTimeEquals(actual, expected))
            {
                throw new AirlockRejectedException(AirlockRejection.HashMismatch, $"hash mismatch: {name} has {algorithm} {Convert.ToHexStringLower(actual)[..16]}… but its parent lists {hex[..Math.Min(16, hex.Length)]}…");
            }
        }

        if (!checkedAny)
        {
            throw new AirlockRejectedException(AirlockRejection.HashMismatch, $"hash mismatch: none of the hash algorithms listed for {name} ({string.Join(", ", meta.Hashes.Keys)}) is supported (sha256, sha512)");
        }
    }
}
