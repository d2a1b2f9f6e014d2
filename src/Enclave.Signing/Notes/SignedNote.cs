using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Enclave.Signing.Notes;

/// <summary>
/// Signs and opens c2sp.org/signed-note notes: a text ending in a newline, a blank line, then signature lines
/// <c>— &lt;key name&gt; base64(4-byte key ID || signature)</c>.
/// </summary>
public static class SignedNote
{
    private static readonly byte[] SignaturePrefix = "— "u8.ToArray();
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Signs <paramref name="text"/> with every signer, in order, and returns the signed note.</summary>
    /// <exception cref="ArgumentException">
    /// The text is empty, does not end in a newline, has an ASCII control character other than newline or an
    /// unpaired surrogate; or a signer has an invalid name, or two signers share a name and key ID.
    /// </exception>
    public static string Sign(string text, params INoteSigner[] signers)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(signers);
        if (signers.Length == 0)
        {
            throw new ArgumentException("a signed note needs at least one signer", nameof(signers));
        }

        if (!text.EndsWith('\n'))
        {
            throw new ArgumentException("note text must end in a newline", nameof(text));
        }

        byte[] textBytes;
        try
        {
            textBytes = StrictUtf8.GetBytes(text);
        }
        catch (EncoderFallbackException ex)
        {
            throw new ArgumentException($"note text has an unpaired surrogate at index {ex.Index}", nameof(text), ex);
        }

        for (var i = 0; i < textBytes.Length; i++)
        {
            if (textBytes[i] < 0x20 && textBytes[i] != (byte)'\n')
            {
                throw new ArgumentException($"note text has the control character U+{textBytes[i]:X4} at byte offset {i}; only newline is allowed", nameof(text));
            }
        }

        var seen = new HashSet<(string, uint)>();
        var note = new StringBuilder(text, text.Length + 1 + (signers.Length * 128));
        note.Append('\n');
        foreach (var signer in signers)
        {
            ArgumentNullException.ThrowIfNull(signer, nameof(signers));
            var name = signer.Name;
            if (KeyName.Problem(name) is { } problem)
            {
                throw new ArgumentException($"signer '{name}' cannot sign a note: {problem}", nameof(signers));
            }

            if (!seen.Add((name, signer.KeyId)))
            {
                throw new ArgumentException($"two signers have the same key {name}+{KeyText.FormatKeyId(signer.KeyId)}", nameof(signers));
            }

            var signature = signer.Sign(textBytes);
            if (signature is null || signature.Length == 0)
            {
                throw new InvalidOperationException($"signer {name}+{KeyText.FormatKeyId(signer.KeyId)} returned an empty signature");
            }

            var line = new byte[4 + signature.Length];
            BinaryPrimitives.WriteUInt32BigEndian(line, signer.KeyId);
            signature.CopyTo(line.AsSpan(4));
            note.Append("— ").Append(name).Append(' ').Append(Convert.ToBase64String(line)).Append('\n');
        }

