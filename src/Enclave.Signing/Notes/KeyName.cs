using System.Text;

namespace Enclave.Signing.Notes;

/// <summary>Key-name rules of c2sp.org/signed-note: non-empty, no Unicode spaces, no '+'.</summary>
internal static class KeyName
{
    /// <summary>Returns why <paramref name="name"/> is not a valid key name, or null when it is.</summary>
    /// <remarks>
    /// Besides the spec's rules this rejects ASCII control characters and unpaired surrogates: neither can
    /// appear in a well-formed note, so such a name could only produce a note that no verifier opens.
    /// </remarks>
    public static string? Problem(string name)
    {
        if (name.Length == 0)
        {
            return "the key name is empty";
        }

        var span = name.AsSpan();
        while (!span.IsEmpty)
        {
            if (Rune.DecodeFromUtf16(span, out var rune, out var consumed) != System.Buffers.OperationStatus.Done)
            {
                return "the key name contains an unpaired surrogate";
            }

            if (rune.Value == '+')
            {
                return "the key name contains '+'";
            }

            if (Rune.IsWhiteSpace(rune))
            {
                return $"the key name contains the space character U+{rune.Value:X4}";
            }

            if (rune.Value < 0x20)
            {
                return $"the key name contains the control character U+{rune.Value:X4}";
            }

            span = span[consumed..];
        }

        return null;
    }

    /// <summary>Throws <see cref="ArgumentException"/> when a caller-chosen name is invalid.</summary>
    public static void ThrowIfInvalid(string name, string paramName)
    {
        ArgumentNullException.ThrowIfNull(name, paramName);
        if (Problem(name) is { } problem)
        {
            throw new ArgumentException($"invalid note key name: {problem}", paramName);
        }
    }
}
