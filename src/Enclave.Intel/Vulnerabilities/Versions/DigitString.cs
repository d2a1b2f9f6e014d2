namespace Enclave.Intel.Vulnerabilities.Versions;

/// <summary>Compares runs of ASCII digits as unbounded non-negative integers (no overflow, leading zeros ignored).</summary>
internal static class DigitString
{
    public static int Compare(ReadOnlySpan<char> left, ReadOnlySpan<char> right)
    {
        left = left.TrimStart('0');
        right = right.TrimStart('0');
        if (left.Length != right.Length)
        {
            return left.Length < right.Length ? -1 : 1;
        }

        return Math.Sign(left.SequenceCompareTo(right));
    }

    public static bool IsDigits(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty)
        {
            return false;
        }

        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    public static bool IsZero(ReadOnlySpan<char> digits) => digits.TrimStart('0').IsEmpty;
}
