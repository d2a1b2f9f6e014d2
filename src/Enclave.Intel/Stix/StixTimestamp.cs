using System.Globalization;

namespace Enclave.Intel.Stix;

/// <summary>STIX timestamps: RFC 3339 in UTC with a <c>Z</c>, optional fractional seconds (STIX 2.1 section 3.2).</summary>
public static class StixTimestamp
{
    private static readonly string[] Formats =
    [
        "yyyy-MM-dd'T'HH:mm:ss'Z'",
        "yyyy-MM-dd'T'HH:mm:ss.F'Z'",
        "yyyy-MM-dd'T'HH:mm:ss.FF'Z'",
        "yyyy-MM-dd'T'HH:mm:ss.FFF'Z'",
        "yyyy-MM-dd'T'HH:mm:ss.FFFF'Z'",
        "yyyy-MM-dd'T'HH:mm:ss.FFFFF'Z'",
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFF'Z'",
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'",
    ];

    public static bool TryParse(string text, out DateTimeOffset value)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length > 40)
        {
            value = default;
            return false;
        }

        // More than seven fraction digits (nanoseconds are allowed): keep seven, the precision .NET holds.
        var dot = text.IndexOf('.', StringComparison.Ordinal);
        if (dot > 0 && text.EndsWith('Z') && text.Length - dot - 2 > 7)
        {
            text = string.Concat(text.AsSpan(0, dot + 8), "Z");
        }

        return DateTimeOffset.TryParseExact(text, Formats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out value);
    }

    public static string Format(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture).Replace(".Z", "Z", StringComparison.Ordinal);
}