        return note.ToString();
    }

    /// <summary>
    /// Parses a signed note strictly and verifies every signature whose key name and key ID match a known key.
    /// Signatures from unknown keys are ignored (returned as unverified), even when their name or key ID alone
    /// matches a known key. The note is rejected when it is malformed or over the limits, when a known key's
    /// signature fails, or when no known key signed it.
    /// </summary>
    /// <param name="note">The untrusted note bytes.</param>
    /// <param name="knownKeys">The trusted verifiers.</param>
    /// <param name="limits">Size and signature-count bounds; <see cref="NoteLimits.Default"/> when null.</param>
    /// <exception cref="NoteVerificationException">The note was rejected; see <see cref="NoteVerificationException.Reason"/>.</exception>
    public static OpenedNote Open(ReadOnlySpan<byte> note, IReadOnlyList<INoteVerifier> knownKeys, NoteLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(knownKeys);
        limits ??= NoteLimits.Default;
        limits.Validate();

        if (note.Length > limits.MaxNoteBytes)
        {
            throw Reject(NoteRejection.TooLarge, $"the note is {note.Length} bytes, over the limit of {limits.MaxNoteBytes}");
        }

        CheckEncoding(note);

        // The text ends at the last blank line; everything after it is signature lines.
        var split = note.LastIndexOf("\n\n"u8);
        if (split < 0)
        {
            throw Reject(NoteRejection.Malformed, "no blank line separates the text from the signatures (is the note truncated, or unsigned?)");
        }

        var text = note[..(split + 1)];
        var signatures = note[(split + 2)..];
        if (signatures.IsEmpty)
        {
            throw Reject(NoteRejection.Malformed, "the note has no signature lines after the blank line");
        }

        if (signatures[^1] != (byte)'\n')
        {
            throw Reject(NoteRejection.Malformed, "the last signature line does not end in a newline (is the note truncated?)");
        }

        var lineCount = signatures.Count((byte)'\n');
        if (lineCount > limits.MaxSignatures)
        {
            throw Reject(NoteRejection.TooManySignatures, $"the note has {lineCount} signature lines, over the limit of {limits.MaxSignatures}");
        }

        var keys = IndexKeys(knownKeys);
        var verified = new List<NoteSignature>();
        var unverified = new List<NoteSignature>();
        var verifiedKeys = new HashSet<(string, uint)>();
        var seenLines = new HashSet<string>(StringComparer.Ordinal);
        for (var number = 1; !signatures.IsEmpty; number++)
        {
            var end = signatures.IndexOf((byte)'\n');
            var line = ParseLine(signatures[..end], number, out var signature);
            signatures = signatures[(end + 1)..];

            var lineText = line.Name + " " + line.Base64;
            if (!seenLines.Add(lineText))
            {
                continue; // an identical line was already checked or recorded
            }

            if (!keys.TryGetValue((line.Name, line.KeyId), out var verifier))
            {
                unverified.Add(line);
                continue;
            }

            var keyText = $"{line.Name}+{KeyText.FormatKeyId(line.KeyId)}";
            if (verifier is null)
            {
                throw Reject(NoteRejection.AmbiguousKey, $"signature line {number} is from {keyText}, which matches more than one known key; the list of known keys has duplicates");
            }

            if (!verifier.Verify(text, signature))
            {
                throw Reject(NoteRejection.BadSignature, $"signature line {number} from the known key {keyText} does not verify: the note was altered or the signature is corrupt");
            }

            if (verifiedKeys.Add((line.Name, line.KeyId)))
            {
                verified.Add(line);
            }
        }

        if (verified.Count == 0)
        {
            throw Reject(NoteRejection.NoKnownSignature, $"none of the note's {unverified.Count} distinct signatures is from a known key ({Describe(unverified)}); known keys are {Describe(knownKeys)}");
        }

        return new OpenedNote
        {
            Text = Encoding.UTF8.GetString(text),
            Verified = verified,
            Unverified = unverified,
        };
    }

    private static void CheckEncoding(ReadOnlySpan<byte> note)
    {
        for (var offset = 0; offset < note.Length;)
        {
            if (Rune.DecodeFromUtf8(note[offset..], out var rune, out var consumed) != OperationStatus.Done)
            {
                throw Reject(NoteRejection.Malformed, $"the note is not valid UTF-8 at byte offset {offset}");
            }

            if (rune.Value < 0x20 && rune.Value != '\n')
            {
                throw Reject(NoteRejection.Malformed, $"the note has the control character U+{rune.Value:X4} at byte offset {offset}; only newline is allowed");
            }

            offset += consumed;
        }
    }

    /// <summary>Maps (name, key ID) to its verifier, or to null when several known keys share it.</summary>
    private static Dictionary<(string, uint), INoteVerifier?> IndexKeys(IReadOnlyList<INoteVerifier> knownKeys)
    {
        var keys = new Dictionary<(string, uint), INoteVerifier?>(knownKeys.Count);
        foreach (var key in knownKeys)
        {
            ArgumentNullException.ThrowIfNull(key, nameof(knownKeys));
            var id = (key.Name, key.KeyId);
            keys[id] = keys.ContainsKey(id) ? null : key;
        }

        return keys;
    }

    private static NoteSignature ParseLine(ReadOnlySpan<byte> line, int number, out byte[] signature)
    {
        if (!line.StartsWith(SignaturePrefix))
        {
            throw Reject(NoteRejection.Malformed, $"signature line {number} does not start with an em dash (U+2014) and a space");
        }

        line = line[SignaturePrefix.Length..];
        var space = line.IndexOf((byte)' ');
        if (space < 0)
        {
            throw Reject(NoteRejection.Malformed, $"signature line {number} has no space between the key name and the signature");
        }

        var name = Encoding.UTF8.GetString(line[..space]);
        if (KeyName.Problem(name) is { } problem)
        {
            throw Reject(NoteRejection.Malformed, $"signature line {number} has an invalid key name: {problem}");
        }

        var base64 = Encoding.UTF8.GetString(line[(space + 1)..]);
        if (!KeyText.TryDecodeBase64(base64, out var decoded) || decoded.Length < 5)
        {
            throw Reject(NoteRejection.Malformed, $"signature line {number} ('{name}'): the signature is not canonical base64 of a key ID and at least one byte");
        }

        signature = decoded[4..];
        return new NoteSignature { Name = name, KeyId = BinaryPrimitives.ReadUInt32BigEndian(decoded), Base64 = base64 };
    }

    private static string Describe(IReadOnlyList<NoteSignature> signatures) =>
        signatures.Count == 0 ? "none" : DescribeKeys(signatures.Select(s => (s.Name, s.KeyId)), signatures.Count);

    private static string Describe(IReadOnlyList<INoteVerifier> keys) =>
        keys.Count == 0 ? "none" : DescribeKeys(keys.Select(k => (k.Name, k.KeyId)), keys.Count);

    private static string DescribeKeys(IEnumerable<(string Name, uint KeyId)> keys, int count)
    {
        const int shown = 5;
        var list = string.Join(", ", keys.Take(shown).Select(k => $"{k.Name}+{KeyText.FormatKeyId(k.KeyId)}"));
        return count > shown ? string.Create(CultureInfo.InvariantCulture, $"{list} and {count - shown} more") : list;
    }

    private static NoteVerificationException Reject(NoteRejection reason, string detail) =>
        new(reason, $"signed note rejected: {detail}");
}
